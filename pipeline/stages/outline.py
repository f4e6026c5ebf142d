"""Stage 4, outline: the heading tree, its depth derived from the marker sequence.

Requires: doc.text, doc.metadata (header: the document type). Adds: doc.sections.

Vietnamese administrative documents number their parts with a small set of markers —
Phần/Chương, Điều 1., I., 1., 4.1., a) a. a/, - – • * + — rarely with styles a parser could
trust. The markers are data (rules/sections.yaml `markers`). As in regparser, depth comes
from the sequence of marker *types*: a marker type already open on the stack closes
everything below it (a sibling); a new type opens a child. So "I. / 1. / a) / -" nests four
deep, and a letter with no Roman numerals above it ("1. / -") starts at level 1, whatever
the fonts said. A numbered or lettered item never nests inside a bullet ("1. / - / a)":
the a) belongs to the 1.). A decision's articles (Điều N) are its top-level sections, ids
"1", "2", …, their items "3.1", "3.2".

Each top-level section gets a canonical kind from the heading's words (rules/sections.yaml
`kinds`, keyword families matched on the search key so that typos in tone marks ("THƯC
HIỆN") and sentence case classify the same), some of them for one document type only; a
heading no rule knows takes its document type's default (a letter's or notice's numbered
items are directives, a report's parts its account), else `other`, with a warning.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..model import Document, Section
from ..rules import load
from ..textkeys import match_key, search_key

STAGE = "outline"

_ROMAN = re.compile(r"^[IVXLC]+$")
_LEADING_NOISE = re.compile(r"^[*_\s]+")
_OPENERS = {"part", "chapter", "article", "roman", "decimal", "arabic"}
# Bullet types (glyph classes): a bullet never holds a numbered or lettered item.
_BULLETS = {"dash", "dot", "star", "plus"}
# Parts and chapters group the top-level sections: level 0, ids "part-I", "chapter-II"; the
# sections inside keep the paths they would have without them (Roman "I", article "3").
_GROUPS = {"part", "chapter", "attachment"}
_GROUP_RANK = {"attachment": 0, "part": 1, "chapter": 2}


@dataclass(frozen=True)
class _Marker:
    type: str  # what depth is computed from
    marker: str  # the value written to Section.marker
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _markers() -> tuple[_Marker, ...]:
    """Outline markers of rules/sections.yaml, in the order they are tried."""
    return tuple(_Marker(m["type"], m["marker"], re.compile(m["pattern"])) for m in load("sections")["markers"])


@lru_cache(maxsize=1)
def _any_marker() -> re.Pattern[str]:
    """All markers in one pattern: most lines open none, and are passed over in one match.
    Group "m<i>" holds marker i: the first marker whose own pattern matches the line."""
    return re.compile("|".join(f"(?P<m{i}>{m['pattern']})" for i, m in enumerate(load("sections")["markers"])))


@dataclass(slots=True)
class _Open:
    marker: str  # the marker type
    section: Section
    children: int = 0  # bullets counted for "#n" ids


@dataclass(frozen=True)
class _Kind:
    kind: str
    doc_types: frozenset[str] | None  # None: every document type
    patterns: tuple[re.Pattern[str], ...]  # anchored after the quantifier
    keywords: tuple[re.Pattern[str], ...]  # searched anywhere in the first clause
    on_match_key: bool  # patterns written with diacritics ("đã" is not "đá"), run on match_key


@dataclass(frozen=True)
class _KindRules:
    quantifier: re.Pattern[str]
    kinds: tuple[_Kind, ...]
    keyword_max_words: int
    agency_prefix: re.Pattern[str]
    agency_kind: str
    execution: re.Pattern[str]
    execution_kind: str
    instruction: re.Pattern[str]
    instruction_kind: str
    instruction_kind_by_doc_type: dict[str, str]
    default_kind: dict[str, str]
    body_end: re.Pattern[str]


@lru_cache(maxsize=1)
def _kind_rules() -> _KindRules:
    spec = load("sections")
    kinds = tuple(
        _Kind(
            kind=k["kind"],
            doc_types=frozenset(k["doc_types"]) if k.get("doc_types") else None,
            patterns=tuple(re.compile(p) for p in k.get("patterns", ())),
            keywords=tuple(re.compile(r"\b(?:" + p + ")") for p in k.get("keywords", ())),
            on_match_key=k.get("key") == "match",
        )
        for k in spec["kinds"]
    )
    return _KindRules(
        quantifier=re.compile(spec["quantifier"]),
        kinds=kinds,
        keyword_max_words=int(spec["keyword_max_words"]),
        agency_prefix=re.compile(spec["agency_heading"]["prefix"]),
        agency_kind=spec["agency_heading"]["kind"],
        execution=re.compile(spec["execution_clause"]["pattern"]),
        execution_kind=spec["execution_clause"]["kind"],
        instruction=re.compile(spec["instruction_item"]["pattern"]),
        instruction_kind=spec["instruction_item"]["kind"],
        instruction_kind_by_doc_type=dict(spec["instruction_item"].get("kind_by_doc_type") or {}),
        default_kind=dict(spec.get("default_kind") or {}),
        body_end=re.compile(spec["body_end"]["pattern"]),
    )


def _names_an_agency(heading: str, key: str) -> bool:
    """Does the heading open with an agency name (of at least two words)?"""
    from .agencies import agency_at

    prefix = _kind_rules().agency_prefix.match(key)
    pos = prefix.end() if prefix else 0
    agency = agency_at(heading, pos)
    return agency is not None and len(agency.raw.split()) >= 2


def classify_heading(heading: str, doc_type: str | None = None) -> str | None:
    """The canonical kind of a top-level heading from its words, or None when no rule knows it.

    `doc_type` selects the rules that hold for one document type only (a report's "Nhiệm vụ
    năm 2026" is its next period; a letter's instruction item is one of its directives).
    """
    rules = _kind_rules()
    heading = _LEADING_NOISE.sub("", heading)
    key = search_key(heading)
    if _names_an_agency(heading, key):
        return rules.agency_kind
    if rules.execution.search(key):
        return rules.execution_kind
    # Kind words sit in the heading itself, not in a long sentence that follows it.
    lead = len(key) - len(key.lstrip())
    head = re.split(r"[:.;]\s|:$", key.strip(), maxsplit=1)[0]
    # the same clause with its diacritics (search_key and match_key keep the text's length)
    head_marked = match_key(heading)[lead:lead + len(head)]
    quant = rules.quantifier.match(head)
    start = quant.end() if quant else 0
    kinds = [k for k in rules.kinds if k.doc_types is None or doc_type in k.doc_types]
    for rule in kinds:
        target = head_marked if rule.on_match_key else head
        if any(p.match(target, start) for p in rule.patterns):
            return rule.kind
    if rules.instruction.match(head):
        return rules.instruction_kind_by_doc_type.get(doc_type or "", rules.instruction_kind)
    if len(head.split()) > rules.keyword_max_words:
        return None  # a sentence, not a heading: its words say nothing about the part
    best: tuple[int, int, str] | None = None  # (position, list order, kind): the leftmost keyword
    for order, rule in enumerate(kinds):
        for keyword in rule.keywords:
            hit = keyword.search(head, start)
            if hit and (best is None or (hit.start(), order) < best[:2]):
                best = (hit.start(), order, rule.kind)
    return best[2] if best else None


def _top_level_kind(doc: Document, heading: str, section: Section, enclosing: str | None = None,
                    doc_type: str | None = None) -> str:
    kind = classify_heading(heading, doc_type)
    if kind is not None:
        return kind
    if enclosing is not None:  # "PHẦN I. KẾT QUẢ THỰC HIỆN" / "I. Công tác tuyên truyền"
        return enclosing
    default = _kind_rules().default_kind.get(doc_type or "")
    if default is not None:
        return default
    doc.warn(STAGE, f"unknown kind of section {section.id} heading {heading[:60]!r}", section.heading_span)
    return "other"


def _match_marker(line: str) -> tuple[_Marker, str | None, int] | None:
    """(marker, number, length of the marker) for a line that opens a section."""
    first = _any_marker().match(line)
    if not first:
        return None
    # The markers before the one that matched cannot match: start the list there.
    for mk in _markers()[int(first.lastgroup[1:]):]:
        hit = mk.pattern.match(line)
        if hit:
            number = hit.group(1) if hit.groups() else None
            if mk.type == "roman" and not _ROMAN.match(number or ""):
                continue
            return mk, number, hit.end()
    return None


@lru_cache(maxsize=1)
def _attachment_rules() -> tuple[re.Pattern[str], dict[str, str]]:
    """The heading that opens a document attached after the signature, and doc type by name."""
    names = {}
    for doc_type, entry in load("doc_types")["doc_types"].items():
        for name in entry.get("names", []):
            names[search_key(name)] = doc_type
    return re.compile(load("sections")["attachment_heading"]["pattern"]), names


def _attachment_type(line: str) -> str | None:
    """The doc type of an attached document whose heading this line is ("KẾ HOẠCH"), else None."""
    if not line.isupper():  # cheap test first: most lines after the signature are not headings
        return None
    text = _LEADING_NOISE.sub("", line).strip()
    if not text:
        return None
    pattern, names = _attachment_rules()
    key = " ".join(search_key(text).split())
    if not pattern.fullmatch(key):
        return None
    return names.get(key, "other")


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
    closed = False  # after the closing line: only an attached document reopens the outline
    kind_doc_type = doc.metadata.doc_type
    attachments = 0

    def close_to(depth: int, end: int) -> None:
        while len(stack) > depth:
            node = stack.pop().section
            node.span.end = end

    for start, line in _lines(text):
        if not line.strip():
            continue
        if closed:
            attached = _attachment_type(line)
            if attached is None:
                continue
            # A document issued with this one ("Quyết định … ban hành kèm theo" a KẾ HOẠCH or
            # QUY CHẾ after the signature): its sections are read as top-level sections.
            closed, body_started, body_end = False, False, len(text)
            kind_doc_type = attached
            attachments += 1
            group = Section(id=f"attachment-{attachments}", number=None, marker="attachment", level=0,
                            heading=line.strip(), kind=None, span=doc.span(start, len(text)),
                            heading_span=doc.span(start, start + len(line)), parent=None)
            sections.append(group)
            stack.append(_Open("attachment", group))
            continue
        found = _match_marker(line)
        if found is None:
            if body_started and _is_closing(line):
                body_end = start
                close_to(0, body_end)
                closed = True
            continue
        mk, number, marker_len = found
        marker = mk.type
        if not body_started:
            # Bullets before the first numbered heading are header lists (Kính gửi).
            if marker not in _OPENERS:
                continue
            body_started = True
        # Depth from the marker sequence: an open marker of the same type is a sibling.
        open_types = [o.marker for o in stack]
        if marker not in _BULLETS:
            # A numbered or lettered item never sits inside a bullet: close the bullets first.
            while open_types and open_types[-1] in _BULLETS:
                open_types.pop()
        prefix_of = [i for i, o in enumerate(stack[:len(open_types)]) if marker == "decimal" and o.marker in ("decimal", "arabic")
                     and number and o.section.number and number.startswith(o.section.number + ".")]
        if marker in _GROUPS:
            # a part or chapter closes every section but the groups above it (attachment >
            # part > chapter): "I. … / PHẦN II" starts a part at the top, not inside I.
            above = [i for i, o in enumerate(stack) if o.marker in _GROUPS and _GROUP_RANK[o.marker] < _GROUP_RANK[marker]]
            depth = above[-1] + 1 if above else 0
        elif marker == "article" and "article" not in open_types:
            # an article sits right under its chapter (or at the top), never inside an item
            groups = [i for i, o in enumerate(stack) if o.marker in _GROUPS]
            depth = groups[-1] + 1 if groups else 0
        elif prefix_of:
            # "2.1.1." inside "2.1." (and "2.1." inside "2."): the number says whose child it is
            depth = prefix_of[-1] + 1
        elif marker in open_types:
            depth = open_types.index(marker)
        elif marker == "decimal" and "arabic" in open_types:
            depth = open_types.index("arabic") + 1
        else:
            depth = len(open_types)
        close_to(depth, start)
        parent = stack[-1] if stack else None
        group = marker in _GROUPS
        if group:
            sid = f"{marker}-{number}"
        elif number is None:
            parent_id = parent.section.id if parent else ""
            if parent:
                parent.children += 1
                sid = f"{parent_id}#{parent.children}"
            else:
                sid = f"#{len(sections) + 1}"
        else:
            own = number.split(".")[-1] if marker == "decimal" else number
            # a part or chapter groups sections but is no step of their paths ("I.3", "3.1")
            sid = f"{parent.section.id}.{own}" if parent and parent.marker not in _GROUPS else own
        base, count = sid, 2
        while sid in ids:  # a list restarted under the same parent
            sid, count = f"{base}~{count}", count + 1
        ids.add(sid)
        line_end = start + len(line)
        heading = line[marker_len:].strip()
        level = 0 if group else sum(o.marker not in _GROUPS for o in stack) + 1
        section = Section(
            id=sid,
            number=number,
            marker=mk.marker,
            level=level,
            heading=heading,
            kind=None,
            span=doc.span(start, len(text)),
            heading_span=doc.span(start, line_end),
            parent=parent.section.id if parent else None,
        )
        if group:
            section.kind = classify_heading(heading, kind_doc_type)
        elif level == 1:
            enclosing = next((o.section.kind for o in reversed(stack) if o.marker in _GROUPS and o.section.kind), None)
            section.kind = _top_level_kind(doc, heading, section, enclosing, kind_doc_type)
        sections.append(section)
        stack.append(_Open(marker, section))
    close_to(0, body_end)
    # Trim trailing newlines so a span ends on the section's last character.
    for sect in sections:
        while sect.span.end > sect.span.start and text[sect.span.end - 1] == "\n":
            sect.span.end -= 1
    if not sections:
        doc.warn(STAGE, "no numbered sections found")
    doc.sections = sections
