"""`vanban diff A B [C …]`: compare plans across provinces, duty by duty.

Given two or more documents (files, or document ids of a run), the diff lines up:
- their top-level sections by canonical kind;
- the directives each one implements (references with relation `implements`);
- their agencies, through the canonical id and the 2025 successor map, so Đắk Lắk's
  *Sở Lao động - Thương binh và Xã hội* (2024) meets Cao Bằng's *Sở Nội vụ* (2025), with a note
  saying why;
- for each agency that several plans task, its tasks aligned by meaning (`TextSimilarity`):
  shared (near-identical wording), reworded (same duty, other words) or unique to one plan;
- their targets side by side (indicator, direction, value, unit), and their deadlines.

Text similarity: TF-IDF weighted cosine over the syllables and syllable pairs of the folded
text (`textkeys.fold`), with the abbreviations each document defines ("bệnh nghề nghiệp (BNN)")
expanded first, so "NLĐ" in one plan meets "người lao động" in another. The IDF comes from the
paragraphs of the documents being compared: the words every duty of an OSH plan uses
("người lao động", "phối hợp") weigh little, the words that name the duty weigh much.

Documents are read through the model (`Document`, from a run's JSON with `Document.from_dict`).
The result is a plain dict (schemas/diff.schema.json); `to_markdown` and `to_html` render it.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..model import Assignment, Document, Section, Span
from ..textkeys import fold

DIFF_SCHEMA_VERSION = "1.0"

# Similarity thresholds (TF-IDF cosine, 0..1). Measured on the corpus plans: the same duty
# copied between provinces scores 0.8-1.0, the same duty reworded 0.3-0.6, two different
# duties of one agency 0.05-0.25.
SHARED_MIN = 0.8
REWORDED_MIN = 0.3
# Indicators are short noun phrases; they align on plain token overlap (see indicator_similarity).
INDICATOR_MIN = 0.5

def _section_labels() -> dict[str, str]:
    """Section kind -> its label for people, in table order (rules/sections.yaml: labels)."""
    from ..rules import load

    return load("sections")["labels"]


# --------------------------------------------------------------------------------------------
# Loading documents


def read_document(ref: str | Path, run_dir: Path | None = None) -> Document:
    """The typed document of a file (parsed now, or a JSON of a run) or of a document id of a run.

    A bare id is looked up as `<run_dir>/<id>.json`; an unambiguous part of an id also works
    ("dak-lak" finds "dak-lak_ke-hoach_2024-12").
    """
    path = Path(ref)
    if path.is_file() and path.suffix.lower() != ".json":
        from ..parse import parse_file

        doc = parse_file(path)
        if doc.status == "failed":
            raise ValueError(f"{path}: " + "; ".join(e.message for e in doc.errors))
        return doc
    json_path = document_json_path(ref, run_dir)
    return document_from_json(json.loads(json_path.read_text(encoding="utf-8")), json_path)


def document_json_path(ref: str | Path, run_dir: Path | None = None) -> Path:
    """The JSON file a document given as `ref` is read from: `ref` itself when it is a file,
    else `<run_dir>/<ref>.json`, else the one JSON of the run whose id contains `ref`."""
    path = Path(ref)
    if path.is_file():
        return path
    run_dir = Path(run_dir or "outputs")
    exact = run_dir / f"{ref}.json"
    if exact.is_file():
        return exact
    candidates = [p for p in run_documents_paths(run_dir) if str(ref) in p.stem]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(p.stem for p in candidates)
        raise ValueError(f"{ref!r} is ambiguous in {run_dir}: {names}")
    raise FileNotFoundError(f"{ref!r} is neither a file nor a document id of the run in {run_dir}")


def document_from_json(data: Any, origin: str | Path) -> Document:
    """The typed document of a run's document JSON (`Document.from_dict`); a ValueError naming
    `origin` for JSON that is no document (links.json, run-report.json, …)."""
    if not (isinstance(data, dict) and "text" in data and "metadata" in data):
        raise ValueError(f"{origin}: not a document JSON")
    try:
        return Document.from_dict(data)
    except (TypeError, AttributeError) as exc:  # a required field missing, a part of the wrong shape
        raise ValueError(f"{origin}: not a document JSON ({exc})") from None


def run_documents_paths(run_dir: Path) -> list[Path]:
    """The per-document JSON files of a run folder (not links.json, run-report.json, …)."""
    if not run_dir.is_dir():
        return []
    out = []
    for path in sorted(run_dir.glob("*.json")):
        if path.stem in ("links", "run-report", "graph", "diff") or path.name.startswith("."):
            continue
        out.append(path)
    return out


def resolved_numbers(links: dict[str, Any] | None) -> dict[str, str]:
    """Document id -> the number the corpus resolved for it, from a run's links.json: a
    document whose own number is blank ('Số: /KH-UBND') that the other documents of the run
    cite by number ('Kế hoạch số 664/KH-UBND')."""
    out = {}
    for entry in (links or {}).get("documents") or []:
        if isinstance(entry, dict) and entry.get("recognised_as") and not entry.get("number"):
            out[str(entry["id"])] = str(entry["recognised_as"])
    return out


def corpus_numbers(run_dir: Path | None) -> dict[str, str]:
    """`resolved_numbers` of the run in `run_dir` ({} without a readable links.json)."""
    if run_dir is None:
        return {}
    try:
        return resolved_numbers(json.loads((Path(run_dir) / "links.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def run_of(ref: str | Path, run_dir: Path | None = None) -> Path | None:
    """The run folder a document given as `ref` comes from: the folder of a JSON file, the
    run folder for a document id; None for a file parsed now (no corpus has seen it)."""
    path = Path(ref)
    if path.is_file():
        return path.parent if path.suffix.lower() == ".json" else None
    return Path(run_dir or "outputs")


def read_run(run_dir: Path) -> list[Document]:
    """Every document of a run, typed (files that are not document JSON are skipped)."""
    docs = []
    for path in run_documents_paths(run_dir):
        try:
            docs.append(document_from_json(json.loads(path.read_text(encoding="utf-8")), path))
        except (OSError, ValueError):  # unreadable, not JSON (JSONDecodeError), not a document
            continue
    return docs


# --------------------------------------------------------------------------------------------
# Text keys and similarity

# "bệnh nghề nghiệp (BNN)": an abbreviation in brackets right after the words it stands for.
_ABBREVIATION = re.compile(r"\(([A-ZĐ][A-ZĐa-zđ&]{1,11})\)")


def defined_abbreviations(text: str) -> dict[str, str]:
    """Abbreviations a document defines, folded: {"bnn": "benh nghe nghiep", …}.

    Accepted only when the capitals of the abbreviation are the initials of the words just
    before the bracket ("an toàn, vệ sinh lao động (ATVSLĐ)" → a t v s l đ), so a bracketed
    code that names nothing ("(ODA)" after unrelated words) is not taken.
    """
    found: dict[str, str] = {}
    for match in _ABBREVIATION.finditer(text):
        letters = fold("".join(c for c in match.group(1) if c.isupper())).replace(" ", "")
        words = fold(text[max(0, match.start() - 160):match.start()]).split()
        count = len(letters)
        if count < 2 or len(words) < count:
            continue
        if "".join(w[0] for w in words[-count:]) == letters:
            found.setdefault(fold(match.group(1)).replace(" ", ""), " ".join(words[-count:]))
    return found


def tokens(text: str | None, abbreviations: dict[str, str] | None = None) -> list[str]:
    """Folded syllables with the known abbreviations expanded."""
    words = fold(text).split()
    if not abbreviations:
        return words
    out: list[str] = []
    for word in words:
        out.extend(abbreviations.get(word, word).split())
    return out


def features(toks: list[str]) -> set[str]:
    """Syllables and syllable pairs: Vietnamese words are mostly two syllables."""
    return set(toks) | {f"{a}_{b}" for a, b in zip(toks, toks[1:])}


class TextSimilarity:
    """TF-IDF cosine between texts, fitted on the paragraphs of a set of documents."""

    def __init__(self, docs: Iterable[Document]):
        self.abbreviations: dict[str, str] = {}
        paragraphs: list[str] = []
        for doc in docs:
            text = doc.text or ""
            for short, long in defined_abbreviations(text).items():
                self.abbreviations.setdefault(short, long)
            paragraphs.extend(line for line in text.split("\n") if len(line) > 20)
        self.document_frequency: Counter[str] = Counter()
        for paragraph in paragraphs:
            self.document_frequency.update(features(tokens(paragraph, self.abbreviations)))
        self.paragraph_count = len(paragraphs)
        self._vectors: dict[str, dict[str, float]] = {}

    def idf(self, feature: str) -> float:
        return math.log((self.paragraph_count + 1) / (self.document_frequency.get(feature, 0) + 1)) + 1.0

    def vector(self, text: str) -> dict[str, float]:
        vec = self._vectors.get(text)
        if vec is None:
            vec = {f: self.idf(f) for f in features(tokens(text, self.abbreviations))}
            self._vectors[text] = vec
        return vec

    def __call__(self, text_a: str, text_b: str) -> float:
        vec_a, vec_b = self.vector(text_a), self.vector(text_b)
        if not vec_a or not vec_b:
            return 0.0
        if len(vec_a) > len(vec_b):
            vec_a, vec_b = vec_b, vec_a
        dot = sum(w * vec_b[f] for f, w in vec_a.items() if f in vec_b)
        norm = math.sqrt(sum(w * w for w in vec_a.values()) * sum(w * w for w in vec_b.values()))
        return round(dot / norm, 4) if norm else 0.0


def indicator_similarity(text_a: str, text_b: str, abbreviations: dict[str, str] | None = None) -> float:
    """Folded token overlap of two indicator phrases: mean of Jaccard and overlap coefficient.

    Overlap (|A∩B| / min) lets a short indicator ("số người lao động được khám bệnh nghề
    nghiệp") meet its longer form; Jaccard keeps two long phrases that share only their
    common head ("số cơ sở …") apart.
    """
    toks_a, toks_b = set(tokens(text_a, abbreviations)), set(tokens(text_b, abbreviations))
    if not toks_a or not toks_b:
        return 0.0
    common = len(toks_a & toks_b)
    return round((common / len(toks_a | toks_b) + common / min(len(toks_a), len(toks_b))) / 2, 4)


# --------------------------------------------------------------------------------------------
# Grouping items of several documents


def align(
    items: list[tuple[str, int, str]],
    similarity: Callable[[str, str], float],
    threshold: float,
) -> list[list[tuple[str, int, str]]]:
    """Group (doc_id, index, text) items of different documents that say the same thing.

    Greedy complete linkage over the cross-document pairs, best pair first: two groups merge
    only when every pair across them reaches `threshold` (no chaining A~B~C with A far from C),
    and a group never holds two items of one document, so it is at most one item per plan.
    """
    scores: dict[tuple[int, int], float] = {}
    pairs = []
    for pos_a, (doc_a, _, text_a) in enumerate(items):
        for pos_b in range(pos_a + 1, len(items)):
            doc_b, _, text_b = items[pos_b]
            if doc_a == doc_b:
                continue
            score = scores[pos_a, pos_b] = similarity(text_a, text_b)
            if score >= threshold:
                pairs.append((score, pos_a, pos_b))
    pairs.sort(key=lambda pair: (-pair[0], pair[1], pair[2]))
    group_of = list(range(len(items)))
    members: dict[int, list[int]] = {i: [i] for i in range(len(items))}
    for _, pos_a, pos_b in pairs:
        gi, gj = group_of[pos_a], group_of[pos_b]
        if gi == gj:
            continue
        docs_i = {items[k][0] for k in members[gi]}
        if any(items[k][0] in docs_i for k in members[gj]):
            continue
        if any(scores.get((min(a, b), max(a, b)), 0.0) < threshold for a in members[gi] for b in members[gj]):
            continue
        for member in members[gj]:
            group_of[member] = gi
        members[gi].extend(members.pop(gj))
    groups = [sorted(m) for m in members.values()]
    groups.sort(key=lambda group: group[0])
    return [[items[k] for k in g] for g in groups]


def _pairwise_min(texts: list[str], similarity: Callable[[str, str], float]) -> float | None:
    if len(texts) < 2:
        return None
    return min(similarity(a, b) for i, a in enumerate(texts) for b in texts[i + 1:])


# --------------------------------------------------------------------------------------------
# Agencies


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, Any]:
    """Names by folded spelling, canonical names and successors from rules/agencies.yaml."""
    from ..rules import load, province_names

    data = load("agencies") or {}
    by_spelling: dict[str, str] = {}
    names: dict[str, str] = {}
    for entry in data.get("agencies") or []:
        names[entry["id"]] = entry["name"]
        spellings = [entry["name"], *(entry.get("aliases") or []), *(entry.get("abbreviations") or [])]
        for spelling in spellings:
            if "{province}" in spelling:
                continue
            by_spelling.setdefault(fold(spelling), entry["id"])
    successors = {s["from"]: s for s in data.get("successors") or []}
    provinces = sorted({fold(name) for name in province_names()}, key=len, reverse=True)
    level_suffixes = [" " + fold(p) for p in data["province_level_phrases"]]
    return {"by_spelling": by_spelling, "names": names, "successors": successors, "provinces": provinces,
            "level_suffixes": level_suffixes, "level": " " + fold(data["province_level_word"])}


def _strip_place(folded: str, province: str | None) -> str:
    """'so y te tinh cao bang' -> 'so y te': the province is not part of an agency's identity."""
    gz = _gazetteer()
    for place in ([fold(province)] if province else []) + gz["provinces"]:
        if place and folded.endswith(" " + place):
            folded = folded[: -len(place) - 1]
            break
    for suffix in gz["level_suffixes"]:  # " cap tinh" before " tinh"
        if folded.endswith(suffix):
            folded = folded[: -len(suffix)]
            break
    return folded


def agency_identity(assignment: Assignment, province: str | None = None) -> tuple[str, str | None]:
    """(alignment key, canonical id as named) of an assignment's agency.

    The key is the successor when the agency was merged away in 2025, else its canonical id;
    agencies the gazetteer does not know are keyed by their folded name without the province.
    """
    gz = _gazetteer()
    agency_id = assignment.agency_id
    if not agency_id:
        folded = _strip_place(fold(assignment.agency), assignment.province or province)
        agency_id = gz["by_spelling"].get(folded) or gz["by_spelling"].get(folded + gz["level"])
    successor = assignment.successor
    if not successor and agency_id in gz["successors"]:
        successor = gz["successors"][agency_id]["to"]
    if successor:
        return successor, agency_id
    if agency_id:
        return agency_id, agency_id
    folded = _strip_place(fold(assignment.agency), assignment.province or province)
    return "name:" + folded, None


def successor_note(old_id: str, old_name: str, new_id: str) -> str:
    gz = _gazetteer()
    rule = gz["successors"].get(old_id) or {}
    new_name = gz["names"].get(new_id, new_id)
    note = f"{old_name} → {new_name}: merged in the 2025 restructuring"
    if rule.get("effective"):
        note += f" (effective {rule['effective']}"
        scope = rule.get("scope")
        note += f"; scope: {scope})" if scope and scope != "all" else ")"
    return note


# --------------------------------------------------------------------------------------------
# The diff


def _span(span: Span | None) -> dict[str, Any] | None:
    """A span as the diff shows it: its JSON."""
    return asdict(span) if span is not None else None


def _plan_summary(doc: Document, resolved_number: str | None = None) -> dict[str, Any]:
    metadata = doc.metadata
    return {
        "id": doc.id,
        "doc_type": metadata.doc_type,
        "number": metadata.number,
        # the document's own number is blank; the corpus step found how the other documents
        # of the run cite it (links.json `recognised_as`)
        "resolved_number": None if metadata.number else resolved_number,
        "symbol": metadata.symbol,
        "issuer": metadata.issuer,
        "province": metadata.province,
        "date": metadata.date,
        "title": metadata.title,
        "counts": {"sections": len(doc.sections), "assignments": len(doc.assignments), "targets": len(doc.targets),
                   "deadlines": len(doc.deadlines), "references": len(doc.references)},
    }


def _sections(docs: list[Document]) -> list[dict[str, Any]]:
    kinds: list[str] = []
    by_kind: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for doc in docs:
        for section in doc.sections:
            if section.level != 1:
                continue
            kind = section.kind or "other"
            if kind not in by_kind:
                kinds.append(kind)
                by_kind[kind] = {}
            by_kind[kind].setdefault(doc.id, []).append(_section_row(section))
    order = list(_section_labels())
    kinds.sort(key=lambda section_kind: order.index(section_kind) if section_kind in order else len(order))
    return [
        {"kind": k, "label": _section_labels().get(k, k), "plans": [d.id for d in docs if d.id in by_kind[k]],
         "by_plan": by_kind[k]}
        for k in kinds
    ]


def _section_row(section: Section) -> dict[str, Any]:
    return {"number": section.number, "heading": section.heading or "", "span": _span(section.span)}


def _directives(docs: list[Document]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in docs:
        for ref in doc.references:
            if ref.relation != "implements":
                continue
            key = ref.canonical_id or ref.text
            row = out.setdefault(key, {"canonical_id": key, "doc_type": ref.doc_type,
                                       "title": ref.title, "issuer": ref.issuer,
                                       "plans": [], "mentions": {}})
            if doc.id not in row["plans"]:
                row["plans"].append(doc.id)
                row["mentions"][doc.id] = {"text": ref.text or key, "span": _span(ref.span)}
    return sorted(out.values(), key=lambda directive: (-len(directive["plans"]), directive["canonical_id"]))


def _task_row(doc_id: str, assignment: Assignment, similarity_to_group: float | None = None) -> dict[str, Any]:
    deadline = assignment.deadline
    return {
        "plan": doc_id,
        "agency": assignment.agency,
        "role": assignment.role,
        "section": assignment.section,
        "text": assignment.task or "",
        "span": _span(assignment.span),
        "partners": list(assignment.partners or []),
        "deadline": ({"text": deadline.text, "date": deadline.date, "recurrence": deadline.recurrence}
                     if deadline else None),
        "similarity_to_first": similarity_to_group,
    }


def _agencies(docs: list[Document], similarity: TextSimilarity) -> list[dict[str, Any]]:
    gz = _gazetteer()
    agencies: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for doc in docs:
        province = doc.metadata.province
        for assignment in doc.assignments:
            key, named_id = agency_identity(assignment, province)
            row = agencies.get(key)
            if row is None:
                name = gz["names"].get(key) if not key.startswith("name:") else None
                if name and "{province}" in name:  # "Báo {province}": the plan's own spelling
                    name = None
                row = agencies[key] = {"key": key, "name": name or assignment.agency or key, "plans": [],
                                       "names": {}, "notes": [], "_tasks": {}}
                order.append(key)
            if doc.id not in row["plans"]:
                row["plans"].append(doc.id)
            names = row["names"].setdefault(doc.id, [])
            if assignment.agency and assignment.agency not in names:
                names.append(assignment.agency)
            if named_id and named_id != key:
                note = f"{doc.id}: " + successor_note(named_id, assignment.agency or named_id, key)
                if note not in row["notes"]:
                    row["notes"].append(note)
            row["_tasks"].setdefault(doc.id, []).append(assignment)

    out = []
    for key in order:
        row = agencies[key]
        tasks_by_plan: dict[str, list[Assignment]] = row.pop("_tasks")
        items = [(doc_id, i, a.task or "") for doc_id, rows in tasks_by_plan.items() for i, a in enumerate(rows)]
        groups = []
        for group in align(items, similarity, REWORDED_MIN):
            plans = [doc_id for doc_id, _, _ in group]
            score = _pairwise_min([text for _, _, text in group], similarity)
            status = "unique" if len(group) == 1 else ("shared" if score is not None and score >= SHARED_MIN else "reworded")
            groups.append({
                "status": status,
                "plans": plans,
                "similarity": score,
                "tasks": [_task_row(doc_id, tasks_by_plan[doc_id][i],
                                    similarity(group[0][2], text) if k else None)
                          for k, (doc_id, i, text) in enumerate(group)],
            })
        status_rank = {"shared": 0, "reworded": 1, "unique": 2}
        groups.sort(key=lambda task_group: (status_rank[task_group["status"]], -len(task_group["plans"])))
        row["tasks"] = groups
        row["task_counts"] = {doc_id: len(rows) for doc_id, rows in tasks_by_plan.items()}
        out.append(row)
    out.sort(key=lambda agency_row: (-len(agency_row["plans"]), agency_row["name"]))
    return out


def _targets(docs: list[Document], abbreviations: dict[str, str]) -> list[dict[str, Any]]:
    items = [(doc.id, i, t.indicator or t.text or "") for doc in docs for i, t in enumerate(doc.targets)]
    by_id = {doc.id: doc for doc in docs}

    def sim(text_a: str, text_b: str) -> float:
        return indicator_similarity(text_a, text_b, abbreviations)

    rows = []
    for group in align(items, sim, INDICATOR_MIN):
        by_plan = {}
        for doc_id, index, _ in group:
            target = by_id[doc_id].targets[index]
            by_plan[doc_id] = {"indicator": target.indicator, "direction": target.direction, "value": target.value,
                               "unit": target.unit, "qualifier": target.qualifier, "period": target.period,
                               "text": target.text, "span": _span(target.span)}
        plans = [doc_id for doc_id, _, _ in group]
        values = {(r["direction"], r["value"], r["unit"]) for r in by_plan.values()}
        rows.append({
            "indicator": group[0][2],
            "plans": plans,
            "status": "unique" if len(plans) == 1 else ("same" if len(values) == 1 else "different"),
            "similarity": _pairwise_min([text for _, _, text in group], sim),
            "by_plan": by_plan,
        })
    ids = [doc.id for doc in docs]
    rows.sort(key=lambda row: (-len(row["plans"]), ids.index(row["plans"][0])))
    return rows


def _deadlines(docs: list[Document]) -> dict[str, list[dict[str, Any]]]:
    return {doc.id: [{"text": deadline.text, "date": deadline.date, "recurrence": deadline.recurrence,
                      "who": deadline.who, "what": deadline.what, "span": _span(deadline.span)}
                     for deadline in doc.deadlines]
            for doc in docs}


def diff_documents(docs: list[Document], resolved_numbers: dict[str, str] | None = None) -> dict[str, Any]:
    """The diff of two or more documents.

    `resolved_numbers`: document id -> the number the corpus step resolved for a document
    whose own number is blank (`corpus_numbers`); shown marked as resolved."""
    resolved_numbers = resolved_numbers or {}
    if len(docs) < 2:
        raise ValueError("a diff needs at least two documents")
    ids = [d.id for d in docs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"the same document is given twice: {ids}")
    similarity = TextSimilarity(docs)
    agencies = _agencies(docs, similarity)
    warnings = []
    for doc in docs:
        doc_type = doc.metadata.doc_type
        if doc_type not in (None, "ke_hoach"):
            warnings.append(f"{doc.id} is a {doc_type}, not a plan")
        for field, items in (("assignments", doc.assignments), ("targets", doc.targets)):
            if not items:
                warnings.append(f"{doc.id} has no {field}")
    only_in = {doc_id: [a["name"] for a in agencies if a["plans"] == [doc_id]] for doc_id in ids}
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "plans": [_plan_summary(d, resolved_numbers.get(d.id)) for d in docs],
        "thresholds": {"shared": SHARED_MIN, "reworded": REWORDED_MIN, "indicator": INDICATOR_MIN},
        "abbreviations": dict(sorted(similarity.abbreviations.items())),
        "sections": _sections(docs),
        "directives": _directives(docs),
        "agencies": agencies,
        "agencies_only_in": only_in,
        "targets": _targets(docs, similarity.abbreviations),
        "deadlines": _deadlines(docs),
        "warnings": warnings,
    }


# --------------------------------------------------------------------------------------------
# Rendering: templates/diff.md, diff.html and diff_fragment.html (pipeline.corpus.report_assets)


def _short(text: str | None, limit: int = 180) -> str:
    from .report_assets import short

    return short(text, limit)


def format_value(row: dict[str, Any] | None) -> str:
    """'decrease 4 %/năm (at least)' for a target row."""
    if not row:
        return "—"
    value = row.get("value")
    value_text = f"{value:g}" if isinstance(value, (int, float)) else str(value)
    sign = {"increase": "+", "decrease": "−"}.get(row.get("direction") or "", "")
    out = f"{sign}{value_text} {row.get('unit') or ''}".strip()
    if row.get("direction") == "reach":
        out = "reach " + out
    if row.get("qualifier"):
        out += f" ({row['qualifier'].replace('_', ' ')})"
    return out


def document_number(plan: dict[str, Any], blank: str = "(blank)", mark: str = " (resolved)") -> str:
    """How a plan is numbered: its own 'number/symbol', else the number the corpus resolved
    for it followed by `mark`, else its symbol after a blank number ('(blank)/KH-UBND')."""
    if plan.get("number"):
        return f"{plan['number']}/{plan.get('symbol') or ''}".rstrip("/")
    if plan.get("resolved_number"):
        return f"{plan['resolved_number']}{mark}"
    return f"{blank}/{plan['symbol']}" if plan.get("symbol") else blank


def _label(plan: dict[str, Any]) -> str:
    """'Cao Bằng 664/KH-UBND 2025-03-10': a resolved number unmarked here (the plans table
    at the top of the diff marks it), a blank one as '…'."""
    bits = [plan.get("province") or plan["id"]]
    number = document_number(plan, blank="…", mark="")
    if number != "…":
        bits.append(number)
    if plan.get("date"):
        bits.append(plan["date"])
    return " ".join(bits)


def _context(diff: dict[str, Any]) -> dict[str, Any]:
    """What the templates need beside the diff: ids in order, labels, the shared agencies."""
    plans = diff["plans"]
    ids = [p["id"] for p in plans]
    targets_only = {}
    if len(ids) > 1:
        for doc_id in ids:
            added = [t for t in diff["targets"] if t["plans"] == [doc_id]]
            if added:
                targets_only[doc_id] = added
    return {
        "diff": diff,
        "ids": ids,
        "label": {p["id"]: _label(p) for p in plans},
        "labels": [_label(p) for p in plans],
        "number": {p["id"]: document_number(p) for p in plans},
        "resolved": [p for p in plans if p.get("resolved_number") and not p.get("number")],
        "shared": [a for a in diff["agencies"] if len(a["plans"]) > 1],
        "targets_only": targets_only,
        "format_value": format_value,
    }


def template_filters() -> dict[str, Callable[..., Any]]:
    """The diff templates' filters; those that name a plan read `label` from the context."""
    from jinja2 import pass_context

    @pass_context
    def label(ctx, doc_id: str) -> str:
        return ctx["label"][doc_id]

    @pass_context
    def task_count(ctx, doc_id: str, agency: dict[str, Any]) -> str:
        return f"{ctx['label'][doc_id]}: {agency['task_counts'].get(doc_id, 0)}"

    @pass_context
    def where(ctx, task: dict[str, Any]) -> str:
        return ctx["label"][task["plan"]] + (f" {task['section']}" if task.get("section") else "")

    def section_heading(section: dict[str, Any], limit: int) -> str:
        return f"{section['number']}. {_short(section['heading'], limit)}"

    return {"label": label, "task_count": task_count, "where": where, "section_heading": section_heading}


def to_markdown(diff: dict[str, Any]) -> str:
    from .report_assets import render

    return render("diff.md", **_context(diff))


def to_html_fragment(diff: dict[str, Any]) -> str:
    """The diff as an HTML fragment (every string escaped); used by `vanban report` too."""
    from .report_assets import render

    return render("diff_fragment.html", **_context(diff))


def to_html(diff: dict[str, Any]) -> str:
    from .report_assets import CSS, render

    return render("diff.html", css=CSS, title="Plan diff: " + " · ".join(_label(p) for p in diff["plans"]),
                  **_context(diff))


# --------------------------------------------------------------------------------------------
# Command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("documents", nargs="+",
                        help="two or more plans: files (TXT/PDF/DOCX/JSON) or document ids of a run")
    parser.add_argument("--run", type=Path, default=Path("outputs"),
                        help="run folder for document ids (default: outputs/)")
    parser.add_argument("--format", choices=("markdown", "json", "html"), default="markdown")
    parser.add_argument("--out", type=Path, help="write to this file instead of stdout")


def main(args: argparse.Namespace) -> int:
    if len(args.documents) < 2:
        sys.stderr.write("vanban diff: give at least two documents\n")
        return 2
    try:
        docs = [read_document(ref, args.run) for ref in args.documents]
        numbers: dict[str, str] = {}
        for ref, doc in zip(args.documents, docs):
            number = corpus_numbers(run_of(ref, args.run)).get(doc.id)
            if number:
                numbers[doc.id] = number
        diff = diff_documents(docs, numbers)
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"vanban diff: {exc}\n")
        return 1
    if args.format == "json":
        from ..stages.emit import dumps

        text = dumps(diff) + "\n"
    elif args.format == "html":
        text = to_html(diff)
    else:
        text = to_markdown(diff)
    if args.out:
        from ..stages.emit import write_atomic

        write_atomic(args.out, text)
    else:
        sys.stdout.write(text)
    return 0
