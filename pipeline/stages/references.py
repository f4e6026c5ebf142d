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
    for p in patterns:
        if not (re.match(r"[a-z][^?*+{]", p) and "|" not in p):
            return "|".join(patterns)
        groups.setdefault(p[0], []).append(p[1:])
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
    r = rules.load("references")
    lw = rules.load("laws")
    pat = lambda name, data=r: re.compile(data[name]["pattern"])  # noqa: E731  (a rule's pattern, compiled)
    numsym = r["number_symbol"]["pattern"]
    marks = r["footnote_marks"]

    # One group for the type word; the entry is found afterwards (a named group per type
    # makes the scan three times slower).
    entries = sorted(r["doc_types"], key=lambda e: -len(e["pattern"]))
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
    abbrev_scan = re.compile(r"(?:" + abbrev_text + r")(?=" + r["abbrev_before_number"]["pattern"] + ")")
    words = [e for e in entries if not e.get("abbrev")]  # written-out type words only
    type_line = re.compile(
        r"^[\W_]*(?:" + "|".join(e["pattern"] for e in words) + r")[\W_]*$"
    )

    issuers = [(re.compile(e["pattern"]), e) for e in r["issuers"]]
    names = "|".join(_flex(n) for n in sorted(rules.load("departments")["names"], key=len, reverse=True))
    ministry_re = re.compile(r["ministry_pattern"]["template"].replace("NAMES", names) + r"\b")

    laws: list[_Law] = []
    for e in lw["laws"]:
        versions = [
            {"year": str(v["year"]), "number": v.get("number"), "date": str(v.get("date") or "")}
            for v in e["versions"]
        ]
        laws.append(_Law(e["name"], e.get("kind", "luat"), versions, list(e.get("aliases") or [])))
    law_names: list[tuple[re.Pattern, _Law]] = []
    law_alts = []
    for law in sorted(laws, key=lambda x: -len(x.name)):
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
    for e in r["doc_types"]:
        if not e.get("generic"):
            labels.setdefault(e["type"], e["label"])
    return _Rules(
        ref_re=ref_re,
        ref_scan=re.compile(ref_body),
        abbrev_re=re.compile(abbrev_body),
        abbrev_scan=abbrev_scan,
        type_words=type_words,
        numsym_re=re.compile(numsym),
        dates=[re.compile(d["pattern"]) for d in r["dates"]],
        year_re=pat("year"),
        issuer_lead=re.compile(r["issuer_lead"]),
        issuers=issuers,
        ministry_re=ministry_re,
        any_issuer=re.compile("|".join([f"(?:{rx.pattern})" for rx, _ in issuers] + [f"(?:{ministry_re.pattern})"])),
        place_stop=frozenset(r["place_stopwords"]),
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
        type_codes=dict(r["type_codes"]),
        type_codes_folded={search_key(c).upper(): t for c, t in r["type_codes"].items()},
        code_casing=dict(r["code_casing"]),
        mixed_codes=frozenset(r["mixed_case_codes"]),
        issuer_codes=frozenset(search_key(c).upper() for c in r["issuer_codes"]),
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
            r"(?<![\w])(?P<tw>" + "|".join(e["pattern"] for e in r["described_types"] + words)
            + r")(?:\s+[^\s,;.:()\d]+){0,6}\s+\Z"),
        described_types=[(re.compile(e["pattern"]), e) for e in r["described_types"] + words],
        list_cont=pat("list_continuation"),
        date_first=pat("sentence_date_first"),
        date_first_lead=pat("date_first_lead"),
        issued_lead=pat("issued_lead"),
        date_first_verb=pat("date_first_verb"),
        issued_with=pat("issued_with"),
        standard=pat("standard"),
        named_doc=pat("named_document"),
        issued_on=pat("sentence_issued_on"),
        standard_prefilter=tuple(search_key(w) for w in r["standard"]["prefilter"]),
        named_prefilter=tuple(search_key(w) for w in r["named_document"]["prefilter"]),
        own_number_line=pat("own_number_line"),
        number_word=pat("number_word"),
        number_word_between=re.compile(rf"\b(?:{r['number_word']['pattern']})\b"),
        not_codes=frozenset(search_key(w) for w in r["not_codes"]),
        number_only_id=r["number_only_id"],
        generic_label=next(e["label"] for e in r["doc_types"] if e.get("generic")),
        item_lead=re.compile(r["item_lead"]["template"].replace("TRIGGER", r["implement_triggers"]["pattern"].lstrip("^"))),
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


@dataclass
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


def _iso_date(k: str, pos: int, R: _Rules) -> tuple[str | None, int] | None:
    """A date right at `pos` ("ngày 28/10/2024"): (ISO or None if impossible, end)."""
    m = _GAP.match(k, pos)
    p = m.end()
    for rx in R.dates:
        dm = rx.match(k, p)
        if dm:
            mo, y = int(dm["m"]), int(dm["y"])
            if "d" not in rx.groupindex:
                return (f"{y:04d}-{mo:02d}" if 1 <= mo <= 12 else None), dm.end()
            d = int(dm["d"])
            try:
                return _dt.date(y, mo, d).isoformat(), dm.end()
            except ValueError:
                return None, dm.end()  # "ngày 31/02/2024": rejected, not emitted
    return None


def _place_tail(text: str, k: str, pos: int, caps: bool, R: _Rules) -> int:
    """End of a proper name after an issuer head ("Tỉnh uỷ| Cao Bằng")."""
    end = pos
    for _ in range(4):
        m = _PLACE_WORD.match(text, end)
        if not m or not m.group(1)[0].isupper():
            break
        if caps and k[m.start(1):m.end(1)] in R.place_stop:
            break
        if not caps and m.group(1).isupper() and len(m.group(1)) > 1:
            break  # an abbreviation, not a place name
        end = m.end()
    return end


def _issuer_at(text: str, k: str, pos: int, R: _Rules) -> tuple[str, int] | None:
    """An issuer phrase starting at `pos`: (name to report, end)."""
    if not R.any_issuer.match(k, pos):
        return None
    for rx, entry in R.issuers:
        m = rx.match(k, pos)
        if m and not k[m.end():m.end() + 1].isalnum():
            end = m.end()
            if entry.get("place"):
                end = _place_tail(text, k, end, text[pos:end].isupper(), R)
            return entry.get("name") or text[pos:end], end
    m = R.ministry_re.match(k, pos)
    if m:
        return text[pos:m.end()], m.end()
    return None


def _tail(text: str, k: str, hit: _Hit, R: _Rules) -> None:
    """Read the date, issuer and title after a mention; extend `hit.end` over date and issuer."""
    pos = hit.end
    for _ in range(2):  # date and issuer, in either order
        if hit.date is None:
            got = _iso_date(k, pos, R)
            if got:
                hit.date, pos = got
                continue
        if hit.issuer is None:
            lead = R.issuer_lead.match(k, pos)
            if lead:
                got = _issuer_at(text, k, lead.end(), R)
                if got:
                    hit.issuer, pos = got
                    continue
        break
    hit.end = pos
    lead = R.title_lead.match(k, pos)
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
    i, n = start, min(len(text), start + 600)
    while i < n:
        stop = _TITLE_STOP_CHAR.search(text, i, n)  # only these characters can end it
        if stop is None:
            i = n
            break
        i = stop.start()
        c = text[i]
        if c in ";\n":
            break
        if c == "(":
            m = _ABBREV_PARENS.match(text, i)
            if m:
                i = m.end()
                continue
            break
        if c == "." and (i + 1 >= len(text) or text[i + 1] in " \n"):
            break
        if c == "," and _COMMA_SUBJECT.match(text, i) and not text[start:i].isupper():
            break  # ", UBND tỉnh ... ban hành": the sentence goes on with its own subject
        i += 1
    title = text[start:i].strip(" ,")
    return title or None


_SYMBOL_SPLIT = re.compile(r"(\s*[-/]\s*)")
_UPPER_CODE = re.compile(r"[A-ZĐ][A-ZĐ0-9]*(?:[.&][A-ZĐ0-9]+)?")
_GLUED_MARKER = re.compile(r"(.*?[^\d])(\d{1,2})")
_YEAR_CODE = re.compile(r"(?:19|20)\d\d")
_TITLE_CODE = re.compile(r"[A-ZĐ][a-zđ]{1,3}")


def _glued_codes(c: str, R: _Rules) -> tuple[str, str] | None:
    """"QĐTTg" -> ("QĐ", "TTg"): a type code and an issuer code written without their hyphen."""
    f = search_key(c).upper()
    for ft in R.type_codes_folded:
        if f.startswith(ft) and f[len(ft):] in R.issuer_codes and len(ft) < len(f):
            return c[:len(ft)], c[len(ft):]
    return None


def _canonical_symbol(raw: str, R: _Rules) -> tuple[str, str] | None:
    """("NĐ-CP", first code) from the symbol as written ("ND-CP", "KH- UBND"), or None.

    Codes after the first one that are not written as codes (upper case) are dropped. A code
    may carry one dotted or "&" part ("NV.IV", "KT&XD"); a last code written glued in title
    case ("ĐN-Cty", "QĐ-Tg") is kept as written; a symbol may end in a year ("/A2/2026")."""
    parts = _SYMBOL_SPLIT.split(raw.strip())
    codes, seps = parts[0::2], [x.strip() for x in parts[1::2]]
    glued = [" " not in x for x in parts[1::2]]
    out = ""
    first = None
    for i, c in enumerate(codes):
        ok = (_UPPER_CODE.fullmatch(c) is not None) or c in R.mixed_codes
        if not ok and i and seps[i - 1] == "/" and _YEAR_CODE.fullmatch(c) and i == len(codes) - 1:
            out += "/" + c
            break
        if not ok and i and i == len(codes) - 1 and glued[i - 1] and _TITLE_CODE.fullmatch(c) and \
                search_key(c) not in R.not_codes:
            f = search_key(c).upper()  # "Ttg" is TTg, "Ubnd" is UBND
            out += seps[i - 1] + R.code_casing.get(f, f if f in R.issuer_codes else c)
            break
        if not ok and (two := _glued_codes(c, R)):
            a, b = two
            out += (seps[i - 1] if i else "") + R.code_casing.get(search_key(a).upper(), a.upper()) + "-" + \
                R.code_casing.get(search_key(b).upper(), b if b in R.mixed_codes else b.upper())
            first = first or R.code_casing.get(search_key(a).upper(), a.upper())
            continue
        if not ok and ("." in c or "&" in c):
            c = re.split(r"[.&]", c, maxsplit=1)[0]  # "CP.Tiếp": a sentence went on after the symbol
            ok = _UPPER_CODE.fullmatch(c) is not None or c in R.mixed_codes
            if ok:
                canon = R.code_casing.get(search_key(c).upper(), c.upper() if c not in R.mixed_codes else c)
                out += (seps[i - 1] if i else "") + canon
                first = first or canon
            break
        if not ok:
            break
        marker = _GLUED_MARKER.fullmatch(c)
        if marker and i == len(codes) - 1 and search_key(marker.group(1)).upper() in R.issuer_codes:
            c = marker.group(1)  # "NĐ-CP2": a footnote marker glued to the symbol
        canon = R.code_casing.get(search_key(c).upper(), c.upper() if c not in R.mixed_codes else c)
        out += (seps[i - 1] if i else "") + canon
        first = first or canon
    return (out, first) if first else None


def _type_from_code(code: str | None, R: _Rules) -> str | None:
    if not code:
        return None
    if code in R.type_codes:
        return R.type_codes[code]
    return R.type_codes_folded.get(search_key(code).upper())


def _numsym(text: str, m: re.Match, R: _Rules) -> tuple[str, str | None, str | None, str | None, int]:
    """(number, symbol, canonical id, first code, end) from a number_symbol match."""
    num = text[m.start("num"):m.end("num")]
    for g in ("sym_a", "sym_b", "sym_c", "sym_d", "sym_e"):
        if m.group(g) is None:
            continue
        got = _canonical_symbol(text[m.start(g):m.end(g)], R)
        if not got:
            break
        sym, code = got
        if g == "sym_e" and (_type_from_code(code, R) is None or "-" not in sym):
            break  # "số 12 ngày": only a type code may open a symbol that lost its slash
        # How much of the symbol survived the case check decides where the mention ends.
        end = _symbol_end(text, m.start(g), sym)
        while end < m.end(g) and text[end].isdigit():
            end += 1  # a footnote marker glued to the symbol ("NĐ-CP2") stays in the mention
        if g == "sym_a":
            symbol = f"{m['year']}/{sym}"
            return num, symbol, f"{num}/{symbol}", code, end
        sep = "-" if ("/" in sym and g in ("sym_c", "sym_d")) else ("-" if g == "sym_c" else "/")
        if g == "sym_e":
            sep = "/"
        return num, sym, f"{num}{sep}{sym}", code, end
    return num, None, None, None, m.end("num")


def _symbol_end(text: str, start: int, canon: str) -> int:
    """End offset in `text` of the symbol starting at `start` whose canonical form is `canon`."""
    want = len(canon) - canon.count("-") - canon.count("/")
    seen, i = 0, start
    while i < len(text) and seen < want:
        if text[i] not in " -/":
            seen += 1
        i += 1
    return i


def _find_hits(doc: Document, k: str, R: _Rules) -> tuple[list[_Hit], dict[str, _Hit]]:
    """All mentions in reading order, and footnote bodies keyed by their marker."""
    text = doc.text
    footnotes: dict[str, _Hit] = {}
    body_ranges: list[tuple[int, int]] = []
    # Most texts hold no footnote mark at all (footnote_marks lists each one): looking for each
    # mark is cheaper than the scan.
    has_marks = any(mark in text for mark in R.marks)
    for lm in re.finditer(rf"(?m)^[\W_]*?(?P<mark>[{R.marks}]+)\s*(?P<body>.+)$", text) if has_marks else ():
        body_start = lm.start("body")
        hit = _first_hit_in(text, k, body_start, lm.end("body"), R)
        if hit is None:
            nm = R.numsym_re.match(k, body_start)
            if nm and R.number_word.match(k, body_start) and (nm["sym_a"] or nm["sym_b"] or nm["sym_c"] or nm["sym_d"]):
                num, sym, canon, code, end = _numsym(text, nm, R)
                if canon:
                    hit = _Hit(body_start, end, _type_from_code(code, R) or "other", num, sym, canon,
                               has_so=True, generic=True)
                    _tail(text, k, hit, R)
        if hit is not None:
            hit.form = "footnote"
            footnotes[lm["mark"]] = hit
            # Only the footnote's own document is taken here; the other documents a footnote
            # lists ("² Kết luận số 10/KL-TT … và Kết luận số 17/KL-TT …") are ordinary mentions.
            body_ranges.append((hit.start, hit.end))

    def in_body(pos: int) -> bool:
        return any(a <= pos < b for a, b in body_ranges)

    hits: list[_Hit] = []
    for m in _ref_matches(k, R):
        if in_body(m.start()):
            continue
        hit = _hit_from_match(text, k, m, R)
        if hit is not None:
            hits.append(hit)
    for am in R.abbrev_scan.finditer(text):
        if am.start() and (text[am.start() - 1].isalnum() or text[am.start() - 1] in "_/"):
            continue  # inside a word or a symbol
        m = R.abbrev_re.match(k, am.start())
        if m and not in_body(m.start()):
            hit = _hit_from_match(text, k, m, R)
            if hit is not None:
                hits.append(hit)
    hits.extend(_law_hits(text, k, R, in_body))
    hits.extend(h for h in footnotes.values())
    hits.sort(key=lambda h: h.start)
    bare = _bare_hits(text, k, hits, R, in_body) + _named_hits(text, k, hits, R, in_body)
    if bare:
        hits = sorted(hits + bare, key=lambda h: h.start)
    return hits, footnotes


def _named_hits(text: str, k: str, hits: list[_Hit], R: _Rules, in_body) -> list[_Hit]:
    """Standards ("QCVN 01:2019/BCT") and agreements known by name ("Hiệp định về …")."""
    out: list[_Hit] = []
    starts = [h.start for h in hits]  # hits are sorted by start

    def free(a: int) -> bool:
        i = bisect.bisect_right(starts, a)
        return not (i and hits[i - 1].end > a) and not in_body(a)

    has_standard = any(w in k for w in R.standard_prefilter)  # a cheap test before the scan
    for m in (R.standard.finditer(k) if has_standard else ()):
        code = text[m.start("code"):m.end("code")]
        if m.start() and k[m.start() - 1].isalnum() or not code.isupper() or not free(m.start()):
            continue
        canon = f"{code}{m['num']}:{m['y']}"
        end = m.end("y")
        if m["iss"]:
            iss = _canonical_symbol(text[m.start("iss"):m.end("iss")], R)
            if iss:
                canon += "/" + iss[0]
                end = _symbol_end(text, m.start("iss"), iss[0])
        out.append(_Hit(m.start(), end, "other", None, None, canon, form="full", label=code))
    has_named = any(w in k for w in R.named_prefilter)
    for m in (R.named_doc.finditer(k) if has_named else ()):
        if m.start() and k[m.start() - 1].isalnum() or not text[m.start()].isupper() or not free(m.start()):
            continue
        name = re.sub(r"\s+", " ", text[m.start():m.end("name")]).strip(" ,-–")
        hit = _Hit(m.start(), m.start() + len(text[m.start():m.end("name")].rstrip(" ,-–")), "other",
                   None, None, name)
        out.append(hit)
    return out


def _bare_hits(text: str, k: str, hits: list[_Hit], R: _Rules, in_body) -> list[_Hit]:
    """"số 1316/TTg-KTN" with no type word right before it (rules: bare_number)."""
    out: list[_Hit] = []
    starts = [h.start for h in hits]  # hits are sorted by start
    for m in R.bare_re.finditer(k):
        s = m.start()
        if s and (k[s - 1].isalnum() or k[s - 1] == "/"):
            continue
        i = bisect.bisect_right(starts, s)
        if i and hits[i - 1].end > s or in_body(s):
            continue  # inside a mention already found
        line_start = k.rfind("\n", 0, s) + 1
        own = R.own_number_line.match(k, line_start)
        if own and own.end() > s:
            continue  # "Số: 664/KH-UBND": a document's own number line
        nm = R.numsym_re.match(k, s)
        if not nm or not any(nm[g] for g in ("sym_a", "sym_b", "sym_c", "sym_d", "sym_e")):
            continue
        num, sym, canon, code, end = _numsym(text, nm, R)
        if not canon:
            continue
        start, generic = s, False
        window = k[max(line_start, s - 80):s]
        dm = R.described_re.search(window)
        doc_type = None
        if dm:
            word = dm["tw"]
            entry = next(e for rx, e in R.described_types if rx.fullmatch(word))
            generic = bool(entry.get("generic"))
            doc_type = (_type_from_code(code, R) or entry["type"]) if generic else entry["type"]
            start = s - len(window) + dm.start()
        else:
            prev = [h for h in (hits[i - 1] if i else None, out[-1] if out else None)
                    if h is not None and h.end <= s]
            if prev:
                p = max(prev, key=lambda h: h.end)
                if R.list_cont.match(k, p.end, s):
                    doc_type, generic = p.doc_type, p.generic
        if doc_type is None:
            doc_type, generic = _type_from_code(code, R) or "cong_van", True
        hit = _Hit(start, end, doc_type, num, sym, canon, has_so=True, generic=generic,
                   caps=text[start:end].isupper())
        _tail(text, k, hit, R)
        out.append(hit)
    return out


def _ref_matches(k: str, R: _Rules):
    """The matches of `R.ref_re.finditer(k)`, found faster.

    A pattern that opens with a look-behind gets no fast scan for its first letters, so the
    scan runs without it and a match preceded by a word character or "/" is dropped, the
    search resuming one character later: the same matches as the full pattern."""
    search = R.ref_scan.search
    pos = 0
    while (m := search(k, pos)) is not None:
        start = m.start()
        if start and (k[start - 1] == "/" or _WORD_CHAR.match(k, start - 1)):
            pos = start + 1
            continue
        yield m
        pos = m.end()


_WORD_CHAR = re.compile(r"\w")


def _first_hit_in(text: str, k: str, start: int, end: int, R: _Rules) -> _Hit | None:
    for m in R.ref_re.finditer(k, start, end):
        hit = _hit_from_match(text, k, m, R)
        if hit is not None and hit.marker is None:
            return hit
    return None


_TYPE_ENTRY: dict[str, dict] = {}  # type word as matched -> its doc_types entry (rules load once)


def _type_entry(word: str, R: _Rules) -> dict:
    """The doc_types entry whose pattern matches the whole type word (the first, longest first)."""
    entry = _TYPE_ENTRY.get(word)
    if entry is None:
        entry = _TYPE_ENTRY[word] = next(e for rx, e in R.type_words if rx.fullmatch(word))
    return entry


def _hit_from_match(text: str, k: str, m: re.Match, R: _Rules) -> _Hit | None:
    group = "tw"
    word = k[m.start(group):m.end(group)]
    entry = _type_entry(word, R)
    caps = text[m.start():m.end(group)].isupper()
    if entry.get("abbrev") and (m["mark"] or not caps):
        return None  # "qd" in lower case, or a code with a footnote marker, is no type word
    if m["mark"]:
        return _Hit(m.start(), m.end(), entry["type"], None, None, None, form="footnote",
                    generic=bool(entry.get("generic")), marker=m["mark"], caps=caps)
    if m["num"] is None:
        return None
    num, sym, canon, code, end = _numsym(text, m, R)
    if entry.get("abbrev") and canon is None:
        return None  # "TT 1", "CT 12": a row number, not a document
    doc_type = entry["type"]
    if entry.get("generic"):
        doc_type = _type_from_code(code, R) or doc_type
    hit = _Hit(m.start(), end, doc_type, num, sym, canon, generic=bool(entry.get("generic")),
               has_so=bool(R.number_word_between.search(k[m.end(group):m.start("num")])), caps=caps,
               label=None if entry.get("generic") else entry.get("label"))
    _tail(text, k, hit, R)
    return hit


def _law_hits(text: str, k: str, R: _Rules, in_body) -> list[_Hit]:
    """Named laws: from the table, by number ("Luật số 84/2015/QH13"), or unlisted with a year."""
    out: list[_Hit] = []
    taken: list[tuple[int, int]] = []

    def capital_at(i: int) -> bool:
        # "Luật" with a capital L, or "Bộ luật": "pháp luật an toàn" names no law.
        return text[i].isupper() or k.startswith(R.code_prefix, max(0, i - len(R.code_prefix)))

    def free(a: int) -> bool:
        return not any(s <= a < e for s, e in taken)

    for hit in _amending_hits(text, k, R, in_body, capital_at):
        out.append(hit)
        taken.append((hit.start, hit.end))

    for m in R.law_re.finditer(k):
        lstart = m.start()
        if lstart and k[lstart - 1].isalnum() or not capital_at(lstart) or in_body(lstart) or not free(lstart):
            continue
        code = len(R.code_prefix)
        start = lstart - code if k.startswith(R.code_prefix, max(0, lstart - code)) else lstart
        law = _law_of(m, R)
        hit = _Hit(start, m.end(), R.law_type, None, None, None, law=law,
                   caps=text[start:m.end()].isupper())
        nm = R.law_number_after.match(k, hit.end)
        if nm:
            hit.number = text[nm.start("lnum"):nm.end("lnum")].upper()
            hit.law_year = nm["y"]
            hit.end = nm.end()
        got = _iso_date(k, hit.end, R)
        if got:
            hit.date, hit.end = got
            hit.law_year = hit.law_year or (hit.date or "")[:4] or None
        else:
            ym = _GAP.match(k, hit.end)
            y = R.year_re.match(k, ym.end())
            if y:
                hit.law_year, hit.end = y["y"], y.end()
        out.append(hit)
        taken.append((m.start(), hit.end))

    for m in R.law_number_re.finditer(k):
        if not free(m.start()) or not capital_at(m.start()) or m.start() and k[m.start() - 1].isalnum():
            continue
        found = R.law_by_number.get(m["lnum"])
        number = text[m.start("lnum"):m.end("lnum")].upper()
        if found:
            law, v = found
            hit = _Hit(m.start(), m.end(), R.law_type, v["number"], None, None, law=law, law_year=v["year"])
        else:
            # "Luật số 118/2025/QH15" that the table does not hold: known by its number.
            hit = _Hit(m.start(), m.end(), R.law_type, number, None, number)
        _tail(text, k, hit, R)  # "Luật số 57/2024/QH15 của Quốc hội ngày 29/11/2024"
        hit.issuer = None
        out.append(hit)
        taken.append((m.start(), hit.end))
    for m in R.unlisted_law_re.finditer(k):
        if not free(m.start()) or in_body(m.start()) or m.start() and k[m.start() - 1].isalnum():
            continue
        name_start = m.start("name")
        if not (capital_at(m.start()) and text[name_start].isupper()):
            continue
        name = text[name_start:m.end("name")].strip(" ,")
        code = len(R.code_prefix)
        bo = k.startswith(R.code_prefix, max(0, m.start() - code))
        kind = "bo_luat" if bo else "luat"
        hit = _Hit(m.start() - code if bo else m.start(), m.end("name"), R.law_type, None, None, None,
                   law=_Law(name, kind, []))
        if m["num"]:
            hit.number = text[m.start("num"):m.end("num")].upper()
            hit.law_year = m["numyear"]
            hit.end = m.end("num")
            got = _iso_date(k, hit.end, R)
            if got:
                hit.date, hit.end = got
        else:
            got = _iso_date(k, hit.end, R)
            if got:
                hit.date, hit.end = got
                hit.law_year = (hit.date or "")[:4] or None
            else:
                y = R.year_re.search(k, hit.end, hit.end + 12)
                if y:
                    hit.law_year, hit.end = y["y"], y.end()
        if hit.law_year:
            out.append(hit)
            taken.append((m.start(), hit.end))
    return out


def _law_of(m: re.Match, R: _Rules) -> _Law:
    """The law whose name `R.law_re` matched: the first, in the pattern's order, whose names
    match the whole name read (the alternative the regex engine took is that first one)."""
    name = m.group("law")
    return next(law for rx, law in R.law_names if rx.fullmatch(name))


def _amending_hits(text: str, k: str, R: _Rules, in_body, capital_at) -> list[_Hit]:
    """"Luật sửa đổi, bổ sung một số điều của Luật …": one law of its own (laws.yaml)."""
    out: list[_Hit] = []
    for m in R.amending_re.finditer(k):
        start = m.start()
        if start and k[start - 1].isalnum() or not capital_at(start) or in_body(start):
            continue
        t0 = m.start("target")
        lm = R.law_re.match(k, t0 + len(R.code_prefix) if k.startswith(R.code_prefix, t0) else t0)
        if lm and text[t0].isupper():
            law = _law_of(lm, R)
            target, t_end = f"{R.law_kinds[law.kind]} {law.name}", lm.end()
        else:
            em = R.amending_end.search(k, m.end("target"), min(len(k), t0 + 160))
            t_end = em.start() if em else min(len(k), t0 + 160)
            target = re.sub(r"\s+", " ", text[t0:t_end]).strip(" ,")
            target = R.counted_laws.sub(lambda x: x.group(0).lower(), target)  # "15 Luật" = "15 luật"
        head = R.amending_head
        hit = _Hit(start, t_end, R.law_type, None, None, None)
        year = None
        nm = R.law_number_after.match(k, t_end)
        if nm:
            hit.number, year, hit.end = text[nm.start("lnum"):nm.end("lnum")].upper(), nm["y"], nm.end()
        got = _iso_date(k, hit.end, R)
        if got:
            hit.date, hit.end = got
            year = year or (hit.date or "")[:4] or None
        elif not year:
            y = R.law_year_after.match(k, hit.end)
            if y:
                year, hit.end = y["y"], y.end()
        ap = R.law_apposition.search(k, max(0, start - 60), start)
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
        version = max(passed or law.versions, key=lambda v: v["date"]) if law.versions else None
        year = version["year"] if version else None
    number = hit.number or (version or {}).get("number")
    return f"{prefix} {law.name} {year}".strip(), number


# ----------------------------------------------------------------------------- relations


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]


def _preamble_roles(doc: Document, k: str, hits: list[_Hit], R: _Rules) -> None:
    """Mark the hits at the head of the title and opening paragraphs (`hit.top`)."""
    text = doc.text
    is_report = doc.metadata.doc_type == "bao_cao"
    title_span = doc.metadata.spans.get("title") if doc.metadata.spans else None
    after_type_line = False
    seen_trigger = False
    prev_title = False
    prev_role: str | None = None
    paras = _paragraphs(text)
    i = 0
    while i < len(paras):
        a, b = paras[i]
        i += 1
        line = k[a:b]
        if R.heading.match(line):
            break
        if R.report_line.match(line):
            is_report = True
        if R.type_line.match(line):
            after_type_line = True
            continue
        is_title = (title_span is not None and title_span.start < b and a < title_span.end) or (
            title_span is None and after_type_line)
        # A bracketed line right under the title ("(Ban hành kèm theo Nghị quyết số 35-NQ/TU …)")
        # belongs to it.
        bracket = prev_title and line.lstrip().startswith("(")
        is_title = is_title or bracket
        prev_title = is_title
        after_type_line = False
        if not is_title and R.trigger.match(line):
            # An opening paragraph hard-wrapped by a PDF copy ("… của Bộ\nNông nghiệp và Môi
            # trường …") goes on over the lines that follow until a sentence ends.
            while i < len(paras) and not re.search(r"[.;:!?]\s*$", k[a:b]) and \
                    not R.heading.match(k[paras[i][0]:paras[i][1]]) and \
                    not R.trigger.match(k[paras[i][0]:paras[i][1]]):
                b = paras[i][1]
                i += 1
            line = k[a:b]
        role = None
        head = a
        tm = R.trigger.match(line) or (R.title_issues.match(line) if is_title else None)
        if is_title and is_report:
            role = "reports_on"
        elif tm:
            role, head = "implements", a + tm.end()
        elif bracket and prev_role:
            # "(Ban hành kèm theo Nghị quyết …)": the document that carries the one in the title
            role, head = prev_role, a + line.index("(") + 1
        prev_role = role if is_title else None
        if role is None:
            if seen_trigger and b - a > 80 and not R.grounds.match(line):
                break  # the opening is over: a body paragraph with no trigger
            continue
        seen_trigger = seen_trigger or role == "implements"
        _mark_heads(k, [h for h in hits if head <= h.start < b], head, b, role, R)


_ITEM_PUNCT = re.compile(r"[();]")


def _mark_heads(k: str, hits: list[_Hit], start: int, end: int, role: str, R: _Rules) -> None:
    """Within one paragraph, mark the first reference of each ";" item and its coordinates."""
    items, depth, s = [], 0, start
    for pm in _ITEM_PUNCT.finditer(k, start, end):  # only these characters change anything
        i, c = pm.start(), pm.group()
        depth += c == "("
        depth -= c == ")" and depth > 0
        if c == ";" and depth == 0:
            items.append((s, i))
            s = i + 1
    items.append((s, end))
    for n, (a, b) in enumerate(items):
        inside = [h for h in hits if a <= h.start < b]
        if not inside:
            continue
        first = inside[0]
        lead = k[a:first.start]
        if n > 0 and not R.item_lead.fullmatch(lead):
            continue
        if _in_parens(k, a, first.start):
            continue
        first.top = first.top or role
        prev = first
        for h in inside[1:]:
            if R.coordination.match(k[prev.end:h.start]):
                h.top = h.top or role
                prev = h
            elif h.start >= prev.end and R.and_before.search(k, prev.end, h.start) and \
                    not _in_parens(k, prev.end, h.start):
                # "Văn bản số 4250/… về việc … và Văn bản số 4643/…": the title of the first
                # ends at "và", and no other reference sits in between.
                h.top = h.top or role
                prev = h
            elif h.start >= prev.end:
                break


def _in_parens(k: str, a: int, pos: int) -> bool:
    seg = k[a:pos]
    return seg.count("(") > seg.count(")")


# ----------------------------------------------------------------------------- merging


@dataclass
class _Ref:
    canonical: str
    hits: list[_Hit] = field(default_factory=list)


def extract_references(doc: Document) -> None:
    """Fill `doc.references` with one Reference per cited document, all mentions attached."""
    R = _rules()
    text = doc.text
    if not text:
        return
    k = doc.search_text()
    hits, footnotes = _find_hits(doc, k, R)
    _sentence_dates(k, hits, R)

    for h in hits:
        pre = k[max(0, h.start - 40):h.start]
        if R.alias.search(pre) and "(" in pre:
            h.form = "alias"
        elif h.form == "full" and not (h.date or h.issuer):
            h.form = "short"

    # Footnote markers ("Kế hoạch¹") take the document of their footnote.
    resolved: list[_Hit] = []
    for h in hits:
        if h.marker is not None:
            body = footnotes.get(h.marker)
            if body is None or body.canonical is None and body.number is None:
                continue
            h.number, h.symbol, h.canonical = body.number, body.symbol, body.canonical
            h.date = body.date
            if h.generic:
                h.doc_type = body.doc_type if not body.generic else (body.doc_type or h.doc_type)
            if body.generic:
                body.doc_type = h.doc_type  # "¹ Số 417-KH/TU" typed by the word before the marker
            h.issuer = _issuer_before(text, k, h.start, R)
            h.title = _title_text(text, h.end + 1) if text[h.end:h.end + 1] == " " else None
        resolved.append(h)
    hits = resolved

    # A document's own number is not a reference.
    own = None
    if doc.metadata.number and doc.metadata.symbol:
        own = _key(f"{doc.metadata.number}/{doc.metadata.symbol}")

    doc_date = doc.metadata.date or max((h.date for h in hits if h.date), default=None)
    for h in hits:
        if h.law is not None:
            h.canonical, number = _law_canonical(h, doc_date)
            h.number = number

    _preamble_roles(doc, k, hits, R)

    refs: dict[str, _Ref] = {}
    pending: list[_Hit] = []
    for h in hits:
        if h.canonical is None:
            pending.append(h)
            continue
        if own and _key(h.canonical) == own:
            continue
        refs.setdefault(h.canonical, _Ref(h.canonical)).hits.append(h)

    # Number-only mentions ("Chỉ thị 11", "Đề án số 08"): join a reference of that number.
    for h in pending:
        target = _match_number(h, refs, hits)
        if target is not None:
            target.hits.append(h)
        elif (h.has_so or h.date) and "." not in h.number:  # "số 1.234" alone is an amount
            label = h.label or R.labels.get(h.doc_type, R.generic_label)
            canon = R.number_only_id.format(label=label, number=h.number)
            refs.setdefault(canon, _Ref(canon)).hits.append(h)

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
        i = bisect.bisect_right(ordered, canon)  # ids that extend it sort right after it
        longer = []
        while i < len(ordered) and ordered[i].startswith(canon):
            if ordered[i][len(canon)] in "-/" and ordered[i] in refs:
                longer.append(ordered[i])
            i += 1
        if len(longer) == 1 and canon in refs:
            refs[longer[0]].hits.extend(refs.pop(canon).hits)

    out = []
    for ref in refs.values():
        ref.hits.sort(key=lambda x: x.start)
        out.append(_to_reference(doc, ref))
    out.sort(key=lambda r: r.span.start)
    doc.references = out


_SENTENCE_END = re.compile(r"\.(?=\s)|[;\n]")


def _date_of(m: re.Match) -> str | None:
    try:
        return _dt.date(int(m["y"]), int(m["m"]), int(m["d"])).isoformat()
    except ValueError:
        return None


def _sentence_dates(k: str, hits: list[_Hit], R: _Rules) -> None:
    """Dates stated away from the reference in its sentence (rules: sentence_date_first,
    sentence_issued_on): they go to the sentence's first reference if it states none."""
    if not hits:
        return
    starts = [h.start for h in hits]

    def first_hit(a: int, b: int) -> _Hit | None:
        i = bisect.bisect_left(starts, a)
        return hits[i] if i < len(hits) and hits[i].start < b else None

    for m in R.date_first.finditer(k):
        if not R.date_first_lead.search(k, max(0, m.start() - 12), m.start()) and m.start() > 0:
            continue  # the date does not open its sentence
        end = _SENTENCE_END.search(k, m.end())
        b = end.start() if end else len(k)
        h = first_hit(m.end(), b)
        if h is not None and h.date is None and h.marker is None and \
                R.date_first_verb.search(k, m.end(), h.start) and \
                not any(rx.search(k, m.end(), h.start) for rx in R.dates):
            h.date = _date_of(m)
    for n, h2 in enumerate(hits):
        if not h2.date or not n:
            continue
        m = R.issued_with.search(k, max(0, h2.start - 40), h2.start)
        if m:
            h1 = hits[n - 1]
            if h1.end <= m.start() and h1.date is None and h1.marker is None and \
                    not _SENTENCE_END.search(k, h1.end, m.start()) and m.start() - h1.end < 400:
                h1.date = h2.date
    for m in R.issued_on.finditer(k):
        if not R.issued_lead.search(k, max(0, m.start() - 12), m.start()):
            continue
        a = max((x.end() for x in _SENTENCE_END.finditer(k, max(0, m.start() - 400), m.start())),
                default=max(0, m.start() - 400))
        h = first_hit(a, m.start())
        if h is not None and h.date is None and h.marker is None:
            h.date = _date_of(m)


_LAW_NUMBER = re.compile(r"\d{1,3}/(?:19|20)\d\d/QH\d{1,2}")


def _key(canonical: str) -> str:
    return re.sub(r"[^0-9A-Z/]", "", search_key(canonical).upper())


def _match_number(h: _Hit, refs: dict[str, _Ref], hits: list[_Hit]) -> _Ref | None:
    same = [r for r in refs.values() if any(x.number == h.number for x in r.hits)]
    typed = [r for r in same if any(x.doc_type == h.doc_type for x in r.hits)]
    for group in (typed, same):
        if len(group) == 1:
            return group[0]
    if h.form == "alias" and not same:
        # "(viết tắt là Chỉ thị 11)" with no numbered match: the reference just before it.
        before = [r for r in refs.values() if any(x.end <= h.start and h.start - x.end < 600 for x in r.hits)]
        if before:
            return max(before, key=lambda r: max(x.end for x in r.hits if x.end <= h.start))
    return None


_WORD_START = re.compile(r"(?<![\w])([^\W\d_])")


def _issuer_before(text: str, k: str, pos: int, R: _Rules) -> str | None:
    """"UBND tỉnh ban hành Kế hoạch²": the issuer that the sentence says issued it."""
    start = max(k.rfind(". ", 0, pos), k.rfind("\n", 0, pos)) + 1
    best = None
    # k[start - 1] is "." or a line break (or start is 0): the look-behind sees the same
    # as on the slice k[start:pos].
    for m in _WORD_START.finditer(k, start, pos):
        got = _issuer_at(text, k, m.start(), R)
        if got and R.issued_verb.match(k, got[1]):
            best = got[0]
    return best


def _to_reference(doc: Document, ref: _Ref) -> Reference:
    hits = ref.hits
    full = [h for h in hits if h.form == "full"] or [h for h in hits if h.form != "footnote" or h.marker is None] or hits
    first = full[0]

    def pick(attr: str):
        # Prefer mixed-case text for issuer and title; keep the first mention's otherwise.
        # Inferred footnote issuers ("UBND tỉnh ban hành Kế hoạch²") come last.
        ordered = sorted(hits, key=lambda h: (h.marker is not None, h.caps))
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
    R = _rules()
    k = search_key(text)
    doc = Document(id="", source=None, text=text)  # type: ignore[arg-type]
    hits, _ = _find_hits(doc, k, R)
    hits = [h for h in hits if h.marker is None]
    for h in hits:
        if h.law is not None:
            h.canonical, h.number = _law_canonical(h, None)
    hits = [h for h in hits if h.canonical]
    if hits:
        first = hits[0]
        tm = None
        for tm in R.title_trigger.finditer(k, 0, first.start):
            pass
        if tm is not None and re.fullmatch(r"[\s\w/]*", k[tm.end():first.start]) and \
                len(k[tm.end():first.start].split()) <= 6:
            _mark_heads(k, hits, first.start, len(k), "implements", R)
    out, seen = [], set()
    for h in hits:
        if h.canonical in seen:
            continue
        seen.add(h.canonical)
        out.append({"canonical_id": h.canonical, "doc_type": h.doc_type, "implements": h.top == "implements"})
    return out


def canonical_key(canonical: str | None) -> str:
    """Comparison key of a canonical id: case, accents and separators ignored."""
    return _key(canonical) if canonical else ""


def canonical_symbol(number: str | None, symbol: str | None) -> str | None:
    """The canonical id of a document from its own number and symbol (header fields)."""
    if not number or not symbol:
        return None
    R = _rules()
    got = _canonical_symbol(symbol, R)
    if not got:
        return None
    sym = got[0]
    sep = "-" if "/" in sym and not re.match(r"(?:19|20)\d\d/", sym) else "/"
    return f"{number.strip()}{sep}{sym}"
