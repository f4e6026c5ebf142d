"""A synthetic corpus for `vanban bench`: the real corpus recombined and perturbed.

Document i of seed s is always the same text (its random generator is seeded with "s:i"),
so the first 100 documents of a 10,000-document corpus are the 100-document corpus.

Each document starts from one real document (corpus/*.txt, as paragraphs after the
normalize stage) and goes through:

- **length**: top-level sections (I., II. ... or 1., 2. ... when the document has no roman
  headings) are dropped, repeated, or borrowed from another document, then renumbered;
- **names**: provinces (rules/provinces.yaml) and departments (AGENCIES) are swapped for
  others, consistently within the document, in their written and upper-case forms;
- **numbering style**: sometimes `a)` becomes `a.` and second-level `1.` becomes `1)`;
- **hard wraps**: sometimes every paragraph is wrapped at a random width (55-95), with or
  without blank lines between lines, as PDF copies are;
- **OCR-like slips**: now and then a word loses one diacritic, or ư/ơ lose their horn;
- **numbers and dates**: the numbers of provincial documents (`…/KH-UBND`, `…/UBND-VX`,
  `…-KH/TU`) and every date are replaced, consistently within the document, so that the
  copies of one real document do not all carry its number and date (a real corpus has one
  document per number, and a few per day); the central directives keep their numbers
  (209/NQ-CP, 31-CT/TW), so they are cited across the corpus.

`write_corpus(folder, count, seed, fmt)` writes TXT, DOCX (python-docx) or PDF (reportlab with
the DejaVu Sans font). Its words and patterns are benchmark data in rules/bench.yaml (`synth`),
not extraction rules.
"""
from __future__ import annotations

import random
import re
import textwrap
import unicodedata
from functools import lru_cache
from pathlib import Path

from ..rules import load

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"

_RULES = load("bench")["synth"]
# Departments named in provincial documents, before and after the 2025 restructuring ("Sở Y tế").
AGENCIES = [f"{load('departments')['department']} {name}" for name in _RULES["departments"]]

ROMAN_HEADING = re.compile(r"^\s*([IVXLC]{1,6})\.\s")
ARABIC_HEADING = re.compile(r"^\s*(\d{1,2})\.\s")
LETTER_ITEM = re.compile(r"^(\s*[a-zđ])\)\s")
TAIL_START = re.compile(_RULES["tail_start"]["pattern"])
# OCR-like slips: a horn lost, a circumflex+tone collapsed; otherwise one mark dropped.
SLIPS: dict[str, str] = _RULES["slips"]
VIET_WORD = re.compile(r"\w*[^\W\d_a-zA-Z]\w*")


def _roman(number: int) -> str:
    out = ""
    for value, letters in ((40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while number >= value:
            out, number = out + letters, number - value
    return out


@lru_cache(maxsize=None)
def _split_cached(paragraphs: tuple[str, ...]):
    return _split(paragraphs)


@lru_cache(maxsize=None)
def _sources(corpus_dir: str) -> tuple[tuple[str, ...], ...]:
    """The real documents as paragraph lists (one paragraph per line after normalize)."""
    from ..stages.ingest import ingest
    from ..stages.normalize import normalize

    docs = []
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        text, _ = normalize(ingest(path))
        docs.append(tuple(line for line in text.split("\n") if line.strip()))
    if not docs:
        raise FileNotFoundError(f"no .txt documents in {corpus_dir} to build a synthetic corpus from")
    return tuple(docs)


def _split(paragraphs: tuple[str, ...]) -> tuple[list[str], list[list[str]], list[str], re.Pattern]:
    """Preamble, top-level sections, tail (Nơi nhận, signature), and the heading pattern."""
    heading = ROMAN_HEADING if sum(bool(ROMAN_HEADING.match(p)) for p in paragraphs) >= 2 else ARABIC_HEADING
    starts = [i for i, p in enumerate(paragraphs) if heading.match(p)]
    if heading is ARABIC_HEADING:  # keep only the run 1., 2., 3. ... (not the nested ones)
        run, expected = [], 1
        for start in starts:
            if int(heading.match(paragraphs[start]).group(1)) == expected:
                run.append(start)
                expected += 1
        starts = run
    tail_at = next((i for i in range(len(paragraphs)) if TAIL_START.match(paragraphs[i])
                    and (not starts or i > starts[-1])), len(paragraphs))
    if len(starts) < 2:
        return list(paragraphs[:tail_at]), [], list(paragraphs[tail_at:]), heading
    sections = [list(paragraphs[a:b]) for a, b in zip(starts, starts[1:] + [tail_at])]
    return list(paragraphs[: starts[0]]), sections, list(paragraphs[tail_at:]), heading


@lru_cache(maxsize=None)
def _names() -> tuple[dict[str, str], tuple[str, ...]]:
    """Every province and department name, written and upper case -> the written form."""
    from ..rules import load

    data = load("provinces")
    provinces = tuple(sorted({e["name"] for e in data.get("current", []) + data.get("former", [])}))
    written = {form: name for name in (*provinces, *AGENCIES) for form in (name, name.upper())}
    return written, provinces


def _swap_names(text: str, rng: random.Random) -> str:
    """Each province and department named in `text` becomes another one, consistently."""
    written, provinces = _names()
    present = [form for form in written if form in text]  # substring tests are far faster than one big regex
    if not present:
        return text
    replacement: dict[str, str] = {}
    for name in sorted({written[f] for f in present}):
        new = rng.choice(provinces if name in provinces else AGENCIES)
        replacement[name], replacement[name.upper()] = new, new.upper()
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f) for f in sorted(present, key=len, reverse=True)) + r")(?!\w)")
    return pattern.sub(lambda match: replacement[match.group(0)], text)


LOCAL_NUMBER = re.compile(_RULES["local_number"]["pattern"])
SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)(?![\d/])")
WORD_DATE = re.compile(_RULES["word_date"]["pattern"])  # groups day, month, year


def _renumber(text: str, rng: random.Random) -> str:
    """Provincial document numbers and all dates replaced, the same way throughout `text`."""
    numbers: dict[str, str] = {}
    dates: dict[tuple[str, str, str], tuple[int, int, int]] = {}

    def number(match: re.Match) -> str:
        return numbers.setdefault(match.group(1), str(rng.randint(1, 9999)))

    def new_date(day: str, mo: str, year: str) -> tuple[int, int, int]:
        key = (str(int(day)), str(int(mo)), year)
        if key not in dates:
            dates[key] = (rng.randint(1, 28), rng.randint(1, 12), rng.randint(2022, 2026))
        return dates[key]

    def slash(match: re.Match) -> str:
        day, mo, year = new_date(*match.groups())
        return f"{day}/{mo}/{year}"

    def words(match: re.Match) -> str:  # the new day, month and year in the words as written
        new = dict(zip(("day", "month", "year"),
                       new_date(match.group("day"), match.group("month"), match.group("year"))))
        out, pos = [], match.start()
        for name in ("day", "month", "year"):
            out += [match.string[pos:match.start(name)], str(new[name])]
            pos = match.end(name)
        return "".join(out) + match.string[pos:match.end()]

    return WORD_DATE.sub(words, SLASH_DATE.sub(slash, LOCAL_NUMBER.sub(number, text)))


def _slip(word: str, rng: random.Random) -> str:
    """One OCR-like error in `word`."""
    spots = [i for i, ch in enumerate(word) if ch in SLIPS]
    if spots and rng.random() < 0.5:
        pos = rng.choice(spots)
        return word[:pos] + SLIPS[word[pos]] + word[pos + 1:]
    decomposed = unicodedata.normalize("NFD", word)
    marks = [i for i, ch in enumerate(decomposed) if unicodedata.combining(ch)]
    if not marks:
        return word
    pos = rng.choice(marks)
    return unicodedata.normalize("NFC", decomposed[:pos] + decomposed[pos + 1:])


def synth_text(index: int, seed: int = 0, corpus_dir: Path = CORPUS_DIR) -> str:
    """The text of synthetic document `index` (deterministic in seed and index)."""
    rng = random.Random(f"{seed}:{index}")
    sources = _sources(str(corpus_dir))
    base = rng.randrange(len(sources))
    preamble, sections, tail, heading = _split_cached(sources[base])
    preamble, sections, tail = list(preamble), [list(s) for s in sections], list(tail)
    if sections:
        # borrow only sections numbered in the same style (I. into I., 1. into 1.)
        others = [s for i, src in enumerate(sources) if i != base and _split_cached(src)[3] is heading
                  for s in _split_cached(src)[1]]
        for _ in range(rng.randint(0, 3)):  # vary the length: drop, repeat or borrow a section
            op = rng.random()
            if op < 0.35 and len(sections) > 2:
                sections.pop(rng.randrange(1, len(sections)))
            elif op < 0.7:
                sections.insert(rng.randrange(len(sections) + 1), list(rng.choice(sections)))
            elif others:
                sections.insert(rng.randrange(len(sections) + 1), list(rng.choice(others)))
        for number, section in enumerate(sections, 1):  # renumber in the document's own style
            body = ROMAN_HEADING.sub("", section[0], count=1) if ROMAN_HEADING.match(section[0]) \
                else ARABIC_HEADING.sub("", section[0], count=1)
            section[0] = f"{_roman(number) if heading is ROMAN_HEADING else number}. {body}"
    paragraphs = preamble + [p for s in sections for p in s] + tail
    letters_dot = rng.random() < 0.3
    arabic_paren = heading is ROMAN_HEADING and rng.random() < 0.3
    restyled = []
    for paragraph in paragraphs:
        if letters_dot:
            paragraph = LETTER_ITEM.sub(r"\1. ", paragraph, count=1)
        if arabic_paren and not ROMAN_HEADING.match(paragraph):
            paragraph = ARABIC_HEADING.sub(lambda match: f"{match.group(1)}) ", paragraph, count=1)
        restyled.append(paragraph)
    text = _renumber(_swap_names("\n".join(restyled), rng), rng)
    slip_rate = rng.choice((0.0, 0.0, 0.002, 0.01))
    if slip_rate:
        text = VIET_WORD.sub(lambda match: _slip(match.group(0), rng) if rng.random() < slip_rate else match.group(0),
                             text)
    if rng.random() < 0.4:  # hard-wrapped, as copied from a PDF
        width, sep = rng.randint(55, 95), rng.choice(("\n", "\n\n"))
        text = sep.join(sep.join(textwrap.wrap(p, width, break_long_words=False, break_on_hyphens=False)) or ""
                        for p in text.split("\n"))
    return text + "\n"


def write_corpus(folder: Path, count: int, seed: int = 0, fmt: str = "txt", start: int = 0,
                 corpus_dir: Path = CORPUS_DIR) -> list[Path]:
    """Write documents start..start+count-1 as synth-NNNNN.<fmt> into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = {"txt": _write_txt, "docx": _write_docx, "pdf": _write_pdf}[fmt]
    paths = []
    for index in range(start, start + count):
        path = folder / f"synth-{index:05d}.{fmt}"
        writer(path, synth_text(index, seed, corpus_dir))
        paths.append(path)
    return paths


def _write_txt(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _paragraphs(text: str) -> list[str]:
    # A DOCX or PDF has real paragraphs: undo the hard wrap of the text version.
    return [" ".join(block.split("\n")) for block in re.split(r"\n\s*\n|\n(?=\S)", text) if block.strip()]


def _write_docx(path: Path, text: str) -> None:
    import docx

    document = docx.Document()
    for paragraph in _paragraphs(text):
        document.add_paragraph(paragraph)
    document.save(str(path))


@lru_cache(maxsize=None)
def _pdf_font() -> str:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "/usr/share/fonts/TTF/DejaVuSans.ttf",
                      "/Library/Fonts/DejaVuSans.ttf"):
        if Path(candidate).is_file():
            pdfmetrics.registerFont(TTFont("DejaVuSans", candidate))
            return "DejaVuSans"
    raise FileNotFoundError("the DejaVu Sans font is needed to write Vietnamese PDFs (apt install fonts-dejavu-core)")


def _write_pdf(path: Path, text: str) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    style = ParagraphStyle("body", fontName=_pdf_font(), fontSize=11, leading=14, spaceAfter=4)
    story = [Paragraph(escape(p), style) for p in _paragraphs(text)]
    SimpleDocTemplate(str(path), pagesize=A4, title=path.stem).build(story)
