"""Corpus level, link: resolve references to documents of the same run, and chain them.

For every reference:
- **by number**: a document whose own number and symbol give the same canonical id
  ("664/KH-UBND"); when several do, the smallest id;
- **by description**, for documents whose own "Số:" line is blank (drafts, unsigned copies):
  same type, and the same date (the document's date may be partial: "2025-12"), then the
  issuer ("UBND tỉnh" of the citing document's province) and the overlap of titles decide.
  A reference that fits two documents equally stays unresolved; a date or title word that
  more than LOOKALIKES such documents share is not used to find them.

The corpus-level state is a **link index** in SQLite (the run's store, or a private
`.vanban-index.sqlite` with `--no-db`): one row per document (`link_docs`), one per
reference (`link_refs`), title words of the documents and references that only a
description can resolve, and `pending`: the documents added, changed or removed since
the corpus step last finished. `pipeline.corpus.store.Store` keeps these tables in the same
transaction as the document's own rows. Linking is then incremental and goes through
indexes, never over the corpus per reference:

1. `affected_refs`: the references of pending documents, the references resolved to one
   of them, the references whose number names one (old or new), and those a pending
   numberless document could answer by description (same type, a compatible date — the
   issuer × type × month index — or, without a date, a shared title word);
2. `resolve`: each of those references, with candidates looked up by number
   (`own_key`), or by type and date prefix, or by title word;
3. the corpus-wide parts (the documents with `recognised_as` and its evidence, the
   documents outside the run, the citation edges, the implementation chains) are then
   derived in one linear pass over the index (`iter_links`), streamed to links.json.

A chain runs from a top directive down to the run's documents, e.g.
31-CT/TW -> 209/NQ-CP -> 417-KH/TU -> <plan 664> -> <letter>. Edges between two outside
documents come from the titles the text gives them ("Kế hoạch số 417-KH/TU ... về thực
hiện Chỉ thị số 31-CT/TW").

`link_documents(docs)` does the same for a list of dicts (an index in memory) and sets
`resolved_to` on them: the tests and notebooks use it; `vanban run` uses the index.
"""
from __future__ import annotations

import heapq
import itertools
import json
import re
import sqlite3
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..stages.emit import publish, write_temp
from ..stages.references import canonical_key, canonical_symbol, references_in
from ..rules import load
from ..textkeys import fold

# Words that carry no meaning when comparing titles (rules/link.yaml), folded.
_TITLE_STOP = frozenset(w for phrase in load("link")["title_stopwords"] for w in fold(phrase).split())
# Bodies' names as their abbreviations, folded: (pattern, abbreviation) (rules/header.yaml).
_BODY_ABBREVIATIONS = tuple(
    (re.compile(rf"\b{re.escape(fold(name))}\b"), fold(short))
    for name, short in load("header")["body_abbreviations"].items() if fold(name) != fold(short)
)
_HEAD_RELATIONS = ("implements", "reports_on")


@lru_cache(maxsize=65536)
def _title_words(title: str | None) -> frozenset[str]:
    words = fold(title).split()
    return frozenset(w for w in words if w not in _TITLE_STOP and not w.isdigit())


def title_similarity(title_a: str | None, title_b: str | None) -> float:
    """Share of the shorter title's content words found in the other one (0..1)."""
    wa, wb = _title_words(title_a), _title_words(title_b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


@lru_cache(maxsize=65536)
def _issuer_key(issuer: str | None) -> str:
    folded = fold(issuer)
    for name, short in _BODY_ABBREVIATIONS:
        folded = name.sub(short, folded)
    return folded


_province_key = lru_cache(maxsize=4096)(fold)  # a corpus names a few dozen provinces, a million times


def _issuer_fits(ref_issuer: str | None, cand: Mapping, citing: Mapping) -> bool | None:
    """True/False when the issuer decides; None when the reference names none.
    `cand`, `citing`: the candidate's and the citing document's "issuer" and "province"."""
    if not ref_issuer:
        return None
    ref_key, cand_key = _issuer_key(ref_issuer), _issuer_key(cand["issuer"])
    if not cand_key:
        return None
    if ref_key == cand_key or cand_key.startswith(ref_key + " ") or ref_key.startswith(cand_key + " "):
        # "UBND tỉnh" (no province named) means the citing document's own province.
        if ref_key != cand_key and not ref_key.startswith(cand_key):
            cp, mp = _province_key(cand["province"]), _province_key(citing["province"])
            return not (cp and mp) or cp == mp
        return True
    return False


def _date_fits(ref_date: str | None, doc_date: str | None) -> bool | None:
    if not ref_date or not doc_date:
        return None
    return ref_date.startswith(doc_date) or doc_date.startswith(ref_date)


def _meta(doc: dict) -> dict:
    return doc.get("metadata") or {}




def _without_year(key: str) -> str:
    """"39/2016/NĐ-CP" compared as "39/NĐ-CP" when one side leaves the year out."""
    return re.sub(r"/(?:19|20)\d\d/", "/", key)


# ----------------------------------------------------------------------------- the link index

INDEX_VERSION = 5  # 5: the title-word tables carry the document type (`migrate_word_tables`)

# A description that more than this many numberless documents of the reference's type fit
# (by date, or by one title word) cannot single one out: `_candidates` does not look there.
# It keeps the work per reference bounded whatever the corpus: a corpus of thousands of
# unsigned drafts of one month, with one title, would otherwise compare every reference with
# every draft (and then find them tied).
LOOKALIKES = 200

SCHEMA = """
CREATE TABLE IF NOT EXISTS link_docs (
    id TEXT PRIMARY KEY,
    own_cid TEXT,                 -- canonical id from its own number and symbol
    own_key TEXT, own_key_ny TEXT,   -- canonical_key(own_cid), and without the year
    numberless INTEGER NOT NULL,  -- no number of its own: resolvable only by description
    number TEXT, symbol TEXT,
    doc_type TEXT, date TEXT, issuer TEXT, province TEXT, title TEXT, symbol_key TEXT,
    nwords INTEGER NOT NULL,      -- content words of its title (see title_similarity)
    recognised_as TEXT            -- set by the corpus step
);
CREATE INDEX IF NOT EXISTS link_docs_key ON link_docs(own_key);
CREATE INDEX IF NOT EXISTS link_docs_key_ny ON link_docs(own_key_ny);
CREATE INDEX IF NOT EXISTS link_docs_described ON link_docs(numberless, doc_type, date);
CREATE TABLE IF NOT EXISTS link_doc_words (   -- title words of numberless documents
    word TEXT NOT NULL, doc_type TEXT NOT NULL,   -- '' for none: a candidate has the reference's type
    dated INTEGER NOT NULL, nwords INTEGER NOT NULL, doc_id TEXT NOT NULL,
    PRIMARY KEY (word, doc_type, dated, nwords, doc_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS link_doc_words_doc ON link_doc_words(doc_id);
CREATE TABLE IF NOT EXISTS link_refs (
    doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    canonical_id TEXT NOT NULL, key TEXT NOT NULL, key_ny TEXT NOT NULL,
    doc_type TEXT, date TEXT, issuer TEXT, title TEXT, symbol_key TEXT,
    relation TEXT NOT NULL, text TEXT,
    title_implements TEXT,        -- JSON list: canonical ids its title says it implements
    resolved_to TEXT,             -- as published in the document's JSON and the store
    evidence TEXT,                -- JSON, when resolved by description
    PRIMARY KEY (doc_id, idx)
);
CREATE INDEX IF NOT EXISTS link_refs_key_ny ON link_refs(key_ny);
CREATE INDEX IF NOT EXISTS link_refs_resolved ON link_refs(resolved_to);
CREATE INDEX IF NOT EXISTS link_refs_described ON link_refs(doc_type, date);
CREATE TABLE IF NOT EXISTS link_ref_words (   -- title words of references without a date
    word TEXT NOT NULL, doc_type TEXT NOT NULL,   -- '' for none
    nwords INTEGER NOT NULL, doc_id TEXT NOT NULL, idx INTEGER NOT NULL,
    PRIMARY KEY (word, doc_type, nwords, doc_id, idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS link_ref_words_doc ON link_ref_words(doc_id);
-- documents added, changed or removed since the corpus step last finished, with what the
-- index said of them then (so the references their old state answered are relinked too)
CREATE TABLE IF NOT EXISTS pending (
    doc_id TEXT PRIMARY KEY,
    old_key_ny TEXT, old_numberless INTEGER, old_doc_type TEXT, old_date TEXT, old_title TEXT
);
"""


@lru_cache(maxsize=65536)
def _implements_in_title(title: str) -> tuple[str, ...]:
    return tuple(x["canonical_id"] for x in references_in(title) if x["implements"])


def _sym_key(symbol: str | None) -> str | None:
    return canonical_key(symbol) if symbol else None


def migrate_word_tables(db: sqlite3.Connection) -> None:
    """An index of version 4 to 5, inside the caller's transaction: its title-word tables
    get each row's document type, from `link_docs` and `link_refs` (no document is read)."""
    for table in ("link_doc_words", "link_ref_words"):
        db.execute(f"DROP INDEX IF EXISTS {table}_doc")
        db.execute(f"ALTER TABLE {table} RENAME TO {table}_v4")
    for statement in SCHEMA.split(";"):  # the new tables; the others exist
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO link_doc_words SELECT w.word, coalesce(d.doc_type, ''), w.dated, w.nwords, w.doc_id "
               "FROM link_doc_words_v4 w JOIN link_docs d ON d.id = w.doc_id")
    db.execute("INSERT INTO link_ref_words SELECT w.word, coalesce(r.doc_type, ''), w.nwords, w.doc_id, w.idx "
               "FROM link_ref_words_v4 w JOIN link_refs r ON r.doc_id = w.doc_id AND r.idx = w.idx")
    db.execute("DROP TABLE link_doc_words_v4")
    db.execute("DROP TABLE link_ref_words_v4")


def mark_pending(db: sqlite3.Connection, doc_id: str) -> None:
    """Record that `doc_id` changes (call inside the transaction that changes it), with the
    index's view of it as the last finished corpus step left it."""
    if db.execute("SELECT 1 FROM pending WHERE doc_id = ?", (doc_id,)).fetchone():
        return
    old = db.execute("SELECT own_key_ny, numberless, doc_type, date, title FROM link_docs WHERE id = ?",
                     (doc_id,)).fetchone()
    db.execute("INSERT INTO pending VALUES (?,?,?,?,?,?)", (doc_id, *(tuple(old) if old else (None,) * 5)))


def unindex_document(db: sqlite3.Connection, doc_id: str) -> None:
    for table, col in (("link_docs", "id"), ("link_doc_words", "doc_id"), ("link_refs", "doc_id"),
                       ("link_ref_words", "doc_id")):
        db.execute(f"DELETE FROM {table} WHERE {col} = ?", (doc_id,))


def index_document(db: sqlite3.Connection, doc: dict[str, Any]) -> None:
    """Replace the index rows of one document (inside the caller's transaction)."""
    write_index(db, index_rows(doc))


def index_rows(doc: dict[str, Any]) -> tuple[tuple, list[tuple], list[tuple], list[tuple]]:
    """The index rows of one document: (link_docs row, link_doc_words, link_refs, link_ref_words).

    Depends on the document alone, so `vanban run`'s workers make them in parallel and the
    driver only writes them (`write_index`)."""
    doc_id = doc["id"]
    meta = _meta(doc)
    own = canonical_symbol(meta.get("number"), meta.get("symbol"))
    key = canonical_key(own) if own else None
    numberless = not meta.get("number")
    doc_row = (doc_id, own, key, _without_year(key) if key else None, int(numberless),
               meta.get("number"), meta.get("symbol"), meta.get("doc_type"),
               meta.get("date"), meta.get("issuer"), meta.get("province"), meta.get("title"),
               _sym_key(meta.get("symbol")), len(_title_words(meta.get("title"))), None)
    doc_words = []
    if numberless:
        title_words = _title_words(meta.get("title"))
        doc_words = [(w, meta.get("doc_type") or "", int(bool(meta.get("date"))), len(title_words), doc_id)
                     for w in sorted(title_words)]
    refs, words = [], []
    for idx, ref in enumerate(doc.get("references") or []):
        rkey = canonical_key(ref.get("canonical_id"))
        inner = list(_implements_in_title(ref["title"])) if ref.get("title") else []
        refs.append((doc_id, idx, ref["canonical_id"], rkey, _without_year(rkey), ref.get("doc_type"), ref.get("date"),
                     ref.get("issuer"), ref.get("title"), _sym_key(ref.get("symbol")), ref.get("relation") or "cites",
                     ref.get("text"), json.dumps(inner, ensure_ascii=False) if inner else None,
                     ref.get("resolved_to"), None))
        if not ref.get("date"):
            mine = _title_words(ref.get("title"))
            words.extend((w, ref.get("doc_type") or "", len(mine), doc_id, idx) for w in sorted(mine))
    return doc_row, doc_words, refs, words


def write_index(db: sqlite3.Connection, rows: tuple[tuple, list[tuple], list[tuple], list[tuple]]) -> None:
    """Replace one document's index rows by `rows` (from `index_rows`), inside the caller's transaction."""
    doc_row, doc_words, refs, words = rows
    unindex_document(db, doc_row[0])
    db.execute("INSERT INTO link_docs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", doc_row)
    if doc_words:
        db.executemany("INSERT OR IGNORE INTO link_doc_words VALUES (?,?,?,?,?)", doc_words)
    if refs:
        db.executemany("INSERT INTO link_refs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", refs)
    if words:
        db.executemany("INSERT OR IGNORE INTO link_ref_words VALUES (?,?,?,?,?)", words)


_RESOLVED_KEY = '"resolved_to":'


def patch_resolved(text: str, changes: dict[int, str | None], count: int) -> str | None:
    """`text`, a document's compact JSON (the layout `vanban run` writes and the store keeps),
    with the `resolved_to` of its references at the positions in `changes` replaced.

    The result is the text that serialising the patched document would give (the values are
    encoded as `json.dumps` encodes them; nothing else moves), without parsing and encoding
    the ~100 kB of a document again: the corpus step of a first run rewrites most documents.
    Only references carry `resolved_to`, one each, in order; inside a JSON string a quote is
    always escaped, so `"resolved_to":` is found only as that key. None when the text does
    not hold exactly `count` of them (another layout, e.g. indented): the caller goes
    through the dict."""
    from json.decoder import scanstring

    parts, last, found = [], 0, 0
    pos = text.find(_RESOLVED_KEY)
    while pos != -1:
        start = pos + len(_RESOLVED_KEY)
        if pos == 0 or text[pos - 1] not in "{,":
            return None
        if text.startswith("null", start):
            end = start + 4
        elif text.startswith('"', start):
            end = scanstring(text, start + 1)[1]
        else:
            return None
        if found in changes:
            parts += [text[last:start], json.dumps(changes[found], ensure_ascii=False)]
            last = end
        found += 1
        pos = text.find(_RESOLVED_KEY, end)
    if found != count:
        return None
    parts.append(text[last:])
    return "".join(parts)


def with_resolutions(text: str, changes: dict[int, str | None], count: int) -> str:
    """A document's output JSON `text` with the `resolved_to` in `changes`: patched as text
    (`patch_resolved`), or through the dict when the text is not in the layout a run writes."""
    patched = patch_resolved(text, changes, count)
    if patched is None:
        from ..stages.emit import dumps

        doc = json.loads(text)
        for idx, target in changes.items():
            doc["references"][idx]["resolved_to"] = target
        patched = dumps(doc, pretty=False) + "\n"
    return patched


def resolutions(db: sqlite3.Connection, doc_id: str) -> tuple[dict[int, str], int]:
    """The index's resolutions of a document's references ({position: document id}, the
    resolved ones only) and how many references it has."""
    rows = db.execute("SELECT idx, resolved_to FROM link_refs WHERE doc_id = ?", (doc_id,)).fetchall()
    return {idx: target for idx, target in rows if target is not None}, len(rows)


def _date_prefixes(date: str) -> list[str]:
    return [date[:n] for n in (4, 7, 10) if len(date) >= n]


def _prefix_range(value: str) -> tuple[str, str]:
    """Strings that start with `value`: value <= s < value + U+FFFF (an index range)."""
    return value, value + "\uffff"


def affected_refs(db: sqlite3.Connection) -> set[tuple[str, int]]:
    """(doc_id, idx) of every reference whose resolution the pending documents may change."""
    out: set[tuple[str, int]] = set()
    df: dict[tuple[str, ...], int] = {}
    pending, documents = (db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("pending", "link_docs"))
    if pending and 5 * pending >= documents:  # a large share changed (a first run): relink everything
        ids: dict[str, str] = {}  # one string per document, not per reference (800,000 at 100,000 documents)
        return {(ids.setdefault(doc_id, doc_id), idx) for doc_id, idx in db.execute("SELECT doc_id, idx FROM link_refs")}

    def add(sql: str, params: Iterable[Any]) -> None:
        out.update((r[0], r[1]) for r in db.execute(sql, tuple(params)))

    states = []
    word_changes: Counter[tuple[str, str]] = Counter()  # (type, title word) -> documents gained
    for row in db.execute("SELECT p.doc_id, p.old_key_ny, p.old_numberless, p.old_doc_type, p.old_date, p.old_title, "
                          "d.own_key_ny, d.numberless, d.doc_type, d.date, d.title "
                          "FROM pending p LEFT JOIN link_docs d ON d.id = p.doc_id").fetchall():
        doc_id = row[0]
        add("SELECT doc_id, idx FROM link_refs WHERE doc_id = ?", (doc_id,))
        add("SELECT doc_id, idx FROM link_refs WHERE resolved_to = ?", (doc_id,))
        states.append(tuple(row[1:6]))
        if row[2]:  # its old title words leave `link_doc_words`
            word_changes.subtract((row[3] or "", w) for w in _title_words(row[5]))
        if row[8] is not None or row[7] is not None:
            states.append(tuple(row[6:11]))
            if row[7]:
                word_changes.update((row[8] or "", w) for w in _title_words(row[10]))
    _add_uncommon_crossings(db, word_changes, out)
    # Each lookup once, however many pending documents ask it (a thousand plans of one year
    # share the references dated by that year alone).
    lookups: set[tuple[str, tuple]] = set()
    for key_ny, numberless, doc_type, date, title in set(states):
        if key_ny:
            lookups.add(("SELECT doc_id, idx FROM link_refs WHERE key_ny = ?", (key_ny,)))
        if not numberless:
            continue
        if date:  # references of its type whose date it could be (the type × month index)
            lookups.add(("SELECT doc_id, idx FROM link_refs WHERE doc_type IS ? AND date >= ? AND date < ?",
                         (doc_type, *_prefix_range(date))))
            for prefix in _date_prefixes(date):
                lookups.add(("SELECT doc_id, idx FROM link_refs WHERE doc_type IS ? AND date = ?", (doc_type, prefix)))
            for doc_id, idx in _similar_titles(db, "link_ref_words", ("doc_id", "idx"), title, doc_type, df):
                out.add((doc_id, idx))  # references without a date whose title may be >= 0.6 similar
        else:  # a numberless document without a date: any reference of its type may fit
            lookups.add(("SELECT doc_id, idx FROM link_refs WHERE doc_type IS ?", (doc_type,)))
    for sql, params in lookups:
        add(sql, params)
    return out


def _add_uncommon_crossings(db: sqlite3.Connection, word_changes: Counter, out: set[tuple[str, int]]) -> None:
    """The references without a date that hold a title word which the pending documents made
    common or uncommon (more than LOOKALIKES numberless documents of the type hold it, or no
    longer): `_candidates` looks such a word up, or no longer, so their candidates change
    even where the pending documents are not among them. (A reference with a date looks only
    at documents without one, and every reference of their type is relinked anyway.)"""
    for (doc_type, word), gained in word_changes.items():
        if not gained:
            continue
        now = _word_rows(db, "link_doc_words", word, doc_type, "", LOOKALIKES + 1 + abs(gained))
        if (now > LOOKALIKES) != (now - gained > LOOKALIKES):
            out.update((r[0], r[1]) for r in db.execute(
                "SELECT doc_id, idx FROM link_ref_words WHERE word = ? AND doc_type = ?", (word, doc_type)))


def _word_rows(db: sqlite3.Connection, table: str, word: str, doc_type: str, where: str, limit: int) -> int:
    """How many rows of a title-word table hold `word` for `doc_type` (and `where`), counted up to `limit`."""
    return db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {table} WHERE word = ? AND doc_type = ? {where} LIMIT ?)",
                      (word, doc_type, limit)).fetchone()[0]


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


_DOC_COLUMNS = "id, doc_type, date, issuer, province, title, symbol_key"


def _similar_titles(db: sqlite3.Connection, table: str, key: tuple[str, ...], title: str | None,
                    doc_type: str | None, df: dict[tuple[str, ...], int], where: str = "",
                    uncommon_only: bool = False) -> set[tuple]:
    """Keys of the rows of a title-word table (`link_doc_words`, `link_ref_words`) of
    `doc_type` whose title may have a similarity >= 0.6 with `title` (see title_similarity): a
    superset, exact enough to be checked by the caller, found without reading the long
    posting lists of common words.

    Prefix filtering, as set-similarity joins do: a title of m words that shares c >= 0.6 *
    min(k, m) of our k words shares one among our k - c + 1 rarest, so a word of rank i
    (0 = rarest) only needs to be looked up in titles with m <= 5 (k - i) / 3, or in all
    titles when 3 k <= 5 (k - i) rounds so (i <= k - ceil(0.6 k)). Any fixed order of the
    words is correct; rarity (counted up to LOOKALIKES + 1, cached in `df` for the step)
    makes it fast. `uncommon_only`: a word that more than LOOKALIKES rows of the type hold is
    not looked up (the titles found then share an uncommon word too)."""
    words = list(_title_words(title))
    nwords = len(words)
    if not nwords:
        return set()
    doc_type = doc_type or ""
    for word in words:
        if (table, doc_type, where, word) not in df:
            df[table, doc_type, where, word] = _word_rows(db, table, word, doc_type, where, LOOKALIKES + 1)
    words.sort(key=lambda title_word: (df[table, doc_type, where, title_word], title_word))
    cols = ", ".join(key)
    found: set[tuple] = set()
    plain = db.cursor()
    plain.row_factory = None  # plain tuples: the keys go into `found` as they come (100 a title)
    for rank, word in enumerate(words):
        count = df[table, doc_type, where, word]
        if not count or (uncommon_only and count > LOOKALIKES):
            continue
        remaining = nwords - rank
        if 5 * remaining >= 3 * nwords:  # remaining >= 0.6 nwords: any length of title
            rows = plain.execute(f"SELECT {cols} FROM {table} WHERE word = ? AND doc_type = ? {where}",
                                 (word, doc_type))
        else:
            rows = plain.execute(f"SELECT {cols} FROM {table} WHERE word = ? AND doc_type = ? {where} "
                                 "AND nwords <= ?", (word, doc_type, (5 * remaining) // 3))
        found.update(rows)
    return found


def _own(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT min(id) FROM (SELECT id FROM link_docs WHERE own_key = ? "
                     "UNION ALL SELECT id FROM link_docs WHERE own_key_ny = ?)", (key, key)).fetchone()
    return row[0]


@dataclass
class _PartReads:
    """What deciding one part of references has read from the index, kept for the
    references after it: hundreds of references of a part cite the same number, date or
    title, and the index does not change while a part is decided. Bounded by the part."""

    owners: dict[str, str | None] = field(default_factory=dict)    # canonical key -> its document
    dates: dict[tuple, list | None] = field(default_factory=dict)  # a date query -> rows; None: crowded
    titles: dict[tuple, set] = field(default_factory=dict)         # (title, type, dated) -> doc ids
    documents: dict[str, sqlite3.Row | None] = field(default_factory=dict)  # id -> row; None: has a number


def _candidates(db: sqlite3.Connection, ref: sqlite3.Row, df: dict, reads: _PartReads) -> list[sqlite3.Row]:
    """Numberless documents of the reference's type that its date or its title could fit;
    not those of a date, or of a title word, that more than LOOKALIKES documents share.

    `reads`: what the references decided before in the part read (`_PartReads`)."""
    rows: dict[str, sqlite3.Row] = {}
    if ref["date"]:  # the type × date index: dates that are a prefix of the other
        lo, hi = _prefix_range(ref["date"])
        prefixes = _date_prefixes(ref["date"])
        crowded = False
        for where, params in (("date >= ? AND date < ?", (lo, hi)),  # each an index range
                              (f"date IN ({_marks(prefixes)})", tuple(prefixes))):
            where = "numberless = 1 AND doc_type IS ? AND " + where
            query = (where, ref["doc_type"], *params)
            if query not in reads.dates:
                # counted in the index first: the rows of a date that more than LOOKALIKES
                # documents fit are never read (at 100,000 documents, most dates cited)
                count = db.execute(f"SELECT count(*) FROM (SELECT 1 FROM link_docs WHERE {where} LIMIT ?)",
                                   (ref["doc_type"], *params, LOOKALIKES + 1)).fetchone()[0]
                reads.dates[query] = None if count > LOOKALIKES else db.execute(
                    f"SELECT {_DOC_COLUMNS} FROM link_docs WHERE {where}", (ref["doc_type"], *params)).fetchall()
            if reads.dates[query] is None:
                crowded = True
                break
            for row in reads.dates[query]:
                rows[row["id"]] = row
        if crowded or len(rows) > LOOKALIKES:  # the date cannot single one out
            rows = {}
    # a dated reference needs this way only for documents without a date; many references
    # of a part give the same title (a directive, a plan cited by hundreds)
    titles = (ref["title"], ref["doc_type"], bool(ref["date"]))
    if titles not in reads.titles:
        reads.titles[titles] = _similar_titles(db, "link_doc_words", ("doc_id",), ref["title"], ref["doc_type"],
                                          df, "AND dated = 0" if ref["date"] else "", uncommon_only=True)
    ids = sorted(i for (i,) in reads.titles[titles] if i not in rows)
    unread = [i for i in ids if i not in reads.documents]
    for chunk in range(0, len(unread), 500):
        part = unread[chunk:chunk + 500]
        reads.documents.update((i, None) for i in part)  # not a numberless document
        for row in db.execute(f"SELECT {_DOC_COLUMNS}, numberless FROM link_docs WHERE id IN ({_marks(part)})", part):
            reads.documents[row["id"]] = row if row["numberless"] == 1 else None
    for doc_id in ids:  # without a date on one side only the title can decide: similarity >= 0.6
        row = reads.documents[doc_id]
        if row is not None and row["doc_type"] == ref["doc_type"] and not (ref["date"] and row["date"] is not None):
            rows[doc_id] = row
    return [rows[k] for k in sorted(rows)]


def _match_numberless(db: sqlite3.Connection, ref: sqlite3.Row, citing: sqlite3.Row, df: dict,
                      reads: _PartReads) -> tuple[str, dict] | None:
    """The one numberless document of the run that fits the reference's description."""
    scored = []
    for cand in _candidates(db, ref, df, reads):
        if cand["id"] == citing["id"]:
            continue
        if cand["symbol_key"] and ref["symbol_key"] and cand["symbol_key"] != ref["symbol_key"]:
            continue
        date = _date_fits(ref["date"], cand["date"])
        if date is False:
            continue
        issuer = _issuer_fits(ref["issuer"], cand, citing)
        if issuer is False:
            continue
        sim = title_similarity(ref["title"], cand["title"])
        exact_date = bool(date) and len(cand["date"] or "") == 10
        if not (exact_date or sim >= 0.6):
            continue
        score = 2 * exact_date + bool(date) + bool(issuer) + 2 * sim
        scored.append((score, cand["id"], {
            "from": citing["id"], "canonical_id": ref["canonical_id"], "text": ref["text"],
            "matched": {"doc_type": True, "date": date, "issuer": issuer, "title_similarity": round(sim, 3)},
        }))
    if not scored:
        return None
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None  # two documents fit equally: do not guess
    return scored[0][1], scored[0][2]


def resolve(db: sqlite3.Connection, refs: Iterable[tuple[str, int]], processes: int = 1,
            path: Path | None = None, advance=None) -> dict[str, dict[int, str | None]]:
    """Resolve the given references again; update the index (`resolved_to`, `evidence`).

    Returns {doc_id: {idx: new resolved_to}} for the references whose resolution changed:
    their documents' JSON and store rows must be rewritten. With `processes` > 1 and the
    index's file `path`, the references are decided in that many processes (`in_parallel`):
    each reference's answer depends on the index alone, never on another's answer, so the
    result is the same; this process then writes the changes. They are decided in parts;
    `advance(n)`, if given, hears of each part's n references once it is decided."""
    changed: dict[str, dict[int, str | None]] = defaultdict(dict)
    ordered = sorted(refs)
    parallel = processes > 1 and path is not None and len(ordered) >= PARALLEL_MIN_ITEMS
    size = part_size(len(ordered), processes) if parallel else PART_ITEMS
    sizes = [min(size, len(ordered) - start) for start in range(0, len(ordered), size)]
    if parallel:
        parts = in_parallel(_decide, ordered, processes, path, size)  # they read the last commit only
    else:
        parts = (_decide(db, ordered[start:start + size]) for start in range(0, len(ordered), size))
    # `_decide` returns only the changed references of a part: its size comes from `sizes`
    for part, decided in zip(parts, sizes):  # one part's answers held at a time
        for doc_id, idx, target, evidence, old_target in part:
            db.execute("UPDATE link_refs SET resolved_to = ?, evidence = ? WHERE doc_id = ? AND idx = ?",
                       (target, evidence, doc_id, idx))
            if target != old_target:
                changed[doc_id][idx] = target
        if advance is not None:
            advance(decided)
    return dict(changed)


def _decide(db: sqlite3.Connection, refs: list[tuple[str, int]]) -> list[tuple]:
    """(doc_id, idx, resolved_to, evidence, old resolved_to) of the references among `refs`
    whose resolution or evidence changes; reads the index, writes nothing."""
    decided = []
    df: dict[tuple[str, ...], int] = {}
    reads = _PartReads()

    def own(key: str) -> str | None:
        if key not in reads.owners:
            reads.owners[key] = _own(db, key)
        return reads.owners[key]

    current, of_document, citing = None, {}, None
    for doc_id, idx in refs:  # sorted: a document's references are read together
        if doc_id != current:
            current = doc_id
            of_document = {r["idx"]: r for r in db.execute("SELECT * FROM link_refs WHERE doc_id = ?", (doc_id,))}
            citing = db.execute("SELECT id, province FROM link_docs WHERE id = ?", (doc_id,)).fetchone()
        ref = of_document.get(idx)
        if ref is None:
            continue
        target, evidence = own(ref["key"]) or own(ref["key_ny"]), None
        if not target or target == doc_id:
            match = _match_numberless(db, ref, citing, df, reads) if citing is not None else None
            target, evidence = (match[0], json.dumps(match[1], ensure_ascii=False)) if match else (None, None)
        if target != ref["resolved_to"] or evidence != ref["evidence"]:
            decided.append((doc_id, idx, target, evidence, ref["resolved_to"]))
    return decided


# ----------------------------------------------------------------------------- the corpus step in parallel

PARALLEL_MIN_ITEMS = 200  # fewer items than this: not worth starting processes
# items per part at most: a part's answers and reads (`_PartReads`) stay bounded,
# and many references of a part cite the same dates (at 100,000 documents, parts of 20,000
# decide a reference in 0.17 ms, parts of 5,000 in 0.22 ms; 60 MB more per process)
PART_ITEMS = 20000
IN_FLIGHT = 2  # parts given to each process ahead of the caller
_reader: sqlite3.Connection | None = None  # a parallel process's own read-only connection


def part_size(items: int, processes: int) -> int:
    """Items per part of `in_parallel`: a few parts per process, so they end together; at
    most PART_ITEMS, so a part's answers (and a process's memory) do not grow with the corpus."""
    return max(1, min(PART_ITEMS, -(-items // (4 * processes))))


def in_parallel(function, items: list, processes: int, path: Path, size: int | None = None) -> Iterator:
    """function(db, part) for each part of `items` (of `size` items; by default a few parts
    per process), computed in `processes` forked processes, each reading the SQLite file
    `path` through its own read-only connection; yielded in order, as they come, so the
    caller holds one part's answers at a time.

    For the corpus step of `vanban run`: its work per reference and per rewritten document
    is independent, and its workers are idle by then. The caller's transaction may be open:
    the processes read the last committed state, so it must not have written what they
    read. Without fork (not POSIX), done here, part by part."""
    import multiprocessing as mp

    size = size or part_size(len(items), processes)
    parts = [items[start:start + size] for start in range(0, len(items), size)]
    if "fork" not in mp.get_all_start_methods():
        db = _open_reader(str(path))
        try:
            for part in parts:
                yield function(db, part)
        finally:
            db.close()
        return
    with mp.get_context("fork").Pool(processes, initializer=_start_reader, initargs=(str(path),)) as pool:
        # a few parts in flight, not all: Pool.imap would queue every answer the processes
        # finish while the caller is still writing the first ones (4 GB of rewritten JSON
        # at 100,000 documents)
        todo = iter(parts)
        flight = deque(pool.apply_async(_call_reader, ((function, part),))
                       for part in itertools.islice(todo, IN_FLIGHT * processes))
        while flight:
            answer = flight.popleft().get()
            for part in itertools.islice(todo, 1):
                flight.append(pool.apply_async(_call_reader, ((function, part),)))
            yield answer


def _open_reader(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA busy_timeout=30000")
    return db


def _start_reader(path: str) -> None:
    """A corpus-step process: its own read-only connection; Ctrl-C and SIGTERM are the
    driver's business (it terminates the pool), and a driver that is killed outright
    takes the process with it within a second."""
    import os
    import signal
    import threading

    from ..batch.local import exit_with_parent

    global _reader
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # Pool.terminate's signal: stop now
    threading.Thread(target=exit_with_parent, args=(os.getppid(),), daemon=True).start()
    _reader = _open_reader(path)


def _call_reader(task: tuple) -> Any:
    function, part = task
    return function(_reader, part)


# ----------------------------------------------------------------------------- corpus-wide view

def iter_links(db: sqlite3.Connection) -> tuple[Iterator[dict], Iterator[dict], Iterator[dict], list[list[str]]]:
    """The links of the whole index in one linear pass: (documents, external, edges, chains).

    Documents, outside documents and edges are streamed (the edges deduplicated by SQLite in
    the temporary table `link_edges`, the outside documents gathered in `link_ext`); only
    the chain graph and the map from canonical ids to run documents are held in memory."""
    # every canonical id that names a document of the run: its own number, else the first
    # reference (by document id, position) resolved to a document
    node_of: dict[str, str] = {}
    for key, doc_id in db.execute("SELECT own_key, min(id) FROM link_docs WHERE own_key IS NOT NULL GROUP BY own_key"):
        node_of[key] = doc_id
    for key, doc_id in db.execute("SELECT own_key_ny, min(id) FROM link_docs WHERE own_key_ny IS NOT NULL "
                                  "GROUP BY own_key_ny"):
        node_of[key] = min(doc_id, node_of.get(key, doc_id))
    for key, target in db.execute("SELECT key, resolved_to FROM link_refs WHERE resolved_to IS NOT NULL "
                                  "ORDER BY doc_id, idx"):
        node_of.setdefault(key, target)

    def node(canonical: str) -> str:
        return node_of.get(canonical_key(canonical), canonical)

    run_ids = {r[0] for r in db.execute("SELECT id FROM link_docs")}
    db.execute("CREATE TEMP TABLE IF NOT EXISTS link_edges (src TEXT, dst TEXT, relation TEXT, resolved INTEGER, "
               "source TEXT, via TEXT, PRIMARY KEY (src, dst, relation))")
    db.execute("DELETE FROM temp.link_edges")
    db.execute("CREATE TEMP TABLE IF NOT EXISTS link_ext (seq INTEGER PRIMARY KEY, dst TEXT, doc_id TEXT, "
               "doc_type TEXT, date TEXT, issuer TEXT, title TEXT)")
    db.execute("DELETE FROM temp.link_ext")
    ext_rows: list[tuple] = []
    title_done: set[str] = set()
    chain_edges: list[tuple[str, str]] = []
    batch: list[tuple] = []

    def add_edge(src: str, dst: str, relation: str, source: str, via: str) -> None:
        if src != dst:
            batch.append((src, dst, relation, int(dst in run_ids), source, via))
            if relation in _HEAD_RELATIONS or (src in run_ids and dst in run_ids):
                chain_edges.append((src, dst, relation))

    def flush() -> None:
        db.executemany("INSERT OR IGNORE INTO temp.link_edges VALUES (?,?,?,?,?,?)", batch)
        db.executemany("INSERT INTO temp.link_ext (dst, doc_id, doc_type, date, issuer, title) VALUES (?,?,?,?,?,?)",
                       ext_rows)
        batch.clear()
        ext_rows.clear()

    for row in db.execute("SELECT doc_id, canonical_id, doc_type, date, issuer, title, relation, resolved_to, "
                          "title_implements FROM link_refs ORDER BY doc_id, idx"):
        if len(batch) > 5000 or len(ext_rows) > 5000:
            flush()
        doc_id, cid = row[0], row[1]
        dst = row[7] or node(cid)
        add_edge(doc_id, dst, row[6], "text", doc_id)
        if dst not in run_ids:
            ext_rows.append((dst, doc_id, row[2], row[3], row[4], row[5]))
        if cid in title_done or not row[5]:
            continue
        inner = json.loads(row[8]) if row[8] else []
        if inner:
            title_done.add(cid)
        for implemented in inner:
            add_edge(dst, node(implemented), "implements", "title", doc_id)
    flush()
    del node_of, title_done

    edges = _unique(chain_edges)
    del chain_edges
    nodes = {n for e in edges for n in e}
    dates = {i: d for i, d in db.execute("SELECT id, date FROM link_docs") if i in nodes}
    for dst, date in db.execute("SELECT dst, date FROM temp.link_ext WHERE date IS NOT NULL ORDER BY seq"):
        if dst in nodes:
            dates.setdefault(dst, date)
    chains = _chains(edges, run_ids, dates)
    return _documents(db), _external(db), _edges(db), chains


def _external(db: sqlite3.Connection) -> Iterator[dict]:
    """The documents outside the run, by id: the type of the first reference to each, the
    first date, issuer and title given, and the documents citing it in order."""
    ext: dict | None = None
    for dst, doc_id, doc_type, date, issuer, title in db.execute(
            "SELECT dst, doc_id, doc_type, date, issuer, title FROM temp.link_ext ORDER BY dst, seq"):
        if ext is None or ext["id"] != dst:
            if ext is not None:
                yield ext
            ext = {"id": dst, "doc_type": doc_type, "date": date, "issuer": issuer, "title": title, "cited_by": []}
        for field, value in (("date", date), ("issuer", issuer), ("title", title)):
            ext[field] = ext[field] or value
        if not ext["cited_by"] or ext["cited_by"][-1] != doc_id:
            ext["cited_by"].append(doc_id)
    if ext is not None:
        yield ext


def _unique(edges: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for edge in edges:
        if edge not in seen:
            seen.add(edge)
            out.append((edge[0], edge[1]))
    return out


def _documents(db: sqlite3.Connection) -> Iterator[dict]:
    evidence = db.execute("SELECT resolved_to, evidence FROM link_refs WHERE evidence IS NOT NULL "
                          "ORDER BY resolved_to, doc_id, idx")
    pending_ev = next(evidence, None)
    for doc in db.execute("SELECT id, doc_type, own_cid, date, issuer, title, number, symbol "
                          "FROM link_docs ORDER BY id"):
        ev = []
        while pending_ev is not None and pending_ev[0] < doc[0]:
            pending_ev = next(evidence, None)
        while pending_ev is not None and pending_ev[0] == doc[0]:
            ev.append(json.loads(pending_ev[1]))
            pending_ev = next(evidence, None)
        recognised = Counter(e["canonical_id"] for e in ev).most_common(1)
        yield {"id": doc[0], "doc_type": doc[1], "number": doc[6], "symbol": doc[7], "canonical_id": doc[2],
               "recognised_as": recognised[0][0] if recognised else None, "evidence": ev,
               "date": doc[3], "issuer": doc[4], "title": doc[5]}


def _edges(db: sqlite3.Connection) -> Iterator[dict]:
    for row in db.execute("SELECT src, dst, relation, resolved, source, via FROM temp.link_edges ORDER BY rowid"):
        yield {"from": row[0], "to": row[1], "relation": row[2], "resolved": bool(row[3]),
               "source": row[4], "via": row[5]}


# A run document with more ancestors than this in the citation graph gets no chain: its
# ancestry is a web (documents that cite look-alike drafts that cite others...), which no
# reader follows as a chain, and ordering it for every such document grows with the square
# of the web. Real chains have a handful of levels (directive, resolution, provincial plans,
# the plan, the letter).
CHAIN_ANCESTORS = 100


def _chains(edges: list[tuple[str, str]], run_ids: set[str], dates: dict[str, str | None]) -> list[list[str]]:
    """Implementation chains, each from a top directive down to a document of the run.

    `edges`: (child, parent) pairs, in order: the child implements or reports on the parent,
    or a run document cites another run document (a letter that presses on with a plan).
    Walked from each leaf up (ancestors are few), so the cost grows with the chains found,
    not with roots × leaves."""
    children, parents = _acyclic(edges)
    nodes = set(children) | set(parents)
    roots = {n for n in nodes if not parents.get(n)}
    leaves = sorted(n for n in run_ids if n in nodes and not children.get(n))
    chains: list[list[str]] = []
    for leaf in leaves:
        up = _reach(leaf, parents, limit=CHAIN_ANCESTORS)
        if up is None:  # its ancestry is a web, not a chain (see CHAIN_ANCESTORS)
            continue
        # the leaf's ancestors and the edges between them: walked down from a root, they give
        # the nodes on its paths to the leaf (a directive's own children run to thousands)
        below: dict[str, list[str]] = defaultdict(list)
        for node in up:
            for parent in parents.get(node, ()):
                if parent in up:
                    below[parent].append(node)
        mine = []
        for root in sorted(up & roots):
            on_path = _reach(root, below) | {root, leaf}
            chain = _topo(on_path, parents, dates)
            if len(chain) >= 3:
                mine.append(chain)
        # a chain inside a longer one ends at the same leaf: compare within the leaf's chains
        sets = [set(c) for c in mine]
        chains.extend(c for c, s in zip(mine, sets) if not any(s < o for o in sets))
    chains.sort(key=lambda path: (-len(path), path))
    return chains


def _acyclic(edges: list[tuple[str, str]]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(children, parents) of the (child, parent) `edges` taken in order, each edge left out
    when it would close a cycle: when the child is already an ancestor of the parent.

    Only a node with children can be an ancestor, and only a node with parents has any:
    the walk up is made for the few edges between two such nodes (at 100,000 documents,
    28,000 walks instead of 373,000)."""
    children: dict[str, set[str]] = defaultdict(set)
    parents: dict[str, set[str]] = defaultdict(set)
    for child, parent in edges:
        if child == parent:
            continue
        if children.get(child) and parents.get(parent) and child in _reach(parent, parents):
            continue  # never a cycle
        children[parent].add(child)
        parents[child].add(parent)
    return children, parents


def _reach(start: str, graph: dict[str, Any], limit: int | None = None) -> set[str] | None:
    """The nodes reachable from `start` (not itself, unless on a cycle); None as soon as
    there are more than `limit`."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for node in graph.get(todo.pop(), ()):
            if node not in seen:
                seen.add(node)
                todo.append(node)
        if limit is not None and len(seen) > limit:
            return None
    return seen


def _topo(nodes: set[str], parents: dict[str, set[str]], dates: dict[str, str | None]) -> list[str]:
    """Parents before children; among ready nodes the earlier date first (then the id).

    Kahn's algorithm with the ready nodes in a heap: each step takes the same node as
    sorting every ready node would, in n log n instead of n²."""
    def key(node: str) -> tuple[str, str]:
        return dates.get(node) or "9999", node

    waiting = {n: len(parents.get(n, set()) & nodes) for n in nodes}  # parents not yet placed
    children: dict[str, list[str]] = defaultdict(list)
    for node in nodes:
        for parent in parents.get(node, ()):
            if parent in nodes:
                children[parent].append(node)
    ready = [key(n) for n, count in waiting.items() if not count]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        node = heapq.heappop(ready)[1]
        out.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, key(child))
    return out


# ----------------------------------------------------------------------------- links.json

def write_links(out_dir: Path, links: dict[str, Any] | tuple) -> Path:
    """Write links (a dict, or the 4 parts of `iter_links`) to out_dir/links.json, atomically.

    The arrays are written item by item: the documents and edges of a large corpus are
    never held as one structure."""
    path = Path(out_dir) / "links.json"
    parts = links if isinstance(links, tuple) else tuple(links[k] for k in _PARTS)

    def chunks() -> Iterator[str]:
        yield "{"
        for part_index, (name, items) in enumerate(zip(_PARTS, parts)):
            yield f'{"," if part_index else ""}\n  "{name}": ['
            for item_index, item in enumerate(items):
                yield ("," if item_index else "") + "\n    " + json.dumps(item, ensure_ascii=False)
            yield "\n  ]"
        yield "\n}\n"

    stream_atomic(path, chunks())
    return path


def stream_atomic(path: Path, chunks: Iterable[str]) -> None:
    """Write text chunks to a temporary file beside `path`, then rename it: readers see the
    old file or the new one, never half, and the text is never held whole."""
    import os
    import uuid

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path.parent, f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}", b"")
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as fh:
            buf: list[str] = []
            size = 0
            for chunk in chunks:
                buf.append(chunk)
                size += len(chunk)
                if size > 1 << 20:
                    fh.write("".join(buf))
                    buf, size = [], 0
            fh.write("".join(buf))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish(tmp, path)


_PARTS = ("documents", "external", "edges", "chains")


def link_documents(docs: list[dict]) -> dict[str, Any]:
    """Resolve references across `docs` (mutated: `resolved_to`) and return the links.

    The same index and passes as `vanban run`, in memory."""
    from .store import Store

    store = Store(":memory:", lite=True)
    try:
        for doc in docs:
            store.upsert_document({**doc, "references": [{**r, "resolved_to": None}
                                                         for r in doc.get("references") or []]})
        db = store.db
        resolve(db, affected_refs(db))
        by_id = {d["id"]: d for d in docs}
        for doc in docs:
            for ref in doc.get("references") or []:
                ref["resolved_to"] = None
        for doc_id, idx, target in db.execute("SELECT doc_id, idx, resolved_to FROM link_refs WHERE resolved_to IS NOT NULL"):
            by_id[doc_id]["references"][idx]["resolved_to"] = target
        documents, external, edges, chains = iter_links(db)
        return {"documents": list(documents), "external": list(external), "edges": list(edges), "chains": chains}
    finally:
        store.close()
