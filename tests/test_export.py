"""`vanban export`: spaCy DocBin with the items as span groups, and assignments as CSV."""
import csv
import io
import json
from pathlib import Path

import pytest

from pipeline import parse_file
from pipeline.corpus.export import assignment_rows, blank_vietnamese, to_spacy_docs, write_docbin
from pipeline.model import Document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


@pytest.fixture(scope="module")
def plan():
    """The plan as a run's JSON reads back: `Document.from_dict` of its written dict."""
    data = json.loads(json.dumps(parse_file(CORPUS / "cao-bang_ke-hoach-664_2025-03-10.txt").to_dict()))
    return Document.from_dict(data)


def test_span_groups_hold_the_extracted_items(plan):
    (doc,) = to_spacy_docs([plan])
    assert doc.text == plan.text
    refs = doc.spans["references"]
    assert len(refs) == len(plan.references)
    assert {s.label_ for s in refs} >= {"nghi_quyet", "ke_hoach", "chi_thi"}
    assert any(s.text.lower().startswith("nghị quyết số 209/nq-cp") for s in refs)
    tasks = doc.spans["tasks"]
    assert len(tasks) == len(plan.assignments)
    assert tasks[0].label_ == plan.assignments[0].role
    assert tasks[0].text.startswith(plan.assignments[0].task[:20])


def test_the_agency_group_holds_each_named_agency_on_the_sample_corpus():
    # Issue 14: the export's agency span group was always empty (it read a key nothing wrote).
    plans = [Document.from_dict(json.loads(json.dumps(parse_file(path).to_dict())))
             for path in sorted(CORPUS.glob("*.txt"))]
    total = 0
    for document, doc in zip(plans, to_spacy_docs(plans)):
        named = {(a.agency_span.start, a.agency_span.end) for a in document.assignments if a.agency_span}
        agencies = doc.spans["agencies"]
        assert {(span.start_char, span.end_char) for span in agencies} <= named
        assert all(span.label_ == "AGENCY" for span in agencies)
        total += len(agencies)
    assert total >= 100


def test_docbin_round_trip(plan, tmp_path):
    from spacy.tokens import DocBin

    path = tmp_path / "corpus.spacy"
    assert write_docbin([plan], path) == 1
    nlp = blank_vietnamese()
    (doc,) = DocBin().from_disk(path).get_docs(nlp.vocab)
    assert doc.user_data["vanban_id"] == plan.id
    assert len(doc.spans["tasks"]) == len(plan.assignments)


def test_csv_rows_one_per_assignment(plan):
    rows = list(assignment_rows([plan]))
    assert len(rows) == len(plan.assignments)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    back = list(csv.DictReader(io.StringIO(buf.getvalue())))
    lead = next(r for r in back if r["agency"] == "Sở Y tế" and r["role"] == "lead")
    assert lead["section"] == "V.3" and "các đơn vị có liên quan" in lead["partners"]


# --- the graph, on demand


@pytest.fixture(scope="module")
def linked_run(tmp_path_factory):
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(CORPUS), "--out", str(out), "--quiet", "--no-db", "--jobs", "2"]) == 0
    return out


def test_a_run_writes_no_graph_unless_asked(linked_run, tmp_path):
    from pipeline.cli import main

    assert not list(linked_run.glob("graph.*"))
    out = tmp_path / "with-graph"
    assert main(["run", str(CORPUS), "--out", str(out), "--quiet", "--no-db", "--jobs", "2", "--graph"]) == 0
    assert sorted(p.name for p in out.glob("graph.*")) == ["graph.gexf", "graph.graphml", "graph.json"]


def test_export_graph_streams_what_networkx_reads_back(linked_run, tmp_path):
    import networkx as nx

    from pipeline.cli import main
    from pipeline.stages.emit import schema_errors
    from pipeline.corpus.graph import build_graph, load_run_documents, node_link, plain_graph

    links = json.loads((linked_run / "links.json").read_text(encoding="utf-8"))
    g = build_graph(list(load_run_documents(linked_run)), links)
    flat = plain_graph(g)
    for fmt, reader, writer in (("graphml", nx.read_graphml, lambda p: nx.write_graphml(flat, p)),
                                ("gexf", nx.read_gexf, lambda p: nx.write_gexf(flat, p))):
        mine = tmp_path / f"mine.{fmt}"
        assert main(["export", "graph", "--format", fmt, "--run", str(linked_run), "-o", str(mine)]) == 0
        writer(tmp_path / f"nx.{fmt}")
        a, b = reader(mine), reader(tmp_path / f"nx.{fmt}")
        assert dict(a.nodes(data=True)) == dict(b.nodes(data=True)) and a.number_of_nodes() == g.number_of_nodes()
        # the same edges with the same attributes (edge ids are the writers' own)
        def edges(h):
            return sorted((u, v, json.dumps({k: x for k, x in d.items() if k not in ("id", "networkx_key")},
                                            sort_keys=True)) for u, v, d in h.edges(data=True))
        assert edges(a) == edges(b) and a.number_of_edges() == g.number_of_edges()
    # a newline inside a task's text survives the GEXF attribute
    assert any("\n" in (d.get("text") or "") for _, d in nx.read_gexf(tmp_path / "mine.gexf").nodes(data=True)) == \
        any("\n" in (d.get("text") or "") for _, d in g.nodes(data=True))
    assert main(["export", "graph", "--format", "json", "--run", str(linked_run)]) == 0
    data = json.loads((linked_run / "graph.json").read_text(encoding="utf-8"))
    assert data == node_link(g) and schema_errors(data, "graph") == []
    assert main(["export", "graph", "--format", "svg", "--run", str(linked_run)]) == 2
