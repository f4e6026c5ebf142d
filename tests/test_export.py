"""`vanban export`: spaCy DocBin with the items as span groups, and assignments as CSV."""
import csv
import io
import json
from pathlib import Path

import pytest

from pipeline import parse_file
from pipeline.export import assignment_rows, blank_vietnamese, to_spacy_docs, write_docbin

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def plan():
    return json.loads(json.dumps(parse_file(CORPUS / "cao-bang_ke-hoach-664_2025-03-10.txt").to_dict()))


def test_span_groups_hold_the_extracted_items(plan):
    (doc,) = to_spacy_docs([plan])
    assert doc.text == plan["text"]
    refs = doc.spans["references"]
    assert len(refs) == len(plan["references"])
    assert {s.label_ for s in refs} >= {"nghi_quyet", "ke_hoach", "chi_thi"}
    assert any(s.text.lower().startswith("nghị quyết số 209/nq-cp") for s in refs)
    tasks = doc.spans["tasks"]
    assert len(tasks) == len(plan["assignments"])
    assert tasks[0].label_ == plan["assignments"][0]["role"]
    assert tasks[0].text.startswith(plan["assignments"][0]["task"][:20])


def test_docbin_round_trip(plan, tmp_path):
    from spacy.tokens import DocBin

    path = tmp_path / "corpus.spacy"
    assert write_docbin([plan], path) == 1
    nlp = blank_vietnamese()
    (doc,) = DocBin().from_disk(path).get_docs(nlp.vocab)
    assert doc.user_data["vanban_id"] == plan["id"]
    assert len(doc.spans["tasks"]) == len(plan["assignments"])


def test_csv_rows_one_per_assignment(plan):
    rows = list(assignment_rows([plan]))
    assert len(rows) == len(plan["assignments"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    back = list(csv.DictReader(io.StringIO(buf.getvalue())))
    lead = next(r for r in back if r["agency"] == "Sở Y tế" and r["role"] == "lead")
    assert lead["section"] == "V.3" and "các đơn vị có liên quan" in lead["partners"]
