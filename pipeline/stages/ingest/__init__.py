"""Stage 1, ingest: bytes to text.

Requires: a file path. Adds: a `SourceText` (pipeline/model.py) — the text, page start offsets,
table cells as offsets, text found outside the page content (`extra_layers`), warnings and
`SourceInfo` (name, format, sha256, size) — from which pipeline/parse.py starts the Document.

`ingest(path)` checks the file, reads it with a size cap, hands the bytes to the reader of its
suffix and returns NFC text. A file that cannot be turned into trustworthy text raises
`IngestError(path, reason)`, where `reason` is one line a user can act on.

The readers, one module each:
- txt.py: `.txt` in UTF-8/16/32 or CP1258; legacy TCVN3/VNI fonts converted (viparse),
  mojibake repaired (ftfy); tables typed with bars or tabs. Over `MAX_TEXT_BYTES` (20 MB)
  a text file is refused: no real administrative document is that large.
- pdf.py: `.pdf` page text with pypdfium2, refused as "needs OCR" without a readable text
  layer; signature stamps to `extra_layers`; assignment tables through pdfplumber.
- docx.py: `.docx` body in document order with tables, numbering and footnotes; its lines
  are real paragraphs (`hard_wrapped=False`): normalize does not re-join them.
- doc.py: `.doc` converted to .docx by LibreOffice when it is installed, else refused.

Hostile input (checks.py): the file is checked before it is opened (`file_problem`: links that
dangle or loop, FIFOs and devices are never opened) and read with a size cap; a DOCX's parts are
capped on the ZIP directory's sizes and again while they inflate (zip bombs), a PDF's pages are
capped (limits: the constants of checks.py, overridden by VANBAN_MAX_* variables, README
"Limits"). The text handed on is valid Unicode (`valid_unicode`).

The heavy libraries are imported inside the readers, so `import pipeline` stays cheap.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText
from .checks import MAX_TEXT_BYTES, display_path, file_problem, limit, read_capped, valid_unicode
from .doc import read_doc, soffice_path
from .docx import read_docx
from .pdf import PAGE_NOT_LOADED, pdf_page_may_hold_table, read_pdf
from .txt import read_txt


def ingest(path: Path) -> SourceText:
    """Read one .txt/.pdf/.docx/.doc file into NFC text. Raises IngestError.

    The text returned is valid Unicode (no lone surrogates): a character that cannot be
    encoded is replaced by U+FFFD and counted in a warning (see `valid_unicode`).
    """
    path = Path(path)
    where = display_path(path)
    problem = file_problem(path)
    if problem is not None:
        raise IngestError(where, problem)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise IngestError(
            where,
            f"unsupported file type '{display_path(path.suffix) or '(none)'}': expected .txt, .pdf, .docx or .doc",
        )
    size = os.stat(path).st_size
    if size == 0:
        raise IngestError(where, "empty file")
    text_cap = int(limit("MAX_TEXT_BYTES"))
    if reader is read_txt and size > text_cap:
        raise IngestError(
            where, f"text file too large ({size / 2**20:.0f} MB > {text_cap / 2**20:.0f} MB limit)"
        )
    file_cap = int(limit("MAX_FILE_MB") * 2**20)
    if size > file_cap:
        raise IngestError(where, f"file too large ({size / 2**20:.0f} MB > {file_cap / 2**20:.0f} MB limit)")
    data = read_capped(path, where, text_cap if reader is read_txt else file_cap)
    if not data:
        raise IngestError(where, "empty file")
    info = SourceInfo(
        path=where,
        file_name=display_path(path.name),
        format=path.suffix.lower().lstrip("."),
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )
    source = reader(path, data, info)
    return valid_unicode(source)


# The reader of each file suffix.
READERS = {".txt": read_txt, ".pdf": read_pdf, ".docx": read_docx, ".doc": read_doc}

__all__ = ["ingest", "display_path", "file_problem", "limit", "valid_unicode", "soffice_path",
           "PAGE_NOT_LOADED", "pdf_page_may_hold_table", "MAX_TEXT_BYTES", "READERS"]
