"""The SQLite store: upserts, accent-insensitive search, and the four queries.

Fixtures: `gold_documents()` builds document dicts shaped like `Document.to_dict()` from the
real corpus text (normalize + outline run for real) and the hand-written gold rows of
../shared/eval/gold, with every span located in the text. So these tests exercise the store on
realistic rows even while the upstream stages are being written; tests/test_query.py checks the
same questions on the pipeline's own output.
"""
from __future__ import annotations

import copy
import json
import os
import sqlite3
from functools import lru_cache
from pathlib import Path

import pytest

from pipeline.store import Store, agency_record, parse_ref_query

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
GOLD = Path(os.environ.get("VANBAN_GOLD", ROOT.parent / "shared" / "eval" / "gold"))
PLAN_664 = "cao-bang_ke-hoach-664_2025-03-10"

needs_gold = pytest.mark.skipif(not GOLD.is_dir(), reason=f"gold annotations not found at {GOLD}")


def _find(text: str, needle: str, start: int = 0) -> int:
    pos = text.find(needle, start)
    return text.find(needle) if pos < 0 else pos


@lru_cache(maxsize=1)
def _gold_documents() -> tuple[str, ...]:
    from pipeline import parse_file

    out = []
    for gold_path in sorted(GOLD.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        doc = parse_file(CORPUS / gold["file"]).to_dict()
        text = doc["text"]
        doc["metadata"].update({k: gold["metadata"][k] for k in (
            "doc_type", "number", "symbol", "issuer", "province", "date", "title")})
        doc["references"] = []
        for r in gold["references"]:
            pos = max(_find(text, r["canonical_id"].split("/")[0]), 0)
            number, _, symbol = r["canonical_id"].partition("/")
            doc["references"].append({
                "id": r["canonical_id"], "canonical_id": r["canonical_id"],
                "doc_type": r["doc_type"], "number": number if symbol else None,
                "symbol": symbol or None, "date": r["date"], "issuer": r["issuer"],
                "title": None, "relation": r["relation"], "text": text[pos:pos + 20],
                "span": {"start": pos, "end": pos + 20, "page": None}, "mentions": [],
                "resolved_to": PLAN_664 if r["canonical_id"] == "664/KH-UBND" else None})
        doc["assignments"] = []
        last_start, last_task = 0, None
        for a in gold["assignments"]:
            ts = " ".join(a["task_start"].split())
            start = last_start if ts == last_task else _find(text, ts, last_start + 1)
            assert start >= 0, (gold["file"], ts)
            end = text.find("\n", start)
            end = len(text) if end < 0 else end
            record = agency_record(a["agency"]) or {}
            task = text[start:end]
            deadline = next(({"text": d["text"], "span": {"start": start + task.find(d["text"]),
                                                         "end": start + task.find(d["text"]) + len(d["text"]),
                                                         "page": None}}
                             for d in gold["deadlines"] if d["text"] in task), None)
            doc["assignments"].append({
                "agency": a["agency"], "agency_raw": a["agency"], "agency_id": record.get("id"),
                "known": bool(record), "agency_kind": record.get("kind"),
                "successor": record.get("successor"), "province": gold["metadata"]["province"],
                "role": a["role"], "partners": a["partners"], "section": a["section"],
                "task": task, "span": {"start": start, "end": end, "page": None},
                "deadline": deadline, "topics": [], "five_clear": {}})
            last_start, last_task = start, ts
        doc["targets"] = [
            {"indicator": t["indicator"], "direction": t["direction"], "value": t["value"],
             "unit": t["unit"], "text": t["text_start"], "period": None, "qualifier": None,
             "span": {"start": max(_find(text, t["text_start"]), 0),
                      "end": max(_find(text, t["text_start"]), 0) + len(t["text_start"])}}
            for t in gold["targets"]]
        doc["results"] = [
            {"indicator": r["indicator"], "value": r["value"], "unit": r["unit"],
             "text": r["indicator"], "compared_to": r.get("compared_to"), "change": r.get("change"),
             "span": {"start": 0, "end": 0}} for r in gold["results"]]
        out.append(json.dumps(doc, ensure_ascii=False))
    return tuple(out)


def gold_documents() -> list[dict]:
    """Document dicts built from the corpus text and the gold rows (fresh copies)."""
    return [json.loads(d) for d in _gold_documents()]


def gold_links() -> dict:
    """The link stage's answer on the corpus, by hand: 664/KH-UBND is the Cao Bằng plan."""
    return {
        "documents": [{"id": PLAN_664, "canonical_id": "664/KH-UBND"}],
        "edges": [
            {"from": "cao-bang_cong-van_2025-08", "to": PLAN_664, "relation": "cites",
             "resolved": True, "canonical_id": "664/KH-UBND"},
            {"from": "cao-bang_bao-cao_2025-12", "to": PLAN_664, "relation": "cites",
             "resolved": True, "canonical_id": "664/KH-UBND"},
            {"from": PLAN_664, "to": "209/NQ-CP", "relation": "implements", "resolved": False},
        ],
        "chains": [["31-CT/TW", "209/NQ-CP", "417-KH/TU", PLAN_664,
                    "cao-bang_cong-van_2025-08", "cao-bang_bao-cao_2025-12"]],
    }


def gold_rows(predicate) -> set[str]:
    """Stems of gold files with an assignment that satisfies `predicate`."""
    out = set()
    for p in GOLD.glob("*.json"):
        gold = json.loads(p.read_text(encoding="utf-8"))
        if any(predicate(a) for a in gold["assignments"]):
            out.add(Path(gold["file"]).stem)
    return out


@pytest.fixture(scope="session")
def corpus_run(tmp_path_factory):
    """`vanban run corpus --out TMP`: the real pipeline's JSON, links, graph and store."""
    from pipeline.cli import main

    out = tmp_path_factory.mktemp("run")
    assert main(["run", str(CORPUS), "--out", str(out), "--quiet"]) == 0
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))
            if p.stem in {c.stem for c in CORPUS.glob("*.txt")}]
    assert len(docs) == len(list(CORPUS.glob("*.txt")))
    return out, docs


@pytest.fixture(scope="session")
def corpus_store(tmp_path_factory):
    """The store of the corpus from the pipeline's own output: parse, link, upsert."""
    from pipeline import parse_file
    from pipeline.link import link_documents

    docs = [parse_file(p).to_dict() for p in sorted(CORPUS.glob("*.txt"))]
    links = link_documents(docs)
    path = tmp_path_factory.mktemp("store") / "vanban.sqlite"
    with Store(path) as s:
        for doc in docs:
            s.upsert_document(doc)
        s.set_links(links)
    return path


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "vanban.sqlite")
    for doc in gold_documents():
        s.upsert_document(doc)
    s.set_links(gold_links())
    yield s
    s.close()


# ----------------------------------------------------------------------------- writing

@needs_gold
def test_rerunning_never_duplicates(tmp_path):
    docs = gold_documents()
    with Store(tmp_path / "db.sqlite") as s:
        assert s.upsert_many(docs) == len(docs)
        counts = {t: s.count(t) for t in ("documents", "assignments", "refs", "sections")}
        assert s.upsert_many(gold_documents()) == 0  # same content: nothing written
        assert {t: s.count(t) for t in counts} == counts
        # timings differ between runs and are not content
        changed_timing = copy.deepcopy(docs[0])
        changed_timing["timings"] = {"header": 9.9}
        assert s.upsert_document(changed_timing) is False
    with Store(tmp_path / "db.sqlite") as s:  # reopening the file keeps everything
        assert {t: s.count(t) for t in counts} == counts
        assert s.db.execute("SELECT count(*) FROM assignments_fts").fetchone()[0] == counts["assignments"]


@needs_gold
def test_changed_document_replaces_its_rows(tmp_path):
    docs = gold_documents()
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(docs)
        before = s.count("assignments")
        plan = next(d for d in docs if d["id"] == PLAN_664)
        dropped = plan["assignments"].pop()
        assert s.upsert_document(plan) is True
        assert s.count("assignments") == before - 1
        assert s.db.execute("SELECT count(*) FROM assignments_fts").fetchone()[0] == before - 1
        assert not s.db.execute("SELECT 1 FROM assignments WHERE doc_id = ? AND task = ?",
                                (PLAN_664, dropped["task"])).fetchone()


@needs_gold
def test_a_failing_replacement_leaves_the_old_rows(tmp_path):
    docs = gold_documents()
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(docs)
        before = s.count("assignments")
        plan = next(d for d in docs if d["id"] == PLAN_664)
        plan["assignments"].append({"agency": None})  # breaks halfway through the insert
        with pytest.raises(Exception):
            s.upsert_document(plan)
        assert s.count("assignments") == before
        assert s.document(PLAN_664)["assignments"] == gold_documents()[2]["assignments"]


def test_database_is_in_wal_mode(tmp_path):
    with Store(tmp_path / "db.sqlite") as s:
        assert s.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # a plain SQLite client can open it and sees the tables
    con = sqlite3.connect(tmp_path / "db.sqlite")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"documents", "sections", "refs", "agencies", "assignments", "targets", "results",
            "deadlines", "links"} <= tables


@needs_gold
def test_links_resolve_the_plan_that_has_no_number(store):
    assert store.db.execute("SELECT canonical_id FROM documents WHERE id = ?",
                            (PLAN_664,)).fetchone()[0] == "664/KH-UBND"
    resolved = {r[0] for r in store.db.execute(
        "SELECT doc_id FROM refs WHERE canonical_id = '664/KH-UBND' AND resolved_to = ?", (PLAN_664,))}
    assert resolved == {"cao-bang_cong-van_2025-08", "cao-bang_bao-cao_2025-12"}


# ----------------------------------------------------------------------------- search

@needs_gold
@pytest.mark.parametrize("query, phrase", [
    ("quan trac moi truong", "quan trắc môi trường"),
    ("dieu tra tai nan", "điều tra tai nạn"),
    ("ĐIỀU TRA TAI NẠN", "điều tra tai nạn"),
])
def test_search_matches_with_or_without_diacritics(store, query, phrase):
    rows = store.duty_owners(query)
    assert rows
    assert phrase in rows[0]["task"].lower()


@needs_gold
def test_duty_owners_lead_before_support(store):
    rows = store.duty_owners("quan trắc môi trường lao động")
    assert rows
    gold_owners = gold_rows(lambda a: "quan trắc môi trường lao động" in a["task_start"])
    assert gold_owners <= {r["document"] for r in rows}
    top = rows[0]
    assert top["agency"] == "Sở Y tế" and "quan trắc môi trường lao động" in top["task"]
    tiers = [(r["tier"], r["role"]) for r in rows]
    for (t1, r1), (t2, r2) in zip(tiers, tiers[1:]):  # within a tier, lead comes before support
        if t1 == t2:
            order = ["lead", "responsible", "requested", "support"]
            assert order.index(r1) <= order.index(r2)


@needs_gold
def test_duty_search_ranks_exact_words_above_the_folded_ones(store):
    rows = store.duty_owners("chăm sóc")  # folded "cham soc" also matches "chấm sóc"-like words
    assert rows and "chăm sóc" in rows[0]["task"].lower()


# ----------------------------------------------------------------------------- agency

@needs_gold
def test_agency_duties_cover_every_gold_document_naming_it(store):
    rows = store.agency_duties("Sở Y tế")
    assert {r["document"] for r in rows} == gold_rows(lambda a: a["agency"] == "Sở Y tế")
    assert all(r["agency"] == "Sở Y tế" and r["via"] == "" for r in rows)
    gold_count = sum(1 for p in GOLD.glob("*.json")
                     for a in json.loads(p.read_text(encoding="utf-8"))["assignments"]
                     if a["agency"] == "Sở Y tế")
    assert len(rows) == gold_count


@needs_gold
def test_agency_accepts_abbreviations_and_no_diacritics(store):
    assert store.agency_duties("so y te") == store.agency_duties("Sở Y tế")
    assert store.agency_duties("Sở YT") == store.agency_duties("Sở Y tế")


@needs_gold
def test_agency_province_filter(store):
    rows = store.agency_duties("Sở Y tế", province="Dak Lak")
    assert rows and {r["province"] for r in rows} == {"Đắk Lắk"}


@needs_gold
def test_old_name_finds_the_successor_and_says_so(store):
    rows = store.agency_duties("Sở LĐTBXH")
    direct = {r["document"] for r in rows if r["via"] == ""}
    via = [r for r in rows if r["via"]]
    assert direct == gold_rows(lambda a: a["agency"] == "Sở Lao động - Thương binh và Xã hội")
    assert {r["document"] for r in via} == gold_rows(lambda a: a["agency"] == "Sở Nội vụ")
    assert via[0]["via"] == "via successor: Sở Lao động - Thương binh và Xã hội → Sở Nội vụ"
    # and the other way round: the new body finds what older plans gave its predecessor
    back = store.agency_duties("Sở Nội vụ")
    assert any(r["via"].startswith("via predecessor: Sở Lao động") for r in back)


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


@needs_gold
@pytest.mark.parametrize("query", ["209/NQ-CP", "NQ 209", "209 NQ-CP", "nghị quyết 209"])
def test_citing_lists_every_document_that_cites_it(store, query):
    rows = store.citing(query)
    expected = {Path(json.loads(p.read_text(encoding="utf-8"))["file"]).stem
                for p in GOLD.glob("*.json")
                if any(r["canonical_id"] == "209/NQ-CP"
                       for r in json.loads(p.read_text(encoding="utf-8"))["references"])}
    assert {r["document"] for r in rows} == expected
    assert rows[0]["relation"] == "implements"  # implementers first


@needs_gold
def test_citing_a_law_by_its_name(store):
    rows = store.citing("Luật An toàn, vệ sinh lao động 2015")
    expected = {Path(g["file"]).stem for g in map(
        lambda p: json.loads(p.read_text(encoding="utf-8")), GOLD.glob("*.json"))
        if any(r["canonical_id"] == "Luật An toàn, vệ sinh lao động 2015" for r in g["references"])}
    assert {r["document"] for r in rows} == expected
    assert store.citing("luat an toan ve sinh lao dong") == rows  # no year, no diacritics


@needs_gold
def test_citing_does_not_confuse_numbers(store):
    assert {r["canonical_id"] for r in store.citing("31-CT/TW")} == {"31-CT/TW"}
    assert store.citing("2099/NQ-CP") == []


@needs_gold
def test_chain_runs_through_the_reference(store):
    chain = store.chain("664/KH-UBND")
    level = {c["node"]: c["level"] for c in chain}
    parent = {c["node"]: c["parent"] for c in chain}
    assert parent["cao-bang_bao-cao_2025-12"] == "cao-bang_cong-van_2025-08"
    assert level[PLAN_664] == 0 and [c["document"] for c in chain if c["is_query"]] == [PLAN_664]
    assert level["209/NQ-CP"] < 0 < level["cao-bang_cong-van_2025-08"] < level["cao-bang_bao-cao_2025-12"]


@needs_gold
def test_chain_is_built_from_references_without_link_chains(tmp_path):
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(gold_documents())
        links = gold_links()
        links["chains"] = []
        s.set_links(links)
        level = {c["node"]: c["level"] for c in s.chain("664/KH-UBND")}
        # above: what the plan implements; below: the letter and the report that cite it
        assert level == {"209/NQ-CP": -1, "417-KH/TU": -1, PLAN_664: 0,
                         "cao-bang_cong-van_2025-08": 1, "cao-bang_bao-cao_2025-12": 1}
        # 209/NQ-CP is not in the run: its implementers come below it, then what cites them
        level = {c["node"]: c["level"] for c in s.chain("209/NQ-CP")}
        gold_implementers = {Path(g["file"]).stem for g in map(
            lambda p: json.loads(p.read_text(encoding="utf-8")), GOLD.glob("*.json"))
            if any(r["canonical_id"] == "209/NQ-CP" for r in g["references"])}
        assert {n for n, lvl in level.items() if lvl == 1} == gold_implementers
        assert level["209/NQ-CP"] == 0


# ----------------------------------------------------------------------------- gaps

@needs_gold
def test_gaps_list_tasks_without_deadline(store):
    rows = store.gaps()
    no_deadline = [r for r in rows if "deadline" in r["missing"]]
    stored = store.db.execute("SELECT count(*) FROM assignments WHERE deadline IS NULL").fetchone()[0]
    assert len(no_deadline) == stored > 0
    # the task that states "Định kỳ hằng năm hoặc đột xuất" is not listed for its deadline
    assert not any(r["task"].startswith("Định kỳ hằng năm hoặc đột xuất") for r in no_deadline)


@needs_gold
def test_gaps_flag_shared_tasks_with_no_lead(store):
    rows = [r for r in store.gaps() if "lead" in r["missing"]]
    # "Công an tỉnh, Bộ Chỉ huy Quân sự tỉnh" share a task in the Cao Bằng plan, neither leads
    shared = [r for r in rows if r["document"] == PLAN_664 and r["section"] == "V.11"]
    assert {r["agency"] for r in shared} == {"Công an tỉnh", "Bộ Chỉ huy Quân sự tỉnh"}
    assert not any(r["role"] == "lead" for r in rows)


def test_five_clear_verdict_wins(tmp_path):
    doc = {"id": "x", "metadata": {"province": "Cao Bằng"}, "text": "Sở Y tế: Tổ chức tập huấn.",
           "assignments": [{"agency": "Sở Y tế", "role": "responsible", "task": "Tổ chức tập huấn.",
                            "span": {"start": 9, "end": 26}, "deadline": None, "partners": [],
                            "five_clear": {"thoi_gian": True, "ket_qua": False, "trach_nhiem": True}}]}
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_document(doc)
        assert [r["missing"] for r in s.gaps()] == [["result"]]


def test_duty_query_keeps_the_syllables_of_a_word_together():
    from pipeline.store import _word_phrases

    assert _word_phrases("quan trắc môi trường lao động") == ["quan trac", "moi truong", "lao dong"]
    assert _word_phrases("điều tra tai nạn") == ["dieu tra", "tai nan"]


# ----------------------------------------------------------------------------- pages and totals

@needs_gold
def test_agency_page_is_the_head_of_the_full_answer(store):
    everything = store.agency_duties("Sở LĐTBXH")
    assert len(everything) > 3 and store.count_agency_duties("Sở LĐTBXH") == len(everything)
    for n in (1, 3, len(everything) - 1):
        assert store.agency_duties("Sở LĐTBXH", limit=n) == everything[:n]
    assert store.agency_duties("Sở LĐTBXH", limit=0) == everything  # 0 = all, as the CLI's
    # its own duties first, then those found via the successor; each by province and document
    vias = [r["via"] != "" for r in everything]
    assert vias == sorted(vias) and any(vias) and not all(vias)
    own = [(r["province"], r["date"], r["document"]) for r in everything if not r["via"]]
    assert own == sorted(own)


@needs_gold
def test_agency_counts_say_how_each_duty_was_found(store):
    counts = store.agency_duty_counts("Sở LĐTBXH")
    rows = store.agency_duties("Sở LĐTBXH")
    assert counts == {v: sum(r["via"] == v for r in rows) for v in {r["via"] for r in rows}}
    assert store.count_agency_duties("Sở Y tế", province="Dak Lak") == len(
        store.agency_duties("Sở Y tế", province="Dak Lak"))
    assert store.count_agency_duties("Sở Không Có") == 0 and store.agency_duty_counts("Sở Không Có") == {}


@needs_gold
def test_citing_page_and_total(store):
    everything = store.citing("209/NQ-CP")
    assert store.count_citing("NQ 209") == len(everything) > 2
    assert store.citing("209/NQ-CP", limit=2) == everything[:2]
    assert store.citing("209/NQ-CP", limit=2, offset=2) == everything[2:4]
    keys = [({"implements": 0, "reports_on": 1}.get(r["relation"], 2), r["province"] or "",
             r["date"] or "", r["document"]) for r in everything]
    assert keys == sorted(keys)  # implementers first, then by province, date, document
    assert store.count_citing("2099/NQ-CP") == 0


@needs_gold
def test_chain_with_a_limit_keeps_the_nearest_and_says_it_is_cut(tmp_path):
    with Store(tmp_path / "db.sqlite") as s:
        s.upsert_many(gold_documents())
        links = gold_links()
        links["chains"] = []
        s.set_links(links)
        full, complete = s.chain_page("664/KH-UBND")
        assert complete and sum(c["level"] > 0 for c in full) == 2
        cut, complete = s.chain_page("664/KH-UBND", limit=1)
        assert not complete and sum(c["level"] > 0 for c in cut) == 1
        assert {c["node"] for c in cut} < {c["node"] for c in full}
        assert s.chain_page("664/KH-UBND", limit=2) == (full, True)


@needs_gold
def test_gaps_page_and_total(store):
    everything = store.gaps()
    assert store.count_gaps() == len(everything) > 10
    assert store.gaps(limit=10) == everything[:10]
    keys = [(r["document"], r["agency"]) for r in everything]
    assert keys == sorted(keys)  # by document, then agency
    in_cao_bang = store.gaps(province="Cao Bằng")
    assert store.count_gaps(province="cao bang") == len(in_cao_bang) > 0
    assert store.gaps(province="Cao Bằng", limit=3) == in_cao_bang[:3]
    assert store.count_gaps(agency="Sở Nội vụ") == len(store.gaps(agency="Sở Nội vụ"))
