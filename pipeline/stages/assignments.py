"""Stage 7, assignments: who must do what, in which role, by when.

Requires: doc.text, doc.metadata (header), doc.sections (outline), doc.tables (normalize);
the deadlines measures finds (`Document.deadline_hits`, computed once for both). Adds: doc.agencies,
doc.assignments, doc.coverage.

A duty is found by what a clause does, wherever it stands — any section, any kind of document —
never by where one corpus happened to put it. The constructions (rules in rules/assignments.yaml,
agency names from pipeline.stages.agencies):

1. **Agency heading** over its tasks: an item or paragraph that opens with agencies, optionally
   after "Đề nghị" (role requested), "Giao"/"Yêu cầu" or "Đối với", then a colon, a predicate or
   nothing: "2. Sở Nội vụ:" + bullets; "8. Sở KH&CN: Phối hợp ..."; "- Ban Quản lý Khu kinh tế và
   Ban Quản lý các KCN tỉnh đầu tư, hoàn thiện ..."; "Sở X chủ trì, phối hợp các sở: - … - …".
   Its tasks are the inline predicate, else its sub-items (one per "a)"/"-" item; a topic
   sub-heading ending with ":" hands its own items down) and body paragraphs.
2. **Subject clause** inside prose: after a clause opening (start, ",", ";", "."), agencies
   followed by a directing verb: "UBND phường Lào Cai chủ trì, phối hợp với ... thực hiện ...";
   "Định kỳ hằng năm (...), các sở ... có trách nhiệm báo cáo ...".
3. **Directive verb** with its addressee: "UBND tỉnh giao Sở X chủ trì ...", "Chủ tịch UBND tỉnh
   yêu cầu Thủ trưởng các Sở ... nghiêm túc thực hiện", "đề nghị X ..." (requested).
4. **Lead-in** over the items after it: a clause of kind 1–3 whose predicate ends with ":" ("...
   yêu cầu các tổ chức ... thực hiện một số nội dung sau:") gives its agencies the items that
   follow (its children, or the sibling items after it), up to an item naming its own agency; a
   list of names ("- Sở A (…);" "- Sở B (…);" "Có trách nhiệm:") shares the items after it. A
   lead-in that says what to do is a task too; one that nothing follows is its own task.
5. **Owners after a task**: "(Sở Tư pháp chủ trì; các sở, ngành phối hợp)" at the end of an item,
   or labelled lines on its line or under it ("Cơ quan chủ trì: …; Cơ quan phối hợp: …").
6. **Task tables**, by the meaning of their header (rules: table_columns); what a real table
   holds is read by the table reader only, never as prose.

Not duties: an item of "Nhiệm vụ, giải pháp" that names no agency; a clause recounting what an
agency did ("đã tổ chức ...") or a power it has ("được sử dụng ..."); a bare subject + verb in a
section that only describes (purposes, targets, account of results, assessment); a proposal sent
upwards ("đề nghị Bộ Xây dựng ...", "đề nghị UBND tỉnh ..."); the issuer's own acts; closing
formulas ("... nghiêm túc thực hiện./.") in the paragraphs around the items.

One Assignment per (agency, task). The document also keeps every agency mention as a span
(`doc.agencies`) and, in `doc.coverage`, the directive-looking lines (a name as the subject of a
directing verb, or named after giao / yêu cầu / đề nghị) that yielded no assignment, so a reader
can see what was not read.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .agencies import AgencyMention, find_mentions, parse_agency_list
from ..model import AgencySpan, Assignment, Coverage, Deadline, Document, Passage, Section, Span, Table
from ..rules import load
from ..textkeys import LinePattern, match_key, trie_alternation

STAGE = "assignments"


# ----------------------------------------------------------------------------- rules


@dataclass
class _Rules:
    """rules/assignments.yaml, compiled once. Each field is named after its rule there."""

    # where duties are read, and who cannot be assigned one
    descriptive_kinds: frozenset[str]
    upward_kinds: frozenset[str]  # agency kinds a "đề nghị" only proposes to
    # how a clause names its subject and what it says of it
    requested: re.Pattern
    assign: re.Pattern
    neutral: re.Pattern
    directive: re.Pattern
    directing: re.Pattern  # a directing verb at the start of a predicate
    directing_anywhere: re.Pattern
    history: re.Pattern
    circumstance: re.Pattern
    bracket_verb: re.Pattern
    owner_label: re.Pattern
    verb_like_nouns: frozenset[str]
    lead_in_tail: re.Pattern
    connective: re.Pattern
    possessive: re.Pattern
    upward_group: re.Pattern
    determiner: re.Pattern
    permission: re.Pattern
    issuer_commitment: re.Pattern
    passive_agent: re.Pattern
    vague_addressee: re.Pattern
    recipients: re.Pattern
    participle: re.Pattern
    passive: re.Pattern
    establishing: re.Pattern
    purpose: re.Pattern
    members: re.Pattern
    modifier_stop: re.Pattern
    # one task: role, partners, formulas, "5 rõ", topics, table columns
    lead: re.Pattern
    support: re.Pattern
    adverbial: re.Pattern
    partner: re.Pattern
    partner_opening: re.Pattern
    relative: re.Pattern
    closing: LinePattern  # (searched over whole documents: see textkeys.LinePattern)
    boilerplate: re.Pattern
    boilerplate_tail: re.Pattern
    boilerplate_tail_words: int
    recurrence: re.Pattern
    result: re.Pattern
    topic_re: re.Pattern  # every keyword of every topic, one alternation
    topic_of_keyword: dict[str, str]
    topic_order: list[str]
    table_columns: list[tuple[str, re.Pattern]]  # (column role, keyword regex) in rule order


def _words_alt(words: list[str]) -> str:
    """An alternation of phrases (match-keyed, a space matches any white space), as a prefix
    trie: the directing verbs are tried at every clause opening and scanned over subjects."""
    return trie_alternation(words)


def _keyword_re(words: list[str]) -> re.Pattern:
    """Whole-word alternation of keywords, with a lookahead on their first letters (Python's
    regex engine otherwise enters the alternation at every position) and a trie of the words."""
    first = sorted({match_key(w)[0] for w in words})
    return re.compile(r"(?=[" + re.escape("".join(first)) + r"])(?<!\w)" + trie_alternation(words) + r"(?!\w)")


@lru_cache(maxsize=1)
def rules() -> _Rules:
    spec = load("assignments")
    compiled = lambda name: re.compile(spec[name]["pattern"])  # noqa: E731
    # Patterns matched at a position (pattern.match(key, pos)): "^" would only match at the
    # start of the text or of a line, so the anchor is dropped — match() anchors at pos.
    at = lambda name: re.compile(spec[name]["pattern"].removeprefix("^"))  # noqa: E731
    result, recurrence = compiled("result_markers"), compiled("recurrence")
    topic_re = _keyword_re([w for ws in spec["topics"].values() for w in ws])
    directing = _words_alt(spec["directing_verbs"])
    return _Rules(
        descriptive_kinds=frozenset(spec["descriptive_section_kinds"]),
        upward_kinds=frozenset(spec["upward_agency_kinds"]),
        requested=at("requested_prefix"),
        assign=at("assign_prefix"),
        neutral=at("neutral_prefix"),
        directive=compiled("directive_verb"),
        directing=re.compile(r"(?:" + directing + r")(?!\w)"),
        directing_anywhere=re.compile(r"(?<!\w)(?:" + directing + r")(?!\w)"),
        history=at("history_predicate"),
        circumstance=at("circumstance_opening"),
        bracket_verb=at("owner_bracket_verb"),
        owner_label=at("owner_label"),
        verb_like_nouns=frozenset(match_key(w) for w in spec["verb_like_nouns"]),
        lead_in_tail=compiled("lead_in_tail"),
        connective=at("clause_connective"),
        possessive=compiled("possessive_before_name"),
        upward_group=compiled("upward_group"),
        determiner=at("group_determiner"),
        permission=at("permission_predicate"),
        issuer_commitment=at("issuer_commitment"),
        passive_agent=compiled("passive_agent"),
        vague_addressee=compiled("vague_addressee"),
        recipients=at("recipients_line"),
        participle=compiled("participle_before_verb"),
        passive=at("passive_predicate"),
        establishing=at("establishing"),
        purpose=compiled("purpose"),
        members=compiled("members"),
        modifier_stop=compiled("subject_modifier_stop"),
        lead=re.compile(spec["roles"]["lead"]["pattern"]),
        support=re.compile(spec["roles"]["support"]["pattern"]),
        adverbial=compiled("leading_adverbial"),
        partner=compiled("partner_marker"),
        partner_opening=re.compile(spec["partner_marker"]["clause_opening"]),
        relative=at("relative_clause"),
        closing=LinePattern(spec["closing_paragraph"]["pattern"]),
        boilerplate=compiled("boilerplate_predicate"),
        boilerplate_tail=compiled("boilerplate_tail"),
        boilerplate_tail_words=spec["boilerplate_tail"]["max_words"],
        recurrence=recurrence,
        result=result,
        topic_re=topic_re,
        topic_of_keyword={match_key(w): t for t, ws in spec["topics"].items() for w in ws},
        topic_order=list(spec["topics"]),
        table_columns=[(role, re.compile(r"(?<!\w)(?:" + _words_alt(words) + r")(?!\w)"))
                       for role, words in spec["table_columns"].items()],
    )


_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def _topic_of(rule_set: _Rules, keyword: str) -> str:
    return rule_set.topic_of_keyword.get(keyword) or rule_set.topic_of_keyword[_SPACES.sub(" ", keyword)]


# ----------------------------------------------------------------------------- one task


def _main_clause(key: str) -> str:
    """The task with its leading adverbials dropped, for reading the main verb."""
    rule_set = rules()
    clause = key.lstrip(" -+•")
    for _ in range(3):
        match = rule_set.adverbial.match(clause)
        if not match:
            break
        clause = clause[match.end():]
    return clause


def is_formula(predicate_key: str) -> bool:
    """"nghiêm túc thực hiện./." and the like: a closing formula, not a task."""
    rule_set = rules()
    stripped = predicate_key.strip()
    return bool(rule_set.boilerplate.match(stripped)) or (
        len(stripped.split()) <= rule_set.boilerplate_tail_words and bool(rule_set.boilerplate_tail.search(stripped)))


def _role(main_clause: str, requested: bool) -> str:
    if requested:
        return "requested"
    rule_set = rules()
    if rule_set.lead.match(main_clause):
        return "lead"
    if rule_set.support.match(main_clause):
        return "support"
    return "responsible"


def role_of(task: str, requested: bool, key: str | None = None) -> str:
    """lead / support from the main verb; "Đề nghị ..." items are requested whatever the verb."""
    return _role(_main_clause(key if key is not None else match_key(task)), requested)


def partners_of(text: str, key: str | None = None, start: int = 0, end: int | None = None) -> list[str]:
    """Agencies named after a clause-opening "phối hợp với" in text[start:end], as written.

    Read in the document's own coordinates (`text` and `key` whole), so the names the document's
    mention pass read already are looked up, not read again."""
    rule_set = rules()
    key = key if key is not None else match_key(text)
    end = len(text) if end is None else end
    out: list[str] = []
    for match in rule_set.partner.finditer(key, start, end):
        lo = match.start() - 20
        # The text before the phrase must open a clause; at the task's start, '^' is its start.
        opening = (rule_set.partner_opening.search(key[start:match.start()]) if lo <= start
                   else rule_set.partner_opening.search(key, lo, match.start()))
        if not opening:
            continue  # "Công đoàn cơ sở phối hợp với ...": someone else's partner
        found, _ = parse_agency_list(text, match.end(), end, key)
        for mention in found:
            if mention.raw not in out:
                out.append(mention.raw)
    return out


def topics_of(task: str, key: str | None = None) -> list[str]:
    key = key if key is not None else match_key(task)
    rule_set = rules()
    seen = {_topic_of(rule_set, m.group(0)) for m in rule_set.topic_re.finditer(key)}
    return [t for t in rule_set.topic_order if t in seen]


def _five_clear(mention: AgencyMention, agency_key: str, role: str, stated: bool, main_clause: str,
                deadline: Deadline | None, recurrence: bool, result: bool) -> dict[str, bool]:
    """Which of the "5 rõ" the task states. `agency_key`: the match key of the agency as
    written; `stated`: the task has three words or more, letters among them; `main_clause`: its
    match key after the leading adverbials; `recurrence`/`result`: it states a recurrence / a
    measurable result (rules: recurrence, result_markers)."""
    return {
        # a named body, or a group with a settled meaning; "các đơn vị liên quan" names nobody
        "nguoi": mention.known and not rules().vague_addressee.search(agency_key),
        "viec": stated,
        "trach_nhiem": role in ("lead", "support") or bool(rules().directing.match(main_clause)),
        "thoi_gian": deadline is not None or recurrence,
        "ket_qua": result,
    }


# ----------------------------------------------------------------------------- the builder


class _Builder:
    """Adds Assignment rows to a document: one per (agency, task span), never twice."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.text = doc.text
        self.key = doc.match_text()
        self.deadline_hits = doc.deadline_hits()
        self.deadline_starts = [h.start for h in self.deadline_hits]
        self.province = doc.metadata.province
        self.seen: set[tuple[str, int]] = set()

    def deadlines_within(self, start: int, end: int) -> list:
        index = bisect.bisect_left(self.deadline_starts, start)
        out = []
        while index < len(self.deadline_hits) and self.deadline_starts[index] < end:
            if self.deadline_hits[index].end <= end:
                out.append(self.deadline_hits[index])
            index += 1
        return out

    def add(self, agencies: list[AgencyMention], start: int, end: int, section: str | None,
            requested: bool, role: str | None = None, partners: list[str] | None = None,
            sentence_start: int | None = None, said_until: int | None = None) -> None:
        """One assignment per agency for the task text[start:end]. `sentence_start`: where the
        sentence began when the task is its predicate ("Định kỳ hằng năm (trước ngày 15/12), các
        sở ... có trách nhiệm báo cáo"): a deadline stated before the subject belongs to it.
        `said_until`: where what is said of the task ends when it goes on after the task's text
        (owner and time lines under it: "Thời gian hoàn thành: Quý II/2026")."""
        start, end = _trim(self.text, start, end)
        if end <= start:
            return
        agencies = [a for a in agencies if (a.name, start) not in self.seen]
        if not agencies:
            return
        task, key = self.text[start:end], self.key[start:end]
        main = _main_clause(key)
        role = role or _role(main, requested)
        parts = partners if partners is not None else partners_of(self.text, self.key, start, end)
        rule_set = rules()
        found = self.deadlines_within(start if sentence_start is None else sentence_start,
                                      max(end, said_until or end))
        seen_topics = {_topic_of(rule_set, m.group(0)) for m in rule_set.topic_re.finditer(self.key, start, end)}
        topics = [t for t in rule_set.topic_order if t in seen_topics]
        # (a stated deadline already gives the time: the recurrence is looked for without one)
        recurrence = not found and rule_set.recurrence.search(self.key, start, end) is not None
        # (a result marker may span words, "báo cáo ... kết quả": searched within the task)
        result = rule_set.result.search(self.key, start, end) is not None
        words = task.split()
        stated = len(words) >= 3 and _LETTER.search(task) is not None
        task_span = self.doc.span(start, end)
        for mention in agencies:
            if (mention.name, start) in self.seen:  # the same name twice in one list
                continue
            self.seen.add((mention.name, start))
            deadline = None
            if found:  # the first deadline of the task, with who and what filled in
                hit = found[0]
                deadline = Deadline(hit.text, self.doc.span(hit.start, hit.end), hit.date, hit.recurrence,
                                    who=mention.name, what=" ".join(words[:12]))
            self.doc.assignments.append(Assignment(
                agency=mention.name, agency_raw=mention.raw, agency_id=mention.id, known=mention.known,
                agency_kind=mention.kind, successor=mention.successor, province=mention.province or self.province,
                role=role, partners=[p for p in parts if p != mention.raw], section=section, task=task,
                agency_span=self.doc.span(mention.start, mention.end),
                span=task_span, deadline=deadline, topics=topics,
                five_clear=_five_clear(mention, self.key[mention.start:mention.end], role, stated, main, deadline,
                                       recurrence, result),
            ))

# ----------------------------------------------------------------------------- text and outline


_BULLETS = frozenset({"dash", "plus"})  # outline markers of unnumbered items (every bullet glyph)
_PARTS = frozenset({"roman", "part", "chapter"})  # the document's parts: never one task each


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n-+•*–":
        start += 1
    while end > start and text[end - 1] in " \t\n":
        end -= 1
    return start, end


_MARKER = re.compile(r"\s*(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)/]\s*|\s*[-+•*–]\s*")


def _heading_start(text: str, section: Section) -> int:
    """Where a section's heading text starts, after its marker ("2.", "a)", "-")."""
    if section.marker == "article":  # "Điều 3." — the heading (or the article's first words) after it
        match = _ARTICLE.match(text, section.heading_span.start)
        return match.end() if match else section.heading_span.start
    match = _MARKER.match(text, section.heading_span.start)
    return match.end() if match else section.heading_span.start


_ARTICLE = re.compile(r"\s*\w+\s+\d+\s*[.:]?\s*")


def _line_end(text: str, pos: int, limit: int) -> int:
    end = text.find("\n", pos, limit)
    return limit if end < 0 else end


_NONBLANK = re.compile(r"\S")


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line of text[start:end]."""
    out, pos = [], start
    while pos < end:
        line_end = _line_end(text, pos, end)
        if _NONBLANK.search(text, pos, line_end):
            out.append((pos, line_end))
        pos = line_end + 1
    return out


@dataclass(slots=True)
class _Node:
    """One unit of the reading order: an outline item (its text after the marker, children
    included) or a paragraph that no item below the same parent holds."""

    start: int
    end: int
    line_end: int  # end of the first line: the heading line of an item
    section: Section | None = None  # None for a paragraph
    children: list[_Node] = field(default_factory=list)
    stop: bool = False  # a closing paragraph ("Trên đây là Kế hoạch ...")


def _grid_spans(doc: Document) -> list[tuple[int, int]]:
    """The spans of the document's real tables (two rows and two columns at least): their cells
    are read by the table reader, never as prose. A one-column table is layout, read as text."""
    out = []
    for table in doc.tables:
        if len(table.rows) >= 2 and max(len({(c.start, c.end) for c in row}) for row in table.rows) >= 2:
            out.append((table.span.start, table.span.end))
    return sorted(out)


def _tree(doc: Document, stops: list[int], body_end: int, grids: list[tuple[int, int]]) -> list[_Node]:
    """The document as nested nodes, items cut at the first closing paragraph inside them;
    what a real table (`grids`, see _grid_spans) holds is left to the table reader."""
    text = doc.text
    grid_starts = [g[0] for g in grids]

    def in_grid(pos: int) -> bool:
        index = bisect.bisect_right(grid_starts, pos) - 1
        return index >= 0 and pos < grids[index][1]

    kids: dict[str | None, list[Section]] = {}
    for section in sorted(doc.sections, key=lambda section: section.heading_span.start):
        if not in_grid(section.heading_span.start):
            kids.setdefault(section.parent, []).append(section)
    stop_set = set(stops)

    def cut(start: int, end: int) -> int:
        index = bisect.bisect_right(stops, start)
        return min(end, stops[index]) if index < len(stops) else end

    def paragraphs(start: int, end: int) -> list[_Node]:
        return [_Node(ps, pe, pe, stop=ps in stop_set) for ps, pe in _paragraphs(text, start, end)
                if not in_grid(ps)]

    def level(start: int, end: int, sections: list[Section]) -> list[_Node]:
        out: list[_Node] = []
        pos = start
        for section in sections:
            ls = text.rfind("\n", 0, section.heading_span.start) + 1
            if ls < pos or ls >= end:
                continue  # overlapping or outside: keep the first
            out += paragraphs(pos, ls)
            hs = _heading_start(text, section)
            se = cut(hs, min(section.span.end, end))
            he = _line_end(text, hs, se)
            out.append(_Node(hs, se, he, section, level(he + 1, se, kids.get(section.id, []))))
            pos = max(se, he)
        out += paragraphs(pos, end)
        return out

    return level(0, body_end, kids.get(None, []))


# ----------------------------------------------------------------------------- clauses


@dataclass(slots=True)
class _Subject:
    """Agencies read at a clause opening, and what follows them."""

    agencies: list[AgencyMention]
    requested: bool  # "Đề nghị X": bodies the issuer cannot order
    directed: bool  # named after giao / yêu cầu / đề nghị / đối với
    opening: int  # where the clause opens (the prefix or the first name)
    predicate: int  # where the task text starts
    form: str  # colon | predicate | bare


@dataclass(slots=True)
class _Owner:
    """Agencies that own the items under a heading or after a lead-in."""

    agencies: list[AgencyMention]
    requested: bool
    role: str | None = None  # "X chủ trì, phối hợp các sở:" leads each item below
    listed: bool = False  # from an item that is only a name: the next such item adds to it
    used: bool = False  # some item took it
    # (start, end, section) of the lead-in's own predicate: its task when no item follows it
    fallback: tuple[int, int, str | None] | None = None


_CLAUSE_OPENING = re.compile(r"(?:[,;:.]|\.\s*-)\s+(?=\w)")
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\./\.|;\s*(?=\n|$)")
_WORDS_BETWEEN = re.compile(r"[^\W\d_][\w\-/]*|\d[\w.,/]*")
_SUBJECT_STOP = re.compile(r"[;:().]")
_BRACKET_NEXT = re.compile(r"[;,]\s*")  # where the next owner of a bracket may start
_MODIFIABLE = frozenset({"group", "title"})  # mentions a relative modifier may follow
_MAX_SUBJECT_WORDS = 16  # words of modifiers between a subject's name and its verb, at most
_SUBJECT_REACH = 40  # characters from a clause opening to its subject's first name, at most
_MAX_LEAD_IN_WORDS = 8  # "Có trách nhiệm:", "thực hiện một số nội dung sau:"
_MAX_LABEL_WORDS = 6  # "Báo cáo 6 tháng:" before a subject
_MAX_HEADING_WORDS = 14  # "2. Các sở quản lý nhà nước chuyên ngành về hạ tầng" over its items


def _lone_noun(mention: AgencyMention, key: str, at_start: bool) -> bool:
    """A bare collective noun opening a clause ("ban hành ...", "phòng cháy ...", "tổ chức hội
    nghị ..."): a verb or a common noun, not an addressee. Inside a sentence a group opens a
    clause only with a determiner ("các sở") or as a list of nouns ("cơ quan, đơn vị"); at the
    start of an item or paragraph a lone noun may ("Chủ đầu tư dự án ... san tạo mặt bằng"),
    unless it is one that also starts verbs and common nouns (rules: verb_like_nouns)."""
    if mention.kind != "nhom" or rules().determiner.match(key, mention.start) or "," in mention.raw:
        return False
    return not at_start or " ".join(key[mention.start:mention.end].split()) in rules().verb_like_nouns


class _Reader:
    """Walks the document once, in reading order, emitting assignments through a _Builder."""

    def __init__(self, doc: Document, mentions: list[AgencyMention], grids: list[tuple[int, int]]) -> None:
        self.doc, self.text, self.key = doc, doc.text, doc.match_text()
        self.b = _Builder(doc)
        self.r = rules()
        self.mention_starts = [m.start for m in mentions]
        self.mention_ends = [m.end for m in mentions]
        self.grid_starts = [g[0] for g in grids]
        issuer = doc.metadata.issuer or ""
        self.issuer_ids = {a.id for a in parse_agency_list(issuer)[0] if a.id}

    def is_issuer(self, agencies: list[AgencyMention]) -> bool:
        """The document's own issuer ("Sở Công Thương báo cáo ... như sau:"): it states its own
        acts; it does not assign itself duties by lead-ins or closing words."""
        return bool(self.issuer_ids) and all(a.id in self.issuer_ids for a in agencies)

    def openings(self, start: int, end: int) -> list[int]:
        """Where a clause may open in text[start:end] with a name close after it: after
        punctuation (not a comma inside a list of names) or at a directive verb. Looked for
        just before each name, so a long text with few names costs little."""
        key, found = self.key, set()
        index = bisect.bisect_right(self.mention_starts, start)
        while index < len(self.mention_starts) and self.mention_starts[index] < end:
            name = self.mention_starts[index]
            lo = max(start, name - _SUBJECT_REACH)
            found.update(m.end() for m in _CLAUSE_OPENING.finditer(key, lo, min(name + 1, end))
                         if not self.inside_mention(m.start()))
            found.update(m.start() for m in self.r.directive.finditer(key, lo, min(name + 1, end)))
            index += 1
        return sorted(found)

    def grid_within(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.grid_starts, start)
        return index < len(self.grid_starts) and self.grid_starts[index] < end

    def mention_within(self, start: int, end: int) -> bool:
        index = bisect.bisect_left(self.mention_starts, start)
        return index < len(self.mention_starts) and self.mention_starts[index] < end

    def mention_near(self, pos: int) -> bool:
        """Whether a mention starts within a few words after `pos` (past a connective or a
        "giao / đề nghị" prefix): a clause opening with none there has no subject to read."""
        index = bisect.bisect_left(self.mention_starts, pos)
        return index < len(self.mention_starts) and self.mention_starts[index] - pos <= _SUBJECT_REACH

    def inside_mention(self, pos: int) -> bool:
        """Whether `pos` falls inside an agency mention or right at its end (a list separator)."""
        index = bisect.bisect_right(self.mention_starts, pos) - 1
        return index >= 0 and pos <= self.mention_ends[index]

    # --------------------------------------------------------------- reading a subject

    def subject_at(self, pos: int, limit: int, kind: str | None, heading: bool) -> _Subject | None:
        """Construction 1–3 at a clause opening `pos`: agencies as the subject of what follows.
        `heading`: the clause opens an item, where a bare list of names is a heading."""
        rule_set, key, text = self.r, self.key, self.text
        if rule_set.owner_label.match(key, pos, limit):
            return None  # "Cơ quan chủ trì: Sở Tư pháp": a label, read by labelled_owners
        name_start, requested, directed, neutral = pos, False, False, False
        conn = rule_set.connective.match(key, name_start, limit)
        if conn:
            name_start = conn.end()
        for rx, req in ((rule_set.requested, True), (rule_set.assign, False), (rule_set.neutral, False)):
            prefix = rx.match(key, name_start, limit)
            if prefix:
                name_start, requested, directed, neutral = prefix.end(), req, True, rx is rule_set.neutral
                break
        if neutral and not heading:
            return None  # "Đối với X:" heads items; inside a sentence X is a topic ("đối với các cơ sở")
        line_start = heading or pos == 0 or text[pos - 1] == "\n"
        agencies, lend = parse_agency_list(text, name_start, limit, key)
        if not agencies or _lone_noun(agencies[0], key, line_start or directed):
            return None
        if requested and any(a.kind in rule_set.upward_kinds or rule_set.upward_group.search(key, a.start, a.end)
                             for a in agencies):
            return None  # a proposal sent upwards, not a duty
        if (kind in rule_set.descriptive_kinds and (neutral or not directed)) or (
                not directed and any(a.kind in rule_set.upward_kinds for a in agencies)):
            # A section that recounts or explains assigns only by directive; the committee, the
            # council and the party are not assigned duties by their own acts ("UBND tỉnh ban
            # hành Kế hoạch ... như sau:").
            return None
        after = lend
        while after < limit and text[after] in " \t":
            after += 1
        if heading and after < limit and text[after] == "(":
            close = text.find(")", after, limit)
            tail = text[close + 1:limit].strip(" ;,.") if close > 0 else None
            if tail == "":  # "- Sở Xây dựng (đối với tài sản kết cấu hạ tầng đô thị);": a name
                return _Subject(agencies, requested, directed, pos, limit, "bare")
            if tail == ":":
                return _Subject(agencies, requested, directed, pos, limit, "colon")
        if after >= limit or (heading and not text[after:limit].strip(" ;.,")):
            # "- Sở Y tế;" in a list of names: the item is the name
            return _Subject(agencies, requested, directed, pos, limit, "bare") if heading else None
        if text[after] == ":":
            return _Subject(agencies, requested, directed, pos, after + 1, "colon")
        rel = rule_set.relative.match(key, after, limit)
        if rel:
            after = rel.end()
        if rule_set.history.match(key, after, limit):
            return None  # "Sở Y tế đã tổ chức ...": an account, not a duty
        passive = rule_set.passive.match(key, after, limit) is not None  # "được ...": a modifier when a verb follows
        permitted = passive and rule_set.permission.match(key, after, limit) is not None  # "Đoàn được sử dụng ..."
        directive = rule_set.directive.match(key, after, limit)
        if directive and parse_agency_list(text, directive.end(), limit, key)[0]:
            return None  # "Sở Công Thương đề nghị DNTN X ...": the subject directs; X is assigned
        if neutral:  # "Đối với các tổ chức, doanh nghiệp hoạt động trong lĩnh vực ...:" a heading
            colon = key.find(":", after, limit)
            name_end = limit if colon < 0 else colon
            if rule_set.directing_anywhere.search(key, after, name_end):
                return None
            agencies[-1] = _extended(agencies[-1], text, name_end)
            if colon < 0:
                return _Subject(agencies, requested, directed, pos, limit, "bare")
            return _Subject(agencies, requested, directed, pos, colon + 1, "colon")
        if rule_set.directing.match(key, after, limit) and not passive:
            return _Subject(agencies, requested, directed, pos, after, "predicate")
        # A subject with modifiers the name reader does not take: "Các tổ chức, cá nhân được cấp
        # giấy phép thăm dò, khai thác khoáng sản có trách nhiệm ...": up to the directing verb.
        stop = _SUBJECT_STOP.search(key, after, limit)
        stop_at = stop.start() if stop else limit
        # (only where a subject can be long: at the start of a line or after giao / yêu cầu)
        verb = (_first_finite(rule_set, key, after, stop_at)
                if agencies[-1].how in _MODIFIABLE and (line_start or directed) else None)
        if (verb and len(_WORDS_BETWEEN.findall(key, after, verb.start())) <= _MAX_SUBJECT_WORDS
                and not rule_set.modifier_stop.search(key, after, verb.start())):
            if not rule_set.history.match(key, verb.start(), limit):
                agencies[-1] = _extended(agencies[-1], text, verb.start())
                return _Subject(agencies, requested, directed, pos, verb.start(), "predicate")
            return None
        if passive and rule_set.directing.match(key, after, limit):
            return _Subject(agencies, requested, directed, pos, after, "predicate")  # "được giao chủ trì"
        if permitted:
            return None  # a power, not a duty
        if directed and _LETTER.match(key, after, after + 1):  # "giao X <any verb>": X is the subject
            return _Subject(agencies, requested, directed, pos, after, "predicate")
        if heading and (stop is None or key[stop_at] == ":"):
            # "18. Các đơn vị, doanh nghiệp, người sử dụng lao động trên địa bàn" (+ ":"): all name
            agencies[-1] = _extended(agencies[-1], text, stop_at)
            if stop is None:
                return _Subject(agencies, requested, directed, pos, limit, "bare")
            return _Subject(agencies, requested, directed, pos, stop_at + 1, "colon")
        return None

    def clauses(self, start: int, end: int, kind: str | None, heading: bool) -> list[_Subject]:
        """Every subject clause in text[start:end]: at its start, after a clause opening, or
        after a directive verb ("... giao Sở X chủ trì ...")."""
        out: list[_Subject] = []
        if not self.mention_within(start, end):
            return out  # no name in it: no subject to read (most items of a content section)
        first = self.subject_at(start, end, kind, heading)
        if first:
            out.append(first)
        for opening in self.openings(start, end):
            if opening <= start or (out and opening < out[-1].predicate):
                continue
            subject = self.subject_at(opening, end, kind, False)
            if subject and subject.form != "bare":
                out.append(subject)
        return out

    # --------------------------------------------------------------- emitting

    def section_id(self, node: _Node | None, parent_sid: str | None) -> str | None:
        section = node.section if node else None
        if section is None or section.marker in _BULLETS:
            return parent_sid
        return section.id

    def emit_clauses(self, clauses: list[_Subject], end: int, sid: str | None, closing: bool) -> None:
        """Each clause's task runs to the next clause or the end of its sentence."""
        rule_set, key = self.r, self.key
        for index, clause in enumerate(clauses):
            if clause.form == "bare":
                continue
            stop = clauses[index + 1].opening if index + 1 < len(clauses) else end
            dot = _SENTENCE_END.search(key, clause.predicate, stop)
            task_end = dot.end() if dot else stop
            if closing and (is_formula(key[clause.predicate:task_end]) or self.is_issuer(clause.agencies)):
                continue
            if (not clause.directed and self.is_issuer(clause.agencies)
                    and not rule_set.issuer_commitment.match(key, clause.predicate, task_end)):
                continue  # "Do đó, Sở Công Thương dừng giải quyết ...": the issuer tells its own act
            start = clause.predicate
            sentence = key.rfind("\n", 0, clause.opening) + 1
            marker = _MARKER.match(key, sentence, clause.opening)
            if marker:
                sentence = marker.end()
            prior = key[sentence:clause.opening].rstrip()
            if prior and ((rule_set.circumstance.match(key, sentence, clause.opening) and not clause.directed) or (
                    prior.endswith(":") and len(prior.split()) <= _MAX_LABEL_WORDS)):
                # "Trong quá trình ..., X ..." and "Báo cáo năm: X gửi ...": the task keeps them
                start = sentence
            self.b.add(clause.agencies, start, task_end, sid, clause.requested, sentence_start=sentence)

    # --------------------------------------------------------------- the walk

    def unused(self, lead: _Owner | None) -> None:
        """A lead-in no item followed: "1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện
        các công việc liên quan:" alone is itself the task."""
        if lead is not None and not lead.used and lead.fallback:
            start, end, sid = lead.fallback
            self.b.add(lead.agencies, start, end, sid, lead.requested)

    def walk(self, nodes: list[_Node], kind: str | None, sid: str | None, owner: _Owner | None) -> None:
        """The nodes of one level, in order. `owner`: the agencies of an enclosing heading or
        lead-in; `kind`: the kind of the top-level section they are in; `sid`: its path."""
        pending: _Owner | None = None  # a lead-in among these nodes, for the items after it

        def hand_on(lead: _Owner | None) -> None:
            nonlocal pending
            if pending is not None and pending is not lead:
                self.unused(pending)
            pending = lead

        for node in nodes:
            nkind = kind
            if node.section is not None and node.section.parent is None:
                nkind = node.section.kind
            nsid = self.section_id(node, sid)
            if node.stop:
                owner = None
                hand_on(None)
                self.emit_clauses(self.clauses(node.start, node.end, None, False), node.end, None, True)
                continue
            subject = (self.subject_at(node.start, node.line_end, nkind, node.section is not None)
                       if self.mention_near(node.start) else None)
            if (subject and owner is not None and node.section is not None and subject.requested
                    and subject.form == "predicate"):
                # "a) Đề nghị Liên minh Hợp tác xã tỉnh chủ động phối hợp ..." under an agency item:
                # the sub-item is that body's task, as written
                self.b.add(subject.agencies, node.start, node.end, nsid, True,
                           partners=partners_of(self.text, self.key, subject.predicate, node.end))
                continue
            if subject:
                lead = self.agency_item(node, subject, nkind, nsid)
                if lead is not None and subject.form == "bare" and pending is not None and pending.listed:
                    # "- Sở Công Thương (...);" "- Sở Xây dựng (...);" ... "Có trách nhiệm:": one list
                    pending.used = True
                    lead = _Owner(pending.agencies + lead.agencies, pending.requested or lead.requested)
                if lead is not None:
                    lead.listed = subject.form == "bare"
                hand_on(lead)
                continue
            current = (pending if node.section is not None and node.section.marker not in _PARTS
                       else None) or owner
            if node.section is None:
                if pending is not None and self.bare_lead_in(node):
                    continue  # "Có trách nhiệm:" after a list of names: the items follow
                hand_on(None)  # a paragraph ends a lead-in's run of items
            if current is not None:
                current.used = True
                self.owned(node, current, nkind, nsid, sid)
                continue
            lead = self.free(node, nkind, nsid, closing=node.section is None and sid is None)
            if lead is _CLAIMED:
                continue
            if lead is not None:
                if node.children:
                    self.walk(node.children, nkind, nsid, lead)
                else:
                    hand_on(lead)
            elif node.children:
                self.walk(node.children, nkind, nsid, None)
        hand_on(None)

    def bare_lead_in(self, node: _Node) -> bool:
        """A short paragraph that only leads in to the items below ("Có trách nhiệm:",
        "Thực hiện các nhiệm vụ sau:"): a directing verb, a colon, no subject of its own."""
        line = self.key[node.start:node.end].strip()
        return (line.endswith(":") and len(line.split()) <= _MAX_LEAD_IN_WORDS
                and bool(self.r.directing.match(line)))

    def agency_item(self, node: _Node, subj: _Subject, kind: str | None, sid: str | None) -> _Owner | None:
        """Construction 1. Returns an owner for the items after it when the node only leads in."""
        text = self.text
        owner = _Owner(subj.agencies, subj.requested)
        if subj.form == "colon":
            inline = text[subj.predicate:node.line_end].strip()
            if inline:
                clauses = [subj] + self.clauses(subj.predicate, node.line_end, kind, False)
                self.emit_clauses(clauses, node.line_end if node.children else node.end, sid, False)
            if node.children:
                self.walk(node.children, kind, sid, owner)
            elif not inline:
                return owner
            return None
        if subj.form == "bare":
            real = [c for c in node.children if not self.bare_lead_in(c) and not _is_note(text, c)]
            if real:
                self.walk(node.children, kind, sid, owner)
                return None
            return owner
        heading = text[subj.predicate:node.line_end].rstrip()
        if heading.endswith(":"):  # "Sở X chủ trì, phối hợp các sở: - … - …"
            role = _role(_main_clause(self.key[subj.predicate:node.line_end]), subj.requested)
            owner.role = role if role in ("lead", "support") else None
            if node.children:
                self.walk(node.children, kind, sid, owner)
                return None
            if not self.grid_within(node.line_end, node.end):  # a table under it holds its tasks
                owner.fallback = (subj.predicate, node.line_end, sid)
            return owner
        line = text[node.start:node.line_end].rstrip()
        if (node.section is not None and node.children and line[-1:] not in ".;:!?"
                and len(line.split()) <= _MAX_HEADING_WORDS and subj.agencies[-1].how in _MODIFIABLE):
            # "2. Các sở quản lý nhà nước chuyên ngành về hạ tầng" over its items: a heading
            owner.agencies = subj.agencies[:-1] + [_extended(subj.agencies[-1], text, node.line_end)]
            self.walk(node.children, kind, sid, owner)
            return None
        end = node.line_end if node.children else node.end
        clauses = [subj] + self.clauses(subj.predicate, end, kind, False)
        self.emit_clauses(clauses, end, sid, False)
        if node.children:
            self.walk(node.children, kind, sid, owner)
        return None

    def owned(self, node: _Node, owner: _Owner, kind: str | None, sid: str | None,
              parent_sid: str | None = None) -> None:
        """A node under an agency heading or a lead-in: one task of the owner (an item whose
        heading only names a topic, "a) Về tuyên truyền:", hands the owner to its own items)."""
        text = self.text
        if _is_note(text, node) or (node.section is None and self.bare_lead_in(node)):
            return  # "(chi tiết Phụ lục 01 đính kèm)", "Có trách nhiệm:": no task
        named, name_end = (parse_agency_list(text, node.start, node.line_end, self.key)
                           if self.mention_near(node.start) else ([], node.start))
        if named and self.r.permission.match(self.key, _skip_spaces(self.key, name_end, node.line_end), node.line_end):
            return  # "7. Đoàn kiểm tra được sử dụng con dấu của Sở ...": a power, not a duty
        if self.r.passive_agent.search(self.key, node.start, node.line_end):
            return  # "8. Nhiệm vụ cụ thể của các thành viên ... do Trưởng đoàn phân công.": another's
        heading = self.key[node.start:node.line_end].rstrip()
        if node.section is not None and node.children and (heading.endswith(":") or (
                not self.r.directing.match(self.key, node.start, node.line_end)
                and heading[-1:] not in ".;" and len(heading.split()) <= _MAX_HEADING_WORDS)):
            # "a) Về tuyên truyền:", "1. Về Giấy đề nghị cấp phép" + "a) Chỉnh sửa ...": a topic
            self.walk(node.children, kind, sid, owner)
            return
        own = [c for c in self.clauses(node.start, node.end, kind, False)
               if c.opening > node.start and self.text[max(0, c.opening - 8):c.opening].rstrip(" \t")[-1:] in ":.\n"]
        if own and self.key[node.start:own[0].opening].rstrip().endswith(":") or (
                own and own[0].opening > node.start and "\n" in self.text[node.start:own[0].opening]):
            # "- Báo cáo 6 tháng: Các cơ quan, đơn vị gửi Sở Tài chính ...; Sở Tài chính tổng hợp
            # ...": the item names its own subjects
            self.emit_clauses(own, node.end, sid, False)
            return
        end, rest = node.end, []
        for index, child in enumerate(node.children):
            if child.section is None and self.clauses(child.start, child.end, kind, False):
                # "Ngoài ra, yêu cầu các tổ chức ... thực hiện ...": the item ends before it
                end, rest = child.start, node.children[index:]
                break
        role = None
        if owner.role and not owner.requested:
            own = _role(_main_clause(self.key[node.start:end]), False)
            role = own if own != "responsible" else owner.role
        self.b.add(owner.agencies, node.start, end, sid, owner.requested, role=role)
        if rest:  # read as the item's siblings: they belong to no item
            self.walk(rest, kind, parent_sid, None)

    def free(self, node: _Node, kind: str | None, sid: str | None, closing: bool = False) -> _Owner | None:
        """A node no owner covers: its subject clauses, owners written after it, labelled owner
        lines under it. Returns an owner when its text ends in a lead-in ("... yêu cầu X thực
        hiện các nội dung sau:")."""
        text, key = self.text, self.key
        end = node.line_end if node.section is not None else node.end
        if self.r.recipients.match(key, node.start, end):
            return None  # "Kính gửi: ...": the addressees of a letter
        if kind not in self.r.descriptive_kinds and text[node.start:end].rstrip(" .;").endswith(")"):
            if self.bracket_owners(node.start, end, sid):  # "... (Sở Tư pháp chủ trì)." first
                return None
        if node.section is not None and kind not in self.r.descriptive_kinds and self.labelled_owners(node, sid):
            return _CLAIMED  # "…; Cơ quan chủ trì: X; Cơ quan phối hợp: Y" on or under the task
        if self.established(node.start, end, sid):
            return None
        clauses = self.clauses(node.start, end, kind, False)
        if clauses:
            last = clauses[-1]
            if text[node.start:end].rstrip().endswith(":") and last.form in ("predicate", "colon"):
                if not last.directed and self.is_issuer(last.agencies):
                    self.emit_clauses(clauses[:-1], last.opening, sid, False)
                    return None  # "Sở Công Thương báo cáo kết quả ... như sau:"
                tail = key[last.predicate:end].rstrip()
                substantive = len(tail.split()) > _MAX_LEAD_IN_WORDS and not self.r.lead_in_tail.search(tail)
                # "Các sở ... định kỳ tổng hợp báo cáo kết quả ... gửi Sở Tài chính ... như sau:"
                # is a duty of its own; "... thực hiện một số nội dung sau:" only leads in
                self.emit_clauses(clauses if substantive else clauses[:-1],
                                  end if substantive else last.opening, sid, closing)
                return _Owner(last.agencies, last.requested)
            # A paragraph outside every item (the letter's opening or closing words) is read like
            # a closing paragraph: formulas and the issuer's own acts are no duties.
            self.emit_clauses(clauses, end, sid, closing)
            return None
        if kind in self.r.descriptive_kinds:
            return None
        if self.bracket_owners(node.start, end, sid):
            return None
        return None

    def established(self, start: int, end: int, sid: str | None) -> bool:
        """A body set up for a purpose: "Thành lập Đoàn kiểm tra (…) để kiểm tra việc chấp hành
        pháp luật …, gồm …:" gives the body its purpose as its duty."""
        rule_set, key = self.r, self.key
        match = rule_set.establishing.match(key, start, end)
        if not match:
            return False
        agencies, lend = parse_agency_list(self.text, match.end(), end, key)
        stop = _SENTENCE_END.search(key, lend, end)
        stop_at = stop.start() if stop else end
        purpose = rule_set.purpose.search(key, lend, stop_at) if agencies else None
        if purpose is None:
            return False
        members = rule_set.members.search(key, purpose.end(), stop_at)
        colon = key.find(":", purpose.end(), stop_at)
        task_end = min(x for x in (members.start() if members else stop_at, colon if colon >= 0 else stop_at))
        self.b.add(agencies, purpose.end(), task_end, sid, False)
        return True

    def bracket_owners(self, start: int, end: int, sid: str | None) -> bool:
        """Construction 5: owners in brackets after the task: "Xây dựng kế hoạch ... (Sở Tư pháp
        chủ trì, phối hợp với Sở Nội vụ)", "(Giao Sở Y tế thực hiện)", and several owners with
        their roles: "(Sở Tư pháp chủ trì; các sở, ngành phối hợp)"."""
        text, key, rule_set = self.text, self.key, self.r
        found = False
        pos = start
        while True:
            open_at = text.find("(", pos, end)
            if open_at < 0:
                return found
            close_at = text.find(")", open_at, end)
            if close_at < 0:
                return found
            name_start = open_at + 1
            prefix = rule_set.assign.match(key, name_start, close_at)
            if prefix:
                name_start = prefix.end()
            owners: list[tuple[list[AgencyMention], str | None, int]] = []  # (agencies, role, verb start)
            while name_start < close_at:
                agencies, lend = parse_agency_list(text, name_start, close_at, key)
                rest = key[lend:close_at].strip(" ,")
                if not agencies or (rest and not rule_set.bracket_verb.match(rest) and not rule_set.support.match(rest)):
                    break
                verb = _skip_spaces(key, lend, close_at)
                said = key[verb:close_at]
                role = "lead" if rule_set.lead.match(said) else "support" if rule_set.support.match(said) else None
                owners.append((agencies, role, verb))
                nxt = _BRACKET_NEXT.search(key, verb, close_at)  # "…; các sở phối hợp", "…, Y phối hợp"
                if nxt is None:
                    break
                name_start = nxt.end()
            task_start = pos if pos > start else start
            leads = [a for agencies, role, _ in owners if role != "support" for a in agencies]
            for agencies, role, verb in owners:
                if role == "support" and leads:
                    self.b.add(agencies, task_start, open_at, sid, False, role="support", partners=[a.raw for a in leads])
                else:
                    partners = partners_of(text, key, verb, close_at)
                    partners += [a.raw for ag, rl, _ in owners if rl == "support" for a in ag if a.raw not in partners]
                    self.b.add(agencies, task_start, open_at, sid, False, role=role, partners=partners)
                found = True
            pos = close_at + 1

    def labelled_owners(self, node: _Node, sid: str | None) -> bool:
        """Construction 5: labelled owner lines under a task or a group of tasks ("Cơ quan chủ
        trì: Sở Tư pháp; Cơ quan phối hợp: Sở Nội vụ"; "Đơn vị chủ trì: Phòng Quản lý Công
        nghiệp; Đơn vị phối hợp: ..." after the item's bullets). The item's sub-items are the
        tasks, else its heading. Returns whether the item had such lines."""
        text, key = self.text, self.key
        found: dict[str, list[AgencyMention]] = {}
        # The lines may sit under the item or, as Word lays them out, inside its last sub-item.
        lines = [(node.start, node.line_end)] + [(c.start, c.end) for c in node.children
                                                 if c.section is None or self.label_line(c)]
        if node.children and node.children[-1].section is not None:
            lines += [(c.start, c.end) for c in node.children[-1].children if c.section is None]
        first_label = None
        for ls, le in lines:
            for label in self.r.owner_label.finditer(key, ls, le):
                stop = key.find(";", label.end(), le)
                agencies, _ = parse_agency_list(text, label.end(), le if stop < 0 else stop, key)
                if agencies:
                    found.setdefault(_label_role(label), []).extend(agencies)
                    if ls == node.start and first_label is None:
                        first_label = label.start()
        if not found:
            return False
        leads = found.get("lead", []) + found.get("responsible", [])
        supports = found.get("support", [])
        tasks = [(c.start, self.before_labels(c)) for c in node.children
                 if c.section is not None and not self.label_line(c)]
        # "a) Rà soát quy chế ...; Cơ quan chủ trì: Sở Tư pháp": the heading up to its first label
        heading_end = _strip_end(text, node.start, first_label) if first_label is not None else node.line_end
        for start, end in tasks or [(node.start, heading_end)]:
            for role, agencies, partners in (("lead", found.get("lead", []), supports),
                                             ("responsible", found.get("responsible", []), supports),
                                             ("support", supports, leads)):
                if agencies:
                    self.b.add(agencies, start, end, sid, False, role=role,
                               partners=[a.raw for a in partners], said_until=None if tasks else node.end)
        return True


    def label_line(self, node: _Node) -> bool:
        """A line that labels what it gives ("- Cơ quan chủ trì: Sở Tư pháp.", "- Thời gian hoàn
        thành: Quý II/2026."): a few words, then a colon. No task of its own."""
        if node.children:
            return False
        head = self.key[node.start:node.end].split(":", 1)
        return len(head) == 2 and len(head[0].split()) <= _MAX_LABEL_WORDS

    def before_labels(self, node: _Node) -> int:
        """Where an item's own text ends: before the first labelled line inside it ("Lãnh đạo
        phụ trách: ...", "Đơn vị chủ trì: ...")."""
        for child in node.children:
            head = self.key[child.start:child.end].split(":", 1)[0]
            if child.section is None and ":" in self.key[child.start:child.end] and len(head.split()) <= _MAX_LABEL_WORDS:
                return child.start
        return node.end


_CLAIMED = _Owner([], False)  # free(): the node and its children are read already


def _label_role(label: re.Match) -> str:
    """The role an owner label gives: "… chủ trì:" lead, "… phối hợp:" support, else responsible."""
    verb = label.group(1) or label.group(2)
    rule_set = rules()
    return "lead" if rule_set.lead.match(verb) else "support" if rule_set.support.match(verb) else "responsible"


def _strip_end(text: str, start: int, end: int) -> int:
    """`end` moved back over the separators before it ("…cấp xã; " -> "…cấp xã")."""
    while end > start and text[end - 1] in " ;,.-–:\t":
        end -= 1
    return end


def _is_note(text: str, node: _Node) -> bool:
    """A paragraph wholly in brackets: "(chi tiết Phụ lục 01 đính kèm)"."""
    whole = text[node.start:node.end].strip()
    return node.section is None and whole.startswith("(") and whole.endswith(")")


def _first_finite(rule_set: _Rules, key: str, start: int, end: int) -> re.Match | None:
    """The first directing verb in key[start:end] that is the predicate's, not a participle
    of the subject's modifier ("các tổ chức, cá nhân được cấp giấy phép khai thác báo cáo …")."""
    for verb in rule_set.directing_anywhere.finditer(key, start, end):
        if (not rule_set.participle.search(key, max(start, verb.start() - 8), verb.start())
                and not rule_set.passive.match(key, verb.start(), end)):
            return verb
    return None


def _extended(mention: AgencyMention, text: str, end: int) -> AgencyMention:
    """The mention stretched to `end` (its modifiers): "Các tổ chức, cá nhân được cấp giấy
    phép thăm dò, khai thác khoáng sản"."""
    raw = text[mention.start:end].rstrip(" ,.;:")
    if len(raw) <= len(mention.raw):
        return mention
    return AgencyMention(raw, mention.name + raw[len(mention.raw):], mention.start, mention.start + len(raw),
                         mention.id, mention.known, mention.kind, mention.province, mention.successor, mention.how)


# ----------------------------------------------------------------------------- task tables


def table_columns(header: list[str]) -> dict[int, str]:
    """Column index -> task | lead | doer | support | deadline | product, from the meaning of
    the header cells (rules: table_columns): the first family one of whose keywords the cell
    holds. Each role is given to one column, the first."""
    out: dict[int, str] = {}
    for index, cell in enumerate(header):
        cell_key = match_key(cell)
        for role, rx in rules().table_columns:
            if rx.search(cell_key):
                if role not in out.values():
                    out[index] = role
                break
    return out


def _header(doc: Document, rows: list[list[tuple[int, int]]]) -> tuple[dict[int, str], int]:
    """The columns of a table and the index of its first body row. A header of two rows
    ("Phân công thực hiện" over "Chủ trì | Phối hợp", merged cells repeated) reads each
    column's two cells together."""
    text = doc.text
    one = table_columns([text[s:e] for s, e in rows[0]])
    if len(rows) > 1 and not ({"lead", "doer"} & set(one.values()) and "task" in one.values()):
        joined = []
        for index, (start, end) in enumerate(rows[0]):
            below = rows[1][index] if index < len(rows[1]) else (start, start)
            joined.append(text[start:end] + (" " + text[below[0]:below[1]] if below != (start, end) else ""))
        two = table_columns(joined)
        if _assignment_header(two):
            return two, 2
    return one, 1


def _assignment_header(cols: dict[int, str]) -> bool:
    """A task column and a column of who does it."""
    return "task" in cols.values() and bool({"lead", "doer"} & set(cols.values()))


def table_assignments(doc: Document, rows: list[list[tuple[int, int]]] | list[list[Span]],
                      section: str | None = None, builder: _Builder | None = None) -> bool:
    """Assignments of a table whose cells are spans of doc.text (header first).

    The lead (or doer) of a row gets the task with the coordinating bodies as partners; each
    coordinating body gets role support, with the lead as partner. The time column gives the
    deadline when the task text states none. A cell line naming no agency (a person in "Người
    thực hiện") is an assignee as written, known: false. A merged cell repeats its span in every
    column it covers (model.Table), so a cell that repeats the task cell (a group row such as
    "I. Cải cách thể chế" merged across the table) is not an agency: it is the group heading of
    the rows below. Returns whether the header made it an assignment table.
    """
    if not rows:
        return False
    cells = [[(c.start, c.end) if isinstance(c, Span) else tuple(c) for c in row] for row in rows]
    text = doc.text
    cols, first = _header(doc, cells)
    if not _assignment_header(cols):
        return False
    builder = builder or _Builder(doc)
    col = {role: i for i, role in cols.items()}
    who_role = "lead" if "lead" in col else "doer"
    if not any(_LETTER.search(text[row[col[who_role]][0]:row[col[who_role]][1]])
               for row in cells[first:] if col[who_role] < len(row)):
        return False  # the "who" column holds no names: a data table, not tasks
    for row in cells[first:]:
        task = row[col["task"]] if col["task"] < len(row) else None
        if task is None or not text[task[0]:task[1]].strip():
            continue

        def cell(role: str) -> tuple[int, int] | None:
            bounds = row[col[role]] if role in col and col[role] < len(row) else None
            return None if bounds == task else bounds

        labelled = _labelled_cell(builder, cell(who_role))
        if labelled is not None:
            leads, supports = labelled["lead"], labelled["support"] + _cell_agencies(builder, cell("support"))
        else:
            leads, supports = _cell_agencies(builder, cell(who_role)), _cell_agencies(builder, cell("support"))
        before = len(doc.assignments)
        builder.add(leads, task[0], task[1], section, False,
              role="lead" if who_role == "lead" or labelled is not None else "responsible",
              partners=[a.raw for a in supports])
        builder.add(supports, task[0], task[1], section, False, role="support", partners=[a.raw for a in leads])
        dl = cell("deadline")
        due = _time_cell(doc, *dl) if dl else None
        if due is None:
            continue
        for added in doc.assignments[before:]:
            if added.deadline is None:
                added.deadline = Deadline(due.text, due.span, due.date, due.recurrence, who=added.agency,
                                      what=" ".join(added.task.split()[:12]))
                added.five_clear["thoi_gian"] = True
    return True


def _time_cell(doc: Document, start: int, end: int) -> Deadline | None:
    """The deadline a table's time column states, read by the one time-expression recogniser
    (`pipeline.stages.timex.time_of_cell`): "Trước ngày 15/12", "Quý IV/2025", "Hằng năm"."""
    from .timex import time_of_cell

    when = time_of_cell(doc.text[start:end], start, doc.match_text()[start:end])
    if when is None:
        return None
    return Deadline(when.text, doc.span(when.start, when.end), when.value, when.recurrence, relative=when.duration)


def _table_section(doc: Document, table: Table) -> str | None:
    """The deepest numbered section holding the table (headings inside the table don't count).
    None for a table outside every section, such as an annex after the signature."""
    best = None
    for section in doc.sections:
        if (section.marker not in _BULLETS and section.heading_span.start < table.span.start
                and section.span.end >= table.span.start and (best is None or section.level > best.level)):
            best = section
    return best.id if best else None


def _cell_agencies(builder: _Builder, cell: tuple[int, int] | None) -> list[AgencyMention]:
    """The bodies a "who" cell names, one list per line. A line naming no body is an assignee as
    written when it is a short proper name (a person in "Người thực hiện")."""
    if cell is None:
        return []
    out: list[AgencyMention] = []
    for ps, pe in _paragraphs(builder.text, cell[0], cell[1]):
        ps, pe = _trim(builder.text, ps, pe)
        found, _ = parse_agency_list(builder.text, ps, pe, builder.key)
        if found:
            out.extend(found)
        elif pe > ps and _PROPER_NAME.match(builder.text[ps:pe].rstrip(" ;,.")):
            raw = builder.text[ps:pe].rstrip(" ;,.")
            out.append(AgencyMention(raw, raw, ps, ps + len(raw), None, False, None))
    return out


# A person's or a body's proper name alone in a cell: up to six capitalised words.
_PROPER_NAME = re.compile(r"^(?:[^\W\d_][\w.]*)(?:\s+[^\W\d_][\w.]*){0,5}$")


def _labelled_cell(builder: _Builder, cell: tuple[int, int] | None) -> dict[str, list[AgencyMention]] | None:
    """A "who" cell that labels its owners ("Chủ trì: UBND xã A; Sở Công Thương hướng dẫn";
    "Chủ trì: Công ty X (CĐT). Phối hợp: UBND xã B"): lead after "Chủ trì:", support after
    "Phối hợp:" and for every other body the cell names. None when the cell has no label."""
    if cell is None:
        return None
    rule_set, key = rules(), builder.key
    labels = list(rule_set.owner_label.finditer(key, cell[0], cell[1]))
    if not labels:
        return None
    out: dict[str, list[AgencyMention]] = {"lead": [], "support": []}
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else cell[1]
        role = _label_role(label)
        for mention in find_mentions(builder.text[label.end():end]):
            shifted = AgencyMention(mention.raw, mention.name, mention.start + label.end(), mention.end + label.end(),
                                    mention.id, mention.known, mention.kind, mention.province,
                                    mention.successor, mention.how)
            first = not out["lead"] and role == "lead"
            out["lead" if first else "support"].append(shifted)
    return out


# ----------------------------------------------------------------------------- coverage


def _coverage(doc: Document, mentions: list[AgencyMention], body_end: int) -> Coverage:
    """Directive-looking lines and those of them no assignment came from. A line looks like a
    directive when an agency mention is followed by a directing verb ("Sở Y tế chủ trì ...") or
    a directive verb by a mention ("giao Sở Y tế ..."), outside sections that only describe.
    Names the rules set aside on purpose (the committee, the council, central bodies, "cơ quan
    có thẩm quyền") say nothing about what was missed."""
    rule_set, text, key = rules(), doc.text, doc.match_text()
    lines = _paragraphs(text, 0, body_end)
    line_starts = [ps for ps, _ in lines]
    counted = [m for m in mentions if m.start < body_end and m.kind not in rule_set.upward_kinds
               and not rule_set.upward_group.search(key, m.start, m.end)]

    def line_of(pos: int) -> int:
        return bisect.bisect_right(line_starts, pos) - 1

    directive_lines: set[int] = set()  # indexes into `lines`
    for mention in counted:
        index = line_of(mention.start)
        if index < 0:
            continue
        pe = lines[index][1]
        if (rule_set.directing.match(key, _skip_spaces(key, mention.end, pe), pe)
                and not rule_set.possessive.search(key, max(lines[index][0], mention.start - 5), mention.start)):
            directive_lines.add(index)
    # "giao / yêu cầu / đề nghị" right before a name: looked for just before each name (one
    # scan of the whole text costs more than the few characters before every name)
    for mention in counted:
        index = line_of(mention.start)
        if index < 0 or index in directive_lines:
            continue  # a line counts once
        if any(d.end() == mention.start
               for d in rule_set.directive.finditer(key, max(0, mention.start - _SUBJECT_REACH), mention.start + 1)):
            directive_lines.add(index)
    descriptive = [(s.span.start, s.span.end) for s in doc.sections
                   if s.parent is None and s.kind in rule_set.descriptive_kinds]
    covered = sorted((a.span.start, a.span.end) for a in doc.assignments)
    cov_starts = [c[0] for c in covered]
    named_at = sorted(a.agency_span.start for a in doc.assignments if a.agency_span)
    out = Coverage()
    for index in sorted(directive_lines):
        ps, pe = lines[index]
        if any(s <= ps < e for s, e in descriptive):
            continue
        out.directive_sentences += 1
        cov_idx = bisect.bisect_left(cov_starts, pe)
        touched = any(e > ps for _, e in covered[max(0, cov_idx - 50):cov_idx])
        name_idx = bisect.bisect_left(named_at, ps)
        if not touched and not (name_idx < len(named_at) and named_at[name_idx] < pe):  # no name of the line was assigned
            out.unassigned.append(Passage(text[ps:pe], doc.span(ps, pe)))
    return out


def _skip_spaces(key: str, pos: int, limit: int) -> int:
    while pos < limit and key[pos] in " \t":
        pos += 1
    return pos


# ----------------------------------------------------------------------------- the stage


def extract_assignments(doc: Document) -> None:
    """Fill doc.agencies (every mention), doc.assignments and doc.coverage."""
    rule_set = rules()
    key = doc.match_text()
    mentions = find_mentions(doc.text, key)
    doc.agencies = [AgencySpan(m.raw, doc.span(m.start, m.end), m.name, m.id, m.known, m.kind, m.how)
                    for m in mentions]
    body_end = doc.body_end()
    stops = [m.start() for m in rule_set.closing.finditer(key, 0, body_end)]
    grids = _grid_spans(doc)
    reader = _Reader(doc, mentions, grids)
    reader.walk(_tree(doc, stops, body_end, grids), None, None, None)
    # Assignment tables are read cell by cell; what the text rules found inside one (a cell
    # line read as a paragraph) is dropped first.
    for table in doc.tables:
        if not table.rows:
            continue
        cells = [[(c.start, c.end) for c in row] for row in table.rows]
        if not _assignment_header(_header(doc, cells)[0]):
            continue
        kept = doc.assignments
        inside = [a for a in kept if table.span.start <= a.span.start < table.span.end]
        doc.assignments = [a for a in kept if not table.span.start <= a.span.start < table.span.end]
        reader.b.seen -= {(a.agency, a.span.start) for a in inside}
        if not table_assignments(doc, table.rows, _table_section(doc, table), reader.b):
            doc.assignments = kept  # not a task table after all: keep what the text gave
    doc.assignments.sort(key=lambda assignment: assignment.span.start)
    doc.coverage = _coverage(doc, mentions, body_end)



