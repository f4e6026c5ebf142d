"""The `.txt` reader: bytes in any encoding Vietnamese text files come in, to NFC text.

UTF-8 (with or without BOM), UTF-16/UTF-32 with a BOM, UTF-16 without a BOM when the NUL
pattern says so, CP1258. Text typed in legacy TCVN3/VNI fonts is detected (viparse) and
converted; UTF-8 that was once read as cp1252/latin-1 (mojibake) is repaired (ftfy). Tables
typed with "|" or tabs are kept as cell offsets (`text_tables`).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText

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


def read_txt(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    """The .txt file `path`, whose bytes are `data`, as text; raises IngestError."""
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
    if "|" not in text and "\t" not in text:
        return tables  # no line can be a row (most texts): not read line by line
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

