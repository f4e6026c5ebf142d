"""The SQLite store of a run: every document's JSON, flattened into tables you can query.

One embedded database (default `outputs/vanban.sqlite`) that Datasette or any SQL client can
open. `vanban run` calls `Store(db).upsert_document(doc_dict)` after each document and
`Store(db).set_links(links)` once the corpus is linked; `vanban query` reads it back through
the four query methods below (`agency_duties`, `duty_owners`, `citing`, `gaps`).

Why the folded columns: FTS5's `remove_diacritics` keeps đ as đ, so "dieu tra" would not find
"điều tra". Every searchable text is stored a second time as `pipeline.textkeys.fold` (no
diacritics, đ -> d, lower case) and queries are folded the same way.

Upserts are keyed by document id and a hash of the document's content (timings excluded, so
re-running an unchanged file is a no-op). A changed document's rows are replaced in one
transaction, or in one savepoint of a batch (`begin_batch`: `vanban run` commits many
documents at once and publishes their JSON after the commit, so a killed run loses one batch).

The stored JSON and its hash are the document as parsed: the corpus step's resolutions
(`resolved_to`) live in `refs`, and `Store.document` lays them over the JSON, as the output
JSON holds them.
"""
from __future__ import annotations

import copy
import hashlib
import heapq
import itertools
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from ..textkeys import fold, match_key

DEFAULT_DB = Path("outputs/vanban.sqlite")

# Roles in the order an answer lists them: who carries the duty first, helpers last.
ROLE_ORDER = {"lead": 0, "responsible": 1, "requested": 2, "support": 3}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    file_name TEXT, source_sha256 TEXT, status TEXT,
    doc_type TEXT, number TEXT, symbol TEXT,
    canonical_id TEXT,            -- "664/KH-UBND": from the header, or from the link stage
    issuer TEXT, province TEXT, province_key TEXT, date TEXT, title TEXT,
    signer_name TEXT, signer_title TEXT
);
CREATE INDEX IF NOT EXISTS documents_canonical ON documents(canonical_id);
-- the sort keys of `agency` and `cites` (province, date), read without the row
CREATE INDEX IF NOT EXISTS documents_order ON documents(id, province, date);
-- kept apart so the rows the queries join stay small
CREATE TABLE IF NOT EXISTS document_json (
    id TEXT PRIMARY KEY REFERENCES documents(id),
    text TEXT,                    -- the normalized text every span points into
    json TEXT NOT NULL            -- the document as parsed, without `text` and `timings`; every
                                  -- `resolved_to` null: refs.resolved_to holds them
);
CREATE TABLE IF NOT EXISTS sections (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    section_id TEXT NOT NULL, number TEXT, marker TEXT, level INTEGER,
    heading TEXT, kind TEXT, parent TEXT, span_start INTEGER, span_end INTEGER,
    PRIMARY KEY (doc_id, section_id)
);
CREATE TABLE IF NOT EXISTS refs (
    doc_id TEXT NOT NULL REFERENCES documents(id),
    idx INTEGER NOT NULL,
    canonical_id TEXT NOT NULL,
    ref_key TEXT NOT NULL,        -- fold(canonical_id): "209 nq cp"
    ref_number TEXT,              -- its first token: "209" (what `cites` looks up)
    number TEXT, symbol TEXT, doc_type TEXT, date TEXT, issuer TEXT, title TEXT,
    relation TEXT NOT NULL,       -- implements | reports_on | cites
    text TEXT, span_start INTEGER, span_end INTEGER,
    resolved_to TEXT,             -- a document id of the run
    -- the sort keys of `cites`, copied from the citing document (written with its rows, never
    -- updated apart): the relation's rank (_REL_ORDER), the document's province and date ('')
    rel_rank INTEGER NOT NULL DEFAULT 9,
    doc_province TEXT NOT NULL DEFAULT '',
    doc_date TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX IF NOT EXISTS refs_resolved ON refs(resolved_to);
CREATE TABLE IF NOT EXISTS agencies (
    node_id TEXT PRIMARY KEY,     -- the graph's id: "agency:<agency id or folded name>@<province>"
    agency_id TEXT, name TEXT NOT NULL, name_key TEXT NOT NULL,
    province TEXT, kind TEXT, successor TEXT, known INTEGER
);
CREATE INDEX IF NOT EXISTS agencies_id ON agencies(agency_id);
CREATE INDEX IF NOT EXISTS agencies_key ON agencies(name_key);
-- each document's view of the agencies it names; `agencies` holds the view of the first
-- document (by id) that names one, so the table does not depend on the order of writes,
-- and an agency no document names any more leaves it
CREATE TABLE IF NOT EXISTS agency_uses (
    node_id TEXT NOT NULL, doc_id TEXT NOT NULL,
    agency_id TEXT, name TEXT NOT NULL, name_key TEXT NOT NULL,
    province TEXT, kind TEXT, successor TEXT, known INTEGER,
    PRIMARY KEY (node_id, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agency_uses_doc ON agency_uses(doc_id);
CREATE TABLE IF NOT EXISTS assignments (
    rowid INTEGER PRIMARY KEY,    -- also the FTS rowid
    doc_id TEXT NOT NULL REFERENCES documents(id),
    idx INTEGER NOT NULL,
    task_id TEXT NOT NULL,        -- the graph's task node: rows of one task share it
    agency TEXT NOT NULL, agency_raw TEXT, agency_id TEXT, agency_key TEXT NOT NULL,
    known INTEGER, agency_kind TEXT, successor TEXT,
    province TEXT, province_key TEXT,
    role TEXT NOT NULL, partners TEXT NOT NULL,   -- partners: JSON list, as written
    section TEXT, task TEXT NOT NULL, span_start INTEGER, span_end INTEGER,
    deadline TEXT, deadline_date TEXT, recurrence TEXT,
    topics TEXT,                  -- JSON list
    five_clear TEXT,              -- JSON object {nguoi, viec, trach_nhiem, thoi_gian, ket_qua}
    missing_deadline INTEGER NOT NULL, missing_lead INTEGER NOT NULL,
    missing_result INTEGER NOT NULL,
    UNIQUE (doc_id, idx)
);
-- The queries' indexes carry the columns they filter and sort on, so a page of an answer is
-- read from the index: the table's rows (task text, JSON) are wide. Totals come from
-- `agency_counts` (below).
-- The successor of an agency id for `resolve_agency`: only the rows that name one (an agency
-- without a successor is answered at once, not by reading all its rows), in the order the
-- index it replaces (`assignments_by_agency_id`) read them, so the first is the same row.
DROP INDEX IF EXISTS assignments_agency_id;
DROP INDEX IF EXISTS assignments_agency_key;
DROP INDEX IF EXISTS assignments_by_agency_id;
CREATE INDEX IF NOT EXISTS assignments_successor_of
    ON assignments(agency_id, province_key, agency_key, doc_id, idx, successor)
    WHERE successor IS NOT NULL;
CREATE INDEX IF NOT EXISTS assignments_successor ON assignments(successor);
-- `gaps`: in its order (document, agency, row), so a page of it stops early, with or without
-- a province
DROP INDEX IF EXISTS assignments_gaps;
CREATE INDEX IF NOT EXISTS assignments_gaps_all
    ON assignments(doc_id, agency, idx, missing_deadline, missing_lead, missing_result)
    WHERE missing_deadline OR missing_lead OR missing_result;
CREATE INDEX IF NOT EXISTS assignments_gaps_province
    ON assignments(province_key, doc_id, agency, idx, missing_deadline, missing_lead,
                   missing_result)
    WHERE missing_deadline OR missing_lead OR missing_result;
CREATE VIRTUAL TABLE IF NOT EXISTS assignments_fts USING fts5(
    task, agency, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE IF NOT EXISTS targets (
    doc_id TEXT NOT NULL REFERENCES documents(id), idx INTEGER NOT NULL,
    indicator TEXT, direction TEXT, value REAL, unit TEXT, period TEXT, qualifier TEXT,
    text TEXT, span_start INTEGER, span_end INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS results (
    doc_id TEXT NOT NULL REFERENCES documents(id), idx INTEGER NOT NULL,
    indicator TEXT, value REAL, unit TEXT, compared_to TEXT, change REAL,
    text TEXT, span_start INTEGER, span_end INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS deadlines (
    doc_id TEXT NOT NULL REFERENCES documents(id), idx INTEGER NOT NULL,
    text TEXT, date TEXT, recurrence TEXT, who TEXT, what TEXT,
    span_start INTEGER, span_end INTEGER,
    PRIMARY KEY (doc_id, idx)
);
CREATE TABLE IF NOT EXISTS links (
    from_id TEXT NOT NULL, to_id TEXT NOT NULL, relation TEXT NOT NULL,
    resolved INTEGER NOT NULL, canonical_id TEXT,
    PRIMARY KEY (from_id, to_id, relation)
);
CREATE INDEX IF NOT EXISTS links_to ON links(to_id);
CREATE TABLE IF NOT EXISTS chains (
    chain INTEGER NOT NULL, pos INTEGER NOT NULL, node TEXT NOT NULL,
    PRIMARY KEY (chain, pos)
);
-- the chains through a node in chain order, so `chain_page` reads only those it shows
DROP INDEX IF EXISTS chains_node;
CREATE INDEX IF NOT EXISTS chains_node_chain ON chains(node, chain);
"""

# Created once `refs` has its sort-key columns (`Store._migrate_refs` adds them to an older store).
_REFS_INDEXES = """
-- `cites`: the distinct (folded id, type) pairs of a number, skipping from one to the next, and
-- the count of each pair; the run document a pair resolves to, among the few resolved rows
DROP INDEX IF EXISTS refs_number;
DROP INDEX IF EXISTS refs_lookup;
CREATE INDEX IF NOT EXISTS refs_keys ON refs(ref_number, ref_key, doc_type);
CREATE INDEX IF NOT EXISTS refs_resolved_first
    ON refs(ref_key, doc_type, relation, doc_id, idx, resolved_to) WHERE resolved_to IS NOT NULL;
-- a page of `cites`, in its order: one pair's rows read in index order, LIMIT rows and no sort
CREATE INDEX IF NOT EXISTS refs_cited
    ON refs(ref_key, doc_type, rel_rank, doc_province, doc_date, doc_id, idx);
"""

# Written with each document's assignments (`Store._insert`, `_delete_rows`); an older store
# gets them from its rows when opened (`Store._migrate_agency_tables`, which splits the
# statements on ';': the comments hold none).
_AGENCY_TABLES = """
-- `agency`: every assignment under the sort keys of the answer, by (folded agency name,
-- province, agency id): a page reads at most LIMIT entries of each group the name stands for
-- and merges them, instead of sorting every duty of the agency. The document's province and
-- date are copied from its row (written with it, never updated apart), '' for none.
CREATE TABLE IF NOT EXISTS agency_duty_order (
    agency_key TEXT NOT NULL, province_key TEXT NOT NULL,
    agency_id TEXT NOT NULL,      -- '' for none
    doc_province TEXT NOT NULL, doc_date TEXT NOT NULL,
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    assignment INTEGER NOT NULL,  -- assignments.rowid
    PRIMARY KEY (agency_key, province_key, agency_id, doc_province, doc_date, doc_id, idx)
) WITHOUT ROWID;
-- the totals of `agency` and `gaps`: how many assignments each group holds, and how many of
-- them have a gap: a total sums a few of these rows instead of counting thousands
CREATE TABLE IF NOT EXISTS agency_counts (
    agency_key TEXT NOT NULL, province_key TEXT NOT NULL,
    agency_id TEXT NOT NULL,      -- '' for none
    duties INTEGER NOT NULL, gaps INTEGER NOT NULL,
    PRIMARY KEY (agency_key, province_key, agency_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS agency_counts_id ON agency_counts(agency_id);
"""
# an assignment's key in `agency_duty_order`, from its row and its document's (`_WITH_DOCUMENT`)
_AGENCY_ORDER_KEY = ("a.agency_key, coalesce(a.province_key, ''), coalesce(a.agency_id, ''), "
                     "coalesce(d.province, ''), coalesce(d.date, ''), a.doc_id, a.idx")
_WITH_DOCUMENT = ("FROM assignments a "  # the document's province and date from the narrow index
                  "LEFT JOIN documents d INDEXED BY documents_order ON d.id = a.doc_id")
# written as the partial indexes' WHERE, so SQLite uses them
_GAP = "(a.missing_deadline OR a.missing_lead OR a.missing_result)"
# the indexes `_AGENCY_TABLES` replace (a total was counted on them, row by row)
_REPLACED_INDEXES = ("assignments_by_agency_key", "assignments_gaps_count")

# `duty`: each assignment's task length in words. A page of matches is ranked on these few
# bytes a row; FTS5's bm25 would first count every row that holds the phrase, whatever the
# LIMIT (110,000 rows at 100,000 documents: ~200 ms).
_TASK_SIZES = """
CREATE TABLE IF NOT EXISTS task_sizes (
    assignment INTEGER PRIMARY KEY,  -- assignments.rowid
    words INTEGER NOT NULL           -- task_length of the folded task
)"""
_WORD = re.compile(r"\w+")

_PER_DOCUMENT_TABLES = ("sections", "refs", "assignments", "targets", "results", "deadlines")
_HASHED_OUT = ("text", "timings")  # text is stored (and hashed) on its own; timings vary per run


# ----------------------------------------------------------------------------- helpers

def stable_json(doc: dict[str, Any]) -> bytes:
    """The document as stored, in UTF-8: sorted keys, without `text` (stored apart) and `timings`.

    Encoded by orjson (0.3 instead of 1.5 ms for a 150 kB document, in every worker),
    which writes the same text as `json.dumps` with these settings, as `emit.dumps` does.
    Bytes, not str: they are hashed, sent to the driver and stored as they are (see
    `DocumentRows.json`)."""
    stable = {k: v for k, v in doc.items() if k not in _HASHED_OUT}
    try:
        return orjson.dumps(stable, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # what orjson refuses: an integer beyond 64 bits (Python writes it), a lone
        # surrogate (no UTF-8: the encoder raises, as hashing it did before; ingest replaces them)
        return json.dumps(stable, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(doc: dict[str, Any], dumped: bytes | None = None, text: bytes | None = None) -> str:
    """Hash of what the document says (its text and everything extracted), not of when;
    `dumped` and `text`: its `stable_json` and its text in UTF-8, when made already."""
    digest = hashlib.sha256(stable_json(doc) if dumped is None else dumped)
    digest.update((doc.get("text") or "").encode("utf-8") if text is None else text)
    return digest.hexdigest()


@lru_cache(maxsize=65536)
def _fold_name(name: str | None) -> str:
    """fold() of agency and province names, which repeat across documents."""
    return fold(name)


def document_canonical_id(meta: dict[str, Any]) -> str | None:
    """"664/KH-UBND" when the header states both number and symbol."""
    number, symbol = meta.get("number"), meta.get("symbol")
    return f"{number}/{symbol}" if number and symbol else None


def agency_node_id(agency_id: str | None, name: str, province: str | None) -> str:
    """Stable id of an agency node: the gazetteer id (else the folded name) and the province.

    "Sở Y tế" of Cao Bằng and of Thái Nguyên are two agencies that share one agency id.
    """
    base = agency_id or fold(name).replace(" ", "-")
    prov = fold(province).replace(" ", "-") if province else "-"
    return f"agency:{base}@{prov}"


def task_node_id(doc_id: str, span: dict[str, Any] | None, idx: int) -> str:
    """Rows that assign one task to several agencies share its span, hence one task node."""
    if span:
        return f"task:{doc_id}:{span['start']}-{span['end']}"
    return f"task:{doc_id}#{idx}"


def _span(item: dict[str, Any] | None) -> tuple[int | None, int | None]:
    sp = (item or {}).get("span") or {}
    return sp.get("start"), sp.get("end")


def _gap_flags(rows: list[dict[str, Any]]) -> list[tuple[int, int, int]]:
    """(missing_deadline, missing_lead, missing_result) for each assignment of one document.

    The assignment stage's "5 rõ" verdict wins where it gave one; otherwise:
    - deadline: the assignment carries none;
    - lead: nobody carries the task alone: it is shared by several agencies none of which
      leads (chủ trì), or every row of it is a supporting (phối hợp) role;
    - result: only judged by the "5 rõ" verdict (ket_qua), never guessed.
    """
    by_task: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_task.setdefault(row["_task_id"], []).append(row)
    flags = []
    for row in rows:
        five = row.get("five_clear") or {}
        if "thoi_gian" in five:
            no_deadline = not five["thoi_gian"]
        else:
            no_deadline = not row.get("deadline")
        if "trach_nhiem" in five:
            no_lead = not five["trach_nhiem"]
        else:
            roles = {r.get("role") for r in by_task[row["_task_id"]]}
            agencies = {r.get("agency") for r in by_task[row["_task_id"]]}
            no_lead = "lead" not in roles and (len(agencies) > 1 or roles <= {"support"})
        no_result = five.get("ket_qua") is False
        flags.append((int(no_deadline), int(no_lead), int(no_result)))
    return flags


_NUMBER = re.compile(r"^\d+[a-z]?$")


@lru_cache(maxsize=1)
def _query_words() -> tuple[tuple[tuple[re.Pattern[str], str, str], ...], str]:
    """rules/query.yaml, compiled once: (pattern of the folded type words, the type code that
    replaces them (folded, "" for none), the type) in order, and the folded number word."""
    from ..rules import load

    data = load("query")
    types = tuple((re.compile(rf"\b{re.escape(fold(t['words']))}\b"), fold(t["code"]), t["type"])
                  for t in data["reference_types"])
    return types, fold(data["number_word"])


def parse_ref_query(text: str) -> tuple[str | None, set[str], str | None]:
    """"209/NQ-CP", "NQ 209", "Nghị quyết 209" -> (number "209", other tokens {"nq", ...}, doc_type).

    The number is the first token that is digits (with an optional letter, "10c"); the other
    tokens must all appear in a reference's folded id for it to match.
    """
    types, number_word = _query_words()
    key = fold(text)
    doc_type = None
    for words, code, dtype in types:
        if words.search(key):
            key = words.sub(code, key)
            doc_type = dtype
    tokens = key.split()
    number = next((t for t in tokens if _NUMBER.match(t)), None)
    rest = {t for t in tokens if t != number and t != number_word}
    return number, rest, doc_type


def _ref_matches(query: tuple[str | None, set[str], str | None], ref_key: str,
                 doc_type: str | None) -> bool:
    """Every word of the query is in the reference's id, and so is its number, in first place
    when the id starts with one ("209 nq cp"; a law's id starts with "luat" and ends in its year)."""
    number, rest, qtype = query
    tokens = ref_key.split()
    if not tokens or (qtype and doc_type and qtype != doc_type):
        return False
    if number is not None:
        if _NUMBER.match(tokens[0]) and tokens[0] != number:
            return False
        if number not in tokens:
            return False
    return bool(number or rest) and rest <= set(tokens)


def writer_lock(path: str | Path):
    """An exclusive lock on the store at `path` for one writing run: `<path>.lock` beside it.

    Returns the open lock file (closing it releases the lock). A second run on the same
    store (even with another output folder) gets RuntimeError("another vanban run is writing
    to …") instead of interleaving its writes. POSIX record lock (lockf): released by the
    kernel when the process dies, and not inherited by forked workers."""
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own locking still keeps the file whole
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(f"{path}.lock", "a")
    try:
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise RuntimeError(f"another vanban run is writing to {path}") from None
    return fh


# ----------------------------------------------------------------------------- a document's rows

BUSY_TIMEOUT_MS = 30000  # how long a statement waits for another connection's write to end
CHECKPOINT_WAIT_MS = 2000  # how long `checkpoint` waits for a writer's batch and for readers
BULK_CACHE_KB = 65536  # SQLite's page cache of a run's writer (prepare_bulk_writes)
BULK_CHECKPOINT_PAGES = 10000  # pages in the WAL before it is copied back to the database


_AGENCY_COLUMNS = "node_id, agency_id, name, name_key, province, kind, successor, known"
_AGENCY_UPDATE = ", ".join(f"{column} = excluded.{column}" for column in _AGENCY_COLUMNS.split(", ")[1:])
_AGENCY_EXCLUDED = ", ".join(f"excluded.{column}" for column in _AGENCY_COLUMNS.split(", "))


@dataclass
class DocumentRows:
    """One document as the store writes it: every row that depends on the document alone.

    `vanban run`'s workers make these in parallel (`document_rows`), and whoever writes the
    store (the driver, or each worker its own: pipeline/batch/writer.py) only executes the
    inserts (`Store.upsert_rows`): folding, JSON encoding and the link index's keys never
    run inside a write transaction, while the other writers wait."""

    id: str
    digest: str                  # content_hash: an unchanged document is not rewritten
    document: tuple              # the `documents` row; canonical_id (position 8) from the header
    index: tuple                 # pipeline.corpus.link.index_rows
    # (id, text, stable JSON), both in UTF-8, as hashed; None for a lite store. Bytes, stored
    # as TEXT by a CAST in SQLite: the driver never decodes them from the pipe nor encodes them
    # for SQLite again (0.35-0.45 ms of its CPU a document, for ~120 kB)
    json: tuple | None = None
    sections: list[tuple] = field(default_factory=list)
    refs: list[tuple] = field(default_factory=list)
    assignments: list[tuple] = field(default_factory=list)  # without their rowid: the store numbers them
    fts: list[tuple] = field(default_factory=list)          # (task, agency) of each assignment, folded
    task_words: list[int] = field(default_factory=list)     # each assignment's task length in words
    agency_uses: list[tuple] = field(default_factory=list)
    targets: list[tuple] = field(default_factory=list)
    results: list[tuple] = field(default_factory=list)
    deadlines: list[tuple] = field(default_factory=list)


def document_rows(doc: dict[str, Any], lite: bool = False) -> DocumentRows:
    """The rows of one document (a `Document.to_dict()`); `lite`: only those of a lite store.

    The stored JSON and the content hash are those of the document as parsed, every
    `resolved_to` null, whether `doc` comes from a worker or from a linked output JSON:
    resolutions are the corpus step's, kept in the `refs` rows (and the link index) and laid
    over the JSON by `Store.document`."""
    from . import link

    doc_id = doc["id"]
    meta = doc.get("metadata") or {}
    source = doc.get("source") or {}
    province = meta.get("province")
    parsed = doc
    if any(ref.get("resolved_to") is not None for ref in doc.get("references") or ()):
        parsed = {**doc, "references": [{**ref, "resolved_to": None} for ref in doc["references"]]}
    dumped = stable_json(parsed)
    text = None if doc.get("text") is None else doc["text"].encode("utf-8")
    digest = content_hash(parsed, dumped, text or b"")
    rows = DocumentRows(
        doc_id, digest,
        (doc_id, digest, source.get("file_name"), source.get("sha256"), doc.get("status"),
         meta.get("doc_type"), meta.get("number"), meta.get("symbol"), document_canonical_id(meta),
         meta.get("issuer"), province, fold(province), meta.get("date"), meta.get("title"),
         meta.get("signer_name"), meta.get("signer_title")),
        link.index_rows(doc))
    if lite:  # the corpus state only: the link index holds the rest
        return rows
    rows.json = (doc_id, text, dumped)
    rows.sections = [(doc_id, s["id"], s.get("number"), s.get("marker"), s.get("level"),
                      s.get("heading"), s.get("kind"), s.get("parent"), *_span(s))
                     for s in doc.get("sections", [])]
    for idx, ref in enumerate(doc.get("references", [])):
        key = fold(ref["canonical_id"])
        relation = ref.get("relation") or "cites"
        rows.refs.append((doc_id, idx, ref["canonical_id"], key, key.split(" ", 1)[0], ref.get("number"),
                          ref.get("symbol"), ref.get("doc_type"), ref.get("date"), ref.get("issuer"),
                          ref.get("title"), relation, ref.get("text"), *_span(ref),
                          ref.get("resolved_to"), _REL_ORDER.get(relation, 9), province or "",
                          meta.get("date") or ""))
    assignments = [dict(a, _task_id=task_node_id(doc_id, a.get("span"), i))
                   for i, a in enumerate(doc.get("assignments", []))]
    agencies: dict[str, tuple] = {}
    for idx, (row, flags) in enumerate(zip(assignments, _gap_flags(assignments))):
        a_prov = row.get("province") or province
        deadline = row.get("deadline") or {}
        agency_key = _fold_name(row["agency"])
        rows.assignments.append(
            (doc_id, idx, row["_task_id"], row["agency"], row.get("agency_raw"),
             row.get("agency_id"), agency_key, int(bool(row.get("known"))), row.get("agency_kind"),
             row.get("successor"), a_prov, _fold_name(a_prov), row.get("role") or "responsible",
             json.dumps(row.get("partners") or [], ensure_ascii=False), row.get("section"),
             row.get("task") or "", *_span(row), deadline.get("text"), deadline.get("date"),
             deadline.get("recurrence"), json.dumps(row.get("topics") or [], ensure_ascii=False),
             json.dumps(row.get("five_clear") or {}), *flags))
        folded_task = fold(row.get("task"))
        rows.fts.append((folded_task, agency_key))
        rows.task_words.append(task_length(folded_task))
        node = agency_node_id(row.get("agency_id"), row["agency"], a_prov)
        agencies[node] = (node, doc_id, row.get("agency_id"), row["agency"], agency_key, a_prov,
                          row.get("agency_kind"), row.get("successor"), int(bool(row.get("known"))))
    rows.agency_uses = list(agencies.values())
    rows.targets = [(doc_id, i, t.get("indicator"), t.get("direction"), t.get("value"), t.get("unit"),
                     t.get("period"), t.get("qualifier"), t.get("text"), *_span(t))
                    for i, t in enumerate(doc.get("targets", []))]
    rows.results = [(doc_id, i, r.get("indicator"), r.get("value"), r.get("unit"),
                     r.get("compared_to"), r.get("change"), r.get("text"), *_span(r))
                    for i, r in enumerate(doc.get("results", []))]
    rows.deadlines = [(doc_id, i, d.get("text"), d.get("date"), d.get("recurrence"), d.get("who"),
                       d.get("what"), *_span(d))
                      for i, d in enumerate(doc.get("deadlines", []))]
    return rows


# ----------------------------------------------------------------------------- the store

class Store:
    """An embedded SQLite database of a run. Open one per process; it is not thread-safe."""

    def __init__(self, path: str | Path = DEFAULT_DB, lite: bool = False) -> None:
        """`lite`: only the documents and the link index (pipeline.corpus.link), no text, sections,
        assignments or measures: the corpus state of a `vanban run --no-db`."""
        from . import link

        self.path = Path(path)
        self.lite = lite
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None)  # explicit transactions
        self.db.row_factory = sqlite3.Row
        self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # a reader waits for a writer's commit
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint
        self.db.execute("PRAGMA foreign_keys=ON")
        self._batch = False  # a batch transaction is open (begin_batch)
        self._in_document = False  # inside one document's savepoint of the batch
        self.db.executescript(_SCHEMA + link.SCHEMA)
        self._migrate_refs()
        self.db.executescript(_REFS_INDEXES)
        self._migrate_agency_tables()
        self._migrate_task_sizes()
        self._memo_token: tuple[int, int] | None = None
        self._memo_cache: dict[tuple[str, str], Any] = {}
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version == 4:  # the title-word tables without the document type: from the index itself
            with self._transaction():
                if self.db.execute("PRAGMA user_version").fetchone()[0] == 4:  # not done meanwhile
                    link.migrate_word_tables(self.db)
                    self.db.execute(f"PRAGMA user_version = {link.INDEX_VERSION}")
        elif version < link.INDEX_VERSION:
            self._build_link_index()

    def _missing_sort_keys(self) -> list[str]:
        have = {r[1] for r in self.db.execute("PRAGMA table_info(refs)")}
        return [c for c in _REFS_SORT_KEYS if c.split()[0] not in have]

    def _migrate_refs(self) -> None:
        """A store written before `refs` carried the sort keys of `cites`: add the columns and
        fill them from each reference's relation and its document, in one transaction (once)."""
        if not self._missing_sort_keys():
            return
        with self._transaction():
            missing = self._missing_sort_keys()  # another process may have done it meanwhile
            for column in missing:
                self.db.execute(f"ALTER TABLE refs ADD COLUMN {column}")
            if missing:
                self.db.execute(
                    f"UPDATE refs SET rel_rank = {_rel_rank_sql('relation')}, "
                    "doc_province = coalesce((SELECT d.province FROM documents d "
                    "WHERE d.id = refs.doc_id), ''), "
                    "doc_date = coalesce((SELECT d.date FROM documents d "
                    "WHERE d.id = refs.doc_id), '')")

    def _migrate_agency_tables(self) -> None:
        """A store written before `agency_duty_order` and `agency_counts`: create them and fill
        them from its assignments, then drop the indexes they replace, in one transaction (once)."""
        if self._has_table("agency_counts"):
            return
        with self._transaction():
            if not self._has_table("agency_counts"):  # another process may have done it meanwhile
                for statement in _AGENCY_TABLES.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"INSERT INTO agency_duty_order SELECT {_AGENCY_ORDER_KEY}, a.rowid "
                                f"{_WITH_DOCUMENT} ORDER BY 1, 2, 3, 4, 5, 6, 7")
                self.db.execute(
                    "INSERT INTO agency_counts SELECT a.agency_key, coalesce(a.province_key, ''), "
                    f"coalesce(a.agency_id, ''), count(*), sum({_GAP}) "
                    "FROM assignments a NOT INDEXED GROUP BY 1, 2, 3")  # one pass, in file order
                for index in _REPLACED_INDEXES:
                    self.db.execute(f"DROP INDEX IF EXISTS {index}")

    def _migrate_task_sizes(self) -> None:
        """A store written before `task_sizes` (and a new one): create it and fill it from the
        folded tasks of the full-text index, in one transaction (once)."""
        if self._has_table("task_sizes"):
            return
        with self._transaction():
            if not self._has_table("task_sizes"):  # another process may have done it meanwhile
                self.db.execute(_TASK_SIZES)
                tasks = self.db.execute("SELECT rowid, task FROM assignments_fts")  # streamed
                self.db.executemany("INSERT INTO task_sizes VALUES (?,?)",
                                    ((rowid, task_length(task)) for rowid, task in tasks))

    def _has_table(self, name: str) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None

    def _build_link_index(self) -> None:
        """A store written before the link index: index its documents, all pending (once)."""
        from . import link

        with self._transaction():
            for table in ("link_docs", "link_doc_words", "link_refs", "link_ref_words", "pending"):
                self.db.execute(f"DROP TABLE IF EXISTS {table}")  # an older shape of the index
            for statement in link.SCHEMA.split(";"):
                if statement.strip():
                    self.db.execute(statement)
            # a lite index keeps no JSON: its documents are read again from the run's JSON files
            self.db.execute("DELETE FROM documents WHERE id NOT IN (SELECT id FROM document_json)")
            for row in self.db.execute("SELECT id, json, text FROM document_json").fetchall():
                doc = self._resolved(json.loads(row["json"]) | {"text": row["text"]})
                link.mark_pending(self.db, row["id"])
                link.index_document(self.db, doc)
                self.replace_rows(doc)  # fills the tables added since (agency_uses)
            self.db.execute(f"PRAGMA user_version = {link.INDEX_VERSION}")

    # context manager, so `with Store(p) as s:` closes it
    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ writing

    def upsert_document(self, doc: dict[str, Any]) -> bool:
        """Store one document (a `Document.to_dict()`); True if anything changed.

        Same id and same content (resolutions aside, see `document_rows`): nothing is
        written. Changed content: the old rows are deleted and the new ones inserted in one
        transaction.
        """
        return self.upsert_rows(document_rows(doc, self.lite))

    def upsert_rows(self, rows: DocumentRows) -> bool:
        """`upsert_document` of rows made beforehand (`document_rows`, in `vanban run`'s workers)."""
        from . import link

        if rows.json is None and not self.lite:
            raise ValueError(f"{rows.id}: rows made for a lite store")
        old = self.db.execute("SELECT content_hash FROM documents WHERE id = ?", (rows.id,)).fetchone()
        if old and old["content_hash"] == rows.digest:
            return False
        with self._transaction():
            # in the same transaction: the corpus step owes this document a relink
            link.mark_pending(self.db, rows.id)
            link.write_index(self.db, rows.index)
            self.write_rows(rows, existed=bool(old))
        return True

    def prepare_bulk_writes(self, checkpoints: bool = True) -> None:
        """Settings for the long write transactions of a run (its batches, the corpus step).

        A transaction whose dirty pages outgrow SQLite's cache (2 MB by default) spills them
        to the WAL and writes them again when it touches them again; and the default
        checkpoint (every 1,000 pages) copies the same index pages to the database over and
        over. A run writes ~50 pages per document, so: a larger cache, rarer checkpoints.
        With `checkpoints=False` this connection's commits never checkpoint: another
        process does (`checkpoint`), so that a run's workers go on parsing meanwhile."""
        self.db.execute(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
        self.db.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES if checkpoints else 0}")

    def checkpoint(self) -> bool:
        """Copy what the WAL holds into the database, so that the next writer starts the WAL
        again from its beginning. It waits for the writer of the moment (a batch) to commit,
        and other writers wait for it meanwhile (RESTART: a PASSIVE checkpoint, which stops
        nobody, let the WAL of two workers taking turns grow to 300 MB in 2,000 documents,
        as some batch was always committed during the copy). It also waits for readers, at
        most CHECKPOINT_WAIT_MS: a reader that keeps a transaction open (an SQL shell) only
        delays the restart to a later checkpoint, and holds the writers back that long.
        True if the next writer starts the WAL again."""
        with self._busy_timeout(CHECKPOINT_WAIT_MS):
            busy, _frames, _copied = self.db.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        return not busy

    @contextmanager
    def _busy_timeout(self, ms: int) -> Iterator[None]:
        """Wait `ms` (not BUSY_TIMEOUT_MS) for another connection's lock, inside the block."""
        self.db.execute(f"PRAGMA busy_timeout={ms}")
        try:
            yield
        finally:
            self.db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

    # A batch: many documents in one transaction, each inside a savepoint, so a document
    # that fails to store leaves the others in. Committing once per batch instead of once
    # per document is what makes the driver of `vanban run` cheap; the run publishes a
    # batch's JSON files only after `commit_batch`, so a run killed meanwhile loses the
    # whole batch and the next run redoes exactly those documents.

    def begin_batch(self, wait: bool = True) -> bool:
        """Open a batch: the writes that follow are committed together by `commit_batch`.

        The store has one writer at a time; several processes may take turns (`vanban run`'s
        workers). With `wait=False`, a store that another process is writing is left to it
        and False returned at once, so the caller can do other work first."""
        if self._batch:
            return True
        try:
            with self._busy_timeout(BUSY_TIMEOUT_MS if wait else 0):
                self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if wait or "locked" not in str(exc):
                raise
            return False
        self._batch = True
        return True

    def commit_batch(self) -> None:
        """Commit the open batch (if any). A document interrupted half-written is left out."""
        if not self._batch:
            return
        if self._in_document:  # interrupted (Ctrl-C) between its savepoint and its release
            self.db.execute("ROLLBACK TO document")
            self.db.execute("RELEASE document")
            self._in_document = False
        self.db.execute("COMMIT")
        self._batch = False

    def rollback_batch(self) -> None:
        if self._batch:
            self.db.execute("ROLLBACK")
            self._batch, self._in_document = False, False

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """The writes of one document: a savepoint of the open batch, or a transaction of their own."""
        if self._batch:
            self.db.execute("SAVEPOINT document")
            self._in_document = True
            try:
                yield
            except BaseException:
                self.db.execute("ROLLBACK TO document")
                self.db.execute("RELEASE document")
                self._in_document = False
                raise
            self.db.execute("RELEASE document")
            self._in_document = False
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def set_resolutions(self, doc_id: str, changes: dict[int, str | None]) -> None:
        """The document `doc_id` has new `resolved_to` at the reference positions in `changes`:
        update those `refs` rows, inside the caller's transaction.

        The stored JSON and the content hash stay those of the document as parsed: a
        resolution is the corpus step's, kept in `refs` (and the link index), and `document`
        lays it over the JSON. So the step never rewrites a ~100 kB stored JSON (at 100,000
        documents, reading it back from a 20 GB store cost more than deciding the references),
        and an unchanged file parsed again has the same hash: it owes the step no relink."""
        if self.lite:
            return
        self.db.executemany("UPDATE refs SET resolved_to = ? WHERE doc_id = ? AND idx = ?",
                            [(target, doc_id, idx) for idx, target in changes.items()])

    def replace_rows(self, doc: dict[str, Any]) -> None:
        """Replace one document's rows, inside the caller's transaction (the link index and
        `pending` are left alone: the corpus step calls this after relinking)."""
        self.write_rows(document_rows(doc, lite=self.lite))

    def write_rows(self, rows: DocumentRows, existed: bool = True) -> None:
        """Replace one document's rows by `rows`, inside the caller's transaction."""
        if existed:
            self._delete_rows(rows.id)
        self._insert(rows)

    def upsert_many(self, docs: Iterable[dict[str, Any]]) -> int:
        """Upsert documents one by one (one transaction each); returns how many changed."""
        return sum(self.upsert_document(d) for d in docs)

    def delete_document(self, doc_id: str) -> None:
        from . import link

        with self._transaction():
            if self.db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone():
                link.mark_pending(self.db, doc_id)
            link.unindex_document(self.db, doc_id)
            self._delete_rows(doc_id)
            self.db.execute("DELETE FROM document_json WHERE id = ?", (doc_id,))
            self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def _delete_rows(self, doc_id: str) -> None:
        self.db.execute(
            "DELETE FROM assignments_fts WHERE rowid IN "
            "(SELECT rowid FROM assignments WHERE doc_id = ?)", (doc_id,))
        self.db.execute(
            "DELETE FROM task_sizes WHERE assignment IN "
            "(SELECT rowid FROM assignments WHERE doc_id = ?)", (doc_id,))
        self._forget_agency_rows(doc_id)
        for table in _PER_DOCUMENT_TABLES:
            self.db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        nodes = [r[0] for r in self.db.execute("SELECT node_id FROM agency_uses WHERE doc_id = ?", (doc_id,))]
        self.db.execute("DELETE FROM agency_uses WHERE doc_id = ?", (doc_id,))
        self._refresh_agencies(nodes)

    def _refresh_agencies(self, nodes: Iterable[str], gone: bool = True) -> None:
        """Each node's `agencies` row: the view of the first document (by id) that names it,
        looked up in the (node_id, doc_id) key, so the cost does not grow with the number of
        documents naming an agency. A row is written only when that view changed (a new
        document rarely comes first), and, with `gone`, removed when no document names the
        node any more. A few statements per document, not per agency."""
        nodes = [(node,) for node in sorted(set(nodes))]
        if gone:
            self.db.executemany("DELETE FROM agencies WHERE node_id = ?1 AND NOT EXISTS "
                                "(SELECT 1 FROM agency_uses WHERE node_id = ?1)", nodes)
        self.db.executemany(
            f"INSERT INTO agencies SELECT {_AGENCY_COLUMNS} FROM agency_uses WHERE node_id = ? "
            f"ORDER BY doc_id LIMIT 1 ON CONFLICT (node_id) DO UPDATE SET {_AGENCY_UPDATE} "
            f"WHERE ({_AGENCY_COLUMNS}) IS NOT ({_AGENCY_EXCLUDED})", nodes)

    def _forget_agency_rows(self, doc_id: str) -> None:
        """Take a document's assignments out of `agency_duty_order` and `agency_counts` (before
        the rows go; the document's row still holds the province and date they were filed under)."""
        keys = self.db.execute(f"SELECT {_AGENCY_ORDER_KEY}, {_GAP} {_WITH_DOCUMENT} "
                               "WHERE a.doc_id = ?", (doc_id,)).fetchall()
        self.db.executemany(
            "DELETE FROM agency_duty_order WHERE agency_key = ? AND province_key = ? AND agency_id = ? "
            "AND doc_province = ? AND doc_date = ? AND doc_id = ? AND idx = ?",
            [tuple(k)[:7] for k in keys])
        groups = _group_counts((tuple(k)[:3], k[7]) for k in keys)
        self.db.executemany("UPDATE agency_counts SET duties = duties - ?, gaps = gaps - ? "
                            "WHERE agency_key = ? AND province_key = ? AND agency_id = ?",
                            [(*counts, *group) for group, counts in groups.items()])
        self.db.executemany("DELETE FROM agency_counts WHERE agency_key = ? AND province_key = ? "
                            "AND agency_id = ? AND duties = 0", list(groups))

    def _insert(self, rows: DocumentRows) -> None:
        document = rows.document
        linked = self._linked_canonical_id(rows.id)  # what the last corpus step recognised it as
        if linked:
            document = (*document[:8], linked, *document[9:])
        self.db.execute("INSERT OR REPLACE INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", document)
        if self.lite:  # the corpus state only: the link index holds the rest
            return
        self.db.execute("INSERT OR REPLACE INTO document_json VALUES (?, CAST(? AS TEXT), CAST(? AS TEXT))",
                        rows.json)  # UTF-8 bytes as TEXT, unchanged (the database's encoding)
        self.db.executemany("INSERT INTO sections VALUES (?,?,?,?,?,?,?,?,?,?)", rows.sections)
        self.db.executemany("INSERT INTO refs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows.refs)
        # explicit rowids, so the assignments and their FTS rows go in as two batches
        first = self.db.execute("SELECT coalesce(max(rowid), 0) + 1 FROM assignments").fetchone()[0]
        self.db.executemany(
            "INSERT INTO assignments VALUES "
            "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(first + idx, *row) for idx, row in enumerate(rows.assignments)])
        self.db.executemany("INSERT INTO assignments_fts(rowid, task, agency) VALUES (?,?,?)",
                            [(first + idx, *row) for idx, row in enumerate(rows.fts)])
        self.db.executemany("INSERT INTO task_sizes VALUES (?,?)",
                            [(first + idx, words) for idx, words in enumerate(rows.task_words)])
        self._file_agency_rows(rows, first)
        self.db.executemany("INSERT OR REPLACE INTO agency_uses VALUES (?,?,?,?,?,?,?,?,?)", rows.agency_uses)
        self._refresh_agencies((row[0] for row in rows.agency_uses), gone=False)
        self.db.executemany("INSERT INTO targets VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows.targets)
        self.db.executemany("INSERT INTO results VALUES (?,?,?,?,?,?,?,?,?,?)", rows.results)
        self.db.executemany("INSERT INTO deadlines VALUES (?,?,?,?,?,?,?,?,?)", rows.deadlines)

    def _file_agency_rows(self, rows: DocumentRows, first: int) -> None:
        """A document's assignments (rowids from `first` on) into `agency_duty_order` and
        `agency_counts`, under the keys `_AGENCY_ORDER_KEY` reads from the rows."""
        province, date = rows.document[10] or "", rows.document[12] or ""  # the document's own
        duty_order, gap_of_group = [], []
        for idx, row in enumerate(rows.assignments):
            # (folded agency name, folded province, agency id) and the three gap flags last
            group = (row[6], row[11] or "", row[5] or "")
            duty_order.append((*group, province, date, rows.id, row[1], first + idx))
            gap_of_group.append((group, any(row[-3:])))
        self.db.executemany("INSERT INTO agency_duty_order VALUES (?,?,?,?,?,?,?,?)", duty_order)
        self.db.executemany(
            "INSERT INTO agency_counts VALUES (?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "duties = duties + excluded.duties, gaps = gaps + excluded.gaps",
            [(*group, *counts) for group, counts in _group_counts(gap_of_group).items()])

    def _linked_canonical_id(self, doc_id: str) -> str | None:
        row = self.db.execute(
            "SELECT canonical_id FROM links WHERE to_id = ? AND resolved AND canonical_id "
            "IS NOT NULL LIMIT 1", (doc_id,)).fetchone()
        return row["canonical_id"] if row else None

    def _linked_resolutions(self, doc_id: str) -> dict[str, str]:
        return {r["canonical_id"]: r["to_id"] for r in self.db.execute(
            "SELECT canonical_id, to_id FROM links WHERE from_id = ? AND resolved "
            "AND canonical_id IS NOT NULL", (doc_id,))}

    def set_links(self, links: dict[str, Any]) -> None:
        """Store the link stage's result (pipeline.corpus.link) and apply it to the stored documents.

        `links["documents"]`: {"id", "canonical_id", "recognised_as"}; `links["edges"]`:
        {"from", "to", "relation", "resolved"} between document ids or canonical ids (plus
        "canonical_id" of the reference when given); `links["chains"]`: lists of ids (document
        ids or canonical ids) from the top directive down.
        Resolved edges fill `refs.resolved_to` and a document's `canonical_id` when its own
        text has no number (the plan a later letter cites as 664/KH-UBND).
        """
        edges = [self._edge_row(e) for e in links.get("edges", [])]
        with self._transaction():
            self.db.execute("DELETE FROM links")
            self.db.execute("DELETE FROM chains")
            self.db.executemany("INSERT OR REPLACE INTO links VALUES (?,?,?,?,?)", edges)
            for chain_idx, chain in enumerate(links.get("chains", [])):
                nodes = chain.get("nodes", chain.get("chain", [])) if isinstance(chain, dict) else chain
                self.db.executemany(
                    "INSERT INTO chains VALUES (?,?,?)",
                    [(chain_idx, pos, _node_name(node)) for pos, node in enumerate(nodes)])
            for doc in links.get("documents", []):
                # a numberless plan that later letters cite as 664/KH-UBND is `recognised_as` it
                cid = doc.get("canonical_id") or doc.get("recognised_as") if isinstance(doc, dict) else None
                if cid and doc.get("id"):
                    self.db.execute("UPDATE documents SET canonical_id = ? WHERE id = ?",
                                    (cid, doc["id"]))
            for from_id, to_id, _rel, resolved, canonical in edges:
                if resolved and canonical:
                    self.db.execute(
                        "UPDATE refs SET resolved_to = ? WHERE doc_id = ? AND canonical_id = ?",
                        (to_id, from_id, canonical))
                    self.db.execute(
                        "UPDATE documents SET canonical_id = ? WHERE id = ? AND canonical_id IS NULL",
                        (canonical, to_id))

    def _edge_row(self, edge: dict[str, Any]) -> tuple[str, str, str, int, str | None]:
        to_id = str(edge["to"])
        resolved = bool(edge.get("resolved"))
        canonical = edge.get("canonical_id") or edge.get("ref")
        if canonical is None and not resolved:
            canonical = to_id  # an unresolved edge points at the cited canonical id itself
        return (str(edge["from"]), to_id, edge.get("relation") or "cites", int(resolved), canonical)

    # ------------------------------------------------------------------ reading

    def documents(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute(
            "SELECT id, doc_type, canonical_id, issuer, province, date, title, status "
            "FROM documents ORDER BY id")]

    def document(self, doc_id: str) -> dict[str, Any] | None:
        """The document as its output JSON holds it: the stored JSON (as parsed), its text,
        and the `resolved_to` of its references from `refs` (see `set_resolutions`)."""
        row = self.db.execute("SELECT text, json FROM document_json WHERE id = ?",
                              (doc_id,)).fetchone()
        return self._resolved(json.loads(row["json"]) | {"text": row["text"]}) if row else None

    def _resolved(self, doc: dict[str, Any]) -> dict[str, Any]:
        """`doc` (a stored JSON) with the `resolved_to` that `refs` holds for its references."""
        resolved = dict(self.db.execute("SELECT idx, resolved_to FROM refs WHERE doc_id = ?", (doc["id"],)))
        for idx, ref in enumerate(doc.get("references") or []):
            ref["resolved_to"] = resolved.get(idx)
        return doc

    def count(self, table: str) -> int:
        if table not in (*_PER_DOCUMENT_TABLES, "documents", "document_json", "agencies", "links",
                         "chains"):
            raise ValueError(table)
        return self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]

    # -- agency: every duty of one agency ------------------------------------------

    def resolve_agency(self, name: str) -> dict[str, Any]:
        """What a typed agency name stands for, and the bodies it replaced or was replaced by.

        Returns {"name", "agency_id", "keys", "successor": {...} | None, "predecessors": [...]},
        each related body as {"agency_id", "name", "keys"}; `keys` are the folded names
        (name, aliases, abbreviations) that identify the body when an assignment has no id.
        Computed once per store state (`_memo`): an `agency` answer asks three times.
        """
        return copy.deepcopy(self._memo("agency", name, lambda: self._resolve_agency(name)))

    def _resolve_agency(self, name: str) -> dict[str, Any]:
        record = agency_record(name)
        if record is None:  # unknown to the gazetteer: the id the pipeline gave this name, if one
            ids = {r[0] for r in self.db.execute(
                "SELECT DISTINCT agency_id FROM agency_counts WHERE agency_key = ? "
                "AND agency_id != ''", (fold(name),))}
            record = _gazetteer_get(ids.pop()) if len(ids) == 1 else None
        me = _body(record, name)
        me["keys"] = sorted(set(me["keys"]) | {fold(name)})
        successor_id = (record or {}).get("successor")
        if successor_id is None and me["agency_id"]:
            row = self.db.execute("SELECT successor FROM assignments INDEXED BY assignments_successor_of "
                                  "WHERE agency_id = ? AND successor IS NOT NULL LIMIT 1",
                                  (me["agency_id"],)).fetchone()
            successor_id = row[0] if row else None
        successor = None
        if successor_id and successor_id != me["agency_id"]:
            successor = _body(_gazetteer_get(successor_id), self._agency_name(successor_id),
                              successor_id)
        predecessors = []
        if me["agency_id"]:
            pred_ids = {r[0] for r in self.db.execute(
                "SELECT DISTINCT agency_id FROM assignments WHERE successor = ? "
                "AND agency_id IS NOT NULL", (me["agency_id"],))}
            pred_ids |= {i for i, rec in _gazetteer_index()[1].items()
                         if rec.get("successor") == me["agency_id"]}
            pred_ids.discard(me["agency_id"])
            predecessors = [_body(_gazetteer_get(i), self._agency_name(i), i)
                            for i in sorted(pred_ids)]
        return {**me, "successor": successor, "predecessors": predecessors}

    def _agency_name(self, agency_id: str) -> str:
        record = _gazetteer_get(agency_id)
        if record and record.get("name"):
            return record["name"]
        row = self.db.execute("SELECT name FROM agencies WHERE agency_id = ? LIMIT 1",
                              (agency_id,)).fetchone()
        return row[0] if row else agency_id

    def agency_duties(self, name: str, province: str | None = None,
                      limit: int | None = None) -> list[dict[str, Any]]:
        """Every duty of one agency across documents (the first `limit` of them if given).

        The name matches through the gazetteer (aliases, abbreviations) and the successor map
        both ways: "Sở LĐTBXH" also finds Sở Nội vụ's duties, "Sở Nội vụ" also finds the
        duties older plans gave Sở LĐTBXH; each row's `via` says how it matched ("" = directly).
        Order: its own duties first, then those found via others; each by province, date,
        document and position. `count_agency_duties` gives the total.
        """
        bodies, where, params = self._agency_filter(name, province)
        own_ids = [b["agency_id"] for b, v in bodies if v == "" and b["agency_id"]]
        other_ids = [b["agency_id"] for b, v in bodies if v and b["agency_id"]]
        own_keys = [k for b, v in bodies if v == "" for k in b["keys"]]
        # 0 = its own duty, 1 = found via a successor or predecessor: the rule of `_via` below
        via_rank = (f"CASE WHEN a.agency_id IN ({_marks(own_ids)}) THEN 0 "
                    f"WHEN a.agency_id IN ({_marks(other_ids)}) THEN 1 "
                    f"WHEN a.agency_key IN ({_marks(own_keys)}) THEN 0 ELSE 1 END")
        # the groups the name stands for, each read in the answer's order and merged: a page
        # reads about LIMIT entries of each, not every duty of the agency
        groups = self.db.execute(
            f"SELECT {via_rank}, a.agency_key, a.province_key, a.agency_id FROM agency_counts a "
            f"WHERE {where}", [*own_ids, *other_ids, *own_keys, *params]).fetchall()
        per_group = _sql_limit(limit)
        streams = [self.db.execute(
            "SELECT ?, doc_province, doc_date, doc_id, idx, assignment FROM agency_duty_order "
            "WHERE agency_key = ? AND province_key = ? AND agency_id = ? "
            "ORDER BY doc_province, doc_date, doc_id, idx LIMIT ?", (*group, per_group))
            for group in groups]
        # entries compare as (rank, province, date, document, position): the answer's order
        page = itertools.islice(heapq.merge(*streams, key=tuple), limit if per_group > 0 else None)
        rows = self._assignment_rows([entry[-1] for entry in page])
        return [_duty_row(r) | {"via": _via(r["agency_id"], fold(r["agency"]), bodies)}
                for r in rows]

    def count_agency_duties(self, name: str, province: str | None = None) -> int:
        """How many rows `agency_duties(name, province)` returns, counted in SQL."""
        return sum(self.agency_duty_counts(name, province).values())

    def agency_duty_counts(self, name: str, province: str | None = None) -> dict[str, int]:
        """How many duties `agency_duties` finds by each way of matching: {"": its own,
        "via successor: … → …": n, ...}; ways that find nothing are left out."""
        bodies, where, params = self._agency_filter(name, province)
        # which body each row matched, as `_via` decides: by agency id first, else by name
        ids = [(i, b["agency_id"]) for i, (b, _) in enumerate(bodies) if b["agency_id"]]
        keys = [(i, k) for i, (b, _) in enumerate(bodies) for k in b["keys"]]
        body = ("CASE " + " ".join(["WHEN a.agency_id = ? THEN ?"] * len(ids)
                                   + ["WHEN a.agency_key = ? THEN ?"] * len(keys)) + " END")
        body_params = [v for i, x in (*ids, *keys) for v in (x, i)]
        # one pass of sums over the groups' counts rather than a GROUP BY: no sort
        sums = ", ".join(f"sum(CASE WHEN b = {i} THEN duties ELSE 0 END)" for i in range(len(bodies)))
        row = self.db.execute(f"SELECT {sums} FROM (SELECT {body} AS b, a.duties FROM "
                              f"agency_counts a WHERE {where})", [*body_params, *params]).fetchone()
        counts: dict[str, int] = {}
        for (_, via), matched in zip(bodies, row):
            if matched:
                counts[via] = counts.get(via, 0) + matched
        return counts

    def _agency_filter(self, name: str, province: str | None
                       ) -> tuple[list[tuple[dict[str, Any], str]], str, list[Any]]:
        """(bodies with the `via` note of each, WHERE over `assignments a`, its parameters)."""
        who = self.resolve_agency(name)
        bodies = [(who, "")]
        if who["successor"]:
            successor = who["successor"]
            bodies.append((successor, f"via successor: {who['name']} → {successor['name']}"))
        for predecessor in who["predecessors"]:
            bodies.append((predecessor, f"via predecessor: {predecessor['name']} → {who['name']}"))
        ids = [b["agency_id"] for b, _ in bodies if b["agency_id"]]
        keys = [k for b, _ in bodies for k in b["keys"]]
        where = f"(a.agency_id IN ({_marks(ids)}) OR a.agency_key IN ({_marks(keys)}))"
        params: list[Any] = [*ids, *keys]
        if province:
            where += " AND a.province_key = ?"
            params.append(fold(province))
        return bodies, where, params

    def _assignment_rows(self, rowids: list[int]) -> list[sqlite3.Row]:
        """The assignment rows of a page, in full, in the order of `rowids`: only the page's
        rows are read whole (the table's rows carry the task text)."""
        rows = {r["rowid"]: r for r in self.db.execute(
            f"SELECT {_DUTY_COLUMNS} FROM assignments a {_DUTY_JOINS} "
            "WHERE a.rowid IN (SELECT value FROM json_each(?))", (json.dumps(rowids),))}
        return [rows[rowid] for rowid in rowids]

    # -- duty: which agencies own a duty -------------------------------------------

    def duty_owners(self, text: str, limit: int = 200) -> list[dict[str, Any]]:
        """Agencies that own a duty described by `text`, best match first.

        Ranking: tasks that contain the words as written (diacritics and all), then the folded
        phrase, then each Vietnamese word of the query as a phrase anywhere ("quan trắc",
        "môi trường", "lao động": underthesea's word segmentation, so the syllables of one
        word stay together), then all the syllables anywhere, then (only when nothing else
        matched) any syllable; within each tier lead before responsible, requested and
        support; then by the share of the task's words that are the query's (`_coverage`:
        a short task that says the query beats a long one that mentions it).
        """
        words = fold(text).split()
        if not words:
            return []
        quoted = [f'"{w}"' for w in words]

        def tiers():  # built as needed: the word segmenter only runs when the phrase falls short
            yield f'task : "{" ".join(words)}"'
            phrases = _word_phrases(text)
            if 1 < len(phrases) < len(words):
                yield "task : (" + " AND ".join(f'"{p}"' for p in phrases) + ")"
            yield "task : (" + " AND ".join(quoted) + ")"

        rows: dict[int, tuple] = {}
        n_tiers = 0
        for tier, match in enumerate(tiers(), start=1):
            n_tiers = tier
            if len(rows) >= limit:  # the phrase alone filled the answer: skip the looser match
                break
            self._fts_rows(match, tier, rows, limit)
        if not rows:
            self._fts_rows("task : (" + " OR ".join(quoted) + ")", n_tiers + 1, rows, limit)
        exact = match_key(" ".join(text.split()))
        query_words = frozenset(words)
        out = []
        for rowid, (tier, hit) in rows.items():
            if tier == 1 and exact != fold(exact) and exact in match_key(" ".join(hit["task"].split())):
                tier = 0  # the user's own diacritics agree: the closest match
            row = _duty_row(hit)
            row["score"] = round(_coverage(query_words, hit["task"]), 3)
            row["tier"] = tier
            out.append(row)
        out.sort(key=lambda owner: (owner["tier"], ROLE_ORDER.get(owner["role"], 9), -owner["score"]))
        return out[:limit]

    def _fts_rows(self, match: str, tier: int, rows: dict[int, tuple], limit: int) -> None:
        """The `limit` shortest tasks among the first `_fts_pool(limit)` matches of `match`:
        ranking every match of a phrase that a hundred thousand tasks share costs more than
        the answer is worth, and a short task is the one about the duty (`_coverage`)."""
        sql = (f"{_DUTY_SELECT} JOIN (SELECT t.assignment, t.words FROM (SELECT rowid AS fts_rowid "
               f"FROM assignments_fts WHERE assignments_fts MATCH ? LIMIT ?) m "
               f"JOIN task_sizes t ON t.assignment = m.fts_rowid ORDER BY t.words, t.assignment "
               f"LIMIT ?) f ON f.assignment = a.rowid ORDER BY f.words, f.assignment")
        for row in self.db.execute(sql, (match, _fts_pool(limit), limit)):
            rows.setdefault(row["rowid"], (tier, row))

    # -- cites: which documents implement or cite a reference ----------------------

    def citing(self, ref_id: str, limit: int | None = None,
               offset: int = 0) -> list[dict[str, Any]]:
        """Documents of the run that implement, report on or cite `ref_id` ("209/NQ-CP",
        "NQ 209", "209 NQ-CP"): implementers first, then those reporting on it, then the
        others; each by province, date and document. The first `limit` if given (after
        `offset`); `count_citing` gives the total.

        Each (folded id, type) the query stands for is read in that order from `refs_cited`,
        at most `offset + limit` rows each, and the few streams are merged: a page of 50 reads
        about 50 index entries, not the thousands of references to a shared directive."""
        pairs = self._cited_pairs(ref_id)
        if not pairs:
            return []
        per_stream = offset + limit if limit and limit > 0 else -1
        streams = [self.db.execute(
            f"SELECT r.rel_rank, r.doc_province, r.doc_date, r.doc_id AS k4, r.idx, {_REF_COLUMNS} "
            f"FROM refs r INDEXED BY refs_cited JOIN documents d ON d.id = r.doc_id "
            f"WHERE r.ref_key = ? AND r.doc_type IS ? ORDER BY {_CITED_ORDER} LIMIT ?",
            (key, dtype, per_stream)).fetchall() for key, dtype in pairs]
        rows = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=_cited_key)
        page = itertools.islice(rows, offset, None if per_stream < 0 else per_stream)
        return [dict(zip(_REF_NAMES, tuple(r)[5:])) for r in page]

    def count_citing(self, ref_id: str) -> int:
        """How many rows `citing(ref_id)` returns, counted in SQL (on the index alone)."""
        return self._memo("count", ref_id, lambda: sum(
            self.db.execute("SELECT count(*) FROM refs r INDEXED BY refs_keys WHERE "
                            "r.ref_number = ? AND r.ref_key = ? AND r.doc_type IS ?",
                            (_ref_number(key), key, dtype)).fetchone()[0]
            for key, dtype in self._cited_pairs(ref_id) or ()))

    def _citing_filter(self, ref_id: str) -> tuple[str, list[Any]] | None:
        """WHERE over `refs r` for the references `ref_id` stands for; None when none does."""
        pairs = self._cited_pairs(ref_id)
        if not pairs:
            return None
        where = " OR ".join(["(r.ref_key = ? AND r.doc_type IS ?)"] * len(pairs))
        return f"({where})", [v for pair in pairs for v in pair]

    def _cited_pairs(self, ref_id: str) -> tuple[tuple[str, str | None], ...] | None:
        """The (folded id, type) pairs of the references `ref_id` stands for, in order; None
        when none does. Computed once per store state (see `_memo`).

        The loose reading (`_ref_matches`) runs in Python once per distinct folded id and type
        among the references that share the query's number, not once per citing row; those
        pairs are found by skipping through `refs_keys` from one pair to the next, so a number
        that thousands of references share costs a few index seeks."""
        return self._memo("pairs", ref_id, lambda: self._find_cited_pairs(ref_id))

    def _find_cited_pairs(self, ref_id: str) -> tuple[tuple[str, str | None], ...] | None:
        query = parse_ref_query(ref_id)
        # ids led by the query's number ("209 nq cp"), or by its first word ("luat an toan ...")
        numbers = sorted({k for k in (query[0], *fold(ref_id).split()[:1]) if k})
        matching = tuple(pair for number in numbers for pair in self._key_pairs(number)
                         if _ref_matches(query, *pair))
        return matching or None

    def _key_pairs(self, number: str):
        """The distinct (ref_key, doc_type) of the references whose id starts with `number`, in
        index order: one seek each (a skip scan of `refs_keys`)."""
        db = self.db
        first = ("SELECT ref_key, doc_type FROM refs INDEXED BY refs_keys WHERE ref_number = ? "
                 "{} ORDER BY ref_key, doc_type LIMIT 1")
        row = db.execute(first.format(""), (number,)).fetchone()
        while row is not None:
            key, dtype = row
            yield key, dtype
            if dtype is None:  # NULL sorts first: the next type is any non-null one
                row = db.execute(first.format("AND ref_key = ? AND doc_type IS NOT NULL"),
                                 (number, key)).fetchone()
            else:
                row = db.execute(first.format("AND ref_key = ? AND doc_type > ?"),
                                 (number, key, dtype)).fetchone()
            if row is None:
                row = db.execute(first.format("AND ref_key > ?"), (number, key)).fetchone()

    def _memo(self, kind: str, key: str, compute):
        """`compute()` once per (kind, key) while the store is unchanged: the parts of one
        `cites` answer (the pairs, the resolution, the total) and of one `agency` answer (what
        the name stands for) ask for the same things several times. Forgotten whenever this
        connection writes (total_changes) or another one commits (PRAGMA data_version), so an
        answer never comes from an older store."""
        token = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        if token != self._memo_token:
            self._memo_token, self._memo_cache = token, {}
        if (kind, key) not in self._memo_cache:
            self._memo_cache[(kind, key)] = compute()
        return self._memo_cache[(kind, key)]

    def clear_cache(self) -> None:
        """Forget what `_memo` kept (a benchmark times each answer as a new process would)."""
        self._memo_token, self._memo_cache = None, {}

    def resolve_reference(self, ref_id: str) -> dict[str, Any] | None:
        """The canonical id that `ref_id` stands for, and the run document carrying it."""
        found = self._memo("resolve", ref_id, lambda: self._resolve_reference(ref_id))
        return dict(found) if found is not None else None

    def _resolve_reference(self, ref_id: str) -> dict[str, Any] | None:
        pairs = self._cited_pairs(ref_id)
        if pairs:
            canonical = self.citing(ref_id, limit=1)[0]["canonical_id"]
            # the document its references resolve to: the first resolved one by folded id, type,
            # relation, citing document and position (two documents may share a number);
            # else the one that carries the id
            row = None
            for key, dtype in pairs:
                row = self.db.execute(
                    "SELECT resolved_to FROM refs INDEXED BY refs_resolved_first WHERE ref_key = ? "
                    "AND doc_type IS ? AND resolved_to IS NOT NULL ORDER BY relation, doc_id, idx "
                    "LIMIT 1", (key, dtype)).fetchone()
                if row is not None:
                    break
            if row is None:
                row = self.db.execute("SELECT id FROM documents WHERE canonical_id = ? LIMIT 1",
                                      (canonical,)).fetchone()
            return {"canonical_id": canonical, "document": row[0] if row else None}
        query = parse_ref_query(ref_id)  # a run document nobody cites
        for doc in self.db.execute("SELECT id, canonical_id, doc_type FROM documents "
                                   "WHERE canonical_id IS NOT NULL"):
            if _ref_matches(query, fold(doc["canonical_id"]), doc["doc_type"]):
                return {"canonical_id": doc["canonical_id"], "document": doc["id"]}
        return None

    def chain(self, ref_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The implementation chain through `ref_id`: what it carries out, and what carries it out.

        Items {"node", "label", "document", "level", "parent", "is_query"}, in tree order:
        level < 0 above the reference (the directives it implements), 0 the reference itself,
        > 0 below (run documents that implement, report on or cite it, then theirs); `parent`
        is the node one level up. Taken from the link stage's chains through the reference
        (one per province, merged), completed from the stored references. With `limit`, at
        most that many nodes below the reference, nearest first (`chain_page` says whether
        some were left out).
        """
        return self.chain_page(ref_id, limit)[0]

    def chain_page(self, ref_id: str, limit: int | None = None
                   ) -> tuple[list[dict[str, Any]], bool]:
        """`chain(ref_id, limit)` and whether it is complete (False: nodes were left out)."""
        target = self.resolve_reference(ref_id)
        if target is None:
            return [], True
        cap = limit if limit and limit > 0 else None
        names = {target["canonical_id"]} | ({target["document"]} if target["document"] else set())
        tree: dict[str, tuple[int, str | None]] = {}  # node -> (level, parent)
        complete = True
        below = 0
        for cid in self._chains_through(names):
            if not complete:  # the page is full: the other chains (thousands through a
                break         # directive every province implements) are not read
            nodes = [r[0] for r in self.db.execute(
                "SELECT node FROM chains WHERE chain = ? ORDER BY pos", (cid,))]
            here = next(i for i, n in enumerate(nodes) if n in names)
            for pos, node in enumerate(nodes):
                if node in tree:
                    continue
                if pos > here and cap is not None and below >= cap:
                    complete = False
                    break
                tree[node] = (pos - here, nodes[pos - 1] if pos else None)
                below += pos > here
        # documents that cite it but sit on no chain of the link stage still belong below it
        room = None if cap is None else cap - _below(tree)
        built, built_complete = self._built_chain(target, set(tree), room)
        complete = complete and built_complete
        for node, (level, parent) in built.items():
            tree.setdefault(node, (level, parent))
        children: dict[str | None, list[str]] = {}
        for node, (_, parent) in tree.items():
            children.setdefault(parent if parent in tree else None, []).append(node)
        ordered: list[str] = []

        def walk(node: str) -> None:  # depth first, so each subtree prints under its parent
            ordered.append(node)
            for child in children.get(node, []):
                walk(child)

        for root in children.get(None, []):
            walk(root)
        items = self._chain_items(ordered, names)
        return [items[n] | {"level": tree[n][0], "parent": tree[n][1]} for n in ordered], complete

    def _chains_through(self, names: set[str]):
        """The ids of the chains through any of `names`, ascending and distinct, read lazily
        from `chains_node_chain` (one stream per name, merged)."""
        cursors = [self.db.execute("SELECT chain FROM chains INDEXED BY chains_node_chain "
                                   "WHERE node = ? ORDER BY chain", (n,)) for n in sorted(names)]
        try:
            last = None
            for cid in heapq.merge(*((r[0] for r in c) for c in cursors)):
                if cid != last:
                    yield cid
                    last = cid
        finally:
            for cursor in cursors:
                cursor.close()

    def _built_chain(self, target: dict[str, Any], known: set[str], room: int | None
                     ) -> tuple[dict[str, tuple[int, str | None]], bool]:
        """The chain from the stored references, breadth first; at most `room` nodes below the
        reference that are not in `known` already. Returns (node -> (level, parent), complete)."""
        tree: dict[str, tuple[int, str | None]] = {}
        above = []
        if target["document"]:
            above = [r[0] for r in self.db.execute(
                "SELECT canonical_id FROM refs WHERE doc_id = ? AND relation = 'implements' "
                "ORDER BY idx", (target["document"],))]
        for node in above:
            tree.setdefault(node, (-1, None))
        me = target["document"] or target["canonical_id"]
        tree[me] = (0, above[0] if above else None)
        added = 0
        frontier, depth = [(me, target)], 0
        while frontier:  # breadth first down the implementation tree
            depth += 1
            nxt = []
            for parent, parent_ref in frontier:
                for citer in self._iter_citing(parent_ref["canonical_id"], page=(room or 200) + 1):
                    if citer["document"] in tree:
                        continue
                    if room is not None and citer["document"] not in known:
                        if added >= room:
                            return tree, False
                        added += 1
                    tree[citer["document"]] = (depth, parent)
                    if citer["document_id"] and citer["relation"] == "implements":
                        nxt.append((citer["document"], {"canonical_id": citer["document_id"],
                                                        "document": citer["document"]}))
            frontier = nxt
        return tree, True

    def _iter_citing(self, ref_id: str, page: int):
        """`citing(ref_id)` read a page at a time, so a caller that stops early reads little."""
        offset = 0
        while True:  # pages that double: a caller that reads everything reads each row ~twice
            rows = self.citing(ref_id, limit=page, offset=offset)
            yield from rows
            if len(rows) < page:
                return
            offset += page
            page *= 2

    def _chain_items(self, nodes: list[str], names: set[str]) -> dict[str, dict[str, Any]]:
        """Label of each node: a run document (by id or canonical id), else the id as cited."""
        docs: dict[str, sqlite3.Row] = {}
        for start in range(0, len(nodes), 400):  # within SQLite's parameter limit
            part = nodes[start:start + 400]
            for doc in self.db.execute(
                    "SELECT id, canonical_id, doc_type, province, date FROM documents "
                    f"WHERE id IN ({_marks(part)}) OR canonical_id IN ({_marks(part)}) "
                    "ORDER BY rowid", [*part, *part]):
                docs.setdefault(doc["id"], doc)
                if doc["canonical_id"]:
                    docs.setdefault(doc["canonical_id"], doc)
        return {n: self._chain_item(n, names, docs.get(n)) for n in nodes}

    @staticmethod
    def _chain_item(node: str, names: set[str], doc: sqlite3.Row | None) -> dict[str, Any]:
        if doc:
            label = doc["canonical_id"] or doc["id"]
            label += f" ({doc['doc_type'] or '?'}, {doc['province'] or '?'}, {doc['date'] or '?'})"
            return {"node": node, "label": label, "document": doc["id"],
                    "is_query": node in names or doc["id"] in names}
        return {"node": node, "label": node, "document": None, "is_query": node in names}

    # -- gaps: tasks that are not "5 rõ" ----------------------------------------------

    def gaps(self, province: str | None = None, agency: str | None = None,
             limit: int | None = None) -> list[dict[str, Any]]:
        """Tasks with no deadline, no lead or no measurable result, by document and agency
        (the first `limit` if given; `count_gaps` gives the total)."""
        where, params = _gaps_filter(province, agency)
        if agency:  # the agency's rows (from `agency_duty_order`), not a scan of every gap
            table = "assignments a NOT INDEXED"
            where += " AND a.rowid IN (SELECT assignment FROM agency_duty_order WHERE agency_key = ?)"
            params.append(fold(agency))
        else:
            table = "assignments a"
        rowids = [r[0] for r in self.db.execute(
            f"SELECT a.rowid FROM {table} WHERE {_GAP} AND {where} ORDER BY a.doc_id, a.agency, a.idx "
            "LIMIT ?", [*params, _sql_limit(limit)])]
        out = []
        for hit in self._assignment_rows(rowids):
            row = _duty_row(hit)
            row["missing"] = [name for name, flag in (
                ("deadline", hit["missing_deadline"]), ("lead", hit["missing_lead"]),
                ("result", hit["missing_result"])) if flag]
            out.append(row)
        return out

    def count_gaps(self, province: str | None = None, agency: str | None = None) -> int:
        """How many rows `gaps(province, agency)` returns, counted in SQL (`agency_counts`)."""
        where, params = _gaps_filter(province, agency)
        return self.db.execute(f"SELECT coalesce(sum(a.gaps), 0) FROM agency_counts a WHERE {where}",
                               params).fetchone()[0]


def _group_counts(gap_of_group: Iterable[tuple[tuple[str, str, str], Any]]
                  ) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(duties, gaps) of each group of `agency_counts`, from (group, whether it has a gap)
    for each assignment."""
    counts: dict[tuple[str, str, str], tuple[int, int]] = {}
    for group, gap in gap_of_group:
        duties, gaps = counts.get(group, (0, 0))
        counts[group] = (duties + 1, gaps + bool(gap))
    return counts


def _gaps_filter(province: str | None, agency: str | None) -> tuple[str, list[Any]]:
    """WHERE over `assignments a` or `agency_counts a` (the columns they share)."""
    where = ["1"]
    params: list[Any] = []
    if province:
        where.append("a.province_key = ?")
        params.append(fold(province))
    if agency:
        where.append("a.agency_key = ?")
        params.append(fold(agency))
    return " AND ".join(where), params


def _word_phrases(text: str) -> list[str]:
    """The query's Vietnamese words, folded: "quan trắc môi trường" -> ["quan trac", "moi truong"].

    underthesea's CRF word segmenter ships in its wheel (no download); it is called on the
    query only, never on documents (about 35 k words/s). `use_token_normalize=False` keeps
    the query's own spelling.
    """
    try:
        from underthesea import word_tokenize
    except ImportError:  # pragma: no cover - underthesea is a dependency
        return []
    phrases = [fold(w) for w in word_tokenize(" ".join(text.split()), use_token_normalize=False)]
    return [p for p in phrases if p]


_DUTY_COLUMNS = (
    "a.rowid, a.doc_id, a.idx, a.agency, a.agency_id, a.role, a.partners, a.section, "
    "a.task, a.span_start, a.span_end, a.deadline, a.province, a.missing_deadline, "
    "a.missing_lead, a.missing_result, d.doc_type, d.canonical_id, d.date, s.heading"
)
_DUTY_JOINS = ("JOIN documents d ON d.id = a.doc_id "
               "LEFT JOIN sections s ON s.doc_id = a.doc_id AND s.section_id = a.section")
_DUTY_SELECT = f"SELECT {_DUTY_COLUMNS} FROM assignments a {_DUTY_JOINS}"
_REF_COLUMNS = (
    "r.doc_id AS document, d.doc_type, d.canonical_id AS document_id, d.province, "
    "d.date, d.title, r.relation, r.canonical_id, r.doc_type AS ref_doc_type, "
    "r.text, r.span_start, r.span_end, r.resolved_to"
)
_REF_NAMES = tuple(c.rsplit(" ", 1)[-1].split(".")[-1] for c in _REF_COLUMNS.split(", "))
_REL_ORDER = {"implements": 0, "reports_on": 1, "cites": 2}
# the columns `refs` gained for `cites` (as `ALTER TABLE refs ADD COLUMN` takes them)
_REFS_SORT_KEYS = ("rel_rank INTEGER NOT NULL DEFAULT 9", "doc_province TEXT NOT NULL DEFAULT ''",
                   "doc_date TEXT NOT NULL DEFAULT ''")
_CITED_ORDER = "rel_rank, doc_province, doc_date, doc_id, idx"


def _cited_key(row: sqlite3.Row) -> tuple[Any, ...]:
    """The order of `citing`: relation rank, province, date, document, position (the first
    five columns of its rows). str compares by code point, as SQLite's BINARY by UTF-8 bytes."""
    return tuple(row)[:5]


def _ref_number(key: str) -> str:
    """`refs.ref_number` of a folded id: its first token."""
    return key.split(" ", 1)[0]


def _rel_rank_sql(column: str) -> str:
    """`_REL_ORDER` as SQL: the rank of the relation in `column` (9 for any other)."""
    whens = " ".join(f"WHEN '{rel}' THEN {n}" for rel, n in _REL_ORDER.items())
    return f"CASE {column} {whens} ELSE 9 END"


def _below(tree: dict[str, tuple[int, str | None]]) -> int:
    return sum(1 for level, _ in tree.values() if level > 0)


def task_length(folded_task: str | None) -> int:
    """The words of a folded task, as the full-text index splits them (at least 1)."""
    return max(1, len(_WORD.findall(folded_task or "")))


def _coverage(query_words: frozenset[str], task: str) -> float:
    """The share of the task's words that are words of the query: 1.0 when the task says
    the query and nothing else; higher for a task that repeats it than for one of the same
    length that says it once; lower the more else the task says."""
    words = _WORD.findall(fold(task))
    return sum(1 for w in words if w in query_words) / max(1, len(words))


def _fts_pool(limit: int) -> int:
    """How many full-text matches `duty_owners` scores to pick its best `limit`."""
    return max(2000, 20 * limit)


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _sql_limit(limit: int | None) -> int:
    """None or 0 (everything) is SQLite's LIMIT -1."""
    return limit if limit and limit > 0 else -1


def _via(agency_id: str | None, agency_key: str,
         bodies: list[tuple[dict[str, Any], str]]) -> str:
    """How a row of `agency_duties` matched: by agency id first, else by folded name."""
    via = next((v for b, v in bodies if agency_id and agency_id == b["agency_id"]), None)
    if via is None:
        via = next((v for b, v in bodies if agency_key in b["keys"]), "")
    return via


def _duty_row(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "agency": row["agency"], "agency_id": row["agency_id"], "role": row["role"],
        "task": row["task"], "partners": json.loads(row["partners"]), "deadline": row["deadline"],
        "document": row["doc_id"], "document_id": row["canonical_id"], "doc_type": row["doc_type"],
        "province": row["province"], "date": row["date"], "section": row["section"],
        "section_heading": row["heading"], "span": [row["span_start"], row["span_end"]],
    }


def _body(record: dict[str, Any] | None, name: str, agency_id: str | None = None) -> dict[str, Any]:
    record = record or {}
    names = [record.get("name") or name, *record.get("aliases", [])]
    return {"agency_id": record.get("id") or agency_id, "name": record.get("name") or name,
            "keys": sorted({fold(n) for n in names})}


def _node_name(node: Any) -> str:
    if isinstance(node, dict):
        return str(node.get("id") or node.get("document") or node.get("canonical_id"))
    return str(node)


# ----------------------------------------------------------------------------- gazetteer

def agency_record(name: str) -> dict[str, Any] | None:
    """The gazetteer record for a name typed by a user: {"id", "name", "successor", "aliases"}.

    First the folded name among the names, aliases and abbreviations of rules/agencies.yaml
    (so "So LDTBXH" and "Sở LĐTBXH" both work); then the assignment stage's matcher
    (pipeline.stages.agencies.agency_at), which also reads "Sở Y tế tỉnh Cao Bằng".
    """
    by_key, by_id = _gazetteer_index()
    key = fold(name)
    if key in by_key:
        return by_id[by_key[key]]
    from ..stages import agencies

    mention = agencies.agency_at(name.strip(), 0, allow_bare=True)
    if mention is not None and mention.id and mention.end >= len(name.strip()):
        return by_id.get(mention.id) or {"id": mention.id, "name": mention.name}
    return None


def _gazetteer_get(agency_id: str | None) -> dict[str, Any] | None:
    return _gazetteer_index()[1].get(agency_id or "")


_GAZETTEER: tuple[dict[str, str], dict[str, dict[str, Any]]] | None = None


def _gazetteer_index() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """(folded name/alias/abbreviation -> id, id -> record with its successor), built once."""
    global _GAZETTEER
    if _GAZETTEER is None:
        from ..rules import load

        try:
            data = load("agencies") or {}
        except FileNotFoundError:
            data = {}
        successors = {s["from"]: s["to"] for s in data.get("successors", [])}
        by_key: dict[str, str] = {}
        by_id: dict[str, dict[str, Any]] = {}
        for agency in data.get("agencies", []):
            names = [agency["name"], *agency.get("aliases", []), *agency.get("abbreviations", [])]
            by_id[agency["id"]] = {"id": agency["id"], "name": agency["name"], "aliases": names[1:],
                                   "kind": agency.get("kind"), "successor": successors.get(agency["id"])}
            for name in names:
                by_key.setdefault(fold(name), agency["id"])
        _GAZETTEER = (by_key, by_id)
    return _GAZETTEER
