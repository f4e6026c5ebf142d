"""Targets, results and deadlines on short real passages of the corpus (and the formats files)."""
import os
import re
from pathlib import Path

import pytest

from pipeline.stages.measures import _kp, _rules, extract_measures, find_deadlines, parse_number
from pipeline.model import Document, SourceInfo
from pipeline.stages.outline import extract_outline
from pipeline.rules import load
from pipeline.textkeys import match_key

RULES = load("measures")
FORMATS = Path(os.environ.get("VANBAN_FORMATS", Path(__file__).resolve().parents[1] / ".." / "shared" / "formats"))


def _doc(text: str, doc_type: str | None = None, outline: bool = False) -> Document:
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text=text)
    doc.metadata.doc_type = doc_type
    if outline:
        extract_outline(doc)
    extract_measures(doc)
    return doc


def _spans_are_verbatim(items) -> None:
    for it in items:
        assert it.text == DOC_TEXT[0][it.span.start:it.span.end]


DOC_TEXT: list[str] = [""]


def _run(text: str, **kw) -> Document:
    DOC_TEXT[0] = text
    return _doc(text, **kw)


# ---------------------------------------------------------------- rules examples

def _search(pattern: str, example: str) -> bool:
    return re.search(_kp(pattern), match_key(example)) is not None


@pytest.mark.parametrize("path", [
    ("indicator_heads",), ("target_lead",), ("per_year_scope",), ("per_year_suffix",), ("horizon",),
    ("context_openers",), ("threshold",), ("deadlines", "past_marker"), ("deadlines", "completion_before"),
    ("deadlines", "issued_every"), ("deadlines", "time_label_before"), ("deadlines", "task_column"),
    ("deadlines", "lead_column"), ("deadlines", "subject_start"), ("deadlines", "subject_end"),
    ("deadlines", "action_start"), ("change",),
])
def test_every_rule_example_matches(path):
    entry = RULES
    for p in path:
        entry = entry[p]
    pattern = entry["pattern"]
    for example in entry["examples"]:
        assert _search(pattern, example), (path, example)


def test_number_examples_parse_to_their_values():
    for written, value in RULES["number"]["examples"].items():
        assert re.fullmatch(RULES["number"]["pattern"], written)
        assert parse_number(written) == value


def test_unit_examples_are_read_as_quantities():
    for example in RULES["units"]["examples"]:
        assert _rules().result_qty.search(match_key(example)), example


def test_direction_examples():
    for passage, direction in RULES["direction_examples"]:
        doc = _run("II. MỤC TIÊU CỤ THỂ\n" + passage + "\nIII. NHIỆM VỤ")
        assert [t.direction for t in doc.targets] == [direction], passage


# ---------------------------------------------------------------- targets

CAO_BANG_TARGETS = (
    "II. MỤC TIÊU CỤ THỂ\n"
    "Phấn đấu giảm tai nạn lao động, nhất là tai nạn lao động nghiêm trọng, tỷ lệ tai nạn lao động chết "
    "người giảm ít nhất 4%/năm; số người lao động làm việc trong môi trường tiếp xúc với các yếu tố có nguy "
    "cơ được khám, phát hiện BNN tăng ít nhất 5%/năm; số cơ sở phát sinh yếu tố có hại được quan trắc môi "
    "trường lao động tăng ít nhất 5%/năm.\n"
    "III. NHIỆM VỤ, GIẢI PHÁP\n"
    "1. Tăng cường sự lãnh đạo, chỉ đạo của các cấp ủy đảng.\n"
)


@pytest.mark.parametrize("outline", [False, True])
def test_indicator_before_the_verb(outline):
    doc = _run(CAO_BANG_TARGETS, outline=outline)
    got = [(t.indicator, t.direction, t.value, t.unit, t.qualifier, t.period) for t in doc.targets]
    assert got == [
        ("tỷ lệ tai nạn lao động chết người", "decrease", 4, "%/năm", "at_least", "yearly"),
        ("số người lao động làm việc trong môi trường tiếp xúc với các yếu tố có nguy cơ được khám, "
         "phát hiện BNN", "increase", 5, "%/năm", "at_least", "yearly"),
        ("số cơ sở phát sinh yếu tố có hại được quan trắc môi trường lao động", "increase", 5, "%/năm",
         "at_least", "yearly"),
    ]
    _spans_are_verbatim(doc.targets)
    assert doc.targets[0].text == "tỷ lệ tai nạn lao động chết người giảm ít nhất 4%/năm"


DAK_LAK_TARGETS = (
    "II. MỤC TIÊU CỤ THỂ\n"
    "1. Phấn đấu trung bình hằng năm: Giảm 4% tần suất tai nạn lao động chết người; Tăng thêm 5% số người "
    "lao động được khám bệnh nghề nghiệp, 5% số cơ sở được quan trắc môi trường lao động; Tăng thêm 30 "
    "doanh nghiệp nhỏ và vừa áp dụng hiệu quả hệ thống quản lý công tác an toàn - vệ sinh lao động;\n"
    "2. 100% người lao động đã xác nhận bị TNLĐ và BNN được điều trị, chăm sóc sức khoẻ và phục hồi chức "
    "năng; 100% các vụ TNLĐ chết người được điều tra, xử lý.\n"
    "III. KINH PHÍ THỰC HIỆN\n"
)


def test_verb_first_shared_verb_counts_and_levels_to_reach():
    doc = _run(DAK_LAK_TARGETS, outline=True)
    got = [(t.direction, t.value, t.unit, t.indicator) for t in doc.targets]
    assert got == [
        ("decrease", 4, "%/năm", "tần suất tai nạn lao động chết người"),
        ("increase", 5, "%/năm", "số người lao động được khám bệnh nghề nghiệp"),
        ("increase", 5, "%/năm", "số cơ sở được quan trắc môi trường lao động"),  # shares "Tăng thêm"
        ("increase", 30, "doanh nghiệp/năm",
         "doanh nghiệp nhỏ và vừa áp dụng hiệu quả hệ thống quản lý công tác an toàn - vệ sinh lao động"),
        ("reach", 100, "%", "người lao động đã xác nhận bị TNLĐ và BNN được điều trị, chăm sóc sức khoẻ và "
                            "phục hồi chức năng"),
        ("reach", 100, "%", "các vụ TNLĐ chết người được điều tra, xử lý"),
    ]
    _spans_are_verbatim(doc.targets)


def test_typo_phan_dau_is_read_as_phan_dau():
    doc = _run("II. MỤC TIÊU CỤ THỂ\n2. Phần đầu số người lao động làm việc trong môi trường tiếp xúc với các "
               "yếu tố có nguy cơ được khám, phát hiện bệnh nghề nghiệp tăng ít nhất 5%/năm;\nIII. NHIỆM VỤ")
    [t] = doc.targets
    assert t.indicator.startswith("số người lao động") and t.direction == "increase" and t.value == 5


def test_verb_then_indicator_then_value():
    doc = _run("II. MỤC TIÊU\nGiảm tần suất tai nạn lao động chết người ít nhất 4%/năm.\nIII. NHIỆM VỤ")
    [t] = doc.targets
    assert (t.indicator, t.direction, t.value, t.qualifier) == (
        "tần suất tai nạn lao động chết người", "decrease", 4, "at_least")


def test_no_targets_outside_the_target_section_nor_in_reports():
    plan = _run("I. MỤC ĐÍCH, YÊU CẦU\n- Chủ trì, phối hợp thực hiện điều tra tai nạn lao động chết người hoặc "
                "bị thương nặng từ 02 người trở lên; tăng 5% kinh phí.\n" + CAO_BANG_TARGETS)
    assert [t.value for t in plan.targets] == [4, 5, 5]
    report = _run("BÁO CÁO\nKết quả thực hiện\n" + CAO_BANG_TARGETS, doc_type="bao_cao")
    assert report.targets == []


# ---------------------------------------------------------------- results

REPORT = (
    "Số: /BC-UBND\nCao Bằng, ngày tháng 12 năm 2025\nBÁO CÁO\n"
    "Kết quả thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ\n"
    "I. TÌNH HÌNH TRIỂN KHAI THỰC HIỆN\n"
    "Các hoạt động trọng tâm gồm: tổ chức treo băng rôn tuyên truyền trên các tuyến đường trung tâm; thăm hỏi, "
    "tặng quà cho 04 người lao động bị tai nạn lao động; tổ chức 09 hội nghị tuyên truyền, phổ biến pháp luật "
    "với 564 người tham dự.\n"
    "Công tác bảo đảm an toàn về PCCC và cứu nạn, cứu hộ (CNCH) được thực hiện nghiêm túc; đã tiến hành kiểm "
    "tra 841 cơ sở, xử lý 21 trường hợp vi phạm hành chính với số tiền 21,4 triệu đồng.\n"
    "Trong năm, các cơ quan, đơn vị, doanh nghiệp đã tổ chức khám sức khỏe định kỳ cho 3.997 lượt cán bộ, "
    "công chức và người lao động; có 27 đơn vị, doanh nghiệp tổ chức khám phát hiện bệnh nghề nghiệp cho 707 "
    "người. Đồng thời, công tác quan trắc môi trường lao động được thực hiện tại 40 cơ sở lao động với tổng số "
    "hơn 5.000 mẫu quan trắc.\n"
    "- Số người chết do tai nạn lao động: 02 người (*tăng 01 người so với năm 2024*).\n"
    "- Chủ trì, phối hợp thực hiện điều tra tai nạn lao động chết người hoặc bị thương nặng từ 02 người trở lên.\n"
    "III. KIẾN NGHỊ, ĐỀ XUẤT\n"
    "Đề nghị Bộ Nội vụ thường xuyên tổ chức 02 lớp tập huấn.\n"
    "Nơi nhận:\n- Như trên;\n"
)


@pytest.fixture(scope="module")
def report():
    DOC_TEXT[0] = REPORT
    return _doc(REPORT, doc_type="bao_cao")


def test_report_values_and_units(report):
    got = [(r.value, r.unit) for r in report.results]
    assert got == [
        (4, "người"), (9, "hội nghị"), (564, "người"), (841, "cơ sở"), (21, "trường hợp"),
        (21.4, "triệu đồng"), (3997, "lượt"), (27, "đơn vị, doanh nghiệp"), (707, "người"),
        (40, "cơ sở"), (5000, "mẫu"), (2, "người"),
    ]
    # Not results: dates, years, document numbers, the change "01 người", the threshold
    # "từ 02 người trở lên", and figures in the proposals section.
    for r in report.results:
        assert r.text == REPORT[r.span.start:r.span.end]


def test_report_indicators_read_like_the_counted_phrase(report):
    by_value = {r.value: r.indicator for r in report.results}
    assert by_value[4] == "số người lao động bị tai nạn lao động được thăm hỏi, tặng quà"
    assert by_value[564] == "số người tham dự hội nghị tuyên truyền, phổ biến pháp luật"
    assert by_value[841] == "số cơ sở được kiểm tra"
    assert by_value[21.4] == "số tiền xử lý trường hợp vi phạm hành chính"
    assert by_value[3997] == ("số lượt cán bộ, công chức và người lao động được tổ chức khám sức khỏe "
                              "định kỳ")
    assert by_value[707] == "số người được tổ chức khám phát hiện bệnh nghề nghiệp"
    assert by_value[40] == "số cơ sở lao động được quan trắc môi trường lao động"
    assert by_value[2] == "Số người chết do tai nạn lao động"


def test_change_against_a_year(report):
    last = report.results[-1]
    assert (last.value, last.change, last.compared_to) == (2, 1, "2024")
    assert last.text.endswith("(*tăng 01 người so với năm 2024*)")
    doc = _doc("BÁO CÁO\n- Số vụ tai nạn lao động: 05 vụ (giảm 02 vụ so với năm 2024).", doc_type="bao_cao")
    assert [(r.value, r.change) for r in doc.results] == [(5, -2)]


def test_plans_have_no_results():
    assert _run(DAK_LAK_TARGETS).results == []


@pytest.mark.skipif(not (FORMATS / "lao-cai_bao-cao_vlncn-2025.docx").exists(),
                    reason="third-party formats folder not found (set VANBAN_FORMATS)")
def test_labelled_figures_of_a_docx_report():
    from pipeline import parse_file

    doc = parse_file(FORMATS / "lao-cai_bao-cao_vlncn-2025.docx")
    got = {(r.indicator, r.value, r.unit) for r in doc.results}
    assert ("Dây nổ", 429095, "mét") in got
    assert ("Số lượng tổ chức có kho", 50, "tổ chức") in got
    assert ("số tiền xử phạt", 40000000, "đồng") in got
    assert all(r.value != 2024 and r.value != 2025 for r in doc.results)


# ---------------------------------------------------------------- deadlines

def test_two_dates_in_one_sentence_and_a_half_year_period():
    line = ("1. Các Sở, Ban ngành, đoàn thể tỉnh, UBND các huyện, thành phố, các cơ quan, đơn vị liên quan tổng "
            "hợp, báo cáo tình hình triển khai thực hiện các nhiệm vụ được giao tại Kế hoạch về Sở Nội vụ định kỳ "
            "6 tháng đầu năm (trước ngày 15 tháng 6 hằng năm), cả năm (trước ngày 15 tháng 12 hằng năm).")
    hits = find_deadlines(line, offset=1000)
    assert [(h.text, h.date, h.recurrence) for h in hits] == [
        ("định kỳ 6 tháng đầu năm (trước ngày 15 tháng 6 hằng năm)", "--06-15", "half_yearly"),
        ("trước ngày 15 tháng 12 hằng năm", "--12-15", "yearly"),
    ]
    assert all(line[h.start - 1000:h.end - 1000] == h.text for h in hits)
    doc = _run("VI. CHẾ ĐỘ THÔNG TIN BÁO CÁO\n" + line)
    assert {d.who for d in doc.deadlines} == {
        "Các Sở, Ban ngành, đoàn thể tỉnh, UBND các huyện, thành phố, các cơ quan, đơn vị liên quan"}
    assert all(d.what.startswith("tổng hợp, báo cáo tình hình") for d in doc.deadlines)


def test_recurrence_or_ad_hoc_takes_who_from_the_agency_heading():
    text = ("V. TỔ CHỨC THỰC HIỆN\n2. Sở Nội vụ\n- Chủ trì, phối hợp với các Sở, Ban, ngành tổ chức triển khai "
            "thực hiện Kế hoạch.\n- Định kỳ hằng năm hoặc đột xuất tổng hợp, báo cáo UBND tỉnh, Bộ Nội vụ về tình "
            "hình, kết quả thực hiện Kế hoạch.\n3. Sở Y tế\n")
    for outline in (False, True):
        doc = _run(text, outline=outline)
        [d] = doc.deadlines
        assert (d.text, d.date, d.recurrence, d.who) == (
            "Định kỳ hằng năm hoặc đột xuất", None, "yearly", "Sở Nội vụ")
        assert d.what == "tổng hợp, báo cáo UBND tỉnh, Bộ Nội vụ về tình hình, kết quả thực hiện Kế hoạch"


def test_date_in_brackets_joins_its_recurrence_and_who_follows():
    text = ("2. Định kỳ hằng năm (trước ngày 15/12), các sở, ban, ngành, đơn vị, địa phương được phân công nhiệm "
            "vụ tại Kế hoạch này có trách nhiệm báo cáo kết quả triển khai thực hiện về Sở Lao động - Thương binh "
            "và Xã hội để tổng hợp.")
    [d] = _run(text).deadlines
    assert (d.text, d.date, d.recurrence) == ("Định kỳ hằng năm (trước ngày 15/12)", "--12-15", "yearly")
    assert d.who == "các sở, ban, ngành, đơn vị, địa phương"
    assert d.what.startswith("báo cáo kết quả triển khai thực hiện")


def test_bold_date_and_subject_in_an_earlier_clause():
    text = ("Trên đây là Kế hoạch; các sở, ban, ngành, cơ quan, đơn vị, địa phương căn cứ chức năng nhiệm vụ, "
            "chủ động xây dựng kế hoạch triển khai thực hiện; định kỳ hằng năm (**trước ngày 10/12**) hoặc đột "
            "xuất, báo cáo kết quả thực hiện gửi Sở Nội vụ để tổng hợp, báo cáo UBND tỉnh theo quy định.")
    [d] = _run(text).deadlines
    assert d.text == "định kỳ hằng năm (**trước ngày 10/12**) hoặc đột xuất"
    assert (d.date, d.who) == ("--12-10", "các sở, ban, ngành, cơ quan, đơn vị, địa phương")
    assert d.what.startswith("báo cáo kết quả thực hiện gửi Sở Nội vụ")


def test_full_date_once_with_who_from_the_numbered_item():
    text = ("1. Các Sở, Ban ngành, đoàn thể tỉnh, UBND các xã, phường căn cứ chức năng, nhiệm vụ, địa bàn quản "
            "lý:\n- Tiếp tục triển khai thực hiện có hiệu quả các nội dung hoạt động. Báo cáo kết quả thực hiện "
            "trước ngày 15/12/2025 về Sở Nội vụ để tổng hợp, báo cáo UBND tỉnh và Bộ Nội vụ theo quy định.\n"
            "2. Sở Nội vụ:\n")
    [d] = _run(text).deadlines
    assert (d.text, d.date, d.recurrence) == ("trước ngày 15/12/2025", "2025-12-15", "once")
    assert d.who == "Các Sở, Ban ngành, đoàn thể tỉnh, UBND các xã, phường"
    assert d.what == "Báo cáo kết quả thực hiện"


@pytest.mark.parametrize("text", [
    "- Định kỳ triển khai tổ chức kiểm tra việc chấp hành các quy định của pháp luật về vệ sinh lao động.",
    "- Thực hiện nghiêm chế độ báo cáo định kỳ, báo cáo đột xuất về công tác an toàn, vệ sinh lao động.",
    "Thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ.",
    "Định kỳ sơ kết, tổng kết công tác phối hợp.",
    "Trong tháng 3/2025, UBND tỉnh đã ban hành Kế hoạch thực hiện.",
    # a start alone, a horizon, a budget line, an adverb
    "Thực hiện báo cáo hằng tháng, bắt đầu từ tháng 01/2026 theo mẫu.".replace("báo cáo hằng tháng", "báo cáo"),
    "Phấn đấu đến năm 2030, tỷ lệ lao động qua đào tạo đạt 70%.",
    "Ngân sách nhà nước bố trí trong dự toán chi thường xuyên hằng năm cho các đơn vị.",
    "- Thường xuyên kiểm tra, giám sát các cơ sở sản xuất.",
    "- Tăng cường lực lượng bảo vệ kho bảo quản VLNCN 24/24h.",
    "Thực hiện nghiêm chế độ báo cáo định kỳ, đột xuất theo quy định.",
    # descriptive text of a report or a regulation: no task goes with the time words
    "Mỗi năm, lượng mưa trung bình trên địa bàn đạt 1.800 mm.",
    "Lũ quét xảy ra trung bình 5 lần/năm tại các xã vùng cao.",
    "Phấn đấu hoàn thành các mục tiêu, góp phần đạt chỉ số tăng bình quân 12%/năm trong giai đoạn 2026-2030.",
    # a condition on a past state
    "Nhà xưởng, kho chứa hóa chất nguy hiểm đã được đưa vào hoạt động trước ngày 15 tháng 4 năm 2025.",
    "Dự án đã đi vào vận hành trước ngày 01/7/2025 thì áp dụng quy định cũ.",
    "Thời gian huấn luyện: Tối thiểu 16 giờ đối với người quản lý.",
])
def test_not_deadlines(text):
    assert find_deadlines(text) == []


def test_month_and_monthly_bounds():
    [h] = find_deadlines("Các đơn vị gửi báo cáo về Sở Nội vụ trước ngày 20 hằng tháng.")
    assert (h.date, h.recurrence) == ("---20", "monthly")
    [h] = find_deadlines("Hoàn thành việc rà soát trong tháng 12/2025.")
    assert (h.date, h.recurrence) == ("2025-12", "once")


def test_report_tables_give_one_result_per_figure(tmp_path):
    import docx

    from pipeline import parse_file

    d = docx.Document()
    for line in ["ỦY BAN NHÂN DÂN", "TỈNH LÀO CAI", "Số: /BC-UBND", "BÁO CÁO",
                 "Tình hình hoạt động vật liệu nổ công nghiệp năm 2025",
                 "1. Tình hình quản lý, sử dụng", "a) Số lượng tổ chức hoạt động"]:
        d.add_paragraph(line)
    rows = [["TT", "Loại hình hoạt động", "Số lượng tổ chức", "Số lượng Giấy phép", "Cơ quan cấp phép", ""],
            ["", "", "", "", "Bộ Công Thương", "UBND tỉnh"],
            ["1", "Thi công công trình", "21", "21", "0", "21"],
            ["2", "Dịch vụ nổ mìn", "6", "06", "5", "1"]]
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value:
                table.cell(i, j).text = value
    table.cell(0, 4).merge(table.cell(0, 5))
    d.add_paragraph("2. Đánh giá chung")
    path = tmp_path / "bao-cao.docx"
    d.save(path)
    doc = parse_file(path)
    got = [(r.indicator, r.value, r.unit) for r in doc.results]
    assert ("Số lượng tổ chức (Thi công công trình)", 21, "tổ chức") in got
    assert ("Số lượng Giấy phép (Dịch vụ nổ mìn)", 6, "Giấy phép") in got
    assert ("Cơ quan cấp phép - Bộ Công Thương (Dịch vụ nổ mìn)", 5, None) in got
    assert not any(r.value == 0 for r in doc.results)  # an empty category is no result
    assert all(doc.text[r.span.start:r.span.end] == r.text for r in doc.results)


def test_a_deadline_stated_in_a_recounted_request_is_still_listed():
    # The gold lists "trước ngày 05/02/2026" of lao-cai_cong-van_3686 for Cục Đăng kiểm: a date
    # bound is a deadline even when the clause recounts who asked for it.
    past = "Bộ Công an đã có Văn bản đề nghị Cục Đăng kiểm ban hành hướng dẫn trước ngày 05/02/2026, nhưng đến nay chưa ban hành."
    assert [h.text for h in find_deadlines(past)] == ["trước ngày 05/02/2026"]
    assigned = "Các sở, ngành đã được giao nhiệm vụ báo cáo kết quả trước ngày 15/12/2025."
    assert [h.text for h in find_deadlines(assigned)] == ["trước ngày 15/12/2025"]


@pytest.mark.parametrize("text, expected", [
    # a recurrence that opens its clause is the task's time frame (lao-cai 5973, chi-thi-11; variants)
    ("- Hàng năm tổng hợp, đánh giá tình hình vi phạm và tham mưu, đề xuất Chủ tịch UBND tỉnh các giải pháp.",
     [("Hàng năm", None, "yearly")]),
    ("- Tăng cường công tác thanh tra. Hàng năm, chủ động xây dựng kế hoạch và tổ chức thực hiện tốt các cuộc thanh tra.",
     [("Hàng năm", None, "yearly")]),
    ("b) Hằng quý, Sở Công Thương tổng hợp tình hình gửi UBND tỉnh.", [("Hằng quý", None, "quarterly")]),
    ("- Hàng quý, hàng năm thực hiện chế độ, thời hạn, nội dung báo cáo đúng theo quy định.",
     [("Hàng quý, hàng năm", None, "quarterly")]),
    # a recurrence after the document a clause issues
    ("- Chủ trì, phối hợp với các Sở, ban, ngành xây dựng kế hoạch thanh tra hàng năm theo hướng có trọng tâm.",
     [("hàng năm", None, "yearly")]),
    ("- Tham mưu UBND tỉnh ban hành bảng giá tính thuế tài nguyên trên địa bàn tỉnh hàng năm theo quy định.",
     [("hàng năm", None, "yearly")]),
    # "định kỳ" with no period, and with a list of periods
    ("b) Định kỳ hoặc đột xuất tổng hợp, báo cáo Ủy ban nhân dân tỉnh, Bộ Tài chính.",
     [("Định kỳ hoặc đột xuất", None, "periodic")]),
    ("Định kỳ 6 tháng, hàng năm, giữa nhiệm kỳ, Sở Công Thương tổ chức sơ kết, đánh giá kết quả thực hiện.",
     [("Định kỳ 6 tháng, hàng năm, giữa nhiệm kỳ", None, "half_yearly")]),
    # completion within a period; the verb's short object is part of the deadline
    ("- UBND phường Yên Bái xây dựng phương án di dời, hoàn thành phê duyệt phương án trong năm 2026.",
     [("hoàn thành phê duyệt phương án trong năm 2026", "2026", "once")]),
    ("- Xử lý dứt điểm việc khai thác cát, sỏi bằng tàu cuốc xong trong quý II/2026.",
     [("xong trong quý II/2026", "2026-Q2", "once")]),
    ("dự kiến hoàn thành xong trong quý 2/2026.", [("xong trong quý 2/2026", "2026-Q2", "once")]),
    ("UBND tỉnh đã giao Sở Nông nghiệp và Môi trường chủ trì rà soát, tham mưu điều chỉnh, hoàn thành trong tháng 5/2026.",
     [("hoàn thành trong tháng 5/2026", "2026-05", "once")]),
    ("hoàn thành chậm nhất đến ngày 01 tháng 7 năm 2028 theo yêu cầu của Bộ Xây dựng.",
     [("chậm nhất đến ngày 01 tháng 7 năm 2028", "2028-07-01", "once")]),
    # relative limits
    ("h) Tổ chức, doanh nghiệp phải thông báo bằng văn bản đến UBND tỉnh ít nhất 10 ngày, thông báo cho UBND "
     "cấp xã nơi thực hiện nổ mìn trước 24h trước khi sử dụng theo quy định.",
     [("ít nhất 10 ngày", None, None), ("trước 24h trước khi sử dụng", None, None)]),
    ("3. Thời hạn kiểm tra: Kể từ ngày công bố Quyết định này. Thời hạn kiểm tra không quá 10 ngày làm việc.",
     [("không quá 10 ngày làm việc", None, None)]),
    ("- Định kỳ kiểm tra an toàn kho 01 lần/tháng.", [("01 lần/tháng", None, "monthly")]),
    # a recurrence with its start: the recurrence is the deadline, the start is not
    ("- Duy trì chế độ giao ban trực tuyến hằng tháng, bắt đầu từ tháng 01/2026.", [("hằng tháng", None, "monthly")]),
    ("- Các xã cập nhật dữ liệu lên hệ thống mỗi quý, kể từ quý II/2026.", [("mỗi quý", None, "quarterly")]),
    ("- Duy trì chế độ giao ban trực tuyến bắt đầu từ tháng 01/2026.", []),
    ("6. Báo cáo kết quả kiểm tra cho Giám đốc Sở sau khi kết thúc đợt kiểm tra.",
     [("sau khi kết thúc đợt kiểm tra", None, None)]),
    # a time after a "Thời gian …:" label
    ("1. Thời gian kiểm tra: 13h30’ ngày 29/4/2026 (Thứ Tư).", [("13h30’ ngày 29/4/2026", "2026-04-29T13:30", "once")]),
    ("- Thời gian tổ chức: 08 giờ 00 ngày 15/5/2026.", [("08 giờ 00 ngày 15/5/2026", "2026-05-15T08:00", "once")]),
])
def test_deadline_constructions(text, expected):
    hits = find_deadlines(text)
    assert [(h.text, h.date, h.recurrence) for h in hits] == expected
    assert all(text[h.start:h.end] == h.text for h in hits)


def test_relative_limits_carry_their_duration_into_the_deadline_list():
    text = ("h) Tổ chức, doanh nghiệp phải thông báo bằng văn bản đến UBND tỉnh ít nhất 10 ngày, thông báo cho UBND "
            "cấp xã nơi thực hiện nổ mìn trước 24h trước khi sử dụng theo quy định.")
    doc = _run(text)
    assert [(d.text, d.relative) for d in doc.deadlines] == [
        ("ít nhất 10 ngày", "P10D"), ("trước 24h trước khi sử dụng", "PT24H")]
    assert all(d.who == "Tổ chức, doanh nghiệp" for d in doc.deadlines)


def test_heading_time_frame_is_a_deadline_of_its_section_and_a_past_period_is_not():
    text = ("KẾ HOẠCH\nI. NHIỆM VỤ TRỌNG TÂM TRONG THÁNG 12/2025\n1. Rà soát các cơ sở.\n"
            "II. KẾT QUẢ THỰC HIỆN TRONG NĂM 2024\n1. Đã kiểm tra 05 cơ sở.\n")
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text=text)
    doc.metadata.date = "2025-11-20"
    extract_outline(doc)
    extract_measures(doc)
    assert [(d.text, d.date, d.who) for d in doc.deadlines] == [("TRONG THÁNG 12/2025", "2025-12", None)]


def test_time_column_of_a_task_table(tmp_path):
    import docx

    from pipeline import parse_file

    d = docx.Document()
    for line in ["ỦY BAN NHÂN DÂN", "TỈNH LÀO CAI", "Số: /KH-UBND", "KẾ HOẠCH", "Thực hiện Chỉ thị",
                 "I. NHIỆM VỤ"]:
        d.add_paragraph(line)
    rows = [["TT", "Tên nhiệm vụ", "Sở, ngành chủ trì", "Đơn vị phối hợp", "Thời gian thực hiện"],
            ["1", "Tổ chức quán triệt Chỉ thị đến cán bộ, công chức", "Sở Nội vụ", "Các sở", "Xong trong Quý II/2026"],
            ["2", "Tham mưu trình kế hoạch đấu giá quyền khai thác khoáng sản", "Sở Tài chính", "Các sở", "Hàng năm"],
            ["3", "Kiểm tra các bến thủy nội địa", "Sở Xây dựng", "Các sở", "Thường xuyên"],
            ["4", "Lắp đặt hệ thống giám sát", "Sở Công Thương", "", "Hoàn thành xong trước ngày 01/01/2030"]]
    table = d.add_table(rows=len(rows), cols=len(rows[0]))
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    path = tmp_path / "ke-hoach.docx"
    d.save(path)
    doc = parse_file(path)
    got = [(x.text, x.date, x.recurrence, x.who) for x in doc.deadlines]
    assert got == [("Xong trong Quý II/2026", "2026-Q2", "once", "Sở Nội vụ"),
                   ("Hàng năm", None, "yearly", "Sở Tài chính"),
                   ("Hoàn thành xong trước ngày 01/01/2030", "2030-01-01", "once", "Sở Công Thương")]
    assert doc.deadlines[0].what.startswith("Tổ chức quán triệt Chỉ thị")


# ---------------------------------------------------------------- targets outside "Mục tiêu"

@pytest.mark.parametrize("line, expected", [
    # a count whose unit no list holds, a verb of creating, "nâng tổng số lên" a level
    ("- Hình thành mới 05 Khu công nghiệp, nâng tổng số lên 12 KCN; tỷ lệ lấp đầy bình quân đạt trên 80%.",
     [("increase", 5), ("reach", 12), ("reach", 80)]),
    ("- Thành lập mới 03 Cụm công nghiệp, nâng tổng số lên 20 CCN.", [("increase", 3), ("reach", 20)]),
    # a direction verb, then "bình quân", then the value
    ("- Chỉ số sản xuất công nghiệp tăng bình quân 12%/năm.", [("increase", 12)]),
    ("- Giá trị xuất khẩu tăng trung bình 8%/năm.", [("increase", 8)]),
    # a count that opens the item is a level to reach; counts in brackets only detail it
    ("- 01 Khu công nghiệp đạt tiêu chuẩn KCN sinh thái (KCN Tằng Loỏng).", [("reach", 1)]),
    ("- Hoàn thành đưa vào vận hành các dự án với tổng công suất bổ sung khoảng 2.989,5 MW, nâng tổng công suất "
     "toàn tỉnh lên 4.758,5 MW (gồm 166 dự án thủy điện; 02 dự án điện sinh khối).",
     [("increase", 2989.5), ("reach", 4758.5)]),
    # the indicator before the verb, a range of values, a year before the verb
    ("Tiếp tục phát triển; phấn đấu tỷ trọng ngành Công nghiệp trong GRDP đến năm 2030 đạt 33,59%.", [("reach", 33.59)]),
    ("- Tỷ lệ lấp đầy các cụm công nghiệp đạt 60-70%.", [("reach", 60)]),
    # a part of a text or a clock time is no count
    ("- Thực hiện theo 19 Mục A Phụ lục; kiểm tra lúc 13h30’ ngày 29/4/2026; tối thiểu 75% vốn điều lệ.",
     [("reach", 75)]),
])
def test_target_constructions_in_a_target_section(line, expected):
    doc = _run("II. MỤC TIÊU\n" + line + "\nIII. NHIỆM VỤ\n")
    assert [(t.direction, t.value) for t in doc.targets] == expected
    _spans_are_verbatim(doc.targets)


def test_targets_in_item_headings_of_the_content_section_and_bounded_lines():
    text = ("I. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\nTriển khai có hiệu quả.\nII. NỘI DUNG\n"
            "1. Thành lập mới khoảng trên 500ha các khu, cụm công nghiệp:\n- Sở Công Thương chủ trì.\n"
            "2. Hoàn thành di dời 01 khu công nghiệp (Đông Phố Mới) và 02 cụm công nghiệp.\n"
            "3. Tỷ lệ các khu công nghiệp có công trình xử lý nước thải tập trung đạt chuẩn 100%.\n"
            "UBND phường di dời trên 400 hộ dân theo lộ trình.\n"
            "III. GIẢI PHÁP THỰC HIỆN\n- Đẩy mạnh cải cách thủ tục hành chính. Rà soát cắt giảm ít nhất 30% thủ tục "
            "hành chính không phù hợp; số hóa 100% dịch vụ công.\n"
            "- Công ty Cổ phần Đầu tư xây dựng 02 nhà máy.\n"
            "IV. KINH PHÍ\n1. Vốn ngân sách nhà nước: 1.280 tỷ đồng\n")
    doc = _run(text, outline=True)
    assert [(t.direction, t.value) for t in doc.targets] == [
        ("increase", 500), ("reach", 1), ("reach", 2), ("reach", 100), ("decrease", 30), ("reach", 100)]
    _spans_are_verbatim(doc.targets)


# ---------------------------------------------------------------- results by construction

def _report(body: str) -> Document:
    return _run("BÁO CÁO\nKết quả thực hiện\nI. KẾT QUẢ\n" + body + "\nII. KIẾN NGHỊ\n", doc_type="bao_cao")


@pytest.mark.parametrize("body, expected", [
    # a zero-padded count whose noun no unit list holds (lao-cai chi-thi-38; variant)
    ("Kết quả thực hiện đã ban hành 04 kết luận thanh tra (thanh tra tại Công ty).",
     [(4, "số kết luận thanh tra được ban hành")]),
    ("Sở Tư pháp đã tiếp nhận 05 đơn kiến nghị của công dân.", [(5, "số đơn kiến nghị của công dân được tiếp nhận")]),
    # a ratio: the value is the first number
    ("Thanh tra tỉnh thực hiện xử lý sau thanh tra đối với 04/04 Đoàn thanh tra đã ban hành kết luận.", [(4, None)]),
    ("Đã hoàn thành chuyển đổi số tại 12/15 xã.", [(12, None)]),
    # a rate named after its value, and money as a ratio
    ("Năm 2025, đã đôn đốc thu hồi về tài khoản tạm giữ của Thanh tra tỉnh với số tiền 5.373,4/5.373,4 triệu đồng, "
     "đạt 100% tỷ lệ thu hồi sau thanh tra.",
     [(5373.4, "số tiền đôn đốc thu hồi về tài khoản tạm giữ của Thanh tra tỉnh"), (100, "tỷ lệ thu hồi sau thanh tra")]),
    # mistyped thousands groups, money named by what follows it
    ("kiến nghị thu hồi số tiền 18.799.810.000 đồng; số đã thu 5.378.7000.000 đồng; số chưa thu trong đó có "
     "13.421.100.000 đồng chưa ban hành được Quyết định thu hồi.",
     [(18799810000, None), (5378700000, None), (13421100000, "số tiền chưa ban hành được Quyết định thu hồi")]),
    # labels before a colon name the counted noun; a list opener inside the label is dropped
    ("Đã cấp 09 giấy phép các loại, trong đó, thăm dò: 03 giấy phép; khai thác: 02 giấy phép.",
     [(9, None), (3, "số giấy phép thăm dò"), (2, "số giấy phép khai thác")]),
    ("- Thu tiền cấp quyền đối với Giấy phép do Bộ cấp cho 59 điểm mỏ: 142.343.395.324 đồng.",
     [(59, None), (142343395324, "số tiền Thu tiền cấp quyền đối với Giấy phép do Bộ cấp cho 59 điểm mỏ")]),
    # "đối với" links a count to the act of the figure before it
    ("Chuyển 01 hồ sơ vụ việc có dấu hiệu tội phạm sang cơ quan Cảnh sát điều tra đối với 01 đơn vị.",
     [(1, None), (1, "số đơn vị được Chuyển hồ sơ vụ việc có dấu hiệu tội phạm sang cơ quan Cảnh sát điều tra")]),
])
def test_result_constructions(body, expected):
    doc = _report(body)
    got = [(r.value, r.indicator) for r in doc.results]
    assert [v for v, _ in got] == [v for v, _ in expected]
    for (_, ind), (_, want) in zip(got, expected):
        if want:
            assert ind == want
    _spans_are_verbatim(doc.results)


@pytest.mark.parametrize("body", [
    "Căn cứ Điều 52 Luật Bảo vệ môi trường và khoản 16 Điều 1 Luật số 146/2025/QH15.",
    "Từ ngày 01 tháng 7 năm 2025, thực hiện mô hình chính quyền địa phương 02 cấp.",
    "Tổ chức họp vào lúc 08 giờ ngày 15/5/2026.",
])
def test_numbers_that_are_not_counts(body):
    assert [(r.value, r.unit) for r in _report(body).results] == []


def test_a_report_sets_targets_and_a_plan_recounts_results():
    report = ("BÁO CÁO\nKết quả năm 2025\nI. KẾT QUẢ THỰC HIỆN\n- Đã tổ chức 05 hội nghị tuyên truyền.\n"
              "II. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2026\n- Phấn đấu giảm 5% số vụ tai nạn lao động so với năm 2025.\n")
    doc = _run(report, doc_type="bao_cao", outline=True)
    assert [(r.value, r.unit) for r in doc.results] == [(5, "hội nghị")]
    assert [(t.direction, t.value) for t in doc.targets] == [("decrease", 5)]
    plan = ("KẾ HOẠCH\nI. KẾT QUẢ THỰC HIỆN NĂM 2025\n- Năm 2025, toàn tỉnh đã kiểm tra 120 cơ sở sản xuất.\n"
            "II. MỤC TIÊU\n- Giảm 4% tần suất tai nạn lao động chết người.\n")
    doc = _run(plan, doc_type="ke_hoach", outline=True)
    assert [(r.value, r.unit) for r in doc.results] == [(120, "cơ sở")]
    assert [(t.direction, t.value) for t in doc.targets] == [("decrease", 4)]


def test_footnotes_after_the_sign_off_report_results_too():
    text = ("BÁO CÁO\nKết quả năm 2025\nI. KẾT QUẢ\n- Đã kiểm tra các phản ánh⁸.\nII. KIẾN NGHỊ\n- Đề nghị.\n"
            "Nơi nhận:\n- Như trên;\n¹ Kết luận số 02/KL-TT ngày 10/02/2025.\n"
            "⁸ Đã phối hợp kiểm tra theo nội dung phản ánh của 03 công dân và 21 hộ dân đối với Công ty.\n")
    doc = _run(text, doc_type="bao_cao", outline=True)
    assert [(r.value, r.unit) for r in doc.results] == [(3, "công dân"), (21, "hộ")]
    _spans_are_verbatim(doc.results)


def test_link_word_kinds_are_those_the_indicator_reads():
    """rules/measures.yaml groups link_words by how a result's indicator reads them."""
    assert set(RULES["link_words"]) == {"with", "regarding", "toward"}
    assert set(_rules().link_kind.values()) == {"with", "regarding", "toward"}


def test_title_words_come_from_doc_types():
    """Without a header, a title line in capitals tells a report from a plan (rules/doc_types.yaml)."""
    assert dict(_rules().title_kinds) == {"bao_cao": ("BÁO CÁO",), "ke_hoach": ("KẾ HOẠCH",)}
    assert _rules().per_year_unit == "/năm"
