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


# The code that decides what a document's JSON says: the model, the helpers every stage uses,
# the stage runner, and every module under pipeline/stages/ (so a new stage or helper such as
# timex is covered without being listed here).
DOCUMENT_MODULES = ("model", "textkeys", "rules", "parse", "stages")


def document_files() -> list[Path]:
    """The files of DOCUMENT_MODULES: a module's .py, or every .py of a package, sorted."""
    package = Path(__file__).resolve().parent
    files: list[Path] = []
    for name in DOCUMENT_MODULES:
        module = package / f"{name}.py"  # a module, else a package (rules/ is also a data folder)
        files.extend([module] if module.is_file() else sorted((package / name).rglob("*.py")))
    return files


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """"0.1.0+<12 hex digits of the code and rules fingerprint>"."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    named = [(path.relative_to(package).as_posix(), path) for path in document_files()]
    named += [(path.name, path) for path in sorted(Path(RULES_DIR).glob("*.yaml"))]
    for name, path in named:
        digest.update(name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"
