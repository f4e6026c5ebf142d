"""The version that decides whether a document's output is still current.

`vanban run` skips a document whose content hash and pipeline version are unchanged. A
release number alone is not enough: rules are data, and a new agency name or heading style
in rules/ changes the output without a new release. So the version carries a fingerprint
of the rules and of the modules that make a document's JSON (file names and bytes, about a
millisecond to compute); editing the batch runner, the store or the CLI redoes nothing.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from . import __version__
from .rules import RULES_DIR


# The modules whose code decides what a document's JSON says.
DOCUMENT_MODULES = ("model", "textkeys", "rules", "ingest", "normalize", "header", "outline",
                    "references", "measures", "agencies", "assignments", "parse")


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """"0.1.0+<12 hex digits of the code and rules fingerprint>"."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    files = [package / f"{name}.py" for name in DOCUMENT_MODULES] + sorted(Path(RULES_DIR).glob("*.yaml"))
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"
