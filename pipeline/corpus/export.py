"""`vanban export`: a run's documents as training or analysis data.

- `spacy`: a spaCy DocBin (`.spacy`) of the normalized texts with the extracted items as span
  groups — `doc.spans["agencies"]`, `["tasks"]`, `["references"]`, `["targets"]`,
  `["results"]`, `["deadlines"]`, `["sections"]` — and the references and agencies also as
  `doc.ents` where they do not overlap. It is the format spaCy trains from (`spacy train`)
  and that a researcher can load back with `DocBin().from_disk(...).get_docs(nlp.vocab)`;
  writing it through spaCy itself keeps our spans valid on spaCy's tokens.
- `csv`: one row per assignment (agency, role, task, deadline, document, section), for a
  spreadsheet.
- `graph --format graphml|gexf|json`: the knowledge graph of the run (pipeline.corpus.graph), written
  element by element; `vanban run` writes these files only with `--graph`.

Tokenization uses spaCy's rule tokenizer for Vietnamese (syllables, punctuation split off,
`10/3/2025` kept whole), not pyvi: pyvi's segmentation depends on context, so the same agency
name gets different tokens in different sentences (notes/vietnamese-tooling.md §1).
"""
from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

from ..model import Document, Metadata

# The span groups we write: group -> (its items in a document, an item's label, the label of an
# item that has none: the name of the document's list).
_GROUPS: dict[str, tuple[Callable[[Document], list[Any]], Callable[[Any], Any], str]] = {
    "references": (lambda document: document.references, lambda reference: reference.doc_type, "references"),
    "tasks": (lambda document: document.assignments, lambda assignment: assignment.role, "assignments"),
    "targets": (lambda document: document.targets, lambda target: target.direction, "targets"),
    "results": (lambda document: document.results, lambda result: result.unit, "results"),
    "deadlines": (lambda document: document.deadlines, lambda deadline: deadline.recurrence, "deadlines"),
    "sections": (lambda document: document.sections, lambda section: section.kind, "sections"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("format", choices=["spacy", "csv", "graph"],
                        help="spacy: a DocBin of span groups; csv: one row per assignment; graph: the knowledge graph")
    parser.add_argument("--format", dest="graph_format", default="graphml",
                        help="with `graph`: graphml (default), gexf or json (node-link, schemas/graph.schema.json); "
                             "several with commas")
    parser.add_argument("--run", type=Path, default=Path("outputs"),
                        help="folder of a run's <id>.json (default: outputs/)")
    parser.add_argument("-o", "--out", default=None,
                        help="output file (default: RUN/corpus.spacy, stdout for csv, RUN/graph.<format> for graph; "
                             "`-` for stdout)")


def load_run(run: Path) -> list[Document]:
    """The documents of a run (its per-document JSONs, not the corpus-level files), sorted by id."""
    docs = []
    for path in sorted(run.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "metadata" in data and "text" in data:
            docs.append(Document.from_dict(data))
    return docs


def blank_vietnamese():
    import spacy

    return spacy.blank("vi", config={"nlp": {"tokenizer": {"@tokenizers": "spacy.Tokenizer.v1"}}})


# The header fields a spaCy Doc carries in `user_data["metadata"]` (not where they were read).
_USER_METADATA = tuple(field.name for field in fields(Metadata) if field.name != "spans")


def to_spacy_docs(documents: Iterable[Document], nlp=None) -> Iterator[Any]:
    """spaCy Docs of the documents' normalized text, with their items as span groups."""
    from spacy.util import filter_spans

    nlp = nlp or blank_vietnamese()
    for document in documents:
        doc = nlp.make_doc(document.text)
        doc.user_data["vanban_id"] = document.id
        doc.user_data["metadata"] = {name: getattr(document.metadata, name) for name in _USER_METADATA}
        for group, (items_of, label_of, default_label) in _GROUPS.items():
            spans = []
            for item in items_of(document):
                span = item.span
                if span is None:
                    continue
                spacy_span = doc.char_span(span.start, span.end, label=str(label_of(item) or default_label),
                                           alignment_mode="expand")
                if spacy_span is not None:
                    spans.append(spacy_span)
            doc.spans[group] = spans
        agencies = []
        for assignment in document.assignments:
            # The agency as named sits in the text of the task's heading or sentence; its span
            # is the task's own when no separate agency span is recorded.
            agency_span = assignment.agency_span
            if agency_span:
                agency = doc.char_span(agency_span.start, agency_span.end, label="AGENCY",
                                       alignment_mode="expand")
                if agency is not None:
                    agencies.append(agency)
        doc.spans["agencies"] = agencies
        doc.ents = filter_spans([*agencies, *(s for s in doc.spans["references"])])
        yield doc


def write_docbin(documents: Iterable[Document], path: Path) -> int:
    from spacy.tokens import DocBin

    docbin = DocBin(store_user_data=True)
    count = 0
    for doc in to_spacy_docs(documents):
        docbin.add(doc)
        count += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    docbin.to_disk(path)
    return count


CSV_COLUMNS = ["document", "section", "agency", "agency_id", "successor", "province", "role", "partners", "task", "deadline", "topics"]


def assignment_rows(documents: Iterable[Document]) -> Iterator[dict[str, str]]:
    """One CSV row (CSV_COLUMNS) per assignment of the documents."""
    for document in documents:
        for assignment in document.assignments:
            yield {
                "document": document.id, "section": assignment.section or "", "agency": assignment.agency,
                "agency_id": assignment.agency_id or "", "successor": assignment.successor or "",
                "province": assignment.province or "", "role": assignment.role,
                "partners": "; ".join(assignment.partners),
                "task": assignment.task, "deadline": assignment.deadline.text if assignment.deadline else "",
                "topics": "; ".join(assignment.topics),
            }


def export_graph_command(args: argparse.Namespace) -> int:
    """`vanban export graph`: built from the run's JSONs and links.json, streamed to the file."""
    from .graph import FORMATS, build_graph, load_run_documents, write_chunks
    from .link import stream_atomic
    from .report_assets import plural

    formats = [f.strip().lower() for f in args.graph_format.split(",") if f.strip()]
    if not formats or any(f not in FORMATS for f in formats):
        sys.stderr.write(f"vanban: --format must be one of {', '.join(FORMATS)}\n")
        return 2
    if args.out and len(formats) > 1:
        sys.stderr.write("vanban: -o takes one --format\n")
        return 2
    documents = list(load_run_documents(args.run))
    if not documents:
        sys.stderr.write(f"vanban: {args.run}: no document JSON found\n")
        return 1
    links_path = args.run / "links.json"
    links = json.loads(links_path.read_text(encoding="utf-8")) if links_path.is_file() else None
    graph = build_graph(documents, links)
    del documents
    for fmt in formats:
        chunks = write_chunks(graph, fmt)
        if args.out == "-":
            for chunk in chunks:
                sys.stdout.write(chunk)
            continue
        path = Path(args.out) if args.out else args.run / FORMATS[fmt]
        stream_atomic(path, chunks)
        sys.stderr.write(f"vanban export: graph of {plural(graph.number_of_nodes(), 'node')}, "
                         f"{plural(graph.number_of_edges(), 'edge')} -> {path}\n")
    return 0


def main(args: argparse.Namespace) -> int:
    if not args.run.is_dir():
        sys.stderr.write(f"vanban: {args.run}: not a folder (run `vanban run DIR --out {args.run}` first)\n")
        return 2
    if args.format == "graph":
        return export_graph_command(args)
    documents = load_run(args.run)
    if not documents:
        sys.stderr.write(f"vanban: {args.run}: no document JSON found\n")
        return 1
    if args.format == "spacy":
        from .report_assets import plural

        out = Path(args.out) if args.out else args.run / "corpus.spacy"
        count = write_docbin(documents, out)
        sys.stderr.write(f"vanban export: {plural(count, 'document')} -> {out}\n")
        return 0
    handle = sys.stdout if args.out in (None, "-") else open(args.out, "w", encoding="utf-8", newline="")
    try:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(assignment_rows(documents))
    finally:
        if handle is not sys.stdout:
            handle.close()
    return 0
