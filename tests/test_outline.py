"""The outline derives depth from marker sequences and classifies top-level sections."""
import re

import pytest

from pipeline import parse_file
from pipeline.model import Document, SourceInfo
from pipeline.stages.outline import classify_heading, extract_outline
from pipeline.rules import load


def _outline(text: str, doc_type: str | None = None) -> Document:
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text=text)
    doc.metadata.doc_type = doc_type
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
    rules = load("sections")
    for rule in rules["kinds"]:
        doc_type = (rule.get("doc_types") or [None])[0]
        for example in rule["examples"]:
            assert classify_heading(example, doc_type) == rule["kind"], (rule["kind"], example)
    item = rules["instruction_item"]
    for example in item["examples"]:
        assert classify_heading(example) == item["kind"], example
    for doc_type, examples in item["examples_by_doc_type"].items():
        for example in examples:
            assert classify_heading(example, doc_type) == item["kind_by_doc_type"][doc_type], (doc_type, example)


def test_default_kinds_serve_only_headings_no_rule_knows():
    rules = load("sections")
    for doc_type, examples in rules["default_examples"].items():
        for example in examples:
            assert classify_heading(example, doc_type) is None, example
            doc = _outline(f"1. {example}\nNội dung.", doc_type)
            assert doc.sections[0].kind == rules["default_kind"][doc_type], (doc_type, example)
            assert not any("unknown kind" in w.message for w in doc.warnings)


def test_every_marker_matches_its_examples():
    import re

    for m in load("sections")["markers"]:
        pattern = re.compile(m["pattern"])
        for example in m["examples"]:
            assert pattern.match(example), (m["type"], example)
        for example in m.get("non_examples", []):
            assert not pattern.match(example), (m["type"], example)


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
    # "đề nghị" inside a noun ("Giấy đề nghị cấp phép") is no proposal.
    assert classify_heading("Về Giấy đề nghị cấp phép") is None


def test_report_parts_take_their_kind_from_their_words_not_their_place():
    text = ("1. Tình hình quản lý\nNội dung.\n2. Các tai nạn, sự cố liên quan\nKhông có.\n"
            "3. Đề xuất, kiến nghị\nĐề nghị.\n4. Một số nội dung đã thực hiện trong năm 2025\nx\n"
            "5. NHIỆM VỤ TRỌNG TÂM NĂM 2026\ny\n6. TỔ CHỨC TRIỂN KHAI THÁNG HÀNH ĐỘNG\nz")
    doc = _outline(text, "bao_cao")
    assert [s.kind for s in doc.sections] == [
        "tinh_hinh_thuc_hien", "tinh_hinh_thuc_hien", "kien_nghi_de_xuat", "tinh_hinh_thuc_hien",
        "phuong_huong", "tinh_hinh_thuc_hien"]
    # The same headings in a plan: its tasks.
    plan = _outline("I. NHIỆM VỤ TRỌNG TÂM NĂM 2026\nx\nII. TỔ CHỨC TRIỂN KHAI THÁNG HÀNH ĐỘNG\ny", "ke_hoach")
    assert [s.kind for s in plan.sections] == ["nhiem_vu_giai_phap", "nhiem_vu_giai_phap"]


# lao-cai_cong-van_4280.pdf and lao-cai_cong-van_ccn-chi-dao.docx: a letter's numbered items
# are its directives whatever their topic; written variant: a notice of conclusions.
LETTER = """Kính gửi: Công ty TNHH Khoáng sản.
Sở Công Thương có ý kiến như sau:
1. Về Giấy đề nghị cấp phép
a) Chỉnh sửa Giấy đề nghị: ghi đúng đơn vị tính của kíp nổ.
b) Rà soát, thống nhất số định danh cá nhân.
2. Tăng cường cập nhật, nghiên cứu và tuyên truyền, phổ biến tới người lao động.
3. Giao Sở Tài chính chủ trì, phối hợp với các cơ quan liên quan tham mưu.
4. Đối với các Cụm công nghiệp: Phú Thịnh 5 và Phú Thịnh 6
5. Quy định về kiểm tra điều kiện PCCC đối với phương tiện
6. Khó khăn, vướng mắc
7. Kiến nghị
Nơi nhận:
- Như trên;"""


@pytest.mark.parametrize("doc_type", ["cong_van", "thong_bao"])
def test_letter_and_notice_items_are_directives_unless_their_words_say_otherwise(doc_type):
    doc = _outline(LETTER, doc_type)
    tops = [(s.id, s.kind) for s in doc.sections if s.level == 1]
    assert tops == [("1", "to_chuc_thuc_hien"), ("2", "to_chuc_thuc_hien"), ("3", "to_chuc_thuc_hien"),
                    ("4", "to_chuc_thuc_hien"), ("5", "other"), ("6", "danh_gia"), ("7", "kien_nghi_de_xuat")]
    assert [(s.id, s.parent) for s in doc.sections if s.level == 2] == [("1.a", "1"), ("1.b", "1")]


def test_decision_articles_are_top_level_sections_numbered_1_2_3():
    # lao-cai_quyet-dinh_1050-ocr.txt
    doc = _outline(
        "Theo đề nghị của Trưởng phòng Quản lý Công nghiệp, QUYẾT ĐỊNH:\n"
        "Điều 1. Thành lập Đoàn kiểm tra để kiểm tra việc chấp hành pháp luật, gồm các ông (bà) có tên sau đây:\n"
        "1. Ông: Hoàng Văn Thuân - Phó Giám đốc Sở, Trưởng đoàn;\n"
        "Điều 2: Nhiệm vụ và quyền hạn của Đoàn kiểm tra\n"
        "Đoàn kiểm tra thực hiện nhiệm vụ theo quy định tại\n"
        "Điều 8 Nghị định số 217/2025/NĐ-CP, trong đó tập trung:\n"
        "1. Xây dựng và trình Giám đốc Sở phê duyệt Kế hoạch kiểm tra chi tiết.\n"
        "a) Lập biên bản kiểm tra.\n"
        "2. Báo cáo kết quả kiểm tra.\n"
        "ĐIỀU 3 . Kinh phí hoạt động\nTheo quy định.\n"
        "Điều 4. Chánh Văn phòng Sở, Trưởng phòng Quản lý công nghiệp chịu trách nhiệm thi hành Quyết định này./.\n",
        "quyet_dinh")
    got = [(s.id, s.marker, s.level, s.parent, s.kind) for s in doc.sections]
    assert got == [
        ("1", "article", 1, None, "other"), ("1.1", "arabic", 2, "1", None),
        ("2", "article", 1, None, "other"), ("2.1", "arabic", 2, "2", None), ("2.1.a", "letter", 3, "2.1", None),
        ("2.2", "arabic", 2, "2", None),
        ("3", "article", 1, None, "kinh_phi"), ("4", "article", 1, None, "to_chuc_thuc_hien"),
    ]


@pytest.mark.parametrize("letters", [("a)", "b)", "đ)"), ("a.", "b.", "đ."), ("a/", "b/", "đ/")])
def test_lettered_items_in_every_style_nest_under_their_numbered_item(letters):
    a, b, dd = letters
    doc = _outline(
        f"V. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế: Chủ trì, phối hợp với các sở triển khai kế hoạch.\n"
        f"- Tổ chức tập huấn.\n{a} Hướng dẫn các cơ sở.\n+ Kiểm tra định kỳ.\n{b} Báo cáo kết quả.\n"
        f"{dd} Phối hợp với Sở Nội vụ.\n2. Công an tỉnh\n{a} Phối hợp kiểm tra.")
    got = [(s.id, s.marker, s.parent) for s in doc.sections]
    assert got == [
        ("V", "roman", None), ("V.1", "arabic", "V"), ("V.1#1", "dash", "V.1"),
        ("V.1.a", "letter", "V.1"), ("V.1.a#1", "plus", "V.1.a"), ("V.1.b", "letter", "V.1"),
        ("V.1.đ", "letter", "V.1"), ("V.2", "arabic", "V"), ("V.2.a", "letter", "V.2"),
    ]
    # The inline text after the agency's colon stays in its item's heading.
    assert doc.sections[1].heading == "Sở Y tế: Chủ trì, phối hợp với các sở triển khai kế hoạch."


@pytest.mark.parametrize("first, second", [("-", "+"), ("•", "-"), ("*", "-"), ("–", "+"), ("-", "*")])
def test_bullets_of_every_glyph_nest_by_their_sequence(first, second):
    doc = _outline(f"II. NHIỆM VỤ, GIẢI PHÁP\n1. Tuyên truyền\n{first} Sở Tư pháp:\n{second} Phổ biến pháp luật.\n"
                   f"{second} Tập huấn.\n{first} Sở Y tế:\n{second} Kiểm tra.\n2. Kiểm tra")
    got = [(s.id, s.parent) for s in doc.sections]
    assert got == [("II", None), ("II.1", "II"), ("II.1#1", "II.1"), ("II.1#1#1", "II.1#1"), ("II.1#1#2", "II.1#1"),
                   ("II.1#2", "II.1"), ("II.1#2#1", "II.1#2"), ("II.2", "II")]
    assert {s.marker for s in doc.sections if s.level > 2} <= {"dash", "plus"}


def test_past_tense_is_read_with_its_diacritics():
    # "đã làm" (was done) is an account; "đá làm vật liệu" (stone for building) is not.
    assert classify_heading("Những việc đã làm được trong năm") == "tinh_hinh_thuc_hien"
    assert classify_heading("Phê duyệt Phương án nổ mìn phục vụ khai thác đá làm vật liệu xây dựng") == "other"


def test_keywords_read_headings_not_sentences():
    assert classify_heading("Công tác phối hợp và những khó khăn, hạn chế") == "danh_gia"
    long = "Đối với các nhà mà người sử dụng chính có hạn chế về tâm lý, nhận thức hoặc vận động thì áp dụng"
    assert classify_heading(long) is None
    # a report part whose long heading mentions a proposal is still the report's account
    doc = _outline("IV. CỤM CÔNG NGHIỆP ĐÃ CÓ NHÀ ĐẦU TƯ ĐỀ XUẤT, SỞ ĐANG HƯỚNG DẪN HOÀN THIỆN HỒ SƠ\nx", "bao_cao")
    assert doc.sections[0].kind == "tinh_hinh_thuc_hien"


def test_a_decisions_execution_article_is_its_organisation_part():
    for article in load("sections")["execution_clause"]["examples"]:
        doc = _outline(f"Điều 1. Phê duyệt Kế hoạch kiểm tra.\nĐiều 2. Quyết định này có hiệu lực kể từ ngày ký.\nĐiều 3. {article}\n", "quyet_dinh")
        assert [s.kind for s in doc.sections] == ["other", "other", "to_chuc_thuc_hien"], article


def test_parts_and_chapters_group_sections_without_changing_their_paths():
    # written after the annual reports' "PHẦN I / PHẦN II" layout and a regulation's chapters
    doc = _outline("PHẦN I. KẾT QUẢ THỰC HIỆN NĂM 2025\nI. Công tác tuyên truyền\n1. Sở Tư pháp\nII. KHÓ KHĂN, HẠN CHẾ\n"
                   "PHẦN II: PHƯƠNG HƯỚNG NHIỆM VỤ NĂM 2026\nI. Công tác tuyên truyền\n- Tiếp tục.\n", "bao_cao")
    got = [(s.id, s.level, s.parent, s.kind) for s in doc.sections]
    assert got == [
        ("part-I", 0, None, "tinh_hinh_thuc_hien"), ("I", 1, "part-I", "tinh_hinh_thuc_hien"), ("I.1", 2, "I", None),
        ("II", 1, "part-I", "danh_gia"), ("part-II", 0, None, "phuong_huong"), ("I~2", 1, "part-II", "phuong_huong"),
        ("I~2#1", 2, "I~2", None),
    ]
    reg = _outline("Chương I. QUY ĐỊNH CHUNG\nĐiều 1. Phạm vi điều chỉnh\n1. Quy chế này quy định.\n"
                   "CHƯƠNG II: TỔ CHỨC THỰC HIỆN\nĐiều 2. Trách nhiệm của các sở\n1. Sở Công Thương chủ trì.\n", "quyet_dinh")
    assert [(s.id, s.level, s.parent) for s in reg.sections] == [
        ("chapter-I", 0, None), ("1", 1, "chapter-I"), ("1.1", 2, "1"),
        ("chapter-II", 0, None), ("2", 1, "chapter-II"), ("2.1", 2, "2")]
    # A line that merely opens with "Phần" is no part.
    plain = _outline("I. NHIỆM VỤ\nPhần mềm quản lý được nâng cấp.\n1. Triển khai", "ke_hoach")
    assert [s.id for s in plain.sections] == ["I", "I.1"]


def test_slash_numbering_is_numbering():
    # written variant of the "I. / 1. / a)" layout in the slash style some provinces use
    doc = _outline("I/ MỤC ĐÍCH, YÊU CẦU\n1/ Mục đích\nII/ TỔ CHỨC THỰC HIỆN\n1/ Sở Y tế: chủ trì.\na/ Hướng dẫn.\n"
                   "Hạn chót 15/12/2025 là hạn cuối.\n", "ke_hoach")
    assert [(s.id, s.kind) for s in doc.sections] == [
        ("I", "muc_dich_yeu_cau"), ("I.1", None), ("II", "to_chuc_thuc_hien"), ("II.1", None), ("II.1.a", None)]


def test_words_that_only_look_like_kind_words():
    assert classify_heading("Mặt bằng thi công và giải phóng mặt bằng", "bao_cao") is None
    assert classify_heading("Nguồn nhân lực cho chuyển đổi số") is None


# wild QD-16-2026 (a decision issuing a regulation printed after its signature); written
# variant: a letter issuing a plan.
def test_a_document_attached_after_the_signature_is_outlined_with_its_own_type():
    doc = _outline(
        "Điều 1. Ban hành kèm theo Quyết định này Quy chế quản lý cụm công nghiệp.\n"
        "Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.\nNơi nhận:\n- Như Điều 2;\nKT. CHỦ TỊCH\nNguyễn Thế Phước\n"
        "QUY CHẾ\nQuản lý cụm công nghiệp\n(Ban hành kèm theo Quyết định số 16/2026/QĐ-UBND)\n"
        "Chương I. QUY ĐỊNH CHUNG\nĐiều 1. Phạm vi điều chỉnh\nChương II. TỔ CHỨC THỰC HIỆN\nĐiều 2. Trách nhiệm của các sở\n"
        "1. Sở Công Thương chủ trì.\nNơi nhận:\n- Lưu.\n", "quyet_dinh")
    got = [(s.id, s.level, s.parent, s.kind) for s in doc.sections]
    assert got == [
        ("1", 1, None, "other"), ("2", 1, None, "other"),
        ("attachment-1", 0, None, None),
        ("chapter-I", 0, "attachment-1", "other"), ("1~2", 1, "chapter-I", "other"),
        ("chapter-II", 0, "attachment-1", "to_chuc_thuc_hien"), ("2~2", 1, "chapter-II", "to_chuc_thuc_hien"),
        ("2~2.1", 2, "2~2", None),
    ]
    # the distribution list and the signature are in no section
    assert "Nơi nhận" not in doc.text[doc.sections[1].span.start:doc.sections[1].span.end]
    letter = _outline("1. Các sở triển khai kế hoạch kèm theo./.\nNơi nhận:\n- Như trên;\nPHỤ LỤC\n1. Danh mục\n"
                      "KẾ HOẠCH\nTriển khai thực hiện\nI. MỤC ĐÍCH, YÊU CẦU\nII. NHIỆM VỤ, GIẢI PHÁP\n", "cong_van")
    assert [(s.id, s.kind) for s in letter.sections] == [
        ("1", "to_chuc_thuc_hien"), ("attachment-1", None), ("I", "muc_dich_yeu_cau"), ("II", "nhiem_vu_giai_phap")]


def test_deeper_decimal_numbers_nest_under_the_number_they_extend():
    # lao-cai_bao-cao_chi-thi-38.docx numbers "2.1." under "2."; written variant one level deeper
    doc = _outline("II. KẾT QUẢ\n2. Công tác chỉ đạo\n2.1. Công tác tuyên truyền\n2.1.1. Tổ chức hội nghị\n"
                   "2.1.2. Phát hành tài liệu\n2.2. Công tác kiểm tra\n3. Khó khăn", "bao_cao")
    assert [(s.id, s.parent) for s in doc.sections] == [
        ("II", None), ("II.2", "II"), ("II.2.1", "II.2"), ("II.2.1.1", "II.2.1"), ("II.2.1.2", "II.2.1"),
        ("II.2.2", "II.2"), ("II.3", "II")]


@pytest.mark.parametrize("a, b", [("a.", "b."), ("a/", "b/"), ("a)", "b)")])
def test_lettered_lines_stay_items_through_normalize(a, b):
    # normalize joins a line that starts in lower case to the one before: a lettered item in
    # any style is a new paragraph (the outline's a) a. a/ markers).
    from pipeline.model import SourceText
    from pipeline.stages.normalize import normalize

    src = (f"V. TỔ CHỨC THỰC HIỆN\n3. Ban Quản lý Khu kinh tế:\n{a} Chủ trì, phối hợp với các đơn vị liên quan.\n"
           f"{b} Phối hợp với Sở Nội vụ kiểm tra\nviệc chấp hành pháp luật.\n")
    text, _ = normalize(SourceText(src, SourceInfo("t", "t", "txt", "", 0)))
    doc = _outline(text, "ke_hoach")
    assert [(s.id, s.parent) for s in doc.sections] == [("V", None), ("V.3", "V"), ("V.3.a", "V.3"), ("V.3.b", "V.3")]
    assert doc.sections[-1].heading == "Phối hợp với Sở Nội vụ kiểm tra việc chấp hành pháp luật."


def test_a_part_after_sections_starts_at_the_top():
    doc = _outline("I. MỞ ĐẦU\n1. Sự cần thiết\nPHẦN II. KẾT QUẢ THỰC HIỆN\nI. Công tác chỉ đạo\nChương I. QUY ĐỊNH CHUNG\n"
                   "Điều 1. Phạm vi\nChương II. TỔ CHỨC THỰC HIỆN\nĐiều 2. Trách nhiệm\nPHẦN III\nII. Kiến nghị", "bao_cao")
    assert [(s.id, s.parent, s.level) for s in doc.sections] == [
        ("I", None, 1), ("I.1", "I", 2), ("part-II", None, 0), ("I~2", "part-II", 1),
        ("chapter-I", "part-II", 0), ("1", "chapter-I", 1), ("chapter-II", "part-II", 0), ("2", "chapter-II", 1),
        ("part-III", None, 0), ("II", "part-III", 1)]


def test_an_article_never_nests_inside_an_item():
    # a decision whose preamble numbers its grounds, then its articles; written variant of QĐ 1050
    doc = _outline("1. Căn cứ Luật Tổ chức chính quyền địa phương;\nĐiều 1. Thành lập Đoàn kiểm tra\n1. Ông Hoàng Văn Thuân\n"
                   "a) Trưởng đoàn\nĐiều 2. Tổ chức thực hiện\n", "quyet_dinh")
    assert [(s.id, s.parent) for s in doc.sections] == [
        ("1", None), ("1~2", None), ("1~2.1", "1~2"), ("1~2.1.a", "1~2.1"), ("2", None)]


def test_marker_found_as_by_trying_each_marker_in_turn():
    """_match_marker starts its list at the marker the combined pattern found; the result
    must be what trying every marker in order gives (rules/sections.yaml examples)."""
    from pipeline.stages.outline import _markers, _match_marker
    from pipeline.rules import load

    def one_by_one(line):
        for mk in _markers():
            m = mk.pattern.match(line)
            if m:
                number = m.group(1) if m.groups() else None
                if mk.type == "roman" and not re.match(r"^[IVXLC]+$", number or ""):
                    continue
                return mk, number, m.end()
        return None

    for entry in load("sections")["markers"]:
        for line in [*entry.get("examples", []), *entry.get("non_examples", []), "IL. không", "- a", "x"]:
            assert _match_marker(line) == one_by_one(line), line
