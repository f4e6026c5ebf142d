"""One data model, one schema per output, proven on real outputs in both directions.

- Every document field the model writes is a property of schemas/document.schema.json and a
  required one (`to_dict` always writes every field), and the schema lists nothing else.
- `vanban run corpus --graph` writes documents, links.json, run-report.json and graph.json that
  validate against their schemas; every object those schemas describe is closed
  (additionalProperties or unevaluatedProperties false), so a field the code writes and the
  schema does not list fails the run's validation.
- No schema lists a property that no output of the run fills (a value that is not null or
  empty), unless the property is marked `x-optional` with when it is filled: a field that
  nothing writes any more (as `agency_span` once was) cannot hide in the schema.
- `Document.from_dict` reads every JSON back into the model, and `to_dict` gives it back unchanged.
"""
import dataclasses
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from pipeline import model, parse_file
from pipeline.stages.emit import schema_errors, validator
from pipeline.rules import SCHEMAS_DIR

SCHEMA = json.loads((SCHEMAS_DIR / "document.schema.json").read_text(encoding="utf-8"))
CORPUS = sorted((Path(__file__).resolve().parent.parent / "corpus").glob("*.txt"))
# The files a run writes, each with its schema.
RUN_FILES = {"links": "links.json", "run-report": "run-report.json", "graph": "graph.json"}
SCHEMA_NAMES = ["document", *RUN_FILES]
MODEL_CLASSES = [
    model.Document, model.SourceInfo, model.Metadata, model.Section, model.Reference, model.Mention,
    model.Assignment, model.Deadline, model.Target, model.Result, model.Span, model.Issue, model.Table,
    model.AgencySpan, model.Coverage, model.Passage,
]


def _serialised_fields(cls) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if f.metadata.get("serialize", True)}


def _definition(name: str) -> dict:
    return SCHEMA if name == "Document" else SCHEMA["$defs"][name]


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_every_model_field_is_in_the_schema_and_back(cls):
    definition = _definition(cls.__name__)
    assert _serialised_fields(cls) == set(definition["properties"])
    # to_dict writes every field (null or empty when unknown): each one is required
    assert _serialised_fields(cls) == set(definition["required"])


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_2020_12(name):
    validator(name)  # raises SchemaError when the schema itself is invalid


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_corpus_outputs_are_schema_valid(path):
    data = parse_file(path).to_dict()
    assert schema_errors(data) == []
    json.dumps(data, ensure_ascii=False)


def test_invalid_output_is_caught():
    data = parse_file(CORPUS[0]).to_dict()
    data["status"] = "fine"
    assert any("status" in e for e in schema_errors(data))


# ----------------------------------------------------------------------------- the real run


def _run_outputs(corpus_run) -> dict[str, list]:
    """Schema name -> the instances `vanban run corpus --graph` wrote for it."""
    out, docs = corpus_run
    found = {"document": docs}
    for name, file_name in RUN_FILES.items():
        found[name] = [json.loads((out / file_name).read_text(encoding="utf-8"))]
    return found


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_run_outputs_are_schema_valid(corpus_run, name):
    instances = _run_outputs(corpus_run)[name]
    assert instances
    for data in instances:
        assert schema_errors(data, name) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_a_field_the_schema_does_not_list_is_caught(corpus_run, name):
    """Closed objects: an extra key anywhere the code writes an object is an error."""
    instances = _run_outputs(corpus_run)[name]
    data = json.loads(json.dumps(max(instances, key=lambda d: len(d.get("assignments") or ()))))
    targets = {
        "document": lambda d: d["assignments"][0],
        "links": lambda d: d["edges"][0],
        "run-report": lambda d: d["documents"][0],
        "graph": lambda d: d["nodes"][0],
    }
    for item in (data, targets[name](data)):
        item["not_in_the_schema"] = 1
        assert any("not_in_the_schema" in e for e in schema_errors(data, name))
        del item["not_in_the_schema"]


def _objects(node, pointer="#"):
    """(pointer, schema) of every schema node in `node` that lists properties."""
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            yield pointer, node
        for key, value in node.items():
            if key != "if":  # an `if` tests properties, it does not describe them
                yield from _objects(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{pointer}/{i}")


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_every_object_the_code_writes_is_closed(name):
    for pointer, node in _objects(_schema(name)):
        if pointer.endswith(("/then", "/else")) or "/allOf/" in pointer:
            continue  # conditional parts of an object closed above them
        assert node.get("additionalProperties") is False or node.get("unevaluatedProperties") is False, \
            f"{name} {pointer}: an object open to fields the schema does not list"


def _filled_properties(schema: dict, instances: list) -> tuple[dict, set]:
    """Every listed property ((pointer of its object, name) -> its schema), and those that
    some instance fills: present with a value that is not null, empty or blank.

    Walks the instances along the schema: $ref, allOf, the branch of if/then/else that
    applies, the oneOf/anyOf branches an instance is valid against, items, properties."""
    root = Draft202012Validator(schema)
    listed: dict[tuple[str, str], dict] = {}
    for pointer, node in _objects(schema):
        owner = _owner(schema, pointer)
        for prop, sub in node["properties"].items():
            # a then/else that narrows a property its object lists (run-report's `output`)
            # constrains it, it does not list it again
            if owner is None or prop not in owner.get("properties", {}):
                listed[(pointer, prop)] = sub
    filled: set[tuple[str, str]] = set()

    def walk(node, pointer: str, value) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            walk(_resolve(schema, node["$ref"]), node["$ref"], value)
        for i, sub in enumerate(node.get("allOf", [])):
            walk(sub, f"{pointer}/allOf/{i}", value)
        for keyword in ("oneOf", "anyOf"):
            for i, sub in enumerate(node.get(keyword, [])):
                if root.evolve(schema=sub).is_valid(value):
                    walk(sub, f"{pointer}/{keyword}/{i}", value)
        if "if" in node:
            branch = "then" if root.evolve(schema=node["if"]).is_valid(value) else "else"
            walk(node.get(branch), f"{pointer}/{branch}", value)
        if isinstance(value, dict):
            props = node.get("properties", {})
            for key, item in value.items():
                if key in props:
                    if item not in (None, [], {}, ""):
                        filled.add((pointer, key))
                    walk(props[key], f"{pointer}/properties/{key}", item)
                elif isinstance(node.get("additionalProperties"), dict):
                    walk(node["additionalProperties"], f"{pointer}/additionalProperties", item)
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            for item in value:
                walk(node["items"], f"{pointer}/items", item)

    for instance in instances:
        walk(schema, "#", instance)
    return listed, filled


def _owner(schema: dict, pointer: str) -> dict | None:
    """The object schema that a then/else part (`pointer`) is conditional on, else None."""
    if not pointer.endswith(("/then", "/else")):
        return None
    parts = pointer.split("/")[:-1]
    if len(parts) > 2 and parts[-2] == "allOf":
        parts = parts[:-2]
    return _resolve(schema, "/".join(parts))


def _resolve(schema: dict, pointer: str) -> dict:
    node = schema
    for part in pointer.lstrip("#").strip("/").split("/"):
        if part:
            node = node[int(part)] if isinstance(node, list) else node[part]
    return node


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_no_property_is_listed_that_no_output_fills(corpus_run, name):
    listed, filled = _filled_properties(_schema(name), _run_outputs(corpus_run)[name])
    never = sorted(f"{pointer}: {prop}" for (pointer, prop), sub in listed.items()
                   if (pointer, prop) not in filled and "x-optional" not in sub)
    assert never == [], f"{name}: listed, never filled by the corpus run, not marked x-optional"


def test_the_assignment_agency_span_is_written(corpus_run):
    """The spaCy export's agency span group reads `agency_span`: the corpus fills it."""
    _, docs = corpus_run
    spans = [a["agency_span"] for d in docs for a in d["assignments"]]
    assert spans and all(s is not None for s in spans)
    for d in docs:
        for a in d["assignments"]:
            s = a["agency_span"]
            assert d["text"][s["start"]:s["end"]] == a["agency_raw"]


def test_documents_read_back_into_the_model_unchanged(corpus_run):
    _, docs = corpus_run
    for data in docs:
        doc = model.Document.from_dict(data)
        assert isinstance(doc.metadata, model.Metadata) and isinstance(doc.source, model.SourceInfo)
        assert all(isinstance(a.span, model.Span) for a in doc.assignments)
        assert doc.to_dict() == data


def test_compact_json_is_the_bytes_python_json_writes(formats_dir):
    """The per-document JSON (orjson) is byte for byte what `json.dumps(ensure_ascii=False,
    separators=(",", ":"))` writes, on documents from the corpus and real DOCX/PDF files
    (Vietnamese text, control characters, floats of measures); a value orjson refuses, an
    integer beyond 64 bits, is still written as Python writes it."""
    from pipeline.stages.emit import dumps, output_dict

    files = CORPUS + sorted(formats_dir.glob("*.docx"))[:3] + sorted(formats_dir.glob("*.pdf"))[:2]
    for path in files:
        data = output_dict(parse_file(path))
        assert dumps(data, pretty=False) == json.dumps(data, ensure_ascii=False, separators=(",", ":")), path
    data = {"value": 2**70, "text": "Sở Y tế\u2028\x01\t", "ratio": 0.1 + 0.2}
    assert dumps(data, pretty=False) == json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def test_stored_json_is_the_bytes_python_json_writes_with_sorted_keys(formats_dir):
    """`store.stable_json` (orjson, keys sorted) is the text `json.dumps(sort_keys=True)`
    writes, in UTF-8: the content hash of a stored document does not depend on which one
    wrote it. What orjson refuses Python still writes: an integer beyond 64 bits; a lone
    surrogate has no UTF-8, so it is refused with the encoder's error (ingest replaces them
    in the text, and the store could not hold one before either)."""
    from pipeline.corpus.store import stable_json
    from pipeline.stages.emit import output_dict

    def python(data):
        stable = {k: v for k, v in data.items() if k not in ("text", "timings")}
        return json.dumps(stable, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    files = CORPUS + sorted(formats_dir.glob("*.docx"))[:3] + sorted(formats_dir.glob("*.pdf"))[:2]
    for path in files:
        data = output_dict(parse_file(path))
        assert stable_json(data) == python(data).encode("utf-8"), path
    data = {"value": 2**70, "b": "Sở Y tế\u2028\x01\t", "a": 0.1 + 0.2, "text": "not stored"}
    assert stable_json(data) == python(data).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        stable_json({"title": "Kế hoạch \udc8f"})
