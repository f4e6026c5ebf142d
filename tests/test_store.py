"""The SQLite store: upserts, accent-insensitive search, and the four queries.

Fixtures: the pipeline's own output on corpus/*.txt (`corpus_output`: parsed and linked once
per session). The expected answers are computed from those same document dicts in plain
Python, so each test checks the store's SQL against the documents it was given, whatever the
extraction stages found; a few anchors name what the corpus plainly says (Sở Y tế leads a duty
in each of the three plans, Sở LĐTBXH's duties passed to Sở Nội vụ, plan 664 implements
209/NQ-CP).
"""
from __future__ import annotations

import copy
import itertools
import re
import sqlite3

import pytest

from corpus_output import (
    DAK_LAK, LETTER, PLAN_664, PLANS, REPORT, THAI_NGUYEN, assignments_where, citing_documents,
    corpus_document, corpus_documents, corpus_links, duty_key, fold, held_by,
    task_has,
)
from pipeline.corpus.store import Store, parse_ref_query

SO_Y_TE = ("so_y_te", "Sở Y tế")
SO_LDTBXH = ("so_ldtbxh", "Sở Lao động - Thương binh và Xã hội")
SO_NOI_VU = ("so_noi_vu", "Sở Nội vụ")
ROLE_ORDER = ["lead", "responsible", "requested", "support"]


@pytest.fixture(scope="module")
def docs():
    """The corpus documents as upserted (read only: tests that change one take a copy)."""
    return corpus_documents()


@pytest.fixture
def store(corpus_store):
    s = Store(corpus_store)
    yield s
    s.close()


def _filled_store(path) -> Store:
    s = Store(path)
    s.upsert_many(corpus_documents())
    s.set_links(corpus_links())
    return s


# ----------------------------------------------------------------------------- writing

def test_the_fixture_is_the_pipelines_own_output(docs):
    assert [d["id"] for d in docs] == sorted([REPORT, LETTER, PLAN_664, DAK_LAK, THAI_NGUYEN])
    for d in docs:  # every row the store gets points into the document's own text
        for a in d["assignments"]:
            assert a["task"].split()[0] in d["text"][a["span"]["start"]:a["span"]["end"]]
    assert all(docs_plan["assignments"] for docs_plan in docs if docs_plan["id"] in PLANS)


def test_rerunning_never_duplicates(tmp_path):
    docs = corpus_documents()
    with Store(tmp_path / "db.sqlite") as s:
        assert s.upsert_many(docs) == len(docs)
        counts = {t: s.count(t) for t in ("documents", "assignments", "refs", "sections")}
        assert counts["assignments"] == sum(len(d["assignments"]) for d in docs) > 0
        assert counts["refs"] == sum(len(d["references"]) for d in docs) > 0
        assert s.upsert_many(corpus_documents()) == 0  # same content: nothing written
        assert {t: s.count(t) for t in counts} == counts
        # timings differ between runs and are not content
        changed_timing = copy.deepcopy(docs[0])
        changed_timing["timings"] = {"header": 9.9}
        assert s.upsert_document(changed_timing) is False
    with Store(tmp_path / "db.sqlite") as s:  # reopening the file keeps everything
        assert {t: s.count(t) for t in counts} == counts
        assert s.db.execute("SELECT count(*) FROM assignments_fts").fetchone()[0] == counts["assignments"]


def _rows_of(s: Store, doc_id: str, a: dict) -> int:
    return s.db.execute("SELECT count(*) FROM assignments WHERE doc_id = ? AND task = ? AND agency = ?",
                        (doc_id, a["task"], a["agency"])).fetchone()[0]


def test_changed_document_replaces_its_rows(tmp_path):
    docs = corpus_documents()
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(docs)
        before = s.count("assignments")
        plan = next(d for d in docs if d["id"] == PLAN_664)
        dropped = plan["assignments"].pop()
        held = _rows_of(s, PLAN_664, dropped)
        assert held >= 1
        assert s.upsert_document(plan) is True
        assert s.count("assignments") == before - 1
        assert s.db.execute("SELECT count(*) FROM assignments_fts").fetchone()[0] == before - 1
        assert _rows_of(s, PLAN_664, dropped) == held - 1
        # the other documents' rows are untouched
        assert s.db.execute("SELECT count(*) FROM assignments WHERE doc_id != ?",
                            (PLAN_664,)).fetchone()[0] == before - len(plan["assignments"]) - 1


def test_a_failing_replacement_leaves_the_old_rows(tmp_path):
    docs = corpus_documents()
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(docs)
        before = s.count("assignments")
        plan = next(d for d in docs if d["id"] == PLAN_664)
        plan["assignments"].append({"agency": None})  # breaks halfway through the insert
        with pytest.raises(Exception):
            s.upsert_document(plan)
        assert s.count("assignments") == before
        assert s.document(PLAN_664)["assignments"] == corpus_document(PLAN_664)["assignments"]


def test_database_is_in_wal_mode(tmp_path):
    with Store(tmp_path / "db.sqlite") as s:
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # a plain SQLite client can open it and sees the tables
    con = sqlite3.connect(tmp_path / "db.sqlite")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"documents", "sections", "refs", "agencies", "assignments", "targets", "results",
            "deadlines", "links"} <= tables


def test_links_resolve_the_plan_that_has_no_number(store, docs):
    assert store.db.execute("SELECT canonical_id FROM documents WHERE id = ?",
                            (PLAN_664,)).fetchone()[0] == "664/KH-UBND"
    resolved = {r[0] for r in store.db.execute(
        "SELECT doc_id FROM refs WHERE canonical_id = '664/KH-UBND' AND resolved_to = ?", (PLAN_664,))}
    assert resolved == set(citing_documents(docs, "664/KH-UBND")) == {LETTER, REPORT}


# ----------------------------------------------------------------------------- search

@pytest.mark.parametrize("query, phrase", [
    ("quan trac moi truong", "quan trắc môi trường"),
    ("dieu tra tai nan", "điều tra tai nạn"),
    ("ĐIỀU TRA TAI NẠN", "điều tra tai nạn"),
])
def test_search_matches_with_or_without_diacritics(store, docs, query, phrase):
    rows = store.duty_owners(query)
    assert rows
    assert phrase in rows[0]["task"].lower()
    found = {(r["document"], r["span"][0], r["agency"]) for r in rows}
    expected = {duty_key(d, a) for d, a in assignments_where(docs, task_has(phrase))}
    assert expected and expected <= found  # every duty whose task says it, however typed
    assert found == {(r["document"], r["span"][0], r["agency"]) for r in store.duty_owners(phrase)}


@pytest.mark.parametrize("query", ["quan trắc môi trường lao động", "điều tra tai nạn lao động",
                                   "chăm sóc sức khỏe người lao động"])
def test_duty_owners_lead_before_support(store, docs, query):
    rows = store.duty_owners(query)
    expected = {duty_key(d, a) for d, a in assignments_where(docs, task_has(query))}
    assert expected and expected <= {(r["document"], r["span"][0], r["agency"]) for r in rows}
    assert query in rows[0]["task"]  # the tasks that say it come first
    keys = [(r["tier"], ROLE_ORDER.index(r["role"])) for r in rows]
    assert keys == sorted(keys)  # by tier; within a tier, lead, responsible, requested, support


def test_duty_owners_of_a_health_duty_are_led_by_the_health_department(store):
    rows = store.duty_owners("quan trắc môi trường lao động")
    owners = {r["agency"] for r in rows if "quan trắc môi trường lao động" in r["task"]}
    assert "Sở Y tế" in owners
    rows = store.duty_owners("chăm sóc")
    top_tier = [r for r in rows if r["tier"] == rows[0]["tier"]]
    roles = [r["role"] for r in top_tier]
    assert roles[0] == "lead" and "support" in roles  # several roles, lead first, support last
    assert roles.index("support") > max(i for i, r in enumerate(roles) if r == "lead")


def _plain_coverage(query: str, task: str) -> float:
    words = re.findall(r"\w+", fold(task))
    return sum(w in set(fold(query).split()) for w in words) / len(words)


@pytest.mark.parametrize("query", ["quan trắc môi trường lao động", "chăm sóc sức khỏe", "tuyên truyền"])
def test_duty_owners_within_a_role_the_task_about_the_duty_first(store, query):
    """Within a tier and role, the share of the task's words that are the query's words
    decides: a task that is about the duty comes before one that mentions it in passing."""
    rows = store.duty_owners(query)
    assert len(rows) > 3
    for row in rows:
        assert row["score"] == pytest.approx(_plain_coverage(query, row["task"]), abs=0.0015)
    for (tier, role), group in itertools.groupby(rows, key=lambda r: (r["tier"], r["role"])):
        scores = [r["score"] for r in group]
        assert scores == sorted(scores, reverse=True)
    top = rows[0]  # of the lead's tasks that say it, the most focused
    assert top["score"] == max(r["score"] for r in rows if (r["tier"], r["role"]) == (top["tier"], top["role"]))


def test_duty_ranks_a_short_task_above_a_long_one_of_the_same_role(tmp_path):
    long_task = ("Chủ trì, phối hợp với các sở, ngành liên quan hướng dẫn các doanh nghiệp thực hiện "
                 "công tác quan trắc môi trường lao động theo quy định")
    doc = _variant_doc()
    doc["assignments"][0]["task"] = long_task
    doc["assignments"][1]["task"] = "Quan trắc môi trường lao động"
    doc["assignments"][1]["agency"] = "Sở Tài nguyên và Môi trường"
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_document(doc)
        rows = s.duty_owners("quan trắc môi trường lao động")
        assert [r["agency"] for r in rows] == ["Sở Tài nguyên và Môi trường", "Sở Y tế"]
        assert rows[0]["score"] == 1.0 and 0 < rows[1]["score"] < 0.5


def _task_sizes(s: Store) -> list[tuple]:
    return [tuple(r) for r in s.db.execute(
        "SELECT a.doc_id, a.idx, t.words FROM assignments a LEFT JOIN task_sizes t "
        "ON t.assignment = a.rowid ORDER BY a.doc_id, a.idx")]


def _plain_task_sizes(s: Store) -> list[tuple]:
    return [(r["doc_id"], r["idx"], max(1, len(re.findall(r"\w+", fold(r["task"])))))
            for r in s.db.execute("SELECT doc_id, idx, task FROM assignments ORDER BY doc_id, idx")]


def test_task_sizes_follow_every_write_and_migrate(tmp_path):
    path = tmp_path / "db.sqlite"
    with _filled_store(path) as s:
        assert _task_sizes(s) == _plain_task_sizes(s)
        plan = corpus_document(PLAN_664)
        s.upsert_document(dict(plan, id="copy"))
        changed = copy.deepcopy(plan)
        changed["assignments"] = changed["assignments"][::2]
        assert s.upsert_document(changed)
        s.delete_document(DAK_LAK)
        sizes = _task_sizes(s)
        assert sizes == _plain_task_sizes(s)
        assert s.db.execute("SELECT count(*) FROM task_sizes").fetchone()[0] == len(sizes)  # none left over
        answer = s.duty_owners("quan trắc môi trường lao động")
    db = sqlite3.connect(path)  # the shape of a store written before task_sizes
    db.execute("DROP TABLE task_sizes")
    db.close()
    with Store(path) as s:
        assert _task_sizes(s) == sizes
        assert s.duty_owners("quan trắc môi trường lao động") == answer


# two real words that fold alike: "công nhận" (recognise) and "công nhân" (worker)
_VARIANT = {
    "id": "variant_cong-nhan", "metadata": {"province": "Cao Bằng"},
    "text": ("1. Sở Y tế: Hướng dẫn, công nhận cơ sở đủ điều kiện quan trắc môi trường lao động.\n"
             "2. Liên đoàn Lao động tỉnh: Tuyên truyền cho công nhân về an toàn, vệ sinh lao động.\n"),
}


def _variant_doc() -> dict:
    doc = copy.deepcopy(_VARIANT)
    doc["assignments"] = []
    for line in doc["text"].splitlines():
        agency, _, task = line[3:].partition(": ")
        start = doc["text"].index(task)
        doc["assignments"].append({"agency": agency, "role": "responsible", "task": task,
                                   "span": {"start": start, "end": start + len(task)},
                                   "deadline": None, "partners": []})
    return doc


@pytest.mark.parametrize("query, first", [("công nhận", "Sở Y tế"),
                                          ("công nhân", "Liên đoàn Lao động tỉnh")])
def test_duty_search_ranks_exact_words_above_the_folded_ones(tmp_path, query, first):
    with _filled_store(tmp_path / "db.sqlite") as s:
        s.upsert_document(_variant_doc())
        rows = [r for r in s.duty_owners(query) if r["document"] == _VARIANT["id"]]
        assert len(rows) == 2  # folded, both words match
        assert rows[0]["agency"] == first and query in rows[0]["task"]
        assert rows[0]["tier"] < rows[1]["tier"]
        everything = s.duty_owners(query)
        exact = [i for i, r in enumerate(everything) if query in r["task"]]
        assert exact == list(range(len(exact)))  # every exact match before any folded one


# ----------------------------------------------------------------------------- agency

def test_agency_duties_cover_every_corpus_document_naming_it(store, docs):
    rows = store.agency_duties("Sở Y tế")
    mine = assignments_where(docs, held_by(*SO_Y_TE))
    assert {r["document"] for r in rows} == {d for d, _ in mine}
    assert sorted((r["document"], r["span"][0]) for r in rows) == sorted(
        (d, a["span"]["start"]) for d, a in mine)
    assert all(r["agency"] == "Sở Y tế" and r["via"] == "" for r in rows)
    # what the corpus plainly says: Sở Y tế leads a duty in each of the three plans
    assert {r["document"] for r in rows if r["role"] == "lead"} >= set(PLANS)


def test_agency_accepts_abbreviations_and_no_diacritics(store):
    full = store.agency_duties("Sở Y tế")
    assert full
    assert store.agency_duties("so y te") == full
    assert store.agency_duties("Sở YT") == full
    assert store.agency_duties("SỞ Y TẾ") == full


def test_agency_province_filter(store, docs):
    rows = store.agency_duties("Sở Y tế", province="Dak Lak")
    assert rows and {r["province"] for r in rows} == {"Đắk Lắk"}
    assert len(rows) == len(assignments_where([d for d in docs if d["id"] == DAK_LAK],
                                              held_by(*SO_Y_TE)))
    assert store.agency_duties("Sở Y tế", province="Không Có") == []


def test_old_name_finds_the_successor_and_says_so(store, docs):
    rows = store.agency_duties("Sở LĐTBXH")
    direct = [r for r in rows if r["via"] == ""]
    via = [r for r in rows if r["via"]]
    old = assignments_where(docs, held_by(*SO_LDTBXH))
    new = assignments_where(docs, held_by(*SO_NOI_VU))
    assert {r["document"] for r in direct} == {d for d, _ in old} and len(direct) == len(old)
    assert {r["document"] for r in via} == {d for d, _ in new} and len(via) == len(new)
    # the Đắk Lắk plan (2024) names the old department, the 2025 documents its successor
    assert DAK_LAK in {r["document"] for r in direct}
    assert {PLAN_664, THAI_NGUYEN} <= {r["document"] for r in via}
    assert {r["via"] for r in via} == {"via successor: Sở Lao động - Thương binh và Xã hội → Sở Nội vụ"}
    # and the other way round: the new body finds what older plans gave its predecessor
    back = store.agency_duties("Sở Nội vụ")
    assert {r["document"] for r in back if r["via"].startswith("via predecessor: Sở Lao động")} \
        == {d for d, _ in old}


# ----------------------------------------------------------------------------- cites

@pytest.mark.parametrize("text, number, tokens", [
    ("209/NQ-CP", "209", {"nq", "cp"}),
    ("NQ 209", "209", {"nq"}),
    ("209 NQ-CP", "209", {"nq", "cp"}),
    ("Nghị quyết số 209", "209", {"nq"}),
    ("31-CT/TW", "31", {"ct", "tw"}),
])
def test_reference_queries_are_read_loosely(text, number, tokens):
    got_number, got_tokens, _ = parse_ref_query(text)
    assert (got_number, got_tokens) == (number, tokens)


@pytest.mark.parametrize("query", ["209/NQ-CP", "NQ 209", "209 NQ-CP", "nghị quyết 209"])
def test_citing_lists_every_document_that_cites_it(store, docs, query):
    rows = store.citing(query)
    expected = citing_documents(docs, "209/NQ-CP")
    assert {r["document"] for r in rows} == set(expected)
    assert {PLAN_664, DAK_LAK} <= {d for d, rel in expected.items() if "implements" in rel}
    assert rows[0]["relation"] == "implements"  # implementers first
    assert {r["canonical_id"] for r in rows} == {"209/NQ-CP"}


def test_citing_a_law_by_its_name(store, docs):
    rows = store.citing("Luật An toàn, vệ sinh lao động 2015")
    expected = citing_documents(docs, "Luật An toàn, vệ sinh lao động 2015")
    assert len(expected) >= 2 and {r["document"] for r in rows} == set(expected)
    assert store.citing("luat an toan ve sinh lao dong") == rows  # no year, no diacritics
    assert store.citing("Luật Xây dựng 2014") != rows  # another law is another answer


def test_citing_does_not_confuse_numbers(store):
    assert {r["canonical_id"] for r in store.citing("31-CT/TW")} == {"31-CT/TW"}
    assert store.citing("2099/NQ-CP") == []
    assert store.citing("20/NQ-CP") == []


def _ancestors(chain: list[dict], node: str) -> list[str]:
    parent = {c["node"]: c["parent"] for c in chain}
    out = []
    while parent.get(node):
        node = parent[node]
        out.append(node)
    return out


def test_chain_runs_through_the_reference(store):
    chain = store.chain("664/KH-UBND")
    level = {c["node"]: c["level"] for c in chain}
    assert level[PLAN_664] == 0 and [c["document"] for c in chain if c["is_query"]] == [PLAN_664]
    assert level["209/NQ-CP"] < 0 < level[LETTER] < level[REPORT]
    # the report on the year sits under the letter that carried the plan out
    assert LETTER in _ancestors(chain, REPORT) and PLAN_664 in _ancestors(chain, LETTER)
    assert "209/NQ-CP" in _ancestors(chain, PLAN_664)
    # through 209/NQ-CP: both plans that implement it hang below it
    chain = store.chain("209/NQ-CP")
    level = {c["node"]: c["level"] for c in chain}
    assert level["209/NQ-CP"] == 0 and level[PLAN_664] > 0 and level[DAK_LAK] > 0
    assert "209/NQ-CP" in _ancestors(chain, DAK_LAK)


def test_chain_is_built_from_references_without_link_chains(tmp_path, docs):
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(corpus_documents())
        links = corpus_links()
        links["chains"] = []
        s.set_links(links)
        level = {c["node"]: c["level"] for c in s.chain("664/KH-UBND")}
        # above: what the plan implements; below: the documents that cite it
        plan = next(d for d in docs if d["id"] == PLAN_664)
        above = {r["canonical_id"] for r in plan["references"] if r["relation"] == "implements"}
        assert {"209/NQ-CP", "417-KH/TU"} <= above
        assert level == {**{n: -1 for n in above}, PLAN_664: 0,
                         **{n: 1 for n in citing_documents(docs, "664/KH-UBND")}}
        # 209/NQ-CP is not in the run: what cites it comes below it, then what cites them
        level = {c["node"]: c["level"] for c in s.chain("209/NQ-CP")}
        assert {n for n, lvl in level.items() if lvl == 1} == set(citing_documents(docs, "209/NQ-CP"))
        assert level["209/NQ-CP"] == 0
        # a letter that cites only the plan still comes below 209/NQ-CP, under the plan
        letter = corpus_document(LETTER)
        letter["references"] = [r for r in letter["references"] if r["canonical_id"] != "209/NQ-CP"]
        assert s.upsert_document(letter)
        chain = s.chain("209/NQ-CP")
        level = {c["node"]: c["level"] for c in chain}
        assert (level[PLAN_664], level[LETTER]) == (1, 2)
        assert _ancestors(chain, LETTER)[0] == PLAN_664


# ----------------------------------------------------------------------------- gaps

def _no_deadline(a: dict) -> bool:
    return not (a.get("five_clear") or {}).get("thoi_gian", a.get("deadline") is not None)


def test_gaps_list_tasks_without_deadline(store, docs):
    rows = store.gaps()
    no_deadline = {(r["document"], r["span"][0], r["agency"]) for r in rows if "deadline" in r["missing"]}
    stored = store.db.execute("SELECT count(*) FROM assignments WHERE missing_deadline").fetchone()[0]
    assert len(no_deadline) == stored > 0
    assert no_deadline == {duty_key(d, a) for d, a in assignments_where(docs, _no_deadline)}
    # a task that states "Định kỳ hằng năm hoặc đột xuất" has its time frame: not listed for it
    periodic = assignments_where(docs, lambda a: fold(a["task"]).startswith("dinh ky hang nam"))
    assert periodic and not {duty_key(d, a) for d, a in periodic} & no_deadline


def _without_verdicts(doc: dict) -> dict:
    for a in doc["assignments"]:
        a["five_clear"] = {k: v for k, v in (a.get("five_clear") or {}).items() if k != "trach_nhiem"}
    return doc


def test_gaps_flag_shared_tasks_with_no_lead(tmp_path):
    """Without a "5 rõ" verdict, a task several agencies share and none leads has no lead."""
    plan = _without_verdicts(corpus_document(PLAN_664))
    by_task: dict[tuple, list[dict]] = {}
    for a in plan["assignments"]:
        by_task.setdefault((a["span"]["start"], a["span"]["end"]), []).append(a)
    expected = {(a["span"]["start"], a["agency"]) for rows in by_task.values()
                if "lead" not in {a["role"] for a in rows}
                and (len({a["agency"] for a in rows}) > 1 or {a["role"] for a in rows} <= {"support"})
                for a in rows}
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_document(plan)
        rows = [r for r in s.gaps() if "lead" in r["missing"]]
        assert {(r["span"][0], r["agency"]) for r in rows} == expected
        # "11. Công an tỉnh, BCH Quân sự tỉnh: …" in the Cao Bằng plan: one task, two owners
        shared = [r for r in rows if r["section"] == "V.11"]
        assert {r["agency"] for r in shared} == {"Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh"}
        assert len({r["span"][0] for r in shared}) == 1
        assert not any(r["role"] == "lead" for r in rows)
        # a task one agency holds alone is not flagged for its lead
        alone = [a for rows_ in by_task.values() if len(rows_) == 1 for a in rows_
                 if a["role"] != "support"]
        assert alone and not {(a["span"]["start"], a["agency"]) for a in alone} & {
            (r["span"][0], r["agency"]) for r in rows}


def test_five_clear_verdict_wins(tmp_path):
    doc = {"id": "x", "metadata": {"province": "Cao Bằng"}, "text": "Sở Y tế: Tổ chức tập huấn.",
           "assignments": [{"agency": "Sở Y tế", "role": "responsible", "task": "Tổ chức tập huấn.",
                            "span": {"start": 9, "end": 26}, "deadline": None, "partners": [],
                            "five_clear": {"thoi_gian": True, "ket_qua": False, "trach_nhiem": True}}]}
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_document(doc)
        assert [r["missing"] for r in s.gaps()] == [["result"]]


def test_duty_query_keeps_the_syllables_of_a_word_together():
    from pipeline.corpus.store import _word_phrases

    assert _word_phrases("quan trắc môi trường lao động") == ["quan trac", "moi truong", "lao dong"]
    assert _word_phrases("điều tra tai nạn") == ["dieu tra", "tai nan"]


# ----------------------------------------------------------------------------- pages and totals

def test_agency_page_is_the_head_of_the_full_answer(store):
    everything = store.agency_duties("Sở LĐTBXH")
    assert len(everything) > 3 and store.count_agency_duties("Sở LĐTBXH") == len(everything)
    for n in (1, 3, len(everything) - 1):
        assert store.agency_duties("Sở LĐTBXH", limit=n) == everything[:n]
    assert store.agency_duties("Sở LĐTBXH", limit=0) == everything  # 0 = all, as the CLI's
    # its own duties first, then those found via the successor; each by province and document
    vias = [r["via"] != "" for r in everything]
    assert vias == sorted(vias) and any(vias) and not all(vias)
    for part in ([r for r in everything if not r["via"]], [r for r in everything if r["via"]]):
        keys = [(r["province"], r["date"], r["document"]) for r in part]
        assert keys == sorted(keys)
    assert len({r["province"] for r in everything if r["via"]}) > 1  # the order is not trivial


def test_agency_counts_say_how_each_duty_was_found(store):
    counts = store.agency_duty_counts("Sở LĐTBXH")
    rows = store.agency_duties("Sở LĐTBXH")
    assert counts == {v: sum(r["via"] == v for r in rows) for v in {r["via"] for r in rows}}
    assert len(counts) == 2
    assert store.count_agency_duties("Sở Y tế", province="Dak Lak") == len(
        store.agency_duties("Sở Y tế", province="Dak Lak")) > 0
    assert store.count_agency_duties("Sở Không Có") == 0 and store.agency_duty_counts("Sở Không Có") == {}


def test_citing_page_and_total(store):
    everything = store.citing("209/NQ-CP")
    assert store.count_citing("NQ 209") == len(everything) > 2
    assert store.citing("209/NQ-CP", limit=2) == everything[:2]
    assert store.citing("209/NQ-CP", limit=2, offset=2) == everything[2:4]
    keys = [({"implements": 0, "reports_on": 1}.get(r["relation"], 2), r["province"] or "",
             r["date"] or "", r["document"]) for r in everything]
    assert keys == sorted(keys)  # implementers first, then by province, date, document
    assert len({k[0] for k in keys}) > 1  # several relations: the order is not trivial
    assert store.count_citing("2099/NQ-CP") == 0


def test_chain_with_a_limit_keeps_the_nearest_and_says_it_is_cut(tmp_path, docs):
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(corpus_documents())
        links = corpus_links()
        links["chains"] = []
        s.set_links(links)
        below = len(citing_documents(docs, "664/KH-UBND"))
        assert below >= 2
        full, complete = s.chain_page("664/KH-UBND")
        assert complete and sum(c["level"] > 0 for c in full) == below
        cut, complete = s.chain_page("664/KH-UBND", limit=below - 1)
        assert not complete and sum(c["level"] > 0 for c in cut) == below - 1
        assert {c["node"] for c in cut} < {c["node"] for c in full}
        assert s.chain_page("664/KH-UBND", limit=below) == (full, True)


def test_gaps_page_and_total(store):
    everything = store.gaps()
    assert store.count_gaps() == len(everything) > 10
    assert store.gaps(limit=10) == everything[:10]
    keys = [(r["document"], r["agency"]) for r in everything]
    assert keys == sorted(keys)  # by document, then agency
    in_cao_bang = store.gaps(province="Cao Bằng")
    assert store.count_gaps(province="cao bang") == len(in_cao_bang) > 0
    assert {r["province"] for r in in_cao_bang} == {"Cao Bằng"} and len(in_cao_bang) < len(everything)
    assert store.gaps(province="Cao Bằng", limit=3) == in_cao_bang[:3]
    assert store.count_gaps(agency="Sở Nội vụ") == len(store.gaps(agency="Sở Nội vụ")) > 0


@pytest.mark.parametrize("text, number, tokens, doc_type", [
    ("Công văn 2432/UBND-VX", "2432", {"ubnd", "vx"}, "cong_van"),  # a công văn's id holds no type code
    ("Kế hoạch số 664", "664", {"kh"}, "ke_hoach"),
    ("Thông báo 12", "12", {"thong", "bao"}, None),  # a type a query does not name stays words
])
def test_reference_query_type_words(text, number, tokens, doc_type):
    assert parse_ref_query(text) == (number, tokens, doc_type)


# ----------------------------------------------------------------------------- `cites`, read plainly

class PlainStore(Store):
    """`cites` answered the straightforward way, as a reference for the indexed one: every
    reference read and matched in Python, sorted on the citing document's own row, no memo;
    the chains through a node found by one DISTINCT query."""

    def _memo(self, kind, key, compute):
        return compute()

    def _plain_rows(self, ref_id: str) -> list[dict]:
        from pipeline.corpus.store import _REF_COLUMNS, _REL_ORDER, _ref_matches

        query = parse_ref_query(ref_id)
        numbers = {k for k in (query[0], *fold(ref_id).split()[:1]) if k}
        if not hasattr(self, "_all"):  # read once: the store does not change while compared
            self._all = [dict(r) for r in self.db.execute(
                f"SELECT r.idx AS _idx, r.ref_key AS _key, r.ref_number AS _number, {_REF_COLUMNS} "
                "FROM refs r JOIN documents d ON d.id = r.doc_id")]
        rows = [r for r in self._all if r["_number"] in numbers
                and _ref_matches(query, r["_key"], r["ref_doc_type"])]
        rows.sort(key=lambda r: (_REL_ORDER.get(r["relation"], 9), r["province"] or "",
                                 r["date"] or "", r["document"], r["_idx"]))
        return rows

    def citing(self, ref_id, limit=None, offset=0):
        rows = [{k: v for k, v in r.items() if not k.startswith("_")}
                for r in self._plain_rows(ref_id)]
        return rows[offset:offset + limit] if limit and limit > 0 else rows[offset:]

    def count_citing(self, ref_id):
        return len(self._plain_rows(ref_id))

    def resolve_reference(self, ref_id):
        rows = self._plain_rows(ref_id)
        if not rows:
            return super()._resolve_reference(ref_id)  # nobody cites it: documents only
        resolved = sorted((r["_key"], r["ref_doc_type"] or "", r["relation"], r["document"],
                           r["_idx"], r["resolved_to"]) for r in rows if r["resolved_to"])
        document = resolved[0][-1] if resolved else next(
            (d[0] for d in self.db.execute("SELECT id FROM documents WHERE canonical_id = ? "
                                           "ORDER BY rowid", (rows[0]["canonical_id"],))), None)
        return {"canonical_id": rows[0]["canonical_id"], "document": document}

    def _chains_through(self, names):
        yield from (r[0] for r in self.db.execute(
            f"SELECT DISTINCT chain FROM chains WHERE node IN ({','.join('?' * len(names))}) "
            "ORDER BY chain", sorted(names)).fetchall())


def _cites_answers(s: Store, refs: list[str]) -> dict:
    from argparse import Namespace

    from pipeline.corpus.query import answer_cites

    return {(ref, limit): answer_cites(s, Namespace(ref=ref, limit=limit))
            for ref in refs for limit in (None, 1, 3, 50)}


def _questions(s: Store, every: int = 1) -> list[str]:
    """Every id cited more than once, every `every`-th of the others, the documents' own ids,
    and a few loose readings."""
    cited = [r[0] for i, r in enumerate(s.db.execute(
        "SELECT canonical_id, count(*) > 1 FROM refs GROUP BY 1 ORDER BY 1")) if r[1] or i % every == 0]
    own = [r[0] for r in s.db.execute("SELECT canonical_id FROM documents "
                                      "WHERE canonical_id IS NOT NULL ORDER BY 1")]
    return [*cited, *own, "NQ 209", "209", "Nghị quyết 209", "Kế hoạch số 664", "2099/NQ-CP"]


def _assert_same_cites(path, refs: list[str]) -> None:
    with Store(path) as s, PlainStore(path) as plain:
        fast, slow = _cites_answers(s, refs), _cites_answers(plain, refs)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key], key


def test_cites_answers_are_the_plain_readings_on_the_corpus(corpus_store):
    with Store(corpus_store) as s:
        refs = _questions(s)
    assert len(refs) > 10
    _assert_same_cites(corpus_store, refs)


def _synthetic_store(path, n: int = 60) -> None:
    """`n` copies of the corpus documents in other provinces and dates (pipeline.bench.store),
    linked by the corpus step; a few cite other documents numbered 209, with and without a
    type, so one query stands for several (folded id, type) pairs."""
    from pipeline.bench.store import synthesize
    from pipeline.corpus.step import finish_run

    with Store(path) as s:
        for i, doc in enumerate(synthesize(corpus_documents(), n, seed=3)):
            if i % 7 == 0 and doc["references"]:
                r = doc["references"][-1]
                r["canonical_id"] = r["id"] = ("209/KH-UBND", "209/UBND-VX", "209")[i % 3]
                r["doc_type"] = ("ke_hoach", None, None)[i % 3]
                r["relation"] = ("implements", "reports_on", "cites")[i % 3]
            s.upsert_document(doc)
        out = path.parent / "out"
        out.mkdir()
        finish_run(out, s)


def test_cites_answers_are_the_plain_readings_on_a_synthetic_store(tmp_path):
    path = tmp_path / "db.sqlite"
    _synthetic_store(path)
    with Store(path) as s:
        refs = _questions(s, every=10)
        assert s.count("chains") > 0
        assert len(s._cited_pairs("209")) > 2  # several pairs merged into one answer
        provinces = {r["province"] for r in s.citing("209/NQ-CP")}
        relations = {r["relation"] for r in s.citing("209/NQ-CP")}
        assert len(provinces) > 5 and len(relations) > 1
    _assert_same_cites(path, refs)


def test_a_store_without_the_sort_keys_is_migrated(tmp_path):
    path = tmp_path / "db.sqlite"
    with _filled_store(path) as s:
        before = _cites_answers(s, ["209/NQ-CP", "NQ 209", "664/KH-UBND"])
        keys = s.db.execute("SELECT doc_id, idx, rel_rank, doc_province, doc_date FROM refs "
                            "ORDER BY doc_id, idx").fetchall()
    db = sqlite3.connect(path)  # the shape of a store written before the sort keys
    db.executescript("DROP INDEX refs_cited; ALTER TABLE refs DROP COLUMN rel_rank; "
                     "ALTER TABLE refs DROP COLUMN doc_province; ALTER TABLE refs DROP COLUMN doc_date;")
    db.close()
    with Store(path) as s:
        assert s.db.execute("SELECT doc_id, idx, rel_rank, doc_province, doc_date FROM refs "
                            "ORDER BY doc_id, idx").fetchall() == keys
        assert _cites_answers(s, ["209/NQ-CP", "NQ 209", "664/KH-UBND"]) == before
        s.upsert_many([dict(d, id=d["id"] + "-copy") for d in corpus_documents()])  # writes still work
        assert s.count_citing("209/NQ-CP") == 2 * before[("209/NQ-CP", None)]["total"]


def test_cites_never_answers_from_an_older_store(tmp_path):
    path = tmp_path / "db.sqlite"
    with _filled_store(path) as s, Store(path) as other:
        total = s.count_citing("209/NQ-CP")
        first = s.citing("209/NQ-CP", limit=1)
        citing = next(d for d in corpus_documents() if d["references"] and any(
            r["canonical_id"] == "209/NQ-CP" for r in d["references"]))
        other.upsert_document(dict(citing, id="another"))  # another connection commits
        assert s.count_citing("209/NQ-CP") == total + sum(
            r["canonical_id"] == "209/NQ-CP" for r in citing["references"])
        s.delete_document("another")  # this one writes
        assert s.count_citing("209/NQ-CP") == total
        assert s.citing("209/NQ-CP", limit=1) == first


# ----------------------------------------------------------------------------- `agency` and `gaps`, read plainly

class PlainAgencyStore(Store):
    """`agency` and `gaps` answered the straightforward way, as a reference for the indexed
    ones: every assignment read with its document's row, matched, sorted and counted in Python
    (no `agency_duty_order`, no `agency_counts`)."""

    def _plain_assignments(self) -> list[dict]:
        from pipeline.corpus.store import _DUTY_COLUMNS, _DUTY_JOINS

        if not hasattr(self, "_all"):  # read once: the store does not change while compared
            self._all = [dict(r) for r in self.db.execute(
                f"SELECT {_DUTY_COLUMNS}, a.agency_key, a.province_key, d.province AS doc_province "
                f"FROM assignments a {_DUTY_JOINS}")]
        return [dict(r) for r in self._all]

    def _plain_duties(self, name, province):
        from pipeline.corpus.store import _via

        bodies = self._agency_filter(name, province)[0]
        ids = {b["agency_id"] for b, _ in bodies if b["agency_id"]}
        keys = {k for b, _ in bodies for k in b["keys"]}
        rows = [r for r in self._plain_assignments()
                if (r["agency_id"] in ids or r["agency_key"] in keys)
                and (not province or r["province_key"] == fold(province))]
        for row in rows:
            row["_via"] = _via(row["agency_id"], row["agency_key"], bodies)
        # own duties first, then by the document's province, date (none first), document, position
        rows.sort(key=lambda r: (r["_via"] != "", r["doc_province"] is not None,
                                 r["doc_province"] or "", r["date"] is not None, r["date"] or "",
                                 r["doc_id"], r["idx"]))
        return rows

    def agency_duties(self, name, province=None, limit=None):
        from pipeline.corpus.store import _duty_row

        rows = self._plain_duties(name, province)
        rows = rows[:limit] if limit and limit > 0 else rows
        return [_duty_row(r) | {"via": r["_via"]} for r in rows]

    def agency_duty_counts(self, name, province=None):
        counts: dict[str, int] = {}
        for row in self._plain_duties(name, province):
            counts[row["_via"]] = counts.get(row["_via"], 0) + 1
        return counts

    def _plain_gaps(self, province, agency):
        rows = [r for r in self._plain_assignments()
                if (r["missing_deadline"] or r["missing_lead"] or r["missing_result"])
                and (not province or r["province_key"] == fold(province))
                and (not agency or r["agency_key"] == fold(agency))]
        return sorted(rows, key=lambda r: (r["doc_id"], r["agency"], r["idx"]))

    def gaps(self, province=None, agency=None, limit=None):
        from pipeline.corpus.store import _duty_row

        rows = self._plain_gaps(province, agency)
        rows = rows[:limit] if limit and limit > 0 else rows
        return [_duty_row(r) | {"missing": [name for name in ("deadline", "lead", "result")
                                            if r[f"missing_{name}"]]} for r in rows]

    def count_gaps(self, province=None, agency=None):
        return len(self._plain_gaps(province, agency))


def _agency_gaps_answers(s: Store, every: int = 1) -> dict:
    """`vanban query agency` for every agency name of the store (and a few typed ones), with
    and without every `every`-th province; `vanban query gaps` by those provinces and a few
    agencies; pages of 1, 3, 50 and all."""
    from argparse import Namespace

    from pipeline.corpus.query import answer_agency, answer_gaps

    names = [r[0] for r in s.db.execute("SELECT DISTINCT name FROM agencies ORDER BY 1")]
    names += ["Sở LĐTBXH", "so noi vu", "Sở YT", "Sở Không Có"]
    provinces = [None, *[r[0] for r in s.db.execute(
        "SELECT DISTINCT province FROM assignments WHERE province IS NOT NULL ORDER BY 1")][::every]]
    agencies = [None, "Sở Y tế", "Sở Nội vụ", "Công an tỉnh", "Sở Không Có"]
    answers = {}
    for limit in (None, 1, 3, 50):
        for province in provinces:
            for name in names:
                answers["agency", name, province, limit] = answer_agency(
                    s, Namespace(name=name, province=province, limit=limit))
            for agency in agencies:
                answers["gaps", agency, province, limit] = answer_gaps(
                    s, Namespace(province=province, agency=agency, limit=limit))
    return answers


def _assert_same_agency_gaps(path, every: int = 1) -> None:
    with Store(path) as s, PlainAgencyStore(path) as plain:
        fast, slow = _agency_gaps_answers(s, every), _agency_gaps_answers(plain, every)
    assert fast.keys() == slow.keys()
    for key in fast:
        assert fast[key] == slow[key], key
    # not vacuous: pages were cut, several provinces and ways of matching were seen
    assert any(a["total"] > len(a["rows"]) > 0 for a in fast.values())
    assert any(a.get("notes") for a in fast.values())


def test_agency_and_gaps_answers_are_the_plain_readings_on_the_corpus(corpus_store):
    _assert_same_agency_gaps(corpus_store)


def test_agency_and_gaps_answers_are_the_plain_readings_on_a_synthetic_store(tmp_path):
    path = tmp_path / "db.sqlite"
    _synthetic_store(path, n=30)
    with Store(path) as s:  # the order is not trivial: many provinces and dates per agency
        rows = s.agency_duties("Sở Y tế")
        assert len({r["province"] for r in rows}) > 5 and len({r["date"] for r in rows}) > 5
    _assert_same_agency_gaps(path, every=7)


def _rebuilt_agency_tables(s: Store) -> tuple[list, list]:
    """`agency_duty_order` and `agency_counts` as the migration builds them from the rows."""
    from pipeline.corpus.store import _AGENCY_ORDER_KEY, _GAP, _WITH_DOCUMENT

    order = s.db.execute(f"SELECT {_AGENCY_ORDER_KEY}, a.rowid {_WITH_DOCUMENT} "
                         "ORDER BY 1, 2, 3, 4, 5, 6, 7").fetchall()
    counts = s.db.execute(f"SELECT a.agency_key, coalesce(a.province_key, ''), "
                          f"coalesce(a.agency_id, ''), count(*), sum({_GAP}) FROM assignments a "
                          "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").fetchall()
    return [tuple(r) for r in order], [tuple(r) for r in counts]


def _agency_tables(s: Store) -> tuple[list, list]:
    return ([tuple(r) for r in s.db.execute("SELECT * FROM agency_duty_order")],
            [tuple(r) for r in s.db.execute("SELECT * FROM agency_counts ORDER BY 1, 2, 3")])


def test_agency_tables_follow_every_write(tmp_path):
    """Inserted, replaced (another province and date), deleted: the tables the answers read
    stay what the rows say."""
    path = tmp_path / "db.sqlite"
    with _filled_store(path) as s:
        assert _agency_tables(s) == _rebuilt_agency_tables(s) and s.count_gaps() > 0
        plan = corpus_document(PLAN_664)
        s.upsert_document(dict(plan, id="copy"))
        moved = copy.deepcopy(plan)
        moved["metadata"] = dict(moved["metadata"], province="Đắk Lắk", date="2019-01-02")
        moved["assignments"] = moved["assignments"][::2]
        assert s.upsert_document(moved)
        assert _agency_tables(s) == _rebuilt_agency_tables(s)
        assert {r["date"] for r in s.agency_duties("Sở Y tế") if r["document"] == PLAN_664} \
            == {"2019-01-02"}
        s.delete_document("copy")
        s.delete_document(DAK_LAK)
        assert _agency_tables(s) == _rebuilt_agency_tables(s)
        assert s.db.execute("SELECT count(*) FROM agency_counts WHERE duties <= 0").fetchone()[0] == 0
    _assert_same_agency_gaps(path)


def test_a_store_without_the_agency_tables_is_migrated(tmp_path):
    path = tmp_path / "db.sqlite"
    with _filled_store(path) as s:
        before = _agency_gaps_answers(s)
        tables = _agency_tables(s)
    db = sqlite3.connect(path)  # the shape of a store written before the agency tables
    db.executescript(
        "DROP TABLE agency_duty_order; DROP TABLE agency_counts; "
        "CREATE INDEX assignments_by_agency_key "
        "ON assignments(agency_key, province_key, agency_id, doc_id, idx);")
    db.close()
    with Store(path) as s:
        assert _agency_tables(s) == tables
        assert _agency_gaps_answers(s) == before
        indexes = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "assignments_by_agency_key" not in indexes  # replaced, so writes do not keep it
        s.upsert_many([dict(d, id=d["id"] + "-copy") for d in corpus_documents()])  # writes still work
        assert s.count_gaps() == 2 * before["gaps", None, None, None]["total"]


def test_a_checkpoint_starts_the_wal_again_and_gives_way_to_a_long_reader(docs, tmp_path, monkeypatch):
    # The workers of a run commit without checkpointing; the driver's checkpoint makes the next
    # writer start the WAL from its beginning, so the file stops growing. A reader that keeps a
    # transaction open prevents that: the checkpoint gives up after CHECKPOINT_WAIT_MS instead
    # of holding the writers back, and the WAL grows until a later checkpoint.
    from pipeline.corpus import store as store_module

    monkeypatch.setattr(store_module, "CHECKPOINT_WAIT_MS", 50)
    path = tmp_path / "s.db"
    writer = Store(path)
    writer.prepare_bulk_writes(checkpoints=False)
    wal = path.with_name(path.name + "-wal")
    first, second, third = docs[:2], docs[2:4], docs[4:]

    writer.upsert_many(first)
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM documents").fetchone()[0] == len(first)  # holds its snapshot
    assert writer.checkpoint() is False  # gives up on the restart: no error, no 30 s wait
    size = wal.stat().st_size
    writer.upsert_many(second)
    assert wal.stat().st_size > size  # appended: the reader kept the WAL from starting again
    reader.execute("COMMIT")
    reader.close()

    assert writer.checkpoint() is True
    size = wal.stat().st_size
    writer.upsert_many(third)
    assert wal.stat().st_size == size  # written from the beginning of the file, not appended
    assert writer.db.execute("SELECT count(*) FROM documents").fetchone()[0] == len(docs)
    writer.close()
