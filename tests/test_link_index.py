"""The link index resolves exactly what the plain definition resolves, also incrementally.

The definition (pipeline/corpus/link.py's docstring), written here the slow way: every reference
compared with every document. Random corpora exercise what the indexes must not lose:
numbers with and without the year, documents without a number, dates of every precision
or none, issuers that name a province or not, titles that share more or fewer words.
Then documents are added, changed and removed in batches, and after each batch the
incremental relink (only the references the index says may change) must agree with the
definition applied to the whole corpus.
"""
from __future__ import annotations

import copy
import random
import sqlite3

import pytest

from pipeline.corpus import link
from pipeline.stages.references import canonical_key, canonical_symbol
from pipeline.corpus.store import Store

TYPES = ("ke_hoach", "cong_van", "quyet_dinh")
WORDS = ("an toàn lao động vệ sinh phòng chống cháy nổ thiên tai khoáng sản hóa chất tháng hành động "
         "tuyên truyền kiểm tra giám sát đào tạo bồi dưỡng chuyển đổi số").split()
ISSUERS = (None, "UBND tỉnh", "UBND tỉnh Cao Bằng", "UBND tỉnh Lào Cai", "Sở Y tế")
PROVINCES = (None, "Cao Bằng", "Lào Cai")
SYMBOLS = {"ke_hoach": "KH-UBND", "cong_van": "UBND-VX", "quyet_dinh": "QĐ-UBND"}


def _date(rng: random.Random) -> str | None:
    full = f"2025-0{rng.randint(1, 3)}-1{rng.randint(0, 2)}"
    return rng.choice((None, full[:4], full[:7], full, full, full))


def _title(rng: random.Random) -> str | None:
    if rng.random() < 0.1:
        return None
    return " ".join(rng.sample(WORDS, rng.randint(1, 7)))


def _document(rng: random.Random, i: int) -> dict:
    doc_type = rng.choice(TYPES)
    numbered = rng.random() < 0.4
    number = str(rng.randint(1, 30)) if numbered else None
    refs = []
    for _ in range(rng.randint(0, 4)):
        rtype = rng.choice(TYPES)
        n = rng.randint(1, 30)
        year = rng.choice(("", "2025/"))
        refs.append({"canonical_id": f"{n}/{year}{SYMBOLS[rtype]}", "doc_type": rtype, "date": _date(rng),
                     "issuer": rng.choice(ISSUERS), "title": _title(rng), "relation": "cites",
                     "symbol": rng.choice((None, SYMBOLS[rtype])), "text": f"số {n}", "resolved_to": None})
    return {"id": f"d{i:03d}", "metadata": {
        "doc_type": doc_type, "number": number, "symbol": SYMBOLS[doc_type] if numbered or rng.random() < 0.5 else None,
        "date": _date(rng), "issuer": rng.choice(ISSUERS), "province": rng.choice(PROVINCES), "title": _title(rng)},
        "references": refs}


def _expected(docs: list[dict]) -> dict[tuple[str, int], str | None]:
    """resolved_to of every reference, by the definition, comparing with every document."""
    own: dict[str, list[str]] = {}
    for d in docs:
        cid = canonical_symbol(d["metadata"]["number"], d["metadata"]["symbol"])
        if cid:
            key = canonical_key(cid)
            for k in {key, link._without_year(key)}:
                own.setdefault(k, []).append(d["id"])
    out = {}
    for d in docs:
        for i, r in enumerate(d["references"]):
            key = canonical_key(r["canonical_id"])
            target = min(own.get(key, []), default=None) or min(own.get(link._without_year(key), []), default=None)
            if not target or target == d["id"]:
                target = _by_description(r, d, docs)
            out[d["id"], i] = target
    return out


def _lookalike_limits(ref: dict, docs: list[dict]) -> tuple[bool, set[str]]:
    """Whether the reference's date may pick candidates, and which of its title words may:
    not a date, nor a word, that more than LOOKALIKES numberless documents of its type share
    (a reference with a date looks at the titles of documents without one only)."""
    same_type = [d["metadata"] for d in docs
                 if not d["metadata"]["number"] and d["metadata"]["doc_type"] == ref["doc_type"]]
    by_date = sum(bool(link._date_fits(ref["date"], m["date"])) for m in same_type) if ref["date"] else 0
    titled = [link._title_words(m["title"]) for m in same_type if not (ref["date"] and m["date"])]
    uncommon = {w for w in link._title_words(ref["title"]) if sum(w in t for t in titled) <= link.LOOKALIKES}
    return by_date <= link.LOOKALIKES, uncommon


def _by_description(ref: dict, citing: dict, docs: list[dict]) -> str | None:
    scored = []
    date_may, uncommon = _lookalike_limits(ref, docs)
    for cand in docs:
        m = cand["metadata"]
        if cand["id"] == citing["id"] or m["number"] or ref["doc_type"] != m["doc_type"]:
            continue
        by_date = date_may and link._date_fits(ref["date"], m["date"])
        by_title = (not (ref["date"] and m["date"]) and bool(uncommon & link._title_words(m["title"]))
                    and link.title_similarity(ref["title"], m["title"]) >= 0.6)
        if not (by_date or by_title):  # neither way finds it
            continue
        if m["symbol"] and ref["symbol"] and canonical_key(m["symbol"]) != canonical_key(ref["symbol"]):
            continue
        date = link._date_fits(ref["date"], m["date"])
        issuer = link._issuer_fits(ref["issuer"], m, citing["metadata"])
        sim = link.title_similarity(ref["title"], m["title"])
        if date is False or issuer is False:
            continue
        exact = bool(date) and len(m["date"] or "") == 10
        if not (exact or sim >= 0.6):
            continue
        scored.append((2 * exact + bool(date) + bool(issuer) + 2 * sim, cand["id"]))
    scored.sort(key=lambda s: (-s[0], s[1]))
    if not scored or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def _resolved(store: Store) -> dict[tuple[str, int], str | None]:
    return {(d, i): t for d, i, t in store.db.execute("SELECT doc_id, idx, resolved_to FROM link_refs")}


def _relink(store: Store) -> None:
    db = store.db
    db.execute("BEGIN IMMEDIATE")
    link.resolve(db, link.affected_refs(db))
    db.execute("DELETE FROM pending")
    db.execute("COMMIT")


@pytest.mark.parametrize("seed, lookalikes", [*((seed, link.LOOKALIKES) for seed in range(6)),
                                               (0, 2), (1, 3), (2, 5), (3, 8), (4, 3), (5, 4)])
def test_the_index_resolves_what_the_definition_resolves(seed, lookalikes, monkeypatch):
    """Also with LOOKALIKES so low that dates and title words cross it as documents come
    and go: the references it changes are relinked even where the documents are not
    candidates (`_add_uncommon_crossings`)."""
    monkeypatch.setattr(link, "LOOKALIKES", lookalikes)
    rng = random.Random(seed)
    docs = [_document(rng, i) for i in range(120)]
    with Store(":memory:", lite=True) as store:
        for d in docs:
            store.upsert_document(d)
        _relink(store)
        expected = _expected(docs)
        assert _resolved(store) == expected
        assert sum(t is not None for t in expected.values()) > 10  # the corpora do link

        # batches of changes, relinked incrementally: the same as the definition on the whole
        current = {d["id"]: d for d in docs}
        for step in range(8):
            for _ in range(rng.randint(1, 6)):
                op = rng.random()
                if op < 0.35 and current:  # removed
                    gone = rng.choice(sorted(current))
                    del current[gone]
                    store.delete_document(gone)
                elif op < 0.7 and current:  # changed: new number, date, title or issuer
                    d = _document(rng, int(rng.choice(sorted(current))[1:]))
                    current[d["id"]] = d
                    store.upsert_document(d)
                else:  # added
                    d = _document(rng, 200 + 10 * step + rng.randint(0, 9))
                    current[d["id"]] = d
                    store.upsert_document(d)
            _relink(store)
            assert _resolved(store) == _expected(sorted(current.values(), key=lambda d: d["id"])), step


def test_an_index_of_version_4_gets_the_document_type_in_its_word_tables(tmp_path):
    rng = random.Random(7)
    docs = [_document(rng, i) for i in range(60)]
    path = tmp_path / "index.sqlite"
    with Store(path, lite=True) as store:
        for d in docs:
            store.upsert_document(d)
        _relink(store)
        tables = {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}")) for t in ("link_doc_words", "link_ref_words")}
        assert all(tables.values())
    db = sqlite3.connect(path)  # the shape version 4 wrote: no document type
    db.executescript(
        "CREATE TABLE dw AS SELECT word, dated, nwords, doc_id FROM link_doc_words; DROP TABLE link_doc_words; "
        "CREATE TABLE link_doc_words (word TEXT NOT NULL, dated INTEGER NOT NULL, nwords INTEGER NOT NULL, "
        "doc_id TEXT NOT NULL, PRIMARY KEY (word, dated, nwords, doc_id)) WITHOUT ROWID; "
        "INSERT INTO link_doc_words SELECT * FROM dw; DROP TABLE dw; "
        "CREATE INDEX link_doc_words_doc ON link_doc_words(doc_id); "
        "CREATE TABLE rw AS SELECT word, nwords, doc_id, idx FROM link_ref_words; DROP TABLE link_ref_words; "
        "CREATE TABLE link_ref_words (word TEXT NOT NULL, nwords INTEGER NOT NULL, doc_id TEXT NOT NULL, "
        "idx INTEGER NOT NULL, PRIMARY KEY (word, nwords, doc_id, idx)) WITHOUT ROWID; "
        "INSERT INTO link_ref_words SELECT * FROM rw; DROP TABLE rw; "
        "CREATE INDEX link_ref_words_doc ON link_ref_words(doc_id); PRAGMA user_version = 4;")
    db.close()
    with Store(path, lite=True) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == link.INDEX_VERSION
        assert {t: sorted(tuple(r) for r in store.db.execute(f"SELECT * FROM {t}")) for t in tables} == tables
        before = _resolved(store)
        store.db.execute("INSERT INTO pending SELECT id, NULL, NULL, NULL, NULL, NULL FROM link_docs")
        _relink(store)  # everything relinked through the migrated tables: the same answers
        assert _resolved(store) == before == _expected(docs)


# --- the corpus step patches `resolved_to` in the JSON text instead of encoding it again

def _tricky_document() -> dict:
    """References whose strings hold what a text search for the key could trip on."""
    texts = ('theo "resolved_to":null của', 'dấu \\ và "ngoặc" \u00a0', "", "resolved_to", '{"resolved_to":"x"}')
    refs = [{"id": f"r{i}", "canonical_id": f"{i}/KH-UBND", "text": text, "title": text or None,
             "mentions": [{"text": text}], "resolved_to": None if i % 2 else f"old-{i}"}
            for i, text in enumerate(texts)]
    return {"id": "doc", "text": 'toàn văn "resolved_to":null', "metadata": {"title": '"resolved_to":'},
            "references": refs, "timings": {}}


def test_patching_resolved_to_gives_the_text_encoding_would_give():
    from pipeline.stages.emit import dumps

    def encode(doc: dict) -> str:
        return dumps(doc, pretty=False) + "\n"

    doc = _tricky_document()
    count = len(doc["references"])
    for changes in ({0: None}, {1: "nq-209"}, {0: 'id "quoted" \\ đ', 2: None, 4: "x"}, {}):
        patched = link.patch_resolved(encode(doc), changes, count)
        assert link.with_resolutions(encode(doc), changes, count) == patched
        for idx, target in changes.items():
            doc["references"][idx]["resolved_to"] = target
        assert patched == encode(doc)
    # not the compact layout, or not one key per reference: left to the caller
    indented = dumps(doc, pretty=True)
    assert link.patch_resolved(indented, {0: "x"}, count) is None
    assert link.patch_resolved(encode(doc), {0: "x"}, count + 1) is None
    # which with_resolutions takes through the dict, into the layout a run writes
    doc["references"][0]["resolved_to"] = "x"
    assert link.with_resolutions(indented, {0: "x"}, count) == encode(doc)


def test_the_store_keeps_the_json_as_parsed_and_lays_the_resolutions_over_it():
    """The corpus step changes `refs` only: the stored JSON and hash stay those of the parsed
    document, the same as a store that took the linked document, and `document` gives what
    the output JSON says."""
    doc = _tricky_document()  # references 0, 2 and 4 resolved
    changes = {0: "nq-209", 3: "kh-1", 4: None}
    linked = copy.deepcopy(doc)
    for idx, target in changes.items():
        linked["references"][idx]["resolved_to"] = target
    parsed = copy.deepcopy(doc)
    for ref in parsed["references"]:
        ref["resolved_to"] = None
    stores = {name: Store(":memory:") for name in ("relinked", "linked", "parsed")}
    try:
        stores["relinked"].upsert_document(doc)
        stores["relinked"].set_resolutions("doc", changes)
        stores["linked"].upsert_document(linked)
        stores["parsed"].upsert_document(parsed)
        stored = "SELECT d.content_hash, j.json, j.text FROM documents d JOIN document_json j ON j.id = d.id"
        refs = "SELECT idx, resolved_to FROM refs ORDER BY idx"
        rows = {name: (s.db.execute(stored).fetchall(), s.db.execute(refs).fetchall()) for name, s in stores.items()}
        assert rows["relinked"] == rows["linked"]
        assert rows["relinked"][0] == rows["parsed"][0]  # the same JSON and hash, resolutions aside
        assert '"resolved_to":null' in rows["parsed"][0][0][1] and "old-2" not in rows["parsed"][0][0][1]
        assert [r[1] for r in rows["relinked"][1]] == ["nq-209", None, "old-2", "kh-1", None]
        assert stores["relinked"].document("doc") == {k: v for k, v in linked.items() if k != "timings"}
        # parsed again unchanged: nothing to write
        assert not stores["relinked"].upsert_document(parsed) and not stores["relinked"].upsert_document(linked)
    finally:
        for s in stores.values():
            s.close()


# --- chains: the order within a chain

def _plain_topo(nodes, parents, dates):
    """The definition: repeatedly the earliest (date, id) node whose parents are all placed."""
    out, left = [], set(nodes)
    while left:
        ready = sorted((n for n in left if not (parents.get(n, set()) & left)),
                       key=lambda n: (dates.get(n) or "9999", n))
        out.append(ready[0])
        left.remove(ready[0])
    return out


@pytest.mark.parametrize("seed", range(20))
def test_chain_order_is_the_earliest_ready_node_each_time(seed):
    rng = random.Random(seed)
    names = [f"{rng.randint(1, 999)}-KH/TU" for _ in range(rng.randint(1, 60))]
    nodes = set(names)
    order = sorted(nodes)
    rng.shuffle(order)  # parents come earlier in this order: no cycle
    parents: dict[str, set[str]] = {}
    for i, node in enumerate(order):
        parents[node] = set(rng.sample(order[:i], min(i, rng.randint(0, 3))))
        if rng.random() < 0.2:
            parents[node].add("outside-the-chain")
    dates = {n: rng.choice((None, "2024", "2024-05", "2024-05-01", "2025-01-02")) for n in nodes}
    subset = set(rng.sample(sorted(nodes), rng.randint(1, len(nodes))))
    assert link._topo(subset, parents, dates) == _plain_topo(subset, parents, dates)


def _plain_acyclic(edges):
    """The definition: an edge is kept unless its child is already an ancestor of its parent
    (a full walk up through the edges kept so far, for every edge)."""
    kept: list[tuple[str, str]] = []
    for child, parent in edges:
        ancestors, todo = set(), [parent]
        while todo:
            node = todo.pop()
            for c, p in kept:
                if c == node and p not in ancestors:
                    ancestors.add(p)
                    todo.append(p)
        if child != parent and child not in ancestors:
            kept.append((child, parent))
    return kept


@pytest.mark.parametrize("seed", range(30))
def test_edges_that_would_close_a_cycle_are_left_out_as_the_definition_says(seed):
    rng = random.Random(seed)
    names = [f"{n}/KH-UBND" for n in range(rng.randint(2, 25))]
    edges = [(rng.choice(names), rng.choice(names)) for _ in range(rng.randint(1, 80))]
    children, parents = link._acyclic(edges)
    kept = {(child, parent) for parent, kids in children.items() for child in kids}
    assert kept == set(_plain_acyclic(edges))
    assert kept == {(child, parent) for child, ups in parents.items() for parent in ups}


def test_a_document_whose_ancestry_is_a_web_gets_no_chain(monkeypatch):
    """31-CT/TW -> 209/NQ-CP -> plan -> letter is a chain; a document below more than
    CHAIN_ANCESTORS documents gets none (its ancestry is a web, not a chain)."""
    edges = [("209/NQ-CP", "31-CT/TW"), ("plan", "209/NQ-CP"), ("letter", "plan"),
             ("draft", "plan"), ("draft", "417-KH/TU"), ("417-KH/TU", "31-CT/TW")]
    run_ids = {"plan", "letter", "draft"}
    everything = link._chains(edges, run_ids, {})
    assert ["31-CT/TW", "209/NQ-CP", "plan", "letter"] in everything
    assert any(chain[-1] == "draft" for chain in everything)
    monkeypatch.setattr(link, "CHAIN_ANCESTORS", 3)  # letter has 3 ancestors, draft 4
    assert link._chains(edges, run_ids, {}) == [["31-CT/TW", "209/NQ-CP", "plan", "letter"]]
