"""Run the stages over one document.

Each stage is a plain function `stage(doc)` that adds its part to the `Document` and never
rereads the file. A stage that raises leaves what earlier stages produced, records an error
with its name, and the document is marked `partial`; ingest failures mark it `failed`.
"""
from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from .errors import IngestError
from .model import Document, Issue, SourceInfo, SourceText, Span, Table
from .normalize import normalize, page_spans
from .version import pipeline_version

Stage = Callable[[Document], None]


def _stages() -> list[tuple[str, Stage]]:
    # Imported here so `import pipeline` stays cheap (cold start of `vanban parse`).
    from .assignments import extract_assignments
    from .header import extract_header
    from .measures import extract_measures
    from .outline import extract_outline
    from .references import extract_references

    return [
        ("header", extract_header),
        ("outline", extract_outline),
        ("references", extract_references),
        ("measures", extract_measures),
        ("assignments", extract_assignments),
    ]


def failed_document(path: Path, reason: str, stage: str = "ingest") -> Document:
    """The record of a file that could not be read at all."""
    try:
        data = path.read_bytes()
        sha, size = hashlib.sha256(data).hexdigest(), len(data)
    except OSError:
        sha, size = "", 0
    info = SourceInfo(str(path), path.name, path.suffix.lower().lstrip("."), sha, size)
    doc = Document(id=path.stem, source=info, status="failed", pipeline_version=pipeline_version())
    doc.errors.append(Issue(stage, reason))
    return doc


def parse_source(source: SourceText, doc_id: str) -> Document:
    """Run normalize and every extraction stage over ingested text."""
    doc = Document(id=doc_id, source=source.info, pipeline_version=pipeline_version())
    for w in source.warnings:
        doc.warn("ingest", w)
    t0 = time.perf_counter()
    doc.text, doc.source_map = normalize(source)
    doc.pages = [Span(s, e, i + 1) for i, (s, e) in enumerate(page_spans(doc.text, doc.source_map))]
    doc.tables = [table_in_text(doc, rows) for rows in source.tables if rows]
    doc.timings["normalize"] = time.perf_counter() - t0
    doc.extra_layers = list(source.extra_layers)
    for name, stage in _stages():
        t0 = time.perf_counter()
        try:
            stage(doc)
        except Exception as exc:  # isolate: keep what earlier stages produced
            doc.errors.append(Issue(name, f"{type(exc).__name__}: {exc}"))
            doc.status = "partial"
        doc.timings[name] = time.perf_counter() - t0
    return doc


def table_in_text(doc: Document, rows: list[list[tuple[int, int]]]) -> Table:
    """A table whose cells are source offsets, as spans of the normalized text."""
    smap = doc.source_map

    def span(start: int, end: int) -> Span:
        s = smap.to_norm(start)
        # map the last character, not the end: the end may sit on a dropped line break
        e = smap.to_norm(end - 1) + 1 if end > start else s
        return doc.span(s, max(s, e))

    cells = [[span(s, e) for s, e in row] for row in rows]
    spans = [c for row in cells for c in row]
    first = min((c.start for c in spans), default=0)
    last = max((c.end for c in spans), default=first)
    return Table(doc.span(first, last), cells)


def parse_file(path: str | Path) -> Document:
    """Ingest and parse one file. Never raises for a bad file: see `Document.errors`."""
    from .ingest import ingest

    path = Path(path)
    t0 = time.perf_counter()
    try:
        source = ingest(path)
    except IngestError as exc:
        return failed_document(path, exc.reason)
    ingest_time = time.perf_counter() - t0
    doc = parse_source(source, path.stem)
    doc.timings = {"ingest": ingest_time, **doc.timings}
    return doc
