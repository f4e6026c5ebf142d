"""Corpus-level steps at the end of `vanban run`: link, graph, store.

After every document of a run has its JSON, references are resolved to documents of the
same run (pipeline.link), the per-document JSONs are rewritten with `resolved_to`, and the
corpus-wide files are written: links.json, the graph exports, and the links in the store.
"""
from __future__ import annotations

from pathlib import Path

from .emit import write_json


def finish_run(out_dir: Path, documents: list[dict], db_path: Path | None) -> dict:
    """Link, export and store; returns a small summary for the run report."""
    from .graph import build_graph, export_graph
    from .link import link_documents, write_links

    before = {d["id"]: [r.get("resolved_to") for r in d.get("references", [])] for d in documents}
    links = link_documents(documents)
    rewritten = 0
    for doc in documents:
        after = [r.get("resolved_to") for r in doc.get("references", [])]
        if after != before[doc["id"]]:
            write_json(out_dir / f"{doc['id']}.json", doc, pretty=False)
            rewritten += 1
    write_links(out_dir, links)
    graph = build_graph(documents, links)
    exported = export_graph(graph, out_dir)
    if db_path is not None:
        from .store import Store

        with Store(db_path) as store:
            for doc in documents:
                if [r.get("resolved_to") for r in doc.get("references", [])] != before[doc["id"]]:
                    store.upsert_document(doc)
            store.set_links(links)
    return {
        "linked_documents": rewritten,
        "chains": len(links.get("chains", [])),
        "graph_nodes": graph.number_of_nodes(),
        "graph_edges": graph.number_of_edges(),
        "exports": [str(p) for p in exported] if exported else [],
    }
