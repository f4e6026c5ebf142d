"""Stage 6, measures: targets of plans, results of reports, and deadlines.

Requires: doc.text, doc.metadata (header), doc.sections (outline), doc.tables (normalize).
Adds: doc.targets, doc.results, doc.deadlines.

- **Targets** live in a plan's *mục tiêu* section: "tỷ lệ tai nạn lao động chết người giảm
  ít nhất 4%/năm" (indicator before the verb), "Giảm 4% tần suất …" (verb first, indicator
  after), "Tăng thêm 5% số …, 5% số …" (the second value shares the verb), "100% các vụ …"
  (no verb: the value is a level to reach). "Phấn đấu trung bình hằng năm:" puts "/năm" on
  every value of its paragraph.
- **Results** are the figures a report (báo cáo) states: a number followed by a unit it counts
  ("841 cơ sở", "21,4 triệu đồng"), its indicator built from the counted noun phrase and the
  verb of the clause ("thăm hỏi, tặng quà cho 04 người lao động …" → "số người lao động …
  được thăm hỏi, tặng quà"), and the change a bracket states ("(tăng 72 người so với năm 2024)").
- **Deadlines**: date bounds ("trước ngày 15 tháng 12 hằng năm", "trước ngày 10/12") and
  recurrences ("Định kỳ hằng năm hoặc đột xuất", "định kỳ 6 tháng"), with who and what.
  `find_deadlines(text)` is the pure helper the assignments stage uses on a task's text.

All patterns come from rules/measures.yaml and run over `match_key(text)`, which keeps the
length of the text, so every offset found is an offset into `doc.text`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from . import timex
from ..model import Deadline, Document, Result, Section, Target
from ..rules import load
from ..textkeys import match_key

STAGE = "measures"


# ---------------------------------------------------------------- compiled rules

def _kp(pattern: str) -> str:
    """A rules pattern in match-key spelling: its Vietnamese words folded like the text is.

    Only runs of letters with diacritics are folded, so escapes such as \\W stay intact.
    """
    return re.sub(r"[^\W\d_]+", lambda m: m.group() if m.group().isascii() else match_key(m.group()), pattern)


def _alternation(words: list[str]) -> str:
    """Regex alternation of words (match keys), longest first so "tăng thêm" beats "tăng"."""
    keys = sorted({match_key(w) for w in words}, key=len, reverse=True)
    return "|".join(re.escape(k) for k in keys)


@dataclass(frozen=True)
class _Rules:
    number: re.Pattern[str]
    qualifier_of: dict[str, str]
    target_qty: re.Pattern[str]
    direction_of: dict[str, str]
    indicator_head: re.Pattern[str]
    opening_verb: re.Pattern[str]
    target_lead: re.Pattern[str]
    not_a_unit: re.Pattern[str]
    target_line: re.Pattern[str]
    target_line_words: tuple[str, ...]
    per_year_scope: re.Pattern[str]
    horizon: re.Pattern[str]
    result_qty: re.Pattern[str]
    unit_after_comma: re.Pattern[str]
    unit_word_start: re.Pattern[str]
    money_units: frozenset[str]
    list_openers: frozenset[str]
    measure_units: frozenset[str]
    padded_count: re.Pattern[str]
    label_list_opener: re.Pattern[str]
    rate_after: re.Pattern[str]
    phrase_stop: re.Pattern[str]
    total_tail: re.Pattern[str]
    link_tail: re.Pattern[str]
    attendance: re.Pattern[str]
    existence_tail: re.Pattern[str]
    context_openers: re.Pattern[str]
    change: re.Pattern[str]
    threshold: re.Pattern[str]
    not_a_count_before: re.Pattern[str]
    past_marker: re.Pattern[str]
    clause_opening_gap: re.Pattern[str]
    task_verbs: re.Pattern[str]
    request_words: re.Pattern[str]
    every_from: re.Pattern[str]
    issued_every: re.Pattern[str]
    completion_before: re.Pattern[str]
    time_label_before: re.Pattern[str]
    table_number: re.Pattern[str]
    table_count_prefixes: tuple[str, ...]  # match keys, longest first, each with a space after
    action_words: re.Pattern[str]
    attach_gap: re.Pattern[str]
    task_column: re.Pattern[str]
    lead_column: re.Pattern[str]
    subject_start: re.Pattern[str]
    subject_end: re.Pattern[str]
    action_start: re.Pattern[str]
    # regions
    title_kinds: tuple[tuple[str, tuple[str, ...]], ...]  # (doc type, its names in capitals)
    report_title: re.Pattern[str]
    target_heading: re.Pattern[str]  # .match on a heading in lower case
    target_heading_line: re.Pattern[str]
    result_skip_heading: re.Pattern[str]
    # targets and results
    per_year_unit: str
    value_joiner: re.Pattern[str]
    conjunction: str
    conjunction_between: re.Pattern[str]
    context_markers: tuple[str, ...]  # each with a space after
    context_passive: re.Pattern[str]
    activity_noun: str  # with a space after
    label_opener: re.Pattern[str]
    link_kind: dict[str, str]
    money_named: re.Pattern[str]
    measure_opener: re.Pattern[str]
    rate_verb_tail: re.Pattern[str]
    attendance_object_stop: re.Pattern[str]
    attendance_event_verb: str  # with a space after
    count_word: str
    money_word: str
    amount_word: str
    rate_word: str
    passive_word: str
    passive_openers: tuple[str, ...]  # each with a space after
    # deadlines
    past_word: re.Pattern[str]
    relative_minimum_words: frozenset[str]
    relative_span_words: frozenset[str]
    completion_words: frozenset[str]
    within_prefix: str  # with a space after
    close_bracket: re.Pattern[str]


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    r = load("measures")
    num = r["number"]["pattern"]
    quals = {match_key(w): kind for kind, words in r["qualifiers"].items() for w in words}
    qual_alt = _alternation(list(quals))
    directions = {match_key(w): kind for kind, words in r["directions"].items() for w in words}
    units = r["units"]
    count_alt = _alternation(units["count"])
    money_alt = _alternation(units["money"])
    all_units = f"{money_alt}|{_alternation(units['count'] + units['measure'])}"
    d = r["deadlines"]
    doc_types = load("doc_types")["doc_types"]
    title_kinds = ("bao_cao", "ke_hoach")
    words = r["indicator_words"]
    conjunction = match_key(r["conjunction"])
    return _Rules(
        number=re.compile(num),
        qualifier_of=quals,
        target_qty=re.compile(
            rf"(?:(?<!\w)(?P<verb>{_alternation(list(directions))})\s+(?:{_kp(r['average_words'])}\s+)?)?"
            rf"(?:(?<!\w)(?P<qual>{qual_alt})\s+)?"
            rf"(?<![\w.,/-])(?P<num>{num})(?:\s*[-–]\s*(?:{num}))?\s*"
            rf"(?:(?P<pct>%)|(?P<unit>{all_units})(?!\w)|(?=(?P<noun>[^\W\d_]+)))"
            rf"(?P<per>{_kp(r['per_year_suffix']['pattern'])})?"
        ),
        direction_of=directions,
        indicator_head=re.compile(_kp(r["indicator_heads"]["pattern"])),
        # A direction verb that opens the clause, its indicator up to the value: the value
        # must follow within the clause with no other verb-bearing value in between.
        opening_verb=re.compile(
            rf"(?P<verb>{_alternation([w for w, k in directions.items() if k != 'reach'])})\s+"
            rf"(?=(?:{_kp(r['indicator_heads']['pattern'])}))"
        ),
        target_lead=re.compile(_kp(r["target_lead"]["pattern"])),
        not_a_unit=re.compile(rf"(?:{_alternation(r['not_a_unit'])})(?![^\W\d_])"),
        target_line=re.compile(_kp(r["target_line"]["pattern"]), re.M),
        target_line_words=tuple(match_key(w) for w in r["target_line"]["words"]),
        per_year_scope=re.compile(_kp(r["per_year_scope"]["pattern"])),
        horizon=re.compile(_kp(r["horizon"]["pattern"])),
        result_qty=re.compile(
            rf"(?:(?<!\w)(?P<qual>{qual_alt})\s+)?"
            rf"(?<![\w.,/-])(?P<num>{num})(?:\s*/\s*(?P<of>{num}))?\s*"
            rf"(?:(?P<unit>%|(?:{all_units})(?!\w))|(?<=(?<![\d.,])0\d\s)(?P<noun>[^\W\d_]+))"
        ),
        unit_after_comma=re.compile(rf",\s*(?:{count_alt})(?!\w)"),
        unit_word_start=re.compile(rf"(?:{count_alt})(?!\w)"),
        money_units=frozenset(match_key(u) for u in units["money"]),
        list_openers=frozenset(match_key(w) for w in r["list_openers"]),
        measure_units=frozenset(match_key(u) for u in units["measure"]),
        padded_count=re.compile(r["padded_count"]["pattern"]),
        label_list_opener=re.compile(_kp(r["label_list_opener"]["pattern"])),
        rate_after=re.compile(_kp(r["rate_after"]["pattern"])),
        phrase_stop=re.compile(
            rf"[;:.()“”\"*!?]|\d|(?<!\w)(?:{_alternation(r['phrase_stops'])})(?!\w)"
        ),
        total_tail=re.compile(rf"(?<!\w)(?:{_alternation(r['total_words'])})\s*$"),
        link_tail=re.compile(rf"(?<!\w)(?P<link>{_alternation([w for ws in r['link_words'].values() for w in ws])})\s*$"),
        attendance=re.compile(rf"(?<!\w)(?:{_alternation(r['attendance'])})(?!\w)"),
        existence_tail=re.compile(rf"(?<!\w)(?:{_alternation(r['existence_verbs'])})\s*$"),
        context_openers=re.compile(_kp(r["context_openers"]["pattern"])),
        change=re.compile(_kp(r["change"]["pattern"])),
        threshold=re.compile(_kp(r["threshold"]["pattern"])),
        not_a_count_before=re.compile(_kp(r["not_a_count_before"])),
        action_words=re.compile(_kp(d["action_words"])),
        past_marker=re.compile(_kp(d["past_marker"]["pattern"])),
        clause_opening_gap=re.compile(_kp(d["clause_opening_gap"]["pattern"])),
        task_verbs=re.compile(_kp(d["task_verbs"]["pattern"])),
        request_words=re.compile(_kp(d["request_words"]["pattern"])),
        every_from=re.compile(_kp(d["every_from"]["pattern"])),
        issued_every=re.compile(_kp(d["issued_every"]["pattern"])),
        completion_before=re.compile(_kp(d["completion_before"]["pattern"])),
        time_label_before=re.compile(_kp(d["time_label_before"]["pattern"])),
        table_number=re.compile(r["table_number"]["pattern"]),
        table_count_prefixes=tuple(match_key(p) + " " for p in sorted(r["table_count_prefixes"], key=len, reverse=True)),
        attach_gap=re.compile(_kp(d["attach_gap"])),
        task_column=re.compile(_kp(d["task_column"]["pattern"])),
        lead_column=re.compile(_kp(d["lead_column"]["pattern"])),
        subject_start=re.compile(_kp(d["subject_start"]["pattern"])),
        subject_end=re.compile(_kp(d["subject_end"]["pattern"])),
        action_start=re.compile(_kp(d["action_start"]["pattern"])),
        title_kinds=tuple((kind, tuple(n.upper() for n in doc_types[kind]["names"])) for kind in title_kinds),
        report_title=re.compile(rf"^\**(?:{_alternation(doc_types['bao_cao']['names'])})\**\s*$", re.M),
        target_heading=re.compile(_kp(r["target_heading"]["pattern"])),
        target_heading_line=re.compile(
            rf"^(?:(?P<roman>[IVXLC]+)|(?P<arabic>\d+))\s*[.)]\s*(?:{_kp(r['heading_quantifier'])}\s+)?"
            rf"{_kp(r['target_heading']['pattern'])}", re.M | re.I),
        result_skip_heading=re.compile(rf"^[IVXLC]+\s*[.)]\s*{_kp(r['result_skip_heading']['pattern'])}", re.M | re.I),
        # a per-year target's unit, as `vanban check` reads it ("%/năm")
        per_year_unit=load("check")["yearly"]["unit_suffix"],
        value_joiner=re.compile(rf"(?:\s*,\s*|\s+{re.escape(conjunction)}\s+|\s+)$"),
        conjunction=conjunction,
        conjunction_between=re.compile(rf"\s{re.escape(conjunction)}\s"),
        context_markers=tuple(match_key(w) + " " for w in r["context_markers"]),
        context_passive=re.compile(_kp(r["context_passive"]["pattern"])),
        activity_noun=match_key(r["activity_noun"]) + " ",
        label_opener=re.compile(_kp(r["label_opener"]["pattern"])),
        link_kind={match_key(w): kind for kind, ws in r["link_words"].items() for w in ws},
        money_named=re.compile(_kp(r["money_named"]["pattern"])),
        measure_opener=re.compile(_kp(r["measure_opener"]["pattern"])),
        rate_verb_tail=re.compile(_kp(r["rate_verb_tail"]["pattern"])),
        attendance_object_stop=re.compile(_kp(r["attendance_object_stop"]["pattern"])),
        attendance_event_verb=match_key(r["attendance_event_verb"]) + " ",
        count_word=words["count"],
        money_word=words["money"],
        amount_word=words["amount"],
        rate_word=words["rate"],
        passive_word=words["passive"],
        passive_openers=tuple(w + " " for w in words["passive_verbs"]),
        past_word=re.compile(_kp(d["past_word"]["pattern"])),
        relative_minimum_words=frozenset(match_key(w) for w in d["relative_minimum_words"]),
        relative_span_words=frozenset(match_key(w) for w in d["relative_span_words"]),
        completion_words=frozenset(match_key(w) for w in d["completion_words"]),
        within_prefix=match_key(d["within_word"]) + " ",
        close_bracket=re.compile(_kp(d["close_bracket"]["pattern"])),
    )


# ---------------------------------------------------------------- small helpers

def parse_number(text: str) -> float:
    """A Vietnamese number: "3.997" → 3997, "21,4" → 21.4, "02" → 2, "2.5" → 2.5."""
    s = text.strip()
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", s):
        s = s.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3,4}){2,}", s):
        # "5.378.7000.000": a group of four digits carries one digit too many; the grouping
        # tells the length (5.378.700.000), so the extra trailing digit goes.
        extra = sum(len(g) == 4 for g in s.split(".")[1:])
        s = s.replace(".", "")
        s = s[:len(s) - extra] if s.endswith("0" * extra) else s
    else:
        s = s.replace(",", ".")
    value = float(s)
    return int(value) if value.is_integer() else value


def _doc_kind(doc: Document) -> str | None:
    """metadata.doc_type from the header stage, else the title word in the first lines."""
    if doc.metadata.doc_type:
        return doc.metadata.doc_type
    title_kinds = _rules().title_kinds
    for line in doc.text.split("\n", 25)[:25]:
        head = line.strip().strip("*").strip()
        for kind, names in title_kinds:
            if head.startswith(names):
                return kind
    return None


def _lines(text: str, start: int, end: int):
    """(line_start, line_end) of every line overlapping [start, end)."""
    pos = text.rfind("\n", 0, start) + 1
    while pos < end:
        nl = text.find("\n", pos)
        stop = len(text) if nl < 0 else nl
        yield pos, min(stop, end)
        pos = stop + 1


_CLAUSE_SPLIT = re.compile(r";|:(?=\s)|\.(?=\s+[^\W\d_a-zđ]|\s*$)")
_BULLET = re.compile(r"\s*(?:[-+•*–]|\d+(?:\.\d+)*[.)]|[a-zđ]\)|[IVXLC]+\.)?\s*\**\s*")


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Clauses of text[start:end], split at ";", ":" and sentence ends."""
    out, pos = [], start
    for m in _CLAUSE_SPLIT.finditer(text, start, end):
        out.append((pos, m.start()))
        pos = m.end()
    out.append((pos, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _strip(text: str, s: int, e: int, chars: str = " ,;:.*-–") -> tuple[int, int]:
    """Trim `chars` from both ends of [s, e), and a bracket left open or closed by the cut."""
    while True:
        while s < e and text[s] in chars:
            s += 1
        while e > s and text[e - 1] in chars:
            e -= 1
        if s < e and text[s] == ")":
            s += 1
        elif e > s and text[e - 1] == "(":
            e -= 1
        elif e > s and text[e - 1] == ")" and text.count("(", s, e) < text.count(")", s, e):
            e -= 1
        elif s < e and text[s] == "(" and text.count("(", s, e) > text.count(")", s, e):
            s += 1
        else:
            return s, e


# ---------------------------------------------------------------- regions

def _top_sections(doc: Document, kinds: set[str]) -> list[Section]:
    return [s for s in doc.sections if s.level == 1 and s.kind in kinds]


_ROMAN_LINE = re.compile(r"^[IVXLC]+\s*[.)]\s", re.M)
_ANY_ITEM_LINE = re.compile(r"^(?:[IVXLC]+|\d+)\s*[.)]\s", re.M)


def _target_regions(doc: Document, key: str) -> list[tuple[int, int]]:
    """Spans of the mục tiêu sections: from the outline when present, else from headings."""
    R = _rules()
    if doc.sections:
        spans = [(s.span.start, s.span.end) for s in _top_sections(doc, {"muc_tieu"})]
        # "2. Mục tiêu cụ thể" nested under "I. MỤC ĐÍCH, YÊU CẦU, MỤC TIÊU".
        spans += [(s.span.start, s.span.end) for s in doc.sections
                  if s.level > 1 and s.marker in ("arabic", "decimal", "letter")
                  and R.target_heading.match(s.heading.lower())]
        if spans:
            return _merge(spans)
    spans = []
    for m in R.target_heading_line.finditer(doc.text):
        nxt = _ROMAN_LINE if m.group("roman") else _ANY_ITEM_LINE
        line_end = doc.text.find("\n", m.end())
        line_end = len(doc.text) if line_end < 0 else line_end
        stop = nxt.search(doc.text, line_end)
        spans.append((m.start(), stop.start() if stop else len(doc.text)))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


_FOOTNOTE_LINE = re.compile(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]+[ \t].*$", re.M)


def _result_regions(doc: Document, key: str) -> list[tuple[int, int]]:
    """The report's body without its header, proposals, next-period tasks and sign-off."""
    R = _rules()
    end = doc.body_end()
    title = R.report_title.search(key)
    start = title.end() if title else 0
    skip: list[tuple[int, int]] = []
    if doc.sections:
        skip = [(s.span.start, s.span.end) for s in
                _top_sections(doc, {"kien_nghi_de_xuat", "phuong_huong", "muc_tieu"})]
    else:
        for m in R.result_skip_heading.finditer(doc.text, start, end):
            nxt = _ROMAN_LINE.search(doc.text, m.end())
            skip.append((m.start(), nxt.start() if nxt else end))
    regions, pos = [], start
    for s, e in _merge(skip):
        if s > pos:
            regions.append((pos, min(s, end)))
        pos = max(pos, e)
    if pos < end:
        regions.append((pos, end))
    # Footnotes printed after the sign-off belong to the body ("⁸ … phản ánh của 03 công dân").
    regions += [(m.start(), m.end()) for m in _FOOTNOTE_LINE.finditer(doc.text, end)]
    # (a region of blank text after the last skipped section would reach back to its last line)
    return [(s, e) for s, e in regions if s < e and doc.text[s:e].strip()]


# ---------------------------------------------------------------- targets

def _extract_targets(doc: Document, key: str, within: list[tuple[int, int]] | None = None) -> list[Target]:
    """Targets of the document; with `within`, only those inside these spans (a report's
    next-period section)."""
    R = _rules()
    text = doc.text
    targets: list[Target] = []
    regions = _target_regions(doc, key)
    # Outside the mục tiêu sections, a plan sets targets in the headings of its numbered
    # items ("2. Thành lập mới khoảng trên 500ha các khu, cụm công nghiệp:") and in lines
    # that strive for or bound a figure ("Phấn đấu …", "cắt giảm ít nhất 30% …").
    content = [(sec.span.start, sec.span.end) for sec in _top_sections(doc, {"nhiem_vu_giai_phap"})]
    extra = [(sec.heading_span.start, sec.heading_span.end) for sec in doc.sections
             if sec.level > 1 and sec.marker not in ("dash", "plus")
             and any(a <= sec.span.start < b for a, b in content)]
    extra += _target_lines(key)
    regions = _merge(regions + [(a, b) for a, b in extra
                                if not any(rs <= a < re_ for rs, re_ in regions)])
    if within is not None:
        regions = [(max(a, ws), min(b, we)) for a, b in regions for ws, we in within if a < we and ws < b]
    for rs, re_ in regions:
        for ls, le in _lines(text, rs, re_):
            scope = R.per_year_scope.search(key, ls, le)
            horizon = R.horizon.search(key, ls, le)
            for cs, ce in _clauses(text, ls, le):
                targets += _targets_in_clause(doc, key, cs, ce, scope.end() if scope else None,
                                              text[horizon.start():horizon.end()] if horizon else None)
    # The same target stated twice (in the purpose and again in the targets) is one target.
    seen: set[tuple[str, float, str]] = set()
    unique = []
    for t in targets:
        k = (match_key(t.indicator), t.value, t.direction)
        if k not in seen:
            seen.add(k)
            unique.append(t)
    return unique


def _targets_in_clause(doc: Document, key: str, cs: int, ce: int,
                       per_year_from: int | None, horizon: str | None) -> list[Target]:
    R = _rules()
    text = doc.text
    found = list(R.target_qty.finditer(key, cs, ce))
    out: list[Target] = []
    shared: str | None = None  # direction of a verb-first target, shared by the values after it
    seg_start = cs
    for i, m in enumerate(found):
        unit_is_pct = m.group("pct") is not None
        verb = m.group("verb")
        lead = R.target_lead.match(key, seg_start, m.start())
        before_s = lead.end() if lead else seg_start
        ind_s = ind_e = None
        # "Giảm tần suất tai nạn lao động chết người ít nhất 4%": verb, indicator, value.
        if _in_brackets(text, m.start()) and not unit_is_pct:
            seg_start = m.end()
            continue  # a count listed in brackets details a figure ("(gồm 166 dự án …)")
        opening = None if verb or shared else R.opening_verb.match(key, before_s, m.start())
        if verb:
            direction = R.direction_of[verb]
        elif opening:
            direction = R.direction_of[opening.group("verb")]
            ind_s, ind_e = opening.end(), m.start()
        elif shared:
            direction = shared
        else:
            direction = "reach"  # "100% các vụ …", "01 Khu công nghiệp đạt tiêu chuẩn …"
        if m.group("noun") and (R.not_a_count_before.search(key, max(cs, m.start("num") - 25), m.start("num"))
                                or R.not_a_unit.match(key, m.start("noun")) or m.group("noun") in R.direction_of):
            continue  # a year, an article, a time: the clause goes on ("đến năm 2030 đạt 33,59%")
        next_start = found[i + 1].start() if i + 1 < len(found) else ce
        # Indicator before the verb: "…, tỷ lệ tai nạn lao động chết người giảm ít nhất 4%".
        if verb:
            heads = list(R.indicator_head.finditer(key, before_s, m.start()))
            if heads:
                at_break = [h for h in heads
                            if h.start() == before_s or key[:h.start()].rstrip().endswith((",", ";", ":"))]
                ind_s = (at_break or heads)[-1 if at_break else 0].start()
                ind_e = m.start()
        if opening:
            text_s, text_e = before_s, m.end()
        elif ind_s is not None:
            text_s, text_e = ind_s, m.end()
        elif verb and not (m.group("unit") or m.group("noun")) and _has_phrase_before(key, before_s, m.start()):
            # "…, phấn đấu tỷ trọng ngành Công nghiệp trong GRDP đến năm 2030 đạt 33,59%": the
            # phrase before the verb, back to the clause's last comma.
            ind_s, ind_e = _phrase_before(key, before_s, m.start())
            text_s, text_e = ind_s, m.end()
        else:  # indicator after the value: "Giảm 4% tần suất …", "100% các vụ …"
            ind_s = m.start("unit") if m.group("unit") else m.start("noun") if m.group("noun") else m.end()
            ind_e = next_start
            if i + 1 < len(found):  # "…, 5% số cơ sở": drop the joining ", " / " và "
                tail = R.value_joiner.search(key[ind_s:ind_e])
                if tail:
                    ind_e -= len(tail.group(0))
            text_s, text_e = m.start(), ind_e
            shared = direction if verb or shared else None
        ind_s, ind_e = _strip(text, ind_s, ind_e)
        if ind_e <= ind_s and _has_phrase_before(key, before_s, m.start()):
            # "6. Tỷ lệ các khu công nghiệp có … đạt chuẩn 100%.": nothing after the value,
            # the indicator is the phrase before it.
            ind_s, ind_e = _strip(text, *_phrase_before(key, before_s, m.start()))
            text_s, text_e = ind_s, m.end()
        if ind_e <= ind_s:
            seg_start = m.end()
            continue
        per_year = bool(m.group("per")) or (per_year_from is not None and m.start() >= per_year_from)
        unit = "%" if unit_is_pct else text[m.start("unit"):m.end("unit")] if m.group("unit") else _noun_unit(text, key, m.start("noun"), ce)
        if per_year:
            unit += R.per_year_unit
        text_s, text_e = _strip(text, text_s, text_e)
        qual = m.group("qual")
        out.append(Target(
            indicator=text[ind_s:ind_e],
            direction=direction,
            value=parse_number(m.group("num")),
            unit=unit,
            text=text[text_s:text_e],
            span=doc.span(text_s, text_e),
            period="yearly" if per_year else horizon,
            qualifier=R.qualifier_of.get(qual) if qual else None,
        ))
        seg_start = m.end()
    return out


def _target_lines(key: str) -> list[tuple[int, int]]:
    """Lines that set targets outside the mục tiêu sections (rules: target_line): only the
    lines holding one of its words are tried, so a long law costs no regex pass per line."""
    R = _rules()
    starts: set[int] = set()
    for word in R.target_line_words:
        i = key.find(word)
        while i >= 0:
            starts.add(key.rfind("\n", 0, i) + 1)
            i = key.find(word, i + 1)
    out = []
    for ls in sorted(starts):
        le = key.find("\n", ls)
        le = len(key) if le < 0 else le
        if R.target_line.match(key, ls, le):
            out.append((ls, le))
    return out


def _phrase_before(key: str, s: int, verb_s: int) -> tuple[int, int]:
    """(start, end) of the phrase before a verb, back to the last comma and past the openers
    of a target paragraph; end == start when nothing is left."""
    lead_s = max(key.rfind(",", s, verb_s) + 1, s)
    opener = _rules().target_lead.match(key, lead_s, verb_s)
    start = opener.end() if opener else lead_s
    end = verb_s
    while end > start and key[end - 1] in " ,;:":
        end -= 1
    return start, max(start, end)


def _has_phrase_before(key: str, s: int, verb_s: int) -> bool:
    start, end = _phrase_before(key, s, verb_s)
    return end > start


def _in_brackets(text: str, pos: int) -> bool:
    """Whether pos is inside a bracket opened earlier on its line."""
    ls = text.rfind("\n", 0, pos) + 1
    return text.count("(", ls, pos) > text.count(")", ls, pos)


def _noun_unit(text: str, key: str, s: int, limit: int) -> str:
    """The counted noun that no unit list holds, up to three syllables: "05 Khu công nghiệp"."""
    R = _rules()
    stop = R.phrase_stop.search(key, s, limit)
    e = min(stop.start() if stop else limit, limit)
    comma = text.find(",", s, e)
    if comma >= 0:
        e = comma
    words = text[s:e].split()[:3]
    if R.conjunction in words:  # "03 công dân và 21 hộ dân"
        words = words[:words.index(R.conjunction)]
    return " ".join(words)


# ---------------------------------------------------------------- results

@dataclass
class _Qty:
    start: int  # qualifier or number
    num: str
    unit_s: int
    unit_e: int  # end of the unit, compounds included ("đơn vị, doanh nghiệp")
    np_e: int  # end of the noun phrase the number counts
    verb: str = ""  # the action of the clause, as used in the indicator
    end: int = 0  # end of the whole result (change bracket included)


def _noun_phrase_end(text: str, key: str, pos: int, limit: int) -> int:
    """End of the noun phrase after a unit: up to punctuation, a stop word or a new number."""
    R = _rules()
    while True:
        stop = R.phrase_stop.search(key, pos, limit)
        comma = key.find(",", pos, stop.start() if stop else limit)
        und = R.conjunction_between.search(key[pos:stop.start() if stop else limit])
        cut = min(x for x in (
            stop.start() if stop else limit,
            comma if comma >= 0 else limit,
            pos + und.start() if und else limit,
        ))
        if cut < limit and key.startswith(",", cut) and R.unit_after_comma.match(key, cut):
            pos = cut + 1  # ", công chức": a list of counted nouns goes on
            continue
        if und and cut == pos + und.start():
            after = cut + len(und.group(0))
            if R.unit_word_start.match(key, after) or (after < limit and text[after].isupper()):
                pos = after  # "… và người lao động", "… và CNCH"
                continue
        return cut


def _clean_context(text: str, key: str, s: int, e: int) -> tuple[int, int]:
    """The verb phrase of a clause: openers, subjects before "đã", "việc"… dropped."""
    R = _rules()
    s, e = _strip(text, s, e)
    m = R.context_openers.match(key, s, e)
    if m:
        s = m.end()
    for marker in R.context_markers:
        i = key.rfind(marker, s, e)
        if i >= 0 and (i == s or not key[i - 1].isalnum()):
            s = i + len(marker)
    passive = R.context_passive.search(key[s:e])
    if passive:
        e = s + passive.start()
        if key.startswith(R.activity_noun, s):
            s += len(R.activity_noun)
    if R.existence_tail.search(key, s, e) and R.existence_tail.search(key, s, e).end() == e:
        return e, e
    return _strip(text, s, e)


def _extract_results(doc: Document, key: str, regions: list[tuple[int, int]] | None = None) -> list[Result]:
    R = _rules()
    text = doc.text
    results: list[Result] = []
    for rs, re_ in (_result_regions(doc, key) if regions is None else regions):
        for ls, le in _lines(text, rs, re_):
            blocked = [(m.start(), m.end()) for m in R.threshold.finditer(key, ls, le)]
            last_end = ls  # end of the last result of the line
            clauses = _clauses(text, ls, le)
            for i, (cs, ce) in enumerate(clauses):
                label = (_label_before(text, key, clauses[i - 1][0] if i else ls, cs, last_end)
                         or _label_before(text, key, clauses[i - 1][0] if i else ls, cs, ls))
                found = _results_in_clause(doc, key, ls, cs, ce, blocked, label)
                if found:
                    last_end = found[-1].span.end
                results += found
    return results


def _table_results(doc: Document) -> list[Result]:
    """Figures in a report's tables: each number cell, with the row's label and the column's
    header ("Số lượng tổ chức (Thi công công trình)": 21 tổ chức). Header rows are the rows
    above the first one that holds a number; a header merged over several columns ("Cơ quan
    cấp phép") is joined with the one below it ("Cơ quan cấp phép - Bộ Công Thương")."""
    R = _rules()
    number, prefixes = R.table_number, R.table_count_prefixes
    out: list[Result] = []
    for table in doc.tables:
        cells = [[doc.text[c.start:c.end].strip() for c in row] for row in table.rows]
        numeric = [any(number.match(c) for c in row[1:]) for row in cells]
        if not any(numeric) or numeric[0]:
            continue
        n_head = numeric.index(True)
        headers = []
        for j in range(max(len(row) for row in cells)):
            parts: list[str] = []
            for row in cells[:n_head]:
                if j < len(row) and row[j] and row[j] not in parts:
                    parts.append(row[j])
            headers.append(" - ".join(parts))
        seen: set[tuple[int, int]] = set()
        for i in range(n_head, len(cells)):
            row, spans = cells[i], table.rows[i]
            label_j = next((j for j, c in enumerate(row) if c and not number.match(c)), None)
            if label_j is None:
                continue
            for j, cell in enumerate(row):
                span = spans[j]
                if j == label_j or not number.match(cell) or not headers[j] or (span.start, span.end) in seen:
                    continue
                if j == 0 and len(headers[j].split()) <= 1:  # the STT column
                    continue
                seen.add((span.start, span.end))
                value = parse_number(cell)
                if value == 0:  # an empty category ("Bộ Quốc phòng: 0") reports nothing
                    continue
                head_key = match_key(headers[j])
                unit = next((headers[j][len(p):] for p in prefixes if head_key.startswith(p)), None)
                if unit and len(unit.split()) > 3:
                    unit = None
                out.append(Result(indicator=f"{headers[j]} ({row[label_j]})", value=value,
                                  unit=unit, text=cell, span=doc.span(span.start, span.end)))
    return out


def _label_before(text: str, key: str, prev_clause_s: int, cs: int, last_end: int) -> tuple[int, int] | None:
    """The label that a colon puts before a clause: "- Dây nổ: 429.095 mét" → "Dây nổ"."""
    if cs == 0 or text[cs - 1] != ":":
        return None
    s = _BULLET.match(text, max(prev_clause_s, last_end)).end()
    s, e = _strip(text, s, cs - 1)
    R = _rules()
    opener = R.label_opener.match(key[s:e])
    if opener:
        s += opener.end()
    # "… các loại (bao gồm …), trong đó, thăm dò: 03 giấy phép": the label is what follows
    # the list opener inside it.
    inner = None
    for inner in R.label_list_opener.finditer(key, s, e):
        pass
    if inner:
        s = inner.end()
    if e <= s or key[s:e] in R.list_openers or len(text[s:e].split()) > 30:
        return None
    return s, e


def _results_in_clause(doc: Document, key: str, line_start: int, cs: int, ce: int,
                       blocked: list[tuple[int, int]], label: tuple[int, int] | None) -> list[Result]:
    R = _rules()
    text = doc.text
    out: list[Result] = []
    prev: _Qty | None = None
    seg = cs
    pos = cs
    while True:
        m = R.result_qty.search(key, pos, ce)
        if not m:
            break
        num_s = m.start("num")
        if m.group("noun"):
            # A count whose unit no list holds ("04 kết luận thanh tra", "04/04 Đoàn thanh tra"):
            # only a zero-padded count or a ratio, never a year, an article or a time.
            pos = m.start("noun")
            if not (R.padded_count.fullmatch(m.group("num")) or m.group("of")) \
                    or R.not_a_unit.match(key, m.start("noun")) or m.group("noun") in R.direction_of:
                continue
            unit_s, unit_e = m.start("noun"), m.start("noun") + len(_noun_unit(text, key, m.start("noun"), ce))
        else:
            pos = m.end()
            unit_s, unit_e = m.start("unit"), m.end("unit")
        if any(s <= num_s < e for s, e in blocked):
            continue
        if R.not_a_count_before.search(key, max(line_start, num_s - 25), num_s):
            continue
        while (c := R.unit_after_comma.match(key, unit_e, ce)):
            unit_e = c.end()
        unit_key = key[unit_s:m.end("unit")] if m.group("unit") else ""
        np_e = unit_e if unit_key == "%" else _noun_phrase_end(text, key, unit_e, ce)
        q = _Qty(m.start(), m.group("num"), unit_s, unit_e, np_e)
        q.end = np_e
        change = R.change.match(key, np_e, ce) or R.change.match(key, unit_e, ce)
        compared_to = delta = None
        if change:
            delta = parse_number(change.group("num")) * (-1 if R.direction_of[change.group("dir")] == "decrease" else 1)
            ref = text[change.start("ref"):change.end("ref")]
            year = re.search(r"\d{4}", ref)
            compared_to = year.group(0) if year else ref
            q.end = max(q.end, change.end())
            pos = max(pos, change.end())
        if parse_number(q.num) == 0:
            continue  # "Km27+000", "0 vụ": nothing reported
        indicator, ctx_s = _result_indicator(doc, key, q, prev, seg, unit_key,
                                             label if prev is None else None)
        span_s, span_e = _strip(text, min(ctx_s, q.start), q.end)
        out.append(Result(
            indicator=indicator,
            value=parse_number(q.num),
            unit=text[q.unit_s:q.unit_e],
            text=text[span_s:span_e],
            span=doc.span(span_s, span_e),
            compared_to=compared_to,
            change=delta,
        ))
        prev = q
        seg = q.end
        pos = max(pos, q.end)
    return out


def _result_indicator(doc: Document, key: str, q: _Qty, prev: _Qty | None,
                      seg: int, unit_key: str, label: tuple[int, int] | None) -> tuple[str, int]:
    """The indicator of a result and where its context starts in the text."""
    R = _rules()
    text = doc.text
    noun = text[q.unit_s:q.np_e].strip(" ,")
    pre_s, pre_e = seg, q.start
    # "- Số người chết do tai nạn lao động: 02 người": the label before the colon.
    if label and not text[pre_s:pre_e].strip(" *"):
        # "- Thăm dò: 01 giấy phép" → "số giấy phép Thăm dò"; "…cấp cho 59 điểm mỏ: 142.343.395.324
        # đồng" → "số tiền …": the counted noun joins a label that does not name it.
        name = text[label[0]:label[1]]
        if not R.indicator_head.match(key, label[0]):
            if unit_key in R.money_units:
                name = f"{R.money_word} {name}"
            elif unit_key != "%" and unit_key not in R.measure_units:
                name = f"{R.count_word} {' '.join(text[q.unit_s:q.unit_e].split())} {name}"
        return name, label[0]
    total = R.total_tail.search(key, pre_s, pre_e)
    if total:
        pre_e = total.start()
    link = R.link_tail.search(key, pre_s, pre_e)
    link_kind = R.link_kind[link.group("link")] if link else ""
    if link:
        pre_e = link.start()
    v_s, v_e = _clean_context(text, key, pre_s, pre_e)
    verb = text[v_s:v_e]
    q.verb = verb
    if unit_key in R.money_units:
        named = R.money_named.search(key[pre_s:q.start])
        if named:  # "với số tiền xử phạt là 40.000.000 đồng"
            ns, ne = pre_s + named.start(1), pre_s + named.end(1)
            return f"{R.money_word} {text[ns:ne]}", pre_s + named.start()
        ctx = f"{prev.verb} {text[prev.unit_s:prev.np_e]}".strip() if prev else verb
        if not ctx:  # "13.421.100.000 đồng chưa ban hành được Quyết định thu hồi": what follows
            ctx = " ".join(text[q.unit_e:q.np_e].split()[:10]).strip(" ,")
        return f"{R.money_word} {ctx}".strip(), v_s if verb else q.start
    if unit_key in R.measure_units:  # "với tổng sức chứa 180 tấn": what the amount measures
        ms, me = v_s, v_e
        opener = R.measure_opener.match(key[ms:me])
        if opener:
            ms += opener.end()
        return (text[ms:me] or f"{R.amount_word} ({text[q.unit_s:q.unit_e]})"), v_s if verb else q.start
    if unit_key == "%" and (named := R.rate_after.match(key, q.unit_e)):
        # "…, đạt 100% tỷ lệ thu hồi sau thanh tra": the rate is named after the value
        ns, ne = _strip(text, named.start("name"), R.phrase_stop.search(key, named.end("name")).start()
                        if R.phrase_stop.search(key, named.end("name")) else len(text))
        ne = min(ne, text.find("\n", ns) if text.find("\n", ns) >= 0 else ne)
        q.end = max(q.end, ne)
        return text[ns:ne], q.start
    if unit_key == "%":  # "tỷ lệ … đạt 95%": the phrase before the verb of the value
        v_e2 = v_e
        tail = R.rate_verb_tail.search(key[v_s:v_e])
        if tail:
            v_e2 = v_s + tail.start()
        v_s2, v_e2 = _strip(text, v_s, v_e2)
        return (text[v_s2:v_e2] or R.rate_word), v_s if verb else q.start
    if link_kind == "with":
        unit_only = q.np_e <= q.unit_e or R.attendance.search(key, q.unit_e, q.np_e)
        if not unit_only:
            return f"{R.count_word} {noun}", q.start
        if prev:  # "tổ chức 09 hội nghị … với 564 người tham dự": people attending the meetings
            obj_s, obj_e = prev.unit_s, pre_e
        else:
            obj_s, obj_e = v_s, v_e
        cut = R.attendance_object_stop.search(key[obj_s:obj_e])
        if cut:
            obj_e = obj_s + cut.start()
        if key.startswith(R.attendance_event_verb, obj_s):
            obj_s += len(R.attendance_event_verb)
        obj_s, obj_e = _strip(text, obj_s, obj_e)
        obj = text[obj_s:obj_e]
        return f"{R.count_word} {noun} {obj}".strip(), min(v_s, q.start) if obj else q.start
    if not verb and link_kind == "regarding" and prev:
        # "Chuyển 01 hồ sơ vụ việc … sang cơ quan Cảnh sát điều tra đối với 01 đơn vị": the act
        # of the figure before, with what it counted
        verb = f"{prev.verb} {text[prev.unit_s:prev.np_e]}".strip(" ,")
    if not verb and link_kind == "toward" and prev:
        # "27 đơn vị, doanh nghiệp tổ chức khám … cho 707 người": the action of the phrase before
        verb = text[prev.unit_e:prev.np_e].strip(" ,")
    if verb:
        joiner = " " if verb.startswith(R.passive_openers) else f" {R.passive_word} "
        return f"{R.count_word} {noun}{joiner}{verb}", v_s if v_e > v_s else q.start
    return f"{R.count_word} {noun}", q.start


# ---------------------------------------------------------------- deadlines

class DeadlineHit(NamedTuple):
    """A deadline found in a text: offsets (plus the caller's offset), verbatim text, date, recurrence."""

    start: int
    end: int
    text: str
    date: str | None  # "2025-12-15", "--12-15" (every year), "2025-12", "2026-Q4"
    recurrence: str | None  # yearly | half_yearly | quarterly | monthly | weekly | ad_hoc | periodic | once
    relative: str | None = None  # a limit counted from an event: ISO 8601 duration ("P10D")


def _recurrence_of(period: str) -> str | None:
    """Canonical recurrence of period words ("hằng năm" → "yearly"); see timex.recurrence_of."""
    return timex.recurrence_of(period)


def _clause_around(key: str, s: int, e: int) -> tuple[int, int]:
    """The clause (between ";", sentence ends and line ends) that holds [s, e)."""
    left = max(key.rfind(";", 0, s), key.rfind("\n", 0, s), key.rfind(". ", 0, s) + 1 if key.rfind(". ", 0, s) >= 0 else -1)
    right_candidates = [i for i in (key.find(";", e), key.find("\n", e), key.find(". ", e)) if i >= 0]
    return left + 1, min(right_candidates) if right_candidates else len(key)


def _is_deadline(key: str, x: timex.TimeExpression, cs: int) -> tuple[bool, int]:
    """Whether a time expression sets a deadline in its clause key[cs:…], and where its
    deadline text starts (a completion verb just before "trong năm 2026" is part of it)."""
    R = _rules()
    s = x.start
    before = key[cs:s]
    if x.kind == "relative":
        if x.form == "after_event":  # "Báo cáo … sau khi kết thúc đợt kiểm tra"
            return bool(R.action_words.search(before)), s
        lim = key[s:x.end].split(" ", 1)[0]
        if lim in R.relative_minimum_words:  # "thông báo … ít nhất 10 ngày", not "Tối thiểu 16 giờ" of training
            return bool(R.action_words.search(before)), s
        return lim not in R.relative_span_words or x.anchor is not None, s
    if x.kind == "recurrence":
        if x.form == "times_per":  # "kiểm tra 01 lần/tháng", not "lũ xảy ra 5 lần/năm"
            return bool(R.task_verbs.search(before)), s
        if x.form != "every":  # "định kỳ …"
            return True, s
        opening = _BULLET.match(key, cs).end()
        if s <= opening or R.clause_opening_gap.fullmatch(key, opening, s):
            # "Hằng năm, chủ động xây dựng kế hoạch …", "- Hàng quý, hàng năm thực hiện …";
            # not "Mỗi năm, lượng mưa trung bình …" (no task follows)
            _, ce = _clause_around(key, s, x.end)
            return bool(R.task_verbs.search(key, x.end, ce)), s
        if R.issued_every.search(before):
            return True, s  # "xây dựng kế hoạch thanh tra hàng năm", "báo cáo hằng quý"
        if R.every_from.match(key, x.end):
            return True, s  # "giao ban hằng tháng, bắt đầu từ tháng 01/2026": the recurrence is the frame
        return False, s
    if x.bound == "before":
        # "… đã được đưa vào hoạt động trước ngày 15/4/2025": a condition on a past state, not a
        # deadline; unless a request follows the past act ("đã có Văn bản đề nghị Cục Đăng kiểm
        # ban hành hướng dẫn trước ngày 05/02/2026").
        past = None
        for past in R.past_word.finditer(key, cs, s):
            pass
        if past is not None and not R.request_words.search(key, past.end(), s):
            return False, s
        return True, s
    if x.bound == "within":
        trigger = key[s:x.end].split(" ")[0]
        if trigger in R.completion_words:  # "xong trong", "hoàn thành trong"
            return True, s
        if x.form == "range":  # "… tăng bình quân 12%/năm trong giai đoạn 2026-2030": the plan's horizon
            return False, s
        act = None
        for act in R.action_words.finditer(key, cs, s):
            pass
        if act is None or R.past_marker.search(key, cs, s):
            return False, s
        done = R.completion_before.search(key, max(cs, s - 60), s)
        return True, (done.start() if done else s)
    if x.bound is None and x.kind in ("date", "period") and R.time_label_before.search(before):
        return True, s  # "Thời gian kiểm tra: 13h30’ ngày 29/4/2026"
    return False, s


def find_deadlines(text: str, offset: int = 0, key: str | None = None) -> list[DeadlineHit]:
    """Deadlines stated in `text`: the time expressions of pipeline.stages.timex that set one.

    A date or period after "trước / chậm nhất / hạn" ("trước ngày 15/12"); after "trong"
    when the clause asks for a completion or a report before it ("hoàn thành … trong năm
    2026", not "Trong tháng 3/2025, UBND tỉnh đã ban hành"); a recurrence that "định kỳ"
    announces or that opens its clause ("Hằng năm, …"); a relative limit ("ít nhất 10 ngày",
    "trước 24h trước khi sử dụng"); a time after a "Thời gian …:" label. A start alone ("từ
    tháng 01/2026") and a horizon ("đến năm 2030") are not deadlines. "Định kỳ hằng năm
    (trước ngày 15/12)" is one deadline (date "--12-15", recurrence "yearly"). Offsets are
    into `text`, plus `offset`. `key` is `match_key(text)` when the caller already has it.
    """
    R = _rules()
    key = match_key(text) if key is None else key
    exprs = timex.find_time_expressions(text, 0, key)
    hits: list[DeadlineHit] = []
    prev: timex.TimeExpression | None = None  # the recurrence just before, for brackets
    for x in exprs:
        cs, _ = _clause_around(key, x.start, x.end)
        ok, start = _is_deadline(key, x, cs)
        if x.kind in ("date", "period") and prev is not None and hits and hits[-1].start == prev.start + offset \
                and R.attach_gap.match(key[prev.end:x.start]):
            # "Định kỳ hằng năm (trước ngày 15/12)": the date in brackets belongs to the recurrence.
            end = x.end
            close = R.close_bracket.match(key, end)
            if close:
                end = close.end()
            rec = prev.recurrence or x.recurrence
            hits[-1] = DeadlineHit(prev.start + offset, end + offset, text[prev.start:end], x.value, rec)
            prev = None
            continue
        prev = x if x.kind == "recurrence" and ok else None
        if not ok:
            continue
        rec = x.recurrence
        if rec is None and x.value and x.value.startswith("--"):
            rec = "yearly"
        elif rec is None and x.kind in ("date", "period"):
            rec = "once"
        hits.append(DeadlineHit(start + offset, x.end + offset, text[start:x.end], x.value, rec, x.duration))
    return hits


def _subject(text: str, key: str, s: int, e: int) -> tuple[int, int] | None:
    """The agency phrase that opens text[s:e], up to its verb; None if it opens no agency."""
    R = _rules()
    s = _BULLET.match(key, s, e).end()
    s, e = _strip(text, s, e, " ,;:*()")
    if not R.subject_start.match(key, s, e):
        return None
    # Only a lower-case verb ends the subject: "Ban Tổ chức Tỉnh ủy" is a name.
    stop = next((m.start() for m in R.subject_end.finditer(key, s, e) if text[m.start() + 1].islower()), e)
    colon = text.find(":", s, stop)
    if colon >= 0:
        stop = colon
    s, stop = _strip(text, s, stop, " ,;:*")
    return (s, stop) if stop > s else None


def _parent_heading(doc: Document, pos: int) -> tuple[int, int] | None:
    """The numbered or lettered item that a bullet at `pos` belongs to (its heading line)."""
    if doc.sections:
        best = None
        for sec in doc.sections:
            if sec.marker in ("dash", "plus") or sec.level == 1 and sec.marker == "roman":
                continue
            if sec.span.start <= pos < sec.span.end and sec.heading_span.start <= pos:
                if best is None or sec.span.start >= best.span.start:
                    best = sec
        if best is not None:
            return best.heading_span.start, best.heading_span.end
        return None
    line_s = doc.text.rfind("\n", 0, pos) + 1
    while line_s > 0:
        prev_s = doc.text.rfind("\n", 0, line_s - 1) + 1
        line = doc.text[prev_s:line_s - 1]
        if re.match(r"^\s*(?:\d+(?:\.\d+)*[.)]|[a-zđ]\))\s", line):
            return prev_s, line_s - 1
        if re.match(r"^\s*[IVXLC]+\.\s", line):
            return None
        line_s = prev_s
    return None


def _who_what(doc: Document, key: str, hit: DeadlineHit, all_hits: list[DeadlineHit]) -> tuple[str | None, str | None]:
    R = _rules()
    text = doc.text
    cs, ce = _clause_around(key, hit.start, hit.end)
    cs = _BULLET.match(key, cs, ce).end()
    # Deadlines of the same clause share who and what ("… (trước ngày 15/6), cả năm (trước ngày 15/12)").
    same = [h for h in all_hits if cs <= h.start < ce]
    first_s, last_e = min(h.start for h in same), max(h.end for h in same)
    who = _subject(text, key, cs, first_s)
    what: tuple[int, int] | None = None
    before_s = who[1] if who else cs
    act = R.action_start.search(key, before_s, first_s)
    if act:
        what = (act.start(), first_s)
    after_s = last_e
    after_subject = _subject(text, key, after_s, ce)
    if who is None and after_subject:
        who = after_subject
    if what is None:
        from_ = after_subject[1] if after_subject else after_s
        act = R.action_start.search(key, from_, ce)
        what = (act.start() if act else from_, ce)
    if who is None:  # an earlier clause of the sentence names the subject
        sent_s = max(key.rfind("\n", 0, cs) + 1, key.rfind(". ", 0, cs) + 2 if key.rfind(". ", 0, cs) >= 0 else 0)
        pieces = [p for p in _clauses(text, sent_s, cs) if p[1] <= cs]
        for ps, pe in reversed(pieces):
            who = _subject(text, key, ps, pe)
            if who:
                break
    if who is None:
        parent = _parent_heading(doc, hit.start)
        if parent:
            who = _subject(text, key, *parent)
    who_text = text[who[0]:who[1]] if who else None
    what_text = None
    if what:
        ws, we = _strip(text, *what, chars=" ,;:.*()/-–")
        what_text = text[ws:we] or None
    return who_text, what_text


def _extract_deadlines(doc: Document, key: str) -> list[Deadline]:
    """The document's deadlines: those its text states (find_deadlines), the time frame of a
    section heading ("… TRONG THÁNG 12/2025", who unknown) and each row's time cell of a task
    table (who: the lead cell, what: the task)."""
    within = _rules().within_prefix
    end = doc.body_end()
    hits = [h for h in doc.deadline_hits() if h.end <= end]  # found once, shared with assignments
    out: list[Deadline] = []
    cells = _table_time_cells(doc, key)
    heads = [(s.heading_span.start, s.heading_span.end) for s in doc.sections
             if s.marker not in ("dash", "plus") and 0 < len(doc.text[s.heading_span.start:s.heading_span.end].split()) <= 25]
    taken: list[tuple[int, int]] = [(d.span.start, d.span.end) for d in cells]
    for h in hits:
        if any(s <= h.start < e for s, e in taken):
            continue
        if key.startswith(within, h.start) and _before_document(h.date, doc.metadata.date):
            continue  # "… hết hiệu lực trong năm 2025" in a report of 2026: the period reported on
        who, what = _who_what(doc, key, h, hits)
        out.append(Deadline(text=h.text, span=doc.span(h.start, h.end), date=h.date,
                            recurrence=h.recurrence, who=who, what=what, relative=h.relative))
        taken.append((h.start, h.end))
    for hs, he in heads:
        for x in timex.find_time_expressions(doc.text[hs:he], hs, key[hs:he]):
            if x.kind not in ("date", "period") or x.bound not in ("within", "before"):
                continue
            if _before_document(x.value, doc.metadata.date):
                continue  # "I. KẾT QUẢ THỰC HIỆN TRONG NĂM 2025" in a report: the period reported on
            if any(s < x.end and x.start < e for s, e in taken):
                continue
            out.append(Deadline(text=x.text, span=doc.span(x.start, x.end), date=x.value,
                                recurrence=x.recurrence or "once"))
            taken.append((x.start, x.end))
    out += cells
    out.sort(key=lambda d: d.span.start)
    return out


def _before_document(value: str | None, doc_date: str | None) -> bool:
    """Whether an ISO (partial) date or period ends before the document's date."""
    if not value or not doc_date or not value[:4].isdigit():
        return False
    y, dy = int(value[:4]), int(doc_date[:4])
    if y != dy:
        return y < dy
    m = re.match(r"\d{4}-(?:(\d{2})|Q(\d)|H(\d))", value)
    dm = re.match(r"\d{4}-(\d{2})", doc_date)
    if not m or not dm:
        return False
    last = int(m.group(1)) if m.group(1) else int(m.group(2)) * 3 if m.group(2) else int(m.group(3)) * 6
    return last < int(dm.group(1))


def _table_time_cells(doc: Document, key: str) -> list[Deadline]:
    """The time cell of each row of a table whose header names a time column ("Thời gian
    thực hiện", "Tiến độ", "Thời hạn hoàn thành"). "Thường xuyên" is a frame, not a deadline."""
    out: list[Deadline] = []
    text = doc.text
    task_column, lead_column = _rules().task_column, _rules().lead_column
    for table in doc.tables:
        if len(table.rows) < 2:
            continue
        head = [text[c.start:c.end] for c in table.rows[0]]
        time_j = next((j for j, h in enumerate(head) if timex.is_time_column(h)), None)
        if time_j is None:
            continue
        task_j = next((j for j, h in enumerate(head) if task_column.search(match_key(h))), None)
        who_j = next((j for j, h in enumerate(head) if lead_column.search(match_key(h))), None)
        for row in table.rows[1:]:
            if time_j >= len(row):
                continue
            c = row[time_j]
            if any(c == other for j, other in enumerate(row) if j != time_j):
                continue  # a merged group row
            x = timex.time_of_cell(text[c.start:c.end], c.start, key[c.start:c.end])
            if x is None or x.recurrence == "continuous":
                continue
            who = what = None
            if who_j is not None and who_j < len(row):
                who = " ".join(text[row[who_j].start:row[who_j].end].split()) or None
            if task_j is not None and task_j < len(row):
                what = " ".join(text[row[task_j].start:row[task_j].end].split()[:12]) or None
            rec = x.recurrence or ("yearly" if x.value and x.value.startswith("--") else
                                   "once" if x.kind in ("date", "period") else None)
            out.append(Deadline(text=x.text, span=doc.span(x.start, x.end), date=x.value,
                                recurrence=rec, who=who, what=what))
    return out


# ---------------------------------------------------------------- the stage

def extract_measures(doc: Document) -> None:
    """Fill doc.targets, doc.results and doc.deadlines: a plan's targets and the results its
    account section recounts, a report's results and the targets of its next-period section."""
    if not doc.text:
        return
    key = doc.match_text()
    kind = _doc_kind(doc)
    if kind == "bao_cao":
        doc.results = _extract_results(doc, key) + _table_results(doc)
        doc.results.sort(key=lambda res: res.span.start)
        # A report sets targets in its next-period section ("Phấn đấu năm 2026 …").
        ahead = [(sec.span.start, sec.span.end) for sec in _top_sections(doc, {"phuong_huong", "muc_tieu"})]
        doc.targets = _extract_targets(doc, key, ahead) if ahead else []
    else:
        doc.targets = _extract_targets(doc, key)
        # A plan recounts past results in its account section ("I. KẾT QUẢ THỰC HIỆN NĂM 2025").
        past = [(sec.span.start, sec.span.end) for sec in _top_sections(doc, {"tinh_hinh_thuc_hien"})]
        if past:
            doc.results = _extract_results(doc, key, past)
    doc.deadlines = _extract_deadlines(doc, key)
