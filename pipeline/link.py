"""Corpus level, link: resolve references to documents of the same run, and chain them.

Input: the per-document JSON dicts of one run (`Document.to_dict()`). For every reference:
- **by number**: a document whose own number and symbol give the same canonical id
  ("664/KH-UBND");
- **by description**, for documents whose own "Số:" line is blank (drafts, unsigned copies):
  same type, and the same date (the document's date may be partial: "2025-12"), then the
  issuer ("UBND tỉnh" of the citing document's province) and the overlap of titles decide.
  A reference that fits two documents equally stays unresolved.

`resolved_to` is set on the references in the dicts. The links structure holds the run's
documents (with `recognised_as` for a numberless document that others cite by number, and
the evidence), the documents outside the run, the citation edges, and the implementation
chains: from a top directive down to the run's documents, e.g.
31-CT/TW -> 209/NQ-CP -> 417-KH/TU -> <plan 664> -> <letter>. Edges between two outside
documents come from the titles the text gives them ("Kế hoạch số 417-KH/TU ... về thực
hiện Chỉ thị số 31-CT/TW").
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .emit import write_json
from .references import canonical_key, canonical_symbol, references_in
from .textkeys import fold

# Words that carry no meaning when comparing titles.
_TITLE_STOP = frozenset(
    "ve viec v v cua va cac ngay so thuc hien trien khai ke hoach nghi quyet chi thi ban hanh"
    " tren dia tinh ubnd trong doi voi tiep tuc tang cuong".split()
)
_HEAD_RELATIONS = ("implements", "reports_on")


def _title_words(title: str | None) -> set[str]:
    words = fold(title).split()
    return {w for w in words if w not in _TITLE_STOP and not w.isdigit()}


def title_similarity(a: str | None, b: str | None) -> float:
    """Share of the shorter title's content words found in the other one (0..1)."""
    wa, wb = _title_words(a), _title_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def _issuer_key(issuer: str | None) -> str:
    f = fold(issuer)
    f = re.sub(r"\buy ban nhan dan\b", "ubnd", f)
    f = re.sub(r"\bhoi dong nhan dan\b", "hdnd", f)
    return f


def _issuer_fits(ref_issuer: str | None, cand: dict, citing: dict) -> bool | None:
    """True/False when the issuer decides; None when the reference names none."""
    if not ref_issuer:
        return None
    r, c = _issuer_key(ref_issuer), _issuer_key(cand.get("issuer"))
    if not c:
        return None
    if r == c or c.startswith(r + " ") or r.startswith(c + " "):
        # "UBND tỉnh" (no province named) means the citing document's own province.
        if r != c and not r.startswith(c):
            cp, mp = fold(cand.get("province")), fold(citing.get("province"))
            return not (cp and mp) or cp == mp
        return True
    return False


def _date_fits(ref_date: str | None, doc_date: str | None) -> bool | None:
    if not ref_date or not doc_date:
        return None
    return ref_date.startswith(doc_date) or doc_date.startswith(ref_date)


def _meta(doc: dict) -> dict:
    return doc.get("metadata") or {}


def link_documents(docs: list[dict]) -> dict[str, Any]:
    """Resolve references across `docs` (mutated: `resolved_to`) and return the links."""
    own: dict[str, str] = {}  # canonical key -> document id
    for d in docs:
        m = _meta(d)
        cid = canonical_symbol(m.get("number"), m.get("symbol"))
        if cid:
            own.setdefault(canonical_key(cid), d["id"])
            own.setdefault(_without_year(canonical_key(cid)), d["id"])

    evidence: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        for ref in d.get("references") or []:
            ref["resolved_to"] = None
            key = canonical_key(ref.get("canonical_id"))
            target = own.get(key) or own.get(_without_year(key))
            if target and target != d["id"]:
                ref["resolved_to"] = target
                continue
            match = _match_numberless(ref, d, docs)
            if match:
                target_id, ev = match
                ref["resolved_to"] = target_id
                evidence[target_id].append(ev)

    # Every canonical id that names a document of the run.
    node_of: dict[str, str] = {k: v for k, v in own.items()}
    for d in docs:
        for ref in d.get("references") or []:
            if ref.get("resolved_to"):
                node_of.setdefault(canonical_key(ref["canonical_id"]), ref["resolved_to"])

    def node(canonical: str) -> str:
        return node_of.get(canonical_key(canonical), canonical)

    run_ids = {d["id"] for d in docs}
    documents = []
    for d in docs:
        m = _meta(d)
        ev = evidence.get(d["id"], [])
        recognised = Counter(e["canonical_id"] for e in ev).most_common(1)
        documents.append({
            "id": d["id"],
            "doc_type": m.get("doc_type"),
            "number": m.get("number"),
            "symbol": m.get("symbol"),
            "canonical_id": canonical_symbol(m.get("number"), m.get("symbol")),
            "recognised_as": recognised[0][0] if recognised else None,
            "evidence": ev,
            "date": m.get("date"),
            "issuer": m.get("issuer"),
            "title": m.get("title"),
        })

    external: dict[str, dict] = {}
    edges: list[dict] = []
    seen_edges: set[tuple[str, str, str]] = set()

    def add_edge(src: str, dst: str, relation: str, source: str, via: str | None) -> None:
        if src == dst or (src, dst, relation) in seen_edges:
            return
        seen_edges.add((src, dst, relation))
        edges.append({"from": src, "to": dst, "relation": relation, "resolved": dst in run_ids,
                      "source": source, "via": via})

    title_done: set[str] = set()
    for d in docs:
        for ref in d.get("references") or []:
            dst = ref.get("resolved_to") or node(ref["canonical_id"])
            add_edge(d["id"], dst, ref.get("relation") or "cites", "text", d["id"])
            if dst not in run_ids:
                ext = external.setdefault(dst, {
                    "id": dst, "doc_type": ref.get("doc_type"), "date": ref.get("date"),
                    "issuer": ref.get("issuer"), "title": ref.get("title"), "cited_by": []})
                for f in ("date", "issuer", "title"):
                    ext[f] = ext[f] or ref.get(f)
                if d["id"] not in ext["cited_by"]:
                    ext["cited_by"].append(d["id"])
            # What the cited document itself implements, as its title says.
            if ref["canonical_id"] in title_done or not ref.get("title"):
                continue
            inner = [x for x in references_in(ref["title"]) if x["implements"]]
            if inner:
                title_done.add(ref["canonical_id"])
            for x in inner:
                add_edge(dst, node(x["canonical_id"]), "implements", "title", d["id"])

    dates = {x["id"]: x.get("date") for x in documents} | {k: v.get("date") for k, v in external.items()}
    chains = _chains(edges, run_ids, dates)
    return {
        "documents": documents,
        "external": sorted(external.values(), key=lambda e: e["id"]),
        "edges": edges,
        "chains": chains,
    }


def _without_year(key: str) -> str:
    """"39/2016/NĐ-CP" compared as "39/NĐ-CP" when one side leaves the year out."""
    return re.sub(r"/(?:19|20)\d\d/", "/", key)


def _match_numberless(ref: dict, citing: dict, docs: list[dict]) -> tuple[str, dict] | None:
    """The one numberless document of the run that fits the reference's description."""
    scored = []
    for cand in docs:
        m = _meta(cand)
        if cand["id"] == citing["id"] or m.get("number") or ref.get("doc_type") != m.get("doc_type"):
            continue
        if m.get("symbol") and ref.get("symbol") and canonical_key(m["symbol"]) != canonical_key(ref["symbol"]):
            continue
        date = _date_fits(ref.get("date"), m.get("date"))
        issuer = _issuer_fits(ref.get("issuer"), m, _meta(citing))
        sim = title_similarity(ref.get("title"), m.get("title"))
        if date is False or issuer is False:
            continue
        exact_date = bool(date) and len(m.get("date") or "") == 10
        if not (exact_date or sim >= 0.6):
            continue
        score = 2 * exact_date + bool(date) + bool(issuer) + 2 * sim
        scored.append((score, cand["id"], {
            "from": citing["id"], "canonical_id": ref["canonical_id"], "text": ref.get("text"),
            "matched": {"doc_type": True, "date": date, "issuer": issuer,
                        "title_similarity": round(sim, 3)},
        }))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # two documents fit equally: do not guess
    return scored[0][1], scored[0][2]


def _chains(edges: list[dict], run_ids: set[str], dates: dict[str, str | None]) -> list[list[str]]:
    """Implementation chains, each from a top directive down to a document of the run.

    Parent -> child when the child implements or reports on the parent, or when a run
    document cites another run document (a letter that presses on with a plan)."""
    children: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    for e in edges:
        child, parent = e["from"], e["to"]
        if e["relation"] in _HEAD_RELATIONS or (child in run_ids and parent in run_ids):
            if child in _reach(parent, parents) or child == parent:
                continue  # never a cycle
            children[parent].add(child)
            parents[child].add(parent)
    nodes = set(children) | set(parents)
    roots = sorted(n for n in nodes if not parents.get(n))
    leaves = sorted(n for n in run_ids if n in nodes and not children.get(n))
    chains: list[list[str]] = []
    for root in roots:
        below = _reach(root, children)
        for leaf in leaves:
            if leaf not in below:
                continue
            on_path = (below & _reach(leaf, parents)) | {root, leaf}
            chain = _topo(on_path, parents, dates)
            if len(chain) >= 3:
                chains.append(chain)
    chains = [c for c in chains if not any(c != o and set(c) < set(o) for o in chains)]
    chains.sort(key=lambda c: (-len(c), c))
    return chains


def _reach(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for n in graph.get(todo.pop(), ()):
            if n not in seen:
                seen.add(n)
                todo.append(n)
    return seen


def _topo(nodes: set[str], parents: dict[str, set[str]], dates: dict[str, str | None]) -> list[str]:
    """Parents before children; among ready nodes the earlier date first."""
    out: list[str] = []
    left = set(nodes)
    while left:
        ready = [n for n in left if not (parents.get(n, set()) & left)]
        ready.sort(key=lambda n: (dates.get(n) or "9999", n))
        out.append(ready[0])
        left.remove(ready[0])
    return out


def write_links(out_dir: Path, links: dict[str, Any]) -> Path:
    """Write the result of `link_documents` to out_dir/links.json, atomically."""
    path = Path(out_dir) / "links.json"
    write_json(path, links)
    return path
