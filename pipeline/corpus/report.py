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

The page is rendered from Jinja2 templates (`pipeline/corpus/templates/report.html` and the pieces it
includes; pipeline.corpus.report_assets), autoescaped: every string taken from a document is
escaped. The item data goes into a `<script type="application/json">` with `<`, `>` and `&`
written as \\u escapes, so a document that contains `<script>` shows it as text.

The page is the same bytes for the same run (no date, no path, no timing in it): `vanban run`
writes it into OUT/report.html at the end of a run, and outputs/ is committed.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ..model import Assignment, Deadline, Document, Metadata, Reference, Result, Span, Target
from .report_assets import plural, render

ROLE_ORDER = ("lead", "responsible", "support", "requested")
ITEM_KINDS = ("assignment", "target", "result", "deadline", "reference")
REPORT_NAME = "report.html"


def json_for_script(data: Any) -> str:
    """JSON safe inside <script>: no '</script>' or '<!--' can appear."""
    return (json.dumps(data, ensure_ascii=False)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


# --------------------------------------------------------------------------------------------
# Documents with their items highlighted


Item = Assignment | Target | Result | Deadline | Reference


def document_items(doc: Document) -> list[tuple[str, Item, Span]]:
    """(kind, item, span) of every extracted item of a document that has a span."""
    out: list[tuple[str, Item, Span]] = []
    for kind, items in (("assignment", doc.assignments), ("target", doc.targets), ("result", doc.results),
                        ("deadline", doc.deadlines)):
        for item in items:
            if item.span:
                out.append((kind, item, item.span))
    # A task's own deadline, unless the document's deadline list already holds that passage.
    listed = {(deadline.span.start, deadline.span.end) for deadline in doc.deadlines if deadline.span}
    for assignment in doc.assignments:
        deadline = assignment.deadline
        if deadline and deadline.span and (deadline.span.start, deadline.span.end) not in listed:
            listed.add((deadline.span.start, deadline.span.end))
            out.append(("deadline", replace(deadline, who=deadline.who or assignment.agency), deadline.span))
    for ref in doc.references:
        spans = [mention.span for mention in ref.mentions if mention.span] or ([ref.span] if ref.span else [])
        for span in spans:
            out.append(("reference", ref, span))
    return out


def item_data(item: Item) -> dict[str, Any]:
    """An item's fields as the page's detail panel reads them (a reference without its mentions)."""
    data = asdict(item)
    if isinstance(item, Reference):
        del data["mentions"]
    return data


def highlight(text: str, marks: list[tuple[str, str, int, int]], doc_key: str) -> Markup:
    """`text` escaped, with <mark> around the parts that items cover (templates/highlight.html).

    `marks` holds (item id, kind, start, end). Items may nest or overlap (a reference inside a
    task), so the text is cut at every boundary and each piece lists all items covering it;
    its colour is the kind of the shortest (innermost) one.
    """
    length = len(text)
    cuts = {0, length}
    clean = []
    for item_id, kind, start, end in marks:
        start, end = max(0, min(start, length)), max(0, min(end, length))
        if end > start:
            clean.append((item_id, kind, start, end))
            cuts.update((start, end))
    bounds = sorted(cuts)
    starts = defaultdict(list)
    for mark in clean:
        starts[mark[2]].append(mark)
    active: list[tuple[str, str, int, int]] = []
    first_piece: set[str] = set()
    pieces: list[dict[str, Any]] = []
    for piece_start, piece_end in zip(bounds, bounds[1:]):
        active = [m for m in active if m[3] > piece_start] + starts.get(piece_start, [])
        if not active:
            pieces.append({"text": text[piece_start:piece_end], "kind": None})
            continue
        inner = min(active, key=lambda item: (item[3] - item[2], ITEM_KINDS.index(item[1])))
        ordered = sorted(active, key=lambda item: item[3] - item[2])
        anchor = None
        if inner[0] not in first_piece:
            first_piece.add(inner[0])
            anchor = inner[0]
        pieces.append({"text": text[piece_start:piece_end], "kind": inner[1], "anchor": anchor,
                       "ids": " ".join(m[0] for m in ordered)})
    return Markup(render("highlight.html", pieces=pieces, doc_key=doc_key))


def _document(index: int, doc: Document, items: dict[str, Any], resolved: dict[str, str]) -> dict[str, Any]:
    """One document's block: its header, counts, issues and highlighted text."""
    key = f"d{index}"
    marks = []
    for item_index, (kind, item, span) in enumerate(document_items(doc)):
        item_id = f"{key}-{kind[0]}{item_index}"
        items[item_id] = {"kind": kind, "data": item_data(item)}
        marks.append((item_id, kind, span.start, span.end))
    counts = ", ".join(plural(len(found), noun) for noun, found in
                       (("assignment", doc.assignments), ("target", doc.targets), ("result", doc.results),
                        ("deadline", doc.deadlines), ("reference", doc.references)))
    return {
        "key": key, "id": doc.id, "md": doc.metadata, "counts": counts,
        "number": _number(doc.metadata, resolved.get(doc.id)),
        "issues": doc.errors + doc.warnings[:20],
        "text": highlight(doc.text or "", marks, key),
    }


def _number(metadata: Metadata, resolved: str | None) -> dict[str, Any]:
    """A document's number as the report shows it: its own, else the one the corpus resolved
    (marked as such), else '…/symbol' for a blank number."""
    from .diff import document_number

    plan = {"number": metadata.number, "symbol": metadata.symbol,
            "resolved_number": None if metadata.number else resolved}
    text = document_number(plan, blank="…", mark="")
    return {"text": "" if text == "…" else text, "resolved": bool(plan["resolved_number"])}


def _index(docs: list[Document], resolved: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for index, doc in enumerate(docs):
        counts = [len(doc.sections), len(doc.references), len(doc.assignments), len(doc.targets), len(doc.results),
                  len(doc.deadlines)]
        rows.append({
            "key": f"d{index}", "id": doc.id, "md": doc.metadata, "number": _number(doc.metadata, resolved.get(doc.id)),
            "counts": counts, "status": doc.status,
        })
    return rows


# The index's count columns, in the order of `_index`'s counts.
INDEX_COUNTS = ("sections", "references", "assignments", "targets", "results", "deadlines")


# --------------------------------------------------------------------------------------------
# Agency × document matrix


def _matrix(docs: list[Document], item_ids: dict[tuple[int, int], str]) -> dict[str, Any]:
    """Agencies (aligned as in `vanban diff`) × the documents that task them."""
    from .diff import _gazetteer, agency_identity

    names = _gazetteer()["names"]
    cells: dict[str, dict[int, list[tuple[int, Assignment]]]] = defaultdict(lambda: defaultdict(list))
    labels: dict[str, str] = {}
    for di, doc in enumerate(docs):
        province = doc.metadata.province
        for ai, assignment in enumerate(doc.assignments):
            key, _ = agency_identity(assignment, province)
            name = names.get(key)
            labels.setdefault(key, name if name and "{province}" not in name else (assignment.agency or key))
            cells[key][di].append((ai, assignment))
    cols = [di for di, doc in enumerate(docs) if doc.assignments]
    rows = []
    for key in sorted(cells, key=lambda agency_key: (-len(cells[agency_key]), labels[agency_key])):
        row = []
        for di in cols:
            tasks = cells[key].get(di) or []
            if not tasks:
                row.append(None)
                continue
            roles: dict[str, int] = defaultdict(int)
            for _, assignment in tasks:
                roles[assignment.role or "?"] += 1
            row.append({
                "count": len(tasks),
                "role": min(roles, key=lambda role: ROLE_ORDER.index(role) if role in ROLE_ORDER else 9),
                "title": ", ".join(f"{n} {r}" for r, n in roles.items())
                         + " — " + "; ".join(sorted({task.agency or "" for _, task in tasks})),
                "first": item_ids.get((di, tasks[0][0])),
            })
        rows.append({"label": labels[key], "cells": row})
    return {"columns": [{"key": f"d{di}", "id": docs[di].id} for di in cols], "rows": rows}


# --------------------------------------------------------------------------------------------
# Reference chains and the graph


def _pick(record: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if record.get(key) is not None:
            return record[key]
    return None


def graph_edges(docs: list[Document], links: dict[str, Any] | None) -> list[tuple[str, str, str]]:
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
                for field in ("canonical_id", "number_symbol", "reference"):
                    if doc_id and entry.get(field):
                        alias[str(entry[field])] = str(doc_id)
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
        for ref in doc.references:
            target = ref.canonical_id or ref.text
            for other in docs:
                if other.id != doc.id and reference_matches(ref, other):
                    target = other.id
                    break
            if target:
                edges.append((doc.id, str(target), ref.relation or "cites"))
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
        for pos, node in enumerate(members):
            position[node] = pos
            out[node] = (level, pos)
    return out


GRAPH_NODE = (150, 38)  # width, height of a node box (px); two label lines of 12 px fit in it
GRAPH_GAP = (36, 10)  # least gap between layers (columns), gap between the nodes of one layer
GRAPH_WIDTH = 1250  # what the report's box shows at a 1,400 px window: layers spread to fill it
GRAPH_MARGIN = 12
LABEL_CHARS = 22  # characters of one label line at 12 px in a node box


def label_lines(node: str, width: int = LABEL_CHARS) -> list[str]:
    """A node's label on at most two lines, cut where the name breaks — between the parts of
    a document id ('_'), else between words, else after '-' or '/' — nearest the middle
    among the cuts that give two lines that fit; a part still too long ends with '…'."""
    if len(node) <= width:
        return [node]
    cut = width
    for breaks in ("_", " ", "-/"):
        cuts = [i + 1 for i, c in enumerate(node[:-1]) if c in breaks]
        fitting = [k for k in cuts if k <= width and len(node) - k <= width]
        if fitting:
            cut = min(fitting, key=lambda candidate: abs(candidate - len(node) / 2))
            break
    lines = [node[:cut].rstrip(), node[cut:].strip()]
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def graph_svg(docs: list[Document], edges: list[tuple[str, str, str]]) -> Markup:
    """The citation graph as an inline SVG (templates/graph.html), drawn at its natural size.

    Layers run left to right: what a document cites sits in a column to its left, so the
    width grows with the length of the longest chain (7 columns for the corpus fit 1,300 px)
    and the height with the documents of one layer. Labels are 12 px; a graph wider or taller
    than its box scrolls in it instead of shrinking.
    """
    doc_ids = {d.id for d in docs}
    nodes: list[str] = [d.id for d in docs]
    for src, dst, _ in edges:
        for endpoint in (src, dst):
            if endpoint not in nodes:
                nodes.append(endpoint)
    layout = layered_layout(nodes, edges)
    (node_width, node_height), (gap_x, gap_y), margin = GRAPH_NODE, GRAPH_GAP, GRAPH_MARGIN
    per_layer: dict[int, int] = defaultdict(int)
    for level, _ in layout.values():
        per_layer[level] += 1
    layers = max(per_layer, default=0) + 1
    rows = max(per_layer.values(), default=1)
    if layers > 1:  # few layers: wider gaps, so the edges between two columns stay apart
        gap_x = max(gap_x, min(120, (GRAPH_WIDTH - margin * 2 - layers * node_width) // (layers - 1)))
    width = margin * 2 + layers * node_width + (layers - 1) * gap_x
    height = margin * 2 + rows * node_height + (rows - 1) * gap_y

    def box(node: str) -> tuple[float, float]:
        level, pos = layout[node]
        column_height = per_layer[level] * node_height + (per_layer[level] - 1) * gap_y
        return margin + level * (node_width + gap_x), (height - column_height) / 2 + pos * (node_height + gap_y)

    drawn_edges = []
    seen = set()
    for src, dst, rel in edges:
        if (src, dst, rel) in seen or src == dst:
            continue
        seen.add((src, dst, rel))
        (x1, y1), (x2, y2) = box(src), box(dst)
        # From the citing document's left side to the cited one's right side.
        sx, sy, ty = x1, y1 + node_height / 2, y2 + node_height / 2
        if x2 < x1:
            tx = x2 + node_width
            bend = (sx - tx) / 2
            path = f"M{sx:.0f},{sy:.0f} C{sx - bend:.0f},{sy:.0f} {tx + bend:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"
        else:  # same layer or a citation cycle: around the left, into the left side
            tx = x2
            path = f"M{sx:.0f},{sy:.0f} C{sx - gap_x:.0f},{sy:.0f} {tx - gap_x:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"
        drawn_edges.append({"relation": rel, "path": path, "title": f"{src} {rel} {dst}"})
    drawn_nodes = []
    for node in nodes:
        left, top = box(node)
        lines = label_lines(node)
        first = top + node_height / 2 + 4 - 7 * (len(lines) - 1)
        drawn_nodes.append({"id": node, "kind": "document" if node in doc_ids else "reference", "x": round(left),
                            "y": round(top), "cx": round(left + node_width / 2),
                            "lines": [(line, round(first + 14 * n)) for n, line in enumerate(lines)]})
    return Markup(render("graph.html", width=width, height=height, node_width=node_width, node_height=node_height,
                         edges=drawn_edges, nodes=drawn_nodes))


def _chains(links: dict[str, Any] | None, doc_index: dict[str, int]) -> list[list[dict[str, Any]]] | None:
    """Each chain of links.json as steps {label, key}: key links to a document of the run."""
    if not links or not links.get("chains"):
        return None
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
            rendered.append({"label": label, "key": f"d{doc_index[doc_id]}" if doc_id in doc_index else None})
        out.append(rendered)
    return out


# --------------------------------------------------------------------------------------------
# Diffs and checks


def _diffs(docs: list[Document], resolved: dict[str, str]) -> Markup | None:
    from .diff import diff_documents, to_html_fragment

    plans = [d for d in docs if d.metadata.doc_type == "ke_hoach"]
    if len(plans) < 2:
        return None
    return Markup(to_html_fragment(diff_documents(plans, resolved)))


def _checks(docs: list[Document]) -> list[dict[str, Any]]:
    from .check import check_report, find_plan
    from .diff import format_value

    out = []
    for report in [d for d in docs if d.metadata.doc_type == "bao_cao"]:
        plan, how = find_plan(report, docs)
        if plan is None:
            out.append({"report": report.id, "plan": None, "how": how, "rows": []})
            continue
        rows = []
        for row in check_report(report, plan)["rows"]:
            res = row["result"]
            rows.append({
                "indicator": row["target"]["indicator"], "plan": format_value(row["target"]),
                "reported": f"{res['indicator']}: {res['value']:g} {res.get('unit') or ''}".strip() if res else "—",
                "arithmetic": row["arithmetic"], "notes": row["notes"], "verdict": row["verdict"],
            })
        out.append({"report": report.id, "plan": plan.id, "how": how, "rows": rows})
    return out


# --------------------------------------------------------------------------------------------
# The page


def build_report(docs: list[Document], links: dict[str, Any] | None = None, title: str = "vanban report") -> str:
    from .diff import resolved_numbers
    from .report_assets import CSS, JS

    resolved = resolved_numbers(links)
    items: dict[str, Any] = {}
    documents = [_document(i, doc, items, resolved) for i, doc in enumerate(docs)]
    # (document index, assignment index) -> item id, for the matrix links.
    item_ids: dict[tuple[int, int], str] = {}
    for di, doc in enumerate(docs):
        position = {id(assignment): ai for ai, assignment in enumerate(doc.assignments)}
        for item_index, (kind, item, _) in enumerate(document_items(doc)):
            if kind == "assignment":
                item_ids[(di, position[id(item)])] = f"d{di}-a{item_index}"
    doc_index = {d.id: i for i, d in enumerate(docs)}
    return render(
        "report.html", title=title, css=Markup(CSS), js=Markup(JS),
        index=_index(docs, resolved), index_counts=INDEX_COUNTS, documents=documents,
        matrix=_matrix(docs, item_ids), diff=_diffs(docs, resolved), checks=_checks(docs),
        has_reports=any(d.metadata.doc_type == "bao_cao" for d in docs),
        chains=_chains(links, doc_index), graph=graph_svg(docs, graph_edges(docs, links)),
        items=Markup(json_for_script(items)),
    )


def write_report(run_dir: Path, out: Path | None = None) -> Path | None:
    """Write the report of the run in `run_dir` to `out` (default RUN/report.html); None when
    the folder holds no document JSON. Reads links.json when the run has one."""
    from .diff import read_run
    from ..stages.emit import write_atomic

    docs = read_run(run_dir)
    if not docs:
        return None
    links = None
    links_path = run_dir / "links.json"
    if links_path.is_file():
        try:
            links = json.loads(links_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            sys.stderr.write(f"vanban report: {links_path} is not JSON ({exc}); drawing the graph from the documents\n")
    out = out or run_dir / REPORT_NAME
    write_atomic(out, build_report(docs, links))
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=Path, default=Path("outputs"), help="run folder (default: outputs/)")
    parser.add_argument("--out", type=Path, help=f"HTML file to write (default: RUN/{REPORT_NAME})")


def main(args: argparse.Namespace) -> int:
    out = write_report(args.run, args.out)
    if out is None:
        sys.stderr.write(f"vanban report: no document JSON in {args.run} (run `vanban run DIR --out {args.run}` first)\n")
        return 1
    sys.stderr.write(f"wrote {out}\n")
    return 0
