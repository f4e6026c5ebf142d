"""Stage 6, assignments: who must do what, in which role, by when.

Sources, all read from the outline (`doc.sections`) and the text:

- agency items of the assigning sections (kinds in rules/assignments.yaml, e.g. "Tổ chức thực
  hiện", "Chế độ báo cáo", and the numbered items of a công văn): an item whose heading opens with
  agency names ("2. Sở Nội vụ", "11. Công an tỉnh, BCH Quân sự tỉnh: Chỉ đạo ...",
  "18. Đề nghị Hội Nông dân tỉnh: ..."). Its tasks are its direct sub-items (one per "-" bullet or
  "a)" letter), else the inline text after the name, else each body paragraph;
- a sub-item that names its own agency ("a) Đề nghị Liên minh Hợp tác xã tỉnh ...") is that
  agency's only; a body paragraph "Đề nghị các cơ quan báo chí ... thông tin, tuyên truyền ..."
  is a requested task of the bodies it names;
- reporting items whose subject is not first ("2. Định kỳ hằng năm (...), các sở, ban, ngành ...
  có trách nhiệm báo cáo ...") and closing paragraphs ("Trên đây là Kế hoạch ...; các sở, ban,
  ngành ... chủ động xây dựng kế hoạch ..."), except pure formulas ("nghiêm túc thực hiện./.");
- assignment tables ("STT | Nội dung | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian").

One Assignment per (agency, task). Agency names come from pipeline.agencies.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from .agencies import AgencyMention, parse_agency_list
from .model import Assignment, Deadline, Document, Section, Span, Table
from .rules import load
from .textkeys import match_key

STAGE = "assignments"


@dataclass
class _Rules:
    assigning_kinds: frozenset[str]
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


def _words_alt(words: list[str]) -> str:
    ws = sorted({match_key(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ws)


def _keyword_re(words: list[str]) -> re.Pattern:
    """Whole-word alternation of keywords, with a lookahead on their first letters: Python's
    regex engine otherwise tries every alternative at every position (3x slower)."""
    first = sorted({match_key(w)[0] for w in words})
    return re.compile(r"(?=[" + re.escape("".join(first)) + r"])(?<!\w)(?:" + _words_alt(words) + r")(?!\w)")


@lru_cache(maxsize=1)
def rules() -> _Rules:
    r = load("assignments")
    c = lambda name: re.compile(r[name]["pattern"])  # noqa: E731
    return _Rules(
        assigning_kinds=frozenset(r["assigning_section_kinds"]),
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
        recurrence=c("recurrence"),
        result=c("result_markers"),
        topic_re=_keyword_re([w for ws in r["topics"].values() for w in ws]),
        topic_of_keyword={match_key(w): t for t, ws in r["topics"].items() for w in ws},
        topic_order=list(r["topics"]),
    )


# ----------------------------------------------------------------------------- deadlines


def _find_deadlines(doc: Document, start: int, end: int) -> list[Deadline]:
    """Deadlines stated in a task, found by the measures stage's helper."""
    from .measures import find_deadlines

    return [Deadline(h.text, doc.span(h.start, h.end), h.date, h.recurrence)
            for h in find_deadlines(doc.text[start:end], start, key=doc.match_text()[start:end])]


# ----------------------------------------------------------------------------- task analysis


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


def role_of(task: str, requested: bool, key: str | None = None) -> str:
    """lead / support from the main verb; "Đề nghị ..." items are requested whatever the verb."""
    if requested:
        return "requested"
    r = rules()
    k = _main_clause(key if key is not None else match_key(task))
    if r.lead.match(k):
        return "lead"
    if r.support.match(k):
        return "support"
    return "responsible"


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
    seen = {r.topic_of_keyword[re.sub(r"\s+", " ", m.group(0))] for m in r.topic_re.finditer(key)}
    return [t for t in r.topic_order if t in seen]


def _five_clear(a: AgencyMention, role: str, task: str, key: str, deadline: Deadline | None,
                recurrence: bool, result: bool) -> dict[str, bool]:
    """Which of the "5 rõ" the text states. `recurrence`/`result`: the task states a recurrence /
    a measurable result (rules: recurrence, result_markers)."""
    r = rules()
    return {
        # a named body, or a group with a settled meaning; "các đơn vị liên quan" names nobody
        "nguoi": a.known and "liên quan" not in match_key(a.raw),
        "viec": len(task.split()) >= 3 and bool(re.search(r"[^\W\d_]", task)),
        "trach_nhiem": role in ("lead", "support") or bool(r.action_verb.match(_main_clause(key))),
        "thoi_gian": deadline is not None or recurrence,
        "ket_qua": result,
    }


class _Hits:
    """Matches of one regex over the whole document, found once; asked per task by range."""

    def __init__(self, spans: list[tuple[int, int, object]]) -> None:
        self.spans = sorted(spans, key=lambda x: x[0])
        self.starts = [s for s, _, _ in self.spans]

    def within(self, start: int, end: int) -> list[object]:
        i = bisect.bisect_left(self.starts, start)
        out = []
        while i < len(self.spans) and self.spans[i][0] < end:
            if self.spans[i][1] <= end:
                out.append(self.spans[i][2])
            i += 1
        return out


# ----------------------------------------------------------------------------- building


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.text = doc.text
        self.key = doc.match_text()
        r = rules()
        # One pass over the document per pattern; each task then looks up its own range.
        self.results = _Hits([(m.start(), m.end(), True) for m in r.result.finditer(self.key)])
        self.recurrences = _Hits([(m.start(), m.end(), True) for m in r.recurrence.finditer(self.key)])
        self.topics = _Hits([(m.start(), m.end(), r.topic_of_keyword[re.sub(r"\s+", " ", m.group(0))])
                             for m in r.topic_re.finditer(self.key)])
        from .measures import find_deadlines

        self.deadlines = _Hits([(h.start, h.end, h) for h in find_deadlines(doc.text, 0, key=self.key)])
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
        task, key = self.text[start:end], self.key[start:end]
        role = role or role_of(task, requested, key)
        parts = partners if partners is not None else partners_of(task, key)
        found = self.deadlines.within(start if sentence_start is None else sentence_start, end)
        seen_topics = set(self.topics.within(start, end))
        topics = [t for t in rules().topic_order if t in seen_topics]
        recurrence, result = bool(self.recurrences.within(start, end)), bool(self.results.within(start, end))
        for a in agencies:
            if (a.name, start) in self.seen:
                continue
            self.seen.add((a.name, start))
            deadline = None
            if found:  # the first deadline of the task, with who and what filled in
                d = found[0]
                deadline = Deadline(d.text, self.doc.span(d.start, d.end), d.date, d.recurrence, who=a.name,
                                    what=" ".join(task.split()[:12]))
            self.doc.assignments.append(Assignment(
                agency=a.name, agency_raw=a.raw, agency_id=a.id, known=a.known,
                agency_kind=a.kind, successor=a.successor, province=a.province or self.province,
                role=role, partners=[p for p in parts if p != a.raw], section=section, task=task,
                span=self.doc.span(start, end), deadline=deadline, topics=topics,
                five_clear=_five_clear(a, role, task, key, deadline, recurrence, result),
            ))


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \t\n-+•*":
        start += 1
    while end > start and text[end - 1] in " \t\n":
        end -= 1
    return start, end


_MARKER = re.compile(r"\s*(?:[IVXLC]+|\d+(?:\.\d+)*|[a-zđ])\s*[.)]\s*|\s*[-+•*]\s*")


def _heading_start(text: str, s: Section) -> int:
    m = _MARKER.match(text, s.heading_span.start)
    return m.end() if m else s.heading_span.start


def _line_end(text: str, pos: int, limit: int) -> int:
    e = text.find("\n", pos, limit)
    return limit if e < 0 else e


def _agency_heading(b: _Builder, start: int, limit: int):
    """Agencies opening a heading or paragraph: (agencies, end of the list, requested?, assigned?)."""
    r = rules()
    key = b.key
    p, requested, assigned = start, False, False
    m = r.requested.match(key[p:limit])
    if m:
        p, requested = p + m.end(), True
    else:
        m = r.assign.match(key[p:limit])
        if m:
            p, assigned = p + m.end(), True
    found, end = parse_agency_list(b.text, p, limit, key)
    return found, end, requested, assigned


def _children(doc: Document) -> dict[str, list[Section]]:
    kids: dict[str, list[Section]] = {}
    for s in doc.sections:
        if s.parent is not None:
            kids.setdefault(s.parent, []).append(s)
    return kids


def _top_kind(s: Section, by_id: dict[str, Section]) -> str | None:
    while s.parent is not None and s.parent in by_id:
        s = by_id[s.parent]
    return s.kind


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, p = [], start
    while p < end:
        e = _line_end(text, p, end)
        if text[p:e].strip():
            out.append((p, e))
        p = e + 1
    return out


def _closing_starts(b: _Builder) -> list[int]:
    return [m.start() for m in rules().closing.finditer(b.key)]


def _cut(end: int, stops: list[int], start: int) -> int:
    """End a section's text at the first closing paragraph inside it."""
    for s in stops:
        if start < s < end:
            return s
    return end


def _item(b: _Builder, s: Section, kids: dict[str, list[Section]], stops: list[int]) -> bool:
    """An agency item: emit its tasks; False when its heading names no agency."""
    text = b.text
    hstart = _heading_start(text, s)
    hend = _line_end(text, hstart, s.span.end)
    agencies, lend, requested, assigned = _agency_heading(b, hstart, hend)
    if not agencies:
        return False
    send = _cut(s.span.end, stops, s.span.start)
    rest = text[lend:hend]
    subs = [c for c in kids.get(s.id, []) if c.span.start < send]
    body = _paragraphs(text, hend + 1, subs[0].span.start if subs else send)
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
        own, olend, oreq, oassigned = _agency_heading(b, cs, _line_end(text, cs, ce))
        if own and (oreq or oassigned or text[olend:olend + 3].lstrip().startswith(":")):
            # "a) Đề nghị Liên minh Hợp tác xã tỉnh ...": its own; partners read after the subject
            b.add(own, cs, ce, cid, oreq, partners=partners_of(text[olend:ce].lstrip()))
        else:
            b.add(agencies, cs, ce, cid, requested)
    if not subs and not body and after_colon is not None and not text[after_colon:hend].strip():
        # "1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện các công việc liên quan:"
        b.add(agencies, lend, hend, s.id, requested)
    return True


def _paragraphs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, p = [], start
    while p < end:
        e = _line_end(text, p, end)
        if text[p:e].strip():
            out.append((p, e))
        p = e + 1
    return out


def _closing_starts(b: _Builder) -> list[int]:
    return [m.start() for m in rules().closing.finditer(b.key)]


def _cut(end: int, stops: list[int], start: int) -> int:
    """End a section's text at the first closing paragraph inside it."""
    for s in stops:
        if start < s < end:
            return s
    return end


def _item(b: _Builder, s: Section, kids: dict[str, list[Section]], stops: list[int]) -> bool:
    """An agency item: emit its tasks; False when its heading names no agency."""
    text = b.text
    hstart = _heading_start(text, s)
    hend = _line_end(text, hstart, s.span.end)
    agencies, lend, requested, assigned = _agency_heading(b, hstart, hend)
    if not agencies:
        return False
    send = _cut(s.span.end, stops, s.span.start)
    rest = text[lend:hend]
    subs = [c for c in kids.get(s.id, []) if c.span.start < send]
    body = _paragraphs(text, hend + 1, subs[0].span.start if subs else send)
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
        own, olend, oreq, oassigned = _agency_heading(b, cs, _line_end(text, cs, ce))
        if own and (oreq or oassigned or text[olend:olend + 3].lstrip().startswith(":")):
            # "a) Đề nghị Liên minh Hợp tác xã tỉnh ...": its own; partners read after the subject
            b.add(own, cs, ce, cid, oreq, partners=partners_of(text[olend:ce].lstrip()))
        else:
            b.add(agencies, cs, ce, cid, requested)
    if not subs and not body and after_colon is not None and not text[after_colon:hend].strip():
        # "1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện các công việc liên quan:"
        b.add(agencies, lend, hend, s.id, requested)
    return True


def _own_agency_task(b: _Builder, c: Section, cid: str, stops: list[int]) -> bool:
    """Handled already by `_item` when the sub-item names its own agency (never for bullets)."""
    return False


def _paragraph(b: _Builder, agencies: list[AgencyMention], ps: int, pe: int, sid: str,
               requested: bool) -> None:
    """A body paragraph: a task of the item's agencies, or "Đề nghị X ..." for X."""
    own, lend, req, _ = _agency_heading(b, ps, pe)
    if own and req:
        b.add(own, lend, pe, sid, True)
    else:
        b.add(agencies, ps, pe, sid, requested)


def _subject_clause(b: _Builder, start: int, end: int, section: str | None,
                    skip_formula: bool) -> bool:
    """A sentence whose subject is a list of agencies after an opener: "Định kỳ hằng năm (...),
    các sở, ban, ngành ... có trách nhiệm báo cáo ..."; "...; các sở ... chủ động xây dựng ..."."""
    r = rules()
    key = b.key
    for m in re.finditer(r"(?:^|[,;:]\s+|\bđề\s+nghị\s+)(?=\S)", key[start:end]):
        p = start + m.end()
        agencies, lend, requested, _ = _agency_heading(b, p, end)
        if not agencies or lend >= end:
            continue
        requested = requested or key[start + m.start():p].strip().startswith("đề")
        pstart = lend
        while pstart < end and key[pstart] == " ":
            pstart += 1
        rm = r.relative.match(key[pstart:end])
        if rm:
            pstart += rm.end()
        if not re.match(r"[^\W\d_]", key[pstart:pstart + 1]) or key[pstart:pstart + 1] in ":":
            continue
        sent_end = end
        dot = re.search(r"\.(?:\s|$)|\./\.", key[pstart:end])
        if dot:
            sent_end = pstart + dot.end()
        if skip_formula and is_formula(key[pstart:sent_end]):
            return False
        b.add(agencies, pstart, sent_end, section, requested, sentence_start=start)
        return True
    return False


_REQUEST = re.compile(r"(?:^|[,;]\s*|(?<=\w)\s+)(yêu\s+cầu|đề\s+nghị|giao\s+cho|giao)\s+(?=\S)")


def _request_sentence(b: _Builder, ps: int, pe: int) -> tuple[list[AgencyMention], int, bool] | None:
    """"Sở Công Thương yêu cầu các tổ chức, doanh nghiệp ... thực hiện ...": (agencies, start of
    the predicate, requested?) for the first request verb followed by agency names."""
    for m in _REQUEST.finditer(b.key, ps, pe):
        found, lend = parse_agency_list(b.text, m.end(), pe, b.key)
        if found and lend < pe and re.match(r"\s+[^\W\d_]", b.key[lend:lend + 2]):
            return found, lend, m.group(1).startswith("đề")
    return None


def _lead_ins(b: _Builder, doc: Document, done: set[str]) -> None:
    """"... yêu cầu các tổ chức, doanh nghiệp ... thực hiện một số nội dung sau:" + numbered items
    that name no agency: each item is a task of the bodies the lead-in names. Outside sections, a
    letter's other request sentences are tasks too ("Ngoài ..., yêu cầu các tổ chức ... thực
    hiện các nội dung tại Văn bản số 193/UBND-KT"), formulas excepted."""
    r = rules()
    text = doc.text
    inside = sorted((s.span.start, s.span.end) for s in doc.sections if s.parent is None)
    tops = [s for s in doc.sections if s.parent is None and s.marker not in ("dash", "plus")]
    for ps, pe in _paragraphs(text, 0, len(text)):
        if any(a <= ps < e for a, e in inside):
            continue
        req = _request_sentence(b, ps, pe)
        if req is None:
            continue
        agencies, lend, requested = req
        if text[ps:pe].rstrip().endswith(":"):
            # "... yêu cầu X thực hiện một số nội dung sau:" — not "... đề nghị Bộ X nội dung như sau:"
            if not r.action_verb_anywhere.search(b.key[lend:pe]):
                continue
            following = [s for s in tops if s.heading_span.start > pe]
            run = []
            for s in following:
                gap = text[(run[-1].span.end if run else pe):s.heading_span.start]
                if gap.strip() or _agency_heading(b, _heading_start(text, s), s.heading_span.end)[0]:
                    break
                run.append(s)
            for s in run:
                b.add(agencies, _heading_start(text, s), s.span.end, s.id, requested)
                done.add(s.id)
        elif doc.metadata.doc_type == "cong_van":
            pstart = lend + 1
            if not is_formula(b.key[pstart:pe]):
                b.add(agencies, pstart, pe, None, requested)


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
        found, end = parse_agency_list(b.text, ps, pe, b.key)
        if found:
            out.extend(found)
        elif pe > ps:
            raw = b.text[ps:pe].rstrip(" ;,.")
            out.append(AgencyMention(raw, raw, ps, ps + len(raw), None, False, None))
    return out


def extract_assignments(doc: Document) -> None:
    b = _Builder(doc)
    by_id = {s.id: s for s in doc.sections}
    kids = _children(doc)
    stops = _closing_starts(b)
    kinds = rules().assigning_kinds
    done: set[str] = set()
    _lead_ins(b, doc, done)

    def covered(s: Section) -> bool:
        return s.parent in done or (s.parent is not None and covered(by_id[s.parent]))

    for s in doc.sections:
        if s.marker in ("dash", "plus") or covered(s) or _top_kind(s, by_id) not in kinds:
            continue
        if _item(b, s, kids, stops):
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
