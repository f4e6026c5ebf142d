"""One data model, one schema: the dataclasses and schemas/document.schema.json agree."""
import dataclasses
import json
from pathlib import Path

import pytest

from pipeline import model, parse_file
from pipeline.emit import schema_errors, validator
from pipeline.rules import SCHEMAS_DIR

SCHEMA = json.loads((SCHEMAS_DIR / "document.schema.json").read_text(encoding="utf-8"))
CORPUS = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))


def _serialised_fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.metadata.get("serialize", True)}


def _definition(name: str) -> dict:
    return SCHEMA if name == "Document" else SCHEMA["$defs"][name]


@pytest.mark.parametrize("cls", [
    model.Document, model.SourceInfo, model.Metadata, model.Section, model.Reference, model.Mention,
    model.Assignment, model.Deadline, model.Target, model.Result, model.Span, model.Issue, model.Table,
    model.AgencySpan, model.Coverage, model.Passage,
])
def test_every_model_field_is_in_the_schema_and_back(cls):
    props = set(_definition(cls.__name__)["properties"])
    assert _serialised_fields(cls) == props


def test_schema_is_valid_2020_12():
    validator("document")  # raises SchemaError when the schema itself is invalid


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_outputs_are_schema_valid(path):
    data = parse_file(path).to_dict()
    assert schema_errors(data) == []
    json.dumps(data, ensure_ascii=False)


def test_invalid_output_is_caught():
    data = parse_file(CORPUS[0]).to_dict()
    data["status"] = "fine"
    assert any("status" in e for e in schema_errors(data))
