"""The `.pdf` reader: page text with pypdfium2, page numbers kept.

A PDF with no text layer, or whose text layer is mostly unmapped glyphs (fonts without a
Unicode map), is refused as "needs OCR". Text that signed PDFs stamp into signature fields
(the issued number and day) goes to `extra_layers`, as the header line it completes
("Số: 3686/UBND-XD"). On a page whose text shows an assignment table header (gate in
rules/ingest.yaml), pdfplumber finds the table's cells from its ruling lines; each cell's text
is found in the page text and its offsets go to `SourceText.tables` (a cell's visual line
breaks become spaces there).
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText
from .checks import PDF_MAGIC, SUPERSCRIPT_DIGITS, SURROGATES, describe_magic, limit

# A PDF whose text layer has at least this share of unreadable characters is refused.
UNREADABLE_SHARE_REFUSE = 0.10
# A page of an otherwise readable PDF with this share gets a warning.
UNREADABLE_SHARE_WARN = 0.20
# Fewer non-space characters per page than this (on average) means "scanned, no text".
MIN_CHARS_PER_PAGE = 20
# Characters sampled per PDF page to ask pdfium whether their Unicode map is broken.
_MAP_SAMPLE = 64

# Characters that mean "glyph without a Unicode mapping": U+FFFD, private use, control
# characters (pdfium passes raw codes through), and pdfminer's "(cid:N)" spelling.
_UNREADABLE = re.compile(r"\(cid:\d+\)|[\ufffd\ue000-\uf8ff\x00\x01\x03-\x08\x0b\x0e-\x1f\x7f]")


def read_pdf(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    """The .pdf file `path`, whose bytes are `data`, as text; raises IngestError."""
    import pypdfium2 as pdfium

    where = str(path)
    if not data.startswith(PDF_MAGIC) and PDF_MAGIC not in data[:1024]:
        raise IngestError(where, f"not a PDF file ({describe_magic(data)})")
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
        n_chars = textpage.count_chars()
        if n_chars:
            step = max(1, n_chars // _MAP_SAMPLE)
            sampled = range(0, n_chars, step)
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

    n_chars = textpage.count_chars()
    origin_x, origin_y = ctypes.c_double(), ctypes.c_double()
    chars, sizes, ys = [], [], []
    for index in range(n_chars):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        chars.append(chr(code) if code else "")
        sizes.append(pdfium_c.FPDFText_GetFontSize(textpage, index))
        pdfium_c.FPDFText_GetCharOrigin(textpage, index, ctypes.byref(origin_x), ctypes.byref(origin_y))
        ys.append(origin_y.value)
    visible = [bool(c.strip()) and pdfium_c.FPDFText_IsGenerated(textpage, i) != 1 for i, c in enumerate(chars)]

    def neighbour(start: int, step: int, same_line: bool = True) -> int | None:
        other = start + step
        while 0 <= other < n_chars and not visible[other]:
            if same_line and chars[other] in "\r\n":
                return None
            other += step
        return other if 0 <= other < n_chars else None

    out = list(chars)
    for index, char in enumerate(chars):
        if not (char.isdigit() and visible[index]):
            continue
        before, after = neighbour(index, -1), neighbour(index, 1)
        if before is None and after is None:
            after = neighbour(index, 1, same_line=False)  # a marker alone on its line
        for other in (after, before):
            if other is None or chars[other].isdigit() and sizes[other] < 0.8 * max(sizes[index], 1):
                continue
            if sizes[index] < 0.8 * sizes[other] and ys[index] > ys[other] + 0.15 * sizes[other]:
                out[index] = char.translate(SUPERSCRIPT_DIGITS)
            break
    text = "".join(out)
    if SURROGATES.search(text):
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
    for number in range(pdfium_c.FPDFPage_GetAnnotCount(page)):
        annot = pdfium_c.FPDFPage_GetAnnot(page, number)
        try:
            if pdfium_c.FPDFAnnot_GetSubtype(annot) == pdfium_c.FPDF_ANNOT_WIDGET:
                box = pdfium_c.FS_RECTF()
                if pdfium_c.FPDFAnnot_GetRect(annot, box):
                    rects.append((box.left, box.bottom, box.right, box.top))
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
        for char_index, ch in _pdf_chars(flat, bands, n_before):
            (before if char_index < n_before else added).append(ch)
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
    for index in range(textpage.count_chars()):
        if not pdfium_c.FPDFText_GetCharBox(textpage, index, *refs):
            if chr(pdfium_c.FPDFText_GetUnicode(textpage, index) or 32) in "\r\n" and not gap:
                yield index, ("\n", True, (0, 0, 0, 0))
                gap = True
            continue
        middle_y = (bottom.value + top.value) / 2
        if index < first_new and not (
            lowest <= middle_y <= highest and any(lo <= middle_y <= hi for lo, hi in bands)
        ):
            if not gap:
                yield index, ("\n", True, (0, 0, 0, 0))
                gap = True
            continue
        gap = False
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        generated = pdfium_c.FPDFText_IsGenerated(textpage, index) == 1
        yield index, (chr(code) if code else "", generated, (left.value, bottom.value, right.value, top.value))


def _center_in(box: tuple, rect: tuple) -> bool:
    center_x, center_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return rect[0] <= center_x <= rect[2] and rect[1] <= center_y <= rect[3]


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
        stamp_x = (min(g[2][0] for g in glyphs) + max(g[2][2] for g in glyphs)) / 2
        best = None
        for line_no, line in enumerate(lines):
            ys = [(c[2][1] + c[2][3]) / 2 for c in line if not c[1] and c[0].strip()]
            if not ys or not any(bottom - 2 <= y <= top + 2 for y in ys):
                continue
            xs = [c[2][0] for c in line if not c[1]] + [c[2][2] for c in line if not c[1]]
            dist = 0 if min(xs) <= stamp_x <= max(xs) else min(abs(stamp_x - min(xs)), abs(stamp_x - max(xs)))
            if best is None or dist < best[0]:
                best = (dist, line_no)
        if best is None:
            alone.append(text)
        else:
            inserts.setdefault(best[1], []).append((stamp_x, text))
    out = []
    for line_no in sorted(inserts):
        line = lines[line_no]
        pieces = [(((c[2][0] + c[2][2]) / 2) if not c[1] else None, c[0]) for c in line]
        # a generated char (space) takes the x of the char before it
        last_x = float("-inf")
        placed = []
        for piece_x, ch in pieces:
            last_x = piece_x if piece_x is not None else last_x
            placed.append((last_x, ch))
        for stamp_x, text in sorted(inserts[line_no]):
            pos = next((i for i, (cx, _) in enumerate(placed) if cx > stamp_x), len(placed))
            before = placed[pos - 1][1] if pos else ""
            after = placed[pos][1] if pos < len(placed) else ""
            glued = (" " if before.isalnum() else "") + text + (" " if after.isalnum() else "")
            placed.insert(pos, (stamp_x, glued))
        line_text = re.sub(r"\s+", " ", "".join(ch for _, ch in placed)).strip()
        out.append(unicodedata.normalize("NFC", line_text))
    return out + [unicodedata.normalize("NFC", t) for t in alone]


def _pdf_signatures(pdf) -> list[str]:
    """One line per digital signature: who signed (the Reason text) and when."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    out = []
    for number in range(pdfium_c.FPDF_GetSignatureCount(pdf)):
        sig = pdfium_c.FPDF_GetSignatureObject(pdf, number)
        size = pdfium_c.FPDFSignatureObj_GetReason(sig, None, 0)
        reason = ""
        if size > 2:
            buf = ctypes.create_string_buffer(size)
            pdfium_c.FPDFSignatureObj_GetReason(sig, buf, size)
            reason = buf.raw[: size - 2].decode("utf-16-le", "replace").strip()
        size = pdfium_c.FPDFSignatureObj_GetTime(sig, None, 0)
        when = ""
        if size > 1:
            buf = ctypes.create_string_buffer(size)
            pdfium_c.FPDFSignatureObj_GetTime(sig, buf, size)
            when = _pdf_date(buf.raw[: size - 1].decode("latin-1"))
        if reason or when:
            from ...rules import load

            words = load("ingest")["signature_line"]
            line = words["with_reason"].format(reason=reason) if reason else words["without_reason"]
            out.append(unicodedata.normalize("NFC", line + (words["signed_at"].format(when=when) if when else "")))
    return out


def _pdf_date(raw: str) -> str:
    """PDF date "D:20260511152011+07'00'" as ISO "2026-05-11T15:20:11+07:00"."""
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?([+-Z])?(\d{2})?'?(\d{2})?", raw)
    if not match:
        return raw
    year, month, day, hh, mi, ss, sign, th, tm = match.groups()
    iso = f"{year}-{month}-{day}"
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
    for who in rules["who"].finditer(low):
        if (rules["before"].search(low, max(0, who.start() - window), who.start())
                or rules["after"].match(low[who.end():who.end() + window])):
            return True
    return False


def _compare_key(text: str, base: int = 0) -> tuple[str, list[int]]:
    """`text` without white space or line-end hyphens, and each kept character's offset.

    pdfplumber and pypdfium2 agree on the characters of a cell but not on its spaces and
    line breaks, nor on whether a hyphen at a line end is kept."""
    text = _LINE_BREAK_HYPHEN.sub(lambda hyphen: " " * len(hyphen.group(0)), text)
    chars, offsets = [], []
    for offset, char in enumerate(text):
        if not char.isspace():
            chars.append(char)
            offsets.append(base + offset)
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
        found.sort(key=lambda table: (table.bbox[1], table.bbox[0]))
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

        for number, (rows, table) in enumerate(cells_of):
            grid = [[(index, shift(s), shift(e)) for s, e in row] for row in rows]
            if number == 0 and goes_on and self._continues(grid, table, page, out):
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
        if not grid or not any(any(col_no is not None for col_no in row) for row in grid):
            return None
        key, offsets = _compare_key(text[cursor:], cursor)
        table_key, cell_ends = [], []
        for row_no, row in enumerate(grid):
            for col_no, bbox in enumerate(row):
                if bbox is not None:
                    ck, _ = _compare_key(unicodedata.normalize("NFC", cell_text[row_no][col_no] or ""))
                    table_key.append(ck)
                    cell_ends.append((row_no, col_no, len(ck)))
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
        for row_no, col_no, length in cell_ends:
            if length:
                start, end = offsets[pos], offsets[pos + length - 1] + 1
                last_end = end
            else:  # an empty cell: a zero-length span after the previous cell
                start = end = last_end
            spans[(row_no, col_no)] = (start, end)
            pos += length
        # Merged cells: pdfplumber gives None at the grid positions a cell covers; such a
        # position repeats the span of the cell whose box holds its centre.
        col_x = sorted({bbox[0] for row in grid for bbox in row if bbox is not None}) + [table.bbox[2]]
        row_y = [row.bbox[1] for row in table.rows] + [table.bbox[3]]
        boxes = [(grid[row_no][col_no], (row_no, col_no)) for row_no, col_no in spans]
        rows: list[list[tuple[int, int]]] = []
        n_cols = max(len(row) for row in grid)
        for row_no in range(len(grid)):
            out_row = []
            for col_no in range(n_cols):
                if (row_no, col_no) in spans:
                    out_row.append(spans[(row_no, col_no)])
                    continue
                center_x = (col_x[min(col_no, len(col_x) - 2)] + col_x[min(col_no + 1, len(col_x) - 1)]) / 2
                center_y = (row_y[row_no] + row_y[row_no + 1]) / 2
                cover = next((rc for b, rc in boxes if b[0] <= center_x <= b[2] and b[1] <= center_y <= b[3]), None)
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
            for offset in range(start, end):
                if text[offset] != "\n":
                    continue
                if paragraph.match(text[offset + 1:end].lstrip(" \t")):
                    continue
                before = text[start:offset].rstrip(" \t")
                hyphen = before.endswith("-") and len(before) > 1 and not before[-2].isspace()
                edits[offset] = "" if hyphen else " "
        for number, (start, end) in enumerate(cells):
            if start == end:
                continue
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            if line_end < 0 or not _NUMBER_LINE.fullmatch(text[line_start:line_end]):
                continue
            if number + 1 < len(cells) and cells[number + 1][0] > line_end:
                edits[line_end] = " "
            elif line_start > 0 and number > 0:
                edits[line_start - 1] = " "

