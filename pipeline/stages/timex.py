"""The one time-expression recogniser: dates, periods, recurrences and relative limits.

A helper of measures and assignments, with no stage of its own.

Public API (used by the deadline list of pipeline/stages/measures.py and by pipeline/stages/assignments.py)::

    find_time_expressions(text, offset=0, key=None) -> list[TimeExpression]
        Every time expression of `text`, left to right, non-overlapping. Offsets are into
        `text` plus `offset`; `key` is `match_key(text)` when the caller has it already.
    time_of_cell(text, offset=0, key=None) -> TimeExpression | None
        The time frame a table's time cell (or a "Thời gian …:" label's value) states: the
        first expression in it, else the whole cell when it names a continuing frame
        ("Thường xuyên") or a recurrence; None for an empty cell.
    recurrence_of(words) -> str | None
        Canonical recurrence of period words ("hằng năm" → "yearly", "6 tháng" → "half_yearly").
    is_time_column(header) -> bool
        Whether a table header cell names the time column ("Thời gian thực hiện", "Tiến độ").

Which expressions set a deadline is decided by `pipeline.stages.measures.find_deadlines(text,
offset=0, key=None) -> list[DeadlineHit]` (start, end, text, date, recurrence, relative),
which `Document.deadline_hits()` runs once per document for both stages.

A TimeExpression carries its span (start, end), verbatim text and:
- kind: "date" (a day, possibly with a clock time), "period" (month, quarter, half, year,
  range), "recurrence" (hằng năm, định kỳ 6 tháng, 01 lần/tháng, thường xuyên) or
  "relative" (ít nhất 10 ngày, trong vòng 05 ngày làm việc, sau khi kết thúc …);
- value: ISO 8601 or a partial form of it — "2025-12-18", "2026-04-29T13:30", "--12-15"
  (15 December of every year), "---20" (the 20th of every month), "2026-06", "--06",
  "2026-Q2", "Q2", "2026-H1", "2026", "2026/2030"; None for recurrences and relative limits;
- recurrence: yearly | half_yearly | quarterly | monthly | weekly | daily | ad_hoc |
  periodic (định kỳ with no period) | continuous (thường xuyên) | None;
- bound: before | within | from | until | None — the word in front of it
  ("trước ngày 15/12" → before; "xong trong Quý II/2026" → within; "từ tháng 01/2026" → from);
- duration: ISO 8601 duration of a relative limit ("P10D", "PT24H"), `working_days` when it
  counts working days, and `anchor` the event it counts from ("trước khi sử dụng");
- form: the rules/timex.yaml form that matched (day, month, quarter, every, periodic, …).

Everything is data in rules/timex.yaml, joined into one regex compiled once per process. A
text is read in one pass over its match key (same length as the text, so offsets agree): the
regex is only tried at the word starts just before each digit or trigger word (~1.4 ms for a
document of 13,000 characters).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..rules import load
from ..textkeys import match_key, one_byte

__all__ = ["TimeExpression", "find_time_expressions", "time_of_cell", "recurrence_of", "is_time_column"]


@dataclass(frozen=True, slots=True)
class TimeExpression:
    start: int
    end: int
    text: str
    kind: str  # date | period | recurrence | relative
    value: str | None = None  # ISO or partial ISO
    recurrence: str | None = None
    bound: str | None = None  # before | within | from | until
    duration: str | None = None  # ISO 8601 duration of a relative limit
    working_days: bool = False
    anchor: str | None = None  # the event a relative limit counts from
    form: str = ""  # the rules/timex.yaml form that matched

    @property
    def is_full_date(self) -> bool:
        return self.kind == "date" and bool(self.value) and self.value[:1].isdigit()


def _kp(pattern: str) -> str:
    """A rules pattern in match-key spelling (only runs of non-ASCII letters are folded)."""
    return re.sub(r"[^\W\d_]+", lambda hit: hit.group() if hit.group().isascii() else match_key(hit.group()), pattern)


@dataclass(frozen=True)
class _Rules:
    scan: re.Pattern[str]
    forms: tuple[tuple[str, str, str | None, bool, dict[str, str]], ...]  # name, kind, recurrence, requires_bound, group map
    bound_of: tuple[tuple[str, re.Pattern[str]], ...]
    suffix: re.Pattern[str]
    recurrence: tuple[tuple[str, re.Pattern[str]], ...]
    continuous: re.Pattern[str]
    time_column: re.Pattern[str]
    trigger_words: tuple[str, ...]
    lead: int  # how far before its trigger an expression may start
    opening: re.Pattern[str]  # the word starts where `scan` can match
    number_words: dict[str, int]  # "năm" -> 5
    units: dict[str, tuple[str, bool]]  # unit words -> (ISO 8601 duration letter, working days)
    halves: dict[str, int]  # "đầu" -> 1



class _CanStartAnywhere(Exception):
    """The pattern's start cannot be read as literal letters or classes."""


_OPENING_LONGEST = 8  # letters of an opening word that the scan's openings keep


def _first_words(pattern: str, longest: int = _OPENING_LONGEST) -> tuple[frozenset[str], bool] | None:
    """The literal beginnings a match of `pattern` can start with ("trước", "chậm", "quý", each
    up to its first space, class or repeat, at most `longest` letters) and whether a digit can
    start it: a word start whose letters begin none of them is never tried. Read off the parsed
    pattern (literals, classes, groups, branches, optional parts; assertions are skipped). None
    when some match can start with anything or match the empty string."""
    import re._constants as sre
    import re._parser as sre_parse

    digit = False

    def walk(stack: list[list], prefix: str) -> set[str]:
        nonlocal digit
        while stack and not stack[0]:
            stack = stack[1:]
        if not stack:
            if prefix:
                return {prefix}
            raise _CanStartAnywhere
        (op, av), rest = stack[0][0], [stack[0][1:], *stack[1:]]
        if op is sre.LITERAL:
            char = chr(av)
            if prefix and (char.isspace() or len(prefix) >= longest):
                return {prefix}
            if char.isspace():
                raise _CanStartAnywhere
            return walk(rest, prefix + char)
        if op in (sre.ASSERT, sre.ASSERT_NOT, sre.AT):
            return walk(rest, prefix)
        if op is sre.SUBPATTERN:
            return walk([list(av[3]), *rest], prefix)
        if op is sre.BRANCH:
            return set().union(*(walk([list(branch), *rest], prefix) for branch in av[1]))
        if prefix:
            return {prefix}  # a class or a repeat ends the literal beginning
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT):
            found = walk([list(av[2])], "")
            return found | walk(rest, "") if av[0] == 0 else found
        if op is sre.IN:
            chars = set()
            for item_op, item in av:
                if item_op is sre.LITERAL:
                    chars.add(chr(item))
                elif item_op is sre.RANGE and item[1] - item[0] < 1000:
                    chars |= {chr(code) for code in range(item[0], item[1] + 1)}
                elif item_op is sre.CATEGORY and item is sre.CATEGORY_DIGIT:
                    digit = True
                else:
                    raise _CanStartAnywhere
            return chars
        if op is sre.CATEGORY and av is sre.CATEGORY_DIGIT:
            digit = True
            return set()
        raise _CanStartAnywhere

    try:
        words = walk([list(sre_parse.parse(pattern))], "")
    except _CanStartAnywhere:
        return None
    return frozenset(words), digit


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    raw = load("timex")
    bounds = "|".join(f"(?:{_kp(b['pattern'])})" for b in raw["bounds"].values())
    alts, forms = [], []
    for form_i, form in enumerate(raw["forms"]):
        groups: dict[str, str] = {}

        def rename(match: re.Match[str], form_i: int = form_i, groups: dict[str, str] = groups) -> str:
            new = f"f{form_i}_{match.group(1)}"
            groups[match.group(1)] = new
            return f"(?P<{new}>"

        body = re.sub(r"\(\?P<(\w+)>", rename, _kp(form["pattern"]))
        body = re.sub(r"\(\?P=(\w+)\)", lambda match, form_i=form_i: f"(?P=f{form_i}_{match.group(1)})", body)
        alts.append(f"(?P<f{form_i}>{body})")
        forms.append((form["name"], form["kind"], form.get("recurrence"), bool(form.get("requires_bound")), groups))
    scan = re.compile(rf"(?<![\w])(?:(?P<bound>{bounds})\s+)?(?:{'|'.join(alts)})")
    # Word starts whose first letter can open an expression: the others are never tried.
    first = _first_words(scan.pattern)
    opening = (re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in sorted(first[0], key=len, reverse=True))
                          + (r"|\d" if first[1] else "") + ")") if first else _WORD_START)
    return _Rules(
        scan=scan,
        forms=tuple(forms),
        bound_of=tuple((name, re.compile(rf"(?:{_kp(b['pattern'])})$")) for name, b in raw["bounds"].items()),
        suffix=re.compile(_kp(raw["suffix"]["pattern"])),
        recurrence=tuple((k, re.compile(_kp(p))) for k, p in raw["recurrence"].items()),
        continuous=re.compile(_kp(raw["continuous"]["pattern"])),
        time_column=re.compile(_kp(raw["time_column"]["pattern"])),
        trigger_words=tuple(match_key(w) for w in raw["trigger"]["words"]),
        lead=int(raw["trigger"]["lead_chars"]),
        opening=opening,
        number_words={match_key(w): n for w, n in raw["number_words"].items()},
        units={match_key(w): (u["letter"], bool(u.get("working_days"))) for w, u in raw["units"].items()},
        halves={match_key(w): n for w, n in raw["halves"].items()},
    )


_ROMAN_Q = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def recurrence_of(words: str) -> str | None:
    """Canonical recurrence of period words (match key or text): "hằng năm" → "yearly"."""
    word_key = match_key(words).strip()
    for name, pattern in _rules().recurrence:
        if pattern.search(word_key):
            return name
    return None


def _int(token: str | None) -> int | None:
    if token is None:
        return None
    return int(token) if token.isdigit() else _rules().number_words.get(token)


def _date_value(day_str: str | None, mo: str | None, year: str | None) -> str | None:
    day, month = _int(day_str), _int(mo)
    if month is None or not 1 <= month <= 12 or (day is not None and not 1 <= day <= 31):
        return None
    if day is None:
        return f"{year}-{month:02d}" if year else f"--{month:02d}"
    return f"{year}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _read(match: re.Match[str], key: str) -> tuple[str, str, str | None, str | None, dict] | None:
    """(form name, kind, value, recurrence, extras) of one scan match; None when invalid."""
    rule_set = _rules()
    for form_i, (name, kind, rec, requires_bound, groups) in enumerate(rule_set.forms):
        if match.group(f"f{form_i}") is None:
            continue
        captured = {k: match.group(v) for k, v in groups.items()}
        if requires_bound and match.group("bound") is None:
            return None
        extras: dict = {}
        value = None
        if name == "relative":
            count, unit = _int(captured["n"]), captured["u"]
            if count is None:
                return None
            letter, working_days = rule_set.units[unit]
            extras["duration"] = f"PT{count}H" if letter == "H" else f"P{count}{letter}"
            extras["working_days"] = working_days
            if captured.get("anchor"):
                extras["anchor_span"] = (match.start(groups["anchor"]), match.end(groups["what"]))
        elif name == "after_event":
            extras["anchor_span"] = (match.start(groups["lim"]), match.end(groups["what"]))
        elif name == "datetime":
            value = _date_value(captured["d"], captured["m"], captured["y"])
            hh, mi = int(captured["hh"]), int(captured["mi"] or 0)
            if value is None or hh > 24:
                return None
            value = f"{value}T{hh:02d}:{mi:02d}"
        elif name == "monthly_day":
            day = int(captured["d"])
            if not 1 <= day <= 31:
                return None
            value = f"---{day:02d}"
        elif name in ("day", "numeric_date", "short_date"):
            value = _date_value(captured["d"], captured["m"], captured.get("y"))
            if value is None:
                return None
        elif name == "half":
            value = f"{captured['y'] + '-' if captured['y'] else ''}H{rule_set.halves[captured['which']]}"
        elif name == "quarter":
            quarter = _ROMAN_Q.get(captured["q"]) or int(captured["q"])
            value = f"{captured['y']}-Q{quarter}" if captured["y"] else f"Q{quarter}"
        elif name == "month":
            value = _date_value(None, captured["m"], captured["y"])
            if value is None or (captured["y"] is None and match.group("bound") is None):
                return None
        elif name == "range":
            value = f"{captured['y']}/{captured['y2']}"
        elif name == "year":
            value = captured["y"]
        elif name in ("periodic", "every", "times_per"):
            rec = rec or recurrence_of(captured["p"])  # "01 lần/tháng": the period names it
        return name, kind, value, rec, extras
    return None


def _bound_name(bound: str | None) -> str | None:
    if not bound:
        return None
    for name, pattern in _rules().bound_of:
        if pattern.match(bound):
            return name
    return None


_WORD_START = re.compile(r"(?<!\w)\w")
_DIGITS = re.compile(r"\d+")


# byte -> b"0" for the digits 0-9, b" " for any other (see digit_runs)
_DIGIT_MARKS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x20 for byte in range(256))


def digit_runs(key: str) -> list[int]:
    """Where each run of digits starts: `[m.start() for m in re.finditer(r"\\d+", key)]`.

    Found with bytes.find over the key's one-byte form with digits marked, when it has one
    (almost every text): the regex engine takes about 13 ns a character to rule out a digit,
    the byte scan a fraction of that. The one-byte characters hold no digits but 0-9."""
    # (a short key, a heading or a cell, is as fast with the regex as encoded)
    encoded = one_byte(key) if len(key) > 256 else None
    if encoded is None:
        return [match.start() for match in _DIGITS.finditer(key)]
    marked = encoded.translate(_DIGIT_MARKS)
    out = [0] if marked[:1] == b"0" else []
    pos = marked.find(b" 0")
    while pos >= 0:
        out.append(pos + 1)
        pos = marked.find(b" 0", pos + 2)
    return out


def _triggers(key: str, runs: list[int] | None = None) -> list[int]:
    """Sorted positions of the digits and trigger words of `key` (str.find for the words: far
    cheaper than one regex alternation tried at every character); `runs`: digit_runs(key)
    when the caller has it."""
    rule_set = _rules()
    out = digit_runs(key) if runs is None else list(runs)
    for word in rule_set.trigger_words:
        pos = key.find(word)
        while pos >= 0:
            out.append(pos)
            pos = key.find(word, pos + 1)
    out.sort()
    return out


def _candidates(key: str, runs: list[int] | None = None):
    """Scan matches, tried only at the word starts shortly before the words every expression
    holds (a digit, "hằng", "định kỳ", "sau khi" …), earliest first: the one big regex is
    matched at a few positions instead of searched through the whole text."""
    rule_set = _rules()
    last = 0  # end of the last expression yielded
    tried_to = 0  # word starts before this were tried already
    for trigger in _triggers(key, runs):
        if trigger < last:
            continue
        # (an opening word may run past the trigger: the search reaches a word further)
        for word_start in rule_set.opening.finditer(key, max(last, tried_to, trigger - rule_set.lead),
                                                    trigger + _OPENING_LONGEST + 1):
            if word_start.start() > trigger:
                break
            match = rule_set.scan.match(key, word_start.start())
            if match and match.end() > trigger:
                last = match.end()
                yield match
                break
        tried_to = trigger + 1


def find_time_expressions(text: str, offset: int = 0, key: str | None = None,
                          runs: list[int] | None = None) -> list[TimeExpression]:
    """Every time expression of `text` (see the module docstring), in order. `runs`:
    digit_runs(key), when the caller has it (a document keeps its own)."""
    rule_set = _rules()
    key = match_key(text) if key is None else key
    out: list[TimeExpression] = []
    last = 0
    for match in _candidates(key, runs):
        if match.start() < last:  # inside a suffix read with the expression before
            continue
        read = _read(match, key)
        if read is None:
            continue
        name, kind, value, rec, extras = read
        start, end = match.start(), match.end()
        if kind in ("date", "period") and rec is None:
            suffix = rule_set.suffix.match(key, end)
            if suffix:  # "ngày 15 tháng 12 hằng năm"
                end = suffix.end()
                rec = recurrence_of(suffix.group(0))
                if value and value[:4].isdigit() and rec in ("yearly",):
                    value = value[4:]  # the year repeats: "--12-15"
        bound = _bound_name(match.group("bound"))
        if kind == "relative":
            bound = None
        if rec is None and kind == "date" and value and value[:1].isdigit():
            rec = "once"
        last = end
        anchor = None
        if "anchor_span" in extras:
            anchor_start, anchor_end = extras["anchor_span"]
            anchor = text[anchor_start:anchor_end]
        out.append(TimeExpression(
            start=start + offset, end=end + offset, text=text[start:end], kind=kind, value=value,
            recurrence=rec, bound=bound, duration=extras.get("duration"),
            working_days=extras.get("working_days", False), anchor=anchor, form=name))
    return out


def time_of_cell(text: str, offset: int = 0, key: str | None = None) -> TimeExpression | None:
    """The time frame a table's time cell states ("Xong trong Quý II/2026", "Hằng năm",
    "Thường xuyên", "Trước ngày 15/12"): its first expression, with the span widened to
    the whole cell when the cell says nothing else; None for an empty cell or a cell with no
    time frame in it."""
    rule_set = _rules()
    key = match_key(text) if key is None else key
    start, end = 0, len(text)
    while start < end and text[start] in " \t\n.;,:-*":
        start += 1
    while end > start and text[end - 1] in " \t\n.;,:-*":
        end -= 1
    if start >= end:
        return None
    if rule_set.continuous.match(key[start:end]):
        return TimeExpression(start + offset, end + offset, text[start:end], "recurrence", None, "continuous",
                              form="continuous")
    found = find_time_expressions(text, offset, key)
    if not found:
        return None
    first = found[0]
    if len(found) == 1 or all(f.kind == "recurrence" for f in found):
        # A cell is one time frame: keep its words ("Hoàn thành … xong trước ngày 01/01/2030").
        return TimeExpression(start + offset, end + offset, text[start:end], first.kind, first.value,
                              first.recurrence, first.bound, first.duration, first.working_days,
                              first.anchor, first.form)
    return first


def is_time_column(header: str) -> bool:
    """Whether a table header cell names the time column ("Thời gian thực hiện", "Tiến độ")."""
    header_key = re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", match_key(header))).strip()
    return bool(_rules().time_column.match(header_key))
