"""Every pattern kept as data in rules/ comes with examples, and every example matches.

A rule entry is any mapping with `pattern` or `patterns` and `examples`. An example must be
found by at least one of the entry's patterns, run as the stages run them: over the text
itself, its match key (lower case, one tone placement) or its search key (no diacritics).
Stage tests check the finer behaviour (what is captured, what must not match).
"""
import re
from pathlib import Path

import pytest
import yaml

from pipeline.rules import RULES_DIR
from pipeline.textkeys import match_key, search_key


def _entries(node, where):
    if isinstance(node, dict):
        pats = node.get("patterns", node.get("pattern"))
        if pats is not None and "examples" in node:
            yield where, [pats] if isinstance(pats, str) else list(pats), node["examples"], node.get("flags", "")
        for k, v in node.items():
            yield from _entries(v, f"{where}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _entries(v, f"{where}[{i}]")


RULE_FILES = sorted(Path(RULES_DIR).glob("*.yaml"))
ENTRIES = [e for f in RULE_FILES for e in _entries(yaml.safe_load(f.read_text(encoding="utf-8")), f.stem)]


def test_rules_have_examples():
    assert ENTRIES, "no rule entry with patterns and examples found"


@pytest.mark.parametrize("where, patterns, examples, flags", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_rule_examples_match(where, patterns, examples, flags):
    compiled = [re.compile(p, re.I if "i" in str(flags) else 0) for p in patterns if isinstance(p, str)]
    assert examples, f"{where}: a pattern without examples"
    for example in examples:
        text = example if isinstance(example, str) else example.get("text", "")
        variants = (text, match_key(text), search_key(text))
        assert any(p.search(v) for p in compiled for v in variants), f"{where}: {text!r} matches none of {patterns}"
