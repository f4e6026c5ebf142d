"""What the run knows from before: OUT/.vanban-state.json, a cache of what each output JSON was
made from, and whether a document is unchanged since."""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..stages.emit import write_atomic
from ..version import pipeline_version

if TYPE_CHECKING:
    from .jobs import Job

STATE_NAME = ".vanban-state.json"
STATE_SAVE_INTERVAL = 2.0  # seconds between manifest saves during a run


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class State:
    """OUT/.vanban-state.json: what each output JSON was made from (a cache, never the truth).

    Entry per id: file, size, mtime_ns (of the input), sha256, pipeline_version, the
    document's counts, and the size/mtime of the JSON it describes. An entry is trusted
    only while the JSON on disk still has that size and mtime; otherwise the JSON is read.
    """

    def __init__(self, out: Path):
        self.path = out / STATE_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self.saved_at = time.perf_counter()
        self.save_seconds = 0.0  # how long the last save took
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == 1:
                self.entries = data.get("documents", {})
        except (OSError, ValueError, AttributeError):
            pass

    def save(self) -> None:
        t0 = time.perf_counter()
        # ASCII escapes: a file name that is not UTF-8 (lone surrogates) round-trips exactly
        write_atomic(self.path, json.dumps({"version": 1, "documents": self.entries}) + "\n")
        self.saved_at = time.perf_counter()
        self.save_seconds = self.saved_at - t0

    def maybe_save(self) -> None:
        # The whole manifest is rewritten each time: on a big corpus, save less often so
        # saving stays under 2 % of the run (it is only a cache; the JSONs are the truth).
        if time.perf_counter() - self.saved_at > max(STATE_SAVE_INTERVAL, 50 * self.save_seconds):
            self.save()


def size_and_mtime(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


_RESULT_FIELDS = ("status", "format", "pages", "references", "assignments", "directive_lines",
                  "unassigned_lines", "errors", "warnings", "text_bytes")  # a worker's result's, as `_counts` reads a JSON


def written_entry(job: Job, result: dict[str, Any], json_stat: tuple[int, int]) -> dict[str, Any]:
    """The entry of a document just written (pipeline/batch/writer.py): the input's size and
    mtime as they were before parsing, what the worker's result says, the JSON's own stat."""
    return {"file": str(job.path.resolve()), "size": job.size, "mtime_ns": job.mtime_ns,
            "sha256": result["sha256"], "pipeline_version": pipeline_version(), "json_stat": list(json_stat),
            **{name: result[name] for name in _RESULT_FIELDS}}


def _counts(doc: dict) -> dict[str, Any]:
    return {
        "status": doc.get("status"),
        "format": doc.get("source", {}).get("format"),
        "pages": len(doc.get("pages") or []),
        "references": len(doc.get("references") or []),
        "assignments": len(doc.get("assignments") or []),
        "directive_lines": (doc.get("coverage") or {}).get("directive_sentences", 0),
        "unassigned_lines": len((doc.get("coverage") or {}).get("unassigned") or []),
        "errors": [{"stage": e.get("stage"), "message": e.get("message")} for e in doc.get("errors") or []],
        "warnings": len(doc.get("warnings") or []),
        "text_bytes": len((doc.get("text") or "").encode("utf-8")),
    }


def unchanged_entry(job: Job, out: Path, state: State) -> dict[str, Any] | None:
    """The state entry of `job` when its output is up to date, else None."""
    json_path = out / f"{job.id}.json"
    json_stat = size_and_mtime(json_path)
    if json_stat is None:
        return None
    from ..stages.ingest import file_problem

    if file_problem(job.path) is not None:  # gone, a dangling link, a FIFO: the worker says why
        return None
    st = job.path.stat()
    entry = state.entries.get(job.id)
    fresh = entry is not None and tuple(entry.get("json_stat") or ()) == json_stat
    if fresh and entry.get("file") == str(job.path.resolve()) and (entry["size"], entry["mtime_ns"]) == (st.st_size, st.st_mtime_ns):
        sha = entry["sha256"]  # input untouched since it was hashed: no need to reread it
    else:
        sha = sha256_file(job.path)
    if not fresh:
        try:
            doc = json.loads(json_path.read_text(encoding="utf-8"))
            entry = {"sha256": doc["source"]["sha256"], "pipeline_version": doc["pipeline_version"], **_counts(doc)}
        except (OSError, ValueError, KeyError, TypeError):
            return None
    if entry.get("sha256") != sha or entry.get("pipeline_version") != pipeline_version():
        return None
    entry.update(file=str(job.path.resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns, json_stat=list(json_stat))
    state.entries[job.id] = entry
    return entry
