"""Stage 6, assignments: who must do what, in which role, by when.

Read top-down: the rules, how one task is read (role, partners, topics, the "5 rõ"), the builder
that turns (agencies, task span) into Assignment rows, then the places tasks come from, then
`extract_assignments`, which visits them in order. Sources, all read from the outline
(`doc.sections`) and the text:

- agency items of the assigning sections (kinds in rules/assignments.yaml: "Tổ chức thực hiện",
  "Chế độ báo cáo", the numbered items of a công văn): an item whose heading opens with agency
  names ("2. Sở Nội vụ", "11. Công an tỉnh, BCH Quân sự tỉnh: Chỉ đạo ...", "18. Đề nghị Hội
  Nông dân tỉnh: ..."). Its tasks are its direct sub-items (one per "-" bullet or "a)" letter),
  else the inline text after the name, else each body paragraph. An item that only leads in
  ("1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện các công việc liên quan:") hands
  its agencies to the sibling items after it that name none (Word often numbers the sub-items
  at the item's own level);
- a sub-item that names its own agency ("a) Đề nghị Liên minh Hợp tác xã tỉnh ...") is that
  agency's only; a body paragraph "Đề nghị các cơ quan báo chí ... thông tin, tuyên truyền ..."
  is a requested task of the bodies it names;
- reporting items whose subject is not first ("2. Định kỳ hằng năm (...), các sở, ban, ngành ...
  có trách nhiệm báo cáo ...") and closing paragraphs ("Trên đây là Kế hoạch ...; các sở, ban,
  ngành ... chủ động xây dựng kế hoạch ..."), except pure formulas ("nghiêm túc thực hiện./.");
- a letter's lead-in sentence ("Sở Công Thương đề nghị DNTN Thành Hương Nghĩa Lộ rà soát, hoàn
  thiện các nội dung sau:") and the numbered items after it;
- assignment tables ("STT | Nội dung | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian").

Not assignments: proposals a document sends up to a central body ("Uỷ ban nhân dân tỉnh ... trân
trọng đề nghị Bộ Xây dựng: (i). Chỉ đạo ..."; a report's "Kiến nghị, đề xuất: Đề nghị Bộ Nội vụ
..."). The issuer cannot assign them, and the gold counts none; they are left to the sections
(kind kien_nghi_de_xuat) where a user finds them.

One Assignment per (agency, task). Agency names come from pipeline.agencies.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

from .agencies import AgencyMention, parse_agency_list
from .model import Assignment, Deadline, Document, Section, Span, Table
from .rules import load
from .textkeys import match_key

STAGE = "assignments"


# ----------------------------------------------------------------------------- rules


@dataclass
class _Rules:
    assigning_kinds: frozenset[str]
    upward_kinds: frozenset[str]  # agency kinds a lead-in's "đề nghị" only proposes to
    requested: re.Pattern
    assign: re.Pattern
    lead: re.Pattern
    support: re.Pattern
    adverbial: re.Pattern
    partner: re.Pattern
    partner_opening: re.Pattern
    relative: re.Pattern
    closing: re.Pattern
    boilerplate: re.Pattern
    boilerplate_tail: re.Pattern
    boilerplate_tail_words: int
    action_verb: re.Pattern
    action_verb_anywhere: re.Pattern
    recurrence: re.Pattern
    result: re.Pattern
    topic_re: re.Pattern  # every keyword of every topic, one alternation
    topic_of_keyword: dict[str, str]
    topic_order: list[str]
    # result, recurrence and topic_re as scanners of a key range (see _word_start_scan)
    result_scan: Callable[[str, int, int], list[tuple[int, int]]]
    recurrence_scan: Callable[[str, int, int], list[tuple[int, int]]]
    topic_scan: Callable[[str, int, int], list[tuple[int, int]]]


def _words_alt(words: list[str]) -> str:
    ws = sorted({match_key(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ws)


def _trie_alt(words: list[str]) -> str:
    """The alternation of `words` (match_key, spaces as \\s+) factored by common prefixes
    ("thanh tra|thông tin" -> "th(?:anh tra|ông tin)"): the regex engine tries one branch per
    distinct next letter instead of every word. Longest first along each path, like a sorted
    alternation."""
    trie: dict = {}
    for w in {match_key(w) for w in words}:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [(r"\s+" if ch == " " else re.escape(ch)) + emit(sub)
                for ch, sub in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return emit(trie)


def _keyword_re(words: list[str]) -> re.Pattern:
    """Whole-word alternation of keywords, with a lookahead on their first letters (Python's
    regex engine otherwise enters the alternation at every position) and a trie of the words."""
    first = sorted({match_key(w)[0] for w in words})
    return re.compile(r"(?=[" + re.escape("".join(first)) + r"])(?<!\w)" + _trie_alt(words) + r"(?!\w)")


# Characters a word may follow. The result, recurrence and topic patterns only match at the start
# of a word, so they are scanned as "one of these characters, then the pattern": a regex that
# opens with a set of plain characters is searched by a fast loop in C, about twice as fast as
# one that opens with a lookahead or \b. A piece holding any other non-word character is scanned
# with the pattern itself.
_BEFORE_WORD = " \n\t\u00a0()[]{}“”\"'‘’«»-–—/\\,;:.!?…*+=&%<>|#@$^~`"
_OTHER_BEFORE_WORD = re.compile(r"[^\w" + re.escape(_BEFORE_WORD) + r"]")


def _word_start_scan(rx: re.Pattern) -> Callable[[str, int, int], list[tuple[int, int]]]:
    """(key, start, end) -> (start, end) of each match of `rx` in key[start:end]."""
    fast = re.compile("[" + re.escape(_BEFORE_WORD) + "](?:" + rx.pattern + ")")

    def scan(key: str, ps: int, pe: int) -> list[tuple[int, int]]:
        if ps == 0 or key[ps - 1] != "\n" or _OTHER_BEFORE_WORD.search(key, ps, pe):
            return [m.span() for m in rx.finditer(key, ps, pe)]
        return [(m.start() + 1, m.end()) for m in fast.finditer(key, ps - 1, pe)]

    return scan


@lru_cache(maxsize=1)
def rules() -> _Rules:
    r = load("assignments")
    c = lambda name: re.compile(r[name]["pattern"])  # noqa: E731
    result, recurrence = c("result_markers"), c("recurrence")
    topic_re = _keyword_re([w for ws in r["topics"].values() for w in ws])
    return _Rules(
        assigning_kinds=frozenset(r["assigning_section_kinds"]),
        upward_kinds=frozenset(r["upward_agency_kinds"]),
        requested=c("requested_prefix"),
        assign=c("assign_prefix"),
        lead=re.compile(r["roles"]["lead"]["pattern"]),
        support=re.compile(r["roles"]["support"]["pattern"]),
        adverbial=c("leading_adverbial"),
        partner=c("partner_marker"),
        partner_opening=re.compile(r["partner_marker"]["clause_opening"]),
        relative=c("relative_clause"),
        closing=re.compile(r["closing_paragraph"]["pattern"], re.M),
        boilerplate=c("boilerplate_predicate"),
        boilerplate_tail=c("boilerplate_tail"),
        boilerplate_tail_words=r["boilerplate_tail"]["max_words"],
        action_verb=re.compile(r"^(?:" + _words_alt(r["action_verbs"]) + r")\b"),
        action_verb_anywhere=re.compile(r"(?<!\w)(?:" + _words_alt(r["action_verbs"]) + r")(?!\w)"),
        recurrence=recurrence,
        result=result,
        topic_re=topic_re,
        topic_of_keyword={match_key(w): t for t, ws in r["topics"].items() for w in ws},
        topic_order=list(r["topics"]),
        result_scan=_word_start_scan(result),
        recurrence_scan=_word_start_scan(recurrence),
        topic_scan=_word_start_scan(topic_re),
    )


_SPACES = re.compile(r"\s+")
_LETTER = re.compile(r"[^\W\d_]")


def _topic_of(r: _Rules, keyword: str) -> str:
    return r.topic_of_keyword.get(keyword) or r.topic_of_keyword[_SPACES.sub(" ", keyword)]


# ----------------------------------------------------------------------------- one task


def _main_clause(key: str) -> str:
    """The task with its leading adverbials dropped, for reading the main verb."""
    r = rules()
    k = key.lstrip(" -+•")
    for _ in range(3):
        m = r.adverbial.match(k)
        if not m:
            break
        k = k[m.end():]
    return k


def is_formula(predicate_key: str) -> bool:
    """"nghiêm túc thực hiện./." and the like: a closing formula, not a task."""
    r = rules()
    k = predicate_key.strip()
    return bool(r.boilerplate.match(k)) or (
        len(k.split()) <= r.boilerplate_tail_words and bool(r.boilerplate_tail.search(k)))


def _role(main_clause: str, requested: bool) -> str:
    if requested:
        return "requested"
    r = rules()
    if r.lead.match(main_clause):
        return "lead"
    if r.support.match(main_clause):
        return "support"
    return "responsible"


def role_of(task: str, requested: bool, key: str | None = None) -> str:
    """lead / support from the main verb; "Đề nghị ..." items are requested whatever the verb."""
    return _role(_main_clause(key if key is not None else match_key(task)), requested)


def partners_of(task: str, key: str | None = None) -> list[str]:
    """Agencies named after a clause-opening "phối hợp với", as written."""
    r = rules()
    key = key if key is not None else match_key(task)
    out: list[str] = []
    for m in r.partner.finditer(key):
        if not r.partner_opening.search(key, max(0, m.start() - 20), m.start()):
            continue  # "Công đoàn cơ sở phối hợp với ...": someone else's partner
        found, _ = parse_agency_list(task, m.end(), key=key)
        for a in found:
            if a.raw not in out:
                out.append(a.raw)
    return out


def topics_of(task: str, key: str | None = None) -> list[str]:
    key = key if key is not None else match_key(task)
    r = rules()
    seen = {_topic_of(r, m.group(0)) for m in r.topic_re.finditer(key)}
    return [t for t in r.topic_order if t in seen]


def _five_clear(a: AgencyMention, role: str, words: list[str], main_clause: str, deadline: Deadline | None,
                recurrence: bool, result: bool) -> dict[str, bool]:
    """Which of the "5 rõ" the task states. `words`: its words; `main_clause`: its match key after
    the leading adverbials; `recurrence`/`result`: it states a recurrence / a measurable result
    (rules: recurrence, result_markers)."""
    return {
        # a named body, or a group with a settled meaning; "các đơn vị liên quan" names nobody
        "nguoi": a.known and "liên quan" not in a.raw.lower(),
        "viec": len(words) >= 3 and any(_LETTER.search(w) for w in words),
        "trach_nhiem": role in ("lead", "support") or bool(rules().action_verb.match(main_clause)),
        "thoi_gian": deadline is not None or recurrence,
        "ket_qua": result,
    }


# ----------------------------------------------------------------------------- the builder


class _Pieces:
    """The text cut where scanning it for a task is cheapest to share: each top-level section
    (line-aligned) is one piece, each line outside every section another."""

    def __init__(self, text: str, sections: list[Section]) -> None:
        self.text = text
        self.starts: list[int] = []
        self.ends: list[int] = []
        for s in sorted((s for s in sections if s.parent is None), key=lambda s: s.span.start):
            ps = text.rfind("\n", 0, s.span.start) + 1
            pe = _line_end(text, max(ps, s.span.end - 1), len(text))
            if self.ends and ps <= self.ends[-1]:
                continue  # overlapping spans: keep the first
            self.starts.append(ps)
            self.ends.append(pe)

    def in_section(self, pos: int) -> bool:
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos <= self.ends[i]

    def around(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, pos) - 1
        if i >= 0 and pos <= self.ends[i]:
            return self.starts[i], self.ends[i]
        return self.text.rfind("\n", 0, pos) + 1, _line_end(self.text, pos, len(self.text))


class _Hits:
    """Matches of one finder, asked per task by range. Found piece by piece (see _Pieces) on
    first request and kept, so only the parts that hold tasks are scanned, each once, however
    many tasks and agencies share them."""

    def __init__(self, pieces: _Pieces, find: Callable[[int, int], list[tuple[int, int, object]]]) -> None:
        self.pieces = pieces
        self.find = find  # (piece start, piece end) -> [(start, end, value)] in order
        self.by_piece: dict[int, tuple[list[int], list[tuple[int, int, object]]]] = {}

    def within(self, start: int, end: int) -> list:
        out, pos = [], start
        while pos < end or pos == start:
            ps, pe = self.pieces.around(pos)
            found = self.by_piece.get(ps)
            if found is None:
                hits = self.find(ps, pe)
                found = self.by_piece[ps] = ([h[0] for h in hits], hits)
            starts, hits = found
            for i in range(bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)):
                if hits[i][1] <= end:
                    out.append(hits[i][2])
            pos = pe + 1
        return out


class _Builder:
    """Adds Assignment rows to a document: one per (agency, task span), never twice."""

    def __init__(self, doc: Document) -> None:
        from .measures import find_deadlines

        self.doc = doc
        self.text = text = doc.text
        self.key = key = doc.match_text()
        r = rules()

        def regex(scan, value=lambda s, e: True):
            return lambda ps, pe: [(s, e, value(s, e)) for s, e in scan(key, ps, pe)]

        pieces = _Pieces(text, doc.sections)
        self.results = _Hits(pieces, regex(r.result_scan))
        self.recurrences = _Hits(pieces, regex(r.recurrence_scan))
        self.topics = _Hits(pieces, regex(r.topic_scan, lambda s, e: _topic_of(r, key[s:e])))
        self.deadlines = _Hits(pieces, lambda ls, le: [
            (h.start, h.end, h) for h in find_deadlines(text[ls:le], ls, key=key[ls:le])])
        self.province = doc.metadata.province
        self.seen: set[tuple[str, int]] = set()

    def add(self, agencies: list[AgencyMention], start: int, end: int, section: str | None,
            requested: bool, role: str | None = None, partners: list[str] | None = None,
            sentence_start: int | None = None) -> None:
        """One assignment per agency for the task text[start:end]. `sentence_start`: where the
        sentence began when the task is its predicate ("Định kỳ hằng năm (trước ngày 15/12), các
        sở ... có trách nhiệm báo cáo"): a deadline stated before the subject belongs to it."""
        start, end = _trim(self.text, start, end)
        if end <= start:
            return
        agencies = [a for a in agencies if (a.name, start) not in self.seen]
        if not agencies:
            return
        task, key = self.text[start:end], self.key[start:end]
        main = _main_clause(key)
        role = role or _role(main, requested)
        parts = partners if partners is not None else partners_of(task, key)
        found = self.deadlines.within(start if sentence_start is None else sentence_start, end)
        seen_topics = set(self.topics.within(start, end))
        topics = [t for t in rules().topic_order if t in seen_topics]
        recurrence, result = bool(self.recurrences.within(start, end)), bool(self.results.within(start, end))
        words = task.split()
        for a in agencies:
            if (a.name, start) in self.seen:  # the same name twice in one list
                continue
            self.seen.add((a.name, start))
            deadline = None
            if found:  # the first deadline of the task, with who and what filled in
                d = found[0]
                deadline = Deadline(d.text, self.doc.span(d.start, d.end), d.date, d.recurrence, who=a.name,
                                    what=" ".join(words[:12]))
            self.doc.assignments.append(Assignment(
                agency=a.name, agency_raw=a.raw, agency_id=a.id, known=a.known,
                agency_kind=a.kind, successor=a.successor, province=a.province or self.province,
                role=role, partners=[p for p in parts if p != a.raw], section=section, task=task,
                span=self.doc.span(start, end), deadline=deadline, topics=topics,
                five_clear=_five_clear(a, role, words, main, deadline, recurrence, result),
            ))

    def agency_heading(self, start: int, limit: int) -> tuple[list[AgencyMention], int, bool, bool]:
        """Agencies opening a heading or paragraph: (agencies, end of the list, requested?,
        assigned?) — "Đề nghị X ..." is requested, "Giao X ..." assigned."""
        r, key = rules(), self.key
        p, requested, assigned = start, False, False
        m = r.requested.match(key[p:limit])
        if m:
            p, requested = p + m.end(), True
        else:
            m = r.assign.match(key[p:limit])
            if m:
                p, assigned = p + m.end(), True
        found, end = parse_agency_list(self.text, p, limit, key)
        return found, end, requested, assigned


# ----------------------------------------------------------------------------- text and outline


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n-+•*":
        start += 1
    while end > start and text[end - 1] in " \t\n":
        end -= 1
    return start, end


_MARKER = re.compile(r"\s*(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)]\s*|\s*[-+•*]\s*")


def _heading_start(text: str, s: Section) -> int:
    """Where a section's heading text starts, after its marker ("2.", "a)", "-")."""
    m = _MARKER.match(text, s.heading_span.start)
    return m.end() if m else s.heading_span.start


def _line_end(text: str, pos: int, limit: int) -> int:
    e = text.find("\n", pos, limit)
    return limit if e < 0 else e


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line of text[start:end]."""
    out, p = [], start
    while p < end:
        e = _line_end(text, p, end)
        if text[p:e].strip():
            out.append((p, e))
        p = e + 1
    return out


def _children(doc: Document) -> dict[str | None, list[Section]]:
    """Sections by parent id (None: the top level), in document order."""
    kids: dict[str | None, list[Section]] = {}
    for s in doc.sections:
        kids.setdefault(s.parent, []).append(s)
    return kids


def _top_kind(s: Section, by_id: dict[str, Section]) -> str | None:
    while s.parent is not None and s.parent in by_id:
        s = by_id[s.parent]
    return s.kind


def _cut(end: int, stops: list[int], start: int) -> int:
    """End a section's text at the first closing paragraph inside it."""
    for s in stops:
        if start < s < end:
            return s
    return end


# ----------------------------------------------------------------------------- agency items


def _item(b: _Builder, s: Section, kids: dict[str | None, list[Section]], stops: list[int],
          done: set[str]) -> bool:
    """An agency item ("2. Sở Nội vụ", "8. Sở KH&CN: Phối hợp ..."): emit its tasks. False when
    its heading names no agency."""
    text = b.text
    hstart = _heading_start(text, s)
    hend = _line_end(text, hstart, s.span.end)
    agencies, lend, requested, assigned = b.agency_heading(hstart, hend)
    if not agencies:
        return False
    send = _cut(s.span.end, stops, s.span.start)
    rest = text[lend:hend]
    subs = [c for c in kids.get(s.id, []) if c.span.start < send]
    body = _paragraphs(text, hend + 1, subs[0].span.start if subs else send)
    if not subs and not body and rest.rstrip().endswith(":"):
        # "1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện các công việc liên quan:" with
        # "2. Tổ chức kiểm tra ...", "3. Chuẩn bị ..." after it: the lead-in is no task itself.
        followers = _followers(b, s, kids, stops, done)
        for c in followers:
            b.add(agencies, _heading_start(text, c), _cut(c.span.end, stops, c.span.start), c.id, requested)
            done.add(c.id)
        if followers:
            return True
    after_colon = None
    if rest.lstrip().startswith(":"):
        after_colon = lend + rest.index(":") + 1
    elif rest.strip() and (subs or body):
        if ":" in rest:  # "1. Các Sở ..., UBND các xã, phường căn cứ chức năng ...:" + bullets
            after_colon = lend + rest.rindex(":") + 1
        else:  # the heading line is all name: "18. Các đơn vị, doanh nghiệp, nguời sử dụng lao động ..."
            last = agencies[-1]
            raw = text[last.start:hend].rstrip(" .;:")
            agencies[-1] = AgencyMention(raw, last.name + raw[len(last.raw):], last.start,
                                         last.start + len(raw), last.id, last.known, last.kind,
                                         last.province, last.successor, last.how)
    elif rest.strip():  # subject + predicate on one line (reporting duties, công văn)
        pstart = lend
        m = rules().relative.match(b.key[pstart:hend].lstrip())
        if m:
            pstart = pstart + (len(b.key[pstart:hend]) - len(b.key[pstart:hend].lstrip())) + m.end()
        b.add(agencies, pstart, _cut(s.span.end, stops, pstart), s.id, requested, sentence_start=hstart)
        return True
    if after_colon is not None and text[after_colon:hend].strip():
        b.add(agencies, after_colon, hend, s.id, requested)
    for (ps, pe) in body:
        _paragraph(b, agencies, ps, pe, s.id, requested)
    for c in subs:
        cid = c.id if c.marker == "letter" else s.id  # a letter is addressable; a bullet is not
        cs = _heading_start(text, c)
        ce = _cut(c.span.end, stops, c.span.start)
        own, olend, oreq, oassigned = b.agency_heading(cs, _line_end(text, cs, ce))
        if own and (oreq or oassigned or text[olend:olend + 3].lstrip().startswith(":")):
            # "a) Đề nghị Liên minh Hợp tác xã tỉnh ...": its own; partners read after the subject
            b.add(own, cs, ce, cid, oreq, partners=partners_of(text[olend:ce].lstrip()))
        else:
            b.add(agencies, cs, ce, cid, requested)
    return True


def _followers(b: _Builder, s: Section, kids: dict[str | None, list[Section]], stops: list[int],
               done: set[str]) -> list[Section]:
    """The sibling items right after a lead-in item, numbered like it, that name no agency (up
    to the first that does, or a closing paragraph)."""
    siblings = kids.get(s.parent, [])
    out: list[Section] = []
    for c in siblings[siblings.index(s) + 1:]:
        if c.marker != s.marker:
            continue  # a bullet between numbered items is a child, not a sibling
        if c.id in done or any(s.span.start < st <= c.heading_span.start for st in stops):
            break
        cs = _heading_start(b.text, c)
        if b.agency_heading(cs, _line_end(b.text, cs, c.span.end))[0]:
            break
        out.append(c)
    return out


def _paragraph(b: _Builder, agencies: list[AgencyMention], ps: int, pe: int, sid: str,
               requested: bool) -> None:
    """A body paragraph: a task of the item's agencies, or "Đề nghị X ..." for X."""
    own, lend, req, _ = b.agency_heading(ps, pe)
    if own and req:
        b.add(own, lend, pe, sid, True)
    else:
        b.add(agencies, ps, pe, sid, requested)


_CLAUSE_OPENING = re.compile(r"(?:^|[,;:]\s+|\bđề\s+nghị\s+)(?=\S)")
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\./\.")


def _subject_clause(b: _Builder, start: int, end: int, section: str | None,
                    skip_formula: bool) -> bool:
    """A sentence whose subject is a list of agencies after an opener: "Định kỳ hằng năm (...),
    các sở, ban, ngành ... có trách nhiệm báo cáo ..."; "...; các sở ... chủ động xây dựng ..."."""
    r = rules()
    key = b.key
    for m in _CLAUSE_OPENING.finditer(key[start:end]):
        p = start + m.end()
        agencies, lend, requested, _ = b.agency_heading(p, end)
        if not agencies or lend >= end:
            continue
        requested = requested or key[start + m.start():p].strip().startswith("đề")
        pstart = lend
        while pstart < end and key[pstart] == " ":
            pstart += 1
        rm = r.relative.match(key[pstart:end])
        if rm:
            pstart += rm.end()
        if not _LETTER.match(key[pstart:pstart + 1]):
            continue  # "các sở ...: ..." or a list that runs to the end: no predicate here
        sent_end = end
        dot = _SENTENCE_END.search(key, pstart, end)
        if dot:
            sent_end = dot.end()
        if skip_formula and is_formula(key[pstart:sent_end]):
            return False
        b.add(agencies, pstart, sent_end, section, requested, sentence_start=start)
        return True
    return False


# ----------------------------------------------------------------------------- letters' lead-ins


_REQUEST = re.compile(r"(?:^|[,;]\s*|(?<=\w)\s+)(yêu\s+cầu|đề\s+nghị|giao\s+cho|giao)\s+(?=\S)")
_REQUEST_WORD = re.compile(r"yêu\s+cầu|đề\s+nghị|giao")  # plain words first: a fast pre-test
_NAME_THEN_WORD = re.compile(r"\s+[^\W\d_]")


def _request_sentence(b: _Builder, ps: int, pe: int) -> tuple[list[AgencyMention], int, bool] | None:
    """"Sở Công Thương yêu cầu các tổ chức, doanh nghiệp ... thực hiện ...": (agencies, start of
    the predicate, requested?) for the first request verb followed by agency names."""
    if not _REQUEST_WORD.search(b.key, ps, pe):
        return None
    for m in _REQUEST.finditer(b.key, ps, pe):
        found, lend = parse_agency_list(b.text, m.end(), pe, b.key)
        if found and lend < pe and _NAME_THEN_WORD.match(b.key, lend, min(lend + 2, pe)):
            return found, lend, m.group(1).startswith("đề")
    return None


def _lead_ins(b: _Builder, doc: Document, kids: dict[str | None, list[Section]], stops: list[int],
              done: set[str]) -> None:
    """"... yêu cầu các tổ chức, doanh nghiệp ... thực hiện một số nội dung sau:" + numbered items
    that name no agency: each item is a task of the bodies the lead-in names. Outside sections, a
    letter's other request sentences are tasks too ("Ngoài ..., yêu cầu các tổ chức ... thực
    hiện các nội dung tại Văn bản số 193/UBND-KT"), formulas excepted. A request to a central
    body ("đề nghị Bộ Xây dựng ...") is a proposal, not an assignment."""
    r = rules()
    text = doc.text
    tops = [s for s in kids.get(None, []) if s.marker not in ("dash", "plus")]
    pieces = _Pieces(text, doc.sections)
    freed: set[int] = set()  # paragraphs inside an item that end it (see _lead_in_item)
    for ps, pe in _paragraphs(text, 0, len(text)):
        if ps not in freed and pieces.in_section(ps):
            continue
        req = _request_sentence(b, ps, pe)
        if req is None:
            continue
        agencies, lend, requested = req
        if requested and any(a.kind in r.upward_kinds for a in agencies):
            continue
        if text[ps:pe].rstrip().endswith(":"):
            # "... yêu cầu X thực hiện một số nội dung sau:" — not "... đề nghị Bộ X nội dung như sau:"
            if not r.action_verb_anywhere.search(b.key, lend, pe):
                continue
            run: list[Section] = []
            for s in (s for s in tops if s.heading_span.start > pe):
                gap = text[(run[-1].span.end if run else pe):s.heading_span.start]
                if gap.strip() or b.agency_heading(_heading_start(text, s), s.heading_span.end)[0]:
                    break
                run.append(s)
            for s in run:
                freed.update(_lead_in_item(b, s, kids, stops, agencies, requested))
                done.add(s.id)
        elif doc.metadata.doc_type == "cong_van":
            pstart = lend + 1
            if not is_formula(b.key[pstart:pe]):
                b.add(agencies, pstart, pe, None, requested)


def _subject_lead_ins(b: _Builder, doc: Document, kids: dict[str | None, list[Section]], stops: list[int],
                      done: set[str]) -> None:
    """"Điều 3. Nhiệm vụ và quyền hạn của Đoàn kiểm tra / Đoàn kiểm tra thực hiện nhiệm vụ ...,
    trong đó tập trung: / 1. Xây dựng ... / 2. Yêu cầu ...": in a section of any kind, a body
    paragraph that opens with an agency as its subject and ends with ":" gives that agency the
    items that follow it, up to the first item that names an agency of its own. (Items that
    name no agency in a section with no such lead-in stay unassigned, as the gold has it.)"""
    text, r = doc.text, rules()
    for s in doc.sections:
        children = [c for c in kids.get(s.id, []) if c.marker not in ("dash", "plus")]
        if s.marker in ("dash", "plus") or s.id in done or not children:
            continue
        hs = _heading_start(text, s)
        he = _line_end(text, hs, s.span.end)
        for ps, pe in _paragraphs(text, he + 1, _heading_start(text, children[0])):
            if not text[ps:pe].rstrip().endswith(":"):
                continue
            agencies, lend = parse_agency_list(text, ps, pe, b.key)
            if (not agencies or len(agencies[0].raw.split()) < 2
                    or not _NAME_THEN_WORD.match(b.key, lend, min(lend + 2, pe))
                    or not r.action_verb_anywhere.search(b.key, lend, pe)):
                continue
            requested = bool(r.requested.match(b.key, ps, pe))
            for c in children:
                if c.id in done or b.agency_heading(_heading_start(text, c), c.heading_span.end)[0]:
                    break
                _lead_in_item(b, c, kids, stops, agencies, requested)
                done.add(c.id)
            break


def _lead_in_item(b: _Builder, s: Section, kids: dict[str | None, list[Section]], stops: list[int],
                  agencies: list[AgencyMention], requested: bool) -> list[int]:
    """The tasks of one item after a lead-in: its sub-items ("1. Về Giấy đề nghị cấp phép" +
    "a) Chỉnh sửa ...", "b) Rà soát ..."), else its body paragraphs when the heading only names
    a topic ("2. Về thiết kế khai thác mỏ"), else the whole item. A body paragraph that is a
    request sentence of its own ends the item; returns where such paragraphs start."""
    text, r = b.text, rules()
    hs = _heading_start(text, s)
    he = _line_end(text, hs, s.span.end)
    end = _cut(s.span.end, stops, s.span.start)
    subs = [c for c in kids.get(s.id, []) if c.span.start < end]
    freed: list[int] = []
    for ps, pe in _paragraphs(text, he + 1, subs[0].span.start if subs else end):
        if _request_sentence(b, ps, pe):  # "Ngoài việc thực hiện các nội dung trên, yêu cầu ..."
            freed.append(ps)
            end = min(end, ps)
    if subs:
        for c in subs:
            cid = c.id if c.marker == "letter" else s.id
            cs, ce = _heading_start(text, c), _cut(c.span.end, stops, c.span.start)
            if not kids.get(c.id):  # one paragraph: what follows the last one is the letter's own
                ce = _line_end(text, cs, ce)  # ("Do đó, Sở Công Thương ... dừng giải quyết ...")
            b.add(agencies, cs, ce, cid, requested)
        return freed
    body = _paragraphs(text, he + 1, end)
    if body and not r.action_verb.match(_main_clause(b.key[hs:he])):
        for ps, pe in body:
            b.add(agencies, ps, pe, s.id, requested)
    else:
        b.add(agencies, hs, end, s.id, requested)
    return freed


# ----------------------------------------------------------------------------- assignment tables


@lru_cache(maxsize=1)
def _table_columns() -> dict[str, str]:
    return {re.sub(r"\W+", " ", match_key(name)).strip(): role
            for role, names in load("assignments")["table_columns"].items() for name in names}


def table_columns(header: list[str]) -> dict[int, str]:
    """Column index -> task | lead | doer | support | deadline, from the header cells' text."""
    names = _table_columns()
    out = {}
    for i, cell in enumerate(header):
        role = names.get(re.sub(r"\W+", " ", match_key(cell)).strip())
        if role and role not in out.values():
            out[i] = role
    return out


def table_assignments(doc: Document, rows: list[list[tuple[int, int]]] | list[list[Span]],
                      section: str | None = None, b: _Builder | None = None) -> bool:
    """Assignments of a table whose cells are spans of doc.text (first row = header).

    The lead (or doer) of a row gets the task with the coordinating bodies as partners; each
    coordinating body gets role support, with the lead as partner. The time column gives the
    deadline when the task text states none. A cell line naming no agency (a person in "Người
    thực hiện") is an assignee as written, known: false. A merged cell repeats its span in every
    column it covers (model.Table), so a cell that repeats the task cell (a group heading row
    merged across the table) is not an agency. Returns whether the header made it an
    assignment table.
    """
    if not rows:
        return False
    cells = [[(c.start, c.end) if isinstance(c, Span) else tuple(c) for c in row] for row in rows]
    text = doc.text
    cols = table_columns([text[s:e] for s, e in cells[0]])
    if not _assignment_header(cols):
        return False
    b = b or _Builder(doc)
    col = {role: i for i, role in cols.items()}
    who_role = "lead" if "lead" in col else "doer"
    for row in cells[1:]:
        task = row[col["task"]] if col["task"] < len(row) else None
        if task is None or not text[task[0]:task[1]].strip():
            continue

        def cell(role: str) -> tuple[int, int] | None:
            c = row[col[role]] if role in col and col[role] < len(row) else None
            return None if c == task else c

        leads = _cell_agencies(b, cell(who_role))
        supports = _cell_agencies(b, cell("support"))
        before = len(doc.assignments)
        b.add(leads, task[0], task[1], section, False,
              role="lead" if who_role == "lead" else "responsible", partners=[a.raw for a in supports])
        b.add(supports, task[0], task[1], section, False, role="support", partners=[a.raw for a in leads])
        dl = cell("deadline")
        h = _time_cell(doc, *dl) if dl else None
        if h is None:
            continue
        for a in doc.assignments[before:]:
            if a.deadline is None:
                a.deadline = Deadline(h.text, h.span, h.date, h.recurrence, who=a.agency,
                                      what=" ".join(a.task.split()[:12]))
                a.five_clear["thoi_gian"] = True
    return True


def _find_deadlines(doc: Document, start: int, end: int) -> list[Deadline]:
    """Deadlines stated in text[start:end], found by the measures stage's helper."""
    from .measures import find_deadlines

    return [Deadline(h.text, doc.span(h.start, h.end), h.date, h.recurrence)
            for h in find_deadlines(doc.text[start:end], start, key=doc.match_text()[start:end])]


def _time_cell(doc: Document, start: int, end: int) -> Deadline | None:
    """The deadline a time column states: a date bound found in it ("Trước ngày 15/12"), else
    the whole cell as written ("Hằng năm", "Quý IV/2025"), with its recurrence when it names one."""
    from .measures import _recurrence_of

    start, end = _trim(doc.text, start, end)
    if end <= start:
        return None
    hits = _find_deadlines(doc, start, end)
    if hits:
        return hits[0]
    key = doc.match_text()[start:end]
    recurrence = _recurrence_of(key) if rules().recurrence.search(key) else None
    written = doc.text[start:end].rstrip(" .;,")
    return Deadline(written, doc.span(start, start + len(written)), None, recurrence)


def _assignment_header(cols: dict[int, str]) -> bool:
    """A task column and a column of who does it."""
    return "task" in cols.values() and bool({"lead", "doer"} & set(cols.values()))


def _table_header(doc: Document, table: Table) -> dict[int, str]:
    return table_columns([doc.text[c.start:c.end] for c in table.rows[0]])


def _table_section(doc: Document, table: Table) -> str | None:
    """The deepest numbered section holding the table (headings inside the table don't count).
    None for a table outside every section, such as an annex after the signature."""
    best = None
    for s in doc.sections:
        if (s.marker not in ("dash", "plus") and s.heading_span.start < table.span.start
                and s.span.end >= table.span.start and (best is None or s.level > best.level)):
            best = s
    return best.id if best else None


def _cell_agencies(b: _Builder, cell: tuple[int, int] | None) -> list[AgencyMention]:
    if cell is None:
        return []
    out: list[AgencyMention] = []
    for ps, pe in _paragraphs(b.text, cell[0], cell[1]):
        ps, pe = _trim(b.text, ps, pe)
        found, _ = parse_agency_list(b.text, ps, pe, b.key)
        if found:
            out.extend(found)
        elif pe > ps:
            raw = b.text[ps:pe].rstrip(" ;,.")
            out.append(AgencyMention(raw, raw, ps, ps + len(raw), None, False, None))
    return out


# ----------------------------------------------------------------------------- the stage


def extract_assignments(doc: Document) -> None:
    """Fill doc.assignments: lead-ins of letters first (they claim the items after them), then
    the agency items of the assigning sections, closing paragraphs, and assignment tables."""
    b = _Builder(doc)
    by_id = {s.id: s for s in doc.sections}
    kids = _children(doc)
    stops = [m.start() for m in rules().closing.finditer(b.key)]  # closing paragraphs
    kinds = rules().assigning_kinds
    done: set[str] = set()  # items whose tasks are emitted (their sub-items with them)
    _lead_ins(b, doc, kids, stops, done)
    _subject_lead_ins(b, doc, kids, stops, done)

    def covered(s: Section) -> bool:
        return s.id in done or (s.parent is not None and covered(by_id[s.parent]))

    for s in doc.sections:
        if s.marker in ("dash", "plus") or covered(s) or _top_kind(s, by_id) not in kinds:
            continue
        if _item(b, s, kids, stops, done):
            done.add(s.id)
        elif s.parent is not None and by_id.get(s.parent) and _top_kind(s, by_id) == "che_do_bao_cao":
            hstart = _heading_start(doc.text, s)
            if _subject_clause(b, hstart, _line_end(doc.text, hstart, s.span.end), s.id, False):
                done.add(s.id)
    for st in stops:
        _subject_clause(b, st, _line_end(doc.text, st, len(doc.text)), None, True)
    # Assignment tables are read cell by cell; what the text rules found inside one (a cell
    # line read as a paragraph) is dropped first.
    for table in doc.tables:
        if not table.rows or not _assignment_header(_table_header(doc, table)):
            continue
        inside = [a for a in doc.assignments if table.span.start <= a.span.start < table.span.end]
        if inside:
            dropped = {id(a) for a in inside}
            doc.assignments = [a for a in doc.assignments if id(a) not in dropped]
            b.seen -= {(a.agency, a.span.start) for a in inside}
        table_assignments(doc, table.rows, _table_section(doc, table), b)
    doc.assignments.sort(key=lambda a: a.span.start)
