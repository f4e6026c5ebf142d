"""A run's writes: each result into the store, its JSON published, many documents per store
transaction; `on_written` then records it (the state, the run report).

One store transaction per document made the writer the bottleneck of a run with several
workers: each commit writes every page it touched again. So a *batch* of documents is
written in one transaction (each inside a savepoint: a document that fails to store leaves
the others in), when it holds BATCH_DOCUMENTS documents or is BATCH_SECONDS old, and only
after the commit are the batch's temporary JSON files renamed into place. An output JSON
always means "in the store too": a run killed before the commit leaves the batch's
temporary files (removed by the next run) and none of its rows, and the next run redoes
exactly those documents.

Who writes: the driver, or, when the workers take every core, each local worker its own
results (pipeline/batch/local.py). SQLite has one writer at a time, so a batch waits in
memory until it is written: the store is locked only while a batch goes in, and a worker
that finds it locked parses on and tries again after its next document.
"""
from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..stages.emit import publish, write_temp
from .state import size_and_mtime

BATCH_DOCUMENTS = 64  # documents per store transaction at most
BATCH_SECONDS = 1.0  # and its age at most: a killed run redoes about this much work
MAX_WAITING = 4 * BATCH_DOCUMENTS  # results a worker holds while another writes the store
_temp_numbers = itertools.count()


class ResultWriter:
    """Writes results as they come (`add`), in batches (`flush`), and hands each written one to
    `on_written(key, result, json_stat)`: `json_stat` is the published JSON's (size, mtime), or
    None when the document failed and its outputs were removed.

    The driver writes with one (its `key` is the Job, and `on_written` records the document in
    the state and the run report); so does each local worker when the workers write the store
    (`key` is the document id, and `on_written` tells the driver, see pipeline/batch/local.py).
    A result waits in memory until its batch is written, so the store is only locked while a
    batch is written, not while it fills: several writers then take turns.
    """

    def __init__(self, out: Path, store=None, on_written: Callable[[Any, dict[str, Any], tuple | None], None]
                 = lambda key, result, json_stat: None):
        self.out, self.store, self.on_written = out, store, on_written
        self.waiting: list[tuple[Any, dict[str, Any], Path | None]] = []  # not yet written, oldest first
        self.opened: float | None = None  # when the oldest waiting result came

    def add(self, key: Any, result: dict[str, Any], wait: bool = True) -> None:
        """Take one result; write the batch once it holds BATCH_DOCUMENTS results or is
        BATCH_SECONDS old. With `wait=False` a batch that finds the store busy waits for
        the next call (up to MAX_WAITING results)."""
        tmp = Path(result["json_tmp"]) if result.get("json_tmp") else None  # written by the worker
        if tmp is None and result["json"] is not None:  # a Dask worker sends the text instead
            tmp = write_temp(self.out, f"{result['id']}.{os.getpid()}.d{next(_temp_numbers)}",
                             result["json"].encode("utf-8"))
        self.waiting.append((key, result, tmp))
        if self.opened is None:
            self.opened = time.perf_counter()
        if self.store is None or len(self.waiting) >= BATCH_DOCUMENTS:
            self.flush(wait=wait or len(self.waiting) >= MAX_WAITING)
        else:
            self.tick(wait)

    def seconds_left(self) -> float | None:
        """How long until the waiting batch is due (None: nothing waits)."""
        if self.opened is None:
            return None
        return max(0.0, self.opened + BATCH_SECONDS - time.perf_counter())

    def tick(self, wait: bool = True) -> None:
        """Write the batch once it is BATCH_SECONDS old (also called while no result comes)."""
        if self.opened is not None and time.perf_counter() - self.opened >= BATCH_SECONDS:
            self.flush(wait)

    def flush(self, wait: bool = True) -> bool:
        """Store the waiting results in one transaction, commit, then publish their JSON files
        and hand them to `on_written`. False, with nothing done, if `wait` is False and another
        process is writing the store."""
        if not self.waiting:
            return True
        if self.store is not None:
            if not self.store.begin_batch(wait=wait):
                return False
            try:
                written = [(key, *self._store(result, tmp)) for key, result, tmp in self.waiting]
                self.store.commit_batch()
            except BaseException:
                self.store.rollback_batch()
                raise
        else:
            written = list(self.waiting)
        self.waiting.clear()
        self.opened = None
        for key, result, tmp in written:  # committed: now the JSONs may say so
            doc_id = result["id"]
            json_path = self.out / f"{doc_id}.json"
            if tmp is not None:
                publish(tmp, json_path)
                self.on_written(key, result, size_and_mtime(json_path))
            else:  # failed: no output, and no stale output from an older version either
                json_path.unlink(missing_ok=True)
                self.on_written(key, result, None)
        return True

    def _store(self, result: dict[str, Any], tmp: Path | None) -> tuple[dict[str, Any], Path | None]:
        """One result into the open batch (its own savepoint): its rows, or, failed, the removal
        of its old ones. A result the store refuses turns `failed` at stage `store`."""
        doc_id = result["id"]
        if tmp is None:
            self.store.delete_document(doc_id)
            return result, None
        try:  # the store first: an output JSON always means "in the store too"
            rows = result.get("rows")
            if rows is None:  # a worker without the store's code: made here
                from ..corpus.store import document_rows

                rows = document_rows(json.loads(tmp.read_bytes()), lite=self.store.lite)
            if not self.store.upsert_rows(rows):
                _take_resolutions(tmp, self.store.db, doc_id)
            return result, tmp
        except Exception as exc:
            tmp.unlink(missing_ok=True)
            self.store.delete_document(doc_id)
            return {**result, "status": "failed", "json": None, "json_tmp": None,
                    "errors": [{"stage": "store", "message": f"{type(exc).__name__}: {exc}"},
                               *result["errors"]]}, None

    def close(self) -> None:
        """At the end of the run, or when it is interrupted: what waits is written; if even
        that fails, nothing of the batch is (its temporary files go)."""
        try:
            self.flush()
        except BaseException:
            for _key, _result, tmp in self.waiting:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
            self.waiting.clear()
            raise


def _take_resolutions(tmp: Path, db, doc_id: str) -> None:
    """An unchanged document parsed again (`--force`, a new version of vanban that reads it
    the same): it owes the corpus step no relink, so its new JSON, which a worker wrote
    without resolutions, takes those of the index before it is published."""
    from ..corpus import link

    changes, count = link.resolutions(db, doc_id)
    if changes:
        text = tmp.read_bytes().decode("utf-8")
        tmp.write_bytes(link.with_resolutions(text, changes, count).encode("utf-8"))
