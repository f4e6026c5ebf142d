"""Stage 4, outline: the heading tree, its depth derived from the marker sequence.

Vietnamese administrative documents number their parts with a small set of markers —
Phần/Chương, I., 1., 4.1., a), -, +, Điều 1. — rarely with styles a parser could trust.
As in regparser, depth comes from the sequence of marker *types*: a marker type already
open on the stack closes everything below it (a sibling); a new type opens a child. So
"I. / 1. / a) / -" nests four deep, and a letter with no Roman numerals above it ("1. /
-") starts at level 1, whatever the fonts said.

Each top-level section gets a canonical kind from rules/sections.yaml, matched on the
heading's search key so that typos in tone marks ("THƯC HIỆN") and sentence case classify
the same. An unknown heading is `other`, with a warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .model import Document, Section
from .rules import load
from .textkeys import search_key

STAGE = "outline"

# Order in which marker types usually nest; used only to break ties for a type never seen.
_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(r"^(?:Phần|PHẦN)\s+(?:thứ\s+)?([IVXLC]+|\d+|[^\W\d_]+)\b[.:]?\s*")),
    ("chapter", re.compile(r"^(?:Chương|CHƯƠNG)\s+([IVXLC]+|\d+)\b[.:]?\s*")),
    ("article", re.compile(r"^(?:Điều|ĐIỀU)\s+(\d+)\s*[.:]\s*")),
    ("roman", re.compile(r"^([IVXLC]{1,6})\s*[.)]\s+")),
    ("decimal", re.compile(r"^(\d{1,3}(?:\.\d{1,3}){1,3})\.?\s+")),
    ("arabic", re.compile(r"^(\d{1,3})\s*[.)]\s+")),
    ("letter", re.compile(r"^([a-zđ])\s*\)\s+")),
    ("dash", re.compile(r"^[-–—•]\s+")),
    ("plus", re.compile(r"^\+\s+")),
]
_OPENERS = {"part", "chapter", "article", "roman", "decimal", "arabic"}
_ROMAN = re.compile(r"^[IVXLC]+$")
_LEADING_NOISE = re.compile(r"^[*_\s]+")


@dataclass
class _Open:
    marker: str
    section: Section
    children: int = 0  # bullets counted for "#n" ids


@dataclass(frozen=True)
class _KindRules:
    quantifier: re.Pattern[str]
    kinds: list[tuple[str, list[re.Pattern[str]]]]
    agency_prefix: re.Pattern[str]
    agency_kind: str
    instruction: re.Pattern[str]
    instruction_kind: str
    body_end: re.Pattern[str]


@lru_cache(maxsize=1)
def _kind_rules() -> _KindRules:
    r = load("sections")
    return _KindRules(
        quantifier=re.compile(r["quantifier"]),
        kinds=[(k["kind"], [re.compile(p) for p in k["patterns"]]) for k in r["kinds"]],
        agency_prefix=re.compile(r["agency_heading"]["prefix"]),
        agency_kind=r["agency_heading"]["kind"],
        instruction=re.compile(r["instruction_item"]["pattern"]),
        instruction_kind=r["instruction_item"]["kind"],
        body_end=re.compile(r["body_end"]["pattern"]),
    )


def _names_an_agency(heading: str, key: str) -> bool:
    """Does the heading open with an agency name (of at least two words)?"""
    from .agencies import agency_at

    m = _kind_rules().agency_prefix.match(key)
    pos = m.end() if m else 0
    agency = agency_at(heading, pos)
    return agency is not None and len(agency.raw.split()) >= 2


def classify_heading(heading: str) -> str | None:
    """The canonical kind of a top-level heading, or None when no rule knows it."""
    rules = _kind_rules()
    heading = _LEADING_NOISE.sub("", heading)
    key = search_key(heading)
    if _names_an_agency(heading, key):
        return rules.agency_kind
    # Kind words sit in the heading itself, not in a long sentence that follows it.
    head = re.split(r"[:.;]\s|:$", key.strip(), maxsplit=1)[0]
    q = rules.quantifier.match(head)
    start = q.end() if q else 0
    for kind, patterns in rules.kinds:
        if any(p.match(head, start) for p in patterns):
            return kind
    if rules.instruction.match(head):
        return rules.instruction_kind
    return None


# A report tells what was done, then assesses it, then proposes: an unknown section before
# the assessment is part of the account.
_REPORT_LATER_KINDS = {"danh_gia", "kien_nghi_de_xuat", "phuong_huong"}


def _top_level_kind(doc: Document, heading: str, earlier: list[Section], section: Section) -> str:
    kind = classify_heading(heading)
    if kind is not None:
        return kind
    if doc.metadata.doc_type == "bao_cao" and not any(s.kind in _REPORT_LATER_KINDS for s in earlier):
        return "tinh_hinh_thuc_hien"
    doc.warn(STAGE, f"unknown kind of section {section.id} heading {heading[:60]!r}", section.heading_span)
    return "other"


def _match_marker(line: str) -> tuple[str, str | None, int] | None:
    """(marker type, number, length of the marker) for a line that opens a section."""
    for name, pattern in _MARKERS:
        m = pattern.match(line)
        if m:
            number = m.group(1) if m.groups() else None
            if name == "roman" and not _ROMAN.match(number or ""):
                continue
            return name, number, m.end()
    return None


def _lines(text: str):
    pos = 0
    for line in text.split("\n"):
        yield pos, line
        pos += len(line) + 1


def _is_closing(line: str) -> bool:
    key = search_key(_LEADING_NOISE.sub("", line))
    return bool(_kind_rules().body_end.match(key)) or line.rstrip("*_ ").endswith("./.")


def extract_outline(doc: Document) -> None:
    text = doc.text
    sections: list[Section] = []
    stack: list[_Open] = []
    ids: set[str] = set()
    body_started = False
    body_end = len(text)

    def close_to(depth: int, end: int) -> None:
        while len(stack) > depth:
            node = stack.pop().section
            node.span.end = end

    for start, line in _lines(text):
        if not line.strip():
            continue
        found = _match_marker(line)
        if found is None:
            if body_started and _is_closing(line):
                body_end = start
                break
            continue
        marker, number, marker_len = found
        if not body_started:
            # Bullets before the first numbered heading are header lists (Kính gửi).
            if marker not in _OPENERS:
                continue
            body_started = True
        # Depth from the marker sequence: an open marker of the same type is a sibling.
        open_types = [o.marker for o in stack]
        if marker in open_types:
            depth = open_types.index(marker)
        elif marker == "decimal" and "arabic" in open_types:
            depth = open_types.index("arabic") + 1
        else:
            depth = len(stack)
        close_to(depth, start)
        parent = stack[-1] if stack else None
        if number is None:
            parent_id = parent.section.id if parent else ""
            if parent:
                parent.children += 1
                sid = f"{parent_id}#{parent.children}"
            else:
                sid = f"#{len(sections) + 1}"
        else:
            own = number.split(".")[-1] if marker == "decimal" else number
            sid = f"{parent.section.id}.{own}" if parent else own
        base, n = sid, 2
        while sid in ids:  # a list restarted under the same parent
            sid, n = f"{base}~{n}", n + 1
        ids.add(sid)
        line_end = start + len(line)
        heading = line[marker_len:].strip()
        level = len(stack) + 1
        section = Section(
            id=sid,
            number=number,
            marker=marker,
            level=level,
            heading=heading,
            kind=None,
            span=doc.span(start, len(text)),
            heading_span=doc.span(start, line_end),
            parent=parent.section.id if parent else None,
        )
        if level == 1:
            section.kind = _top_level_kind(doc, heading, sections, section)
        sections.append(section)
        stack.append(_Open(marker, section))
    close_to(0, body_end)
    # Trim trailing newlines so a span ends on the section's last character.
    for s in sections:
        while s.span.end > s.span.start and text[s.span.end - 1] == "\n":
            s.span.end -= 1
    if not sections:
        doc.warn(STAGE, "no numbered sections found")
    doc.sections = sections
