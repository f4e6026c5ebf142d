"""The assignments stage on short real passages: one construction per test."""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pipeline.stages.assignments import (is_formula, partners_of, role_of, table_columns,
                                  topics_of)
from pipeline import parse_file
from pipeline.model import SourceInfo, SourceText
from pipeline.parse import parse_source
from pipeline.rules import load
from pipeline.textkeys import match_key

REPO = Path(__file__).resolve().parent.parent
FORMATS = Path(os.environ.get("VANBAN_FORMATS", REPO.parent / "shared" / "formats"))


def parse_text(text: str, doc_id: str = "t"):
    info = SourceInfo(doc_id + ".txt", doc_id + ".txt", "txt", "", len(text.encode()))
    return parse_source(SourceText(text, info), doc_id)


def assert_rows(doc, expected):
    """(section, agency, role, first words of the task) for every assignment, in order."""
    got = [(a.section, a.agency, a.role, a.task) for a in doc.assignments]
    assert [g[:3] for g in got] == [e[:3] for e in expected]
    for g, e in zip(got, expected):
        assert g[3].startswith(e[3]), (g, e)


PLAN_HEAD = "KẾ HOẠCH\nAn toàn, vệ sinh lao động\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Bảo đảm an toàn.\n"


# --- the rules file: every pattern matches its examples ---------------------------------------

def test_rule_examples_match():
    data = load("assignments")
    for name, rule in data.items():
        if isinstance(rule, dict) and "pattern" in rule:
            rx = re.compile(rule["pattern"])
            for ex in rule.get("examples", []):
                assert rx.search(match_key(ex)), (name, ex)
    for role in ("lead", "support"):
        for ex in data["roles"][role]["examples"]:
            assert role_of(ex, False) == role, ex


# --- roles and partners -------------------------------------------------------------------------

@pytest.mark.parametrize("task,role", [
    ("Chủ trì, phối hợp với các đơn vị có liên quan triển khai kế hoạch chăm sóc", "lead"),
    ("Phối hợp với Sở Nội vụ tiến hành thanh tra, kiểm tra", "support"),
    ("Chủ động, phối hợp với các ngành liên quan, Công an, Viện Kiểm sát nhân dân", "support"),
    ("Trên cơ sở khả năng cân đối vốn, phối hợp với Sở Tài chính và các đơn vị liên quan", "support"),
    ("Tăng cường hướng dẫn, tuyên truyền công tác ATVSLĐ tại các doanh nghiệp", "responsible"),
])
def test_role_from_main_verb(task, role):
    assert role_of(task, requested=False) == role
    assert role_of(task, requested=True) == "requested"


def test_partners_as_written_only_after_a_clause_opening_phoi_hop():
    assert partners_of("Chủ trì, phối hợp với các Sở, Ban, ngành, UBND các huyện, thành phố và cơ quan "
                       "có liên quan tổ chức triển khai thực hiện Kế hoạch") == [
        "các Sở, Ban, ngành", "UBND các huyện, thành phố", "cơ quan có liên quan"]
    assert partners_of("Tăng cường công tác thông tin, phổ biến pháp luật về an toàn, vệ sinh lao động; "
                       "phối hợp với các sở, ban, ngành liên quan kiểm tra, giám sát") == [
        "các sở, ban, ngành liên quan"]
    # the partner of someone else (cao-bang 664 V.19): not the agency's partner
    assert partners_of("chỉ đạo và hỗ trợ Công đoàn cơ sở phối hợp với người sử dụng lao động xây dựng") == []


def test_topics_and_formulas():
    assert topics_of("Tăng cường công tác thanh tra, kiểm tra các hoạt động thông tin, báo chí") == [
        "tuyen_truyen", "thanh_tra_kiem_tra"]
    assert is_formula(match_key("nghiêm túc tổ chức thực hiện./."))
    assert is_formula(match_key("quan tâm, sớm xem xét, chỉ đạo giải quyết./."))
    assert not is_formula(match_key("chủ động xây dựng kế hoạch triển khai thực hiện; định kỳ hằng năm"))


# --- Tổ chức thực hiện: bullets, inline text, lists, requested --------------------------------

CAO_BANG_V = PLAN_HEAD + """V. TỔ CHỨC THỰC HIỆN
2. Sở Nội vụ
- Chủ trì, phối hợp với các Sở, Ban, ngành, UBND các huyện, thành phố và cơ quan có liên quan tổ chức triển khai thực hiện Kế hoạch.
- Định kỳ hằng năm hoặc đột xuất tổng hợp, báo cáo UBND tỉnh, Bộ Nội vụ về tình hình, kết quả thực hiện Kế hoạch.
8. Sở Khoa học và Công nghệ:  Phối hợp với Sở Nội vụ và các đơn vị, doanh nghiệp liên quan triển khai các nhiệm vụ khoa học và công nghệ trong lĩnh vực ATVSLĐ trên địa bàn tỉnh.
11. Công an tỉnh, BCH Quân sự tỉnh:  Chỉ đạo tổ chức triển khai thực hiện các hoạt động cải thiện điều kiện lao động.
19. Đề nghị Liên đoàn Lao động tỉnh
- Phối hợp với các cơ quan nhà nước trong thanh tra, kiểm tra, giám sát việc thực hiện chính sách.
"""


def test_plan_agency_items():
    doc = parse_text(CAO_BANG_V)
    assert_rows(doc, [
        ("V.2", "Sở Nội vụ", "lead", "Chủ trì, phối hợp với"),
        ("V.2", "Sở Nội vụ", "responsible", "Định kỳ hằng năm hoặc"),
        ("V.8", "Sở Khoa học và Công nghệ", "support", "Phối hợp với Sở"),
        ("V.11", "Công an tỉnh", "responsible", "Chỉ đạo tổ chức triển"),
        ("V.11", "Bộ Chỉ huy Quân sự tỉnh", "responsible", "Chỉ đạo tổ chức triển"),
        ("V.19", "Liên đoàn Lao động tỉnh", "requested", "Phối hợp với các cơ"),
    ])
    a = doc.assignments
    assert a[0].partners == ["các Sở, Ban, ngành", "UBND các huyện, thành phố", "cơ quan có liên quan"]
    assert a[2].partners == ["Sở Nội vụ", "các đơn vị, doanh nghiệp liên quan"]
    assert a[4].agency_raw == "BCH Quân sự tỉnh" and a[4].agency_id == "bch_quan_su_tinh"
    assert a[1].five_clear["thoi_gian"] and a[1].five_clear["ket_qua"]
    assert not a[3].five_clear["thoi_gian"]
    for x in a:  # span and verbatim text
        assert doc.text[x.span.start:x.span.end] == x.task


THAI_NGUYEN_IV = PLAN_HEAD + """IV. TỔ CHỨC THỰC HIỆN

9. Sở Văn hóa, Thể thao và Du lịch; Báo và phát thanh, truyền hình Thái Nguyên

Tăng cường công tác thông tin, tuyên truyền về an toàn, vệ sinh lao động.

12. Đề nghị Liên đoàn Lao động tỉnh, Hội Nông dân tỉnh, Liên minh Hợp tác xã tỉnh

Căn cứ chức năng, nhiệm vụ được giao chủ động phối hợp với các sở, ban, ngành liên quan chỉ đạo các đơn vị trực thuộc tăng cường tuyên truyền.

Trên đây là Kế hoạch triển khai thực hiện Kế hoạch số 03-KH/TU; các sở, ban, ngành, cơ quan, đơn vị, địa phương căn cứ chức năng nhiệm vụ, tình hình thực tế chủ động xây dựng kế hoạch triển khai thực hiện; định kỳ hằng năm (trước ngày 10/12) hoặc đột xuất, báo cáo kết quả thực hiện gửi Sở Nội vụ. Trong quá trình tổ chức thực hiện, nếu có khó khăn kịp thời báo cáo UBND tỉnh./.
"""


def test_paragraph_tasks_lists_and_closing_paragraph():
    doc = parse_text(THAI_NGUYEN_IV)
    doc.metadata.province = doc.metadata.province or "Thái Nguyên"
    assert_rows(doc, [
        ("IV.9", "Sở Văn hóa, Thể thao và Du lịch", "responsible", "Tăng cường công tác thông"),
        ("IV.9", "Báo và phát thanh, truyền hình Thái Nguyên", "responsible", "Tăng cường công tác thông"),
        ("IV.12", "Liên đoàn Lao động tỉnh", "requested", "Căn cứ chức năng, nhiệm"),
        ("IV.12", "Hội Nông dân tỉnh", "requested", "Căn cứ chức năng, nhiệm"),
        ("IV.12", "Liên minh Hợp tác xã tỉnh", "requested", "Căn cứ chức năng, nhiệm"),
        (None, "các sở, ban, ngành, cơ quan, đơn vị, địa phương", "responsible", "căn cứ chức năng nhiệm"),
    ])
    assert doc.assignments[2].partners == ["các sở, ban, ngành liên quan"]
    closing = doc.assignments[-1]
    assert closing.deadline is not None and "10/12" in closing.deadline.text
    assert closing.deadline.who == closing.agency
    assert "Trong quá trình" not in closing.task  # the sentence ends the task


DAK_LAK_V = PLAN_HEAD + """V. TỔ CHỨC THỰC HIỆN
10. Sở Thông tin và Truyền thông
Phối hợp với Sở Lao động - Thương binh và Xã hội và các cơ quan, đơn vị, địa phương có liên quan thông tin, tuyên truyền nội dung Kế hoạch.
Đề nghị các cơ quan báo chí địa phương và Văn phòng đại diện, phóng viên thường trú các cơ quan báo chí Trung ương đóng trên địa bàn tỉnh thông tin, tuyên truyền các hoạt động triển khai thực hiện Nghị quyết số 209/NQ-CP.
15. Đề nghị Liên minh Hợp tác xã tỉnh và Hội Nông dân tỉnh
a) Đề nghị Liên minh Hợp tác xã tỉnh chủ động phối hợp với sở, ban, ngành, UBND các huyện, thị xã, thành phố thực hiện các hoạt động tuyên truyền.
b) Đề nghị Hội Nông dân tỉnh phối hợp với các sở, ban, ngành, UBND các huyện, thị xã, thành phố tổ chức triển khai tuyên truyền.
18. Các đơn vị, doanh nghiệp, nguời sử dụng lao động trên địa bàn tỉnh
a) Tổ chức triển khai thực hiện đầy đủ các nội dung tại Kế hoạch này.
VI. CHẾ ĐỘ THÔNG TIN BÁO CÁO, GIÁM SÁT, ĐÁNH GIÁ
2. Định kỳ hằng năm (trước ngày 15/12), các sở, ban, ngành, đơn vị, địa phương được phân công nhiệm vụ tại Kế hoạch này có trách nhiệm báo cáo kết quả triển khai thực hiện về Sở Lao động - Thương binh và Xã hội.
"""


def test_requested_paragraph_own_letters_name_continuation_and_reporting_subject():
    doc = parse_text(DAK_LAK_V)
    assert_rows(doc, [
        ("V.10", "Sở Thông tin và Truyền thông", "support", "Phối hợp với Sở"),
        ("V.10", "các cơ quan báo chí địa phương", "requested", "thông tin, tuyên truyền các"),
        ("V.10", "Văn phòng đại diện, phóng viên thường trú các cơ quan báo chí Trung ương đóng trên "
                 "địa bàn tỉnh", "requested", "thông tin, tuyên truyền các"),
        ("V.15.a", "Liên minh Hợp tác xã tỉnh", "requested", "Đề nghị Liên minh Hợp"),
        ("V.15.b", "Hội Nông dân tỉnh", "requested", "Đề nghị Hội Nông dân"),
        ("V.18.a", "Các đơn vị, doanh nghiệp, nguời sử dụng lao động trên địa bàn tỉnh", "responsible",
         "Tổ chức triển khai thực"),
        ("VI.2", "các sở, ban, ngành, đơn vị, địa phương", "responsible", "có trách nhiệm báo cáo"),
    ])
    a = doc.assignments
    assert a[0].agency_id == "so_thong_tin_truyen_thong" and a[0].successor == "so_khoa_hoc_cong_nghe"
    assert a[4].partners == ["các sở, ban, ngành", "UBND các huyện, thị xã, thành phố"]
    assert a[-1].deadline is not None and a[-1].deadline.date == "--12-15"


CONG_VAN = """Kính gửi:
- Các Sở, Ban ngành, đoàn thể tỉnh;
- Ủy ban nhân dân các xã, phường.
Chủ tịch Ủy ban nhân dân (UBND) tỉnh chỉ đạo như sau:
1. Các Sở, Ban ngành, đoàn thể tỉnh, UBND các xã, phường căn cứ chức năng, nhiệm vụ, địa bàn quản lý:
- Thực hiện tốt các mục tiêu, nhiệm vụ, giải pháp tại Kế hoạch số 664/KH-UBND ngày 10/3/2025.
2. Sở Nội vụ:
- Chủ trì, phối hợp thực hiện điều tra tai nạn lao động chết người hoặc bị thương nặng từ 02 người trở lên.
Căn cứ nhiệm vụ giao, các cơ quan, đơn vị triển khai thực hiện./.
"""


def test_letter_items_preamble_and_formula_closing():
    doc = parse_text(CONG_VAN)
    assert_rows(doc, [
        ("1", "Các Sở, Ban ngành, đoàn thể tỉnh", "responsible", "Thực hiện tốt các mục"),
        ("1", "UBND các xã, phường", "responsible", "Thực hiện tốt các mục"),
        ("2", "Sở Nội vụ", "lead", "Chủ trì, phối hợp thực"),
    ])
    assert doc.assignments[2].partners == []
    assert doc.assignments[2].topics == ["dieu_tra_tnld"]


LEAD_IN = """Kính gửi: Các tổ chức, cá nhân hoạt động vật liệu nổ công nghiệp trên địa bàn tỉnh Lào Cai
Để hoạt động liên quan đến VLNCN bảo đảm theo quy định của pháp luật, Sở Công Thương yêu cầu các tổ chức, doanh nghiệp có hoạt động liên quan đến hoạt động VLNCN trên địa bàn thực hiện một số nội sau:
1. Tăng cường cập nhật, nghiên cứu và tuyên truyền, phổ biến tới người lao động thuộc đơn vị mình.
2. Thực hiện chế độ báo cáo định kỳ, đột xuất về VLNCN theo quy định hiện hành.
Sở Công Thương yêu cầu các Tổ chức, cá nhân, doanh nghiệp liên quan đến hoạt động VLNCN, TCTN trên địa bàn nghiêm túc thực hiện./.
"""


def test_lead_in_sentence_assigns_the_following_items():
    # lào cai công văn đôn đốc VLNCN (docx), body as text
    doc = parse_text(LEAD_IN)
    who = "các tổ chức, doanh nghiệp có hoạt động liên quan đến hoạt động VLNCN trên địa bàn"
    assert_rows(doc, [
        ("1", who, "responsible", "Tăng cường cập nhật, nghiên"),
        ("2", who, "responsible", "Thực hiện chế độ báo"),
    ])


LEAD_IN_ITEM = PLAN_HEAD + """III. TỔ CHỨC THỰC HIỆN
1. Giao phòng Quản lý Công nghiệp triển khai, thực hiện các công việc liên quan:
2. Tổ chức kiểm tra kỹ thuật an toàn cho các đối tượng liên quan đến hoạt động VLNCN phù hợp với nội dung kiểm tra quy định tại Điều 9, Nghị định số 181/2024/NĐ-CP ngày 31/12/2024 của Chính phủ.
3. Chuẩn bị các điều kiện cần thiết khác để tổ chức kiểm tra kỹ thuật an toàn cho các đối tượng liên quan đến hoạt động VLNCN.
4. Sở Nội vụ:
- Chủ trì, phối hợp thực hiện điều tra tai nạn lao động chết người hoặc bị thương nặng từ 02 người trở lên.
"""


def test_lead_in_item_hands_its_agency_to_the_sibling_items_after_it():
    # lào cai KH 2242 III (Word numbered the sub-items at the item's level); the agency item 4
    # (cao-bang CV 08) ends the run
    doc = parse_text(LEAD_IN_ITEM)
    assert_rows(doc, [
        ("III.2", "phòng Quản lý Công nghiệp", "responsible", "Tổ chức kiểm tra kỹ thuật"),
        ("III.3", "phòng Quản lý Công nghiệp", "responsible", "Chuẩn bị các điều kiện"),
        ("III.4", "Sở Nội vụ", "lead", "Chủ trì, phối hợp thực"),
    ])
    # with no item after it, the lead-in is the task
    alone = parse_text(LEAD_IN_ITEM.split("\n2. ")[0] + "\n")
    assert_rows(alone, [("III.1", "phòng Quản lý Công nghiệp", "responsible", "triển khai, thực hiện")])


LETTER_TO_A_COMPANY = """SỞ CÔNG THƯƠNG
Số: /SCT - CN
V/v hoàn thiện hồ sơ đề nghị cấp Giấy phép sử dụng vật liệu nổ công nghiệp
Kính gửi: Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ
Qua rà soát, thẩm định, hồ sơ của doanh nghiệp chưa bảo đảm điều kiện để thẩm định, trình cấp phép. Để có cơ sở giải quyết, Sở Công Thương đề nghị DNTN Thành Hương Nghĩa Lộ rà soát, hoàn thiện các nội dung sau:
1. Về Giấy đề nghị cấp phép
a) Chỉnh sửa Giấy đề nghị: ghi đúng đơn vị tính của kíp nổ là cái (bản hiện tại ghi kg).
b) Rà soát, thống nhất số định danh cá nhân của người đại diện theo pháp luật giữa Giấy đề nghị.
2. Về thiết kế khai thác mỏ
Bổ sung Quyết định phê duyệt Báo cáo kinh tế - kỹ thuật đầu tư xây dựng (điều chỉnh) của chủ đầu tư.
3. Về Phương án nổ mìn
d) Bổ sung biện pháp che chắn chống đá văng bắt buộc khi nổ mìn.
Do đó, Sở Công Thương Lào Cai dừng giải quyết thủ tục hành chính và trả lại hồ sơ nêu trên.
Sở Công Thương Lào Cai thông báo để Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ biết và thực hiện./.
"""


def test_letter_lead_in_to_a_company_assigns_each_item_and_sub_item():
    # lào cai CV 4280 (pdf), shortened: sub-items are tasks; a heading that only names a topic
    # ("2. Về thiết kế khai thác mỏ") gives its paragraph; the letter's own closing text is no task
    doc = parse_text(LETTER_TO_A_COMPANY)
    who = "Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ"
    assert_rows(doc, [
        ("1.a", who, "requested", "Chỉnh sửa Giấy đề nghị"),
        ("1.b", who, "requested", "Rà soát, thống nhất số"),
        ("2", who, "requested", "Bổ sung Quyết định phê"),
        ("3.d", who, "requested", "Bổ sung biện pháp che"),
    ])
    assert {(a.agency_raw, a.agency_kind, a.known) for a in doc.assignments} == {
        ("DNTN Thành Hương Nghĩa Lộ", "doanh_nghiep_to_chuc", False)}
    assert "Do đó" not in doc.assignments[-1].task


def test_request_paragraph_after_the_last_item_is_its_own_task():
    # lào cai CV đôn đốc VLNCN: "Ngoài việc ..." follows item 7 with no blank line or marker
    doc = parse_text("SỞ CÔNG THƯƠNG\nSố: /SCT-CN\nV/v đôn đốc\n" + LEAD_IN.replace(
        "\nSở Công Thương yêu cầu các Tổ chức", "\nNgoài việc thực hiện các nội dung trên, yêu cầu các tổ "
        "chức, cá nhân, doanh nghiệp thực hiện các nội dung tại Văn bản số 193/UBND-KT ngày 10/01/2026 "
        "của Ủy ban nhân dân tỉnh Lào Cai.\nSở Công Thương yêu cầu các Tổ chức"))
    who = "các tổ chức, doanh nghiệp có hoạt động liên quan đến hoạt động VLNCN trên địa bàn"
    assert_rows(doc, [
        ("1", who, "responsible", "Tăng cường cập nhật, nghiên"),
        ("2", who, "responsible", "Thực hiện chế độ báo"),
        (None, "các tổ chức, cá nhân, doanh nghiệp", "responsible", "thực hiện các nội dung tại Văn bản"),
    ])
    assert doc.assignments[1].task.endswith("theo quy định hiện hành.")


def test_a_request_to_a_ministry_is_a_proposal_not_an_assignment():
    # lào cai CV 3686 (iii), as a paragraph of a letter: "đề nghị Bộ Xây dựng có ý kiến chỉ đạo ..."
    doc = parse_text("UBND TỈNH LÀO CAI\nSố: /UBND-XD\nV/v đề xuất sớm tháo gỡ khó khăn\n"
                     "Kính gửi: Bộ Xây dựng\nTrong thời gian chờ các văn bản quy phạm pháp luật được sửa "
                     "đổi, bổ sung, đề nghị Bộ Xây dựng có ý kiến chỉ đạo Cục Đăng kiểm Việt Nam tổ chức "
                     "kiểm tra và cấp Biên bản xác nhận điều kiện an toàn về PCCC.\n")
    assert doc.metadata.doc_type == "cong_van"
    assert doc.assignments == []


# --- real files ----------------------------------------------------------------------------------

def _formats(name: str) -> Path:
    p = FORMATS / name
    if not p.exists():
        pytest.skip(f"third-party format file {p} not present (set VANBAN_FORMATS)")
    return p


def test_docx_plan_assigns_to_an_unknown_office():
    from pipeline import parse_file

    doc = parse_file(_formats("lao-cai_ke-hoach_2242-kiem-tra.docx"))
    text_found = [a for a in doc.assignments if a.section is not None]  # the annex has none
    assert [(a.section, a.agency, a.known, a.role) for a in text_found] == [
        ("III.2", "phòng Quản lý Công nghiệp", False, "responsible"),
        ("III.3", "phòng Quản lý Công nghiệp", False, "responsible")]


def test_assignment_table_from_docx_cells():
    """The annex table of KH 2242 ("TT | Nhiệm vụ thực hiện | Người thực hiện | Ghi chú"), read
    from doc.tables by the stage itself: each person in the doer column gets the row's task."""
    from pipeline import parse_file

    doc = parse_file(_formats("lao-cai_ke-hoach_2242-kiem-tra.docx"))
    annex = doc.tables[-1]
    assert table_columns([doc.text[c.start:c.end] for c in annex.rows[0]]) == {1: "task", 2: "doer"}
    new = [a for a in doc.assignments if annex.span.start <= a.span.start < annex.span.end]
    assert [(a.agency, a.task) for a in new[:3]] == [
        ("Đỗ Mạnh Cường", "Rà soát việc đáp ứng các điều kiện của học viên"),
        ("Vũ Việt Linh", "Rà soát việc đáp ứng các điều kiện của học viên"),
        ("Nguyễn Thị Loan", "Rà soát việc đáp ứng các điều kiện của học viên")]
    assert all(a.role == "responsible" and not a.known and a.section is None for a in new)
    assert len(new) == 16  # 9 rows, 16 (person, task) pairs


def test_letter_to_a_company_from_pdf():
    from pipeline import parse_file

    doc = parse_file(_formats("lao-cai_cong-van_4280.pdf"))
    assert [a.section for a in doc.assignments] == [
        "1.a", "1.b", "2", "3", "3", "4.a", "4.b", "4.c", "4.d", "4.đ"]
    assert {(a.agency, a.role) for a in doc.assignments} == {
        ("Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ", "requested")}
    assert "Do đó" not in doc.assignments[-1].task


def test_letter_to_a_ministry_items_are_not_tasks():
    from pipeline import parse_file

    doc = parse_file(_formats("lao-cai_cong-van_3686-pccc.pdf"))
    assert doc.assignments == []  # "đề nghị Bộ Xây dựng nội dung như sau:" + topics, then a formula


def test_a_lead_in_paragraph_naming_its_subject_gives_it_the_items_that_follow():
    from pipeline.model import Document, SourceInfo
    from pipeline.stages.outline import extract_outline
    from pipeline.stages.assignments import extract_assignments

    text = ("Điều 3. Nhiệm vụ và quyền hạn của Tổ công tác\n"
            "Tổ công tác thực hiện nhiệm vụ theo quy định, trong đó tập trung:\n"
            "1. Xây dựng kế hoạch kiểm tra chi tiết.\n"
            "2. Lập biên bản kiểm tra các cơ sở.\n"
            "3. Sở Tài chính bảo đảm kinh phí hoạt động.\n"
            "Điều 4. Hiệu lực thi hành\nQuyết định này có hiệu lực kể từ ngày ký./.")
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text=text)
    extract_outline(doc)
    extract_assignments(doc)
    got = [(a.section, a.agency, a.role, a.task) for a in doc.assignments if a.agency == "Tổ công tác"]
    assert got == [("3.1", "Tổ công tác", "responsible", "Xây dựng kế hoạch kiểm tra chi tiết."),
                   ("3.2", "Tổ công tác", "responsible", "Lập biên bản kiểm tra các cơ sở.")]


def test_decision_gives_the_inspection_team_its_duties(formats_dir):
    doc = parse_file(formats_dir / "lao-cai_quyet-dinh_1050-ocr.txt")
    team = [a for a in doc.assignments if a.agency == "Đoàn kiểm tra" and a.section.startswith("3.")]
    assert [a.section for a in team] == ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]
    assert all(doc.text[a.span.start:a.span.end] == a.task for a in team)
