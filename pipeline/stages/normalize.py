"""Stage 2, normalize: one paragraph per line, hard wraps re-joined, a map back to the source.

Requires: the `SourceText` of ingest. Adds: doc.text and doc.source_map (pipeline/parse.py sets
them from what `normalize` returns, then doc.pages and doc.tables through them).

PDF copies and some TXT exports break every visual line (often with blank lines between) and
leave page numbers and stray indentation at page breaks. We rebuild paragraphs:

- a line that starts with a list or heading marker (I., 1., a), -, +, footnote digit), or
  with a header/footer phrase (Số:, Kính gửi, Nơi nhận, KT. CHỦ TỊCH, "<Place>, ngày")
  always starts a paragraph;
- a line that starts in lower case continues the previous one;
- a line ending in "-" or "/" inside a document number (`843/KH-` + `UBND`) is joined
  with no space;
- otherwise a line continues the previous one when that one does not end a sentence and
  reaches (nearly) the wrap width measured on this very document.

A source whose lines are real paragraphs (`SourceText.hard_wrapped` False: DOCX) has no
visual wraps, so there is no wrap width and no page number lines. Its lines are joined only
where an author broke one sentence into two Word paragraphs: a line that starts in lower case
(or the tail of a number cut at "-" or "/") after a line that is not a heading, and never
inside a table, so the cells of a table stay apart.

Runs of spaces inside a line collapse to one. Nothing else is rewritten: no tone-mark
changes, no quote changes (see notes/vietnamese-tooling.md §3); matching uses
`pipeline.textkeys`.
"""
from __future__ import annotations

import bisect
import re
import statistics
import unicodedata

from functools import lru_cache

from ..model import SourceMap, SourceText
from ..rules import load
from ..textkeys import search_key

STAGE = "normalize"

_RULES = load("normalize")  # rules/normalize.yaml: the words; the code keeps the marker grammar
_MARKER = re.compile(
    r"^[*_\s]*(?:"
    r"[IVXLC]{1,6}\s*[.)]"                        # I.  II)
    r"|[IVXLC]{1,6}\s*/\s"                        # II/
    r"|\d{1,3}(?:\.\d{1,3}){0,3}\s*[.)](?:\s|$)"  # 1.  4.1.  2)
    r"|\d{1,3}\s*/\s"                             # 1/
    r"|\d{1,3}\.\d{1,3}(?:\.\d{1,3})*\s"          # 4.1 Heading
    r"|[a-zđ]\s*\)"                               # a)  đ)
    r"|[a-zđ]\s*[./]\s"                           # a.  b/  (the outline's lettered items)
    r"|[-–—+•*▪◦●➢➤►](?:\s|$)"                    # bullets
    r"|[¹²³⁴⁵⁶⁷⁸⁹⁰]+"                             # footnote bodies
    rf"|{_RULES['heading_word']['pattern']}"      # PHẦN I, Điều 1.
    r")"
)
_DOC_TYPE_WORDS = _RULES["doc_type_line"]["pattern"]
_HEADER_START = re.compile(
    r"^[*_\s]*(?:" + "|".join([*_RULES["header_start"]["patterns"], rf"(?:{_DOC_TYPE_WORDS})\s*$"]) + ")"
)
_DOC_TYPE_LINE = re.compile(rf"^[*_\s]*(?:{_DOC_TYPE_WORDS})[*_\s]*$")
_PAGE_NUMBER = re.compile(_RULES["page_number"]["pattern"], re.I)
# Both run on a whole line and are anchored at its end. _SENTENCE_END opens with one
# character class (the "./." ending ends in "." too) so the regex engine skips ahead to the
# next stop; _NUMBER_WRAP is tried only on a line ending in "-" or "/".
_SENTENCE_END = re.compile(r"[.:;!?…][*_)\"”’\s]*$")
_NUMBER_WRAP = re.compile(r"(?:\d|[A-ZĐ]{1,8})[-/]$")
_WORD_OR_DIGIT = re.compile(r"^[\w(]")
_BLANKS = " \t\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u3000\f\v"
# A run that is not exactly one plain space: collapsed to one space. It is a blank, then either
# more blanks if that first one is no plain space ("(?<! )" looks back at it), or at least one
# more blank. Same matches as "[blanks]{2,}|[blanks other than space]", but opening with one
# character class lets the regex engine skip ahead to the next blank; an alternation at the
# front makes it try every position of the text (4x slower).
_SPACE_RUN = re.compile(
    r"[ \t\u00a0\u2000-\u200b\u202f\u3000\f\v]"
    r"(?:(?<! )[ \t\u00a0\u2000-\u200b\u202f\u3000\f\v]*|[ \t\u00a0\u2000-\u200b\u202f\u3000\f\v]+)"
)
_NONSPACE = re.compile(r"[^ \t\u00a0\u2000-\u200b\u202f\u3000\r\n\f\v]+")


class _Line:
    """One non-blank source line: its text with space runs collapsed, and where it came from.

    `segments` holds (offset in `text`, source offset) at each point where the text stops
    being a one-for-one copy of the source (after a collapsed space run).
    """

    __slots__ = ("text", "segments", "src_end")

    def __init__(self, text: str, segments: list[tuple[int, int]], src_end: int):
        self.text = text
        self.segments = segments
        self.src_end = src_end  # source offset just after the last character


def _split_lines(src: str) -> list[_Line]:
    """The non-blank lines of `src`, stripped, with space runs collapsed to one space."""
    out: list[_Line] = []
    pos = 0
    # Where space runs start, found in one pass. A run inside a stripped line is bounded by
    # non-blank characters of that line, so it is the same run in `src`: a line needs
    # collapsing exactly when one of these starts inside it.
    runs = [m.start() for m in _SPACE_RUN.finditer(src)]
    for raw in src.splitlines(keepends=True):
        start = pos
        pos += len(raw)
        body = raw.rstrip("\r\n")
        stripped = body.strip(_BLANKS)
        if not stripped:
            continue
        lead = len(body) - len(body.lstrip(_BLANKS))
        src0 = start + lead
        first_run = bisect.bisect_left(runs, src0) if runs else 0
        if first_run == len(runs) or runs[first_run] >= src0 + len(stripped):  # the common case: a verbatim copy
            out.append(_Line(stripped, [(0, src0)], src0 + len(stripped)))
            continue
        parts, segments, length = [], [], 0
        for word in _NONSPACE.finditer(stripped):
            if parts:
                parts.append(" ")
                length += 1
            if not segments or segments[-1][1] + (length - segments[-1][0]) != src0 + word.start():
                segments.append((length, src0 + word.start()))
            parts.append(word.group(0))
            length += len(word.group(0))
        out.append(_Line("".join(parts), segments, src0 + len(stripped)))
    return out


def _is_upper(text: str) -> bool:
    """All letters upper case, and at least two of them (a heading, not "I" or "A)")."""
    return text.isupper() and sum(c.isalpha() for c in text) >= 2


def _wrap_width(lines: list[_Line]) -> float:
    """Typical length of a visually wrapped line; inf when the text is not hard-wrapped."""
    sure = [
        len(a.text)
        for a, b in zip(lines, lines[1:])
        if b.text[:1].islower() and not _MARKER.match(b.text)
    ]
    if len(sure) < 5:
        return float("inf")
    return statistics.median(sure)


def _joins(prev: _Line, cur: _Line, width: float | None) -> str | None:
    """How `cur` continues `prev`: " " or "" (joined), or None (new paragraph).

    `width` None: the lines are real paragraphs (DOCX); only the sure continuations join.
    """
    prev_text, text = prev.text, cur.text
    lower = text[:1].islower()
    # Every _HEADER_START phrase opens with a capital, "*", "_" or a space: a line in lower
    # case cannot match it, and matches _MARKER only as "a)", "a." or "a/".
    if ((not lower or ")" in text or text[1:2] in (".", "/")) and _MARKER.match(text)) \
            or (not lower and _HEADER_START.match(text)) or _DOC_TYPE_LINE.match(prev_text):
        return None
    if prev_text.endswith(("-", "/")) and _NUMBER_WRAP.search(prev_text) and _WORD_OR_DIGIT.match(text):
        return ""
    if lower:
        return " "
    if width is None:
        return None
    if _SENTENCE_END.search(prev_text):
        return None
    if prev_text.endswith(","):
        return " "
    if _is_upper(prev_text) != _is_upper(text) or _opens_paragraph(text):
        return None
    return " " if len(prev_text) >= 0.8 * width else None


@lru_cache(maxsize=1)
def _opener() -> re.Pattern[str]:
    return re.compile(_RULES["paragraph_openers"]["pattern"])


def _opens_paragraph(line: str) -> bool:
    return bool(_opener().match(search_key(line[:40])))


def normalize(source: SourceText) -> tuple[str, SourceMap]:
    """Normalized text (one paragraph per line) and its map back to `source.text`."""
    src = source.text
    if not unicodedata.is_normalized("NFC", src):
        # Ingest hands over NFC text; a direct caller may not. NFC may change lengths, so
        # the map then points into the NFC form of the source.
        src = unicodedata.normalize("NFC", src)
    line_starts = [0]
    for newline in re.finditer(r"\n", src):
        line_starts.append(newline.end())

    lines = _split_lines(src)
    if source.hard_wrapped:
        lines = [ln for ln in lines if not _PAGE_NUMBER.match(ln.text)]
        width: float | None = _wrap_width(lines)
    else:
        # Lines of a format without visual wraps (DOCX): no wrap width, and no page numbers
        # in its body either (a lone "1" is a table's STT cell).
        width = None
    in_table = _table_lines(source, lines)

    out: list[str] = []
    seg_norm: list[int] = []
    seg_src: list[int] = []
    pos = 0

    def add_segment(norm: int, src_offset: int) -> None:
        # Skip a segment that merely continues the previous one-for-one copy.
        if not seg_norm or seg_src[-1] + (norm - seg_norm[-1]) != src_offset:
            seg_norm.append(norm)
            seg_src.append(src_offset)

    prev: _Line | None = None
    for idx, line in enumerate(lines):
        if prev is not None:
            glue = None if in_table[idx] or in_table[idx - 1] else _joins(prev, line, width)
            sep = "\n" if glue is None else glue
            if sep:  # a separator maps to the source just after the previous line
                add_segment(pos, prev.src_end)
                out.append(sep)
                pos += len(sep)
        for offset, src_offset in line.segments:
            add_segment(pos + offset, src_offset)
        out.append(line.text)
        pos += len(line.text)
        prev = line
    text = "".join(out)
    smap = SourceMap(
        segments=list(zip(seg_norm, seg_src)),
        source_line_starts=line_starts,
        page_starts=list(source.page_starts),
    )
    return text, smap


def _table_lines(source: SourceText, lines: list[_Line]) -> list[bool]:
    """For each line, whether it lies inside a table that ingest found (never joined)."""
    ranges: list[tuple[int, int]] = []
    for table in source.tables:
        cells = [c for row in table for c in row]
        if cells:
            ranges.append((min(s for s, _ in cells), max(e for _, e in cells)))
    if not ranges:
        return [False] * len(lines)
    merged: list[tuple[int, int]] = []  # a nested table lies inside its outer one
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    ranges = merged
    starts = [r[0] for r in ranges]
    out = []
    for line in lines:
        src = line.segments[0][1]
        table_idx = bisect.bisect_right(starts, src) - 1
        out.append(table_idx >= 0 and src < ranges[table_idx][1])
    return out


def page_spans(text: str, smap: SourceMap) -> list[tuple[int, int]]:
    """(start, end) of each page in the normalized text, from the source page starts."""
    if not smap.page_starts:
        return []
    starts = []
    norm_src = [(n, s) for n, s in smap.segments]
    for ps in smap.page_starts:
        # first normalized offset whose source offset is at or after the page start
        best = len(text)
        for norm_off, src_off in norm_src:
            if src_off >= ps:
                best = norm_off
                break
        starts.append(best)
    ends = starts[1:] + [len(text)]
    return list(zip(starts, ends))
