"""The driver's writes during a run: each result into the store, its JSON published, the
state updated; many documents per store transaction.

One store transaction per document made the driver, the one process that writes, the
bottleneck of a run with several workers: each commit writes every page it touched again.
So the driver writes a *batch* of documents in one transaction (each inside a savepoint: a
document that fails to store leaves the others in), commits it when it holds
BATCH_DOCUMENTS documents or is BATCH_SECONDS old, and only then renames the batch's
temporary JSON files into place. An output JSON still always means "in the store too": a
run killed before the commit leaves the batch's temporary files (removed by the next run)
and none of its rows, and the next run redoes exactly those documents.
"""
from __future__ import annotations

import itertools
import json
import os
import time
from pathlib import Path
from typing import Any

from ..stages.emit import publish, write_temp
from ..version import pipeline_version
from .jobs import Job
from .state import State, size_and_mtime

BATCH_DOCUMENTS = 64  # documents per store transaction at most
BATCH_SECONDS = 1.0  # and its age at most: a killed run redoes about this much work
_STATE_FIELDS = ("status", "format", "pages", "references", "assignments", "directive_lines",
                 "unassigned_lines", "errors", "warnings", "text_bytes")
_temp_numbers = itertools.count()


class ResultWriter:
    """Writes the results of a run as they come (`add`), in batches (`flush`)."""

    def __init__(self, out: Path, state: State, store=None):
        self.out, self.state, self.store = out, state, store
        self.version = pipeline_version()
        self.waiting: list[tuple[Job, dict[str, Any], Path]] = []  # stored, JSON not yet published
        self.opened: float | None = None  # when the open batch began

    def add(self, job: Job, result: dict[str, Any]) -> dict[str, Any]:
        """Take one result: store it and queue its JSON, or remove a failed document's output.
        Returns the result, turned `failed` (stage `store`) if the store refused it."""
        tmp = Path(result["json_tmp"]) if result.get("json_tmp") else None  # written by the worker
        if tmp is None and result["json"] is not None:  # a Dask worker sends the text instead
            tmp = write_temp(self.out, f"{job.id}.{os.getpid()}.d{next(_temp_numbers)}", result["json"].encode("utf-8"))
        if tmp is not None and self.store is not None:
            try:  # the store first: an output JSON always means "in the store too"
                self._begin()
                rows = result.get("rows")
                if rows is None:  # a worker without the store's code: made here
                    from ..corpus.store import document_rows

                    rows = document_rows(json.loads(tmp.read_bytes()), lite=self.store.lite)
                if not self.store.upsert_rows(rows):
                    _take_resolutions(tmp, self.store.db, job.id)
            except Exception as exc:
                tmp.unlink(missing_ok=True)
                tmp, result = None, {**result, "status": "failed", "json": None, "json_tmp": None,
                                     "errors": [{"stage": "store", "message": f"{type(exc).__name__}: {exc}"},
                                                *result["errors"]]}
        if tmp is not None:
            self.waiting.append((job, result, tmp))
        else:  # failed: no output, and no stale output from an older version either
            (self.out / f"{job.id}.json").unlink(missing_ok=True)
            if self.store is not None:  # nor stale rows in the store
                self._begin()
                self.store.delete_document(job.id)
            self.state.entries.pop(job.id, None)
        if self.store is None or len(self.waiting) >= BATCH_DOCUMENTS:
            self.flush()
        else:
            self.tick()
        return result

    def tick(self) -> None:
        """Commit the open batch once it is BATCH_SECONDS old (also called while no result comes)."""
        if self.opened is not None and time.perf_counter() - self.opened >= BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Commit the batch, then publish its JSON files and record them in the state."""
        if self.store is not None:
            self.store.commit_batch()
        self.opened = None
        for job, result, tmp in self.waiting:
            json_path = self.out / f"{job.id}.json"
            publish(tmp, json_path)
            self.state.entries[job.id] = {  # the input's size and mtime as they were before parsing
                "file": str(job.path.resolve()), "size": job.size, "mtime_ns": job.mtime_ns,
                "sha256": result["sha256"], "pipeline_version": self.version,
                "json_stat": list(size_and_mtime(json_path) or ()),
                **{name: result[name] for name in _STATE_FIELDS},
            }
        self.waiting.clear()
        self.state.maybe_save()

    def close(self) -> None:
        """At the end of the run, or when it is interrupted: what was stored is committed and
        published; if even that fails, nothing of the batch is (its temporary files go)."""
        try:
            self.flush()
        except BaseException:
            if self.store is not None:
                self.store.rollback_batch()
            for _job, _result, tmp in self.waiting:
                tmp.unlink(missing_ok=True)
            self.waiting.clear()
            raise

    def _begin(self) -> None:
        if self.opened is None:
            self.store.begin_batch()
            self.opened = time.perf_counter()


def _take_resolutions(tmp: Path, db, doc_id: str) -> None:
    """An unchanged document parsed again (`--force`, a new version of vanban that reads it
    the same): it owes the corpus step no relink, so its new JSON, which a worker wrote
    without resolutions, takes those of the index before it is published."""
    from ..corpus import link

    changes, count = link.resolutions(db, doc_id)
    if changes:
        text = tmp.read_bytes().decode("utf-8")
        tmp.write_bytes(link.with_resolutions(text, changes, count).encode("utf-8"))
