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

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from . import timex
from ..model import Deadline, Document, Result, Section, Target
from ..rules import load
from ..textkeys import LinePattern, match_key, trie_alternation

STAGE = "measures"


# ---------------------------------------------------------------- compiled rules

def _kp(pattern: str) -> str:
    """A rules pattern in match-key spelling: its Vietnamese words folded like the text is.

    Only runs of letters with diacritics are folded, so escapes such as \\W stay intact.
    """
    return re.sub(r"[^\W\d_]+", lambda hit: hit.group() if hit.group().isascii() else match_key(hit.group()), pattern)


def _alternation(words: list[str]) -> str:
    """Regex alternation of words (match keys, a space matching one space), longest first along
    each path so "tăng thêm" beats "tăng": textkeys.trie_alternation letter by letter."""
    return trie_alternation(words, lambda word: [re.escape(char) for char in match_key(word)])


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
    report_title: LinePattern
    target_heading: re.Pattern[str]  # .match on a heading in lower case
    target_heading_line: LinePattern
    result_skip_heading: LinePattern
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
    raw = load("measures")
    num = raw["number"]["pattern"]
    quals = {match_key(w): kind for kind, words in raw["qualifiers"].items() for w in words}
    qual_alt = _alternation(list(quals))
    directions = {match_key(w): kind for kind, words in raw["directions"].items() for w in words}
    units = raw["units"]
    count_alt = _alternation(units["count"])
    money_alt = _alternation(units["money"])
    all_units = f"{money_alt}|{_alternation(units['count'] + units['measure'])}"
    deadlines = raw["deadlines"]
    doc_types = load("doc_types")["doc_types"]
    title_kinds = ("bao_cao", "ke_hoach")
    words = raw["indicator_words"]
    conjunction = match_key(raw["conjunction"])
    return _Rules(
        number=re.compile(num),
        qualifier_of=quals,
        target_qty=re.compile(
            rf"(?:(?<!\w)(?P<verb>{_alternation(list(directions))})\s+(?:{_kp(raw['average_words'])}\s+)?)?"
            rf"(?:(?<!\w)(?P<qual>{qual_alt})\s+)?"
            rf"(?<![\w.,/-])(?P<num>{num})(?:\s*[-–]\s*(?:{num}))?\s*"
            rf"(?:(?P<pct>%)|(?P<unit>{all_units})(?!\w)|(?=(?P<noun>[^\W\d_]+)))"
            rf"(?P<per>{_kp(raw['per_year_suffix']['pattern'])})?"
        ),
        direction_of=directions,
        indicator_head=re.compile(_kp(raw["indicator_heads"]["pattern"])),
        # A direction verb that opens the clause, its indicator up to the value: the value
        # must follow within the clause with no other verb-bearing value in between.
        opening_verb=re.compile(
            rf"(?P<verb>{_alternation([w for w, k in directions.items() if k != 'reach'])})\s+"
            rf"(?=(?:{_kp(raw['indicator_heads']['pattern'])}))"
        ),
        target_lead=re.compile(_kp(raw["target_lead"]["pattern"])),
        not_a_unit=re.compile(rf"(?:{_alternation(raw['not_a_unit'])})(?![^\W\d_])"),
        target_line=re.compile(_kp(raw["target_line"]["pattern"]), re.M),
        target_line_words=tuple(match_key(w) for w in raw["target_line"]["words"]),
        per_year_scope=re.compile(_kp(raw["per_year_scope"]["pattern"])),
        horizon=re.compile(_kp(raw["horizon"]["pattern"])),
        result_qty=re.compile(
            rf"(?:(?<!\w)(?P<qual>{qual_alt})\s+)?"
            rf"(?<![\w.,/-])(?P<num>{num})(?:\s*/\s*(?P<of>{num}))?\s*"
            rf"(?:(?P<unit>%|(?:{all_units})(?!\w))|(?<=(?<![\d.,])0\d\s)(?P<noun>[^\W\d_]+))"
        ),
        unit_after_comma=re.compile(rf",\s*(?:{count_alt})(?!\w)"),
        unit_word_start=re.compile(rf"(?:{count_alt})(?!\w)"),
        money_units=frozenset(match_key(u) for u in units["money"]),
        list_openers=frozenset(match_key(w) for w in raw["list_openers"]),
        measure_units=frozenset(match_key(u) for u in units["measure"]),
        padded_count=re.compile(raw["padded_count"]["pattern"]),
        label_list_opener=re.compile(_kp(raw["label_list_opener"]["pattern"])),
        rate_after=re.compile(_kp(raw["rate_after"]["pattern"])),
        phrase_stop=re.compile(
            rf"[;:.()“”\"*!?]|\d|(?<!\w)(?:{_alternation(raw['phrase_stops'])})(?!\w)"
        ),
        total_tail=re.compile(rf"(?<!\w)(?:{_alternation(raw['total_words'])})\s*$"),
        link_tail=re.compile(
            rf"(?<!\w)(?P<link>{_alternation([w for ws in raw['link_words'].values() for w in ws])})\s*$"
        ),
        attendance=re.compile(rf"(?<!\w)(?:{_alternation(raw['attendance'])})(?!\w)"),
        existence_tail=re.compile(rf"(?<!\w)(?:{_alternation(raw['existence_verbs'])})\s*$"),
        context_openers=re.compile(_kp(raw["context_openers"]["pattern"])),
        change=re.compile(_kp(raw["change"]["pattern"])),
        threshold=re.compile(_kp(raw["threshold"]["pattern"])),
        not_a_count_before=re.compile(_kp(raw["not_a_count_before"])),
        action_words=re.compile(_kp(deadlines["action_words"])),
        past_marker=re.compile(_kp(deadlines["past_marker"]["pattern"])),
        clause_opening_gap=re.compile(_kp(deadlines["clause_opening_gap"]["pattern"])),
        task_verbs=re.compile(_kp(deadlines["task_verbs"]["pattern"])),
        request_words=re.compile(_kp(deadlines["request_words"]["pattern"])),
        every_from=re.compile(_kp(deadlines["every_from"]["pattern"])),
        issued_every=re.compile(_kp(deadlines["issued_every"]["pattern"])),
        completion_before=re.compile(_kp(deadlines["completion_before"]["pattern"])),
        time_label_before=re.compile(_kp(deadlines["time_label_before"]["pattern"])),
        table_number=re.compile(raw["table_number"]["pattern"]),
        table_count_prefixes=tuple(
            match_key(p) + " " for p in sorted(raw["table_count_prefixes"], key=len, reverse=True)
        ),
        attach_gap=re.compile(_kp(deadlines["attach_gap"])),
        task_column=re.compile(_kp(deadlines["task_column"]["pattern"])),
        lead_column=re.compile(_kp(deadlines["lead_column"]["pattern"])),
        subject_start=re.compile(_kp(deadlines["subject_start"]["pattern"])),
        subject_end=re.compile(_kp(deadlines["subject_end"]["pattern"])),
        action_start=re.compile(_kp(deadlines["action_start"]["pattern"])),
        title_kinds=tuple((kind, tuple(n.upper() for n in doc_types[kind]["names"])) for kind in title_kinds),
        report_title=LinePattern(rf"^\**(?:{_alternation(doc_types['bao_cao']['names'])})\**\s*$"),
        target_heading=re.compile(_kp(raw["target_heading"]["pattern"])),
        target_heading_line=LinePattern(
            rf"^(?:(?P<roman>[IVXLC]+)|(?P<arabic>\d+))\s*[.)]\s*(?:{_kp(raw['heading_quantifier'])}\s+)?"
            rf"{_kp(raw['target_heading']['pattern'])}", re.I),
        result_skip_heading=LinePattern(
            rf"^[IVXLC]+\s*[.)]\s*{_kp(raw['result_skip_heading']['pattern'])}", re.I),
        # a per-year target's unit, as `vanban check` reads it ("%/năm")
        per_year_unit=load("check")["yearly"]["unit_suffix"],
        value_joiner=re.compile(rf"(?:\s*,\s*|\s+{re.escape(conjunction)}\s+|\s+)$"),
        conjunction=conjunction,
        conjunction_between=re.compile(rf"\s{re.escape(conjunction)}\s"),
        context_markers=tuple(match_key(w) + " " for w in raw["context_markers"]),
        context_passive=re.compile(_kp(raw["context_passive"]["pattern"])),
        activity_noun=match_key(raw["activity_noun"]) + " ",
        label_opener=re.compile(_kp(raw["label_opener"]["pattern"])),
        link_kind={match_key(w): kind for kind, ws in raw["link_words"].items() for w in ws},
        money_named=re.compile(_kp(raw["money_named"]["pattern"])),
        measure_opener=re.compile(_kp(raw["measure_opener"]["pattern"])),
        rate_verb_tail=re.compile(_kp(raw["rate_verb_tail"]["pattern"])),
        attendance_object_stop=re.compile(_kp(raw["attendance_object_stop"]["pattern"])),
        attendance_event_verb=match_key(raw["attendance_event_verb"]) + " ",
        count_word=words["count"],
        money_word=words["money"],
        amount_word=words["amount"],
        rate_word=words["rate"],
        passive_word=words["passive"],
        passive_openers=tuple(w + " " for w in words["passive_verbs"]),
        past_word=re.compile(_kp(deadlines["past_word"]["pattern"])),
        relative_minimum_words=frozenset(match_key(w) for w in deadlines["relative_minimum_words"]),
        relative_span_words=frozenset(match_key(w) for w in deadlines["relative_span_words"]),
        completion_words=frozenset(match_key(w) for w in deadlines["completion_words"]),
        within_prefix=match_key(deadlines["within_word"]) + " ",
        close_bracket=re.compile(_kp(deadlines["close_bracket"]["pattern"])),
    )


# ---------------------------------------------------------------- small helpers

def parse_number(text: str) -> float:
    """A Vietnamese number: "3.997" → 3997, "21,4" → 21.4, "02" → 2, "2.5" → 2.5."""
    number = text.strip()
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?", number):
        number = number.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3,4}){2,}", number):
        # "5.378.7000.000": a group of four digits carries one digit too many; the grouping
        # tells the length (5.378.700.000), so the extra trailing digit goes.
        extra = sum(len(g) == 4 for g in number.split(".")[1:])
        number = number.replace(".", "")
        number = number[:len(number) - extra] if number.endswith("0" * extra) else number
    else:
        number = number.replace(",", ".")
    value = float(number)
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
    for sep in _CLAUSE_SPLIT.finditer(text, start, end):
        out.append((pos, sep.start()))
        pos = sep.end()
    out.append((pos, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _strip(text: str, start: int, end: int, chars: str = " ,;:.*-–") -> tuple[int, int]:
    """Trim `chars` from both ends of [start, end), and a bracket left open or closed by the cut."""
    while True:
        while start < end and text[start] in chars:
            start += 1
        while end > start and text[end - 1] in chars:
            end -= 1
        if start < end and text[start] == ")":
            start += 1
        elif end > start and text[end - 1] == "(":
            end -= 1
        elif end > start and text[end - 1] == ")" and text.count("(", start, end) < text.count(")", start, end):
            end -= 1
        elif start < end and text[start] == "(" and text.count("(", start, end) > text.count(")", start, end):
            start += 1
        else:
            return start, end


# ---------------------------------------------------------------- regions

def _top_sections(doc: Document, kinds: set[str]) -> list[Section]:
    return [s for s in doc.sections if s.level == 1 and s.kind in kinds]


_ROMAN_LINE = LinePattern(r"^[IVXLC]+\s*[.)]\s")
_ANY_ITEM_LINE = LinePattern(r"^(?:[IVXLC]+|\d+)\s*[.)]\s")


def _target_regions(doc: Document, key: str) -> list[tuple[int, int]]:
    """Spans of the mục tiêu sections: from the outline when present, else from headings."""
    rule_set = _rules()
    if doc.sections:
        spans = [(s.span.start, s.span.end) for s in _top_sections(doc, {"muc_tieu"})]
        # "2. Mục tiêu cụ thể" nested under "I. MỤC ĐÍCH, YÊU CẦU, MỤC TIÊU".
        spans += [(s.span.start, s.span.end) for s in doc.sections
                  if s.level > 1 and s.marker in ("arabic", "decimal", "letter")
                  and rule_set.target_heading.match(s.heading.lower())]
        if spans:
            return _merge(spans)
    spans = []
    for heading in rule_set.target_heading_line.finditer(doc.text):
        nxt = _ROMAN_LINE if heading.group("roman") else _ANY_ITEM_LINE
        line_end = doc.text.find("\n", heading.end())
        line_end = len(doc.text) if line_end < 0 else line_end
        stop = nxt.search(doc.text, line_end)
        spans.append((heading.start(), stop.start() if stop else len(doc.text)))
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


_FOOTNOTE_LINE = LinePattern(r"^[¹²³⁴⁵⁶⁷⁸⁹⁰]+[ \t].*$")


def _result_regions(doc: Document, key: str) -> list[tuple[int, int]]:
    """The report's body without its header, proposals, next-period tasks and sign-off."""
    rule_set = _rules()
    end = doc.body_end()
    title = rule_set.report_title.search(key)
    start = title.end() if title else 0
    skip: list[tuple[int, int]] = []
    if doc.sections:
        skip = [(s.span.start, s.span.end) for s in
                _top_sections(doc, {"kien_nghi_de_xuat", "phuong_huong", "muc_tieu"})]
    else:
        for heading in rule_set.result_skip_heading.finditer(doc.text, start, end):
            nxt = _ROMAN_LINE.search(doc.text, heading.end())
            skip.append((heading.start(), nxt.start() if nxt else end))
    regions, pos = [], start
    for skip_start, skip_end in _merge(skip):
        if skip_start > pos:
            regions.append((pos, min(skip_start, end)))
        pos = max(pos, skip_end)
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
    rule_set = _rules()
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
            scope = rule_set.per_year_scope.search(key, ls, le)
            horizon = rule_set.horizon.search(key, ls, le)
            for cs, ce in _clauses(text, ls, le):
                targets += _targets_in_clause(doc, key, cs, ce, scope.end() if scope else None,
                                              text[horizon.start():horizon.end()] if horizon else None)
    # The same target stated twice (in the purpose and again in the targets) is one target.
    seen: set[tuple[str, float, str]] = set()
    unique = []
    for target in targets:
        target_key = (match_key(target.indicator), target.value, target.direction)
        if target_key not in seen:
            seen.add(target_key)
            unique.append(target)
    return unique


def _targets_in_clause(doc: Document, key: str, cs: int, ce: int,
                       per_year_from: int | None, horizon: str | None) -> list[Target]:
    rule_set = _rules()
    text = doc.text
    found = list(rule_set.target_qty.finditer(key, cs, ce))
    out: list[Target] = []
    shared: str | None = None  # direction of a verb-first target, shared by the values after it
    seg_start = cs
    for index, hit in enumerate(found):
        unit_is_pct = hit.group("pct") is not None
        verb = hit.group("verb")
        lead = rule_set.target_lead.match(key, seg_start, hit.start())
        before_s = lead.end() if lead else seg_start
        ind_s = ind_e = None
        # "Giảm tần suất tai nạn lao động chết người ít nhất 4%": verb, indicator, value.
        if _in_brackets(text, hit.start()) and not unit_is_pct:
            seg_start = hit.end()
            continue  # a count listed in brackets details a figure ("(gồm 166 dự án …)")
        opening = None if verb or shared else rule_set.opening_verb.match(key, before_s, hit.start())
        if verb:
            direction = rule_set.direction_of[verb]
        elif opening:
            direction = rule_set.direction_of[opening.group("verb")]
            ind_s, ind_e = opening.end(), hit.start()
        elif shared:
            direction = shared
        else:
            direction = "reach"  # "100% các vụ …", "01 Khu công nghiệp đạt tiêu chuẩn …"
        if hit.group("noun") and (
                rule_set.not_a_count_before.search(key, max(cs, hit.start("num") - 25), hit.start("num"))
                or rule_set.not_a_unit.match(key, hit.start("noun")) or hit.group("noun") in rule_set.direction_of):
            continue  # a year, an article, a time: the clause goes on ("đến năm 2030 đạt 33,59%")
        next_start = found[index + 1].start() if index + 1 < len(found) else ce
        # Indicator before the verb: "…, tỷ lệ tai nạn lao động chết người giảm ít nhất 4%".
        if verb:
            heads = list(rule_set.indicator_head.finditer(key, before_s, hit.start()))
            if heads:
                at_break = [h for h in heads
                            if h.start() == before_s or key[:h.start()].rstrip().endswith((",", ";", ":"))]
                ind_s = (at_break or heads)[-1 if at_break else 0].start()
                ind_e = hit.start()
        if opening:
            text_s, text_e = before_s, hit.end()
        elif ind_s is not None:
            text_s, text_e = ind_s, hit.end()
        elif verb and not (hit.group("unit") or hit.group("noun")) and _has_phrase_before(key, before_s, hit.start()):
            # "…, phấn đấu tỷ trọng ngành Công nghiệp trong GRDP đến năm 2030 đạt 33,59%": the
            # phrase before the verb, back to the clause's last comma.
            ind_s, ind_e = _phrase_before(key, before_s, hit.start())
            text_s, text_e = ind_s, hit.end()
        else:  # indicator after the value: "Giảm 4% tần suất …", "100% các vụ …"
            ind_s = hit.start("unit") if hit.group("unit") else hit.start("noun") if hit.group("noun") else hit.end()
            ind_e = next_start
            if index + 1 < len(found):  # "…, 5% số cơ sở": drop the joining ", " / " và "
                tail = rule_set.value_joiner.search(key[ind_s:ind_e])
                if tail:
                    ind_e -= len(tail.group(0))
            text_s, text_e = hit.start(), ind_e
            shared = direction if verb or shared else None
        ind_s, ind_e = _strip(text, ind_s, ind_e)
        if ind_e <= ind_s and _has_phrase_before(key, before_s, hit.start()):
            # "6. Tỷ lệ các khu công nghiệp có … đạt chuẩn 100%.": nothing after the value,
            # the indicator is the phrase before it.
            ind_s, ind_e = _strip(text, *_phrase_before(key, before_s, hit.start()))
            text_s, text_e = ind_s, hit.end()
        if ind_e <= ind_s:
            seg_start = hit.end()
            continue
        per_year = bool(hit.group("per")) or (per_year_from is not None and hit.start() >= per_year_from)
        unit = ("%" if unit_is_pct else text[hit.start("unit"):hit.end("unit")] if hit.group("unit")
                else _noun_unit(text, key, hit.start("noun"), ce))
        if per_year:
            unit += rule_set.per_year_unit
        text_s, text_e = _strip(text, text_s, text_e)
        qual = hit.group("qual")
        out.append(Target(
            indicator=text[ind_s:ind_e],
            direction=direction,
            value=parse_number(hit.group("num")),
            unit=unit,
            text=text[text_s:text_e],
            span=doc.span(text_s, text_e),
            period="yearly" if per_year else horizon,
            qualifier=rule_set.qualifier_of.get(qual) if qual else None,
        ))
        seg_start = hit.end()
    return out


def _target_lines(key: str) -> list[tuple[int, int]]:
    """Lines that set targets outside the mục tiêu sections (rules: target_line): only the
    lines holding one of its words are tried, so a long law costs no regex pass per line."""
    rule_set = _rules()
    starts: set[int] = set()
    for word in rule_set.target_line_words:
        pos = key.find(word)
        while pos >= 0:
            starts.add(key.rfind("\n", 0, pos) + 1)
            pos = key.find(word, pos + 1)
    out = []
    for ls in sorted(starts):
        le = key.find("\n", ls)
        le = len(key) if le < 0 else le
        if rule_set.target_line.match(key, ls, le):
            out.append((ls, le))
    return out


def _phrase_before(key: str, before_s: int, verb_s: int) -> tuple[int, int]:
    """(start, end) of the phrase before a verb, back to the last comma and past the openers
    of a target paragraph; end == start when nothing is left."""
    lead_s = max(key.rfind(",", before_s, verb_s) + 1, before_s)
    opener = _rules().target_lead.match(key, lead_s, verb_s)
    start = opener.end() if opener else lead_s
    end = verb_s
    while end > start and key[end - 1] in " ,;:":
        end -= 1
    return start, max(start, end)


def _has_phrase_before(key: str, before_s: int, verb_s: int) -> bool:
    start, end = _phrase_before(key, before_s, verb_s)
    return end > start


def _in_brackets(text: str, pos: int) -> bool:
    """Whether pos is inside a bracket opened earlier on its line."""
    ls = text.rfind("\n", 0, pos) + 1
    return text.count("(", ls, pos) > text.count(")", ls, pos)


def _noun_unit(text: str, key: str, start: int, limit: int) -> str:
    """The counted noun that no unit list holds, up to three syllables: "05 Khu công nghiệp"."""
    rule_set = _rules()
    stop = rule_set.phrase_stop.search(key, start, limit)
    end = min(stop.start() if stop else limit, limit)
    comma = text.find(",", start, end)
    if comma >= 0:
        end = comma
    words = text[start:end].split()[:3]
    if rule_set.conjunction in words:  # "03 công dân và 21 hộ dân"
        words = words[:words.index(rule_set.conjunction)]
    return " ".join(words)


# ---------------------------------------------------------------- results

@dataclass(slots=True)
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
    rule_set = _rules()
    while True:
        stop = rule_set.phrase_stop.search(key, pos, limit)
        comma = key.find(",", pos, stop.start() if stop else limit)
        und = rule_set.conjunction_between.search(key[pos:stop.start() if stop else limit])
        cut = min(x for x in (
            stop.start() if stop else limit,
            comma if comma >= 0 else limit,
            pos + und.start() if und else limit,
        ))
        if cut < limit and key.startswith(",", cut) and rule_set.unit_after_comma.match(key, cut):
            pos = cut + 1  # ", công chức": a list of counted nouns goes on
            continue
        if und and cut == pos + und.start():
            after = cut + len(und.group(0))
            if rule_set.unit_word_start.match(key, after) or (after < limit and text[after].isupper()):
                pos = after  # "… và người lao động", "… và CNCH"
                continue
        return cut


def _clean_context(text: str, key: str, start: int, end: int) -> tuple[int, int]:
    """The verb phrase of a clause: openers, subjects before "đã", "việc"… dropped."""
    rule_set = _rules()
    start, end = _strip(text, start, end)
    opener = rule_set.context_openers.match(key, start, end)
    if opener:
        start = opener.end()
    for marker in rule_set.context_markers:
        pos = key.rfind(marker, start, end)
        if pos >= 0 and (pos == start or not key[pos - 1].isalnum()):
            start = pos + len(marker)
    passive = rule_set.context_passive.search(key[start:end])
    if passive:
        end = start + passive.start()
        if key.startswith(rule_set.activity_noun, start):
            start += len(rule_set.activity_noun)
    if rule_set.existence_tail.search(key, start, end) and rule_set.existence_tail.search(key, start, end).end() == end:
        return end, end
    return _strip(text, start, end)


def _extract_results(doc: Document, key: str, regions: list[tuple[int, int]] | None = None) -> list[Result]:
    rule_set = _rules()
    text = doc.text
    results: list[Result] = []
    for rs, re_ in (_result_regions(doc, key) if regions is None else regions):
        for ls, le in _lines(text, rs, re_):
            blocked = [(m.start(), m.end()) for m in rule_set.threshold.finditer(key, ls, le)]
            last_end = ls  # end of the last result of the line
            clauses = _clauses(text, ls, le)
            for clause_i, (cs, ce) in enumerate(clauses):
                label = (_label_before(text, key, clauses[clause_i - 1][0] if clause_i else ls, cs, last_end)
                         or _label_before(text, key, clauses[clause_i - 1][0] if clause_i else ls, cs, ls))
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
    rule_set = _rules()
    number, prefixes = rule_set.table_number, rule_set.table_count_prefixes
    out: list[Result] = []
    for table in doc.tables:
        cells = [[doc.text[c.start:c.end].strip() for c in row] for row in table.rows]
        numeric = [any(number.match(c) for c in row[1:]) for row in cells]
        if not any(numeric) or numeric[0]:
            continue
        n_head = numeric.index(True)
        headers = []
        for col in range(max(len(row) for row in cells)):
            parts: list[str] = []
            for row in cells[:n_head]:
                if col < len(row) and row[col] and row[col] not in parts:
                    parts.append(row[col])
            headers.append(" - ".join(parts))
        seen: set[tuple[int, int]] = set()
        for row_i in range(n_head, len(cells)):
            row, spans = cells[row_i], table.rows[row_i]
            label_j = next((j for j, c in enumerate(row) if c and not number.match(c)), None)
            if label_j is None:
                continue
            for col, cell in enumerate(row):
                span = spans[col]
                if col == label_j or not number.match(cell) or not headers[col] or (span.start, span.end) in seen:
                    continue
                if col == 0 and len(headers[col].split()) <= 1:  # the STT column
                    continue
                seen.add((span.start, span.end))
                value = parse_number(cell)
                if value == 0:  # an empty category ("Bộ Quốc phòng: 0") reports nothing
                    continue
                head_key = match_key(headers[col])
                unit = next((headers[col][len(p):] for p in prefixes if head_key.startswith(p)), None)
                if unit and len(unit.split()) > 3:
                    unit = None
                out.append(Result(indicator=f"{headers[col]} ({row[label_j]})", value=value,
                                  unit=unit, text=cell, span=doc.span(span.start, span.end)))
    return out


def _label_before(text: str, key: str, prev_clause_s: int, cs: int, last_end: int) -> tuple[int, int] | None:
    """The label that a colon puts before a clause: "- Dây nổ: 429.095 mét" → "Dây nổ"."""
    if cs == 0 or text[cs - 1] != ":":
        return None
    start = _BULLET.match(text, max(prev_clause_s, last_end)).end()
    start, end = _strip(text, start, cs - 1)
    rule_set = _rules()
    opener = rule_set.label_opener.match(key[start:end])
    if opener:
        start += opener.end()
    # "… các loại (bao gồm …), trong đó, thăm dò: 03 giấy phép": the label is what follows
    # the list opener inside it.
    inner = None
    for inner in rule_set.label_list_opener.finditer(key, start, end):
        pass
    if inner:
        start = inner.end()
    if end <= start or key[start:end] in rule_set.list_openers or len(text[start:end].split()) > 30:
        return None
    return start, end


def _results_in_clause(doc: Document, key: str, line_start: int, cs: int, ce: int,
                       blocked: list[tuple[int, int]], label: tuple[int, int] | None) -> list[Result]:
    rule_set = _rules()
    text = doc.text
    out: list[Result] = []
    prev: _Qty | None = None
    seg = cs
    pos = cs
    runs = doc.digit_runs()
    while True:
        # A quantity opens with a digit that starts its run (no word character before its
        # number): with no run starting in the rest of the clause, there is none to search for.
        run = bisect.bisect_left(runs, pos)
        if run == len(runs) or runs[run] >= ce:
            break
        hit = rule_set.result_qty.search(key, pos, ce)
        if not hit:
            break
        num_s = hit.start("num")
        if hit.group("noun"):
            # A count whose unit no list holds ("04 kết luận thanh tra", "04/04 Đoàn thanh tra"):
            # only a zero-padded count or a ratio, never a year, an article or a time.
            pos = hit.start("noun")
            if not (rule_set.padded_count.fullmatch(hit.group("num")) or hit.group("of")) \
                    or rule_set.not_a_unit.match(key, hit.start("noun")) or hit.group("noun") in rule_set.direction_of:
                continue
            unit_s, unit_e = hit.start("noun"), hit.start("noun") + len(_noun_unit(text, key, hit.start("noun"), ce))
        else:
            pos = hit.end()
            unit_s, unit_e = hit.start("unit"), hit.end("unit")
        if any(s <= num_s < e for s, e in blocked):
            continue
        if rule_set.not_a_count_before.search(key, max(line_start, num_s - 25), num_s):
            continue
        while (comma := rule_set.unit_after_comma.match(key, unit_e, ce)):
            unit_e = comma.end()
        unit_key = key[unit_s:hit.end("unit")] if hit.group("unit") else ""
        np_e = unit_e if unit_key == "%" else _noun_phrase_end(text, key, unit_e, ce)
        qty = _Qty(hit.start(), hit.group("num"), unit_s, unit_e, np_e)
        qty.end = np_e
        change = rule_set.change.match(key, np_e, ce) or rule_set.change.match(key, unit_e, ce)
        compared_to = delta = None
        if change:
            delta = parse_number(change.group("num")) * (
                -1 if rule_set.direction_of[change.group("dir")] == "decrease" else 1)
            ref = text[change.start("ref"):change.end("ref")]
            year = re.search(r"\d{4}", ref)
            compared_to = year.group(0) if year else ref
            qty.end = max(qty.end, change.end())
            pos = max(pos, change.end())
        if parse_number(qty.num) == 0:
            continue  # "Km27+000", "0 vụ": nothing reported
        indicator, ctx_s = _result_indicator(doc, key, qty, prev, seg, unit_key,
                                             label if prev is None else None)
        span_s, span_e = _strip(text, min(ctx_s, qty.start), qty.end)
        out.append(Result(
            indicator=indicator,
            value=parse_number(qty.num),
            unit=text[qty.unit_s:qty.unit_e],
            text=text[span_s:span_e],
            span=doc.span(span_s, span_e),
            compared_to=compared_to,
            change=delta,
        ))
        prev = qty
        seg = qty.end
        pos = max(pos, qty.end)
    return out


def _result_indicator(doc: Document, key: str, qty: _Qty, prev: _Qty | None,
                      seg: int, unit_key: str, label: tuple[int, int] | None) -> tuple[str, int]:
    """The indicator of a result and where its context starts in the text."""
    rule_set = _rules()
    text = doc.text
    noun = text[qty.unit_s:qty.np_e].strip(" ,")
    pre_s, pre_e = seg, qty.start
    # "- Số người chết do tai nạn lao động: 02 người": the label before the colon.
    if label and not text[pre_s:pre_e].strip(" *"):
        # "- Thăm dò: 01 giấy phép" → "số giấy phép Thăm dò"; "…cấp cho 59 điểm mỏ: 142.343.395.324
        # đồng" → "số tiền …": the counted noun joins a label that does not name it.
        name = text[label[0]:label[1]]
        if not rule_set.indicator_head.match(key, label[0]):
            if unit_key in rule_set.money_units:
                name = f"{rule_set.money_word} {name}"
            elif unit_key != "%" and unit_key not in rule_set.measure_units:
                name = f"{rule_set.count_word} {' '.join(text[qty.unit_s:qty.unit_e].split())} {name}"
        return name, label[0]
    total = rule_set.total_tail.search(key, pre_s, pre_e)
    if total:
        pre_e = total.start()
    link = rule_set.link_tail.search(key, pre_s, pre_e)
    link_kind = rule_set.link_kind[link.group("link")] if link else ""
    if link:
        pre_e = link.start()
    v_s, v_e = _clean_context(text, key, pre_s, pre_e)
    verb = text[v_s:v_e]
    qty.verb = verb
    if unit_key in rule_set.money_units:
        named = rule_set.money_named.search(key[pre_s:qty.start])
        if named:  # "với số tiền xử phạt là 40.000.000 đồng"
            ns, ne = pre_s + named.start(1), pre_s + named.end(1)
            return f"{rule_set.money_word} {text[ns:ne]}", pre_s + named.start()
        ctx = f"{prev.verb} {text[prev.unit_s:prev.np_e]}".strip() if prev else verb
        if not ctx:  # "13.421.100.000 đồng chưa ban hành được Quyết định thu hồi": what follows
            ctx = " ".join(text[qty.unit_e:qty.np_e].split()[:10]).strip(" ,")
        return f"{rule_set.money_word} {ctx}".strip(), v_s if verb else qty.start
    if unit_key in rule_set.measure_units:  # "với tổng sức chứa 180 tấn": what the amount measures
        ms, me = v_s, v_e
        opener = rule_set.measure_opener.match(key[ms:me])
        if opener:
            ms += opener.end()
        return (text[ms:me] or f"{rule_set.amount_word} ({text[qty.unit_s:qty.unit_e]})"), v_s if verb else qty.start
    if unit_key == "%" and (named := rule_set.rate_after.match(key, qty.unit_e)):
        # "…, đạt 100% tỷ lệ thu hồi sau thanh tra": the rate is named after the value
        ns, ne = _strip(text, named.start("name"), rule_set.phrase_stop.search(key, named.end("name")).start()
                        if rule_set.phrase_stop.search(key, named.end("name")) else len(text))
        ne = min(ne, text.find("\n", ns) if text.find("\n", ns) >= 0 else ne)
        qty.end = max(qty.end, ne)
        return text[ns:ne], qty.start
    if unit_key == "%":  # "tỷ lệ … đạt 95%": the phrase before the verb of the value
        v_e2 = v_e
        tail = rule_set.rate_verb_tail.search(key[v_s:v_e])
        if tail:
            v_e2 = v_s + tail.start()
        v_s2, v_e2 = _strip(text, v_s, v_e2)
        return (text[v_s2:v_e2] or rule_set.rate_word), v_s if verb else qty.start
    if link_kind == "with":
        unit_only = qty.np_e <= qty.unit_e or rule_set.attendance.search(key, qty.unit_e, qty.np_e)
        if not unit_only:
            return f"{rule_set.count_word} {noun}", qty.start
        if prev:  # "tổ chức 09 hội nghị … với 564 người tham dự": people attending the meetings
            obj_s, obj_e = prev.unit_s, pre_e
        else:
            obj_s, obj_e = v_s, v_e
        cut = rule_set.attendance_object_stop.search(key[obj_s:obj_e])
        if cut:
            obj_e = obj_s + cut.start()
        if key.startswith(rule_set.attendance_event_verb, obj_s):
            obj_s += len(rule_set.attendance_event_verb)
        obj_s, obj_e = _strip(text, obj_s, obj_e)
        obj = text[obj_s:obj_e]
        return f"{rule_set.count_word} {noun} {obj}".strip(), min(v_s, qty.start) if obj else qty.start
    if not verb and link_kind == "regarding" and prev:
        # "Chuyển 01 hồ sơ vụ việc … sang cơ quan Cảnh sát điều tra đối với 01 đơn vị": the act
        # of the figure before, with what it counted
        verb = f"{prev.verb} {text[prev.unit_s:prev.np_e]}".strip(" ,")
    if not verb and link_kind == "toward" and prev:
        # "27 đơn vị, doanh nghiệp tổ chức khám … cho 707 người": the action of the phrase before
        verb = text[prev.unit_e:prev.np_e].strip(" ,")
    if verb:
        joiner = " " if verb.startswith(rule_set.passive_openers) else f" {rule_set.passive_word} "
        return f"{rule_set.count_word} {noun}{joiner}{verb}", v_s if v_e > v_s else qty.start
    return f"{rule_set.count_word} {noun}", qty.start


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


def _clause_around(key: str, start: int, end: int) -> tuple[int, int]:
    """The clause (between ";", sentence ends and line ends) that holds [start, end)."""
    left = max(key.rfind(";", 0, start), key.rfind("\n", 0, start),
               key.rfind(". ", 0, start) + 1 if key.rfind(". ", 0, start) >= 0 else -1)
    right_candidates = [i for i in (key.find(";", end), key.find("\n", end), key.find(". ", end)) if i >= 0]
    return left + 1, min(right_candidates) if right_candidates else len(key)


def _is_deadline(key: str, expr: timex.TimeExpression, cs: int) -> tuple[bool, int]:
    """Whether a time expression sets a deadline in its clause key[cs:…], and where its
    deadline text starts (a completion verb just before "trong năm 2026" is part of it)."""
    rule_set = _rules()
    start = expr.start
    before = key[cs:start]
    if expr.kind == "relative":
        if expr.form == "after_event":  # "Báo cáo … sau khi kết thúc đợt kiểm tra"
            return bool(rule_set.action_words.search(before)), start
        lim = key[start:expr.end].split(" ", 1)[0]
        if lim in rule_set.relative_minimum_words:  # "thông báo … ít nhất 10 ngày", not "Tối thiểu 16 giờ" of training
            return bool(rule_set.action_words.search(before)), start
        return lim not in rule_set.relative_span_words or expr.anchor is not None, start
    if expr.kind == "recurrence":
        if expr.form == "times_per":  # "kiểm tra 01 lần/tháng", not "lũ xảy ra 5 lần/năm"
            return bool(rule_set.task_verbs.search(before)), start
        if expr.form != "every":  # "định kỳ …"
            return True, start
        opening = _BULLET.match(key, cs).end()
        if start <= opening or rule_set.clause_opening_gap.fullmatch(key, opening, start):
            # "Hằng năm, chủ động xây dựng kế hoạch …", "- Hàng quý, hàng năm thực hiện …";
            # not "Mỗi năm, lượng mưa trung bình …" (no task follows)
            _, ce = _clause_around(key, start, expr.end)
            return bool(rule_set.task_verbs.search(key, expr.end, ce)), start
        if rule_set.issued_every.search(before):
            return True, start  # "xây dựng kế hoạch thanh tra hàng năm", "báo cáo hằng quý"
        if rule_set.every_from.match(key, expr.end):
            return True, start  # "giao ban hằng tháng, bắt đầu từ tháng 01/2026": the recurrence is the frame
        return False, start
    if expr.bound == "before":
        # "… đã được đưa vào hoạt động trước ngày 15/4/2025": a condition on a past state, not a
        # deadline; unless a request follows the past act ("đã có Văn bản đề nghị Cục Đăng kiểm
        # ban hành hướng dẫn trước ngày 05/02/2026").
        past = None
        for past in rule_set.past_word.finditer(key, cs, start):
            pass
        if past is not None and not rule_set.request_words.search(key, past.end(), start):
            return False, start
        return True, start
    if expr.bound == "within":
        trigger = key[start:expr.end].split(" ")[0]
        if trigger in rule_set.completion_words:  # "xong trong", "hoàn thành trong"
            return True, start
        if expr.form == "range":  # "… tăng bình quân 12%/năm trong giai đoạn 2026-2030": the plan's horizon
            return False, start
        act = None
        for act in rule_set.action_words.finditer(key, cs, start):
            pass
        if act is None or rule_set.past_marker.search(key, cs, start):
            return False, start
        done = rule_set.completion_before.search(key, max(cs, start - 60), start)
        return True, (done.start() if done else start)
    if expr.bound is None and expr.kind in ("date", "period") and rule_set.time_label_before.search(before):
        return True, start  # "Thời gian kiểm tra: 13h30’ ngày 29/4/2026"
    return False, start


def find_deadlines(text: str, offset: int = 0, key: str | None = None,
                   runs: list[int] | None = None) -> list[DeadlineHit]:
    """Deadlines stated in `text`: the time expressions of pipeline.stages.timex that set one.

    A date or period after "trước / chậm nhất / hạn" ("trước ngày 15/12"); after "trong"
    when the clause asks for a completion or a report before it ("hoàn thành … trong năm
    2026", not "Trong tháng 3/2025, UBND tỉnh đã ban hành"); a recurrence that "định kỳ"
    announces or that opens its clause ("Hằng năm, …"); a relative limit ("ít nhất 10 ngày",
    "trước 24h trước khi sử dụng"); a time after a "Thời gian …:" label. A start alone ("từ
    tháng 01/2026") and a horizon ("đến năm 2030") are not deadlines. "Định kỳ hằng năm
    (trước ngày 15/12)" is one deadline (date "--12-15", recurrence "yearly"). Offsets are
    into `text`, plus `offset`. `key` is `match_key(text)` when the caller already has it, `runs`
    timex.digit_runs(key).
    """
    rule_set = _rules()
    key = match_key(text) if key is None else key
    exprs = timex.find_time_expressions(text, 0, key, runs)
    hits: list[DeadlineHit] = []
    prev: timex.TimeExpression | None = None  # the recurrence just before, for brackets
    for expr in exprs:
        cs, _ = _clause_around(key, expr.start, expr.end)
        ok, start = _is_deadline(key, expr, cs)
        if expr.kind in ("date", "period") and prev is not None and hits and hits[-1].start == prev.start + offset \
                and rule_set.attach_gap.match(key[prev.end:expr.start]):
            # "Định kỳ hằng năm (trước ngày 15/12)": the date in brackets belongs to the recurrence.
            end = expr.end
            close = rule_set.close_bracket.match(key, end)
            if close:
                end = close.end()
            rec = prev.recurrence or expr.recurrence
            hits[-1] = DeadlineHit(prev.start + offset, end + offset, text[prev.start:end], expr.value, rec)
            prev = None
            continue
        prev = expr if expr.kind == "recurrence" and ok else None
        if not ok:
            continue
        rec = expr.recurrence
        if rec is None and expr.value and expr.value.startswith("--"):
            rec = "yearly"
        elif rec is None and expr.kind in ("date", "period"):
            rec = "once"
        hits.append(DeadlineHit(start + offset, expr.end + offset, text[start:expr.end], expr.value, rec,
                                expr.duration))
    return hits


def _subject(text: str, key: str, start: int, end: int) -> tuple[int, int] | None:
    """The agency phrase that opens text[start:end], up to its verb; None if it opens no agency."""
    rule_set = _rules()
    start = _BULLET.match(key, start, end).end()
    start, end = _strip(text, start, end, " ,;:*()")
    if not rule_set.subject_start.match(key, start, end):
        return None
    # Only a lower-case verb ends the subject: "Ban Tổ chức Tỉnh ủy" is a name.
    stop = next((m.start() for m in rule_set.subject_end.finditer(key, start, end)
                 if text[m.start() + 1].islower()), end)
    colon = text.find(":", start, stop)
    if colon >= 0:
        stop = colon
    start, stop = _strip(text, start, stop, " ,;:*")
    return (start, stop) if stop > start else None


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
    rule_set = _rules()
    text = doc.text
    cs, ce = _clause_around(key, hit.start, hit.end)
    cs = _BULLET.match(key, cs, ce).end()
    # Deadlines of the same clause share who and what ("… (trước ngày 15/6), cả năm (trước ngày 15/12)").
    same = [h for h in all_hits if cs <= h.start < ce]
    first_s, last_e = min(h.start for h in same), max(h.end for h in same)
    who = _subject(text, key, cs, first_s)
    what: tuple[int, int] | None = None
    before_s = who[1] if who else cs
    act = rule_set.action_start.search(key, before_s, first_s)
    if act:
        what = (act.start(), first_s)
    after_s = last_e
    after_subject = _subject(text, key, after_s, ce)
    if who is None and after_subject:
        who = after_subject
    if what is None:
        from_ = after_subject[1] if after_subject else after_s
        act = rule_set.action_start.search(key, from_, ce)
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
    for hit in hits:
        if any(s <= hit.start < e for s, e in taken):
            continue
        if key.startswith(within, hit.start) and _before_document(hit.date, doc.metadata.date):
            continue  # "… hết hiệu lực trong năm 2025" in a report of 2026: the period reported on
        who, what = _who_what(doc, key, hit, hits)
        out.append(Deadline(text=hit.text, span=doc.span(hit.start, hit.end), date=hit.date,
                            recurrence=hit.recurrence, who=who, what=what, relative=hit.relative))
        taken.append((hit.start, hit.end))
    for hs, he in heads:
        for expr in timex.find_time_expressions(doc.text[hs:he], hs, key[hs:he]):
            if expr.kind not in ("date", "period") or expr.bound not in ("within", "before"):
                continue
            if _before_document(expr.value, doc.metadata.date):
                continue  # "I. KẾT QUẢ THỰC HIỆN TRONG NĂM 2025" in a report: the period reported on
            if any(s < expr.end and expr.start < e for s, e in taken):
                continue
            out.append(Deadline(text=expr.text, span=doc.span(expr.start, expr.end), date=expr.value,
                                recurrence=expr.recurrence or "once"))
            taken.append((expr.start, expr.end))
    out += cells
    out.sort(key=lambda deadline: deadline.span.start)
    return out


def _before_document(value: str | None, doc_date: str | None) -> bool:
    """Whether an ISO (partial) date or period ends before the document's date."""
    if not value or not doc_date or not value[:4].isdigit():
        return False
    year, dy = int(value[:4]), int(doc_date[:4])
    if year != dy:
        return year < dy
    parts = re.match(r"\d{4}-(?:(\d{2})|Q(\d)|H(\d))", value)
    dm = re.match(r"\d{4}-(\d{2})", doc_date)
    if not parts or not dm:
        return False
    last = (int(parts.group(1)) if parts.group(1) else int(parts.group(2)) * 3 if parts.group(2)
            else int(parts.group(3)) * 6)
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
            cell = row[time_j]
            if any(cell == other for j, other in enumerate(row) if j != time_j):
                continue  # a merged group row
            expr = timex.time_of_cell(text[cell.start:cell.end], cell.start, key[cell.start:cell.end])
            if expr is None or expr.recurrence == "continuous":
                continue
            who = what = None
            if who_j is not None and who_j < len(row):
                who = " ".join(text[row[who_j].start:row[who_j].end].split()) or None
            if task_j is not None and task_j < len(row):
                what = " ".join(text[row[task_j].start:row[task_j].end].split()[:12]) or None
            rec = expr.recurrence or ("yearly" if expr.value and expr.value.startswith("--") else
                                   "once" if expr.kind in ("date", "period") else None)
            out.append(Deadline(text=expr.text, span=doc.span(expr.start, expr.end), date=expr.value,
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
