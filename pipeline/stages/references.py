"""Stage 5, references: every other document this one cites, canonicalised and resolved.

Requires: doc.text, doc.metadata (header: its own number, date, title). Adds: doc.references.

What counts as a reference (rules/references.yaml, rules/laws.yaml):
- a document-type word followed by a number, usually with a symbol: "Nghị quyết số
  209/NQ-CP", "Chỉ thị số 31 CT/TW", "Đề án số 08";
- a named law ("Luật An toàn, vệ sinh lao động ngày 25/6/2015", "Luật Xây dựng"), found
  through the table of laws, or any "Luật <Name>" with its year or number;
- a type word with a footnote marker ("Kế hoạch¹") whose footnote names the document
  ("¹ Số 417-KH/TU ngày 20/01/2025."); every other document a footnote lists is a
  reference too;
- an amending law ("Luật sửa đổi, bổ sung một số điều của Luật …"), a law by its number
  ("Luật số 118/2025/QH15") or abbreviation ("Luật BVMT 2020");
- "số" and a number with a symbol, typed by a type word a few words before it ("Giấy phép
  dịch vụ nổ mìn số 333/GP-ATMT"), by the list it continues ("…; số 1316/TTg-KTN") or by
  its code; a type code used as the type word ("QĐ số 1955/QĐ-UBND", "NQ 233/NQ-CP");
- a standard ("QCVN 01:2019/BCT") and an agreement known by name ("Hiệp định về …").
Symbols may carry dots, "&", a glued or title-case last code, a year, or lose their slash
("501/TTr-NV.IV", "66.4/2025/NQ-CP", "UBND-KT&XD", "1626/QĐTTg", "1050 QĐ-UBND").
A type word with no number ("Kế hoạch này", "Chương trình ATVSLĐ giai đoạn 2021-2025") is
never a reference.

Every finding is a *mention*; mentions of one document (full, short "Nghị quyết số
209/NQ-CP", alias "(viết tắt Kế hoạch số 03-KH/TU)", footnote) merge into one `Reference`
keyed by its canonical id. A mention with a number but no symbol ("Chỉ thị 11",
"Quyết định số 1626") joins the reference of that type and number, and stands alone only
after "số" ("Đề án số 08"); a symbol cut short ("768/QĐ-") joins the one whole id that
extends it. Dates are read after the number and issuer, or from the sentence: "Ngày
18/12/2025, Cục … có Văn bản số …", "… đã được ban hành ngày …", "(ban hành kèm theo … ngày …)".

Relation: `implements` for the documents named at the head of the title or of an opening
paragraph that starts with "Thực hiện / Triển khai thực hiện" (and those listed
with them: "... của Chính phủ và Kế hoạch số 417-KH/TU", "...; Nghị định số ..."), never
for documents named inside another one's title ("... về thực hiện Chỉ thị số 31-CT/TW");
`reports_on` for the head of a báo cáo's title; `cites` for everything else, "Căn cứ"
grounds included (they do not end the opening: a "Thực hiện" paragraph after them counts).

All matching runs over `textkeys.search_key(doc.text)` (same length as the text), so
offsets are valid in the text, and case, tone marks and OCR slips such as "Kể hoạch" or
"Ban Bí thu" do not matter. Codes of a symbol are checked against the text itself.
"""
from __future__ import annotations

import bisect
import datetime as _dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .. import rules
from ..model import Document, Mention, Reference
from ..textkeys import accent_optional, search_key

STAGE = "references"

# ----------------------------------------------------------------------------- rules


def _flex(name: str) -> str:
    """A search_key regex for a multi-word name: any run of spaces/commas/hyphens between words."""
    words = re.findall(r"[0-9a-z]+", search_key(name))
    return r"[\s,\-–]+".join(re.escape(w) for w in words)


def _by_first_letter(patterns: list[str]) -> str:
    """One alternation of `patterns`, those opening with the same letter under one branch:
    "thong\\s+tu|to\\s+trinh" -> "t(?:hong\\s+tu|o\\s+trinh)". The regex engine then tries
    one branch at a candidate position instead of every pattern (the type-word scan runs over
    the whole text). Patterns that open with different letters never match at the same
    place and the order within a letter is kept, so the matches are those of the plain
    alternation; a pattern that does not open with a plain letter keeps the plain one."""
    groups: dict[str, list[str]] = {}
    for pattern in patterns:
        if not (re.match(r"[a-z][^?*+{]", pattern) and "|" not in pattern):
            return "|".join(patterns)
        groups.setdefault(pattern[0], []).append(pattern[1:])
    return "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in groups.items())


@dataclass
class _Law:
    name: str
    kind: str  # luat | bo_luat
    versions: list[dict[str, str]]  # {year, number, date}
    aliases: list[str] = field(default_factory=list)  # "BVMT"


@dataclass
class _Rules:
    ref_re: re.Pattern  # type word + (footnote marker | number/symbol)
    ref_scan: re.Pattern  # ref_re without its leading look-behind (see _ref_matches)
    abbrev_re: re.Pattern  # type codes as type words ("QĐ số …"), over the search key
    abbrev_scan: re.Pattern  # where they are, over the text (upper case)
    type_words: list[tuple[re.Pattern, dict]]  # type-word regex -> doc_types entry
    numsym_re: re.Pattern  # number/symbol alone (footnote bodies "Số 417-KH/TU")
    dates: list[re.Pattern]
    year_re: re.Pattern
    issuer_lead: re.Pattern
    issuers: list[tuple[re.Pattern, dict]]
    ministry_re: re.Pattern
    any_issuer: re.Pattern  # matches where some issuer pattern or ministry_re does (a cheap pre-check)
    place_stop: frozenset[str]
    title_lead: re.Pattern
    trigger: re.Pattern
    title_trigger: re.Pattern
    grounds: re.Pattern
    title_issues: re.Pattern
    coordination: re.Pattern
    alias: re.Pattern
    report_line: re.Pattern
    type_line: re.Pattern
    heading: re.Pattern
    marks: str
    type_codes: dict[str, str]
    type_codes_folded: dict[str, str]  # "QD" -> quyet_dinh: any spelling of a code
    code_casing: dict[str, str]
    mixed_codes: frozenset[str]
    issuer_codes: frozenset[str]
    law_re: re.Pattern
    law_names: list[tuple[re.Pattern, _Law]]  # each law's names as one pattern, in law_re's order
    law_by_number: dict[str, tuple[_Law, dict]]
    law_number_re: re.Pattern
    unlisted_law_re: re.Pattern
    amending_re: re.Pattern
    amending_end: re.Pattern
    law_apposition: re.Pattern
    amending_head: str
    labels: dict[str, str]  # doc_type -> label for number-only canonical ids
    bare_re: re.Pattern  # "số" before a number with no type word
    described_re: re.Pattern  # a type word a few words before the end of a window
    described_types: list[tuple[re.Pattern, dict]]
    list_cont: re.Pattern
    date_first: re.Pattern
    date_first_lead: re.Pattern
    issued_lead: re.Pattern
    date_first_verb: re.Pattern
    issued_with: re.Pattern
    standard: re.Pattern
    named_doc: re.Pattern
    issued_on: re.Pattern
    standard_prefilter: tuple[str, ...]  # a standard can be in the text only if one of these is
    named_prefilter: tuple[str, ...]
    own_number_line: re.Pattern  # "Số: 664/KH-UBND", a document's own number
    number_word: re.Pattern  # "số" where it opens a footnote body
    number_word_between: re.Pattern  # "số" as a word between a type word and the number
    not_codes: frozenset[str]  # words glued in title case after a symbol that are no code
    number_only_id: str  # "{label} số {number}"
    generic_label: str  # the label of a reference whose type word says only "văn bản"
    item_lead: re.Pattern  # before the first reference of a later ";" item of a list
    and_before: re.Pattern
    issued_verb: re.Pattern
    law_type: str  # the doc type of a law reference
    law_kinds: dict[str, str]  # kind -> the word before the name ("Luật", "Bộ luật")
    code_prefix: str  # "bo ": before "luat", a code of law
    law_number_after: re.Pattern  # "số 43/2019/QH14" after a law's name
    law_year_after: re.Pattern  # "năm 2024" after an amending law's target
    counted_laws: re.Pattern  # "15 Luật": written "15 luật" in the reference


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    conf = rules.load("references")
    lw = rules.load("laws")
    pat = lambda name, data=conf: re.compile(data[name]["pattern"])  # noqa: E731  (a rule's pattern, compiled)
    numsym = conf["number_symbol"]["pattern"]
    marks = conf["footnote_marks"]

    # One group for the type word; the entry is found afterwards (a named group per type
    # makes the scan three times slower).
    entries = sorted(conf["doc_types"], key=lambda entry: -len(entry["pattern"]))
    type_words = [(re.compile(e["pattern"]), e) for e in entries]
    alts = _by_first_letter([e["pattern"] for e in entries if not e.get("abbrev")])
    ref_body = rf"(?P<tw>{alts})(?:(?P<mark>[{marks}]+)|\s{{0,3}}(?:{numsym}))"
    ref_re = re.compile(r"(?<![\w/])" + ref_body)
    # Type codes used as type words ("QĐ số 1955/QĐ-UBND"): two lower-case letters are
    # everywhere in the search key, so they are looked for in the text, in upper case, and
    # read with the same pattern there.
    abbrevs = [e for e in entries if e.get("abbrev")]
    abbrev_body = rf"(?P<tw>{'|'.join(e['pattern'] for e in abbrevs)})(?:(?P<mark>(?!))|\s{{0,3}}(?:{numsym}))"
    abbrev_text = "|".join(accent_optional(e["written"]) for e in abbrevs)
    abbrev_scan = re.compile(r"(?:" + abbrev_text + r")(?=" + conf["abbrev_before_number"]["pattern"] + ")")
    words = [e for e in entries if not e.get("abbrev")]  # written-out type words only
    type_line = re.compile(
        r"^[\W_]*(?:" + "|".join(e["pattern"] for e in words) + r")[\W_]*$"
    )

    issuers = [(re.compile(e["pattern"]), e) for e in conf["issuers"]]
    names = "|".join(_flex(n) for n in sorted(rules.load("departments")["names"], key=len, reverse=True))
    ministry_re = re.compile(conf["ministry_pattern"]["template"].replace("NAMES", names) + r"\b")

    laws: list[_Law] = []
    for entry in lw["laws"]:
        versions = [
            {"year": str(v["year"]), "number": v.get("number"), "date": str(v.get("date") or "")}
            for v in entry["versions"]
        ]
        laws.append(_Law(entry["name"], entry.get("kind", "luat"), versions, list(entry.get("aliases") or [])))
    law_names: list[tuple[re.Pattern, _Law]] = []
    law_alts = []
    for law in sorted(laws, key=lambda item: -len(item.name)):
        names = "|".join(_flex(n) for n in [law.name] + law.aliases)
        law_alts.append(names)
        law_names.append((re.compile(names), law))
    # Patterns start with the literal "luat" (fast scan); the word boundary and a "bộ" before
    # it are checked in code. The names are one plain alternation, so that the regex engine
    # passes over a name by its first letter; a group per law in front of each name would stop
    # that (8x slower). Which law it is comes after the match (_law_of).
    law_re = re.compile(lw["law_word"]["pattern"] + r"(?P<law>" + "|".join(law_alts) + r")\b")
    law_by_number = {
        v["number"].lower(): (law, v) for law in laws for v in law.versions if v.get("number")
    }
    labels: dict[str, str] = {}
    for entry in conf["doc_types"]:
        if not entry.get("generic"):
            labels.setdefault(entry["type"], entry["label"])
    return _Rules(
        ref_re=ref_re,
        ref_scan=re.compile(ref_body),
        abbrev_re=re.compile(abbrev_body),
        abbrev_scan=abbrev_scan,
        type_words=type_words,
        numsym_re=re.compile(numsym),
        dates=[re.compile(d["pattern"]) for d in conf["dates"]],
        year_re=pat("year"),
        issuer_lead=re.compile(conf["issuer_lead"]),
        issuers=issuers,
        ministry_re=ministry_re,
        any_issuer=re.compile("|".join([f"(?:{rx.pattern})" for rx, _ in issuers] + [f"(?:{ministry_re.pattern})"])),
        place_stop=frozenset(conf["place_stopwords"]),
        title_lead=pat("title_leads"),
        trigger=pat("implement_triggers"),
        title_trigger=pat("title_trigger"),
        grounds=pat("preamble_grounds"),
        title_issues=pat("title_issues_plan"),
        coordination=pat("coordination"),
        alias=pat("alias"),
        report_line=pat("report_doc_line"),
        type_line=type_line,
        heading=pat("section_heading"),
        marks=marks,
        type_codes=dict(conf["type_codes"]),
        type_codes_folded={search_key(c).upper(): t for c, t in conf["type_codes"].items()},
        code_casing=dict(conf["code_casing"]),
        mixed_codes=frozenset(conf["mixed_case_codes"]),
        issuer_codes=frozenset(search_key(c).upper() for c in conf["issuer_codes"]),
        law_re=law_re,
        law_names=law_names,
        law_by_number=law_by_number,
        law_number_re=pat("law_by_number", lw),
        unlisted_law_re=pat("unlisted_law", lw),
        amending_re=pat("amending_law", lw),
        amending_end=pat("amending_target_end", lw),
        law_apposition=pat("law_number_apposition", lw),
        amending_head=lw["amending_head"],
        labels=labels,
        bare_re=pat("bare_number"),
        described_re=re.compile(
            r"(?<![\w])(?P<tw>" + "|".join(e["pattern"] for e in conf["described_types"] + words)
            + r")(?:\s+[^\s,;.:()\d]+){0,6}\s+\Z"),
        described_types=[(re.compile(e["pattern"]), e) for e in conf["described_types"] + words],
        list_cont=pat("list_continuation"),
        date_first=pat("sentence_date_first"),
        date_first_lead=pat("date_first_lead"),
        issued_lead=pat("issued_lead"),
        date_first_verb=pat("date_first_verb"),
        issued_with=pat("issued_with"),
        standard=pat("standard"),
        named_doc=pat("named_document"),
        issued_on=pat("sentence_issued_on"),
        standard_prefilter=tuple(search_key(w) for w in conf["standard"]["prefilter"]),
        named_prefilter=tuple(search_key(w) for w in conf["named_document"]["prefilter"]),
        own_number_line=pat("own_number_line"),
        number_word=pat("number_word"),
        number_word_between=re.compile(rf"\b(?:{conf['number_word']['pattern']})\b"),
        not_codes=frozenset(search_key(w) for w in conf["not_codes"]),
        number_only_id=conf["number_only_id"],
        generic_label=next(e["label"] for e in conf["doc_types"] if e.get("generic")),
        item_lead=re.compile(conf["item_lead"]["template"].replace(
            "TRIGGER", conf["implement_triggers"]["pattern"].lstrip("^"))),
        and_before=pat("and_before"),
        issued_verb=pat("issued_verb"),
        law_type=lw["law_reference"]["type"],
        law_kinds=dict(lw["law_reference"]["kinds"]),
        code_prefix=search_key(lw["law_reference"]["code_word"]) + " ",
        law_number_after=pat("number_after_name", lw),
        law_year_after=pat("year_after_name", lw),
        counted_laws=pat("counted_laws", lw),
    )


# ----------------------------------------------------------------------------- mentions


@dataclass(slots=True)
class _Hit:
    """One mention found in the text, before mentions are merged into references."""

    start: int
    end: int  # end of the citation proper: number/symbol, date and issuer
    doc_type: str
    number: str | None
    symbol: str | None
    canonical: str | None  # None: number only, resolved later
    date: str | None = None
    issuer: str | None = None
    title: str | None = None
    form: str = "full"
    generic: bool = False  # the type word was "văn bản": trust the symbol's code
    has_so: bool = False  # "số" before the number
    caps: bool = False  # upper-case text (a title in capitals)
    marker: str | None = None  # footnote marker after the type word
    law: _Law | None = None
    law_year: str | None = None  # year stated with a law
    top: str | None = None  # implements | reports_on when at the head of the preamble
    label: str | None = None  # the type word's label ("Đề án") for a number-only reference


def _iso_date(key: str, pos: int, rule_set: _Rules) -> tuple[str | None, int] | None:
    """A date right at `pos` ("ngày 28/10/2024"): (ISO or None if impossible, end)."""
    gap = _GAP.match(key, pos)
    date_pos = gap.end()
    for rx in rule_set.dates:
        dm = rx.match(key, date_pos)
        if dm:
            mo, year = int(dm["m"]), int(dm["y"])
            if "d" not in rx.groupindex:
                return (f"{year:04d}-{mo:02d}" if 1 <= mo <= 12 else None), dm.end()
            day = int(dm["d"])
            try:
                return _dt.date(year, mo, day).isoformat(), dm.end()
            except ValueError:
                return None, dm.end()  # "ngày 31/02/2024": rejected, not emitted
    return None


def _place_tail(text: str, key: str, pos: int, caps: bool, rule_set: _Rules) -> int:
    """End of a proper name after an issuer head ("Tỉnh uỷ| Cao Bằng")."""
    end = pos
    for _ in range(4):
        word = _PLACE_WORD.match(text, end)
        if not word or not word.group(1)[0].isupper():
            break
        if caps and key[word.start(1):word.end(1)] in rule_set.place_stop:
            break
        if not caps and word.group(1).isupper() and len(word.group(1)) > 1:
            break  # an abbreviation, not a place name
        end = word.end()
    return end


def _issuer_at(text: str, key: str, pos: int, rule_set: _Rules) -> tuple[str, int] | None:
    """An issuer phrase starting at `pos`: (name to report, end)."""
    if not rule_set.any_issuer.match(key, pos):
        return None
    for rx, entry in rule_set.issuers:
        match = rx.match(key, pos)
        if match and not key[match.end():match.end() + 1].isalnum():
            end = match.end()
            if entry.get("place"):
                end = _place_tail(text, key, end, text[pos:end].isupper(), rule_set)
            return entry.get("name") or text[pos:end], end
    match = rule_set.ministry_re.match(key, pos)
    if match:
        return text[pos:match.end()], match.end()
    return None


def _tail(text: str, key: str, hit: _Hit, rule_set: _Rules) -> None:
    """Read the date, issuer and title after a mention; extend `hit.end` over date and issuer."""
    pos = hit.end
    for _ in range(2):  # date and issuer, in either order
        if hit.date is None:
            got = _iso_date(key, pos, rule_set)
            if got:
                hit.date, pos = got
                continue
        if hit.issuer is None:
            lead = rule_set.issuer_lead.match(key, pos)
            if lead:
                got = _issuer_at(text, key, lead.end(), rule_set)
                if got:
                    hit.issuer, pos = got
                    continue
        break
    hit.end = pos
    lead = rule_set.title_lead.match(key, pos)
    if lead:
        hit.title = _title_text(text, lead.start("lead"))


_TITLE_STOP_CHAR = re.compile(r"[;\n(.,]")
_ABBREV_PARENS = re.compile(r"\([^\s()]{1,15}\)")
_COMMA_SUBJECT = re.compile(r",\s+[A-ZĐÂĂÊÔƠƯ][^\W\d_]*\s")
_GAP = re.compile(r"\s*,?\s*")
_PLACE_WORD = re.compile(r"[ ]+(?:[-–][ ]+)?([^\W\d_]+)")


def _title_text(text: str, start: int) -> str | None:
    """The clause from `start` to the end of the title: ";", "(", end of sentence or line.

    A parenthesised abbreviation "(ATVSLĐ)" does not end it."""
    pos, limit = start, min(len(text), start + 600)
    while pos < limit:
        stop = _TITLE_STOP_CHAR.search(text, pos, limit)  # only these characters can end it
        if stop is None:
            pos = limit
            break
        pos = stop.start()
        char = text[pos]
        if char in ";\n":
            break
        if char == "(":
            parens = _ABBREV_PARENS.match(text, pos)
            if parens:
                pos = parens.end()
                continue
            break
        if char == "." and (pos + 1 >= len(text) or text[pos + 1] in " \n"):
            break
        if char == "," and _COMMA_SUBJECT.match(text, pos) and not text[start:pos].isupper():
            break  # ", UBND tỉnh ... ban hành": the sentence goes on with its own subject
        pos += 1
    title = text[start:pos].strip(" ,")
    return title or None


_SYMBOL_SPLIT = re.compile(r"(\s*[-/]\s*)")
_UPPER_CODE = re.compile(r"[A-ZĐ][A-ZĐ0-9]*(?:[.&][A-ZĐ0-9]+)?")
_GLUED_MARKER = re.compile(r"(.*?[^\d])(\d{1,2})")
_YEAR_CODE = re.compile(r"(?:19|20)\d\d")
_TITLE_CODE = re.compile(r"[A-ZĐ][a-zđ]{1,3}")


def _glued_codes(code: str, rule_set: _Rules) -> tuple[str, str] | None:
    """"QĐTTg" -> ("QĐ", "TTg"): a type code and an issuer code written without their hyphen."""
    folded = search_key(code).upper()
    for ft in rule_set.type_codes_folded:
        if folded.startswith(ft) and folded[len(ft):] in rule_set.issuer_codes and len(ft) < len(folded):
            return code[:len(ft)], code[len(ft):]
    return None


def _canonical_symbol(raw: str, rule_set: _Rules) -> tuple[str, str] | None:
    """("NĐ-CP", first code) from the symbol as written ("ND-CP", "KH- UBND"), or None.

    Codes after the first one that are not written as codes (upper case) are dropped. A code
    may carry one dotted or "&" part ("NV.IV", "KT&XD"); a last code written glued in title
    case ("ĐN-Cty", "QĐ-Tg") is kept as written; a symbol may end in a year ("/A2/2026")."""
    parts = _SYMBOL_SPLIT.split(raw.strip())
    codes, seps = parts[0::2], [x.strip() for x in parts[1::2]]
    glued = [" " not in x for x in parts[1::2]]
    out = ""
    first = None
    for idx, code in enumerate(codes):
        ok = (_UPPER_CODE.fullmatch(code) is not None) or code in rule_set.mixed_codes
        if not ok and idx and seps[idx - 1] == "/" and _YEAR_CODE.fullmatch(code) and idx == len(codes) - 1:
            out += "/" + code
            break
        if not ok and idx and idx == len(codes) - 1 and glued[idx - 1] and _TITLE_CODE.fullmatch(code) and \
                search_key(code) not in rule_set.not_codes:
            folded = search_key(code).upper()  # "Ttg" is TTg, "Ubnd" is UBND
            out += seps[idx - 1] + rule_set.code_casing.get(folded, folded if folded in rule_set.issuer_codes else code)
            break
        if not ok and (two := _glued_codes(code, rule_set)):
            type_code, issuer_code = two
            out += (seps[idx - 1] if idx else "") + \
                rule_set.code_casing.get(search_key(type_code).upper(), type_code.upper()) + "-" + \
                rule_set.code_casing.get(search_key(issuer_code).upper(),
                                         issuer_code if issuer_code in rule_set.mixed_codes else issuer_code.upper())
            first = first or rule_set.code_casing.get(search_key(type_code).upper(), type_code.upper())
            continue
        if not ok and ("." in code or "&" in code):
            code = re.split(r"[.&]", code, maxsplit=1)[0]  # "CP.Tiếp": a sentence went on after the symbol
            ok = _UPPER_CODE.fullmatch(code) is not None or code in rule_set.mixed_codes
            if ok:
                canon = rule_set.code_casing.get(search_key(code).upper(),
                                                 code.upper() if code not in rule_set.mixed_codes else code)
                out += (seps[idx - 1] if idx else "") + canon
                first = first or canon
            break
        if not ok:
            break
        marker = _GLUED_MARKER.fullmatch(code)
        if marker and idx == len(codes) - 1 and search_key(marker.group(1)).upper() in rule_set.issuer_codes:
            code = marker.group(1)  # "NĐ-CP2": a footnote marker glued to the symbol
        canon = rule_set.code_casing.get(search_key(code).upper(),
                                         code.upper() if code not in rule_set.mixed_codes else code)
        out += (seps[idx - 1] if idx else "") + canon
        first = first or canon
    return (out, first) if first else None


def _type_from_code(code: str | None, rule_set: _Rules) -> str | None:
    if not code:
        return None
    if code in rule_set.type_codes:
        return rule_set.type_codes[code]
    return rule_set.type_codes_folded.get(search_key(code).upper())


def _numsym(text: str, match: re.Match, rule_set: _Rules) -> tuple[str, str | None, str | None, str | None, int]:
    """(number, symbol, canonical id, first code, end) from a number_symbol match."""
    num = text[match.start("num"):match.end("num")]
    for name in ("sym_a", "sym_b", "sym_c", "sym_d", "sym_e"):
        if match.group(name) is None:
            continue
        got = _canonical_symbol(text[match.start(name):match.end(name)], rule_set)
        if not got:
            break
        sym, code = got
        if name == "sym_e" and (_type_from_code(code, rule_set) is None or "-" not in sym):
            break  # "số 12 ngày": only a type code may open a symbol that lost its slash
        # How much of the symbol survived the case check decides where the mention ends.
        end = _symbol_end(text, match.start(name), sym)
        while end < match.end(name) and text[end].isdigit():
            end += 1  # a footnote marker glued to the symbol ("NĐ-CP2") stays in the mention
        if name == "sym_a":
            symbol = f"{match['year']}/{sym}"
            return num, symbol, f"{num}/{symbol}", code, end
        sep = "-" if ("/" in sym and name in ("sym_c", "sym_d")) else ("-" if name == "sym_c" else "/")
        if name == "sym_e":
            sep = "/"
        return num, sym, f"{num}{sep}{sym}", code, end
    return num, None, None, None, match.end("num")


def _symbol_end(text: str, start: int, canon: str) -> int:
    """End offset in `text` of the symbol starting at `start` whose canonical form is `canon`."""
    want = len(canon) - canon.count("-") - canon.count("/")
    seen, pos = 0, start
    while pos < len(text) and seen < want:
        if text[pos] not in " -/":
            seen += 1
        pos += 1
    return pos


def _find_hits(doc: Document, key: str, rule_set: _Rules) -> tuple[list[_Hit], dict[str, _Hit]]:
    """All mentions in reading order, and footnote bodies keyed by their marker."""
    text = doc.text
    footnotes: dict[str, _Hit] = {}
    body_ranges: list[tuple[int, int]] = []
    # Most texts hold no footnote mark at all (footnote_marks lists each one): looking for each
    # mark is cheaper than the scan.
    has_marks = any(mark in text for mark in rule_set.marks)
    for lm in re.finditer(rf"(?m)^[\W_]*?(?P<mark>[{rule_set.marks}]+)\s*(?P<body>.+)$", text) if has_marks else ():
        body_start = lm.start("body")
        hit = _first_hit_in(text, key, body_start, lm.end("body"), rule_set)
        if hit is None:
            nm = rule_set.numsym_re.match(key, body_start)
            if nm and rule_set.number_word.match(key, body_start) and \
                    (nm["sym_a"] or nm["sym_b"] or nm["sym_c"] or nm["sym_d"]):
                num, sym, canon, code, end = _numsym(text, nm, rule_set)
                if canon:
                    hit = _Hit(body_start, end, _type_from_code(code, rule_set) or "other", num, sym, canon,
                               has_so=True, generic=True)
                    _tail(text, key, hit, rule_set)
        if hit is not None:
            hit.form = "footnote"
            footnotes[lm["mark"]] = hit
            # Only the footnote's own document is taken here; the other documents a footnote
            # lists ("² Kết luận số 10/KL-TT … và Kết luận số 17/KL-TT …") are ordinary mentions.
            body_ranges.append((hit.start, hit.end))

    def in_body(pos: int) -> bool:
        return any(a <= pos < b for a, b in body_ranges)

    hits: list[_Hit] = []
    for match in _ref_matches(key, rule_set):
        if in_body(match.start()):
            continue
        hit = _hit_from_match(text, key, match, rule_set)
        if hit is not None:
            hits.append(hit)
    for am in rule_set.abbrev_scan.finditer(text):
        if am.start() and (text[am.start() - 1].isalnum() or text[am.start() - 1] in "_/"):
            continue  # inside a word or a symbol
        match = rule_set.abbrev_re.match(key, am.start())
        if match and not in_body(match.start()):
            hit = _hit_from_match(text, key, match, rule_set)
            if hit is not None:
                hits.append(hit)
    hits.extend(_law_hits(text, key, rule_set, in_body))
    hits.extend(h for h in footnotes.values())
    hits.sort(key=lambda mention: mention.start)
    bare = _bare_hits(text, key, hits, rule_set, in_body) + _named_hits(text, key, hits, rule_set, in_body)
    if bare:
        hits = sorted(hits + bare, key=lambda mention: mention.start)
    return hits, footnotes


def _named_hits(text: str, key: str, hits: list[_Hit], rule_set: _Rules, in_body) -> list[_Hit]:
    """Standards ("QCVN 01:2019/BCT") and agreements known by name ("Hiệp định về …")."""
    out: list[_Hit] = []
    starts = [h.start for h in hits]  # hits are sorted by start

    def free(pos: int) -> bool:
        idx = bisect.bisect_right(starts, pos)
        return not (idx and hits[idx - 1].end > pos) and not in_body(pos)

    has_standard = any(w in key for w in rule_set.standard_prefilter)  # a cheap test before the scan
    for match in (rule_set.standard.finditer(key) if has_standard else ()):
        code = text[match.start("code"):match.end("code")]
        if match.start() and key[match.start() - 1].isalnum() or not code.isupper() or not free(match.start()):
            continue
        canon = f"{code}{match['num']}:{match['y']}"
        end = match.end("y")
        if match["iss"]:
            iss = _canonical_symbol(text[match.start("iss"):match.end("iss")], rule_set)
            if iss:
                canon += "/" + iss[0]
                end = _symbol_end(text, match.start("iss"), iss[0])
        out.append(_Hit(match.start(), end, "other", None, None, canon, form="full", label=code))
    has_named = any(w in key for w in rule_set.named_prefilter)
    for match in (rule_set.named_doc.finditer(key) if has_named else ()):
        if match.start() and key[match.start() - 1].isalnum() or not text[match.start()].isupper() \
                or not free(match.start()):
            continue
        name = re.sub(r"\s+", " ", text[match.start():match.end("name")]).strip(" ,-–")
        hit = _Hit(match.start(), match.start() + len(text[match.start():match.end("name")].rstrip(" ,-–")), "other",
                   None, None, name)
        out.append(hit)
    return out


def _bare_hits(text: str, key: str, hits: list[_Hit], rule_set: _Rules, in_body) -> list[_Hit]:
    """"số 1316/TTg-KTN" with no type word right before it (rules: bare_number)."""
    out: list[_Hit] = []
    starts = [h.start for h in hits]  # hits are sorted by start
    for match in rule_set.bare_re.finditer(key):
        pos = match.start()
        if pos and (key[pos - 1].isalnum() or key[pos - 1] == "/"):
            continue
        idx = bisect.bisect_right(starts, pos)
        if idx and hits[idx - 1].end > pos or in_body(pos):
            continue  # inside a mention already found
        line_start = key.rfind("\n", 0, pos) + 1
        own = rule_set.own_number_line.match(key, line_start)
        if own and own.end() > pos:
            continue  # "Số: 664/KH-UBND": a document's own number line
        nm = rule_set.numsym_re.match(key, pos)
        if not nm or not any(nm[g] for g in ("sym_a", "sym_b", "sym_c", "sym_d", "sym_e")):
            continue
        num, sym, canon, code, end = _numsym(text, nm, rule_set)
        if not canon:
            continue
        start, generic = pos, False
        window = key[max(line_start, pos - 80):pos]
        dm = rule_set.described_re.search(window)
        doc_type = None
        if dm:
            word = dm["tw"]
            entry = next(e for rx, e in rule_set.described_types if rx.fullmatch(word))
            generic = bool(entry.get("generic"))
            doc_type = (_type_from_code(code, rule_set) or entry["type"]) if generic else entry["type"]
            start = pos - len(window) + dm.start()
        else:
            prev = [h for h in (hits[idx - 1] if idx else None, out[-1] if out else None)
                    if h is not None and h.end <= pos]
            if prev:
                nearest = max(prev, key=lambda mention: mention.end)
                if rule_set.list_cont.match(key, nearest.end, pos):
                    doc_type, generic = nearest.doc_type, nearest.generic
        if doc_type is None:
            doc_type, generic = _type_from_code(code, rule_set) or "cong_van", True
        hit = _Hit(start, end, doc_type, num, sym, canon, has_so=True, generic=generic,
                   caps=text[start:end].isupper())
        _tail(text, key, hit, rule_set)
        out.append(hit)
    return out


def _ref_matches(key: str, rule_set: _Rules):
    """The matches of `rule_set.ref_re.finditer(key)`, found faster.

    A pattern that opens with a look-behind gets no fast scan for its first letters, so the
    scan runs without it and a match preceded by a word character or "/" is dropped, the
    search resuming one character later: the same matches as the full pattern."""
    search = rule_set.ref_scan.search
    pos = 0
    while (match := search(key, pos)) is not None:
        start = match.start()
        if start and (key[start - 1] == "/" or _WORD_CHAR.match(key, start - 1)):
            pos = start + 1
            continue
        yield match
        pos = match.end()


_WORD_CHAR = re.compile(r"\w")


def _first_hit_in(text: str, key: str, start: int, end: int, rule_set: _Rules) -> _Hit | None:
    for match in rule_set.ref_re.finditer(key, start, end):
        hit = _hit_from_match(text, key, match, rule_set)
        if hit is not None and hit.marker is None:
            return hit
    return None


_TYPE_ENTRY: dict[str, dict] = {}  # type word as matched -> its doc_types entry (rules load once)


def _type_entry(word: str, rule_set: _Rules) -> dict:
    """The doc_types entry whose pattern matches the whole type word (the first, longest first)."""
    entry = _TYPE_ENTRY.get(word)
    if entry is None:
        entry = _TYPE_ENTRY[word] = next(e for rx, e in rule_set.type_words if rx.fullmatch(word))
    return entry


def _hit_from_match(text: str, key: str, match: re.Match, rule_set: _Rules) -> _Hit | None:
    group = "tw"
    word = key[match.start(group):match.end(group)]
    entry = _type_entry(word, rule_set)
    caps = text[match.start():match.end(group)].isupper()
    if entry.get("abbrev") and (match["mark"] or not caps):
        return None  # "qd" in lower case, or a code with a footnote marker, is no type word
    if match["mark"]:
        return _Hit(match.start(), match.end(), entry["type"], None, None, None, form="footnote",
                    generic=bool(entry.get("generic")), marker=match["mark"], caps=caps)
    if match["num"] is None:
        return None
    num, sym, canon, code, end = _numsym(text, match, rule_set)
    if entry.get("abbrev") and canon is None:
        return None  # "TT 1", "CT 12": a row number, not a document
    doc_type = entry["type"]
    if entry.get("generic"):
        doc_type = _type_from_code(code, rule_set) or doc_type
    hit = _Hit(match.start(), end, doc_type, num, sym, canon, generic=bool(entry.get("generic")),
               has_so=bool(rule_set.number_word_between.search(key[match.end(group):match.start("num")])), caps=caps,
               label=None if entry.get("generic") else entry.get("label"))
    _tail(text, key, hit, rule_set)
    return hit


def _law_hits(text: str, key: str, rule_set: _Rules, in_body) -> list[_Hit]:
    """Named laws: from the table, by number ("Luật số 84/2015/QH13"), or unlisted with a year."""
    out: list[_Hit] = []
    taken: list[tuple[int, int]] = []

    def capital_at(pos: int) -> bool:
        # "Luật" with a capital L, or "Bộ luật": "pháp luật an toàn" names no law.
        return text[pos].isupper() or key.startswith(rule_set.code_prefix, max(0, pos - len(rule_set.code_prefix)))

    def free(pos: int) -> bool:
        return not any(s <= pos < e for s, e in taken)

    for hit in _amending_hits(text, key, rule_set, in_body, capital_at):
        out.append(hit)
        taken.append((hit.start, hit.end))

    for match in rule_set.law_re.finditer(key):
        lstart = match.start()
        if lstart and key[lstart - 1].isalnum() or not capital_at(lstart) or in_body(lstart) or not free(lstart):
            continue
        code = len(rule_set.code_prefix)
        start = lstart - code if key.startswith(rule_set.code_prefix, max(0, lstart - code)) else lstart
        law = _law_of(match, rule_set)
        hit = _Hit(start, match.end(), rule_set.law_type, None, None, None, law=law,
                   caps=text[start:match.end()].isupper())
        nm = rule_set.law_number_after.match(key, hit.end)
        if nm:
            hit.number = text[nm.start("lnum"):nm.end("lnum")].upper()
            hit.law_year = nm["y"]
            hit.end = nm.end()
        got = _iso_date(key, hit.end, rule_set)
        if got:
            hit.date, hit.end = got
            hit.law_year = hit.law_year or (hit.date or "")[:4] or None
        else:
            ym = _GAP.match(key, hit.end)
            year_match = rule_set.year_re.match(key, ym.end())
            if year_match:
                hit.law_year, hit.end = year_match["y"], year_match.end()
        out.append(hit)
        taken.append((match.start(), hit.end))

    for match in rule_set.law_number_re.finditer(key):
        if not free(match.start()) or not capital_at(match.start()) \
                or match.start() and key[match.start() - 1].isalnum():
            continue
        found = rule_set.law_by_number.get(match["lnum"])
        number = text[match.start("lnum"):match.end("lnum")].upper()
        if found:
            law, version = found
            hit = _Hit(match.start(), match.end(), rule_set.law_type, version["number"], None, None, law=law,
                       law_year=version["year"])
        else:
            # "Luật số 118/2025/QH15" that the table does not hold: known by its number.
            hit = _Hit(match.start(), match.end(), rule_set.law_type, number, None, number)
        _tail(text, key, hit, rule_set)  # "Luật số 57/2024/QH15 của Quốc hội ngày 29/11/2024"
        hit.issuer = None
        out.append(hit)
        taken.append((match.start(), hit.end))
    for match in rule_set.unlisted_law_re.finditer(key):
        if not free(match.start()) or in_body(match.start()) or match.start() and key[match.start() - 1].isalnum():
            continue
        name_start = match.start("name")
        if not (capital_at(match.start()) and text[name_start].isupper()):
            continue
        name = text[name_start:match.end("name")].strip(" ,")
        code = len(rule_set.code_prefix)
        bo = key.startswith(rule_set.code_prefix, max(0, match.start() - code))
        kind = "bo_luat" if bo else "luat"
        hit = _Hit(match.start() - code if bo else match.start(), match.end("name"), rule_set.law_type, None, None, None,
                   law=_Law(name, kind, []))
        if match["num"]:
            hit.number = text[match.start("num"):match.end("num")].upper()
            hit.law_year = match["numyear"]
            hit.end = match.end("num")
            got = _iso_date(key, hit.end, rule_set)
            if got:
                hit.date, hit.end = got
        else:
            got = _iso_date(key, hit.end, rule_set)
            if got:
                hit.date, hit.end = got
                hit.law_year = (hit.date or "")[:4] or None
            else:
                year_match = rule_set.year_re.search(key, hit.end, hit.end + 12)
                if year_match:
                    hit.law_year, hit.end = year_match["y"], year_match.end()
        if hit.law_year:
            out.append(hit)
            taken.append((match.start(), hit.end))
    return out


def _law_of(match: re.Match, rule_set: _Rules) -> _Law:
    """The law whose name `rule_set.law_re` matched: the first, in the pattern's order, whose names
    match the whole name read (the alternative the regex engine took is that first one)."""
    name = match.group("law")
    return next(law for rx, law in rule_set.law_names if rx.fullmatch(name))


def _amending_hits(text: str, key: str, rule_set: _Rules, in_body, capital_at) -> list[_Hit]:
    """"Luật sửa đổi, bổ sung một số điều của Luật …": one law of its own (laws.yaml)."""
    out: list[_Hit] = []
    for match in rule_set.amending_re.finditer(key):
        start = match.start()
        if start and key[start - 1].isalnum() or not capital_at(start) or in_body(start):
            continue
        t0 = match.start("target")
        lm = rule_set.law_re.match(key, t0 + len(rule_set.code_prefix)
                                   if key.startswith(rule_set.code_prefix, t0) else t0)
        if lm and text[t0].isupper():
            law = _law_of(lm, rule_set)
            target, t_end = f"{rule_set.law_kinds[law.kind]} {law.name}", lm.end()
        else:
            em = rule_set.amending_end.search(key, match.end("target"), min(len(key), t0 + 160))
            t_end = em.start() if em else min(len(key), t0 + 160)
            target = re.sub(r"\s+", " ", text[t0:t_end]).strip(" ,")
            # "15 Luật" = "15 luật"
            target = rule_set.counted_laws.sub(lambda counted: counted.group(0).lower(), target)
        head = rule_set.amending_head
        hit = _Hit(start, t_end, rule_set.law_type, None, None, None)
        year = None
        nm = rule_set.law_number_after.match(key, t_end)
        if nm:
            hit.number, year, hit.end = text[nm.start("lnum"):nm.end("lnum")].upper(), nm["y"], nm.end()
        got = _iso_date(key, hit.end, rule_set)
        if got:
            hit.date, hit.end = got
            year = year or (hit.date or "")[:4] or None
        elif not year:
            year_match = rule_set.law_year_after.match(key, hit.end)
            if year_match:
                year, hit.end = year_match["y"], year_match.end()
        ap = rule_set.law_apposition.search(key, max(0, start - 60), start)
        if ap:
            hit.number = hit.number or text[ap.start("lnum"):ap.end("lnum")].upper()
            year = year or ap["y"]
            hit.start = ap.start()  # the number and its name are one mention
        hit.canonical = f"{head} {target} {year}" if year else f"{head} {target}"
        hit.caps = text[start:t_end].isupper()
        out.append(hit)
    return out


def _law_canonical(hit: _Hit, doc_date: str | None) -> tuple[str, str | None]:
    """("Luật <name> <year>", official number or None)."""
    law = hit.law
    assert law is not None
    prefix = _rules().law_kinds[law.kind]
    version = None
    if hit.law_year:
        version = next((v for v in law.versions if v["year"] == hit.law_year), None)
        year = hit.law_year
    else:
        passed = [v for v in law.versions if not doc_date or v["date"] <= doc_date]
        version = max(passed or law.versions, key=lambda candidate: candidate["date"]) if law.versions else None
        year = version["year"] if version else None
    number = hit.number or (version or {}).get("number")
    return f"{prefix} {law.name} {year}".strip(), number


# ----------------------------------------------------------------------------- relations


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


def _preamble_roles(doc: Document, key: str, hits: list[_Hit], rule_set: _Rules) -> None:
    """Mark the hits at the head of the title and opening paragraphs (`hit.top`)."""
    text = doc.text
    is_report = doc.metadata.doc_type == "bao_cao"
    title_span = doc.metadata.spans.get("title") if doc.metadata.spans else None
    after_type_line = False
    seen_trigger = False
    prev_title = False
    prev_role: str | None = None
    paras = _paragraphs(text)
    idx = 0
    while idx < len(paras):
        start, end = paras[idx]
        idx += 1
        line = key[start:end]
        if rule_set.heading.match(line):
            break
        if rule_set.report_line.match(line):
            is_report = True
        if rule_set.type_line.match(line):
            after_type_line = True
            continue
        is_title = (title_span is not None and title_span.start < end and start < title_span.end) or (
            title_span is None and after_type_line)
        # A bracketed line right under the title ("(Ban hành kèm theo Nghị quyết số 35-NQ/TU …)")
        # belongs to it.
        bracket = prev_title and line.lstrip().startswith("(")
        is_title = is_title or bracket
        prev_title = is_title
        after_type_line = False
        if not is_title and rule_set.trigger.match(line):
            # An opening paragraph hard-wrapped by a PDF copy ("… của Bộ\nNông nghiệp và Môi
            # trường …") goes on over the lines that follow until a sentence ends.
            while idx < len(paras) and not re.search(r"[.;:!?]\s*$", key[start:end]) and \
                    not rule_set.heading.match(key[paras[idx][0]:paras[idx][1]]) and \
                    not rule_set.trigger.match(key[paras[idx][0]:paras[idx][1]]):
                end = paras[idx][1]
                idx += 1
            line = key[start:end]
        role = None
        head = start
        tm = rule_set.trigger.match(line) or (rule_set.title_issues.match(line) if is_title else None)
        if is_title and is_report:
            role = "reports_on"
        elif tm:
            role, head = "implements", start + tm.end()
        elif bracket and prev_role:
            # "(Ban hành kèm theo Nghị quyết …)": the document that carries the one in the title
            role, head = prev_role, start + line.index("(") + 1
        prev_role = role if is_title else None
        if role is None:
            if seen_trigger and end - start > 80 and not rule_set.grounds.match(line):
                break  # the opening is over: a body paragraph with no trigger
            continue
        seen_trigger = seen_trigger or role == "implements"
        _mark_heads(key, [h for h in hits if head <= h.start < end], head, end, role, rule_set)


_ITEM_PUNCT = re.compile(r"[();]")


def _mark_heads(key: str, hits: list[_Hit], start: int, end: int, role: str, rule_set: _Rules) -> None:
    """Within one paragraph, mark the first reference of each ";" item and its coordinates."""
    items, depth, next_start = [], 0, start
    for pm in _ITEM_PUNCT.finditer(key, start, end):  # only these characters change anything
        pos, char = pm.start(), pm.group()
        depth += char == "("
        depth -= char == ")" and depth > 0
        if char == ";" and depth == 0:
            items.append((next_start, pos))
            next_start = pos + 1
    items.append((next_start, end))
    for idx, (item_start, item_end) in enumerate(items):
        inside = [h for h in hits if item_start <= h.start < item_end]
        if not inside:
            continue
        first = inside[0]
        lead = key[item_start:first.start]
        if idx > 0 and not rule_set.item_lead.fullmatch(lead):
            continue
        if _in_parens(key, item_start, first.start):
            continue
        first.top = first.top or role
        prev = first
        for hit in inside[1:]:
            if rule_set.coordination.match(key[prev.end:hit.start]):
                hit.top = hit.top or role
                prev = hit
            elif hit.start >= prev.end and rule_set.and_before.search(key, prev.end, hit.start) and \
                    not _in_parens(key, prev.end, hit.start):
                # "Văn bản số 4250/… về việc … và Văn bản số 4643/…": the title of the first
                # ends at "và", and no other reference sits in between.
                hit.top = hit.top or role
                prev = hit
            elif hit.start >= prev.end:
                break


def _in_parens(key: str, start: int, pos: int) -> bool:
    seg = key[start:pos]
    return seg.count("(") > seg.count(")")


# ----------------------------------------------------------------------------- merging


@dataclass(slots=True)
class _Ref:
    canonical: str
    hits: list[_Hit] = field(default_factory=list)


def extract_references(doc: Document) -> None:
    """Fill `doc.references` with one Reference per cited document, all mentions attached."""
    rule_set = _rules()
    text = doc.text
    if not text:
        return
    key = doc.search_text()
    hits, footnotes = _find_hits(doc, key, rule_set)
    _sentence_dates(key, hits, rule_set)

    for hit in hits:
        pre = key[max(0, hit.start - 40):hit.start]
        if rule_set.alias.search(pre) and "(" in pre:
            hit.form = "alias"
        elif hit.form == "full" and not (hit.date or hit.issuer):
            hit.form = "short"

    # Footnote markers ("Kế hoạch¹") take the document of their footnote.
    resolved: list[_Hit] = []
    for hit in hits:
        if hit.marker is not None:
            body = footnotes.get(hit.marker)
            if body is None or body.canonical is None and body.number is None:
                continue
            hit.number, hit.symbol, hit.canonical = body.number, body.symbol, body.canonical
            hit.date = body.date
            if hit.generic:
                hit.doc_type = body.doc_type if not body.generic else (body.doc_type or hit.doc_type)
            if body.generic:
                body.doc_type = hit.doc_type  # "¹ Số 417-KH/TU" typed by the word before the marker
            hit.issuer = _issuer_before(text, key, hit.start, rule_set)
            hit.title = _title_text(text, hit.end + 1) if text[hit.end:hit.end + 1] == " " else None
        resolved.append(hit)
    hits = resolved

    # A document's own number is not a reference.
    own = None
    if doc.metadata.number and doc.metadata.symbol:
        own = _key(f"{doc.metadata.number}/{doc.metadata.symbol}")

    doc_date = doc.metadata.date or max((h.date for h in hits if h.date), default=None)
    for hit in hits:
        if hit.law is not None:
            hit.canonical, number = _law_canonical(hit, doc_date)
            hit.number = number

    _preamble_roles(doc, key, hits, rule_set)

    refs: dict[str, _Ref] = {}
    pending: list[_Hit] = []
    for hit in hits:
        if hit.canonical is None:
            pending.append(hit)
            continue
        if own and _key(hit.canonical) == own:
            continue
        refs.setdefault(hit.canonical, _Ref(hit.canonical)).hits.append(hit)

    # Number-only mentions ("Chỉ thị 11", "Đề án số 08"): join a reference of that number.
    for hit in pending:
        target = _match_number(hit, refs, hits)
        if target is not None:
            target.hits.append(hit)
        elif (hit.has_so or hit.date) and "." not in hit.number:  # "số 1.234" alone is an amount
            label = hit.label or rule_set.labels.get(hit.doc_type, rule_set.generic_label)
            canon = rule_set.number_only_id.format(label=label, number=hit.number)
            refs.setdefault(canon, _Ref(canon)).hits.append(hit)

    # "Luật số 43/2019/QH14" where the document also names that law ("Luật Giáo dục số
    # 43/2019/QH14"): one law.
    for canon in [c for c in refs if _LAW_NUMBER.fullmatch(c)]:
        named = [r for c, r in refs.items() if c != canon and any(x.number == canon for x in r.hits)]
        if len(named) == 1:
            named[0].hits.extend(refs.pop(canon).hits)

    # A symbol cut short ("QĐ số 768/QĐ- (hồ sơ …") where the document also cites the whole
    # of it ("768/QĐ-TTg"): one document.
    ordered = sorted(refs)
    for canon in list(refs):
        idx = bisect.bisect_right(ordered, canon)  # ids that extend it sort right after it
        longer = []
        while idx < len(ordered) and ordered[idx].startswith(canon):
            if ordered[idx][len(canon)] in "-/" and ordered[idx] in refs:
                longer.append(ordered[idx])
            idx += 1
        if len(longer) == 1 and canon in refs:
            refs[longer[0]].hits.extend(refs.pop(canon).hits)

    out = []
    for ref in refs.values():
        ref.hits.sort(key=lambda mention: mention.start)
        out.append(_to_reference(doc, ref))
    out.sort(key=lambda reference: reference.span.start)
    doc.references = out


_SENTENCE_END = re.compile(r"\.(?=\s)|[;\n]")


def _date_of(match: re.Match) -> str | None:
    try:
        return _dt.date(int(match["y"]), int(match["m"]), int(match["d"])).isoformat()
    except ValueError:
        return None


def _sentence_dates(key: str, hits: list[_Hit], rule_set: _Rules) -> None:
    """Dates stated away from the reference in its sentence (rules: sentence_date_first,
    sentence_issued_on): they go to the sentence's first reference if it states none."""
    if not hits:
        return
    starts = [h.start for h in hits]

    def first_hit(start: int, stop: int) -> _Hit | None:
        idx = bisect.bisect_left(starts, start)
        return hits[idx] if idx < len(hits) and hits[idx].start < stop else None

    for match in rule_set.date_first.finditer(key):
        if not rule_set.date_first_lead.search(key, max(0, match.start() - 12), match.start()) and match.start() > 0:
            continue  # the date does not open its sentence
        end = _SENTENCE_END.search(key, match.end())
        sentence_end = end.start() if end else len(key)
        hit = first_hit(match.end(), sentence_end)
        if hit is not None and hit.date is None and hit.marker is None and \
                rule_set.date_first_verb.search(key, match.end(), hit.start) and \
                not any(rx.search(key, match.end(), hit.start) for rx in rule_set.dates):
            hit.date = _date_of(match)
    for idx, h2 in enumerate(hits):
        if not h2.date or not idx:
            continue
        match = rule_set.issued_with.search(key, max(0, h2.start - 40), h2.start)
        if match:
            h1 = hits[idx - 1]
            if h1.end <= match.start() and h1.date is None and h1.marker is None and \
                    not _SENTENCE_END.search(key, h1.end, match.start()) and match.start() - h1.end < 400:
                h1.date = h2.date
    for match in rule_set.issued_on.finditer(key):
        if not rule_set.issued_lead.search(key, max(0, match.start() - 12), match.start()):
            continue
        sentence_start = max((x.end() for x in _SENTENCE_END.finditer(key, max(0, match.start() - 400), match.start())),
                default=max(0, match.start() - 400))
        hit = first_hit(sentence_start, match.start())
        if hit is not None and hit.date is None and hit.marker is None:
            hit.date = _date_of(match)


_LAW_NUMBER = re.compile(r"\d{1,3}/(?:19|20)\d\d/QH\d{1,2}")


def _key(canonical: str) -> str:
    return re.sub(r"[^0-9A-Z/]", "", search_key(canonical).upper())


def _match_number(hit: _Hit, refs: dict[str, _Ref], hits: list[_Hit]) -> _Ref | None:
    same = [r for r in refs.values() if any(x.number == hit.number for x in r.hits)]
    typed = [r for r in same if any(x.doc_type == hit.doc_type for x in r.hits)]
    for group in (typed, same):
        if len(group) == 1:
            return group[0]
    if hit.form == "alias" and not same:
        # "(viết tắt là Chỉ thị 11)" with no numbered match: the reference just before it.
        before = [r for r in refs.values() if any(x.end <= hit.start and hit.start - x.end < 600 for x in r.hits)]
        if before:
            return max(before, key=lambda ref: max(x.end for x in ref.hits if x.end <= hit.start))
    return None


_WORD_START = re.compile(r"(?<![\w])([^\W\d_])")


def _issuer_before(text: str, key: str, pos: int, rule_set: _Rules) -> str | None:
    """"UBND tỉnh ban hành Kế hoạch²": the issuer that the sentence says issued it."""
    start = max(key.rfind(". ", 0, pos), key.rfind("\n", 0, pos)) + 1
    best = None
    # key[start - 1] is "." or a line break (or start is 0): the look-behind sees the same
    # as on the slice key[start:pos].
    for match in _WORD_START.finditer(key, start, pos):
        got = _issuer_at(text, key, match.start(), rule_set)
        if got and rule_set.issued_verb.match(key, got[1]):
            best = got[0]
    return best


def _to_reference(doc: Document, ref: _Ref) -> Reference:
    hits = ref.hits
    full = [h for h in hits if h.form == "full"] or [h for h in hits if h.form != "footnote" or h.marker is None] or hits
    first = full[0]

    def pick(attr: str):
        # Prefer mixed-case text for issuer and title; keep the first mention's otherwise.
        # Inferred footnote issuers ("UBND tỉnh ban hành Kế hoạch²") come last.
        ordered = sorted(hits, key=lambda mention: (mention.marker is not None, mention.caps))
        if attr == "date":
            ordered = hits
        return next((getattr(h, attr) for h in ordered if getattr(h, attr)), None)

    rel = "cites"
    tops = {h.top for h in hits}
    if "reports_on" in tops:
        rel = "reports_on"
    elif "implements" in tops:
        rel = "implements"

    doc_type = next((h.doc_type for h in hits if not h.generic), None) or first.doc_type
    number = next((h.number for h in hits if h.number), None)
    symbol = next((h.symbol for h in hits if h.symbol), None)
    mentions = [Mention(doc.text[h.start:h.end], doc.span(h.start, h.end), h.form) for h in hits]
    date = pick("date") if first.law is None else first.date or pick("date")
    return Reference(
        id=ref.canonical,
        canonical_id=ref.canonical,
        doc_type=doc_type,
        number=number,
        symbol=symbol,
        date=date,
        issuer=pick("issuer"),
        title=pick("title"),
        relation=rel,
        text=doc.text[first.start:first.end],
        span=doc.span(first.start, first.end),
        mentions=mentions,
    )


# ----------------------------------------------------------------------------- helpers for link


def references_in(text: str) -> list[dict[str, Any]]:
    """Citations in a free-standing string (a cited document's title), in order.

    Each: {canonical_id, doc_type, implements}: `implements` is True for the head reference
    of a title that says it carries it out ("ban hành Kế hoạch thực hiện Chỉ thị số 31-CT/TW",
    "về thực hiện Chỉ thị ...") and for the references listed with it."""
    rule_set = _rules()
    key = search_key(text)
    doc = Document(id="", source=None, text=text)  # type: ignore[arg-type]
    hits, _ = _find_hits(doc, key, rule_set)
    hits = [h for h in hits if h.marker is None]
    for hit in hits:
        if hit.law is not None:
            hit.canonical, hit.number = _law_canonical(hit, None)
    hits = [h for h in hits if h.canonical]
    if hits:
        first = hits[0]
        tm = None
        for tm in rule_set.title_trigger.finditer(key, 0, first.start):
            pass
        if tm is not None and re.fullmatch(r"[\s\w/]*", key[tm.end():first.start]) and \
                len(key[tm.end():first.start].split()) <= 6:
            _mark_heads(key, hits, first.start, len(key), "implements", rule_set)
    out, seen = [], set()
    for hit in hits:
        if hit.canonical in seen:
            continue
        seen.add(hit.canonical)
        out.append({"canonical_id": hit.canonical, "doc_type": hit.doc_type, "implements": hit.top == "implements"})
    return out


def canonical_key(canonical: str | None) -> str:
    """Comparison key of a canonical id: case, accents and separators ignored."""
    return _key(canonical) if canonical else ""


def canonical_symbol(number: str | None, symbol: str | None) -> str | None:
    """The canonical id of a document from its own number and symbol (header fields)."""
    if not number or not symbol:
        return None
    rule_set = _rules()
    got = _canonical_symbol(symbol, rule_set)
    if not got:
        return None
    sym = got[0]
    sep = "-" if "/" in sym and not re.match(r"(?:19|20)\d\d/", sym) else "/"
    return f"{number.strip()}{sep}{sym}"
