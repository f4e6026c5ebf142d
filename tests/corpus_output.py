"""Fixture data for the store, query and graph tests: the pipeline's own output on corpus/.

The five corpus/*.txt documents (three plans, a letter and a report of three provinces) are
parsed once per test session (`pipeline.parse_file`) and linked once (`pipeline.corpus.link`);
callers get fresh deep copies, so a test may change what it gets.

The gold annotations of ../shared/eval/gold are NOT used here: they measure extraction, and
most of them describe DOCX/PDF documents that have no text in corpus/. What the store, query
and graph tests assert is how those layers answer on whatever the pipeline extracted, so the
expected answers are computed from the same documents with the helpers below (plain Python
over the document dicts, independent of the SQL and graph code under test).
"""
from __future__ import annotations

import json
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

PLAN_664 = "cao-bang_ke-hoach-664_2025-03-10"  # its "Số:" line is blank; others cite 664/KH-UBND
LETTER = "cao-bang_cong-van_2025-08"
REPORT = "cao-bang_bao-cao_2025-12"
DAK_LAK = "dak-lak_ke-hoach_2024-12"
THAI_NGUYEN = "thai-nguyen_ke-hoach_2025-11"
PLANS = (PLAN_664, DAK_LAK, THAI_NGUYEN)

Assignment = dict[str, Any]


@lru_cache(maxsize=1)
def _run() -> tuple[str, str]:
    from pipeline import parse_file
    from pipeline.corpus.link import link_documents

    docs = [parse_file(p).to_dict() for p in sorted(CORPUS.glob("*.txt"))]
    links = link_documents(docs)  # sets `resolved_to` on the documents' references
    return json.dumps(docs, ensure_ascii=False), json.dumps(links, ensure_ascii=False)


def corpus_documents() -> list[dict]:
    """`Document.to_dict()` of every corpus/*.txt, linked (fresh copies, sorted by id)."""
    return json.loads(_run()[0])


def corpus_links() -> dict:
    """The link stage's result on the corpus (a fresh copy)."""
    return json.loads(_run()[1])


def corpus_document(doc_id: str) -> dict:
    return next(d for d in corpus_documents() if d["id"] == doc_id)


def fold(text: str | None) -> str:
    """Lower case, no diacritics, đ -> d, single spaces: how a user may type a query."""
    text = unicodedata.normalize("NFD", (text or "").lower().replace("đ", "d"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).split())


def assignments_where(docs: list[dict], predicate: Callable[[Assignment], bool]
                      ) -> list[tuple[str, Assignment]]:
    """(document id, assignment) of every assignment that satisfies `predicate`."""
    return [(d["id"], a) for d in docs for a in d["assignments"] if predicate(a)]


def documents_where(docs: list[dict], predicate: Callable[[Assignment], bool]) -> set[str]:
    """Ids of the documents with an assignment that satisfies `predicate`."""
    return {doc_id for doc_id, _ in assignments_where(docs, predicate)}


def held_by(agency_id: str, name: str) -> Callable[[Assignment], bool]:
    """An assignment of that body: by the gazetteer id the pipeline gave it, else by its name."""
    return lambda a: a.get("agency_id") == agency_id or fold(a["agency"]) == fold(name)


def task_has(phrase: str) -> Callable[[Assignment], bool]:
    """An assignment whose task contains `phrase`, with or without diacritics."""
    key = fold(phrase)
    return lambda a: key in fold(a["task"])


def duty_key(doc_id: str, a: Assignment) -> tuple[str, int, str]:
    return doc_id, a["span"]["start"], a["agency"]


def citing_documents(docs: list[dict], canonical_id: str) -> dict[str, set[str]]:
    """Document id -> the relations in which it refers to `canonical_id`."""
    out: dict[str, set[str]] = {}
    for d in docs:
        for r in d["references"]:
            if r["canonical_id"] == canonical_id:
                out.setdefault(d["id"], set()).add(r["relation"])
    return out
