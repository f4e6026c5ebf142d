"""Agency names: gazetteer lookup, pattern fallback, and the splitting of agency lists.

Used by the assignments stage; no stage of its own. The data is rules/agencies.yaml.

Three ways a name is recognised at a position of the text, the longest wins (a gazetteer name
wins a tie, so "Sở Văn hóa, Thể thao và Du lịch" is never cut at its comma):

1. gazetteer: one big alternation regex over `match_key(text)`, longest form first, with an
   optional level/province suffix ("Liên đoàn Lao động tỉnh", "Ban Quản lý các khu công nghiệp
   tỉnh Thái Nguyên"). A regex rather than a spaCy PhraseMatcher: the forms are few (about 300),
   the lists we parse are short spans we already located, and a regex over match_key gives
   character offsets in the text with no tokenizer in the loop (notes/vietnamese-tooling.md).
2. group addressees: a chain of generic collective nouns, "các sở, ban, ngành, cơ quan, đơn vị
   liên quan" (one addressee), or "UBND các huyện, thị xã, thành phố".
3. pattern: a head ("Sở", "Ban", "Hội", "Trung tâm", ...) followed by a capitalised word, marked
   known: false.

`parse_agency_list` reads "X, Y và Z" from a position: a name, a separator, a name, ... and stops
at the first thing that is not a name (the verb of the task).
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from ..rules import load, province_names
from ..textkeys import match_key, trie_alternation


@dataclass(slots=True)
class AgencyMention:
    raw: str  # verbatim
    name: str  # as named, abbreviations expanded
    start: int
    end: int
    id: str | None
    known: bool
    kind: str | None
    province: str | None = None  # only when the name itself says it
    successor: str | None = None
    how: str = "gazetteer"  # gazetteer | group | pattern | distributed


# ----------------------------------------------------------------------------- compile once


def _form_tokens(form: str, province_re: str) -> list[str]:
    """A gazetteer form as regex tokens over match_key text: one per letter, flexible spaces
    around - & , and the province alternation for "{province}"."""
    out = []
    for part in re.split(r"(\{province\}|\s*[-&,]\s*|\s+)", match_key(form)):
        if not part:
            continue
        if part == "{province}":
            out.append(province_re)
        elif part.isspace():
            out.append(r"\s+")
        elif part.strip() in "-&,":
            out.append(r"\s*" + re.escape(part.strip()) + r"\s*")
        else:
            out.extend(re.escape(ch) for ch in part)
    return out


def _form_regex(form: str, province_re: str) -> str:
    """A gazetteer form as a regex over match_key text: flexible spaces around - & , ."""
    return "".join(_form_tokens(form, province_re))


_NOT_ALNUM = re.compile(r"[\W_]+")


@lru_cache(maxsize=16384)
def _strip_key(name: str) -> str:
    """The comparison form of a name (cached: the same names recur in every document)."""
    return _NOT_ALNUM.sub("", match_key(name))


@dataclass
class _Gazetteer:
    entries: dict[str, dict]
    form_entry: dict[str, tuple[str, bool]]  # stripped form key -> (entry id, is abbreviation)
    known_re: re.Pattern
    suffix_re: re.Pattern
    province_re: re.Pattern
    provinces: dict[str, str]  # stripped key -> province as written in the rules
    successors: dict[str, dict]
    noun_class: dict[str, str]
    noun_re: re.Pattern
    mod_re: re.Pattern
    closing_re: re.Pattern
    closing_window: int  # how far back a closing modifier can start (see _closing_ends_at)
    closing_space: re.Pattern  # a run of spaces long enough to stretch one past the window
    ubnd_group_re: re.Pattern
    ubnd_named_re: re.Pattern
    admin_re: re.Pattern
    commune_words: frozenset[str]
    head_re: re.Pattern
    stop_re: re.Pattern
    max_lower: int
    company_heads: dict[str, str | None]  # head (match_key) -> written-out head (abbreviations only)
    # The words (match_key) each reader's names can start with: a cheap test before running it.
    first_words: frozenset[str]  # any reader
    known_first: frozenset[str]
    ubnd_first: frozenset[str]
    group_first: frozenset[str]
    head_first: frozenset[str]
    title_re: re.Pattern  # an office holder's title before a body: "Thủ trưởng", "Chủ tịch"
    title_first: frozenset[str]
    head_kinds: dict[str, str]  # pattern head (match_key) -> kind
    trade_re: re.Pattern  # the trade words a company's name may hold in lower case
    number_words: frozenset[str]  # "số", "khu vực": the words that number a unit after its head
    committee_classes: frozenset[str]  # group classes that are people's committees ("ubnd_cap_xa")
    province_level: str  # "tỉnh": the word that closes a province body's name
    verb_nouns: frozenset[str]  # collective nouns that are also verbs ("tổ chức")
    group_class_words: tuple[tuple[str, str], ...]  # (word in a group's name, its class)
    conjunctions: frozenset[str]  # list conjunctions ("và", "cùng", "hoặc")
    and_word: re.Pattern  # the first conjunction after a noun (a group noun's end)
    and_noun: re.Pattern  # the first conjunction before a bare noun (not a determiner)
    list_sep: re.Pattern  # a list separator: comma or semicolon with or without a conjunction, "/"
    item_end: re.Pattern  # where an item of a distributed list ends


def _alternation(words: list[str], province_re: str = "") -> str:
    """One alternation of the forms as a prefix trie (textkeys.trie_alternation), each form
    spelled by `_form_tokens`: flexible spaces around - & , and the province alternation."""
    return trie_alternation(words, lambda word: _form_tokens(word, province_re))


@lru_cache(maxsize=1)
def gazetteer() -> _Gazetteer:
    data = load("agencies")
    provinces = {_strip_key(p): p for p in province_names()}
    level = data["province_level_word"]
    committee_classes = frozenset(data["committee_classes"])
    committees = data["committee_groups"]
    province_alt = r"(?<!\w)(?:" + _alternation(province_names()) + r")(?!\w)"
    forms: list[tuple[str, str, bool]] = []  # (form, entry id, is abbreviation)
    entries = {}
    for entry in data["agencies"]:
        entries[entry["id"]] = entry
        core = entry["name"]
        for form, abbr in [(core, False)] + [(a, False) for a in entry.get("aliases", [])] + [
            (a, True) for a in entry.get("abbreviations", [])
        ]:
            forms.append((form, entry["id"], abbr))
            # "Công an tỉnh" is also written "Công an" + a province suffix: match the core too.
            if form.endswith(" " + level):
                forms.append((form[: -len(" " + level)], entry["id"], abbr))
    form_entry = {}
    for form, eid, abbr in forms:
        form_entry.setdefault(_strip_key(form.replace("{province}", "PROVINCE")), (eid, abbr))
    ordered = sorted({f for f, _, _ in forms}, key=len, reverse=True)
    known_re = re.compile(
        r"(?<!\w)(?:" + _alternation(ordered, province_alt) + r")(?!\w)"
    )
    numbered = data["numbered_suffix"]["pattern"]
    suffix_re = re.compile(
        r"(?:" + numbered + r")?(?:\s+(?:" + _alternation(data["name_suffixes"]) + r")(?:\s+" + province_alt
        + r")?|\s+" + province_alt + r")(?!\w)|" + numbered
    )
    noun_class: dict[str, str] = {}
    for cls, nouns in data["group_nouns"].items():
        for noun in nouns:
            noun_class.setdefault(match_key(noun), cls)
    group_nouns = [n for cls, ns in data["group_nouns"].items() if cls not in committee_classes for n in ns]
    noun_re = re.compile(r"(?:" + _alternation(group_nouns) + r")(?!\w)")
    mods = data["group_modifiers"]
    mod_re = re.compile(r"\s+(?:" + _alternation(mods["closing"] + mods["open"]) + r")(?!\w)")
    closing_re = re.compile(r"(?:" + _alternation(mods["closing"]) + r")$")
    # A closing modifier is its letters plus runs of spaces (\s+ / \s* in its regex). If no run
    # in the window is as long as `space_run`, a match is at most letters + runs * (space_run - 1)
    # long, so the window below holds all of it.
    space_run = 8
    letters = max(len(re.sub(r"\s+", "", match_key(w))) for w in mods["closing"])
    runs = max(_form_regex(w, "").count("\\s") for w in mods["closing"])
    closing_window = letters + runs * (space_run - 1) + 2
    admin = [n for cls in data["committee_classes"] for n in data["group_nouns"][cls]] + committees["unit_abbreviations"]
    admin_alt = _alternation(admin)
    ubnd = committees["committee"]
    ubnd_group_re = re.compile(
        ubnd + committees["before_units"] + r"(?:" + admin_alt + r")(?!\w)"
        r"(?:" + committees["unit_separator"] + r"(?:" + admin_alt + r")(?!\w))*"
    )
    ubnd_named_re = re.compile(
        ubnd + r"\s+(?:" + admin_alt + r")\s+(?=\w)"
    )
    abbreviated = data["company_head_abbreviations"]
    company_heads = {match_key(h): None for h in data["company_heads"]}
    company_heads.update({match_key(a): full for a, full in abbreviated.items()})
    heads = data["pattern_heads"] + data["company_heads"] + list(abbreviated)
    head_re = re.compile(r"(?<!\w)(?:" + _alternation(heads) + r")(?=\s)")
    successors = {s["from"]: s for s in data.get("successors", [])}
    titles = data["office_titles"]["names"]
    # A pattern name never runs over a verb that directs work (one list, in the assignments
    # rules) nor over the function words listed here.
    stop_words = data["name_stop_words"] + load("assignments")["directing_verbs"]
    conjunctions = [match_key(c) for c in data["list_conjunctions"]]
    and_word = re.escape(conjunctions[0])
    title_re = re.compile(r"(?:" + _alternation(titles) + r")\s+(?=\w)")
    first_any, known_first, ubnd_first, group_first, head_first, title_first = _reader_first_words(
        [f for f, _, _ in forms], committees["openings"], data["determiners"] + group_nouns, heads, titles)
    return _Gazetteer(entries, form_entry, known_re, suffix_re, re.compile(province_alt), provinces,
                      successors, noun_class, noun_re, mod_re, closing_re, closing_window,
                      re.compile(r"\s{%d}" % space_run), ubnd_group_re,
                      ubnd_named_re, re.compile(r"(?<!\w)(?:" + admin_alt + r")(?!\w)"),
                      frozenset(match_key(w) for w in data["group_nouns"][data["committee_classes"][0]]), head_re,
                      re.compile(r"(?:" + _alternation(stop_words) + r")(?!\w)"),
                      data["pattern_max_lower"], company_heads, first_any, known_first, ubnd_first,
                      group_first, head_first, title_re, title_first,
                      {match_key(h): k for h, k in data["pattern_head_kinds"].items()},
                      re.compile(r"(?:" + _alternation(data["company_trade_words"]) + r")(?!\w)"),
                      frozenset(match_key(w).split()[0] for w in data["numbered_suffix"]["words"]),
                      committee_classes, match_key(level), frozenset(match_key(w) for w in data["verb_nouns"]),
                      tuple((match_key(w), c) for w, c in data["group_class_words"].items()),
                      frozenset(match_key(w) for w in conjunctions), re.compile(r"\s+" + and_word + r"\b"),
                      re.compile(r"\s+" + and_word + r"\s+(?!" + "|".join(
                          re.escape(match_key(d)) + r"\s" for d in data["determiners"]) + ")"),
                      re.compile(r"\s*(?:[,;]\s*(?:" + "".join(c + r"\s+|" for c in conjunctions).rstrip("|")
                                 + r")?|" + "".join(r"\s+" + c + r"\s+|" for c in conjunctions) + r"/\s*)"),
                      re.compile(r"[,;.\n]|\s+" + and_word + r"\s+|$"))


def _reader_first_words(*names_by_reader: list[str]) -> list[frozenset[str]]:
    """[any reader's first words, then each reader's] (see _Gazetteer.first_words)."""
    each = [_first_words(names) for names in names_by_reader]
    return [frozenset().union(*each)] + each


_WORD = re.compile(r"\w+")


def _first_words(names: list[str]) -> frozenset[str]:
    out = set()
    for name in names:
        match = _WORD.match(match_key(name))
        if match:
            out.add(match.group(0))
    return frozenset(out)


def successor_of(agency_id: str | None) -> str | None:
    """The canonical id that took over after the 2025 restructuring, if any."""
    successor = gazetteer().successors.get(agency_id or "")
    return successor["to"] if successor else None


def province_in(text: str, key: str | None = None) -> str | None:
    """The province a name states ("Báo Cao Bằng" -> "Cao Bằng"), as written in the rules."""
    return _province_of_key(key if key is not None else match_key(text))


@lru_cache(maxsize=4096)
def _province_of_key(key: str) -> str | None:
    gaz = gazetteer()
    match = gaz.province_re.search(key)
    return gaz.provinces.get(_strip_key(match.group(0))) if match else None


# ----------------------------------------------------------------------------- one name at a position


# Every reader below takes `lim`: the text is read as if it ended there (regexes get it as
# `endpos`, which makes a pattern see the same string as a slice would), so a list inside a
# long document is read without copying the document up to its end for every name.


def _is_upper_word_at(text: str, pos: int, lim: int | None = None) -> bool:
    return pos < (len(text) if lim is None else lim) and text[pos].isupper()


_NONSPACE = re.compile(r"\S+")


def _words_after(text: str, pos: int, lim: int):
    for match in _NONSPACE.finditer(text, pos, lim):
        yield match.start(), match.end(), match.group(0)


def _known_at(text: str, key: str, pos: int, lim: int) -> tuple[AgencyMention | None, bool]:
    """A gazetteer name at `pos`, and whether it is one that needs its level or province after
    it ("Sở Nội vụ" + " tỉnh …") standing bare: read only where a bare name is allowed (the
    second name of a list)."""
    gaz = gazetteer()
    match = gaz.known_re.match(key, pos, lim)
    if not match or not _is_upper_word_at(text, pos, lim):
        return None, False
    # A name may contain a province-like word ("... Hồ Chí Minh"): try it as written first.
    hit = gaz.form_entry.get(_strip_key(match.group(0))) or gaz.form_entry.get(
        _strip_key(gaz.province_re.sub("PROVINCE", match.group(0))))
    if hit is None:
        return None, False
    eid, abbr = hit
    entry = gaz.entries[eid]
    end = match.end()
    sm = gaz.suffix_re.match(key, end, lim)
    bare = False
    if sm:
        end = sm.end()
    elif entry.get("needs_suffix") and not match.group(0).endswith(gaz.province_level):
        bare = True
    raw = text[pos:end]
    if abbr:  # expand: canonical name without its level word + the level/province as written
        level = " " + gaz.province_level
        form_tinh = level if match.group(0).endswith(gaz.province_level) else ""
        canon = entry["name"]
        if "{province}" in canon:
            prov = province_in(match.group(0))
            canon = canon.replace(" {province}", f" {prov}" if prov else form_tinh)
        else:
            canon = canon.removesuffix(level) + form_tinh
        name = canon + text[match.end():end]
    else:
        name = raw
    return AgencyMention(raw, name, pos, end, eid, True, entry["kind"], province_in(raw, key[pos:end]),
                         successor_of(eid), "gazetteer"), bare


def _ubnd_group_at(text: str, key: str, pos: int, lim: int) -> AgencyMention | None:
    gaz = gazetteer()
    match = gaz.ubnd_group_re.match(key, pos, lim)
    if not match:
        return None
    end = match.end()
    # "UBND huyện Hòa An" names one committee: take the capitalised place name too.
    nm = gaz.ubnd_named_re.match(key, pos, lim)
    if nm and nm.end() == match.end() + 1 and _is_upper_word_at(text, nm.end(), lim):
        end = _capitalised_run_end(text, nm.end(), lim)
    # The class follows the first unit named: "UBND các xã, phường" is the commune level.
    first_admin = gaz.admin_re.search(key, pos, match.end())
    cls = "ubnd_cap_xa" if first_admin and first_admin.group(0) in gaz.commune_words else "ubnd_cap_huyen"
    raw = text[pos:end]
    return AgencyMention(raw, raw, pos, end, cls, True, cls, province_in(raw, key[pos:end]),
                         successor_of(cls), "group")


def _capitalised_run_end(text: str, pos: int, lim: int) -> int:
    end = pos
    for word_start, word_end, written in _words_after(text, pos, lim):
        word = written.rstrip(",;:.)")
        if not word or not word[0].isupper():
            break
        end = word_start + len(word)
        if word != written:
            break
    return end


_PUNCT_OR_END = re.compile(r"\s*(?:[,;:.)]|$)")
@lru_cache(maxsize=1)
def _determiners() -> tuple[re.Pattern, re.Pattern]:
    """The determiners before a collective noun ("các sở"), at a name's start and at its end."""
    alt = _alternation(load("agencies")["determiners"])
    return re.compile(r"(?:" + alt + r")\s+"), re.compile(r"\s+(?:" + alt + r")$")
_SPACE_THEN_CHAR = re.compile(r"[ \t]+(\S)")  # on the same line: a capital on the next line starts a new line
_COMMA = re.compile(r"\s*,\s*")
_STATE_CLASSES = frozenset({"so_ban_nganh", "co_quan_don_vi"})  # bodies of the state


def _noun_not_verb(key: str, noun_match: re.Match, lim: int) -> bool:
    """"tổ chức" is a noun only before a separator, another noun or a modifier."""
    gaz = gazetteer()
    if noun_match.group(0) not in gaz.verb_nouns:
        return True
    noun_end = noun_match.end()
    return bool(_PUNCT_OR_END.match(key, noun_end, min(noun_end + 2, lim)) or gaz.mod_re.match(key, noun_end, lim)
                or gaz.noun_re.match(key, noun_end + 1, lim) or gaz.and_word.match(key, noun_end, min(noun_end + 4, lim)))


def _closing_ends_at(key: str, end: int) -> bool:
    """`closing_re.search(key[:end])`: a closing modifier ("liên quan") ends at `end`.

    Searched in a window before `end`: a match that starts before the window would need a run
    of spaces longer than any in the window (see gazetteer: closing_window, closing_space)."""
    gaz = gazetteer()
    lo = max(0, end - gaz.closing_window)
    if gaz.closing_re.search(key, lo, end):
        return True
    if lo and gaz.closing_space.search(key, lo, end):
        return gaz.closing_re.search(key, 0, end) is not None
    return False


def _group_at(text: str, key: str, pos: int, lim: int) -> AgencyMention | None:
    """A chain of generic collective nouns: "các sở, ban, ngành, cơ quan, đơn vị liên quan"."""
    gaz = gazetteer()
    noun_re, mod_re, determiner = gaz.noun_re, gaz.mod_re, _determiners()[0]
    noun_start = pos
    det = determiner.match(key, noun_start, min(noun_start + 8, lim))
    if det:
        noun_start = det.end()
    end, cls, closed = None, None, False
    while True:
        noun_match = noun_re.match(key, noun_start, lim)
        if not noun_match:
            break
        noun = noun_match.group(0)
        read_to = noun_match.end()
        # A capital after the noun starts a proper name ("Hội Nông dân"): not a group noun.
        after = _SPACE_THEN_CHAR.match(text, read_to, min(read_to + 3, lim))
        if after and after.group(1).isupper() and not noun_re.match(key, read_to + 1, lim):
            break
        if noun in gaz.verb_nouns and not _noun_not_verb(key, noun_match, lim):
            break
        while read_to < lim and key[read_to] == " ":  # more nouns glued by a space: "cơ quan báo chí", "tổ chức đoàn thể"
            n2 = noun_re.match(key, read_to + 1, lim)
            if n2 is None or (n2.group(0) in gaz.verb_nouns and not _noun_not_verb(key, n2, lim)):
                break
            read_to = n2.end()
        cls = cls or gaz.noun_class.get(noun)
        while True:
            mm = mod_re.match(key, read_to, lim)
            if not mm:
                break
            read_to = mm.end()
            if _closing_ends_at(key, read_to):
                closed = True
        end = read_to
        if closed:
            break
        sep = _COMMA.match(key, read_to, min(read_to + 4, lim))
        if not sep:
            # "các Sở, ban, ngành và địa phương": "và" + a bare collective noun closes the same
            # group ("... và các cơ quan" opens another)
            sep = gaz.and_noun.match(key, read_to, lim)
            nm = noun_re.match(key, sep.end(), lim) if sep else None
            if not nm or gaz.noun_class.get(nm.group(0)) not in _STATE_CLASSES:
                break  # "các cơ quan, đơn vị và doanh nghiệp": enterprises are addressed apart
        nxt = sep.end()
        if determiner.match(key, nxt, lim):
            break
        noun_start = nxt
    if end is None:
        return None
    raw, raw_key = text[pos:end], key[pos:end]
    for word, word_cls in gaz.group_class_words:  # later words win, as listed
        if word in raw_key:
            cls = word_cls
    gid = f"nhom_{cls}" if cls else None
    return AgencyMention(raw, raw, pos, end, gid, True, "nhom", province_in(raw, raw_key), None, "group")


def _pattern_at(text: str, key: str, pos: int, lim: int) -> AgencyMention | None:
    """Head + capitalised words: a name the gazetteer does not know (known: false)."""
    gaz = gazetteer()
    match = gaz.head_re.match(key, pos, lim)
    if not match:
        return None
    name_start = match.end() + 1
    company = " ".join(match.group(0).split()) in gaz.company_heads
    end = name_start
    numbered = gaz.suffix_re.match(key, match.end(), lim) if not _is_upper_word_at(text, name_start, lim) else None
    if numbered and numbered.group(0).split()[0] in gaz.number_words:
        end = numbered.end()  # "Chi nhánh số 1 - Công ty …", "Đội số 2": a numbered unit
        name_start = end + 1
    elif not _is_upper_word_at(text, name_start, lim) and not (company and gaz.trade_re.match(key, name_start, lim)):
        return None  # "Công ty Cổ phần thương mại vận tải …" may start with its trade
    lower_run = 0
    trade_until = -1  # a company's name runs over its trade words ("Đầu tư xây dựng hạ tầng")
    for ws, we, written in _words_after(text, name_start, lim):
        if ws > end + 1 or "\n" in text[end:ws]:
            break  # a name read by pattern never runs on past its line
        word = written.rstrip(",;:.)")
        if not word or word[0] == "(":  # "Công ty cổ phần Lào Cai (IC14)": a label, not the name
            break
        if company and ws > trade_until:
            tm = gaz.trade_re.match(key, ws, lim)
            if tm:
                trade_until = tm.end()
        if word[0].isupper():
            lower_run = 0
        elif ws < trade_until:
            pass  # a trade word: part of the name, and not counted as a lower-case run
        elif word in ("-", "&") or word in gaz.conjunctions:
            nxt = text[we:min(we + 2, lim)].strip()
            if not nxt or not nxt[0].isupper():
                break
            if word in gaz.conjunctions and gaz.head_re.match(key, we + 1, lim):
                break  # "Ban Quản lý Khu kinh tế và Ban Quản lý các KCN": two names, not one
        elif (lower_run < gaz.max_lower and not gaz.stop_re.match(key, ws, lim)
              and not gaz.suffix_re.match(key, ws - 1, lim)):
            lower_run += 1
        else:
            break
        end = ws + len(word)
        if word != written:
            break
    det = _determiners()[1].search(key, name_start, end)
    if det:  # "thanh tra ATVSLĐ các cấp": a name never ends in a determiner
        end = det.start()
    sm = gaz.suffix_re.match(key, end, lim)
    if sm:
        end = sm.end()
    raw, name = text[pos:end], text[pos:end]
    head = " ".join(match.group(0).split())
    kind = gaz.head_kinds.get(head)
    if head in gaz.company_heads:  # "DNTN Thành Hương Nghĩa Lộ" -> "Doanh nghiệp tư nhân Thành ..."
        kind = "doanh_nghiep_to_chuc"
        name = (gaz.company_heads[head] or text[pos:match.end()]) + text[match.end():end]
    return AgencyMention(raw, name, pos, end, None, False, kind, province_in(raw, key[pos:end]), None,
                         "pattern")


def _titled_at(text: str, key: str, pos: int, lim: int) -> AgencyMention | None:
    """An office holder named by title and body: "Thủ trưởng các sở, ban, ngành", "Chủ tịch
    UBND các xã, phường", "Giám đốc Sở Công Thương" (the body's id and kind, the whole as name)."""
    gaz = gazetteer()
    match = gaz.title_re.match(key, pos, lim)
    if not match:
        return None
    body = _agency_at(text, key, match.end(), lim)
    if body is None:
        return None
    raw = text[pos:body.end]
    return AgencyMention(raw, text[pos:match.end()] + body.name, pos, body.end, body.id, body.known,
                         body.kind, body.province, body.successor, "title")


def agency_at(text: str, pos: int, key: str | None = None, allow_bare: bool = False,
              groups: bool = True) -> AgencyMention | None:
    """The longest agency name starting exactly at `pos`, or None."""
    key = key if key is not None else match_key(text)
    return _agency_at(text, key, pos, len(text), allow_bare, groups)


def _skip_space(text: str, pos: int, lim: int) -> int:
    while pos < lim and text[pos] == " ":
        pos += 1
    return pos


class _Memo:
    """The names read over one text, by (start, allow_bare, groups): find_mentions fills it for
    the whole text, then the stages ask for names at the same positions within a shorter limit
    (a heading line, a clause, a list after "phối hợp với"). A name read within a longer limit
    that ended before the shorter one reads the same there, and so does "no name"; anything
    else is read again. A reading where no gazetteer name stood bare serves both values of
    allow_bare. One (key, names) pair per thread, so documents read in parallel threads never
    see each other's names."""

    local = threading.local()

    @classmethod
    def get(cls, key: str) -> dict[tuple[int, bool, bool], tuple[AgencyMention | None, int, bool]] | None:
        state = getattr(cls.local, "state", None)
        return state[1] if state is not None and state[0] is key else None

    @classmethod
    def put(cls, key: str | None, found: dict[tuple[int, bool, bool], tuple[AgencyMention | None, int, bool]]) -> None:
        cls.local.state = (key, found)


def _agency_at(text: str, key: str, pos: int, lim: int, allow_bare: bool = False,
               groups: bool = True, readers: frozenset[str] | None = None) -> AgencyMention | None:
    """`agency_at` over text[:lim]; `readers`: only these may read here (from the opening)."""
    memo = _Memo.get(key)
    if memo is None:
        return _read_agency_at(text, key, pos, lim, allow_bare, groups, readers)[0]
    slot = (pos, allow_bare, groups)
    known = memo.get(slot)
    if known is None:
        # The other reading of bare names serves when no bare name stood here.
        other = memo.get((pos, not allow_bare, groups))
        if other is not None and not other[2]:
            known = other
    if known is not None:
        hit, read_to, _ = known
        if read_to >= lim and (hit is None or hit.end <= lim):
            return hit
    hit, bare = _read_agency_at(text, key, pos, lim, allow_bare, groups, readers)
    stored = memo.get(slot)
    if stored is None or lim > stored[1]:
        memo[slot] = (hit, lim, bare)
    return hit


def _read_agency_at(text: str, key: str, pos: int, lim: int, allow_bare: bool, groups: bool,
                    readers: frozenset[str] | None) -> tuple[AgencyMention | None, bool]:
    """The longest name at `pos`, and whether a gazetteer name that needs its suffix stood
    bare there (then `allow_bare` decided; otherwise the reading is the same either way)."""
    if readers is None:
        opened = _openings()[0].match(key, pos, lim)
        if not opened:
            return None, False  # no name the readers know starts with these words
        readers = _readers_for(opened.group(0))
    gaz = gazetteer()
    word = _WORD.match(key, pos, lim)
    first = word.group(0) if word else None
    if first not in gaz.first_words:
        return None, False  # most positions asked about ("Chủ trì", "Tăng cường") start no name at all
    known, bare = _known_at(text, key, pos, lim) if first in gaz.known_first and "known" in readers else (None, False)
    if bare and not allow_bare:
        known = None
    cands = [known, _ubnd_group_at(text, key, pos, lim) if first in gaz.ubnd_first and "committee" in readers else None]
    if groups and first in gaz.group_first and "group" in readers:
        cands.append(_group_at(text, key, pos, lim))
    if first in gaz.head_first and not known and "pattern" in readers:
        # The pattern reader never stretches a gazetteer hit ("Sở Công Thương yêu cầu các ...").
        cands.append(_pattern_at(text, key, pos, lim))
    if first in gaz.title_first and "title" in readers:
        cands.append(_titled_at(text, key, pos, lim))
    best = None
    for cand in cands:  # order = preference on ties
        if cand and cand.how != "gazetteer" and len(cand.raw) > 8 and cand.raw.isupper():
            continue  # an upper-case heading ("TỔ CHỨC THỰC HIỆN") is not a group of "tổ chức"
        if cand and (best is None or cand.end > best.end):
            best = cand
    return best, bare


# ----------------------------------------------------------------------------- lists

_COLON_LIST = re.compile(r"\s*:\s*")


def parse_agency_list(text: str, pos: int = 0, end: int | None = None, key: str | None = None
                      ) -> tuple[list[AgencyMention], int]:
    """Read "X, Y và Z" from `pos`: the agencies and the offset where the list ends.

    Commas inside one name never split it (the longest name wins at each position); "Các Sở,
    ngành: Công Thương, Nội vụ, Công an tỉnh" distributes the shared head over the bare names.
    """
    key = key if key is not None else match_key(text)
    end = len(text) if end is None else end
    # The list is read within text[:end], without copying it: `lim` is that slice's length.
    lim = min(end, len(text)) if end >= 0 else max(0, len(text) + end)
    if _openings()[0].match(key, pos, lim) is None:
        # No name starts here (most positions asked about): said before the memo is consulted,
        # which could only say the same, since every name starts with an opening.
        return [], pos
    gaz = gazetteer()
    out: list[AgencyMention] = []
    read_to = pos
    nxt = None  # the name after a separator, read already to decide whether the list goes on
    while read_to < end:
        mention = nxt or _agency_at(text, key, read_to, lim, allow_bare=bool(out))
        if mention is None:
            break
        if mention.how == "title":
            dist = _distribute_titled(text, key, mention, lim)
        elif mention.how == "group" or mention.id in gaz.committee_classes:
            dist = _distribute(text, key, mention, lim)
        else:
            dist = None
        if dist:
            out.extend(dist)
            read_to = dist[-1].end
        else:
            out.append(mention)
            read_to = mention.end
        sm = gaz.list_sep.match(key, read_to, lim)
        nxt = _agency_at(text, key, sm.end(), lim, allow_bare=True) if sm and sm.end() < end else None
        if nxt is None:
            break
        read_to = sm.end()
    return out, read_to




def _distribute(text: str, key: str, group: AgencyMention, lim: int) -> list[AgencyMention] | None:
    """"Các Sở, ngành: Công Thương, Nội vụ, Công an tỉnh" -> Sở Công Thương, Sở Nội vụ, Công an tỉnh."""
    cm = _COLON_LIST.match(key, group.end, lim)
    if not cm or not _is_upper_word_at(text, cm.end(), lim):
        return None
    gaz = gazetteer()
    ubnd = gaz.ubnd_group_re.match(key, group.start, group.end)
    if ubnd and group.id in gaz.committee_classes:
        # "UBND các phường: Yên Bái, Văn Phú" -> UBND phường Yên Bái, UBND phường Văn Phú
        admin = gaz.admin_re.search(key, group.start, group.end)
        head = text[group.start:group.start + len(key[group.start:admin.start()].split(" ")[0])]
        head = f"{head} {text[admin.start():admin.end()]}"
        return _distribute_names(text, key, cm.end(), lim, head, group)
    det = _determiners()[0].match(key, group.start, group.end)
    head_word = _WORD.match(key, det.end() if det else group.start, group.end)
    if not head_word or gaz.noun_class.get(head_word.group(0)) != "so_ban_nganh":
        return None
    head = text[head_word.start():head_word.end()]
    head = head[0].upper() + head[1:]
    out = []
    start = cm.end()
    while start < lim:
        mention = _agency_at(text, key, start, lim, allow_bare=True, groups=False)
        if mention is not None:  # a full name of its own ("Công an tỉnh")
            out.append(mention)
        else:  # a bare name under the shared head: "Nội vụ" -> "Sở Nội vụ"
            item_end = gaz.item_end.search(text, start, lim).start()
            full = f"{head} {text[start:item_end]}"
            whole = agency_at(full, 0, allow_bare=True, groups=False)
            if whole is None:
                break
            item_len = whole.end - len(head) - 1
            item = text[start:start + item_len]
            out.append(AgencyMention(item, f"{head} {item}", start, start + item_len, whole.id, whole.known, whole.kind,
                                     province_in(item), whole.successor, "distributed"))
        sm = gaz.list_sep.match(key, out[-1].end, lim)
        if not sm or ";" in sm.group(0) or not _is_upper_word_at(text, sm.end(), lim):
            break  # a semicolon closes the distributed list: "Giám đốc các Sở: A, B; Chủ tịch …"
        start = sm.end()
    return out or None


def _distribute_titled(text: str, key: str, titled: AgencyMention, lim: int) -> list[AgencyMention] | None:
    """"Giám đốc các Sở: Công Thương, Tài chính" -> Giám đốc Sở Công Thương, Giám đốc Sở Tài
    chính: the title over each body of the distributed list."""
    match = gazetteer().title_re.match(key, titled.start, lim)
    body = _agency_at(text, key, match.end(), lim) if match else None
    if body is None or body.end != titled.end:
        return None
    dist = _distribute(text, key, body, lim) if body.how == "group" or body.id in gazetteer().committee_classes else None
    if not dist:
        return None
    title = text[titled.start:match.end()]
    return [AgencyMention(d.raw, title + d.name, d.start, d.end, d.id, d.known, d.kind, d.province, d.successor,
                          "title") if d.how == "distributed" else d for d in dist]


def _distribute_names(text: str, key: str, pos: int, lim: int, head: str,
                      group: AgencyMention) -> list[AgencyMention] | None:
    """Place names after a committee group's colon, each with the shared head: "Yên Bái, Văn Phú"
    after "UBND các phường:" (names are capitalised words; the list ends at anything else)."""
    list_sep = gazetteer().list_sep
    out: list[AgencyMention] = []
    start = pos
    while start < lim and _is_upper_word_at(text, start, lim):
        end = _capitalised_run_end(text, start, lim)
        item = text[start:end]
        out.append(AgencyMention(item, f"{head} {item}", start, end, group.id, group.known, group.kind,
                                 province_in(item), group.successor, "distributed"))
        sm = list_sep.match(key, end, lim)
        if not sm:
            break
        start = sm.end()
    return out or None


@lru_cache(maxsize=1)
def _addressee_position() -> re.Pattern:
    """Where a bare collective noun can be an addressee (rules: addressee_position)."""
    return re.compile(load("agencies")["addressee_position"]["pattern"])


@lru_cache(maxsize=1)
def _openings() -> tuple[re.Pattern, frozenset[str], dict[str, frozenset[str]], re.Pattern]:
    """Where a name can start, as one regex; the collective nouns among those openings; for
    each opening, the readers that can read a name starting with it; and the regex that scans
    a text for the openings after its first character (group 1).
    Openings are the first two words of every name the readers know (one word for one-word
    names), a determiner + the first word of a collective noun, and the heads of pattern names
    ("Sở", "Công ty"). "công an", "công ty" are openings, "công tác" is not; "phối hợp" is not
    "hợp tác xã". find_mentions tries only these positions, and among them a one-word opening
    only before a capitalised word ("Sở Y tế", not "ban hành"), as an abbreviation ("UBND") or,
    for a collective noun, where an addressee can stand."""
    data = load("agencies")
    first_two = lambda name: " ".join(match_key(name.replace("{province}", "")).split()[:2])  # noqa: E731
    names = [f for e in data["agencies"] for f in [e["name"], *e.get("aliases", []), *e.get("abbreviations", [])]]
    nouns = [n for cls, ns in data["group_nouns"].items() if cls not in data["committee_classes"] for n in ns]
    heads = data["pattern_heads"] + data["company_heads"] + list(data["company_head_abbreviations"])
    readers: dict[str, set[str]] = {}  # opening -> the readers that can read a name there
    for reader, openings in (("known", {first_two(n) for n in names}),
                             ("committee", {match_key(w) for w in data["committee_groups"]["openings"]}),
                             ("group", {first_two(n) for n in nouns}
                              | {f"{d} {match_key(n).split()[0]}" for d in data["determiners"] for n in nouns}),
                             ("pattern", {first_two(h) for h in heads}),
                             ("title", {first_two(t) for t in data["office_titles"]["names"]})):
        for opening in openings:
            readers.setdefault(opening, set()).add(reader)
    named = {first_two(n) for n in names + data["office_titles"]["names"]}
    bare = frozenset(first_two(n) for n in nouns) - named  # (a head may share them: "doanh nghiệp")
    alternation = trie_alternation(set(readers))
    rx = re.compile(r"(?<!\w)(?:" + alternation + r")(?!\w)")
    # find_mentions scans with no lookbehind, which would make the regex engine enter the trie
    # at every character: the scan consumes the non-word character before an opening (the
    # opening is its group 1), so the engine skips to spaces and signs in C (the scan of a
    # document: 1.16 ms with the lookbehind dropped per hit, 1.03 ms so). An opening at the very
    # start of a text is matched with `rx`.
    scan = re.compile(r"\W(" + alternation + r")(?!\w)")
    return rx, bare, {" ".join(o.split()): frozenset(r) for o, r in readers.items()}, scan


@lru_cache(maxsize=4096)
def _readers_for(opening: str) -> frozenset[str]:
    """The readers for an opening: those of its first word and those of its two words ("phòng
    quản" opens a gazetteer name, "phòng" a pattern name: both are tried)."""
    readers_of = _openings()[2]
    words = opening.split()
    return readers_of.get(words[0], frozenset()) | readers_of.get(" ".join(words[:2]), frozenset())



def _named_by_head(text: str, key: str, pos: int, lim: int) -> bool:
    """A pattern head with a capitalised name after it ("Doanh nghiệp tư nhân Thành Hương")."""
    match = gazetteer().head_re.match(key, pos, lim)
    return match is not None and _is_upper_word_at(text, _skip_space(text, match.end(), lim), lim)


def find_mentions(text: str, key: str | None = None) -> list[AgencyMention]:
    """Every agency mention of a text, left to right, none overlapping: gazetteer names, group
    addressees, titled office holders and pattern names. Only positions where a word that can
    open a name stands are tried (the readers' first words)."""
    key = key if key is not None else match_key(text)
    out: list[AgencyMention] = []
    lim = len(text)
    found: dict[tuple[int, bool, bool], tuple[AgencyMention | None, int, bool]] = {}
    _Memo.put(key, found)  # the names read inside a name (a title's body) are kept too
    _, bare, _, scan = _openings()
    addressee_position = _addressee_position()
    readers_of = _readers_for
    at_start = _openings()[0].match(key, 0)  # an opening with no character before it
    scan_from = 0
    while True:
        if at_start is not None:
            start, end, word, at_start = 0, at_start.end(), at_start.group(0), None
        else:
            # from one character back: the character before an opening at scan_from
            match = scan.search(key, max(scan_from - 1, 0))
            if match is None:
                break
            start, end, word = match.start(1), match.end(1), match.group(1)
        scan_from = end
        listed = word in bare and addressee_position.search(key, max(0, start - 12), start) is not None
        if " " not in word:
            if not (listed or text[start:end].isupper()
                    or _is_upper_word_at(text, _skip_space(text, end, lim), lim)):
                continue  # "ban hành", "báo cáo", "hội nghị": no name after the head
        elif word in bare and not listed and not _named_by_head(text, key, start, lim):
            continue  # "của doanh nghiệp", "cho người lao động": a noun in a phrase, not an addressee
        # Read directly (the whole text is the limit: nothing in the memo could serve) and kept.
        mention, stood_bare = _read_agency_at(text, key, start, lim, False, True, readers_of(word))
        found[(start, False, True)] = (mention, lim, stood_bare)
        if mention is not None:
            out.append(mention)
            scan_from = max(scan_from, mention.end)  # the next name starts after this one
    return out
