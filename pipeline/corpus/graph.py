"""The knowledge graph of a run: documents, agencies, tasks and targets, and how they connect.

`build_graph(documents, links)` turns the documents of a run (typed `Document`s, read from its
JSONs by `load_run_documents`) and the link stage's result into a networkx MultiDiGraph;
`export_graph(G, out_dir)` writes it as node-link JSON (schemas/graph.schema.json), GraphML
(yEd, Gephi, Cytoscape) and GEXF (Gephi), each streamed element by element. Exports are made on
demand (`vanban export graph --format graphml|gexf|json`, or `vanban run --graph`): the store
and the HTML report do not need them.

Node ids are stable across runs, so two runs' graphs can be compared:
  doc:<document id>                 a document of the run
  ref:<canonical id>                a document only cited ("ref:209/NQ-CP")
  agency:<agency id>@<province>     "agency:so_y_te@cao-bang"; unknown names use their folded form
  task:<document id>:<start>-<end>  a task, by the span of its text (shared by co-assigned agencies)
  target:<document id>:<start>-<end>
Edges (attribute `relation`, also the GEXF label):
  doc -issued_by-> agency           doc -cites|implements|reports_on-> ref|doc
  ref -resolved_to-> doc            doc -has_task-> task
  task -assigns-> agency            (attribute `role`: lead | support | responsible | requested)
  agency -partners_with-> agency    (a partner named in the task; `task` says which)
  doc -has_target-> target          agency -succeeded_by-> agency (the 2025 restructuring)
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import networkx as nx

from ..model import Assignment, Document, Metadata, Span
from .store import agency_record, agency_node_id, document_canonical_id, task_node_id

NODE_TYPES = ("document", "agency", "task", "target")
RELATIONS = ("issued_by", "cites", "implements", "reports_on", "resolved_to", "has_task",
             "assigns", "partners_with", "has_target", "succeeded_by")


def build_graph(documents: list[Document], links: dict[str, Any] | None = None) -> nx.MultiDiGraph:
    """The graph of a run. `documents`: the run's documents (`Document.from_dict` of each
    `<id>.json`, see `load_run_documents`); `links`: pipeline.corpus.link's result (links.json)."""
    graph = nx.MultiDiGraph(name="vanban")
    run_ids = {document.id for document in documents}
    own_ids: dict[str, str] = {}  # canonical id -> run document carrying it
    for document in documents:
        cid = _canonical_id(document.metadata)
        if cid:
            own_ids.setdefault(cid, document.id)
    for entry in (links or {}).get("documents", []):  # numberless plans `recognised_as` a number
        cid = (entry.get("canonical_id") or entry.get("recognised_as")) if isinstance(entry, dict) else None
        if cid and entry.get("id") in run_ids:
            own_ids.setdefault(cid, entry["id"])

    run_canonical_ids: dict[str, str] = {}  # run document -> its first canonical id
    for cid, doc_id in own_ids.items():
        run_canonical_ids.setdefault(doc_id, cid)
    for document in documents:
        _add_document(graph, document, run_canonical_ids.get(document.id))
    for cid, doc_id in own_ids.items():  # "664/KH-UBND" is the Cao Bằng plan
        if f"ref:{cid}" in graph:
            _edge(graph, f"ref:{cid}", f"doc:{doc_id}", "resolved_to")
    for edge in (links or {}).get("edges", []):
        _add_link(graph, edge, run_ids)
    _add_successors(graph)
    return graph


def _canonical_id(metadata: Metadata) -> str | None:
    """store.document_canonical_id of the header ("664/KH-UBND"), which reads the store's dict rows."""
    return document_canonical_id({"number": metadata.number, "symbol": metadata.symbol})


def _task_node(doc_id: str, assignment: Assignment, index: int) -> str:
    """store.task_node_id of an assignment (the store's and the graph's task ids are one)."""
    span = assignment.span
    return task_node_id(doc_id, {"start": span.start, "end": span.end} if span else None, index)


def _add_document(graph: nx.MultiDiGraph, document: Document, cid: str | None) -> None:
    meta = document.metadata
    doc_id, province = document.id, meta.province
    node = f"doc:{doc_id}"
    graph.add_node(node, type="document", label=cid or doc_id, in_run=True, document=doc_id,
                   canonical_id=cid, doc_type=meta.doc_type, province=province,
                   date=meta.date, issuer=meta.issuer, title=meta.title,
                   status=document.status)
    if meta.issuer:
        issuer = _agency(graph, meta.issuer, province)
        _edge(graph, node, issuer, "issued_by")

    for citation in document.references:
        ref = f"ref:{citation.canonical_id}"
        if ref not in graph:
            graph.add_node(ref, type="document", label=citation.canonical_id, in_run=False,
                           canonical_id=citation.canonical_id, doc_type=citation.doc_type,
                           date=citation.date, issuer=citation.issuer, title=citation.title)
        _edge(graph, node, ref, citation.relation or "cites", text=citation.text, **_span_attrs(citation.span))
        if citation.resolved_to:
            _edge(graph, ref, f"doc:{citation.resolved_to}", "resolved_to")

    for index, assignment in enumerate(document.assignments):
        task = _task_node(doc_id, assignment, index)
        if task not in graph:
            text = assignment.task or ""
            deadline = assignment.deadline.text if assignment.deadline else None
            graph.add_node(task, type="task", label=_short(text), text=text, document=doc_id,
                           section=assignment.section, deadline=deadline, **_span_attrs(assignment.span))
            _edge(graph, node, task, "has_task")
        a_prov = assignment.province or province
        agency = _agency(graph, assignment.agency, a_prov, assignment.agency_id,
                         assignment.agency_kind, assignment.successor, assignment.known)
        _edge(graph, task, agency, "assigns", role=assignment.role, document=doc_id,
              section=assignment.section)
        for partner in assignment.partners or []:
            _edge(graph, agency, _agency(graph, partner, a_prov), "partners_with", task=task,
                  document=doc_id)

    for measure in document.targets:
        span_attrs = _span_attrs(measure.span)
        target = f"target:{doc_id}:{span_attrs['span_start']}-{span_attrs['span_end']}"
        graph.add_node(target, type="target", label=_short(measure.indicator or measure.text or ""),
                       document=doc_id, indicator=measure.indicator, direction=measure.direction,
                       value=measure.value, unit=measure.unit, text=measure.text, **span_attrs)
        _edge(graph, node, target, "has_target")


# The gazetteer record of a name: a large run names the same agencies thousands of times, and
# the gazetteer (like store.agency_record's own index) does not change while the process runs.
_agency_record = lru_cache(maxsize=4096)(agency_record)


def _agency(graph: nx.MultiDiGraph, name: str, province: str | None, agency_id: str | None = None,
            kind: str | None = None, successor: str | None = None, known: bool | None = None
            ) -> str:
    """The agency node for a name in a province, added on first sight."""
    if agency_id is None:
        record = _agency_record(name)
        if record:
            agency_id, kind = record["id"], kind or record.get("kind")
            successor = successor or record.get("successor")
            name, known = record.get("name") or name, True
    node = agency_node_id(agency_id, name, province)
    if node not in graph:
        graph.add_node(node, type="agency", label=name, name=name, agency_id=agency_id,
                       province=province, agency_kind=kind, successor=successor,
                       known=bool(known) if known is not None else agency_id is not None)
    return node


def _add_link(graph: nx.MultiDiGraph, edge: dict[str, Any], run_ids: set[str]) -> None:
    """An edge of the link stage, unless the documents' own references already gave it."""
    # edges between two outside documents come from the titles ("417-KH/TU implements 31-CT/TW")
    src, dst = (f"doc:{x}" if x in run_ids else f"ref:{x}" for x in (str(edge["from"]), str(edge["to"])))
    relation = edge.get("relation") or "cites"
    for node in (src, dst):
        if node not in graph:
            graph.add_node(node, type="document", label=node.split(":", 1)[1], in_run=False,
                           canonical_id=node.split(":", 1)[1])
    already = graph.get_edge_data(src, dst) or {}
    if any(d.get("relation") == relation for d in already.values()):
        return
    # a resolved citation is already src -> ref -> doc
    if dst.startswith("doc:") and any(
            graph.has_edge(src, ref) and any(d.get("relation") == relation for d in graph[src][ref].values())
            for ref in graph.pred[dst] if ref.startswith("ref:")):
        return
    _edge(graph, src, dst, relation, resolved=bool(edge.get("resolved")))


def _add_successors(graph: nx.MultiDiGraph) -> None:
    """Sở LĐTBXH of Đắk Lắk -succeeded_by-> Sở Nội vụ of Đắk Lắk (added when absent)."""
    for node, data in list(graph.nodes(data=True)):
        if data.get("type") == "agency" and data.get("successor"):
            record = _agency_record(data["successor"]) or {}
            name = record.get("name") or data["successor"]
            succ = _agency(graph, name, data.get("province"), data["successor"], record.get("kind"))
            if succ != node:
                _edge(graph, node, succ, "succeeded_by")


def _edge(graph: nx.MultiDiGraph, src: str, dst: str, relation: str, **attrs: Any) -> None:
    if relation in _ONCE and any(d["relation"] == relation
                                 for d in (graph.get_edge_data(src, dst) or {}).values()):
        return
    graph.add_edge(src, dst, relation=relation, label=relation, **attrs)


_ONCE = {"resolved_to", "issued_by", "has_task", "succeeded_by"}  # facts, not mentions


def _span_attrs(span: Span | None) -> dict[str, Any]:
    # not "start"/"end": GEXF reads those as time intervals
    if span is None:
        return {"span_start": None, "span_end": None}
    return {"span_start": span.start, "span_end": span.end}


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ----------------------------------------------------------------------------- export

def _flat(value: Any) -> str | int | float | bool:
    """A value GraphML and GEXF readers accept: lists joined with "; ", dicts as JSON."""
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return json.dumps(value, ensure_ascii=False)


def plain_graph(graph: nx.MultiDiGraph, flatten: bool = True) -> nx.MultiDiGraph:
    """A copy with no None values (and, when `flatten`, only str/int/float/bool values)."""
    def clean(data: dict[str, Any]) -> dict[str, Any]:
        return {k: (_flat(v) if flatten else v) for k, v in data.items() if v is not None}

    out = nx.MultiDiGraph(**clean(graph.graph))
    out.add_nodes_from((n, clean(d)) for n, d in graph.nodes(data=True))
    out.add_edges_from((u, v, k, clean(d)) for u, v, k, d in graph.edges(keys=True, data=True))
    if flatten:
        _one_type_per_attribute([d for _, d in out.nodes(data=True)])
        _one_type_per_attribute([d for *_, d in out.edges(data=True)])
    return out


def _one_type_per_attribute(items: list[dict[str, Any]]) -> None:
    """GraphML and GEXF declare one type per attribute: ints mixed with floats become floats,
    any other mix becomes strings."""
    types: dict[str, set[type]] = {}
    for attrs in items:
        for key, value in attrs.items():
            types.setdefault(key, set()).add(type(value))
    for key, ts in types.items():
        if len(ts) < 2:
            continue
        cast = float if ts <= {int, float} else str
        for attrs in items:
            if key in attrs:
                attrs[key] = cast(attrs[key])


def node_link(graph: nx.MultiDiGraph) -> dict[str, Any]:
    """The node-link JSON of schemas/graph.schema.json."""
    data = nx.node_link_data(plain_graph(graph, flatten=False), edges="edges")
    data["schema_version"] = "1.0"
    return data


FORMATS = {"json": "graph.json", "graphml": "graph.graphml", "gexf": "graph.gexf"}


def export_graph(graph: nx.MultiDiGraph, out_dir: str | Path,
                 formats: tuple[str, ...] = ("json", "graphml", "gexf")) -> list[Path]:
    """Write graph.json (node-link), graph.graphml and graph.gexf (or the chosen `formats`)
    into `out_dir`. Each file is streamed item by item (never built as one XML tree or one
    JSON structure) to a temporary file that is then renamed."""
    from .link import stream_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in formats:
        path = out_dir / FORMATS[fmt]
        stream_atomic(path, write_chunks(graph, fmt))
        paths.append(path)
    return paths


def write_chunks(graph: nx.MultiDiGraph, fmt: str):
    """The text of one export, in pieces."""
    if fmt == "json":
        return _node_link_chunks(graph)
    flat = plain_graph(graph)
    return _graphml_chunks(flat) if fmt == "graphml" else _gexf_chunks(flat)


def _node_link_chunks(graph: nx.MultiDiGraph):
    """schemas/graph.schema.json, as `node_link` gives it, written node by node."""
    def clean(attrs: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in attrs.items() if v is not None}

    dump = lambda value: json.dumps(value, ensure_ascii=False)  # noqa: E731
    yield '{"directed": true, "multigraph": true, "graph": ' + dump(clean(graph.graph)) + ',\n"nodes": ['
    for index, (node, attrs) in enumerate(graph.nodes(data=True)):
        yield ("," if index else "") + "\n" + dump({**clean(attrs), "id": node})
    yield '\n],\n"edges": ['
    for index, (src, dst, key, attrs) in enumerate(graph.edges(keys=True, data=True)):
        yield ("," if index else "") + "\n" + dump({**clean(attrs), "source": src, "target": dst, "key": key})
    yield '\n],\n"schema_version": "1.0"}\n'


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_XML_ENTITIES = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}  # kept inside attributes


# What `_xml` changes: a value without any of these (most ids, names and numbers) is written as is.
_XML_SPECIAL = re.compile("[&<>\"\n\r\t\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(value: Any) -> str:
    """An attribute or text value for XML: escaped, without characters XML 1.0 forbids."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if _XML_SPECIAL.search(text) is None:  # a large graph has millions of values: skip the escaping pass
        return text
    return xml_escape(_XML_BAD.sub("", text), _XML_ENTITIES)


def _xml_type(values: set[type], ints: str) -> str:
    if values == {bool}:
        return "boolean"
    if values == {int}:
        return ints
    if values <= {int, float}:
        return "double"
    return "string"


def _attribute_types(items) -> dict[str, str]:
    seen: dict[str, set[type]] = {}
    for attrs in items:
        for key, value in attrs.items():
            seen.setdefault(key, set()).add(type(value))
    return {k: v for k, v in ((k, ts) for k, ts in seen.items())}  # type: ignore[misc]


def _graphml_chunks(graph: nx.MultiDiGraph):
    node_types = _attribute_types(d for _, d in graph.nodes(data=True))
    edge_types = _attribute_types(d for *_, d in graph.edges(data=True))
    keys = {("node", k): f"n_{k}" for k in node_types} | {("edge", k): f"e_{k}" for k in edge_types} \
        | {("graph", k): f"g_{k}" for k in graph.graph}
    yield ("<?xml version='1.0' encoding='utf-8'?>\n"
           '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
           'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
    for (kind, types) in (("node", node_types), ("edge", edge_types),
                          ("graph", {k: {type(v)} for k, v in graph.graph.items()})):
        for key, ts in types.items():
            yield (f'  <key id="{_xml(keys[kind, key])}" for="{kind}" attr.name="{_xml(key)}" '
                   f'attr.type="{_xml_type(ts, "long")}" />\n')
    yield '  <graph edgedefault="directed">\n'
    for key, value in graph.graph.items():
        yield f'    <data key="{_xml(keys["graph", key])}">{_xml(value)}</data>\n'

    def data(kind: str, attrs: dict[str, Any]) -> str:
        return "".join(f'<data key="{_xml(keys[kind, k])}">{_xml(v)}</data>' for k, v in attrs.items())

    for node, attrs in graph.nodes(data=True):
        yield f'    <node id="{_xml(node)}">{data("node", attrs)}</node>\n'
    for src, dst, key, attrs in graph.edges(keys=True, data=True):
        yield f'    <edge source="{_xml(src)}" target="{_xml(dst)}" id="{_xml(key)}">{data("edge", attrs)}</edge>\n'
    yield "  </graph>\n</graphml>\n"


def _gexf_chunks(graph: nx.MultiDiGraph):
    # No <meta lastmodifieddate>: it is optional in GEXF 1.2, and a date of the day would make
    # the same run's export differ from day to day (outputs/ is committed).
    node_types = _attribute_types({k: v for k, v in d.items() if k != "label"} for _, d in graph.nodes(data=True))
    edge_types = _attribute_types({k: v for k, v in d.items() if k != "label"} for *_, d in graph.edges(data=True))
    ids = {("node", k): str(i) for i, k in enumerate(node_types)}
    ids |= {("edge", k): str(len(ids) + i) for i, k in enumerate(edge_types)}
    yield ("<?xml version='1.0' encoding='utf-8'?>\n"
           '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
           'xsi:schemaLocation="http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd" version="1.2">\n'
           '  <meta><creator>vanban</creator></meta>\n'
           f'  <graph defaultedgetype="directed" mode="static" name="{_xml(graph.graph.get("name", ""))}">\n')
    for kind, types in (("node", node_types), ("edge", edge_types)):
        yield f'    <attributes mode="static" class="{kind}">\n'
        for key, ts in types.items():
            yield f'      <attribute id="{ids[kind, key]}" title="{_xml(key)}" type="{_xml_type(ts, "long")}" />\n'
        yield "    </attributes>\n"

    def values(kind: str, attrs: dict[str, Any]) -> str:
        vals = "".join(f'<attvalue for="{ids[kind, k]}" value="{_xml(v)}" />' for k, v in attrs.items() if k != "label")
        return f"<attvalues>{vals}</attvalues>" if vals else ""

    yield "    <nodes>\n"
    for node, attrs in graph.nodes(data=True):
        yield f'      <node id="{_xml(node)}" label="{_xml(attrs.get("label", node))}">{values("node", attrs)}</node>\n'
    yield "    </nodes>\n    <edges>\n"
    for index, (src, dst, _key, attrs) in enumerate(graph.edges(keys=True, data=True)):
        label = f' label="{_xml(attrs["label"])}"' if "label" in attrs else ""
        yield (f'      <edge source="{_xml(src)}" target="{_xml(dst)}" id="{index}"{label}>'
               f'{values("edge", attrs)}</edge>\n')
    yield "    </edges>\n  </graph>\n</gexf>\n"


# ----------------------------------------------------------------------------- a run's graph, on demand

# What the graph reads of a document (and `id` and `source`, which every Document has): the
# text, sections, agency mentions and other measures are left out of the typed view.
_GRAPH_FIELDS = ("id", "source", "status", "metadata", "references", "assignments", "targets")


def load_run_documents(run_dir: Path) -> Iterator[Document]:
    """The run's documents, read one JSON at a time, as typed Documents holding only what the
    graph uses (no text, sections or measures other than targets: those keep their defaults)."""
    for path in sorted(Path(run_dir).glob("[!.]*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if isinstance(data, dict) and "metadata" in data and "text" in data:
            yield Document.from_dict({key: data[key] for key in _GRAPH_FIELDS if key in data})


def export_run_graph(run_dir: str | Path, formats: tuple[str, ...], dest: Path | None = None) -> list[Path]:
    """The graph of a finished run (its document JSONs and links.json) in the given formats,
    written into `dest` (default: the run folder)."""
    run_dir = Path(run_dir)
    links_path = run_dir / "links.json"
    links = json.loads(links_path.read_text(encoding="utf-8")) if links_path.is_file() else None
    graph = build_graph(list(load_run_documents(run_dir)), links)
    return export_graph(graph, dest or run_dir, formats)
