"""Load the data files of `rules/` once per process.

Rules are data: a new province's agency names or a new heading style is a change to a
YAML file, not to code. Each loader returns plain dicts/lists; the stage that uses them
compiles its patterns once (module-level caches) and never per document.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml


def _data_dir(name: str) -> Path:
    """rules/ or schemas/ beside the package in a checkout, or inside it once installed."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / name, here / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"cannot find the {name}/ folder next to {here}")


RULES_DIR = Path(os.environ["VANBAN_RULES"]) if "VANBAN_RULES" in os.environ else _data_dir("rules")
SCHEMAS_DIR = _data_dir("schemas")


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """The parsed content of rules/<name>.yaml."""
    path = RULES_DIR / f"{name}.yaml"
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@lru_cache(maxsize=1)
def province_names() -> tuple[str, ...]:
    """Every province's name as rules/provinces.yaml writes it, the 34 of 2025 and the former
    ones, once each: the one list the agency reader and the plan diff use."""
    data = load("provinces")
    return tuple(dict.fromkeys(entry["name"] for part in ("current", "former") for entry in data[part]))
