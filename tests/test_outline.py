"""The outline derives depth from marker sequences and classifies top-level sections."""
import pytest

from pipeline import parse_file
from pipeline.model import Document, SourceInfo
from pipeline.outline import classify_heading, extract_outline
from pipeline.rules import load


def _outline(text: str) -> Document:
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text=text)
    extract_outline(doc)
    return doc


def test_depth_follows_marker_sequence():
    doc = _outline(
        "V. TỔ CHỨC THỰC HIỆN\n1. Sở Lao động - Thương binh và Xã hội\n"
        "a) Chủ trì, phối hợp với các sở.\nb) Chỉ đạo các đơn vị.\n2. Sở Y tế\n- Tổ chức tập huấn.\n"
        "VI. CHẾ ĐỘ THÔNG TIN BÁO CÁO, GIÁM SÁT, ĐÁNH GIÁ\n1. Các sở báo cáo."
    )
    got = [(s.id, s.level, s.marker) for s in doc.sections]
    assert got == [
        ("V", 1, "roman"), ("V.1", 2, "arabic"), ("V.1.a", 3, "letter"), ("V.1.b", 3, "letter"),
        ("V.2", 2, "arabic"), ("V.2#1", 3, "dash"), ("VI", 1, "roman"), ("VI.1", 2, "arabic"),
    ]
    assert [s.kind for s in doc.sections if s.level == 1] == ["to_chuc_thuc_hien", "che_do_bao_cao"]


def test_decimal_items_nest_under_their_arabic_parent():
    doc = _outline("III. NHIỆM VỤ VÀ GIẢI PHÁP TRỌNG TÂM\n4. Tiếp tục nâng cao hiệu quả\n4.1. Kiện toàn tổ chức bộ máy.\n- Nâng cao chất lượng.\n4.2. Tăng cường phối hợp.\n5. Nâng cao hiệu quả")
    assert [s.id for s in doc.sections] == ["III", "III.4", "III.4.1", "III.4.1#1", "III.4.2", "III.5"]


def test_letter_numbered_items_without_roman_start_at_level_one():
    doc = _outline("Kính gửi:\n- Các Sở, Ban ngành, đoàn thể tỉnh;\nChủ tịch UBND tỉnh chỉ đạo như sau:\n1. Các Sở, Ban ngành, đoàn thể tỉnh căn cứ chức năng:\n- Thực hiện tốt.\n2. Sở Nội vụ:\n- Chủ trì.\nCăn cứ nhiệm vụ giao, các cơ quan, đơn vị triển khai thực hiện./.\nNơi nhận:\n- Như trên;")
    assert [(s.id, s.level) for s in doc.sections] == [("1", 1), ("1#1", 2), ("2", 1), ("2#1", 2)]
    assert all(s.kind == "to_chuc_thuc_hien" for s in doc.sections if s.level == 1)
    # The closing line and the distribution list are outside every section.
    assert doc.text[doc.sections[-1].span.start:doc.sections[-1].span.end] == "- Chủ trì."


def test_spans_cover_children_and_headings_are_verbatim():
    doc = parse_file("corpus/cao-bang_ke-hoach-664_2025-03-10.txt")
    v = next(s for s in doc.sections if s.id == "V")
    v2 = next(s for s in doc.sections if s.id == "V.2")
    assert v.span.start <= v2.span.start and v2.span.end <= v.span.end
    assert doc.text[v2.heading_span.start:v2.heading_span.end] == "2. Sở Nội vụ"
    assert doc.text[v2.span.start:v2.span.end].count("\n- ") == 4


@pytest.mark.parametrize("heading, kind", [
    ("NHIỆM VỤ VÀ GIẢI PHÁP TRỌNG TÂM THƯC HIỆN", "nhiem_vu_giai_phap"),
    ("CHẾ ĐỘ THÔNG TIN BÁO CÁO, GIÁM SÁT, ĐÁNH GIÁ", "che_do_bao_cao"),
    ("Tổ chức thực hiện", "to_chuc_thuc_hien"),
    ("TÌNH HÌNH TRIỂN KHAI THỰC HIỆN", "tinh_hinh_thuc_hien"),
    ("ĐÁNH GIÁ CHUNG", "danh_gia"),
    ("KIẾN NGHỊ, ĐỀ XUẤT", "kien_nghi_de_xuat"),
    ("Sở Nội vụ:", "to_chuc_thuc_hien"),
])
def test_heading_kinds(heading, kind):
    assert classify_heading(heading) == kind


def test_every_kind_rule_matches_its_examples():
    for rule in load("sections")["kinds"]:
        for example in rule["examples"]:
            assert classify_heading(example) == rule["kind"], (rule["kind"], example)


def test_unknown_heading_is_other_with_a_warning():
    doc = _outline("I. LỜI NÓI ĐẦU\nNội dung.")
    assert doc.sections[0].kind == "other"
    assert any("unknown kind" in w.message for w in doc.warnings)


def test_kind_words_deep_in_an_instruction_do_not_classify_it():
    # A letter's numbered instruction mentions "tồn tại" (shortcomings) but is a task, and a
    # report's "Các khó khăn ..." item opens with its kind word.
    assert classify_heading("Rà soát, kiểm tra khắc phục ngay các tồn tại, thiếu sót trong quá trình bảo quản") == "nhiem_vu_giai_phap"
    assert classify_heading("Các khó khăn, vướng mắc trong quá trình thực hiện quản lý vật liệu nổ công nghiệp") == "danh_gia"
    assert classify_heading("Các tai nạn, sự cố liên quan đến vật liệu nổ công nghiệp") is None


def test_unknown_report_sections_before_the_assessment_are_the_account():
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0),
                   text="1. Tình hình quản lý\nNội dung.\n2. Các tai nạn, sự cố liên quan\nKhông có.\n3. Đề xuất, kiến nghị\nĐề nghị.\n4. Lời cảm ơn\nx")
    doc.metadata.doc_type = "bao_cao"
    extract_outline(doc)
    assert [s.kind for s in doc.sections] == ["tinh_hinh_thuc_hien", "tinh_hinh_thuc_hien", "kien_nghi_de_xuat", "other"]
