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
