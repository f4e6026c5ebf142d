"""The synthetic corpus of `vanban bench`: deterministic, perturbed, parseable."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import parse_file
from pipeline.rules import load
from pipeline.bench.synth import AGENCIES, ROMAN_HEADING, _roman, synth_text, write_corpus

CORPUS_TXT = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    a = write_corpus(tmp_path / "a", 3, seed=7)
    b = write_corpus(tmp_path / "b", 3, seed=7)
    c = write_corpus(tmp_path / "c", 3, seed=8)
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]
    # document i does not depend on how many are written: a big corpus starts with the small one
    assert synth_text(2, seed=7) == a[2].read_text(encoding="utf-8")


def test_generated_documents_parse(tmp_path):
    for path in write_corpus(tmp_path, 3, seed=1):
        doc = parse_file(path)
        assert doc.status == "ok", doc.errors
        assert doc.sections, path.read_text(encoding="utf-8")[:300]


def test_names_are_swapped_and_headings_renumbered():
    real = "\n".join(p.read_text(encoding="utf-8") for p in CORPUS_TXT)
    provinces = {e["name"] for e in load("provinces")["current"] + load("provinces")["former"]}
    real_provinces = {name for name in provinces if name in real}
    texts = [synth_text(i, seed=3) for i in range(20)]
    named = {name for t in texts for name in provinces if name in t}
    assert named - real_provinces, "no province of the synthetic corpus is new"
    assert len({t for t in texts}) == 20
    for text in texts:
        numerals = [ROMAN_HEADING.match(line).group(1) for line in text.split("\n") if ROMAN_HEADING.match(line)]
        if numerals:  # top-level headings count I., II., III. ... in order, whatever was dropped or repeated
            assert numerals == [_roman(n) for n in range(1, len(numerals) + 1)]


def test_ocr_slips_and_hard_wraps_happen_somewhere():
    texts = [synth_text(i, seed=5) for i in range(30)]
    real_words = {w for p in CORPUS_TXT for w in re.findall(r"\w+", p.read_text(encoding="utf-8"))}
    new_words = {w for t in texts for w in re.findall(r"\w+", t)} - real_words
    assert new_words, "no word was altered"
    longest = [max(len(line) for line in t.split("\n")) for t in texts]
    assert min(longest) <= 95 < max(longest), "either every document or none is hard-wrapped"


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_docx_and_pdf_renderings_parse(tmp_path, fmt):
    (path,) = write_corpus(tmp_path, 1, seed=2, fmt=fmt)
    doc = parse_file(path)
    assert doc.status == "ok", doc.errors
    assert doc.source.format == fmt
    # the text of the rendering is the text of the TXT version, paragraph for paragraph
    words = re.findall(r"\w+", synth_text(0, seed=2))
    got = re.findall(r"\w+", doc.text)
    assert len(set(words) & set(got)) >= 0.95 * len(set(words))
    if fmt == "pdf":
        assert len(doc.pages) >= 1


def test_departments_swapped_are_departments_of_the_rules():
    """rules/bench.yaml names the departments it swaps from rules/departments.yaml's list."""
    departments = load("departments")
    assert AGENCIES and len(set(AGENCIES)) == len(AGENCIES)
    for name in load("bench")["synth"]["departments"]:
        assert name in departments["names"], name
    assert all(a.startswith(departments["department"] + " ") for a in AGENCIES)
