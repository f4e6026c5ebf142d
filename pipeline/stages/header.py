"""Stage 3, header: metadata from the header and the footer of the document.

Requires: doc.text (normalize), doc.extra_layers (ingest). Adds: doc.metadata.

The header of a Vietnamese administrative document (Nghị định 30/2020/NĐ-CP) has two
columns: on the left the issuer block ("ỦY BAN NHÂN DÂN / TỈNH CAO BẰNG"), the number
("Số: 664/KH-UBND") and, for a công văn, the subject ("V/v ..."); on the right the national
motto and "<Place>, ngày .. tháng .. năm ..". Below them come the doc-type line ("KẾ HOẠCH")
and the title (trích yếu), then "Kính gửi". The footer holds "Nơi nhận" and the signature
block ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / <name>").

Text extraction lays the two columns out in three ways, all handled the same way here:
side by side on one line (PDF text layers), one column after the other (DOCX tables), or
alternating lines. Each header line is cut into *cells* where a right-column phrase starts
(the motto, "<Place>, ngày"), and every cell is then classified on its own.

Patterns, word lists and gazetteers are data in rules/header.yaml, rules/doc_types.yaml,
rules/departments.yaml and rules/provinces.yaml. Matching runs over `match_key(text)` (same length as the text), so
every offset is valid in `doc.text` and values are copied verbatim from it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .. import rules
from ..model import Document
from ..textkeys import fold, match_key, search_key

STAGE = "header"
_STARS = "*_ \t"  # markdown emphasis left around header lines by some exports


# ----------------------------------------------------------------------------- rules

def _key_pattern(pattern: str) -> str:
    """Fold the Vietnamese words of a rules pattern the way `match_key` folds the text.

    Only words with non-ASCII letters are folded, so regex syntax such as `(?P<name>` is kept.
    """
    return re.sub(
        r"[^\W\d_]+",
        lambda word: word.group(0) if word.group(0).isascii() else match_key(word.group(0)),
        pattern,
    )


@lru_cache(maxsize=None)
def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(_key_pattern(rules.load("header")[name]["pattern"]))


@lru_cache(maxsize=None)
def _first_letters(name: str) -> frozenset[str]:
    """The letters a line opens with for the rule `name` to be tried (a cheap test before it)."""
    return frozenset(rules.load("header")[name]["first_letters"])


@lru_cache(maxsize=None)
def _doc_type_tables() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """(doc-type name key -> type, exact code -> type, folded code -> type)."""
    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    folded_codes: dict[str, str] = {}
    for doc_type, entry in rules.load("doc_types")["doc_types"].items():
        for name in entry.get("names", []):
            names[" ".join(match_key(name).split())] = doc_type
        for code in entry.get("codes", []):
            codes[code] = doc_type
            folded_codes.setdefault(fold(code), doc_type)
    return names, codes, folded_codes


@lru_cache(maxsize=None)
def _doc_type_folded_names() -> dict[str, str]:
    """Doc-type names without diacritics ("quyet dinh"), for headers whose tone marks OCR misread."""
    return {search_key(name): doc_type for name, doc_type in _doc_type_tables()[0].items()}


@dataclass(frozen=True)
class Province:
    name: str  # as the documents write it: "Lào Cai"
    kind: str  # tinh | thanh_pho


@lru_cache(maxsize=None)
def _provinces() -> dict[str, Province]:
    """Folded name or alias -> province. A unit's own name wins over another unit's alias."""
    data = rules.load("provinces")
    table: dict[str, Province] = {}
    entries = data["current"] + data["former"]
    for entry in entries:
        province = Province(entry["name"], entry["kind"])
        table.setdefault(fold(entry["name"]), province)
        table.setdefault(fold(entry["ascii"]), province)
    for entry in entries:
        province = Province(entry["name"], entry["kind"])
        for alias in entry.get("aliases", []):
            table.setdefault(fold(alias), province)
    return table


def find_province(words: str) -> tuple[Province, int] | None:
    """The province named at the start of `words`, and how many characters it takes."""
    table = _provinces()
    tokens = list(re.finditer(r"[^\W_]+", words))
    for count in range(min(len(tokens), 5), 0, -1):
        key = fold(words[: tokens[count - 1].end()])
        if key in table:
            return table[key], tokens[count - 1].end()
    return None


@lru_cache(maxsize=None)
def _departments() -> dict[str, str]:
    """Folded "Sở <name>" -> its canonical spelling (rules/departments.yaml)."""
    return {fold(_department(name)): _department(name) for name in rules.load("departments")["names"]}


def _department(name: str) -> str:
    """"Công Thương" -> "Sở Công Thương"."""
    return f"{rules.load('departments')['department']} {name}"


def _unit_name(province: Province) -> str:
    """The word that names a province's kind of unit ("tỉnh", "thành phố"; rules/provinces.yaml)."""
    return rules.load("provinces")["kinds"][province.kind]


# ----------------------------------------------------------------------------- lines

class Cell:
    """A piece of a line: the whole line, or one column of a two-column header line."""

    __slots__ = ("start", "end", "text", "_key")

    def __init__(self, start: int, end: int, text: str):
        self.start, self.end, self.text = start, end, text
        self._key: str | None = None

    @property
    def key(self) -> str:
        """match_key of the text, computed on first use (most body lines never need it)."""
        if self._key is None:
            self._key = match_key(self.text)
        return self._key


def _lines(text: str) -> list[Cell]:
    out = []
    pos = 0
    for raw in text.split("\n"):
        out.append(_trimmed(text, pos, pos + len(raw)))
        pos += len(raw) + 1
    return out


def _trimmed(text: str, start: int, end: int) -> Cell:
    """The cell [start, end) without surrounding spaces and markdown emphasis marks."""
    piece = text[start:end]
    stripped = piece.lstrip(_STARS)
    start += len(piece) - len(stripped)
    piece = stripped.rstrip(_STARS)
    return Cell(start, start + len(piece), piece)


def _is_upper(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _place_start(text: str, comma: int, floor: int) -> int:
    """Start of the place name that ends at `comma`: up to 5 capitalised words before it."""
    pos = comma
    words = 0
    for token in reversed(list(re.finditer(r"\S+", text[floor:comma]))):
        word = token.group(0)
        if not word[0].isupper() or re.search(r"[\d/:]", word) or words == 5:
            break
        pos = floor + token.start()
        words += 1
    return pos


def _split_columns(text: str, line: Cell) -> list[Cell]:
    """Cut a header line where a right-column phrase or a "Số:" starts."""
    cuts = set()
    for hit in _pattern("right_column").finditer(line.key):
        cuts.add(hit.start())
        cuts.add(hit.end())
    for hit in _pattern("number").finditer(line.key):
        cuts.add(hit.start())
        cuts.add(hit.end())
    for hit in _pattern("date").finditer(line.key):
        floor = max([c for c in cuts if c <= hit.start()], default=0)
        cuts.add(_place_start(line.text, hit.start(), floor))
        cuts.add(hit.end())
    bounds = sorted({0, len(line.text), *cuts})
    cells = []
    for start, end in zip(bounds, bounds[1:]):
        cell = _trimmed(text, line.start + start, line.start + end)
        if cell.text and re.search(r"\w", cell.text):  # drop "-----" rules under the columns
            cells.append(cell)
    return cells


# ----------------------------------------------------------------------------- fields

_OCR_FIGURES = str.maketrans({"I": "1", "l": "1", "i": "1", "|": "1", "O": "0", "o": "0"})


def _ocr_figures(number: str) -> str:
    """"II" -> "11", "1O5" -> "105": letters OCR put for figures; "05/2025" unchanged."""
    return re.sub(r"\s+", "", number.translate(_OCR_FIGURES))


def _doc_type_line(line: Cell) -> tuple[str, int] | None:
    """(doc type, length of the type word) when the line is (or starts with) a doc-type name."""
    if not line.text or not line.text[0].isupper():
        return None
    names, folded_names = _doc_type_tables()[0], _doc_type_folded_names()
    words = line.key.split()
    folded = search_key(line.key).split()  # "QUYÉT ĐỊNH": a tone mark misread by OCR
    for count in (3, 2, 1):
        if len(words) < count:
            continue
        head = " ".join(words[:count])
        doc_type = names.get(head) or folded_names.get(" ".join(folded[:count]))
        if doc_type:
            hit = re.match(r"\S+" + r"\s+\S+" * (count - 1), line.text)
            head_text = hit.group(0) if hit else ""
            if not _is_upper(head_text):
                return None
            rest = line.text[len(head_text):].strip(" :")
            # "KẾ HOẠCH" alone, or the type word followed by an upper-case title on the same line
            if not rest or _is_upper(rest) or rest[0].isupper():
                return doc_type, len(head_text)
    return None


def doc_type_from_symbol(symbol: str) -> str:
    """Type from the code that opens the symbol: KH-UBND -> ke_hoach; UBND-VX -> cong_van."""
    _, codes, folded = _doc_type_tables()
    # the first part that is not a figure ("2025/QĐ-UBND" -> QĐ)
    first = next((part for part in re.split(r"[-/]", symbol) if not part.isdigit()), "")
    if first in codes:
        return codes[first]
    # a code with the term of the body that issued it: "84/2025/QH15" (Quốc hội khóa XV)
    return folded.get(fold(first), folded.get(fold(re.sub(r"\d+$", "", first)), "cong_van"))


def _iso_date(day: str | None, month: str | None, year: str | None) -> str | None:
    if not year:
        return None
    if not month or not 1 <= int(month) <= 12:
        return year
    if not day or not 1 <= int(day) <= 31:
        return f"{year}-{int(month):02d}"
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _read_date(cell: Cell) -> tuple[str | None, str | None, str | None, str | None, int] | None:
    """(place, day, month, year, end offset in cell) of a "<Place>, ngày ..." cell."""
    hit = _pattern("date").search(cell.key)
    if not hit:
        return None
    place = cell.text[: hit.start()].strip() or None
    month = hit.group("month") or hit.group("month2")
    year = hit.group("year") or hit.group("year2")
    return place, hit.group("day"), month, year, hit.end()


def _issuer_from_block(block: str) -> tuple[str | None, Province | None]:
    """Canonical issuer and province from the joined issuer block lines."""
    conf = rules.load("header")
    key = match_key(block)
    province = None
    unit_name = None
    body = None
    hit = _pattern("issuer_block").search(key)
    if hit:
        body = conf["body_abbreviations"].get(" ".join(hit.group("body").split()))
        unit_name = conf["unit_names"].get(" ".join(hit.group("unit").rstrip(".").split()))
        found = find_province(block[hit.start("rest"):])
        if found:
            province = found[0]
    else:  # "TỈNH LÀO CAI" without the body words
        m2 = _pattern("unit").search(key)
        if m2:
            found = find_province(block[m2.end():])
            if found:
                province = found[0]
                unit_name = conf["unit_names"].get(" ".join(m2.group("unit").split()))
    if province and not unit_name:
        unit_name = _unit_name(province)
    where = f" {unit_name} {province.name}" if province else ""
    dept = _pattern("department").search(key)
    if dept:
        raw = block[dept.start("name"):].strip()
        name = _departments().get(fold(_department(raw)))
        if name is None:
            known = _known_department(raw)
            if known is not None:
                # a known name with more words after it: the province ("SỞ CÔNG THƯƠNG LÀO
                # CAI") or the unit of the department that signs ("… / ĐOÀN KIỂM TRA")
                name, tail = known
                if province is None:
                    unit = _pattern("unit").match(match_key(tail))
                    found = find_province(tail[unit.end():] if unit else tail)
                    if found:
                        province = found[0]
                        where = f" {_unit_name(province)} {province.name}"
            else:
                name = _department(raw[:1].upper() + raw[1:].lower())
        return name + where, province
    if _pattern("office").search(key):
        # the office of the committee: "UBND TỈNH LÀO CAI / VĂN PHÒNG"
        office = conf["office"]
        return office["issuer"].format(body=body or office["default_body"]) + where, province
    if body and province:
        return body + where, province
    commune = _pattern("commune_block").search(key)
    if commune:
        name = " ".join(w[:1].upper() + w[1:].lower() for w in block[commune.start("name"):commune.end("name")].split())
        abbreviation = conf["body_abbreviations"].get(" ".join(commune.group("body").split()))
        return f"{abbreviation} {' '.join(commune.group('unit').split())} {name}", province
    return (block if block else None), province


def _known_department(raw: str) -> tuple[str, str] | None:
    """(canonical name, the words after it) when `raw` opens with a known department's name."""
    words = raw.split()
    for count in range(len(words) - 1, 0, -1):  # the longest known name first
        name = _departments().get(fold(_department(" ".join(words[:count]))))
        if name is not None:
            return name, " ".join(words[count:])
    return None


def _person_name(text: str) -> bool:
    """2 to 6 capitalised words, no digits: "Vũ Đình Quang", "H’Yim Kđoh"."""
    words = text.split()
    if not 2 <= len(words) <= 6 or re.search(r"[\d/:;,()]", text):
        return False
    if _is_upper(text) and len(words) > 4:
        return False
    return all(w[0].isupper() for w in words)


@lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    return frozenset(fold(s) for s in rules.load("header")["surnames"])


def _name_tail(text: str) -> int | None:
    """Offset of a signer's name that shares a line with a "Nơi nhận" item (a flattened
    two-column footer: "- Lãnh đạo VPUBND tỉnh; Nguyễn Thế Phước"), if any.

    Only after a ";" and only a name that opens with a known family name: an agency such as
    "Sở Công Thương" is capitalised too.
    """
    cut = text.rfind(";")
    if cut < 0:
        return None
    start = cut + 1
    while start < len(text) and text[start] == " ":
        start += 1
    tail = text[start:].rstrip(" .")
    if tail and _person_name(tail) and fold(tail.split()[0]) in _surnames():
        return start
    return None


def _title_word(word: str) -> bool:
    """A word of a signature title: in capitals, or an abbreviation that opens one ("KT.")."""
    return _is_upper(word) or (word.endswith(".") and len(word) <= 4 and
                               bool(_pattern("signer_prefix").match(match_key(word) + " ")))


def _title_tail(line: Cell) -> int | None:
    """Offset in the line where a signature title starts ("KT. CHỦ TỊCH", "GIÁM ĐỐC"), if any.

    The title may share the line with the left column: "Nơi nhận: GIÁM ĐỐC", "- Như trên; KT. CHỦ TỊCH".
    """
    last = line.text.rsplit(None, 1)[-1:]
    if not last or not _title_word(last[0]):
        return None  # most lines: the last word is no title word
    tokens = list(re.finditer(r"\S+", line.text))
    start = None
    for token in reversed(tokens):
        if _title_word(token.group(0)):
            start = token.start()
        else:
            break
    if start is None:
        return None
    tail_key = line.key[start:]
    if len(tail_key.split()) > 10:
        return None
    if _pattern("signer_prefix").match(tail_key) or _pattern("signer_positions").search(tail_key):
        head = line.text[:start].rstrip()
        # Alone, or after the left column's "Nơi nhận:" or a list item ending in ; : .
        if not head or head.endswith((":", ";", ".", ",")):
            return start
    return None


def _continues_subject(last: Cell, cell: Cell) -> bool:
    """Does `cell` go on with the công văn subject that `last` ended?

    A wrapped subject line starts in lower case, with a figure (the number of the cited
    document), or, when the line before stopped in the middle of a phrase, with any word; an
    upper-case line is the issuer block, never the subject.
    """
    if _is_upper(cell.text) or _pattern("body_start").match(cell.key) or _pattern("recipients").match(cell.key):
        return False
    first = cell.text[:1]
    if first.islower() or first.isdigit():
        return True
    return bool(_pattern("open_ending").search(last.key))


# ----------------------------------------------------------------------------- stage

def extract_header(doc: Document) -> None:
    """Fill `doc.metadata` from the header and the footer of `doc.text`."""
    meta = doc.metadata
    text = doc.text
    lines = _lines(text)
    limits = rules.load("header")["limits"]

    # 1. The header zone: lines above the doc-type line, "Kính gửi" or the body.
    zone_end = min(len(lines), limits["header_lines"])
    type_line: int | None = None
    for idx in range(zone_end):
        line = lines[idx]
        if not line.text:
            continue
        found = _doc_type_line(line)
        if found:
            type_line = idx
            zone_end = idx
            break
        if (
            _pattern("recipients").match(line.key)
            or _pattern("body_start").match(line.key)
            or (len(line.text) > 200 and not _pattern("subject").match(line.key))
        ):
            zone_end = idx
            break
    cells = [c for line in lines[:zone_end] if line.text for c in _split_columns(text, line)]

    block: list[Cell] = []
    subject_cells: list[Cell] = []
    day = month = year = None
    for cell in cells:
        if _pattern("right_column").fullmatch(cell.key):
            continue
        num = _pattern("number").match(cell.key)
        if num and meta.symbol is None:
            meta.symbol = re.sub(r"\s+", "", cell.text[num.start("symbol"):num.end("symbol")])
            if num.group("number"):
                meta.number = _ocr_figures(cell.text[num.start("number"):num.end("number")])
                meta.spans["number"] = doc.span(cell.start + num.start("number"), cell.start + num.end("number"))
            meta.spans["symbol"] = doc.span(cell.start + num.start("symbol"), cell.start + num.end("symbol"))
            continue
        date = _read_date(cell)
        if date and meta.date is None:
            place, day, month, year, end = date
            meta.place = place
            if place:
                meta.spans["place"] = doc.span(cell.start, cell.start + len(place))
            meta.date = _iso_date(day, month, year)
            meta.spans["date"] = doc.span(cell.start, cell.start + end)
            continue
        if _pattern("subject").match(cell.key) and not subject_cells:
            subject_cells.append(cell)
            continue
        if subject_cells and len(subject_cells) <= limits["title_extra_lines"] and _continues_subject(subject_cells[-1], cell):
            # the subject wraps onto the next lines ("V/v triển khai thực hiện Nghị định số" /
            # "178/2026/NĐ-CP ngày 20/5/2026 của Chính phủ"), also after a right-column cell
            subject_cells.append(cell)
            continue
        if _is_upper(cell.text):
            block.append(cell)

    # 2. Document type and title.
    if type_line is not None:
        line = lines[type_line]
        doc_type, head_len = _doc_type_line(line)  # type: ignore[misc]
        meta.doc_type = doc_type
        meta.spans["doc_type"] = doc.span(line.start, line.start + head_len)
        title_cells = _title_lines(text, lines, type_line, head_len, limits["title_extra_lines"])
        if title_cells:
            meta.title = " ".join(c.text for c in title_cells)
            meta.spans["title"] = doc.span(title_cells[0].start, title_cells[-1].end)
    elif meta.symbol:
        meta.doc_type = doc_type_from_symbol(meta.symbol)
        meta.spans["doc_type"] = meta.spans["symbol"]
    elif subject_cells:
        meta.doc_type = "cong_van"
    if subject_cells and meta.title is None:
        meta.title = " ".join(c.text for c in subject_cells)
        meta.spans["title"] = doc.span(subject_cells[0].start, subject_cells[-1].end)
        if meta.doc_type is None:
            meta.doc_type = "cong_van"
    if meta.doc_type is None:
        meta.doc_type = "other"

    # 3. Issuer and province: the issuer block, else the opening paragraph.
    province = None
    if block:
        joined = " ".join(c.text for c in block)
        meta.issuer, province = _issuer_from_block(joined)
        meta.spans["issuer"] = doc.span(block[0].start, block[-1].end)
    body_from = (type_line + 1) if type_line is not None else zone_end
    if meta.issuer is None or province is None:
        found = _issuer_from_body(doc, lines, body_from)
        if found:
            issuer, body_province, span = found
            if meta.issuer is None:
                meta.issuer = issuer
                meta.spans["issuer"] = span
            province = province or body_province
    if province is None and meta.place:
        hit = find_province(meta.place)
        if hit and hit[1] == len(meta.place):
            province = hit[0]
    if province:
        meta.province = province.name
        where = _province_span(block, province) if block else None
        if where:
            meta.spans["province"] = doc.span(*where)
        elif "issuer" in meta.spans:
            meta.spans["province"] = meta.spans["issuer"]

    # 4. Kính gửi (the recipients), below the title.
    _read_recipients(doc, lines, body_from)

    # 5. Nơi nhận and the signature.
    _read_footer(doc, lines, body_from)

    # 6. Number and day stamped on a signed PDF outside the page text.
    if doc.extra_layers:
        _read_extra_layers(doc, day, month, year)


def _province_span(block: list[Cell], province: Province) -> tuple[int, int] | None:
    """Where the issuer block names the province ("TỈNH CAO BẰNG" -> "CAO BẰNG")."""
    for cell in block:
        for hit in _pattern("unit_in_block").finditer(cell.key):
            found = find_province(cell.text[hit.end():])
            if found and found[0] == province:
                return cell.start + hit.end(), cell.start + hit.end() + found[1]
    return None


def _title_lines(text: str, lines: list[Cell], type_line: int, head_len: int, extra: int) -> list[Cell]:
    """The trích yếu: the rest of the doc-type line, or the line(s) after it."""
    line = lines[type_line]
    rest = _trimmed(text, line.start + head_len, line.end)
    if rest.text.strip(" :"):
        return [rest]
    out: list[Cell] = []
    for nxt in lines[type_line + 1: type_line + 2 + extra]:
        if not nxt.text or re.fullmatch(r"[-–—_=*.\s]+", nxt.text):
            if out:
                break
            continue  # a rule drawn under the doc-type line
        if not out:
            if _pattern("recipients").match(nxt.key) or _pattern("body_start").match(nxt.key):
                break
            out.append(nxt)
            continue
        # An upper-case title may run over several lines; stop at the issuing authority line.
        if _is_upper(out[0].text) and _is_upper(nxt.text) and not _pattern("signer_positions").search(nxt.key) \
                and not _pattern("issuer_block").match(nxt.key):
            out.append(nxt)
            continue
        if _pattern("recipients").match(nxt.key) or _pattern("body_start").match(nxt.key):
            break
        # A sentence-case title wraps: the next line starts in lower case, or the line before
        # stopped in the middle of a phrase ("… Phó Bí thư Tỉnh ủy, Chủ tịch" / "Ủy ban nhân
        # dân tỉnh tại cuộc họp …"); a bracketed note under it belongs to it ("(Ban hành kèm
        # theo Nghị quyết số 35-NQ/TU …)").
        if nxt.text[:1].islower() or _pattern("open_ending").search(out[-1].key) \
                or _pattern("title_note").match(nxt.key):
            out.append(nxt)
            continue
        break
    return out


def _issuer_from_body(doc: Document, lines: list[Cell], start: int):
    """"Ủy ban nhân dân (UBND) tỉnh Cao Bằng xây dựng Kế hoạch" in the opening paragraphs."""
    conf = rules.load("header")
    seen = 0
    for line in lines[start:]:
        if not line.text:
            continue
        seen += 1
        if seen > 4:
            break
        for hit in _pattern("body_issuer").finditer(line.key):
            found = find_province(line.text[hit.start("rest"):hit.end("rest")])
            if not found:
                continue
            province, _ = found
            body = conf["body_abbreviations"][" ".join(hit.group("body").split())]
            unit = conf["unit_names"][" ".join(hit.group("unit").split())]
            end = line.start + hit.start("rest") + found[1]
            return f"{body} {unit} {province.name}", province, doc.span(line.start + hit.start(), end)
    return None


def _list_items(doc: Document, lines: list[Cell], first: int, inline: Cell | None) -> tuple[list[str], int | None, int | None]:
    """Items of a "- ..." list starting at lines[first]; `inline` is text after the label."""
    items: list[str] = []
    start = end = None
    if inline is not None and inline.text:
        for piece in re.split(r";\s*", inline.text):
            piece = _pattern("list_item").sub("", piece.strip()).strip(" .;")
            if piece:
                items.append(piece)
        start, end = inline.start, inline.end
    for line in lines[first:]:
        if not line.text:
            continue
        hit = _pattern("list_item").match(line.text)
        if not hit:
            break
        body_end = len(line.text)
        tail = _title_tail(line)
        if tail is not None:
            body_end = tail
        name = _name_tail(line.text[:body_end])
        if name is not None:
            body_end = name
        item = line.text[hit.end():body_end].strip().rstrip(";.,").strip()
        if item:
            items.append(item)
        start = line.start if start is None else start
        end = line.start + body_end
    return items, start, end


def _read_recipients(doc: Document, lines: list[Cell], start: int) -> None:
    for idx in range(start, min(len(lines), start + 8)):
        line = lines[idx]
        hit = _pattern("recipients").match(line.key) if line.text[:1] in _first_letters("recipients") else None
        if not hit:
            continue
        inline = _trimmed(doc.text, line.start + hit.end(), line.end)
        items, span_start, span_end = _list_items(doc, lines, idx + 1, inline)
        doc.metadata.recipients = items
        if items and span_start is not None and span_end is not None:
            doc.metadata.spans["recipients"] = doc.span(span_start, span_end)
        return


def _read_footer(doc: Document, lines: list[Cell], body_from: int) -> None:
    meta = doc.metadata
    limits = rules.load("header")["limits"]
    # The signature follows the line that closes the body ("./.") or the "Nơi nhận" label.
    anchor = None
    for idx in range(body_from, len(lines)):
        line = lines[idx]
        # Cheap filter first: only these lines can close the body or open "Nơi nhận".
        if "./." not in line.text and line.text[:1] not in _first_letters("distribution"):
            continue
        if _pattern("closing").search(line.key) or _pattern("distribution").match(line.key):
            anchor = idx
            break
    if anchor is None:
        anchor = max(body_from, len(lines) - limits["signer_window"])
    window = range(anchor, min(len(lines), anchor + limits["signer_window"]))

    for idx in window:
        hit = (_pattern("distribution").match(lines[idx].key)
               if lines[idx].text[:1] in _first_letters("distribution") else None)
        if hit:
            rest = _trimmed(doc.text, lines[idx].start + hit.end(), lines[idx].end)
            tail = _title_tail(lines[idx])
            inline = None if tail is not None and tail <= hit.end() + 1 else rest
            items, span_start, span_end = _list_items(doc, lines, idx + 1, inline)
            meta.distribution = items
            if items and span_start is not None and span_end is not None:
                meta.spans["distribution"] = doc.span(span_start, span_end)
            break

    # The title block: consecutive title lines (list items and labels may sit beside them).
    titles: list[Cell] = []
    last = None
    for idx in window:
        line = lines[idx]
        if not line.text:
            continue
        tail = _title_tail(line)
        if tail is not None:
            if titles and last is not None and idx - last > 2:
                titles = []
            titles.append(_trimmed(doc.text, line.start + tail, line.end))
            last = idx
        elif titles and not _pattern("list_item").match(line.text):
            break
    if not titles or last is None:
        return
    meta.signer_title = titles[-1].text
    meta.spans["signer_title"] = doc.span(titles[-1].start, titles[-1].end)
    for line in lines[last + 1: last + 1 + limits["name_window"]]:
        if line.text and _pattern("list_item").match(line.text):
            name = _name_tail(line.text)
            if name is not None:
                meta.signer_name = line.text[name:].rstrip(" .")
                meta.spans["signer_name"] = doc.span(line.start + name, line.start + name + len(meta.signer_name))
                break
            continue
        if not line.text or _pattern("signer_noise").match(line.key):
            continue
        if _person_name(line.text):
            meta.signer_name = line.text
            meta.spans["signer_name"] = doc.span(line.start, line.end)
            break


def _read_extra_layers(doc: Document, day: str | None, month: str | None, year: str | None) -> None:
    """Number and day that a signed PDF stamps over the blanks of the page text.

    Ingest hands them over as the header lines they complete ("Số: 3686/UBND-XD",
    "Lào Cai, ngày 11 tháng 5 năm 2026"), or as bare figures ("3686 11") when it could not
    place them. Only blanks are filled, and only when the stamp agrees with the page text.
    """
    meta = doc.metadata
    stamp_day = None
    bare: list[str] = []
    for layer in doc.extra_layers:
        key = match_key(layer)
        num = _pattern("number").search(key)
        if num and num.group("number") and meta.number is None and meta.symbol is not None:
            symbol = re.sub(r"\s+", "", layer[num.start("symbol"):num.end("symbol")])
            if fold(symbol) == fold(meta.symbol):
                meta.number = layer[num.start("number"):num.end("number")]
                doc.warn(STAGE, f"number {meta.number} read from the signature stamp, not the page text")
        date = _pattern("date").search(key)
        if date and date.group("day"):
            stamped_month = date.group("month") or date.group("month2")
            stamped_year = date.group("year") or date.group("year2")
            if (month is None or stamped_month is None or int(month) == int(stamped_month)) and (
                year is None or stamped_year == year
            ):
                stamp_day, month, year = date.group("day"), month or stamped_month, year or stamped_year
        if re.fullmatch(r"[\d\s]+", layer):  # figures the ingest could not place
            bare += layer.split()
    if meta.number is None and meta.symbol is not None and bare:
        meta.number = bare.pop(0)
        doc.warn(STAGE, f"number {meta.number} read from the signature stamp, not the page text")
    if stamp_day is None and bare and 1 <= int(bare[0]) <= 31:
        stamp_day = bare[0]
    if day is None and stamp_day and month and year:
        meta.date = _iso_date(stamp_day, month, year)
        doc.warn(STAGE, f"day of {meta.date} read from the signature stamp, not the page text")


__all__ = ["extract_header", "doc_type_from_symbol", "find_province"]
