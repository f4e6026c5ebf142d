"""Run the stages over one document.

Each stage is a plain function `stage(doc)` that adds its part to the `Document` and never
rereads the file. A stage that raises leaves what earlier stages produced, records an error
with its name, and the document is marked `partial`; ingest failures mark it `failed`.
"""
from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from pathlib import Path

from .errors import IngestError
from .stages.ingest import PAGE_NOT_LOADED
from .model import Document, Issue, SourceInfo, SourceText, Span, Table
from .stages.normalize import normalize, page_spans
from .version import pipeline_version

Stage = Callable[[Document], None]


def _stages() -> list[tuple[str, Stage]]:
    # Imported here so `import pipeline` stays cheap (cold start of `vanban parse`).
    from .stages.assignments import extract_assignments
    from .stages.header import extract_header
    from .stages.measures import extract_measures
    from .stages.outline import extract_outline
    from .stages.references import extract_references

    return [
        ("header", extract_header),
        ("outline", extract_outline),
        ("references", extract_references),
        ("measures", extract_measures),
        ("assignments", extract_assignments),
    ]


MAX_HASH_BYTES = 256 * 2**20  # a failed file larger than this is not hashed


def failed_document(path: Path, reason: str, stage: str = "ingest") -> Document:
    """The record of a file that could not be read at all.

    Its hash is taken only from a regular file (a FIFO or a device is never opened) of a
    sane size; names that are not valid UTF-8 are shown with U+FFFD.
    """
    from .stages.ingest import display_path, file_problem

    sha, size = "", 0
    try:
        if file_problem(path) is None and os.stat(path).st_size <= MAX_HASH_BYTES:
            hasher = hashlib.sha256()
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode):
                    while block := os.read(fd, 1 << 20):
                        hasher.update(block)
                        size += len(block)
                    sha = hasher.hexdigest()
            finally:
                os.close(fd)
    except (OSError, ValueError):
        sha, size = "", 0
    info = SourceInfo(display_path(path), display_path(path.name), path.suffix.lower().lstrip("."), sha, size)
    doc = Document(id=display_path(path.stem), source=info, status="failed", pipeline_version=pipeline_version())
    doc.errors.append(Issue(stage, reason))
    return doc


def parse_source(source: SourceText, doc_id: str) -> Document:
    """Run normalize and every extraction stage over ingested text."""
    doc = Document(id=doc_id, source=source.info, pipeline_version=pipeline_version())
    for warning in source.warnings:
        doc.warn("ingest", warning)
    t0 = time.perf_counter()
    doc.text, doc.source_map = normalize(source)
    doc.pages = [Span(s, e, i + 1) for i, (s, e) in enumerate(page_spans(doc.text, doc.source_map))]
    doc.tables = [table_in_text(doc, rows) for rows in source.tables if rows]
    doc.timings["normalize"] = time.perf_counter() - t0
    doc.extra_layers = list(source.extra_layers)
    _report_lost_characters(doc)
    if any(w.endswith(PAGE_NOT_LOADED) for w in source.warnings):
        doc.status = "partial"  # a page of the file could not be read: its text is lost
    for name, stage in _stages():
        t0 = time.perf_counter()
        try:
            stage(doc)
        except MemoryError:
            raise  # the document as a whole fails at its memory limit (parse_file)
        except Exception as exc:  # isolate: keep what earlier stages produced
            doc.errors.append(Issue(name, f"{type(exc).__name__}: {exc}"))
            doc.status = "partial"
        doc.timings[name] = time.perf_counter() - t0
    return doc


LOST_POSITIONS_SHOWN = 5


def _report_lost_characters(doc: Document) -> None:
    """U+FFFD in the text means characters were lost (in the file itself, by a decoder or
    a repair): a warning with the count and the first offsets, and the document is `partial`."""
    text = doc.text
    count = text.count("\ufffd")
    if not count:
        return
    positions, at = [], -1
    while len(positions) < LOST_POSITIONS_SHOWN:
        at = text.find("\ufffd", at + 1)
        if at < 0:
            break
        positions.append(at)
    shown = ", ".join(map(str, positions)) + (", ..." if count > len(positions) else "")
    doc.warn("ingest", f"{count} lost character{'s' if count > 1 else ''} (U+FFFD) in the text, "
                       f"at offset{'s' if count > 1 else ''} {shown}", doc.span(positions[0], positions[0] + 1))
    doc.status = "partial"


def table_in_text(doc: Document, rows: list[list[tuple[int, int]]]) -> Table:
    """A table whose cells are source offsets, as spans of the normalized text."""
    smap = doc.source_map

    def span(start: int, end: int) -> Span:
        norm_start = smap.to_norm(start)
        # map the last character, not the end: the end may sit on a dropped line break
        norm_end = smap.to_norm(end - 1) + 1 if end > start else norm_start
        return doc.span(norm_start, max(norm_start, norm_end))

    cells = [[span(s, e) for s, e in row] for row in rows]
    spans = [c for row in cells for c in row]
    first = min((c.start for c in spans), default=0)
    last = max((c.end for c in spans), default=first)
    return Table(doc.span(first, last), cells)


def parse_file(path: str | Path) -> Document:
    """Ingest and parse one file. Never raises for a bad file: see `Document.errors`."""
    from .stages.ingest import ingest

    from .stages.ingest import display_path

    path = Path(path)
    t0 = time.perf_counter()
    try:
        source = ingest(path)
    except IngestError as exc:
        return failed_document(path, exc.reason)
    except MemoryError:
        return failed_document(path, memory_reason(), stage="limit")
    except Exception as exc:  # a reader bug: this file fails, never the caller
        return failed_document(path, f"unexpected error while reading: {type(exc).__name__}: {exc}")
    ingest_time = time.perf_counter() - t0
    try:
        doc = parse_source(source, display_path(path.stem))
    except MemoryError:
        return failed_document(path, memory_reason(), stage="limit")
    doc.timings = {"ingest": ingest_time, **doc.timings}
    return doc


def memory_reason() -> str:
    """Why a document failed with MemoryError: the worker's memory limit, when one is set."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        soft = -1
    if soft is not None and soft > 0 and soft != getattr(resource, "RLIM_INFINITY", -1):
        return f"out of memory: the document needs more than the worker's memory limit ({soft // 2**20} MB)"
    return "out of memory"
