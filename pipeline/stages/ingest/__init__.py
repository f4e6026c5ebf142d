"""Stage 1, ingest: bytes to text.

`ingest(path)` reads one file and returns a `SourceText`: NFC text, page start offsets
(PDF), text found outside the page content (`extra_layers`), and warnings. A file that
cannot be turned into trustworthy text raises `IngestError(path, reason)`, where `reason`
is one line a user can act on.

Formats:
- `.txt`: UTF-8 (with or without BOM), UTF-16/UTF-32 with a BOM, UTF-16 without a BOM
  when the NUL pattern says so, CP1258. Text typed in legacy TCVN3/VNI fonts is detected
  (viparse) and converted; UTF-8 that was once read as cp1252/latin-1 (mojibake) is
  repaired (ftfy). A text file over `MAX_TEXT_BYTES` (20 MB) is refused: no real
  administrative document is that large, and it would hold the batch up.
- `.pdf`: page text with pypdfium2. A PDF with no text layer, or whose text layer is
  mostly unmapped glyphs (fonts without a Unicode map), is refused as "needs OCR".
  Text that signed PDFs stamp into signature fields (the issued number and day) goes to
  `extra_layers`, as the header line it completes ("Số: 3686/UBND-XD"). On a page whose
  text shows an assignment table header (gate in rules/ingest.yaml), pdfplumber finds the
  table's cells from its ruling lines; each cell's text is found in the page text and its
  offsets go to `SourceText.tables` (a cell's visual line breaks become spaces there).
- `.docx`: word/document.xml read with lxml (python-docx opens irregular packages and
  lays out table grids), body in document order; tables row by row, each cell's
  paragraphs on their own lines (a merged cell once), and each cell's offsets in
  `SourceText.tables`; automatic numbering made visible; footnotes appended. Its lines
  are real paragraphs (`hard_wrapped=False`): normalize does not re-join them.
- `.doc`: converted to .docx by LibreOffice when it is installed, else refused.

Hostile input: the file is checked before it is opened (`file_problem`: links that dangle or
loop, FIFOs and devices are never opened) and read with a size cap; a DOCX's parts are capped
on the ZIP directory's sizes and again while they inflate (zip bombs), a PDF's pages are
capped (limits: the constants below, overridden by VANBAN_MAX_* variables, README "Limits").
The text handed on is valid Unicode (`valid_unicode`).

The heavy libraries are imported inside the readers, so `import pipeline` stays cheap.
"""
from __future__ import annotations

import bisect
import contextlib
import errno
import hashlib
import os
import posixpath
import re
import shutil
import stat
import subprocess
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText

MAX_TEXT_BYTES = 20 * 1024 * 1024  # larger .txt files are refused
# Resource limits per document (README, "Limits"). Each can be overridden through the
# environment variable next to it; `vanban run --max-...` sets them for its workers.
MAX_FILE_MB = 256  # any input file: bytes read from disk
MAX_DOCX_PART_MB = 64  # one unpacked part (word/document.xml, styles, an image) of a DOCX
MAX_DOCX_TOTAL_MB = 256  # all unpacked parts of a DOCX together
MAX_DOCX_PARTS = 10_000  # entries in a DOCX package
MAX_PDF_PAGES = 2_000
_LIMIT_ENV = {
    "MAX_TEXT_BYTES": "VANBAN_MAX_TEXT_MB",
    "MAX_FILE_MB": "VANBAN_MAX_FILE_MB",
    "MAX_DOCX_PART_MB": "VANBAN_MAX_DOCX_PART_MB",
    "MAX_DOCX_TOTAL_MB": "VANBAN_MAX_DOCX_MB",
    "MAX_DOCX_PARTS": "VANBAN_MAX_DOCX_PARTS",
    "MAX_PDF_PAGES": "VANBAN_MAX_PDF_PAGES",
}
SOFFICE_TIMEOUT_S = 120  # LibreOffice .doc -> .docx conversion
# A PDF whose text layer has at least this share of unreadable characters is refused.
UNREADABLE_SHARE_REFUSE = 0.10
# A page of an otherwise readable PDF with this share gets a warning.
UNREADABLE_SHARE_WARN = 0.20
# Fewer non-space characters per page than this (on average) means "scanned, no text".
MIN_CHARS_PER_PAGE = 20
# Characters sampled per PDF page to ask pdfium whether their Unicode map is broken.
_MAP_SAMPLE = 64

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
_PDF_MAGIC = b"%PDF-"
_RTF_MAGIC = b"{\\rtf"


def limit(name: str) -> float:
    """The limit `name` (a module constant above), overridden by its environment variable."""
    value = globals()[name]
    env = os.environ.get(_LIMIT_ENV[name])
    if env:
        try:
            parsed = float(env)
        except ValueError:
            return value
        if parsed > 0:
            return parsed * 2**20 if name == "MAX_TEXT_BYTES" else parsed
    return value


def display_path(path: str | os.PathLike) -> str:
    """`path` as text that is valid Unicode: bytes of a file name that are not UTF-8
    (kept by Python as lone surrogates) are shown as U+FFFD."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    if not _SURROGATES.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)


def file_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be read as a document file, or None when it is a regular file.

    Never opens the file: a FIFO or a device could block or never end. Symbolic links are
    followed; a dangling one, a loop, a file that vanished and one that cannot be reached
    each get their own reason.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            return "dangling symbolic link: its target does not exist"
        return "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: the link never reaches a file"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "cannot read file: permission denied"
        if exc.errno == errno.ENAMETOOLONG:
            return "file name too long"
        return f"cannot read file: {exc.strerror or exc}"
    except ValueError as exc:  # a NUL byte in the name
        return f"invalid file name ({exc})"
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a file (pass the files inside it)"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({_file_kind(mode)}): skipped, never opened"
    return None


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def _read_capped(path, where: str, cap: int) -> bytes:
    """The file's bytes. Opened without blocking (a file swapped for a FIFO after the check
    is caught by fstat), and never more than `cap` bytes read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IngestError(where, file_problem(path) or f"cannot read file: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IngestError(where, f"not a regular file ({_file_kind(st.st_mode)}): skipped, never opened")
        chunks, total = [], 0
        while True:
            try:
                block = os.read(fd, min(1 << 22, cap + 1 - total))
            except OSError as exc:
                raise IngestError(where, f"cannot read file: {exc.strerror or exc}") from exc
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > cap:
                raise IngestError(where, f"file too large (more than {cap / 2**20:.0f} MB limit)")
        return b"".join(chunks)
    finally:
        os.close(fd)


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
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise IngestError(
            where,
            f"unsupported file type '{display_path(path.suffix) or '(none)'}': expected .txt, .pdf, .docx or .doc",
        )
    size = os.stat(path).st_size
    if size == 0:
        raise IngestError(where, "empty file")
    text_cap = int(limit("MAX_TEXT_BYTES"))
    if reader is _read_txt and size > text_cap:
        raise IngestError(
            where, f"text file too large ({size / 2**20:.0f} MB > {text_cap / 2**20:.0f} MB limit)"
        )
    file_cap = int(limit("MAX_FILE_MB") * 2**20)
    if size > file_cap:
        raise IngestError(where, f"file too large ({size / 2**20:.0f} MB > {file_cap / 2**20:.0f} MB limit)")
    data = _read_capped(path, where, text_cap if reader is _read_txt else file_cap)
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


# Code points a UTF-8 encoder refuses: lone surrogates (a PDF text layer can hold them).
_SURROGATES = re.compile("[\ud800-\udfff]")


def valid_unicode(source: SourceText) -> SourceText:
    """Replace the code points UTF-8 cannot encode by U+FFFD, one for one (offsets keep).

    Ingest's text then serialises everywhere; the replacements are counted as lost
    characters (parse marks a document holding U+FFFD `partial`).
    """
    count = 0

    def clean(text: str) -> str:
        nonlocal count
        if not _SURROGATES.search(text):
            return text
        new, n = _SURROGATES.subn("\ufffd", text)
        count += n
        return new

    source.text = clean(source.text)
    source.extra_layers = [clean(t) for t in source.extra_layers]
    source.warnings = [_SURROGATES.sub("\ufffd", w) for w in source.warnings]
    if count:
        source.warnings.append(
            f"{count} character{'s' if count > 1 else ''} that cannot be encoded (unpaired surrogates) "
            "replaced by U+FFFD"
        )
    return source


# ---------------------------------------------------------------------------------------
# TXT

_BOMS = [  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (b"\xff\xfe\x00\x00", "utf-32-le", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32-be", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8", "utf-8-sig"),
    (b"\xff\xfe", "utf-16-le", "utf-16"),
    (b"\xfe\xff", "utf-16-be", "utf-16"),
]
# Control characters that never occur in a text document (tab, LF, VT, FF, CR do).
_BINARY_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# Vietnamese letters that exist only in Unicode (ă đ ơ ư and the U+1EA0.. block). Text in
# a legacy TCVN3/VNI font shows Latin-1 look-alikes instead and almost none of these.
_UNICODE_VIET = re.compile(r"[\u0102\u0103\u0110\u0111\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]")
_LATIN1_HIGH = re.compile(r"[\u00a0-\u00ff]")
# UTF-8 read as cp1252/latin-1: a lead byte shown as Â..Æ or á followed by a character
# that a continuation byte 0x80..0xBF turns into. Only a gate: ftfy.badness decides.
_MOJIBAKE_HINT = re.compile(
    "[\u00c2-\u00c6\u00e1][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_LEGACY_NAMES = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI", "viscii": "VISCII", "vps": "VPS"}


def _read_txt(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    where = str(path)
    warnings: list[str] = []
    text, encoding = _decode_bytes(where, data)
    if _BINARY_CONTROLS.search(text):
        controls = len(_BINARY_CONTROLS.findall(text))
        if controls > max(2, len(text) // 1000):
            raise IngestError(where, "binary data, not a text document (control characters)")
    if encoding in ("utf-8", "utf-8-sig", "utf-16", "utf-32") and _MOJIBAKE_HINT.search(text):
        import ftfy
        from ftfy.badness import is_bad

        if is_bad(text):
            fixed = ftfy.fix_encoding(text)
            if fixed != text:
                text, encoding = fixed, f"{encoding}+mojibake"
                warnings.append("repaired mojibake: UTF-8 that had been read as cp1252/latin-1")
                lost = text.count("\ufffd")
                if lost:
                    warnings.append(
                        f"mojibake repair could not restore {lost} character{'s' if lost > 1 else ''}: "
                        "their bytes were lost (U+FFFD) when the UTF-8 text was once decoded as cp1252"
                    )
    legacy = _legacy_font_encoding(text)
    if legacy:
        import viparse

        # fix() also collapses space runs and strips line edges, so only on legacy text.
        text = viparse.fix(text, encoding=legacy)
        warnings.append(f"converted from the legacy {_LEGACY_NAMES.get(legacy, legacy)} encoding")
        encoding = legacy if encoding in ("cp1252", "utf-8") else f"{encoding}+{legacy}"
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise IngestError(where, "empty file (only white space)")
    info.encoding = encoding
    return SourceText(text=text, info=info, warnings=warnings, tables=text_tables(text))


_TABLE_RULE = re.compile(r"^[\s|:+\-=]*$")  # "|---|:---:|" between a header and its rows


def text_tables(text: str) -> list[list[list[tuple[int, int]]]]:
    """Tables typed in plain text: a run of two or more lines that split into the same number of
    cells (at least two) on "|" or on tabs ("STT | Nội dung | Cơ quan chủ trì | Thời gian").
    Each cell is the (start, end) of its text, blanks trimmed; rule lines ("|---|---|") are
    skipped. What the tables mean is the later stages' business."""
    tables: list[list[list[tuple[int, int]]]] = []
    run: list[list[tuple[int, int]]] = []
    pos = 0
    for line in text.split("\n"):
        cells = _text_row(line, pos) if not _TABLE_RULE.match(line) or "|" not in line else None
        if cells is not None and (not run or len(cells) == len(run[0])):
            run.append(cells)
        elif not (_TABLE_RULE.match(line) and "|" in line and run):
            if len(run) >= 2:
                tables.append(run)
            run = [cells] if cells is not None else []
        pos += len(line) + 1
    if len(run) >= 2:
        tables.append(run)
    return tables


def _text_row(line: str, pos: int) -> list[tuple[int, int]] | None:
    """The cells of one typed table row, or None when the line is no row."""
    sep = "|" if line.count("|") >= 1 else "\t" if line.count("\t") >= 1 else None
    if sep is None:
        return None
    cells, start = [], 0
    parts = line.split(sep)
    if sep == "|" and not parts[0].strip():
        start, parts = len(parts[0]) + 1, parts[1:]  # "| a | b |": no cell before the first bar
    if sep == "|" and parts and not parts[-1].strip():
        parts = parts[:-1]
    for part in parts:
        lead = len(part) - len(part.lstrip())
        cells.append((pos + start + lead, pos + start + len(part.rstrip())))
        start += len(part) + 1
    return cells if len(cells) >= 2 else None


def _decode_bytes(where: str, data: bytes) -> tuple[str, str]:
    """Decoded text and the encoding's name."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec), name
            except UnicodeDecodeError as exc:
                raise IngestError(where, f"invalid {name} text (byte {exc.start})") from exc
    if b"\x00" in data:
        utf16 = _bomless_utf16(data)
        if utf16 is not None:
            return utf16
        raise IngestError(where, "binary data, not a text document (NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: legacy 8-bit text. TCVN3/VNI bytes read as cp1252 show the look-alike
    # characters viparse knows; anything else is tried as the Vietnamese Windows code page.
    as_1252 = _decode_cp1252_lenient(data)
    if _legacy_font_encoding(as_1252):
        return as_1252, "cp1252"  # the caller converts it and records the legacy name
    try:
        return data.decode("cp1258"), "cp1258"
    except UnicodeDecodeError as exc:
        raise IngestError(
            where, f"cannot decode the text (not UTF-8, UTF-16 or CP1258; byte {exc.start}): save it as UTF-8"
        ) from exc


def _bomless_utf16(data: bytes) -> tuple[str, str] | None:
    """UTF-16 without a BOM: NULs sit on one parity for ASCII-heavy text."""
    if len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    half = len(data) // 2
    for nuls, codec in ((odd, "utf-16-le"), (even, "utf-16-be")):
        if nuls > 0.3 * half and min(even, odd) < 0.02 * half:
            try:
                return data.decode(codec), "utf-16"
            except UnicodeDecodeError:
                return None
    return None


def _decode_cp1252_lenient(data: bytes) -> str:
    # cp1252 leaves five bytes undefined; latin-1 then maps every byte one to one.
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# The letters of _LATIN1_HIGH and _UNICODE_VIET by the lead byte of their UTF-8 form: in
# UTF-8 a lead byte starts one whole character, so bytes.count counts characters. Exact when
# no other character shares those lead bytes (C1 controls; the rest of U+0100..U+013F but
# Ĩ ĩ, which are counted apart; U+0180..U+01BF and U+1E80..U+1EFF), which one search rules out.
_SHARES_LEAD_BYTES = re.compile(
    "[\x80-\x9f\u0100\u0101\u0104-\u010f\u0112-\u0127\u012a-\u013f\u0180-\u019f\u01a2-\u01ae"
    "\u01b1-\u01bf\u1e80-\u1e9f\u1efa-\u1eff]")


def _letter_counts(sample: str) -> tuple[int, int]:
    """(Latin-1 letters, letters only Unicode has) in `sample`, as _LATIN1_HIGH and
    _UNICODE_VIET count them. findall made a string of each of a Vietnamese document's
    thousands of accented letters (1.8 ms per 30,000 characters, every document); counting
    lead bytes costs a quarter of that."""
    if _SHARES_LEAD_BYTES.search(sample):
        return len(_LATIN1_HIGH.findall(sample)), len(_UNICODE_VIET.findall(sample))
    data = sample.encode("utf-8", "surrogatepass")
    latin1 = data.count(b"\xc2") + data.count(b"\xc3")  # U+00A0..U+00FF
    # Ă ă Đ đ (C4, less Ĩ ĩ), Ơ ơ Ư ư (C6), U+1EA0..U+1EF9 (E1 BA, E1 BB)
    unicode_only = (data.count(b"\xc4") - data.count(b"\xc4\xa8") - data.count(b"\xc4\xa9") + data.count(b"\xc6")
                    + data.count(b"\xe1\xba") + data.count(b"\xe1\xbb"))
    return latin1, unicode_only


def _legacy_font_encoding(text: str) -> str | None:
    """'tcvn3', 'vni', ... when the text was typed in a legacy font, else None.

    viparse's detector costs ~150 ms per 100 kB, so it runs only on text that shows the
    look-alike Latin-1 letters of legacy fonts and not the letters only Unicode has.
    """
    sample = text[:200_000]
    latin1, unicode_only = _letter_counts(sample)
    if latin1 < 3 or unicode_only >= latin1:
        return None
    import viparse

    return viparse.detect_text_encoding(sample)


# ---------------------------------------------------------------------------------------
# PDF

# Characters that mean "glyph without a Unicode mapping": U+FFFD, private use, control
# characters (pdfium passes raw codes through), and pdfminer's "(cid:N)" spelling.
_UNREADABLE = re.compile(r"\(cid:\d+\)|[\ufffd\ue000-\uf8ff\x00\x01\x03-\x08\x0b\x0e-\x1f\x7f]")


def _read_pdf(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    import pypdfium2 as pdfium

    where = str(path)
    if not data.startswith(_PDF_MAGIC) and _PDF_MAGIC not in data[:1024]:
        raise IngestError(where, f"not a PDF file ({_describe_magic(data)})")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise IngestError(where, "encrypted PDF: it needs a password; save an unprotected copy") from exc
        raise IngestError(where, "corrupt or truncated PDF: it cannot be opened") from exc
    page_cap = int(limit("MAX_PDF_PAGES"))
    if len(pdf) > page_cap:
        n_pages = len(pdf)
        pdf.close()
        raise IngestError(where, f"PDF has {n_pages} pages, more than the limit of {page_cap}")
    warnings: list[str] = []
    if b"%%EOF" not in data[-2048:]:
        warnings.append("the PDF has no end-of-file marker: it may be truncated")
    tables = _PdfTables(data, warnings)
    try:
        pages, extra_layers, unreadable, chars = _pdf_pages(pdf, warnings, tables)
    finally:
        pdf.close()
        tables.close()
    n_pages = len(pages)
    if n_pages == 0:
        raise IngestError(where, "corrupt or truncated PDF: no pages")
    not_loaded = sum(w.endswith(PAGE_NOT_LOADED) for w in warnings)
    if not_loaded == n_pages:
        raise IngestError(where, "corrupt or truncated PDF: no page can be loaded")
    if chars == 0:
        raise IngestError(where, f"no text layer ({n_pages} pages of images): needs OCR")
    if chars < MIN_CHARS_PER_PAGE * n_pages and chars < 200:
        raise IngestError(where, f"almost no text layer ({chars} characters on {n_pages} pages): needs OCR")
    share = unreadable / chars
    if share >= UNREADABLE_SHARE_REFUSE:
        raise IngestError(
            where,
            f"unreadable text layer: needs OCR ({share:.0%} of the characters are glyphs "
            "without a Unicode mapping)",
        )
    page_starts: list[int] = []
    offset = 0
    for page_text in pages:
        page_starts.append(offset)
        offset += len(page_text) + 1
    info.page_count = n_pages
    # NFC per page equals NFC of the joined text: the "\n" between pages is a starter,
    # so nothing composes across it, and the page offsets stay valid.
    return SourceText(
        text="\n".join(pages),
        info=info,
        page_starts=page_starts,
        extra_layers=extra_layers,
        warnings=warnings,
        tables=[[[(page_starts[pg] + s, page_starts[pg] + e) for pg, s, e in row] for row in table]
                for table in tables.found],
    )


PAGE_NOT_LOADED = "cannot be loaded (corrupt or truncated PDF): its text is missing"


def _pdf_pages(pdf, warnings: list[str], tables: _PdfTables) -> tuple[list[str], list[str], float, int]:
    """Page texts (NFC), extra layers, estimated unreadable chars, non-space chars.

    Assignment tables on the pages go to `tables` (which may turn a cell's visual line
    breaks into spaces in the page text it returns)."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    pages: list[str] = []
    extra: list[str] = []
    unreadable_total = 0.0
    chars_total = 0
    # Read before the stamps: flattening a page drops its signature fields.
    signatures = _pdf_signatures(pdf)
    for index in range(len(pdf)):
        try:
            page = pdf[index]
            textpage = page.get_textpage()
        except pdfium.PdfiumError:  # a damaged page: the others are still read
            warnings.append(f"page {index + 1}: {PAGE_NOT_LOADED}")
            pages.append("")
            continue
        # pdfium writes "\x02" for a hyphen it joined across a line end ("TT-\nBCT").
        raw = textpage.get_text_bounded()
        if _FOOTNOTE_BODY.search(raw):
            raw_text = _text_with_superscripts(textpage)
        else:
            raw_text = raw
        text = raw_text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "-")
        text = unicodedata.normalize("NFC", text)
        text = tables.read_page(index, text)
        non_space = len("".join(text.split()))
        bad = len(_UNREADABLE.findall(text))
        n = textpage.count_chars()
        if n:
            step = max(1, n // _MAP_SAMPLE)
            sampled = range(0, n, step)
            errors = sum(pdfium_c.FPDFText_HasUnicodeMapError(textpage, i) == 1 for i in sampled)
            bad = max(bad, errors / len(sampled) * non_space)
        if non_space and bad / non_space >= UNREADABLE_SHARE_WARN:
            warnings.append(f"page {index + 1}: unreadable text layer (needs OCR)")
        unreadable_total += bad
        chars_total += non_space
        if pdfium_c.FPDFPage_GetAnnotCount(page):
            try:
                extra.extend(_pdf_stamps(pdf, index, page, textpage, raw))
            except Exception as exc:  # a stamp we cannot read must not lose the page text
                warnings.append(f"page {index + 1}: signature stamps not read ({type(exc).__name__})")
        else:
            textpage.close()
            page.close()
        pages.append(text)
    extra.extend(signatures)
    return pages, extra, unreadable_total, chars_total


# A line that starts with a small number and text: the body of a footnote at the foot of
# the page ("1 Luật Quản lý, ..."). Only such pages are checked for superscript markers.
_FOOTNOTE_BODY = re.compile(r"(?m)^ ?\d{1,2}(?:\r?$| +[^\W\d_])")


def _text_with_superscripts(textpage) -> str:
    """Page text with superscript footnote markers written as "¹²³".

    PDF footnote markers are ordinary digits drawn smaller and raised: pdfium returns
    "Luật số 42/2024/QH151" for "QH15" + marker 1. A digit is a marker when it is set
    below 80% of the size of the next visible character on its line (or the previous
    one) and its baseline is raised above that character's.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    n = textpage.count_chars()
    x, y = ctypes.c_double(), ctypes.c_double()
    chars, sizes, ys = [], [], []
    for i in range(n):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        chars.append(chr(code) if code else "")
        sizes.append(pdfium_c.FPDFText_GetFontSize(textpage, i))
        pdfium_c.FPDFText_GetCharOrigin(textpage, i, ctypes.byref(x), ctypes.byref(y))
        ys.append(y.value)
    visible = [bool(c.strip()) and pdfium_c.FPDFText_IsGenerated(textpage, i) != 1 for i, c in enumerate(chars)]

    def neighbour(i: int, step: int, same_line: bool = True) -> int | None:
        j = i + step
        while 0 <= j < n and not visible[j]:
            if same_line and chars[j] in "\r\n":
                return None
            j += step
        return j if 0 <= j < n else None

    out = list(chars)
    for i, c in enumerate(chars):
        if not (c.isdigit() and visible[i]):
            continue
        before, after = neighbour(i, -1), neighbour(i, 1)
        if before is None and after is None:
            after = neighbour(i, 1, same_line=False)  # a marker alone on its line
        for j in (after, before):
            if j is None or chars[j].isdigit() and sizes[j] < 0.8 * max(sizes[i], 1):
                continue
            if sizes[i] < 0.8 * sizes[j] and ys[i] > ys[j] + 0.15 * sizes[j]:
                out[i] = c.translate(_SUPERSCRIPT)
            break
    text = "".join(out)
    if _SURROGATES.search(text):
        # pdfium gives UTF-16 code units one by one: join the surrogate pairs of characters
        # beyond U+FFFF (math letters "𝑄"); a lone one stays for `valid_unicode` to count.
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    return text


def _pdf_stamps(pdf, index: int, page, textpage, raw_text: str) -> list[str]:
    """Header lines completed with the text of signature/form widgets on this page.

    Signed Vietnamese PDFs leave "Số:      /UBND-XD" and "ngày    tháng 5" blank in the
    page text; the number and day are drawn by signature widgets placed over the blanks.
    pdfium's page text ignores widget appearances, so the page is flattened in memory (the
    file is not changed) and the characters that appear are put back into the page line
    at their x position.
    """
    import pypdfium2.raw as pdfium_c

    rects = []
    for j in range(pdfium_c.FPDFPage_GetAnnotCount(page)):
        annot = pdfium_c.FPDFPage_GetAnnot(page, j)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET:
                r = pdfium_c.FS_RECTF()
                if pdfium_c.FPDFAnnot_GetRect(annot, r):
                    rects.append((r.left, r.bottom, r.right, r.top))
        finally:
            pdfium_c.FPDFPage_CloseAnnot(annot)
    if not rects:
        textpage.close()
        page.close()
        return []
    n_before = textpage.count_chars()
    textpage.close()
    if pdfium_c.FPDFPage_Flatten(page, pdfium_c.FLAT_PRINT) != pdfium_c.FLATTEN_SUCCESS:
        page.close()
        return []
    page.close()
    page = pdf[index]
    flat = page.get_textpage()
    try:
        if not flat.get_text_bounded().startswith(raw_text.rstrip()):
            return []  # pdfium reordered the text: we cannot tell stamp from page
        # The flattened page text is the old text followed by the stamps' characters.
        # Of the old characters, only those on the widgets' lines matter.
        bands = [(r[1] - 5, r[3] + 5) for r in rects]
        before, added = [], []
        for i, ch in _pdf_chars(flat, bands, n_before):
            (before if i < n_before else added).append(ch)
    finally:
        flat.close()
        page.close()
    stamps = []
    for rect in rects:
        inside = [c for c in added if _center_in(c[2], rect)]
        text = "".join(c[0] for c in inside).strip()
        if text:
            stamps.append((rect, [c for c in inside if not c[1]], text))
    return _lines_with_stamps(before, stamps)


def _pdf_chars(textpage, bands: list[tuple[float, float]], first_new: int):
    """(index, (char, generated, box)) for chars whose centre lies in one of the y bands,
    and for every char from `first_new` on. An out-of-band char yields a "\n" separator,
    so runs of kept chars stay apart."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    refs = [ctypes.byref(v) for v in (left, right, bottom, top)]
    gap = False
    lowest, highest = min(lo for lo, _ in bands), max(hi for _, hi in bands)
    for i in range(textpage.count_chars()):
        if not pdfium_c.FPDFText_GetCharBox(textpage, i, *refs):
            if chr(pdfium_c.FPDFText_GetUnicode(textpage, i) or 32) in "\r\n" and not gap:
                yield i, ("\n", True, (0, 0, 0, 0))
                gap = True
            continue
        y = (bottom.value + top.value) / 2
        if i < first_new and not (
            lowest <= y <= highest and any(lo <= y <= hi for lo, hi in bands)
        ):
            if not gap:
                yield i, ("\n", True, (0, 0, 0, 0))
                gap = True
            continue
        gap = False
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        generated = pdfium_c.FPDFText_IsGenerated(textpage, i) == 1
        yield i, (chr(code) if code else "", generated, (left.value, bottom.value, right.value, top.value))


def _center_in(box: tuple, rect: tuple) -> bool:
    x, y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return rect[0] <= x <= rect[2] and rect[1] <= y <= rect[3]


def _lines_with_stamps(chars: list, stamps: list) -> list[str]:
    """Each page line that a stamp falls on, with the stamp text inserted at its x."""
    lines: list[list] = [[]]
    for ch in chars:
        if ch[0] in "\r\n":
            if lines[-1]:
                lines.append([])
        else:
            lines[-1].append(ch)
    inserts: dict[int, list[tuple[float, str]]] = {}
    alone: list[str] = []
    for _rect, glyphs, text in stamps:
        if not glyphs:
            alone.append(text)
            continue
        bottom = min(g[2][1] for g in glyphs)
        top = max(g[2][3] for g in glyphs)
        x = (min(g[2][0] for g in glyphs) + max(g[2][2] for g in glyphs)) / 2
        best = None
        for k, line in enumerate(lines):
            ys = [(c[2][1] + c[2][3]) / 2 for c in line if not c[1] and c[0].strip()]
            if not ys or not any(bottom - 2 <= y <= top + 2 for y in ys):
                continue
            xs = [c[2][0] for c in line if not c[1]] + [c[2][2] for c in line if not c[1]]
            dist = 0 if min(xs) <= x <= max(xs) else min(abs(x - min(xs)), abs(x - max(xs)))
            if best is None or dist < best[0]:
                best = (dist, k)
        if best is None:
            alone.append(text)
        else:
            inserts.setdefault(best[1], []).append((x, text))
    out = []
    for k in sorted(inserts):
        line = lines[k]
        pieces = [(((c[2][0] + c[2][2]) / 2) if not c[1] else None, c[0]) for c in line]
        # a generated char (space) takes the x of the char before it
        last_x = float("-inf")
        placed = []
        for x, ch in pieces:
            last_x = x if x is not None else last_x
            placed.append((last_x, ch))
        for x, text in sorted(inserts[k]):
            pos = next((i for i, (cx, _) in enumerate(placed) if cx > x), len(placed))
            before = placed[pos - 1][1] if pos else ""
            after = placed[pos][1] if pos < len(placed) else ""
            glued = (" " if before.isalnum() else "") + text + (" " if after.isalnum() else "")
            placed.insert(pos, (x, glued))
        line_text = re.sub(r"\s+", " ", "".join(ch for _, ch in placed)).strip()
        out.append(unicodedata.normalize("NFC", line_text))
    return out + [unicodedata.normalize("NFC", t) for t in alone]


def _pdf_signatures(pdf) -> list[str]:
    """One line per digital signature: who signed (the Reason text) and when."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    out = []
    for i in range(pdfium_c.FPDF_GetSignatureCount(pdf)):
        sig = pdfium_c.FPDF_GetSignatureObject(pdf, i)
        n = pdfium_c.FPDFSignatureObj_GetReason(sig, None, 0)
        reason = ""
        if n > 2:
            buf = ctypes.create_string_buffer(n)
            pdfium_c.FPDFSignatureObj_GetReason(sig, buf, n)
            reason = buf.raw[: n - 2].decode("utf-16-le", "replace").strip()
        n = pdfium_c.FPDFSignatureObj_GetTime(sig, None, 0)
        when = ""
        if n > 1:
            buf = ctypes.create_string_buffer(n)
            pdfium_c.FPDFSignatureObj_GetTime(sig, buf, n)
            when = _pdf_date(buf.raw[: n - 1].decode("latin-1"))
        if reason or when:
            from ...rules import load

            words = load("ingest")["signature_line"]
            line = words["with_reason"].format(reason=reason) if reason else words["without_reason"]
            out.append(unicodedata.normalize("NFC", line + (words["signed_at"].format(when=when) if when else "")))
    return out


def _pdf_date(raw: str) -> str:
    """PDF date "D:20260511152011+07'00'" as ISO "2026-05-11T15:20:11+07:00"."""
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?([+-Z])?(\d{2})?'?(\d{2})?", raw)
    if not m:
        return raw
    y, mo, d, hh, mi, ss, sign, th, tm = m.groups()
    iso = f"{y}-{mo}-{d}"
    if hh:
        iso += f"T{hh}:{mi or '00'}:{ss or '00'}"
        if sign == "Z":
            iso += "Z"
        elif sign and th:
            iso += f"{sign}{th}:{tm or '00'}"
    return iso


# PDF assignment tables: cells from pdfplumber, offsets in the pypdfium2 text

# A table that ends this low on its page (share of the page height, from the top) and a
# table that starts this high on the next page with as many columns are one table.
_TABLE_ENDS_LOW = 0.80
_TABLE_STARTS_HIGH = 0.25
# A line holding only a short number; normalize drops such lines as page numbers, so a cell
# alone on its line in this shape (an STT "1") is put on the line of its neighbour cell.
_NUMBER_LINE = re.compile(r"[-–\s]*\d{1,3}[-–\s]*")
_LINE_BREAK_HYPHEN = re.compile(r"[-\u00ad][ \t]*(?=\n)")


@lru_cache(maxsize=1)
def _pdf_table_rules() -> dict:
    from ...rules import load

    rules = load("ingest")
    gate = rules["pdf_table_gate"]
    return {
        "who": re.compile(gate["who"]["pattern"]),
        "before": re.compile(gate["before"]["pattern"]),
        "after": re.compile(gate["after"]["pattern"]),
        "window": int(gate["window"]),
        "cell_paragraph": re.compile(rules["pdf_cell_paragraph"]["pattern"]),
    }


def pdf_page_may_hold_table(page_text: str) -> bool:
    """Whether a page's text shows the header row of an assignment table (rules/ingest.yaml):
    a "who" column name with a task column name just before it or a partner/time one after."""
    rules = _pdf_table_rules()
    low, window = page_text.lower(), rules["window"]
    for m in rules["who"].finditer(low):
        if (rules["before"].search(low, max(0, m.start() - window), m.start())
                or rules["after"].match(low[m.end():m.end() + window])):
            return True
    return False


def _compare_key(text: str, base: int = 0) -> tuple[str, list[int]]:
    """`text` without white space or line-end hyphens, and each kept character's offset.

    pdfplumber and pypdfium2 agree on the characters of a cell but not on its spaces and
    line breaks, nor on whether a hyphen at a line end is kept."""
    text = _LINE_BREAK_HYPHEN.sub(lambda m: " " * len(m.group(0)), text)
    chars, offsets = [], []
    for i, c in enumerate(text):
        if not c.isspace():
            chars.append(c)
            offsets.append(base + i)
    return "".join(chars), offsets


class _PdfTables:
    """Assignment tables of one PDF, read page by page as pypdfium2's text comes in.

    pdfplumber's table finder (cells from ruling lines) costs far more than the page text, so
    it runs only on a page whose text shows an assignment table header, and on the page after
    a table that reaches the foot of its page (the table goes on). Each cell's text is found
    in the page text; a table whose cells cannot all be found, in reading order, is left out
    with a warning. `found` holds the tables: rows of (page index, start, end) per grid column.
    """

    def __init__(self, data: bytes, warnings: list[str]):
        self.data = data
        self.warnings = warnings
        self.found: list[list[list[tuple[int, int, int]]]] = []
        self._plumber = None
        self._open_ends_page: int | None = None  # page whose last table reaches its foot
        self._last_header: list[str] = []  # header row text of the last table in `found`

    def close(self) -> None:
        if self._plumber is not None:
            self._plumber.close()
            self._plumber = None

    def read_page(self, index: int, text: str) -> str:
        """The page text, with the visual line breaks inside table cells made spaces."""
        goes_on = self._open_ends_page == index - 1
        self._open_ends_page = None
        if not (goes_on or pdf_page_may_hold_table(text)):
            return text
        try:
            if self._plumber is None:
                import io

                import pdfplumber

                self._plumber = pdfplumber.open(io.BytesIO(self.data))
            page = self._plumber.pages[index]
            found = page.find_tables()
        except AssertionError:  # an invariant (or a test's probe), not a damaged page
            raise
        except Exception as exc:  # a page (or a file) pdfplumber cannot read keeps its text
            self.warnings.append(f"page {index + 1}: tables not read ({type(exc).__name__})")
            return text
        found.sort(key=lambda t: (t.bbox[1], t.bbox[0]))
        edits: dict[int, str] = {}  # offset of a "\n" in `text` -> " " or "" (hyphen wrap)
        cells_of: list[tuple[list[list[tuple[int, int]]], object]] = []
        cursor = 0
        for table in found:
            rows = self._locate(table, text, cursor, index)
            if rows is None:
                continue
            cursor = max(e for row in rows for _, e in row)
            self._wraps(text, rows, edits)
            cells_of.append((rows, table))
        if not cells_of:
            return text
        # Apply the edits; a deleted "\n" shifts every later offset back by one.
        deleted = sorted(i for i, c in edits.items() if c == "")
        out = "".join(edits.get(i, c) if c == "\n" else c for i, c in enumerate(text))

        def shift(offset: int) -> int:
            return offset - bisect.bisect_left(deleted, offset)

        for n, (rows, table) in enumerate(cells_of):
            grid = [[(index, shift(s), shift(e)) for s, e in row] for row in rows]
            if n == 0 and goes_on and self._continues(grid, table, page, out):
                continue
            self.found.append(grid)
            self._last_header = [out[s:e] for _, s, e in grid[0]]
        last = cells_of[-1][1]
        if last.bbox[3] >= _TABLE_ENDS_LOW * float(page.height):
            self._open_ends_page = index
        return out

    def _continues(self, grid, table, page, text: str) -> bool:
        """Append `grid` to the previous page's last table when it goes on from it."""
        if not self.found or table.bbox[1] > _TABLE_STARTS_HIGH * float(page.height):
            return False
        previous = self.found[-1]
        if len(grid[0]) != len(previous[0]):
            return False
        if [text[s:e] for _, s, e in grid[0]] == self._last_header:
            grid = grid[1:]  # the header row repeated on the new page
        previous.extend(grid)
        return True

    def _locate(self, table, text: str, cursor: int, index: int) -> list[list[tuple[int, int]]] | None:
        """Rows of (start, end) in `text` per grid column; None (with a warning) when a cell's
        text cannot be found where the reading order puts it."""
        cell_text = table.extract()
        grid = [row.cells for row in table.rows]
        if not grid or not any(any(c is not None for c in row) for row in grid):
            return None
        key, offsets = _compare_key(text[cursor:], cursor)
        table_key, cell_ends = [], []
        for r, row in enumerate(grid):
            for c, bbox in enumerate(row):
                if bbox is not None:
                    ck, _ = _compare_key(unicodedata.normalize("NFC", cell_text[r][c] or ""))
                    table_key.append(ck)
                    cell_ends.append((r, c, len(ck)))
        if not "".join(table_key):
            return None  # ruling lines with no text: nothing to point at
        where = key.find("".join(table_key))
        if where < 0:
            self.warnings.append(
                f"page {index + 1}: a table's cells were not found in the page text in reading "
                "order; the table is left out")
            return None
        spans: dict[tuple[int, int], tuple[int, int]] = {}
        pos = where
        last_end = offsets[where] if where < len(offsets) else cursor
        for r, c, n in cell_ends:
            if n:
                start, end = offsets[pos], offsets[pos + n - 1] + 1
                last_end = end
            else:  # an empty cell: a zero-length span after the previous cell
                start = end = last_end
            spans[(r, c)] = (start, end)
            pos += n
        # Merged cells: pdfplumber gives None at the grid positions a cell covers; such a
        # position repeats the span of the cell whose box holds its centre.
        col_x = sorted({bbox[0] for row in grid for bbox in row if bbox is not None}) + [table.bbox[2]]
        row_y = [row.bbox[1] for row in table.rows] + [table.bbox[3]]
        boxes = [(grid[r][c], (r, c)) for r, c in spans]
        rows: list[list[tuple[int, int]]] = []
        n_cols = max(len(row) for row in grid)
        for r in range(len(grid)):
            out_row = []
            for c in range(n_cols):
                if (r, c) in spans:
                    out_row.append(spans[(r, c)])
                    continue
                x = (col_x[min(c, len(col_x) - 2)] + col_x[min(c + 1, len(col_x) - 1)]) / 2
                y = (row_y[r] + row_y[r + 1]) / 2
                cover = next((rc for b, rc in boxes if b[0] <= x <= b[2] and b[1] <= y <= b[3]), None)
                if cover is None:
                    self.warnings.append(f"page {index + 1}: a table's merged cells could not be "
                                         "resolved; the table is left out")
                    return None
                out_row.append(spans[cover])
            rows.append(out_row)
        return rows

    @staticmethod
    def _wraps(text: str, rows: list[list[tuple[int, int]]], edits: dict[int, str]) -> None:
        """Line breaks inside cells: a visual wrap becomes a space, a wrap after a hyphen is
        joined, a break before a list item ("- Sở Y tế") stays. A cell alone on its line that
        looks like a page number joins the line of the next cell."""
        paragraph = _pdf_table_rules()["cell_paragraph"]
        cells = sorted({c for row in rows for c in row})
        for start, end in cells:
            for i in range(start, end):
                if text[i] != "\n":
                    continue
                if paragraph.match(text[i + 1:end].lstrip(" \t")):
                    continue
                before = text[start:i].rstrip(" \t")
                hyphen = before.endswith("-") and len(before) > 1 and not before[-2].isspace()
                edits[i] = "" if hyphen else " "
        for n, (start, end) in enumerate(cells):
            if start == end:
                continue
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            if line_end < 0 or not _NUMBER_LINE.fullmatch(text[line_start:line_end]):
                continue
            if n + 1 < len(cells) and cells[n + 1][0] > line_end:
                edits[line_end] = " "
            elif line_start > 0 and n > 0:
                edits[line_start - 1] = " "


# ---------------------------------------------------------------------------------------
# DOCX

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WT, _WTAB, _WBR, _WCR = f"{{{_W}}}t", f"{{{_W}}}tab", f"{{{_W}}}br", f"{{{_W}}}cr"
_WFOOTREF, _WNBH, _WP = f"{{{_W}}}footnoteReference", f"{{{_W}}}noBreakHyphen", f"{{{_W}}}p"
_WTBL, _WBODY, _WTXBX = f"{{{_W}}}tbl", f"{{{_W}}}body", f"{{{_W}}}txbxContent"
_WPPR, _WNUMPR, _WPSTYLE = f"{{{_W}}}pPr", f"{{{_W}}}numPr", f"{{{_W}}}pStyle"
_WNUMID, _WILVL = f"{{{_W}}}numId", f"{{{_W}}}ilvl"
_WVAL = f"{{{_W}}}val"
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# The OPC package parts the fast reader looks up (the names python-docx uses).
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_CT_WML = "application/vnd.openxmlformats-officedocument.wordprocessingml."
_CT_MAIN, _CT_NUMBERING = _CT_WML + "document.main+xml", _CT_WML + "numbering+xml"


class _IrregularPackage(Exception):
    """The fast reader met something unusual; python-docx reads (or refuses) the file."""


@dataclass
class _DocxParts:
    """The XML a DOCX's text comes from. `styles` and `footnotes` are loaded on first use."""

    body: object  # the w:body element, parsed by python-docx's parser (its table classes)
    numbering: object | None  # the w:numbering element, None when there is no numbering part
    styles: Callable[[], object]  # -> the w:styles element
    footnotes: Callable[[], bytes | None]  # -> the footnotes part's XML, None when there is none


def _read_docx(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    where = str(path)
    if not data.startswith(_ZIP_MAGIC):
        if data.startswith(_OLE_MAGIC):
            return _read_doc(path, data, info)  # a Word 97 file with a .docx name
        raise IngestError(where, f"not a valid .docx (not a ZIP container: {_describe_magic(data)})")
    part_cap = _check_docx_sizes(where, data)
    # python-docx's `Document()` parses every part up front (the styles alone are ~350 KB
    # in Word's template) and reads paragraphs through proxy objects: two thirds of the
    # time of a typical document. The hot path therefore opens the package with zipfile
    # and reads word/document.xml with lxml (styles only when a paragraph style may carry
    # a list number). Anything unusual on the way (missing or duplicated parts, XML
    # errors, a part that is not a Word document) sends the file through python-docx,
    # which reads it as before or refuses it with the same diagnosis as always.
    try:
        reader = _DocxText(_docx_parts_fast(data, where, part_cap))
        lines = reader.lines()
    except IngestError:
        raise
    except Exception:
        reader = _DocxText(_docx_parts_python_docx(where, _bounded_package(where, data, part_cap)))
        lines = reader.lines()
    # NFC line by line (it never composes across "\n"), so line offsets are known.
    lines = [unicodedata.normalize("NFC", line) for line in lines]
    text = "\n".join(lines)
    if not text.strip():
        raise IngestError(where, "the document has no text")
    return SourceText(
        text=text,
        info=info,
        warnings=reader.warnings,
        tables=reader.table_spans(lines),
        hard_wrapped=False,  # Word paragraphs are real paragraphs, never visual wraps
    )


def _bomb(where: str, cap_mb: float) -> IngestError:
    return IngestError(where, f"DOCX expands to more than {cap_mb:g} MB: refusing a possible zip bomb")


def _check_docx_sizes(where: str, data: bytes) -> int:
    """Refuse a package whose parts would unpack past the limits; the part cap in bytes.

    Checked on the sizes the ZIP central directory declares, before anything is inflated.
    zipfile never inflates a member past its declared size (a longer stream fails its CRC),
    and the fast reader reads each part as a stream that stops at the cap as well.
    A package zipfile cannot open is left to the readers (which refuse it as corrupt).
    """
    import io

    part_mb, total_mb = limit("MAX_DOCX_PART_MB"), limit("MAX_DOCX_TOTAL_MB")
    part_cap, total_cap = int(part_mb * 2**20), int(total_mb * 2**20)
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception:
        return part_cap
    if len(infos) > limit("MAX_DOCX_PARTS"):
        raise IngestError(where, f"DOCX holds {len(infos)} parts (limit {limit('MAX_DOCX_PARTS'):g}): "
                                 "refusing a possible zip bomb")
    total = 0
    for info in infos:
        if info.file_size > part_cap:
            raise _bomb(where, part_mb)
        total += info.file_size
        if total > total_cap:
            raise _bomb(where, total_mb)
    return part_cap


def _read_member(package: zipfile.ZipFile, name, where: str, cap: int) -> bytes:
    """A part's bytes, inflated as a stream that stops at `cap` (whatever the header says)."""
    chunks, total = [], 0
    with package.open(name) as fh:
        while True:
            block = fh.read(min(1 << 20, cap + 1 - total))
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > cap:
                raise _bomb(where, cap / 2**20)
    return b"".join(chunks)


def _bounded_package(where: str, data: bytes, part_cap: int) -> bytes:
    """The package rebuilt with its parts stored uncompressed, each read through the capped
    stream; what python-docx gets, since zipfile's one-shot `read()` inflates a whole
    compressed stream at once, however much more it holds than its header declares."""
    import io
    import zlib

    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        infos = package.infolist()
    except Exception:
        return data  # not a ZIP zipfile can open: python-docx refuses it the same way
    total_cap, total = int(limit("MAX_DOCX_TOTAL_MB") * 2**20), 0
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as stored:
        for info in infos:
            try:
                blob = _read_member(package, info, where, part_cap)
            except IngestError:
                raise
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
                raise IngestError(where, f"corrupt .docx: {type(exc).__name__}: {exc}") from exc
            total += len(blob)
            if total > total_cap:
                raise _bomb(where, total_cap / 2**20)
            stored.writestr(info.filename, blob)
    return out.getvalue()


def _docx_parts_python_docx(where: str, data: bytes) -> _DocxParts:
    """Open the package with python-docx: the reference reader, and its refusals."""
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
        raise IngestError(where, f"corrupt .docx: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # lxml syntax errors and the like inside the package
        raise IngestError(where, f"corrupt .docx: {type(exc).__name__}") from exc
    try:
        numbering = document.part.numbering_part.element
    except (KeyError, NotImplementedError, AttributeError):
        numbering = None

    def footnotes() -> bytes | None:
        part = _related_part(document.part, "/footnotes")
        return part.blob if part is not None else None

    return _DocxParts(document.element.body, numbering, lambda: document.styles.element, footnotes)


def _docx_parts_fast(data: bytes, where: str = "", cap: int = MAX_DOCX_PART_MB * 2**20) -> _DocxParts:
    """Open the package with zipfile and lxml, following the OPC rules python-docx follows.

    Raises `_IrregularPackage` (or any other exception) where python-docx would refuse the
    file or take a path of its own; the caller then hands the file to python-docx.
    """
    import io

    from docx.oxml.parser import parse_xml  # python-docx's parser: its element classes
    from lxml import etree

    package = zipfile.ZipFile(io.BytesIO(data))

    def read(name: str) -> bytes:
        return _read_member(package, name, where, cap)

    members = set(package.namelist())
    types = etree.fromstring(read("[Content_Types].xml"))
    overrides = {o.get("PartName").lower(): o.get("ContentType")
                 for o in types.iterchildren(f"{{{_CT_NS}}}Override")}
    defaults = {d.get("Extension").lower(): d.get("ContentType")
                for d in types.iterchildren(f"{{{_CT_NS}}}Default")}

    def content_type(partname: str) -> str:
        found = overrides.get(partname.lower())
        if found is None:
            found = defaults.get(posixpath.splitext(partname)[1][1:].lower())
        if found is None:
            raise _IrregularPackage(f"no content type for {partname}")
        return found

    def relationships(partname: str) -> list[tuple[str, str]]:
        """(type, target partname) of the part's internal relationships, in file order."""
        base, name = posixpath.split(partname)
        rels_name = posixpath.join(base, "_rels", f"{name}.rels")[1:]
        if rels_name not in members:
            return []
        out = []
        for rel in etree.fromstring(read(rels_name)).iterchildren(f"{{{_RELS_NS}}}Relationship"):
            if rel.get("TargetMode", "Internal") == "External":
                continue
            target = posixpath.abspath(posixpath.join(base or "/", rel.get("Target")))
            if target[1:] not in members:
                raise _IrregularPackage(f"missing part {target}")  # python-docx refuses it
            out.append((rel.get("Type"), target))
        return out

    def only(rels: list[tuple[str, str]], reltype: str) -> str | None:
        targets = [target for rtype, target in rels if rtype == reltype]
        if len(targets) > 1:
            raise _IrregularPackage(f"several {reltype} parts")
        return targets[0] if targets else None

    main = only(relationships("/"), _RT + "officeDocument")
    if main is None or content_type(main) != _CT_MAIN:
        raise _IrregularPackage("no Word main document part")
    body = parse_xml(read(main[1:])).find(_WBODY)
    if body is None:
        raise _IrregularPackage("no w:body")
    rels = relationships(main)
    numbering = None
    numbering_name = only(rels, _RT + "numbering")
    if numbering_name is not None:
        if content_type(numbering_name) != _CT_NUMBERING:
            raise _IrregularPackage("numbering part of another type")
        numbering = etree.fromstring(read(numbering_name[1:]))

    def styles():
        name = only(rels, _RT + "styles")
        if name is None:
            raise _IrregularPackage("no styles part")  # python-docx supplies default styles
        return etree.fromstring(read(name[1:]))

    def footnotes() -> bytes | None:
        name = next((target for rtype, target in rels if rtype.endswith("/footnotes")), None)
        return read(name[1:]) if name is not None else None

    return _DocxParts(body, numbering, styles, footnotes)


class _DocxText:
    """Text of a DOCX body: paragraphs and tables in order, numbering, footnotes."""

    def __init__(self, parts: _DocxParts):
        self.parts = parts
        self.numbering = _Numbering(parts.numbering, parts.styles)
        self.footnote_marks: dict[str, str] = {}  # footnote id -> "¹"
        self.warnings: list[str] = []
        # Each table as rows of grid cells, a cell being the range [first, end) of the output
        # lines that hold its text (several grid positions share the range of a merged cell).
        self.tables: list[list[list[tuple[int, int]]]] = []

    def lines(self) -> list[str]:
        """The body's lines, then the footnotes."""
        out: list[str] = []
        self._blocks(self.parts.body, out)
        out.extend(self.footnote_lines())
        return out

    def _blocks(self, container, out: list[str]) -> None:
        # The direct w:p and w:tbl children, in order (python-docx's `iter_inner_content`).
        for block in container:
            tag = block.tag
            if tag == _WP:
                line = self._paragraph(block)
                if line.strip():
                    out.append(line)
            elif tag == _WTBL:
                self._table(block, out)

    def _table(self, tbl, out: list[str]) -> None:
        # python-docx's Table lays the cells on the grid (gridSpan, vMerge, gridBefore).
        # A merged cell shows up once per spanned grid column (and, vertically, per row):
        # its text is written once, and every grid position it covers gets the same line
        # range. Keep the cell elements alive so `is` identity is meaningful for lxml proxies.
        from docx.table import Table

        rows: list[list[tuple[int, int]]] = []
        self.tables.append(rows)  # before the cells, so an outer table precedes its nested ones
        seen: list[tuple[object, tuple[int, int]]] = []
        for row in Table(tbl, None).rows:
            # a row that starts after the first grid column: empty cells keep columns aligned
            cells = [(len(out), len(out))] * (getattr(row, "grid_cols_before", 0) or 0)
            for cell in row.cells:
                tc = cell._tc
                known = next((r for s, r in seen if s is tc), None)
                if known is None:
                    first = len(out)
                    self._blocks(tc, out)
                    known = (first, len(out))
                    seen.append((tc, known))
                cells.append(known)
            rows.append(cells)

    def table_spans(self, lines: list[str]) -> list[list[list[tuple[int, int]]]]:
        """Each table's cells as (start, end) offsets of "\n".join(lines), blanks trimmed.

        An empty cell is a zero-length span at the start of the line that follows it.
        """
        starts, pos = [], 0
        for line in lines:
            starts.append(pos)
            pos += len(line) + 1
        starts.append(pos)  # one past the text, for a trailing empty cell
        text_end = max(pos - 1, 0)

        def span(first: int, end: int) -> tuple[int, int]:
            if end <= first:
                at = min(starts[first], text_end)
                return (at, at)
            s, e = starts[first], starts[end - 1] + len(lines[end - 1])
            chunk = "\n".join(lines[first:end])
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk) - len(chunk.rstrip())
            return (s + lead, max(s + lead, e - trail))

        return [[[span(*cell) for cell in row] for row in rows] for rows in self.tables]

    def _paragraph(self, p) -> str:
        parts: list[str] = []
        in_textbox = p.find(f".//{_WTXBX}") is not None
        for el in p.iter(_WT, _WTAB, _WBR, _WCR, _WFOOTREF, _WNBH):
            if in_textbox and _inside(el, p, _WTXBX):
                continue  # text boxes are floating shapes, not part of the line
            tag = el.tag
            if tag == _WT:
                parts.append(el.text or "")
            elif tag == _WTAB:
                parts.append("\t")
            elif tag in (_WBR, _WCR):
                if el.get(f"{{{_W}}}type") in (None, "textWrapping"):
                    parts.append("\n")
            elif tag == _WNBH:
                parts.append("-")
            else:  # footnote reference: Word numbers footnotes in order of reference
                fid = el.get(f"{{{_W}}}id")
                mark = self.footnote_marks.setdefault(
                    fid, str(len(self.footnote_marks) + 1).translate(_SUPERSCRIPT)
                )
                parts.append(mark)
        text = "".join(parts)
        prefix = self.numbering.label(p)
        # An empty numbered paragraph (e.g. the "TT" column of a table) would become a
        # lone "1." line that looks like a heading; its counter still advances.
        if prefix and text.strip():
            text = f"{prefix} {text.lstrip()}"
        return text

    def footnote_lines(self) -> list[str]:
        if not self.footnote_marks:
            return []
        blob = self.parts.footnotes()
        if blob is None:
            return []
        from lxml import etree

        root = etree.fromstring(blob)
        bodies = {fn.get(f"{{{_W}}}id"): fn for fn in root.iter(f"{{{_W}}}footnote")}
        out = []
        for fid, mark in self.footnote_marks.items():
            fn = bodies.get(fid)
            if fn is None:
                continue
            text = " ".join(
                "".join(t.text or "" for t in p.iter(_WT)).strip() for p in fn.iter(_WP)
            ).strip()
            if text:
                out.append(f"{mark} {text}")
        return out


def _inside(el, stop, tag: str) -> bool:
    parent = el.getparent()
    while parent is not None and parent is not stop:
        if parent.tag == tag:
            return True
        parent = parent.getparent()
    return False


def _related_part(part, reltype_suffix: str):
    for rel in part.rels.values():
        if rel.reltype.endswith(reltype_suffix) and not rel.is_external:
            return rel.target_part
    return None


class _Numbering:
    """Automatic list numbers (w:numPr) as Word shows them: "1.", "a)", "II.", "-".

    Counters are kept per numId and level; using a level resets the deeper ones. Number
    formats: decimal, decimalZero, lower/upperLetter, lower/upperRoman, bullet; others
    fall back to decimal.
    """

    def __init__(self, numbering, styles: Callable[[], object]):
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, fmt, text)
        self.counters: dict[str, dict[int, int]] = {}
        self._styles = styles
        self._style_num: dict[str, tuple[str, int]] | None = None  # built on first use
        if numbering is None:
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for an in numbering.iterchildren(f"{{{_W}}}abstractNum"):
            abstract[an.get(f"{{{_W}}}abstractNumId")] = {
                int(lvl.get(f"{{{_W}}}ilvl", "0")): _level(lvl) for lvl in an.iterchildren(f"{{{_W}}}lvl")
            }
        for num in numbering.iterchildren(f"{{{_W}}}num"):
            aid = num.find(f"{{{_W}}}abstractNumId")
            if aid is None:
                continue
            levels = dict(abstract.get(aid.get(_WVAL), {}))
            for override in num.iterchildren(f"{{{_W}}}lvlOverride"):
                ilvl = int(override.get(f"{{{_W}}}ilvl", "0"))
                lvl = override.find(f"{{{_W}}}lvl")
                if lvl is not None:
                    levels[ilvl] = _level(lvl)
                start = override.find(f"{{{_W}}}startOverride")
                if start is not None and ilvl in levels:
                    _, fmt, text = levels[ilvl]
                    levels[ilvl] = (int(start.get(_WVAL, "1")), fmt, text)
            self.levels[num.get(f"{{{_W}}}numId")] = levels

    @property
    def style_num(self) -> dict[str, tuple[str, int]]:
        """numPr inherited from paragraph styles (through basedOn): styleId -> (numId, ilvl).

        Built when a paragraph first names a style: the styles part is the largest part of
        most documents, and most paragraphs never need it.
        """
        if self._style_num is not None:
            return self._style_num
        style_num: dict[str, tuple[str, int]] = {}
        styles = {}
        for st in self._styles().iterchildren(f"{{{_W}}}style"):
            styles[st.get(f"{{{_W}}}styleId")] = st
        for sid in styles:
            seen, cur = set(), sid
            while cur and cur not in seen and cur in styles:
                seen.add(cur)
                st = styles[cur]
                numpr = st.find(f"{{{_W}}}pPr/{{{_W}}}numPr")
                if numpr is not None:
                    num_id = numpr.find(f"{{{_W}}}numId")
                    ilvl = numpr.find(f"{{{_W}}}ilvl")
                    if num_id is not None:
                        style_num[sid] = (
                            num_id.get(_WVAL),
                            int(ilvl.get(_WVAL)) if ilvl is not None else 0,
                        )
                    break
                based = st.find(f"{{{_W}}}basedOn")
                cur = based.get(_WVAL) if based is not None else None
        self._style_num = style_num
        return style_num

    def label(self, p) -> str:
        if not self.levels:
            return ""
        ppr = p.find(_WPPR)
        num_id, ilvl = None, 0
        numpr = ppr.find(_WNUMPR) if ppr is not None else None
        if numpr is not None:
            num = numpr.find(_WNUMID)
            lvl = numpr.find(_WILVL)
            # w:val is a decimal number: "03" names numId "3" (as python-docx reads it)
            num_id = str(int(num.get(_WVAL))) if num is not None else None
            ilvl = int(lvl.get(_WVAL)) if lvl is not None else 0
        elif ppr is not None and (style := ppr.find(_WPSTYLE)) is not None:
            num_id, ilvl = self.style_num.get(style.get(_WVAL), (None, 0))
        if not num_id or num_id == "0" or num_id not in self.levels:
            return ""
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        start = levels[ilvl][0]
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        _, fmt, text = levels[ilvl]
        if fmt == "bullet":
            return _bullet(text)
        if fmt == "none":
            return ""

        def level_number(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            if k not in levels:
                return ""
            value = counters.get(k, levels[k][0])
            return _format_number(value, levels[k][1])

        return re.sub(r"%(\d)", level_number, text).strip()


def _level(lvl) -> tuple[int, str, str]:
    start = lvl.find(f"{{{_W}}}start")
    fmt = lvl.find(f"{{{_W}}}numFmt")
    text = lvl.find(f"{{{_W}}}lvlText")
    is_lgl = lvl.find(f"{{{_W}}}isLgl") is not None
    fmt_val = fmt.get(_WVAL, "decimal") if fmt is not None else "decimal"
    if is_lgl and fmt_val != "bullet":
        fmt_val = "decimal"
    return (
        int(start.get(_WVAL, "1")) if start is not None else 1,
        fmt_val,
        text.get(_WVAL, "") if text is not None else "",
    )


_ROMAN = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
          (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]


def _format_number(value: int, fmt: str) -> str:
    if fmt in ("upperRoman", "lowerRoman") and value > 0:
        out = ""
        for n, sym in _ROMAN:
            while value >= n:
                out += sym
                value -= n
        return out if fmt == "upperRoman" else out.lower()
    if fmt in ("lowerLetter", "upperLetter") and value > 0:
        # Word: a..z, then aa..zz, aaa..
        letter = "abcdefghijklmnopqrstuvwxyz"[(value - 1) % 26] * ((value - 1) // 26 + 1)
        return letter if fmt == "lowerLetter" else letter.upper()
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


def _bullet(text: str) -> str:
    """A bullet's visible mark; Symbol/Wingdings private-use glyphs mapped to plain ones."""
    text = text.strip()
    if not text:
        return "•"
    c = text[0]
    if "\uf000" <= c <= "\uf0ff":  # symbol fonts put their glyphs at U+F0xx
        c = chr(ord(c) - 0xF000)
    return c if c in "-–—+*•" else "•"


# ---------------------------------------------------------------------------------------
# DOC (Word 97) through LibreOffice

_DOC_REFUSAL = "legacy Word .doc: install LibreOffice (apt-get install libreoffice-writer-nogui) or save it as .docx"


def _read_doc(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    where = str(path)
    if data.startswith(_ZIP_MAGIC):  # a .docx with a .doc name
        return _read_docx(path, data, info)
    if data.startswith(_RTF_MAGIC):
        raise IngestError(where, "RTF file with a .doc name: save it as .docx")
    if not data.startswith(_OLE_MAGIC):
        raise IngestError(where, f"not a Word .doc file ({_describe_magic(data)})")
    soffice = soffice_path()
    if soffice is None:
        raise IngestError(where, _DOC_REFUSAL)
    with tempfile.TemporaryDirectory(prefix="vanban-doc-") as tmp:
        src = Path(tmp) / "in.doc"
        src.write_bytes(data)
        cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
               "--convert-to", "docx", "--outdir", tmp, str(src)]
        try:
            with _address_space_lifted():
                subprocess.run(cmd, capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise IngestError(where, f"LibreOffice took over {SOFFICE_TIMEOUT_S} s to convert the .doc") from exc
        out = Path(tmp) / "in.docx"
        if not out.is_file():
            raise IngestError(where, "LibreOffice could not convert the .doc (corrupt file?)")
        converted = _read_docx(path, out.read_bytes(), info)
    converted.info.format = "doc"
    converted.info.converted_from = "doc"
    return converted


@contextlib.contextmanager
def _address_space_lifted():
    """A worker's memory cap (RLIMIT_AS) lifted while it starts LibreOffice, which inherits
    rlimits and reserves more address space than it uses; its time limit still holds."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, AttributeError, OSError, ValueError):
        yield
        return
    lifted = False
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            lifted = True
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        if lifted:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def soffice_path() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _describe_magic(data: bytes) -> str:
    head = data[:8]
    if head.startswith(_PDF_MAGIC):
        return "it is a PDF"
    if head.startswith(_ZIP_MAGIC):
        return "it is a ZIP container"
    if head.startswith(_OLE_MAGIC):
        return "it is an OLE file such as Word 97 .doc"
    if head.startswith(_RTF_MAGIC):
        return "it is RTF"
    return f"starts with {head[:4]!r}"


_READERS = {".txt": _read_txt, ".pdf": _read_pdf, ".docx": _read_docx, ".doc": _read_doc}

__all__ = ["ingest", "MAX_TEXT_BYTES", "soffice_path"]
