"""`vanban check`: a report's results against its plan's targets, with the arithmetic shown."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.corpus.check import check_report, find_plan, judge, match_result
from pipeline.model import Document, Metadata, Reference, Result, SourceInfo, Span, Target

REPO = Path(__file__).resolve().parents[1]
REPORT, PLAN = "cao-bang_bao-cao_2025-12", "cao-bang_ke-hoach-664_2025-03-10"


def _span(text):
    return Span(0, len(text))


def target(indicator, direction, value, unit):
    return Target(indicator=indicator, direction=direction, value=value, unit=unit, text=indicator, span=_span(indicator),
                  period=None, qualifier="at_least")


def result(indicator, value, unit, compared_to=None, change=None):
    return Result(indicator=indicator, value=value, unit=unit, text=indicator, span=_span(indicator),
                  compared_to=compared_to, change=change)


# Cao Bằng plan 664, section II, and the Cao Bằng 2025 report's figures (lines 45-53).
DEATHS = target("tỷ lệ tai nạn lao động chết người", "decrease", 4, "%/năm")
EXAMS = target("số người lao động làm việc trong môi trường tiếp xúc với các yếu tố có nguy cơ được khám, phát hiện BNN",
               "increase", 5, "%/năm")
MONITORED = target("số cơ sở phát sinh yếu tố có hại được quan trắc môi trường lao động", "increase", 5, "%/năm")
RESULTS = [
    result("số người lao động bị tai nạn lao động được thăm hỏi, tặng quà", 4, "người"),
    result("số người được khám phát hiện bệnh nghề nghiệp", 707, "người"),
    result("số cơ sở lao động được quan trắc môi trường lao động", 40, "cơ sở"),
    result("số người chết do tai nạn lao động", 2, "người", "2024", 1),
    result("số người lao động làm việc trong môi trường tiếp xúc với các yếu tố có nguy cơ được khám, phát hiện bệnh nghề nghiệp",
           707, "người", "2024", 72),
    result("số cơ sở phát sinh yếu tố có hại được quan trắc môi trường lao động", 40, "cơ sở", "2024", 1),
]
ABBREVIATIONS = {"bnn": "benh nghe nghiep"}


def test_targets_meet_the_result_that_measures_them():
    assert match_result(DEATHS, RESULTS, ABBREVIATIONS)[0].indicator == "số người chết do tai nạn lao động"
    # Two results count monitored workplaces; the one with last year's figure is usable.
    assert match_result(MONITORED, RESULTS, ABBREVIATIONS)[0].change == 1
    assert match_result(EXAMS, RESULTS, ABBREVIATIONS)[0].change == 72
    assert match_result(target("doanh nghiệp nhỏ và vừa áp dụng hệ thống quản lý ATVSLĐ", "increase", 30, "doanh nghiệp/năm"),
                        RESULTS, ABBREVIATIONS)[0] is None


def test_deaths_doubled_against_a_four_percent_cut_is_missed_with_a_rate_note():
    verdict = judge(DEATHS, RESULTS[3], 2025)
    assert verdict["verdict"] == "missed"
    assert verdict["previous"] == 1 and verdict["observed_change_pct"] == 100.0 and verdict["required_change_pct"] == -4.0
    assert "2 − 1 = 1 in 2024" in verdict["arithmetic"] and "+100.0%" in verdict["arithmetic"]
    assert any("rate" in n and "count" in n for n in verdict["notes"])


def test_examinations_up_eleven_percent_meet_five():
    verdict = judge(EXAMS, RESULTS[4], 2025)
    assert verdict["verdict"] == "met"
    assert verdict["previous"] == 635 and verdict["observed_change_pct"] == 11.34
    assert "707 − 72 = 635" in verdict["arithmetic"] and "+11.3%" in verdict["arithmetic"]
    assert verdict["notes"] == []


def test_monitored_workplaces_up_two_point_six_percent_miss_five():
    verdict = judge(MONITORED, RESULTS[5], 2025)
    assert verdict["verdict"] == "missed" and "+2.6%" in verdict["arithmetic"] and "+5.0%" in verdict["arithmetic"]


def test_other_kinds_of_target():
    assert judge(MONITORED, None)["verdict"] == "not reported"
    assert judge(MONITORED, RESULTS[2])["verdict"] == "not assessable"  # 40 cơ sở, no earlier figure
    investigated = target("các vụ TNLĐ chết người được điều tra, xử lý", "reach", 100, "%")
    assert judge(investigated, result("các vụ TNLĐ chết người được điều tra", 100, "%"))["verdict"] == "met"
    assert judge(investigated, result("các vụ TNLĐ chết người được điều tra", 80, "%"))["verdict"] == "missed"
    smes = target("doanh nghiệp nhỏ và vừa áp dụng hệ thống quản lý", "increase", 30, "doanh nghiệp/năm")
    assert judge(smes, result("doanh nghiệp nhỏ và vừa áp dụng", 120, "doanh nghiệp", "2024", 31))["verdict"] == "met"
    # Two years of a 5%/year increase ask for 10.25% in all.
    two_years = judge(EXAMS, result("x", 110, "người", "2023", 10), 2025)
    assert two_years["required_change_pct"] == 10.25 and two_years["verdict"] == "missed"


def _doc(doc_id, doc_type, date, references=(), targets=(), results=(), number=None, symbol=None):
    source = SourceInfo(path=f"{doc_id}.txt", file_name=f"{doc_id}.txt", format="txt", sha256="", size_bytes=0)
    return Document(id=doc_id, source=source, text="",
                    metadata=Metadata(doc_type=doc_type, date=date, number=number, symbol=symbol, province="Cao Bằng"),
                    references=list(references), targets=list(targets), results=list(results))


def _ref(canonical_id, doc_type, date, relation, resolved_to=None):
    number, _, symbol = canonical_id.partition("/")
    return Reference(id=canonical_id, canonical_id=canonical_id, doc_type=doc_type, number=number, symbol=symbol,
                     date=date, issuer=None, title=None, relation=relation, text=canonical_id,
                     span=_span(canonical_id), resolved_to=resolved_to)


def test_the_plan_is_found_through_the_reports_references():
    plan = _doc("plan-664", "ke_hoach", "2025-03-10", targets=[EXAMS])
    other = _doc("other-plan", "ke_hoach", "2024-12", targets=[EXAMS], symbol="KH-UBND")
    # Footnote "² Số 664/KH-UBND ngày 10/3/2025": the plan's own number is blank, type and date agree.
    report = _doc("report", "bao_cao", "2025-12",
                  references=[_ref("209/NQ-CP", "nghi_quyet", "2024-10-28", "reports_on"),
                              _ref("664/KH-UBND", "ke_hoach", "2025-03-10", "cites")])
    found, how = find_plan(report, [other, plan, report])
    assert found.id == "plan-664" and "664/KH-UBND" in how and "type and date" in how
    report.references[1].resolved_to = "plan-664"
    assert "resolved_to" in find_plan(report, [other, plan, report])[1]
    report.references = report.references[:1]
    assert find_plan(report, [other, plan, report])[0] is None


def test_check_report_counts_verdicts():
    plan = _doc("plan", "ke_hoach", "2025-03-10", targets=[DEATHS, EXAMS, MONITORED])
    report = _doc("report", "bao_cao", "2025-12", results=RESULTS)
    report.text = "phát hiện bệnh nghề nghiệp (BNN)"
    checked = check_report(report, plan)
    assert [r["verdict"] for r in checked["rows"]] == ["missed", "met", "missed"]
    assert checked["counts"] == {"met": 1, "missed": 2, "not reported": 0, "not assessable": 0}


# --- the corpus, through the real pipeline ------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(REPO / "corpus"), "--out", str(out)],
                   capture_output=True, text=True, cwd=REPO)
    assert (out / f"{REPORT}.json").is_file() and (out / f"{PLAN}.json").is_file()
    return out


def test_corpus_check_reproduces_the_three_verdicts(corpus_run):
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "check", REPORT, "--plan", PLAN, "--run", str(corpus_run),
                          "--format", "json"], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    verdicts = {r["target"]["indicator"].split()[0] + " " + r["target"]["indicator"].split()[-1]: r for r in rows}
    assert len(rows) == 3, verdicts
    deaths, exams, monitored = rows
    assert "chết người" in deaths["target"]["indicator"] and deaths["verdict"] == "missed"
    assert "+100.0%" in deaths["arithmetic"] and deaths["notes"]
    assert exams["verdict"] == "met" and "707 − 72 = 635" in exams["arithmetic"] and "+11.3%" in exams["arithmetic"]
    assert monitored["verdict"] == "missed" and "40 − 1 = 39" in monitored["arithmetic"] and "+2.6%" in monitored["arithmetic"]


def test_corpus_check_finds_the_plan_without_being_told(corpus_run):
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "check", REPORT, "--run", str(corpus_run)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert f"against {PLAN}" in out.stdout and "664/KH-UBND" in out.stdout
    assert out.stdout.count("**missed**") == 2 and out.stdout.count("**met**") == 1
