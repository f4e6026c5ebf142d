"""`vanban diff`: abbreviations, task similarity, agency alignment, targets side by side.

Unit tests build small documents from real passages of the corpus plans; the corpus tests at
the end run the real pipeline over corpus/ and hold the three-way diff to the issue's "done".
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import parse_file
from pipeline.corpus.diff import (REWORDED_MIN, SHARED_MIN, TextSimilarity, align, defined_abbreviations,
                           diff_documents, indicator_similarity, read_document, read_run, to_html, to_markdown)
from pipeline.model import Assignment, Document, Metadata, SourceInfo, Span, Target
from pipeline.stages.emit import schema_errors

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
CB, TN, DL = "cao-bang_ke-hoach-664_2025-03-10", "thai-nguyen_ke-hoach_2025-11", "dak-lak_ke-hoach_2024-12"

# Sở Y tế in Cao Bằng V.3 (three duties) and Đắk Lắk V.2 (a copies Cao Bằng's first, writing NLĐ).
CB_HEALTH_CARE = ("Chủ trì, phối hợp với các đơn vị có liên quan triển khai kế hoạch chăm sóc và nâng cao sức khỏe "
                  "người lao động, phòng chống BNN trên địa bàn tỉnh. Tăng cường công tác thông tin, tuyên truyền về "
                  "nguy cơ tác hại của BNN và các biện pháp phòng, chống; nâng cao năng lực cho đội ngũ cán bộ y tế làm "
                  "nhiệm vụ kiểm tra, giám sát đảm bảo chất lượng quan trắc môi trường lao động; sơ cứu, cấp cứu, chẩn "
                  "đoán, giám định, điều trị và phục hồi chức năng cho người lao động bị TNLĐ và BNN.")
DL_HEALTH_CARE = ("Chủ trì, phối hợp với các đơn vị có liên quan triển khai kế hoạch chăm sóc và nâng cao sức khỏe NLĐ, "
                  "phòng chống BNN trên địa bàn tỉnh. Tăng cường công tác thông tin, tuyên truyền về nguy cơ tác hại của "
                  "BNN và các biện pháp phòng, chống; nâng cao năng lực cho đội ngũ cán bộ y tế làm nhiệm vụ kiểm tra, "
                  "giám sát đảm bảo chất lượng quan trắc môi trường lao động, sơ cứu, cấp cứu, chẩn đoán, giám định, "
                  "điều trị và phục hồi chức năng cho NLĐ bị TNLĐ và BNN.")
CB_HEALTH_TRAINING = ("Tổ chức tập huấn, hướng dẫn cho cán bộ phụ trách công tác y tế lao động việc thực hiện các quy định "
                      "về công tác vệ sinh lao động, chăm sóc sức khỏe người lao động và phòng, chống BNN; hướng dẫn các cơ "
                      "sở lao động thực hiện các biện pháp kiểm soát phòng ngừa các yếu tố có hại, cải thiện điều kiện làm "
                      "việc, tổ chức các hoạt động chăm sóc và nâng cao sức khoẻ cho người lao động, công tác báo cáo y tế lao động.")
CB_HEALTH_INSPECTION = ("Định kỳ triển khai tổ chức kiểm tra việc chấp hành các quy định của pháp luật về vệ sinh lao động, "
                        "chăm sóc sức khỏe người lao động, phòng, chống BNN tại các cơ sở lao động trên địa bàn, trong đó "
                        "tập trung vào các cơ sở có nhiều yếu tố độc hại, có nguy cơ mắc BNN.")
DL_HEALTH_MONITORING = ("Tăng cường quản lý nhà nước về quan trắc môi trường lao động; khám sức khoẻ định kỳ, khám và phát "
                        "hiện bệnh nghề nghiệp tại các doanh nghiệp, cơ sở sản xuất kinh doanh trên địa bàn tỉnh. Quản lý, "
                        "chặt chẽ các loại máy, thiết bị, vật tư, chất có yêu cầu nghiêm ngặt về ATVSLĐ tại các cơ sở y tế.")
# Sở Nội vụ's reporting duty, in Cao Bằng VI.2 and in Thái Nguyên IV.1 (other words).
CB_HOME_REPORTING = "theo dõi, đôn đốc, tổng hợp báo cáo kết quả thực hiện về UBND tỉnh, Bộ Nội vụ theo quy định."
TN_HOME_REPORTING = "Tổng hợp, báo cáo kết quả thực hiện công tác an toàn, vệ sinh lao động trong tình hình mới theo quy định."


@pytest.fixture(scope="module")
def corpus_plans() -> list[Document]:
    return [parse_file(CORPUS / f"{stem}.txt") for stem in (CB, TN, DL)]


def test_abbreviations_are_read_from_the_document_that_defines_them():
    text = "Hạn chế tai nạn lao động (TNLĐ), Bệnh nghề nghiệp (BNN) xảy ra; nguồn vốn tài trợ (ODA)."
    found = defined_abbreviations(text)
    assert found["tnld"] == "tai nan lao dong"
    assert found["bnn"] == "benh nghe nghiep"
    assert "oda" not in found  # its letters are not the initials of the words before it


def test_similarity_separates_paraphrases_of_one_duty_from_different_duties(corpus_plans):
    sim = TextSimilarity(corpus_plans)
    # The same duty: copied with NLĐ for "người lao động"; and Nội vụ's reporting duty reworded.
    assert sim(CB_HEALTH_CARE, DL_HEALTH_CARE) >= SHARED_MIN
    assert sim(CB_HOME_REPORTING, TN_HOME_REPORTING) >= REWORDED_MIN
    # Different duties of the same agency (Sở Y tế), which share its whole vocabulary.
    for other in (CB_HEALTH_TRAINING, CB_HEALTH_INSPECTION, DL_HEALTH_MONITORING):
        assert sim(CB_HEALTH_CARE, other) < REWORDED_MIN, other[:40]
    assert sim(CB_HEALTH_TRAINING, DL_HEALTH_MONITORING) < REWORDED_MIN


def test_align_keeps_one_item_per_document_and_does_not_chain():
    scores = {("a", "b"): 0.9, ("b", "c"): 0.9, ("a", "c"): 0.1}

    def sim(x: str, y: str) -> float:
        return scores.get((x, y)) or scores.get((y, x)) or 0.0

    groups = align([("p1", 0, "a"), ("p2", 0, "b"), ("p3", 0, "c"), ("p1", 1, "c")], sim, 0.5)
    # a~b and b~c, but a is far from c: complete linkage leaves c of p3 apart; p1 never twice.
    for g in groups:
        assert len({doc for doc, _, _ in g}) == len(g)
    assert [[t for _, _, t in g] for g in groups if len(g) > 1] == [["a", "b"]]


def test_indicator_similarity_meets_the_short_form_of_an_indicator():
    long = "số người lao động làm việc trong môi trường tiếp xúc với các yếu tố có nguy cơ được khám, phát hiện BNN"
    assert indicator_similarity("số người lao động được khám bệnh nghề nghiệp", long, {"bnn": "benh nghe nghiep"}) >= 0.5
    assert indicator_similarity("số cơ sở được quan trắc môi trường lao động",
                                "các vụ TNLĐ chết người được điều tra, xử lý") < 0.5


def _task(agency, agency_id, successor, section, task, role="lead") -> Assignment:
    return Assignment(agency=agency, agency_raw=agency, agency_id=agency_id, known=agency_id is not None,
                      agency_kind=None, successor=successor, province=None, role=role, partners=[],
                      section=section, task=task, span=Span(0, len(task)))


def _target(indicator, direction, value, unit, text) -> Target:
    return Target(indicator=indicator, direction=direction, value=value, unit=unit, text=text, span=Span(0, len(text)))


def _plan(doc_id, province, date, assignments, targets) -> Document:
    text = "\n".join([a.task for a in assignments] + [t.text for t in targets])
    source = SourceInfo(path=f"{doc_id}.txt", file_name=f"{doc_id}.txt", format="txt", sha256="0" * 64,
                        size_bytes=len(text.encode("utf-8")))
    metadata = Metadata(doc_type="ke_hoach", province=province, date=date, issuer=f"UBND tỉnh {province}",
                        number=None, symbol="KH-UBND")
    return Document(id=doc_id, source=source, text=text, metadata=metadata, assignments=assignments, targets=targets)


SHARED_TARGETS = [
    _target("tỷ lệ tai nạn lao động chết người", "decrease", 4, "%/năm", "tỷ lệ tai nạn lao động chết người giảm ít nhất 4%/năm"),
    _target("số cơ sở phát sinh yếu tố có hại được quan trắc môi trường lao động", "increase", 5, "%/năm",
            "số cơ sở phát sinh yếu tố có hại được quan trắc môi trường lao động tăng ít nhất 5%/năm"),
]
DL_TARGETS = [
    _target("tần suất tai nạn lao động chết người", "decrease", 4, "%/năm", "Giảm 4% tần suất tai nạn lao động chết người;"),
    _target("số cơ sở được quan trắc môi trường lao động", "increase", 5, "%/năm", "5% số cơ sở được quan trắc môi trường lao động;"),
    _target("doanh nghiệp nhỏ và vừa áp dụng hiệu quả hệ thống quản lý công tác an toàn - vệ sinh lao động", "increase", 30,
            "doanh nghiệp/năm", "Tăng thêm 30 doanh nghiệp nhỏ và vừa áp dụng hiệu quả hệ thống quản lý công tác an toàn - vệ sinh lao động"),
    _target("các vụ TNLĐ chết người được điều tra, xử lý", "reach", 100, "%", "100% các vụ TNLĐ chết người được điều tra, xử lý."),
]


@pytest.fixture()
def three_plans():
    cb = _plan("cb", "Cao Bằng", "2025-03-10", [
        _task("Sở Nội vụ", "so_noi_vu", None, "VI.2", CB_HOME_REPORTING),
        _task("Sở Y tế", "so_y_te", None, "V.3", CB_HEALTH_CARE),
        _task("Sở Y tế", "so_y_te", None, "V.3", CB_HEALTH_INSPECTION),
        _task("Bộ Chỉ huy Quân sự tỉnh", "bch_quan_su_tinh", None, "V.10", "Chỉ đạo các đơn vị trực thuộc thực hiện tốt công tác ATVSLĐ."),
    ], SHARED_TARGETS)
    tn = _plan("tn", "Thái Nguyên", "2025-11", [
        _task("Sở Nội vụ", "so_noi_vu", None, "IV.1", TN_HOME_REPORTING),
        _task("Thanh tra tỉnh", "thanh_tra_tinh", None, "IV.10", "Thực hiện thanh tra trách nhiệm quản lý nhà nước về an toàn, vệ sinh lao động."),
    ], SHARED_TARGETS)
    # Đắk Lắk (2024) names the pre-2025 department; its gazetteer id is found even when absent.
    dl = _plan("dl", "Đắk Lắk", "2024-12", [
        _task("Sở Lao động - Thương binh và Xã hội", None, None, "V.1.e",
              "Tổng hợp báo cáo và tham mưu UBND tỉnh chỉ đạo giải quyết kịp thời các khó khăn, vướng mắc."),
        _task("Sở Y tế", "so_y_te", None, "V.2.a", DL_HEALTH_CARE),
        _task("Sở Y tế", "so_y_te", None, "V.2.c", DL_HEALTH_MONITORING),
    ], DL_TARGETS)
    return [cb, tn, dl]


def test_three_way_diff_aligns_agencies_tasks_and_targets(three_plans):
    diff = diff_documents(three_plans)
    assert schema_errors(diff, "diff") == []
    agencies = {a["key"]: a for a in diff["agencies"]}
    home = agencies["so_noi_vu"]
    assert home["plans"] == ["cb", "tn", "dl"]
    assert home["names"]["dl"] == ["Sở Lao động - Thương binh và Xã hội"]
    assert any("Sở Lao động - Thương binh và Xã hội → Sở Nội vụ" in n and "2025" in n for n in home["notes"])
    assert diff["agencies_only_in"] == {"cb": ["Bộ Chỉ huy Quân sự tỉnh"], "tn": ["Thanh tra tỉnh"], "dl": []}

    health = agencies["so_y_te"]["tasks"]
    shared = [g for g in health if g["status"] == "shared"]
    assert [[t["section"] for t in g["tasks"]] for g in shared] == [["V.3", "V.2.a"]]
    unique = sorted(t["section"] for g in health if g["status"] == "unique" for t in g["tasks"])
    assert unique == ["V.2.c", "V.3"]
    reporting = [g for g in home["tasks"] if g["plans"][:2] == ["cb", "tn"]]
    assert reporting and reporting[0]["status"] == "reworded"

    common = [t["plans"] for t in diff["targets"] if len(t["plans"]) > 1]
    assert common == [["cb", "tn", "dl"], ["cb", "tn", "dl"]]  # "tần suất" meets "tỷ lệ"
    added = [t["by_plan"]["dl"]["value"] for t in diff["targets"] if t["plans"] == ["dl"]]
    assert sorted(added) == [30, 100]


def test_renderings_show_the_alignment_and_escape_text(three_plans):
    three_plans[1].assignments[1].task = "Kiểm tra <script>alert(1)</script> an toàn"
    diff = diff_documents(three_plans)
    md = to_markdown(diff)
    assert "### Only in Thái Nguyên" in md and "- Thanh tra tỉnh" in md
    assert "Sở Lao động - Thương binh và Xã hội → Sở Nội vụ" in md
    html = to_html(diff)
    assert "<script>alert" not in html and "Thanh tra tỉnh" in html


def test_cli_diff_json_of_files(tmp_path, three_plans):
    paths = []
    for doc in three_plans:
        path = tmp_path / f"{doc.id}.json"
        path.write_text(json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
        paths.append(str(path))
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "diff", *paths, "--format", "json"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert schema_errors(json.loads(out.stdout), "diff") == []
    one = subprocess.run([sys.executable, "-m", "pipeline.cli", "diff", paths[0]], capture_output=True, text=True, cwd=REPO)
    assert one.returncode == 2


# --- the corpus, through the real pipeline ------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_diff(corpus_plans) -> dict:
    return diff_documents(corpus_plans)


def test_corpus_diff_aligns_labour_department_with_home_affairs(corpus_diff):
    assert schema_errors(corpus_diff, "diff") == []
    home = next(a for a in corpus_diff["agencies"] if a["key"] == "so_noi_vu")
    assert set(home["plans"]) == {CB, TN, DL}
    assert "Sở Lao động - Thương binh và Xã hội" in home["names"][DL]
    assert "Sở Nội vụ" in home["names"][CB] and "Sở Nội vụ" in home["names"][TN]
    assert any(n.startswith(DL) and "→ Sở Nội vụ" in n for n in home["notes"])


def test_corpus_diff_lists_agencies_unique_to_each_plan(corpus_diff):
    only = corpus_diff["agencies_only_in"]
    assert "Bộ Chỉ huy Quân sự tỉnh" in only[CB]
    assert "Thanh tra tỉnh" in only[TN]
    assert any("Văn phòng đại diện" in n for n in only[DL])
    shared_names = {a["name"] for a in corpus_diff["agencies"] if len(a["plans"]) == 3}
    assert {"Sở Y tế", "Sở Nội vụ", "Sở Công Thương"} <= shared_names


def test_corpus_diff_shows_the_targets_dak_lak_adds(corpus_diff):
    added = [t["by_plan"][DL] for t in corpus_diff["targets"] if t["plans"] == [DL]]
    assert sorted((t["value"], t["unit"]) for t in added) == [(30, "doanh nghiệp/năm"), (100, "%"), (100, "%")]
    assert any("doanh nghiệp nhỏ và vừa" in t["indicator"] for t in added)
    assert any("điều trị" in t["indicator"] for t in added)
    assert any("điều tra" in t["indicator"] for t in added)
    common = [t for t in corpus_diff["targets"] if len(t["plans"]) == 3]
    assert len(common) == 3


def test_corpus_diff_health_department_shares_the_copied_duty(corpus_diff):
    health = next(a for a in corpus_diff["agencies"] if a["key"] == "so_y_te")
    pairs = [{t["plan"]: t["section"] for t in g["tasks"]} for g in health["tasks"] if len(g["plans"]) > 1]
    assert any(p.get(CB) == "V.3" and p.get(DL) == "V.2.a" for p in pairs)


# --- a number the corpus resolved ----------------------------------------------------------------


def test_a_blank_number_the_corpus_resolved_is_shown_marked_as_resolved(three_plans):
    three_plans[0].metadata.symbol = None  # Cao Bằng 664: "Số:" blank, no symbol either
    blank = to_markdown(diff_documents(three_plans))
    assert "| cb | UBND tỉnh Cao Bằng | 2025-03-10 | (blank) |" in blank and "(blank)/ |" not in blank
    diff = diff_documents(three_plans, {"cb": "664/KH-UBND"})
    assert schema_errors(diff, "diff") == []
    assert [p["resolved_number"] for p in diff["plans"]] == ["664/KH-UBND", None, None]
    md = to_markdown(diff)
    assert "| cb | UBND tỉnh Cao Bằng | 2025-03-10 | 664/KH-UBND (resolved) |" in md
    assert "(resolved): the document's own number is blank" in md
    assert "# Plan diff: Cao Bằng 664/KH-UBND 2025-03-10 · Thái Nguyên …/KH-UBND 2025-11" in md
    html = to_html(diff)
    assert re.search(r"<td>664/KH-UBND <span class=\"badge resolved\"[^>]*>resolved</span></td>", html)
    # a number of its own is never replaced
    three_plans[0].metadata.number, three_plans[0].metadata.symbol = "12", "KH-UBND"
    own = diff_documents(three_plans, {"cb": "664/KH-UBND"})
    assert own["plans"][0]["resolved_number"] is None and "| 12/KH-UBND |" in to_markdown(own)


def test_cli_diff_of_run_ids_reads_the_resolved_number_from_links_json(tmp_path, three_plans):
    for doc in three_plans:
        (tmp_path / f"{doc.id}.json").write_text(json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
    links = {"documents": [{"id": "cb", "number": None, "recognised_as": "664/KH-UBND"}],
             "external": [], "edges": [], "chains": []}
    (tmp_path / "links.json").write_text(json.dumps(links), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "diff", "cb", "tn", "--run", str(tmp_path)],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "664/KH-UBND (resolved)" in out.stdout and "(blank)/ |" not in out.stdout
    # the same plan given as a JSON file of that run: the same; parsed from text: no corpus, no number
    by_file = subprocess.run([sys.executable, "-m", "pipeline.cli", "diff", str(tmp_path / "cb.json"), "tn",
                              "--run", str(tmp_path), "--format", "json"], capture_output=True, text=True, cwd=REPO)
    assert json.loads(by_file.stdout)["plans"][0]["resolved_number"] == "664/KH-UBND"


def test_markdown_counts_agree_with_their_nouns(three_plans):
    three_plans[1].assignments = three_plans[1].assignments[:1]  # Thái Nguyên keeps only Sở Nội vụ
    md = to_markdown(diff_documents(three_plans[:2]))
    assert "1 agency appears in more than one plan." in md


# --- reading documents through the model --------------------------------------------------------


def test_a_run_is_read_as_typed_documents(tmp_path, three_plans):
    for doc in three_plans:
        (tmp_path / f"{doc.id}.json").write_text(json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
    (tmp_path / "links.json").write_text(json.dumps({"documents": [], "edges": []}), encoding="utf-8")
    run = read_run(tmp_path)
    assert [doc.id for doc in run] == ["cb", "dl", "tn"]  # links.json is no document
    assert all(isinstance(doc, Document) for doc in run)
    assert [doc.to_dict() for doc in run] == [doc.to_dict() for doc in sorted(three_plans, key=lambda plan: plan.id)]
    dak_lak = read_document("dl", tmp_path)
    assert dak_lak.metadata.province == "Đắk Lắk" and dak_lak.assignments[0].agency_id is None
    with pytest.raises(ValueError, match="not a document JSON"):
        read_document(tmp_path / "links.json")


def test_a_document_read_back_from_its_json_diffs_the_same(three_plans):
    """The corpus reads a run's documents through the model: a plan written to JSON and read back
    with Document.from_dict gives the same diff as the plan itself."""
    from pipeline.model import Document

    assert diff_documents([Document.from_dict(doc.to_dict()) for doc in three_plans]) == diff_documents(three_plans)
