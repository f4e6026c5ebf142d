"""Shared fixtures: where the corpus and the third-party format samples live."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The sample documents committed with the repository (corpus/*.txt and renderings)."""
    return REPO / "corpus"


@pytest.fixture(scope="session")
def formats_dir() -> Path:
    """Real third-party files (PDF, DOCX, DOC), read in place and never copied here.

    VANBAN_FORMATS overrides the default <repo>/../shared/formats.
    """
    path = Path(os.environ.get("VANBAN_FORMATS") or REPO.parent / "shared" / "formats")
    if not path.is_dir():
        pytest.skip("third-party formats folder not found (set VANBAN_FORMATS)")
    return path


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory) -> Path:
    """A SQLite store of the pipeline's own output on corpus/*.txt: parsed, linked, upserted.

    Read-only by convention: tests that change a store build their own from
    `corpus_output.corpus_documents()`.
    """
    from corpus_output import corpus_documents, corpus_links
    from pipeline.corpus.store import Store

    path = tmp_path_factory.mktemp("store") / "vanban.sqlite"
    with Store(path) as s:
        for doc in corpus_documents():
            s.upsert_document(doc)
        s.set_links(corpus_links())
    return path


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory):
    """`vanban run corpus --graph --out TMP`: the real pipeline's JSON, links, graph and store."""
    import json

    from pipeline.cli import main

    corpus = REPO / "corpus"
    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(corpus), "--out", str(out), "--graph", "--quiet"]) == 0
    stems = {c.stem for c in corpus.glob("*.txt")}
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))
            if p.stem in stems]
    assert len(docs) == len(stems)
    return out, docs
