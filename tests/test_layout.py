"""The layout draws the architecture, and the README's tour matches it.

- each per-document stage says at the top of its module what it requires and what it adds,
  naming fields the `Document` has; pipeline/parse.py runs them in the order the stages
  package lists;
- every command of `vanban` has its module in pipeline/cli/, named after it;
- the README's "Where things are" names every folder of the package and every module of it,
  and every path the README names exists;
- every module of the package keeps names that say what they hold: no
  one-letter names outside comprehensions.
"""
from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from pipeline.cli import COMMANDS
from pipeline.model import Document

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "pipeline"
README = (REPO / "README.md").read_text(encoding="utf-8")
STAGES = ["header", "outline", "references", "measures", "assignments"]  # after ingest and normalize


def _docstring(module: str) -> str:
    return importlib.import_module(module).__doc__ or ""


def _contract(doc: str) -> tuple[str, str]:
    """The text after "Requires:" and after "Adds:" in a module docstring's paragraph."""
    match = re.search(r"Requires:(.*?)Adds:?(.*?)(?:\n\n|$)", doc, re.S)
    assert match, "the docstring says what the stage requires and what it adds"
    return match.group(1), match.group(2)


@pytest.mark.parametrize("stage", ["normalize", *STAGES, "emit"])
def test_each_stage_states_what_it_requires_and_adds(stage):
    requires, adds = _contract(_docstring(f"pipeline.stages.{stage}"))
    fields = {f.name for f in dataclasses.fields(Document)}
    named = re.findall(r"doc\.(\w+)", requires + adds)
    assert all(name in fields for name in named), named
    if stage not in ("normalize", "emit"):
        assert re.findall(r"doc\.(\w+)", adds), "a stage adds fields of the Document"


def test_ingest_states_what_it_requires_and_adds():
    requires, adds = _contract(_docstring("pipeline.stages.ingest"))
    assert "SourceText" in adds


def test_the_runner_runs_the_stages_in_the_order_the_package_lists():
    from pipeline import parse

    assert [name for name, _ in parse._stages()] == STAGES
    listed = re.findall(r"^    (\w+) ", _docstring("pipeline.stages"), re.M)
    assert listed == ["ingest", "normalize", *STAGES, "emit"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_has_its_module_in_cli(command):
    module_name, _ = COMMANDS[command]
    assert module_name == f"pipeline.cli.{command}"
    module = importlib.import_module(module_name)
    assert callable(module.add_arguments) and callable(module.main)


def _tour() -> str:
    return README[README.index("## Where things are"):].split("\n## ", 1)[0]


def test_the_readme_tour_names_every_folder_and_module_of_the_package():
    tour = _tour()
    for folder in sorted(p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        assert f"`pipeline/{folder.name}/`" in tour, folder.name
        for module in sorted(folder.rglob("*.py")):
            if module.name not in ("__init__.py", "__main__.py"):
                assert f"`{module.name}`" in tour, module.relative_to(PACKAGE)
    for module in sorted(PACKAGE.glob("*.py")):
        if module.name != "__init__.py":
            assert f"`{module.name}`" in tour, module.name
    flow = re.search(r"From a file to the store, in five lines:\n\n```\n(.*?)```", tour, re.S)
    assert flow and len(flow.group(1).strip().split("\n")) == 5


def test_every_path_the_readme_names_exists():
    for path in sorted(set(re.findall(r"`(pipeline/[\w./]*)`", README))):
        assert (REPO / path).exists(), path


def _one_letter_names(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_comprehension = {id(node) for comp in ast.walk(tree)
                        if isinstance(comp, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
                        for gen in comp.generators for node in ast.walk(gen.target)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and id(node) not in in_comprehension:
            name = node.id
        elif isinstance(node, ast.arg):
            name = node.arg
        elif isinstance(node, ast.ExceptHandler) and node.name:
            name = node.name
        else:
            continue
        if len(name.strip("_")) == 1:
            found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {name}")
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_no_one_letter_names_outside_comprehensions(path):
    assert _one_letter_names(path) == []
