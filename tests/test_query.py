"""`vanban query` on the store of the corpus (the pipeline's own output, `corpus_store` in
conftest.py); the expected answers come from the same documents (tests/corpus_output.py)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from corpus_output import (
    DAK_LAK, PLAN_664, PLANS, THAI_NGUYEN, assignments_where, citing_documents, corpus_documents,
    duty_key, held_by, task_has,
)
from pipeline.cli import main
from pipeline.corpus.query import answer_text
from pipeline.corpus.store import Store


@pytest.fixture(scope="module")
def docs():
    return corpus_documents()


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["query", *argv])
    return code, capsys.readouterr().out


def _json(capsys, db, *argv):
    code, out = run(capsys, *argv, "--db", str(db), "--format", "json")
    return code, json.loads(out)


def test_agency_lists_duties_from_every_plan_that_names_it(capsys, corpus_store, docs):
    code, answer = _json(capsys, corpus_store, "agency", "Sở Y tế", "--limit", "0")
    assert code == 0
    mine = assignments_where(docs, held_by("so_y_te", "Sở Y tế"))
    assert {r["document"] for r in answer["rows"]} == {d for d, _ in mine} >= set(PLANS)
    assert answer["total"] == len(answer["rows"]) == len(mine)
    assert {r["agency"] for r in answer["rows"]} == {"Sở Y tế"}
    for r in answer["rows"]:  # each duty says its role, section, task and where it is
        assert r["role"] in ("lead", "support", "responsible", "requested")
        assert r["section"] and r["task"] and r["span"][0] < r["span"][1]


def test_agency_by_old_name_says_it_went_through_the_successor(capsys, corpus_store, docs):
    code, out = run(capsys, "agency", "Sở LĐTBXH", "--db", str(corpus_store))
    assert code == 0
    assert "via successor: Sở Lao động - Thương binh và Xã hội → Sở Nội vụ" in out
    _, answer = _json(capsys, corpus_store, "agency", "Sở LĐTBXH", "--limit", "0")
    via = {r["document"] for r in answer["rows"] if r["via"]}
    assert via == {d for d, _ in assignments_where(docs, held_by("so_noi_vu", "Sở Nội vụ"))}
    assert {PLAN_664, THAI_NGUYEN} <= via
    assert DAK_LAK in {r["document"] for r in answer["rows"] if not r["via"]}


def test_agency_province_option(capsys, corpus_store, docs):
    code, answer = _json(capsys, corpus_store, "agency", "Sở Y tế", "--province", "Thai Nguyen")
    assert code == 0 and {r["province"] for r in answer["rows"]} == {"Thái Nguyên"}
    assert answer["total"] == len(assignments_where(
        [d for d in docs if d["id"] == THAI_NGUYEN], held_by("so_y_te", "Sở Y tế")))


def test_duty_names_the_owners_with_roles(capsys, corpus_store, docs):
    code, answer = _json(capsys, corpus_store, "duty", "quan trắc môi trường lao động")
    assert code == 0
    found = {(r["document"], r["span"][0], r["agency"]) for r in answer["rows"]}
    owners = assignments_where(docs, task_has("quan trắc môi trường lao động"))
    assert owners and {duty_key(d, a) for d, a in owners} <= found
    assert "Sở Y tế" in {a["agency"] for _, a in owners}
    by_key = {(r["document"], r["span"][0], r["agency"]): r for r in answer["rows"]}
    for d, a in owners:  # each owner with the role and section the document gave it
        row = by_key[duty_key(d, a)]
        assert (row["role"], row["section"]) == (a["role"], a["section"])
    _, answer = _json(capsys, corpus_store, "duty", "chăm sóc")  # Sở Y tế leads, others help
    assert answer["rows"][0]["role"] == "lead"


def test_duty_without_diacritics_gives_the_same_owners(capsys, corpus_store):
    _, with_marks = _json(capsys, corpus_store, "duty", "điều tra tai nạn")
    _, without = _json(capsys, corpus_store, "duty", "dieu tra tai nan")
    assert with_marks["rows"]
    assert {r["task"] for r in with_marks["rows"]} == {r["task"] for r in without["rows"]}


def test_cites_lists_the_documents_and_the_chain(capsys, corpus_store, docs):
    code, answer = _json(capsys, corpus_store, "cites", "209/NQ-CP")
    assert code == 0
    expected = set(citing_documents(docs, "209/NQ-CP"))
    assert {PLAN_664, DAK_LAK} <= expected
    assert {r["document"] for r in answer["rows"]} == expected
    nodes = {c["node"]: c for c in answer["chain"]}
    assert nodes["209/NQ-CP"]["is_query"] and nodes["209/NQ-CP"]["level"] == 0
    below = {c["document"] for c in answer["chain"] if c["level"] > 0}
    assert expected <= below
    # loose spellings find the same documents
    for loose in ("NQ 209", "209 NQ-CP"):
        _, again = _json(capsys, corpus_store, "cites", loose)
        assert {r["document"] for r in again["rows"]} == expected


def test_gaps_list_the_tasks_with_no_deadline(capsys, corpus_store):
    code, answer = _json(capsys, corpus_store, "gaps", "--limit", "0")
    assert code == 0
    listed = {(r["document"], r["span"][0], r["agency"]) for r in answer["rows"]
              if "deadline" in r["missing"]}
    assert listed
    with Store(corpus_store) as s:
        for doc in (s.document(d["id"]) for d in s.documents()):
            for a in doc["assignments"]:
                key = (doc["id"], a["span"]["start"], a["agency"])
                no_deadline = not a["five_clear"].get("thoi_gian", a["deadline"] is not None)
                assert (key in listed) == no_deadline, key


def test_nothing_matches_exits_1(capsys, corpus_store):
    code, out = run(capsys, "cites", "9999/NQ-CP", "--db", str(corpus_store))
    assert code == 1 and "nothing matches" in out
    code, _ = run(capsys, "agency", "Sở Không Có", "--db", str(corpus_store))
    assert code == 1


def test_missing_database_is_a_usage_error(capsys, tmp_path):
    code = main(["query", "--db", str(tmp_path / "none.sqlite"), "gaps"])
    assert code == 2
    assert not (tmp_path / "none.sqlite").exists()


def test_csv_has_one_row_per_duty(capsys, corpus_store):
    _, answer = _json(capsys, corpus_store, "agency", "Sở Y tế")
    code, out = run(capsys, "agency", "Sở Y tế", "--db", str(corpus_store), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == len(answer["rows"])
    assert rows[0]["partners"] == "; ".join(answer["rows"][0]["partners"])


@pytest.mark.parametrize("argv", [("agency", "Sở Y tế"), ("duty", "quan trắc môi trường lao động"),
                                  ("cites", "209/NQ-CP"), ("gaps",)])
def test_tables_fit_80_columns(capsys, corpus_store, argv):
    _, answer = _json(capsys, corpus_store, *argv)
    text = answer_text(argv[0], answer, width=80)
    assert answer["rows"] and max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("argv", [("agency", "Sở Y tế"), ("cites", "209/NQ-CP"), ("gaps",)])
def test_limit_gives_a_page_and_the_total(capsys, corpus_store, argv):
    _, everything = _json(capsys, corpus_store, *argv, "--limit", "0")
    total = len(everything["rows"])
    assert total > 2 and everything["total"] == total
    code, page = _json(capsys, corpus_store, *argv, "--limit", "2")
    assert code == 0 and page["total"] == total
    assert page["rows"] == everything["rows"][:2]  # the same order, cut
    code, out = run(capsys, *argv, "--limit", "2", "--db", str(corpus_store))
    assert code == 0 and f"showing 2 of {total}; --limit 0 for all" in out
    code, out = run(capsys, *argv, "--limit", "0", "--db", str(corpus_store))
    assert code == 0 and "showing" not in out


def test_default_limit_is_a_page(capsys, corpus_store):
    from pipeline.corpus.query import DEFAULT_LIMIT

    _, answer = _json(capsys, corpus_store, "gaps")
    assert answer["total"] > DEFAULT_LIMIT and len(answer["rows"]) == DEFAULT_LIMIT


def test_csv_page_says_what_is_left_out_on_stderr(capsys, corpus_store):
    code = main(["query", "gaps", "--limit", "3", "--db", str(corpus_store), "--format", "csv"])
    captured = capsys.readouterr()
    assert code == 0 and len(list(csv.DictReader(io.StringIO(captured.out)))) == 3
    assert "showing 3 of" in captured.err


def test_nothing_matches_exits_1_with_a_limit(capsys, corpus_store):
    code, answer = _json(capsys, corpus_store, "gaps", "--province", "Không Có", "--limit", "5")
    assert code == 1 and answer["rows"] == [] and answer["total"] == 0
    code, answer = _json(capsys, corpus_store, "cites", "9999/NQ-CP", "--limit", "5")
    assert code == 1 and answer["total"] == 0
