"""Corpus-level step at the end of `vanban run`: link, store, links.json (and, on request, the graph).

Incremental and crash-consistent. The corpus-level state is the link index inside the
SQLite store (pipeline.corpus.link; with `--no-db` a private `OUT/.vanban-index.sqlite`). Every
document write during the run marks the document *pending* in the same transaction, so the
store always knows which documents the corpus step still owes a relink. `finish_run` then,
in ONE transaction whose COMMIT is its last step:

1. finds the references the pending documents may affect and resolves only those, through
   the index (by number, by type × date, by title word);
2. updates the `refs` rows of the references whose `resolved_to` changed, and rewrites the
   JSON of their documents (read, patched as text, `link.patch_resolved`, written
   atomically: only those documents are read back; the store's JSON stays as parsed);
3. writes links.json in one linear, streamed pass over the index, and refreshes the
   store's `links` and `chains` tables and the `canonical_id` of recognised documents;
4. clears `pending` and commits.

A run killed anywhere in between leaves `pending` as it was (SQLite rolls the transaction
back); the next run, even with every document unchanged, redoes the step and ends with the
same store and files as a run that was never interrupted. With nothing pending and
links.json present, the step does nothing.

Graph exports (GraphML, GEXF, node-link JSON) are not part of the step: `vanban export
graph` writes them on demand, and `vanban run --graph` at the end of a run.
"""
from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

from ..stages.emit import write_atomic

INDEX_NAME = ".vanban-index.sqlite"  # the corpus state of a run without a store (--no-db)
REWRITE_PART = 32  # documents rewritten per task of the corpus step


def finish_run(out_dir: Path, store, graph: bool = False, processes: int = 1, progress=None) -> dict[str, Any]:
    """Relink what changed, write links.json, commit; returns a summary for the run report.

    `store`: an open pipeline.corpus.store.Store (the run's store, or the lite index).
    `processes`: how many processes resolve the references and rewrite the documents (the
    run's worker count: they are idle by now); the outputs are the same for any number.
    `progress`: told of each phase as it goes (`phase`, `advance`, `close`, as
    pipeline.batch.progress.StepProgress); none by default."""
    from . import link

    progress = progress or _Silent()

    out_dir = Path(out_dir)
    db = store.db
    t0 = time.perf_counter()
    pending = db.execute("SELECT count(*) FROM pending").fetchone()[0]
    links_path = out_dir / "links.json"
    summary: dict[str, Any] = {"pending_documents": pending, "relinked_references": 0, "linked_documents": 0}
    if pending or not links_path.is_file():
        db.execute("BEGIN IMMEDIATE")
        try:
            refs = link.affected_refs(db)
            progress.phase("resolving references", len(refs), unit="ref")
            changed = link.resolve(db, refs, processes, store.path, advance=progress.advance)
            summary["relinked_references"] = len(refs)
            # the JSONs, a part of REWRITE_PART documents at a time (~100 kB each), and the
            # store's `refs`, part by part as the JSONs are written (whether or not a
            # document's JSON is there to rewrite: the store follows the index)
            work = sorted(changed.items())
            progress.phase("rewriting document JSONs", len(work), unit="doc")
            if processes > 1 and len(work) >= link.PARALLEL_MIN_ITEMS:
                parts = link.in_parallel(partial(_rewrite, out_dir), work, processes, store.path, REWRITE_PART)
            else:
                parts = (_rewrite(out_dir, db, work[start:start + REWRITE_PART])
                         for start in range(0, len(work), REWRITE_PART))
            for part in parts:
                for doc_id, news in part:
                    store.set_resolutions(doc_id, news)
                progress.advance(len(part))
            progress.phase("writing links.json and the chains")
            summary["linked_documents"] = len(changed)
            documents, external, edges, chains = link.iter_links(db)
            recognised: list[tuple[str | None, str]] = []

            def watch(items):
                for document in items:
                    recognised.append((document["recognised_as"], document["id"]))
                    yield document

            link.write_links(out_dir, (watch(documents), external, edges, chains))
            db.executemany("UPDATE link_docs SET recognised_as = ? WHERE id = ? AND recognised_as IS NOT ?",
                           [(r, i, r) for r, i in recognised])
            _refresh_store_links(db, chains)
            db.execute("DELETE FROM pending")
            db.execute("COMMIT")  # the last step: before it, a killed run leaves `pending` as it was
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            progress.close()
        summary["rewritten"] = sorted(changed)
    summary["documents"] = db.execute("SELECT count(*) FROM link_docs").fetchone()[0]
    summary["chains"] = db.execute("SELECT count(DISTINCT chain) FROM chains").fetchone()[0]
    summary["edges"] = db.execute("SELECT count(*) FROM links").fetchone()[0]
    summary["link_seconds"] = round(time.perf_counter() - t0, 3)
    if graph:
        from .graph import export_run_graph

        t1 = time.perf_counter()
        summary["exports"] = [str(p) for p in export_run_graph(out_dir, ("json", "graphml", "gexf"))]
        summary["export_seconds"] = round(time.perf_counter() - t1, 3)
    return summary


class _Silent:
    """The progress of a corpus step nobody watches."""

    def phase(self, desc: str, total: int | None = None, unit: str = "it") -> None:
        pass

    def advance(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def _rewrite(out_dir: Path, db, work: list[tuple[str, dict[int, str | None]]]) -> list[tuple]:
    """Write each document's JSON with its new `resolved_to` (patched as text, atomically);
    returns `work`, for the caller to update the store as each part is done. Reads `db`
    only: runs in the corpus step's processes (`link.in_parallel`) or in its own."""
    from . import link

    for doc_id, news in work:
        path = out_dir / f"{doc_id}.json"
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError:  # not published yet: its next parse takes the index's resolutions
            continue
        count = db.execute("SELECT count(*) FROM link_refs WHERE doc_id = ?", (doc_id,)).fetchone()[0]
        write_atomic(path, link.with_resolutions(text, news, count))
    return work


def _refresh_store_links(db, chains: list[list[str]]) -> None:
    """The store's `links` and `chains` tables, and each document's `canonical_id`
    (its own number, else the number others cite it by), from the pass just made."""
    db.execute("DELETE FROM links")
    db.execute("INSERT OR REPLACE INTO links SELECT src, dst, relation, resolved, "
               "CASE WHEN resolved THEN NULL ELSE dst END FROM temp.link_edges ORDER BY rowid")
    db.execute("DELETE FROM chains")
    db.executemany("INSERT INTO chains VALUES (?,?,?)",
                   [(n, pos, node) for n, chain in enumerate(chains) for pos, node in enumerate(chain)])
    db.execute("UPDATE documents SET canonical_id = (SELECT coalesce(l.own_cid, l.recognised_as) FROM link_docs l "
               "WHERE l.id = documents.id) WHERE canonical_id IS NOT (SELECT coalesce(l.own_cid, l.recognised_as) "
               "FROM link_docs l WHERE l.id = documents.id)")
