"""The task of one document, the same in a local worker process and on a Dask worker: parse
the file, serialise its JSON, count what the driver reports. Never raises."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .jobs import Job


def parse_document(path: Path):
    """The parse step of a worker (tests replace it to simulate a hanging stage)."""
    from ..parse import parse_file

    return parse_file(path)


def process_one(path: str, doc_id: str, rows: str | None, source_path: str | None = None) -> dict[str, Any]:
    """Parse one file and return what the driver needs: the JSON text, counts, timings.

    Runs in a worker process (local pool or Dask). `rows` ("full" or "lite", the kind of
    the run's store; None without one) adds the document's store rows
    (`pipeline.corpus.store.document_rows`), made here so that whoever writes the store
    only inserts them; `source_path` overrides `source.path` when the worker parses a
    copy of the file (Dask ships bytes, so no shared file system is needed). The local
    workers then swap the text for a temporary file (`json_tmp`, see `_worker_loop`).
    Never raises: whatever goes wrong becomes a failed result naming the stage.
    """
    from ..parse import failed_document, memory_reason

    t0 = time.perf_counter()
    stage = "internal"
    try:
        try:
            doc = parse_document(Path(path))
        except MemoryError:
            doc = failed_document(Path(path), memory_reason(), stage="limit")
        except Exception as exc:  # parse_file should not raise; if it does, isolate it here
            doc = failed_document(Path(path), f"{type(exc).__name__}: {exc}", stage="internal")
        stage = "output"  # serialising and counting: a failure here is reported, not a dead worker
        return _result(doc, doc_id, rows, source_path, t0)
    except MemoryError:
        return failed_result(doc_id, Path(path).suffix, "limit", memory_reason(), time.perf_counter() - t0)
    except Exception as exc:
        return failed_result(doc_id, Path(path).suffix, stage, f"{type(exc).__name__}: {exc}",
                              time.perf_counter() - t0)


def _result(doc, doc_id: str, rows: str | None, source_path: str | None, t0: float) -> dict[str, Any]:
    import resource

    from ..stages.emit import dumps, output_dict

    doc.id = doc_id
    if source_path is not None:
        doc.source.path = source_path
    data = output_dict(doc)  # the stage timings go to the run report, not into the JSON
    ok = doc.status != "failed"
    return {
        "id": doc_id,
        "status": doc.status,
        "format": doc.source.format,
        "sha256": doc.source.sha256,
        "errors": [{"stage": e.stage, "message": e.message} for e in doc.errors],
        "warnings": len(doc.warnings),
        # why a document without errors is partial: characters lost in its text (U+FFFD)
        "lost": next((w.message for w in doc.warnings if w.stage == "ingest" and (
            "(U+FFFD) in the text" in w.message or "(corrupt or truncated PDF): its text is missing" in w.message)),
            None),
        "pages": len(doc.pages),
        "references": len(doc.references),
        "assignments": len(doc.assignments),
        # directive-looking lines and those that yielded no assignment (Document.coverage)
        "directive_lines": doc.coverage.directive_sentences,
        "unassigned_lines": len(doc.coverage.unassigned),
        "text_bytes": len(doc.text.encode("utf-8")),
        "timings": dict(doc.timings),
        "json": dumps(data, pretty=False) + "\n" if ok else None,
        "json_tmp": None,
        "rows": _store_rows(data, rows == "lite") if ok and rows else None,
        "seconds": time.perf_counter() - t0,
        "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "pid": os.getpid(),
    }


def _store_rows(data: dict[str, Any], lite: bool):
    try:
        from ..corpus.store import document_rows
    except ImportError:  # the driver says why it has no store
        return None
    return document_rows(data, lite=lite)


def process_bytes(file_name: str, data: bytes, doc_id: str, rows: str | None, source_path: str) -> dict[str, Any]:
    """Dask task: write the shipped bytes to a private temporary file and parse it."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vanban-") as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(data)
        return process_one(str(path), doc_id, rows, source_path=source_path)


def unanswered_result(job: Job, stage: str, reason: str, seconds: float) -> dict[str, Any]:
    """A result for a document whose worker never answered (timeout, crash)."""
    return failed_result(job.id, job.path.suffix, stage, reason, seconds)


def failed_result(doc_id: str, suffix: str, stage: str, reason: str, seconds: float) -> dict[str, Any]:
    return {
        "id": doc_id, "status": "failed", "format": suffix.lower().lstrip("."), "sha256": None,
        "errors": [{"stage": stage, "message": reason}], "warnings": 0, "pages": 0, "references": 0,
        "assignments": 0, "text_bytes": 0, "timings": {}, "json": None, "json_tmp": None, "rows": None,
        "seconds": seconds, "rss_kb": None, "pid": None,
    }


WORKER_MEMORY_MB = 2048  # address-space limit of a local worker (VANBAN_WORKER_MEMORY_MB, --memory-mb; 0 = none)


def worker_memory_mb() -> int:
    """The memory limit of a worker in MB (0: none): VANBAN_WORKER_MEMORY_MB or the default."""
    try:
        return max(0, int(float(os.environ.get("VANBAN_WORKER_MEMORY_MB", WORKER_MEMORY_MB))))
    except ValueError:
        return WORKER_MEMORY_MB


def limit_worker_memory() -> None:
    """Cap this (worker) process's address space, so one document can never take the
    machine: past it an allocation fails with MemoryError (the document fails at stage
    `limit`) instead of the kernel killing processes."""
    mb = worker_memory_mb()
    try:
        import resource
    except ImportError:  # not POSIX
        return
    if not mb or not hasattr(resource, "RLIMIT_AS"):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = mb * 2**20
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):
        pass
