"""The TXT, DOCX and PDF renderings of each corpus document give the same structure.

corpus/make_renderings.py derives the DOCX and PDF from the TXT; whatever the format, the
top-level sections (number, kind) and the metadata must come out the same.
"""
from pathlib import Path

import pytest

from pipeline import parse_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
STEMS = sorted(p.stem for p in CORPUS.glob("*.txt"))
FIELDS = ("doc_type", "number", "symbol", "issuer", "province", "date", "title", "signer_name", "signer_title")


def _summary(path: Path) -> tuple[list, dict]:
    doc = parse_file(path)
    assert doc.status == "ok", (path.name, doc.errors)
    tops = [(s.number, s.kind) for s in doc.sections if s.level == 1]
    meta = {f: getattr(doc.metadata, f) for f in FIELDS}
    return tops, meta


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_rendering_matches_txt(stem, fmt):
    txt_sections, txt_meta = _summary(CORPUS / f"{stem}.txt")
    sections, meta = _summary(CORPUS / f"{stem}.{fmt}")
    assert txt_sections, "the TXT has top-level sections"
    assert sections == txt_sections
    assert meta == txt_meta
