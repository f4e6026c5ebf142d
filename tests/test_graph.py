"""The knowledge graph of the corpus run (the pipeline's own output): stable ids, the edges of a
run, and exports Gephi and yEd can open."""
from __future__ import annotations

import json
from collections import Counter

import networkx as nx
import pytest
from lxml import etree

from corpus_output import DAK_LAK, LETTER, PLAN_664, corpus_documents, corpus_links
from pipeline.stages.emit import schema_errors, validator
from pipeline.corpus.graph import RELATIONS, build_graph, export_graph
from pipeline.corpus.store import agency_node_id, task_node_id
from pipeline.model import Document


def typed_corpus_documents() -> list[Document]:
    """The corpus documents as `build_graph` takes them: read through the model."""
    return [Document.from_dict(data) for data in corpus_documents()]


@pytest.fixture(scope="module")
def graph():
    return build_graph(typed_corpus_documents(), corpus_links())


def _edges(g, relation):
    return [(u, v, d) for u, v, d in g.edges(data=True) if d["relation"] == relation]


def test_ids_are_stable_and_readable(graph):
    again = build_graph(typed_corpus_documents(), corpus_links())
    assert set(again.nodes) == set(graph.nodes)
    assert Counter(d["relation"] for *_, d in again.edges(data=True)) == \
        Counter(d["relation"] for *_, d in graph.edges(data=True))
    assert f"doc:{DAK_LAK}" in graph
    assert "ref:209/NQ-CP" in graph
    assert "agency:so_y_te@cao-bang" in graph and "agency:so_y_te@thai-nguyen" in graph


def test_every_document_task_and_owner_is_in_the_graph(graph):
    docs = corpus_documents()
    for doc in docs:
        assert graph.nodes[f"doc:{doc['id']}"]["type"] == "document"
        for i, a in enumerate(doc["assignments"]):
            task = task_node_id(doc["id"], a["span"], i)
            agency = agency_node_id(a["agency_id"], a["agency"], doc["metadata"]["province"])
            assert graph.has_edge(f"doc:{doc['id']}", task), task
            roles = [d["role"] for _, v, d in graph.out_edges(task, data=True)
                     if d["relation"] == "assigns" and v == agency]
            assert a["role"] in roles, (task, agency)
    n_tasks = len({(d["id"], a["span"]["start"], a["span"]["end"]) for d in docs for a in d["assignments"]})
    assert sum(1 for _, t in graph.nodes(data="type") if t == "task") == n_tasks > 0


def test_every_relation_of_the_brief_is_present(graph):
    present = {d["relation"] for *_, d in graph.edges(data=True)}
    assert present == set(RELATIONS)


def test_co_assigned_agencies_share_one_task_node(graph):
    # "11. Công an tỉnh, BCH Quân sự tỉnh: …": one task of section V.11 of the Cao Bằng plan
    tasks = [t for t, d in graph.nodes(data=True)
             if d["type"] == "task" and d["document"] == PLAN_664 and d["section"] == "V.11"]
    assert len(tasks) == 1
    owners = {graph.nodes[v]["name"] for _, v, d in graph.out_edges(tasks[0], data=True)
              if d["relation"] == "assigns"}
    assert owners == {"Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh"}


def test_assigns_carries_the_role_and_partners_are_agencies(graph):
    roles = Counter(d["role"] for *_, d in _edges(graph, "assigns"))
    assert roles["lead"] > 0 and roles["support"] > 0
    for u, v, _ in _edges(graph, "partners_with"):
        assert graph.nodes[u]["type"] == graph.nodes[v]["type"] == "agency"


def test_cited_documents_resolve_to_the_run(graph):
    # the letter cites 664/KH-UBND, which is the Cao Bằng plan (its own text has no number)
    assert graph.has_edge(f"doc:{LETTER}", "ref:664/KH-UBND")
    assert [v for _, v, d in graph.out_edges("ref:664/KH-UBND", data=True)
            if d["relation"] == "resolved_to"] == [f"doc:{PLAN_664}"]
    implements = {v for u, v, d in _edges(graph, "implements") if u == f"doc:{PLAN_664}"}
    assert {"ref:209/NQ-CP", "ref:417-KH/TU"} <= implements


def test_old_agencies_point_to_their_successor(graph):
    succ = {(u, v) for u, v, _ in _edges(graph, "succeeded_by")}
    assert ("agency:so_ldtbxh@dak-lak", "agency:so_noi_vu@dak-lak") in succ


def test_node_link_json_is_valid_against_its_schema(graph, tmp_path):
    validator("graph")
    paths = export_graph(graph, tmp_path)
    data = json.loads(paths[0].read_text(encoding="utf-8"))
    assert schema_errors(data, "graph") == []
    assert len(data["nodes"]) == graph.number_of_nodes()
    assert len(data["edges"]) == graph.number_of_edges()
    # a broken edge is caught
    data["edges"][0]["relation"] = "likes"
    assert schema_errors(data, "graph")


def _declared_types(root, ns):
    out = {}
    for key in root.iter(f"{{{ns}}}key"):
        out.setdefault((key.get("for"), key.get("attr.name")), set()).add(key.get("attr.type"))
    return out


def test_graphml_and_gexf_have_plain_attributes_only(graph, tmp_path):
    _, graphml, gexf = export_graph(graph, tmp_path)
    ns = "http://graphml.graphdrawing.org/xmlns"
    root = etree.parse(str(graphml)).getroot()
    # one declared type per attribute, and only types yEd and Gephi read
    types = _declared_types(root, ns)
    assert all(len(t) == 1 for t in types.values()), types
    assert {t for ts in types.values() for t in ts} <= {"string", "int", "long", "double", "boolean"}
    text = graphml.read_text(encoding="utf-8")
    assert ">None<" not in text and "['" not in text
    back = nx.read_graphml(graphml)
    assert back.number_of_nodes() == graph.number_of_nodes()
    assert back.number_of_edges() == graph.number_of_edges()
    # lists become "a; b"
    partners = [d for *_, d in back.edges(data=True) if d.get("relation") == "partners_with"]
    assert partners
    g2 = nx.read_gexf(gexf)
    assert g2.number_of_nodes() == graph.number_of_nodes()
    assert g2.number_of_edges() == graph.number_of_edges()
    assert "None" not in {str(v) for _, d in g2.nodes(data=True) for v in d.values()}


def test_graph_of_the_real_run_exports(corpus_run):
    out, docs = corpus_run
    for name in ("graph.json", "graph.graphml", "graph.gexf"):
        assert (out / name).is_file(), name
    data = json.loads((out / "graph.json").read_text(encoding="utf-8"))
    assert schema_errors(data, "graph") == []
    ids = {n["id"] for n in data["nodes"]}
    assert {f"doc:{d['id']}" for d in docs} <= ids
    assert any(n["type"] == "task" for n in data["nodes"])


def test_gexf_holds_no_date_of_the_day(tmp_path):
    # The same graph written on two days must give the same bytes (outputs/ is committed).
    import networkx as nx

    from pipeline.corpus.graph import write_chunks

    g = nx.MultiDiGraph(name="t")
    g.add_node("a", label="A", kind="document")
    g.add_edge("a", "b", relation="implements")
    gexf = "".join(write_chunks(g, "gexf"))
    assert "<creator>vanban</creator>" in gexf
    assert "lastmodifieddate" not in gexf
