"""`vanban report [--run OUT] [--out OUT/report.html]`: one self-contained HTML page of a run.

The page holds, with no network needed (CSS and script inline, the graph an inline SVG):
- an index of the documents;
- each document's text with its extracted items highlighted (assignments, targets, results,
  deadlines, reference mentions); clicking one shows its fields (agency, role, partners,
  deadline, "5 rõ" for a task) in a side panel;
- an agency × document matrix (agencies aligned as in `vanban diff`);
- the diff of the run's plans, and each report checked against its plan;
- the reference chains (OUT/links.json from the link stage when present) and the citation graph,
  laid out in layers: what a document implements sits above it.

Every string taken from a document goes through `html.escape`; the item data goes into a
`<script type="application/json">` with `<`, `>` and `&` written as \\u escapes, so a document
that contains `<script>` shows it as text.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

ROLE_ORDER = ("lead", "responsible", "support", "requested")
ITEM_KINDS = ("assignment", "target", "result", "deadline", "reference")


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no '</script>' or '<!--' can appear."""
    return (json.dumps(data, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --------------------------------------------------------------------------------------------
# Documents with their items highlighted


def document_items(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(kind, data, span) of every extracted item of a document that has a span."""
    out = []
    for kind, key in (("assignment", "assignments"), ("target", "targets"), ("result", "results"),
                      ("deadline", "deadlines")):
        for item in doc.get(key) or []:
            if item.get("span"):
                out.append((kind, item, item["span"]))
    # A task's own deadline, unless the document's deadline list already holds that passage.
    listed = {(d["span"].get("start"), d["span"].get("end")) for d in doc.get("deadlines") or [] if d.get("span")}
    for a in doc.get("assignments") or []:
        dl = a.get("deadline") or None
        if dl and dl.get("span") and (dl["span"].get("start"), dl["span"].get("end")) not in listed:
            listed.add((dl["span"].get("start"), dl["span"].get("end")))
            out.append(("deadline", dict(dl, who=dl.get("who") or a.get("agency")), dl["span"]))
    for ref in doc.get("references") or []:
        data = {k: v for k, v in ref.items() if k != "mentions"}
        mentions = ref.get("mentions") or []
        spans = [m["span"] for m in mentions if m.get("span")] or ([ref["span"]] if ref.get("span") else [])
        for span in spans:
            out.append(("reference", data, span))
    return out


def highlight(text: str, marks: list[tuple[str, str, int, int]], doc_key: str) -> str:
    """`text` escaped, with <mark> around the parts that items cover.

    `marks` holds (item id, kind, start, end). Items may nest or overlap (a reference inside a
    task), so the text is cut at every boundary and each piece lists all items covering it;
    its colour is the kind of the shortest (innermost) one.
    """
    n = len(text)
    cuts = {0, n}
    clean = []
    for item_id, kind, start, end in marks:
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end > start:
            clean.append((item_id, kind, start, end))
            cuts.update((start, end))
    bounds = sorted(cuts)
    starts = defaultdict(list)
    for m in clean:
        starts[m[2]].append(m)
    active: list[tuple[str, str, int, int]] = []
    first_piece: set[str] = set()
    out = []
    for a, b in zip(bounds, bounds[1:]):
        active = [m for m in active if m[3] > a] + starts.get(a, [])
        piece = e(text[a:b])
        if not active:
            out.append(piece)
            continue
        inner = min(active, key=lambda m: (m[3] - m[2], ITEM_KINDS.index(m[1])))
        ordered = sorted(active, key=lambda m: m[3] - m[2])
        ids = " ".join(m[0] for m in ordered)
        anchor = ""
        if inner[0] not in first_piece:
            first_piece.add(inner[0])
            anchor = f' id="m-{e(inner[0])}"'
        out.append(f'<mark{anchor} class="k-{inner[1]}" data-doc="{e(doc_key)}" data-i="{e(ids)}">{piece}</mark>')
    return "".join(out)


def _document_block(index: int, doc: dict[str, Any], items: dict[str, Any]) -> str:
    key = f"d{index}"
    marks = []
    for n, (kind, data, span) in enumerate(document_items(doc)):
        item_id = f"{key}-{kind[0]}{n}"
        items[item_id] = {"kind": kind, "data": data}
        marks.append((item_id, kind, int(span.get("start", 0)), int(span.get("end", 0))))
    md = doc.get("metadata") or {}
    counts = ", ".join(f"{len(doc.get(k) or [])} {k}" for k in ("assignments", "targets", "results", "deadlines", "references"))
    legend = "".join(f'<span class="k-{k}" style="background:var(--{k[:6] if k != "reference" else "ref"})">{k}</span>' for k in ITEM_KINDS)
    issues = "".join(f'<p class="warning">{e(w.get("stage"))}: {e(w.get("message"))}</p>'
                     for w in (doc.get("errors") or []) + (doc.get("warnings") or [])[:20])
    return (
        f'<section class="block document" id="doc-{key}" data-doc-id="{e(doc["id"])}">'
        f'<h2>{e(doc["id"])} <span class="muted">{e(md.get("doc_type"))} · {e(md.get("issuer"))} · {e(md.get("date"))}</span></h2>'
        f'<p>{e(md.get("title"))}</p><p class="muted">{e(counts)}</p>{issues}'
        f'<p class="legend">{legend}</p>'
        f'<div class="doc-layout"><div class="doctext">{highlight(doc.get("text") or "", marks, key)}</div>'
        f'<aside class="detail" id="detail-{key}"><span class="muted">Click a highlighted passage to see what was extracted.</span></aside></div>'
        "</section>"
    )


def _index(docs: list[dict[str, Any]]) -> str:
    from .diff import _short

    rows = []
    for i, doc in enumerate(docs):
        md = doc.get("metadata") or {}
        number = f"{md.get('number') or '…'}/{md.get('symbol')}" if md.get("symbol") else (md.get("number") or "")
        rows.append(
            f'<tr><td><a href="#doc-d{i}">{e(doc["id"])}</a></td><td>{e(md.get("doc_type"))}</td><td>{e(number)}</td>'
            f'<td>{e(md.get("issuer"))}</td><td>{e(md.get("date"))}</td><td title="{e(md.get("title"))}">{e(_short(md.get("title"), 110))}</td>'
            + "".join(f'<td class="num">{len(doc.get(k) or [])}</td>' for k in ("sections", "references", "assignments", "targets", "results", "deadlines"))
            + f'<td>{e(doc.get("status"))}</td></tr>'
        )
    head = "".join(f"<th>{h}</th>" for h in ("document", "type", "number", "issuer", "date", "title", "sections",
                                              "references", "assignments", "targets", "results", "deadlines", "status"))
    return f'<table class="grid index"><tr>{head}</tr>{"".join(rows)}</table>'


# --------------------------------------------------------------------------------------------
# Agency × document matrix


def _matrix(docs: list[dict[str, Any]], item_ids: dict[tuple[int, int], str]) -> str:
    from .diff import _gazetteer, agency_identity

    names = _gazetteer()["names"]
    cells: dict[str, dict[int, list[tuple[int, dict[str, Any]]]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[str, str] = {}
    for di, doc in enumerate(docs):
        province = (doc.get("metadata") or {}).get("province")
        for ai, a in enumerate(doc.get("assignments") or []):
            key, _ = agency_identity(a, province)
            name = names.get(key)
            labels.setdefault(key, name if name and "{province}" not in name else (a.get("agency") or key))
            cells[key][di].append((ai, a))
    cols = [di for di, doc in enumerate(docs) if doc.get("assignments")]
    if not cells:
        return '<table class="grid matrix"><tr><th>agency</th></tr><tr><td>No assignments in this run.</td></tr></table>'
    head = "".join(f'<th><a href="#doc-d{di}">{e(docs[di]["id"])}</a></th>' for di in cols)
    order = sorted(cells, key=lambda k: (-len(cells[k]), labels[k]))
    rows = []
    for key in order:
        tds = []
        for di in cols:
            tasks = cells[key].get(di) or []
            if not tasks:
                tds.append('<td class="n empty"></td>')
                continue
            roles = defaultdict(int)
            for _, a in tasks:
                roles[a.get("role") or "?"] += 1
            main_role = min(roles, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else 9)
            title = ", ".join(f"{n} {r}" for r, n in roles.items())
            as_named = sorted({a.get("agency") or "" for _, a in tasks})
            first = item_ids.get((di, tasks[0][0]))
            link = f'<a href="#m-{e(first)}" title="{e(title + " — " + "; ".join(as_named))}">{len(tasks)}</a>' if first else str(len(tasks))
            tds.append(f'<td class="n {e(main_role)}">{link}</td>')
        rows.append(f'<tr><th>{e(labels[key])}</th>{"".join(tds)}</tr>')
    return (f'<table class="grid matrix"><tr><th>agency (aligned through the 2025 successor map)</th>{head}</tr>'
            f'{"".join(rows)}</table><p class="muted">Cell: number of tasks; colour: the strongest role '
            "(lead, responsible, support, requested). Click a number to open the agency's first task.</p>")


# --------------------------------------------------------------------------------------------
# Reference chains and the graph


def _pick(d: dict[str, Any], *keys: str) -> Any:
    for k in keys:
        if d.get(k) is not None:
            return d[k]
    return None


def graph_edges(docs: list[dict[str, Any]], links: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    """(citing node, cited node, relation) edges; nodes are document ids or canonical ids.

    From links.json when the link stage wrote it, else from the documents' own references
    (a reference that designates a document of the run points at that document).
    """
    from .check import reference_matches

    edges: list[tuple[str, str, str]] = []
    if links and isinstance(links.get("edges"), list) and links["edges"]:
        # links.json may name a document of the run by its canonical id: map those to the id.
        alias: dict[str, str] = {}
        for entry in links.get("documents") or []:
            if isinstance(entry, dict):
                doc_id = _pick(entry, "id", "document", "doc_id")
                for k in ("canonical_id", "number_symbol", "reference"):
                    if doc_id and entry.get(k):
                        alias[str(entry[k])] = str(doc_id)
        for edge in links["edges"]:
            if isinstance(edge, dict):
                # links.json (schemas/links.schema.json) writes from/to; its "source" is text|title.
                src = _pick(edge, "from", "src", "citing")
                dst = _pick(edge, "to", "target", "dst", "cited")
                rel = _pick(edge, "relation", "type", "kind") or "cites"
            elif isinstance(edge, (list, tuple)) and len(edge) >= 2:
                src, dst, rel = edge[0], edge[1], (edge[2] if len(edge) > 2 else "cites")
            else:
                continue
            if src and dst:
                edges.append((alias.get(str(src), str(src)), alias.get(str(dst), str(dst)), str(rel)))
        return edges
    for doc in docs:
        for ref in doc.get("references") or []:
            target = ref.get("canonical_id") or ref.get("text")
            for other in docs:
                if other["id"] != doc["id"] and reference_matches(ref, other):
                    target = other["id"]
                    break
            if target:
                edges.append((doc["id"], str(target), ref.get("relation") or "cites"))
    return edges


def layered_layout(nodes: list[str], edges: list[tuple[str, str, str]]) -> dict[str, tuple[int, int]]:
    """(layer, position) per node: a node sits one layer below everything it cites."""
    cited = defaultdict(set)
    for src, dst, _ in edges:
        if src != dst:
            cited[src].add(dst)
    layer: dict[str, int] = {}

    def depth(node: str, path: set[str]) -> int:
        if node in layer:
            return layer[node]
        if node in path:  # a citation cycle: break it here
            return 0
        path.add(node)
        value = 1 + max((depth(c, path) for c in cited[node]), default=-1)
        path.discard(node)
        layer[node] = value
        return value

    for node in nodes:
        depth(node, set())
    by_layer: dict[int, list[str]] = defaultdict(list)
    for node in nodes:
        by_layer[layer[node]].append(node)
    position: dict[str, float] = {}
    out: dict[str, tuple[int, int]] = {}
    for level in sorted(by_layer):
        members = by_layer[level]
        # Barycentre of the nodes it cites keeps edges short and mostly uncrossed.
        def key(node: str) -> tuple[float, str]:
            ups = [position[c] for c in cited[node] if c in position]
            return (sum(ups) / len(ups) if ups else float("inf"), node)
        members.sort(key=key)
        for i, node in enumerate(members):
            position[node] = i
            out[node] = (level, i)
    return out


def graph_svg(docs: list[dict[str, Any]], edges: list[tuple[str, str, str]]) -> str:
    doc_ids = {d["id"] for d in docs}
    nodes: list[str] = [d["id"] for d in docs]
    for src, dst, _ in edges:
        for n in (src, dst):
            if n not in nodes:
                nodes.append(n)
    layout = layered_layout(nodes, edges)
    width_node, height_node, gap_x, gap_y, margin = 190, 34, 24, 70, 16
    per_layer = defaultdict(int)
    for level, _ in layout.values():
        per_layer[level] += 1
    columns = max(per_layer.values(), default=1)
    width = margin * 2 + columns * width_node + (columns - 1) * gap_x
    layers = max(per_layer, default=0) + 1
    height = margin * 2 + layers * height_node + (layers - 1) * gap_y

    def box(node: str) -> tuple[float, float]:
        level, i = layout[node]
        row_width = per_layer[level] * width_node + (per_layer[level] - 1) * gap_x
        x = (width - row_width) / 2 + i * (width_node + gap_x)
        y = margin + level * (height_node + gap_y)
        return x, y

    parts = [f'<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="citation graph">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#9aa4b2"/></marker></defs>']
    seen = set()
    for src, dst, rel in edges:
        if (src, dst, rel) in seen or src == dst:
            continue
        seen.add((src, dst, rel))
        (x1, y1), (x2, y2) = box(src), box(dst)
        # From the citing document's top edge up to the cited one's bottom edge.
        sx, sy = x1 + width_node / 2, y1
        tx, ty = x2 + width_node / 2, y2 + height_node
        if y1 <= y2:  # same layer or a cycle: bend around
            ty = y2 + height_node / 2
        mid = (sy + ty) / 2
        parts.append(f'<path class="edge {e(rel)}" d="M{sx:.0f},{sy:.0f} C{sx:.0f},{mid:.0f} {tx:.0f},{mid:.0f} {tx:.0f},{ty:.0f}" '
                     f'marker-end="url(#arrow)"><title>{e(src)} {e(rel)} {e(dst)}</title></path>')
    for node in nodes:
        x, y = box(node)
        kind = "document" if node in doc_ids else "reference"
        label = node if len(node) <= 30 else node[:29] + "…"
        parts.append(f'<g class="node {kind}" data-node="{e(node)}"><title>{e(node)}</title>'
                     f'<rect x="{x:.0f}" y="{y:.0f}" width="{width_node}" height="{height_node}" rx="5"/>'
                     f'<text x="{x + width_node / 2:.0f}" y="{y + height_node / 2 + 4:.0f}" text-anchor="middle">{e(label)}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def _chains(links: dict[str, Any] | None, doc_index: dict[str, int]) -> str:
    if not links or not links.get("chains"):
        return "<p class=\"muted\">No links.json in this run (the link stage writes it); the graph below is drawn from the documents' own references.</p>"
    out = []
    for chain in links["chains"]:
        steps = chain
        if isinstance(chain, dict):
            steps = _pick(chain, "nodes", "path", "steps", "chain") or []
        rendered = []
        for step in steps if isinstance(steps, list) else []:
            if isinstance(step, dict):
                doc_id = _pick(step, "document", "resolved_to", "doc_id")
                label = _pick(step, "label", "canonical_id", "id", "document") or "?"
            else:
                doc_id, label = str(step), str(step)
            if doc_id in doc_index:
                rendered.append(f'<a href="#doc-d{doc_index[doc_id]}">{e(label)}</a>')
            else:
                rendered.append(e(label))
        out.append('<div class="chain">' + '<span class="arrow">→</span>'.join(rendered) + "</div>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Diffs and checks


def _diffs(docs: list[dict[str, Any]]) -> str:
    from .diff import diff_documents, to_html_fragment

    plans = [d for d in docs if (d.get("metadata") or {}).get("doc_type") == "ke_hoach"]
    if len(plans) < 2:
        return '<p class="muted">Fewer than two plans in this run: nothing to compare.</p>'
    return to_html_fragment(diff_documents(plans))


def _checks(docs: list[dict[str, Any]]) -> str:
    from .check import check_report, find_plan
    from .diff import format_value

    reports = [d for d in docs if (d.get("metadata") or {}).get("doc_type") == "bao_cao"]
    if not reports:
        return '<p class="muted">No report (báo cáo) in this run.</p>'
    out = []
    for report in reports:
        plan, how = find_plan(report, docs)
        if plan is None:
            out.append(f"<h3>{e(report['id'])}</h3><p class=\"muted\">{e(how)}</p>")
            continue
        result = check_report(report, plan)
        out.append(f"<h3>{e(report['id'])} against {e(plan['id'])}</h3><p class=\"muted\">{e(how)}</p>")
        out.append('<table class="grid check"><tr><th>target</th><th>plan</th><th>reported</th><th>arithmetic</th><th>verdict</th></tr>')
        for r in result["rows"]:
            res = r["result"]
            reported = f"{res['indicator']}: {res['value']:g} {res.get('unit') or ''}" if res else "—"
            notes = "".join(f"<br><i>note: {e(n)}</i>" for n in r["notes"])
            out.append(f"<tr><td>{e(r['target']['indicator'])}</td><td>{e(format_value(r['target']))}</td>"
                       f"<td>{e(reported)}</td><td>{e(r['arithmetic'])}{notes}</td>"
                       f"<td><span class=\"badge {e(r['verdict'].replace(' ', '-'))}\">{e(r['verdict'])}</span></td></tr>")
        if not result["rows"]:
            out.append('<tr><td colspan="5">The plan has no targets.</td></tr>')
        out.append("</table>")
    return "".join(out)


# --------------------------------------------------------------------------------------------
# The page


def build_report(docs: list[dict[str, Any]], links: dict[str, Any] | None = None, title: str = "vanban report") -> str:
    from .report_assets import CSS, JS

    items: dict[str, Any] = {}
    blocks = [_document_block(i, doc, items) for i, doc in enumerate(docs)]
    # (document index, assignment index) -> item id, for the matrix links.
    item_ids: dict[tuple[int, int], str] = {}
    for di, doc in enumerate(docs):
        position = {id(a): ai for ai, a in enumerate(doc.get("assignments") or [])}
        for n, (kind, data, _) in enumerate(document_items(doc)):
            if kind == "assignment":
                item_ids[(di, position[id(data)])] = f"d{di}-a{n}"
    doc_index = {d["id"]: i for i, d in enumerate(docs)}
    edges = graph_edges(docs, links)
    nav = "".join(f'<a href="#{k}">{label}</a>' for k, label in (
        ("index", "Documents"), ("matrix", "Agencies × documents"), ("diffs", "Plan diff"),
        ("checks", "Report vs plan"), ("chains", "Reference chains"), ("graph", "Graph")))
    return "".join([
        '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f'<header class="top"><h1>{e(title)}</h1><nav>{nav}</nav></header><main>',
        f'<section class="block" id="index"><h2>Documents ({len(docs)})</h2>{_index(docs)}</section>',
        f'<section class="block" id="matrix"><h2>Agencies × documents</h2>{_matrix(docs, item_ids)}</section>',
        f'<section class="block" id="diffs"><h2>Plan diff</h2>{_diffs(docs)}</section>',
        f'<section class="block" id="checks"><h2>Report against plan</h2>{_checks(docs)}</section>',
        f'<section class="block" id="chains"><h2>Reference chains</h2>{_chains(links, doc_index)}</section>',
        f'<section class="block" id="graph"><h2>Citation graph</h2>{graph_svg(docs, edges)}'
        '<p class="muted">Yellow: documents of the run; blue: cited documents. Blue edges: implements; '
        "green: reports on; dashed: cites. A document sits below what it cites.</p></section>",
        *blocks,
        "</main>",
        f'<script type="application/json" id="report-items">{json_for_script(items)}</script>',
        f"<script>{JS}</script></body></html>\n",
    ])


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--run", type=Path, default=Path("outputs"), help="run folder (default: outputs/)")
    p.add_argument("--out", type=Path, help="HTML file to write (default: RUN/report.html)")


def main(args: argparse.Namespace) -> int:
    from .diff import load_run
    from .emit import write_atomic

    docs = load_run(args.run)
    if not docs:
        sys.stderr.write(f"vanban report: no document JSON in {args.run} (run `vanban run DIR --out {args.run}` first)\n")
        return 1
    links = None
    links_path = args.run / "links.json"
    if links_path.is_file():
        try:
            links = json.loads(links_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            sys.stderr.write(f"vanban report: {links_path} is not JSON ({exc}); drawing the graph from the documents\n")
    out = args.out or args.run / "report.html"
    write_atomic(out, build_report(docs, links, title=f"vanban report — {args.run}"))
    sys.stderr.write(f"wrote {out}\n")
    return 0
