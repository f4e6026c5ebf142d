"""The `.docx` reader: the body in document order, tables interleaved and kept as tables.

word/document.xml is read with lxml (python-docx opens irregular packages and lays out table
grids); tables row by row, each cell's paragraphs on their own lines (a merged cell once), and
each cell's offsets in `SourceText.tables`; automatic numbering made visible; footnotes
appended. The package's sizes are checked before anything is inflated (zip bombs).
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText
from .checks import MAX_DOCX_PART_MB, OLE_MAGIC, SUPERSCRIPT_DIGITS, ZIP_MAGIC, describe_magic, limit

_WML = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_WT, _WTAB, _WBR, _WCR = f"{{{_WML}}}t", f"{{{_WML}}}tab", f"{{{_WML}}}br", f"{{{_WML}}}cr"
_WFOOTREF, _WNBH, _WP = f"{{{_WML}}}footnoteReference", f"{{{_WML}}}noBreakHyphen", f"{{{_WML}}}p"
_WTBL, _WBODY, _WTXBX = f"{{{_WML}}}tbl", f"{{{_WML}}}body", f"{{{_WML}}}txbxContent"
_WPPR, _WNUMPR, _WPSTYLE = f"{{{_WML}}}pPr", f"{{{_WML}}}numPr", f"{{{_WML}}}pStyle"
_WNUMID, _WILVL = f"{{{_WML}}}numId", f"{{{_WML}}}ilvl"
_WVAL = f"{{{_WML}}}val"

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


def read_docx(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    """The .docx file `path`, whose bytes are `data`, as text; raises IngestError."""
    where = str(path)
    if not data.startswith(ZIP_MAGIC):
        if data.startswith(OLE_MAGIC):
            from .doc import read_doc  # doc.py reads the .docx LibreOffice makes with this module

            return read_doc(path, data, info)  # a Word 97 file with a .docx name
        raise IngestError(where, f"not a valid .docx (not a ZIP container: {describe_magic(data)})")
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
            start_offset, end_offset = starts[first], starts[end - 1] + len(lines[end - 1])
            chunk = "\n".join(lines[first:end])
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk) - len(chunk.rstrip())
            return (start_offset + lead, max(start_offset + lead, end_offset - trail))

        return [[[span(*cell) for cell in row] for row in rows] for rows in self.tables]

    def _paragraph(self, paragraph) -> str:
        parts: list[str] = []
        in_textbox = paragraph.find(f".//{_WTXBX}") is not None
        for el in paragraph.iter(_WT, _WTAB, _WBR, _WCR, _WFOOTREF, _WNBH):
            if in_textbox and _inside(el, paragraph, _WTXBX):
                continue  # text boxes are floating shapes, not part of the line
            tag = el.tag
            if tag == _WT:
                parts.append(el.text or "")
            elif tag == _WTAB:
                parts.append("\t")
            elif tag in (_WBR, _WCR):
                if el.get(f"{{{_WML}}}type") in (None, "textWrapping"):
                    parts.append("\n")
            elif tag == _WNBH:
                parts.append("-")
            else:  # footnote reference: Word numbers footnotes in order of reference
                fid = el.get(f"{{{_WML}}}id")
                mark = self.footnote_marks.setdefault(
                    fid, str(len(self.footnote_marks) + 1).translate(SUPERSCRIPT_DIGITS)
                )
                parts.append(mark)
        text = "".join(parts)
        prefix = self.numbering.label(paragraph)
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
        bodies = {fn.get(f"{{{_WML}}}id"): fn for fn in root.iter(f"{{{_WML}}}footnote")}
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
        for an in numbering.iterchildren(f"{{{_WML}}}abstractNum"):
            abstract[an.get(f"{{{_WML}}}abstractNumId")] = {
                int(lvl.get(f"{{{_WML}}}ilvl", "0")): _level(lvl) for lvl in an.iterchildren(f"{{{_WML}}}lvl")
            }
        for num in numbering.iterchildren(f"{{{_WML}}}num"):
            aid = num.find(f"{{{_WML}}}abstractNumId")
            if aid is None:
                continue
            levels = dict(abstract.get(aid.get(_WVAL), {}))
            for override in num.iterchildren(f"{{{_WML}}}lvlOverride"):
                ilvl = int(override.get(f"{{{_WML}}}ilvl", "0"))
                lvl = override.find(f"{{{_WML}}}lvl")
                if lvl is not None:
                    levels[ilvl] = _level(lvl)
                start = override.find(f"{{{_WML}}}startOverride")
                if start is not None and ilvl in levels:
                    _, fmt, text = levels[ilvl]
                    levels[ilvl] = (int(start.get(_WVAL, "1")), fmt, text)
            self.levels[num.get(f"{{{_WML}}}numId")] = levels

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
        for st in self._styles().iterchildren(f"{{{_WML}}}style"):
            styles[st.get(f"{{{_WML}}}styleId")] = st
        for sid in styles:
            seen, cur = set(), sid
            while cur and cur not in seen and cur in styles:
                seen.add(cur)
                st = styles[cur]
                numpr = st.find(f"{{{_WML}}}pPr/{{{_WML}}}numPr")
                if numpr is not None:
                    num_id = numpr.find(f"{{{_WML}}}numId")
                    ilvl = numpr.find(f"{{{_WML}}}ilvl")
                    if num_id is not None:
                        style_num[sid] = (
                            num_id.get(_WVAL),
                            int(ilvl.get(_WVAL)) if ilvl is not None else 0,
                        )
                    break
                based = st.find(f"{{{_WML}}}basedOn")
                cur = based.get(_WVAL) if based is not None else None
        self._style_num = style_num
        return style_num

    def label(self, paragraph) -> str:
        if not self.levels:
            return ""
        ppr = paragraph.find(_WPPR)
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
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        _, fmt, text = levels[ilvl]
        if fmt == "bullet":
            return _bullet(text)
        if fmt == "none":
            return ""

        def level_number(match: re.Match) -> str:
            level = int(match.group(1)) - 1
            if level not in levels:
                return ""
            value = counters.get(level, levels[level][0])
            return _format_number(value, levels[level][1])

        return re.sub(r"%(\d)", level_number, text).strip()


def _level(lvl) -> tuple[int, str, str]:
    start = lvl.find(f"{{{_WML}}}start")
    fmt = lvl.find(f"{{{_WML}}}numFmt")
    text = lvl.find(f"{{{_WML}}}lvlText")
    is_lgl = lvl.find(f"{{{_WML}}}isLgl") is not None
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
        for amount, numeral in _ROMAN:
            while value >= amount:
                out += numeral
                value -= amount
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
    mark = text[0]
    if "\uf000" <= mark <= "\uf0ff":  # symbol fonts put their glyphs at U+F0xx
        mark = chr(ord(mark) - 0xF000)
    return mark if mark in "-–—+*•" else "•"

