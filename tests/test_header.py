"""Header stage: issuer, number/symbol, date, type, title, recipients, signer, Nơi nhận.

Short passages are copied from the corpus and from the third-party files in the formats
folder, in the shapes that text extraction gives them: two columns side by side on one
line (PDF text layers), DOCX table cells one after the other, columns flattened into
alternating lines, OCR with the signer title beside "Nơi nhận:".
"""
from __future__ import annotations

import re

import pytest

from pipeline import parse_file
from pipeline.stages.header import _pattern, doc_type_from_symbol, extract_header, find_province
from pipeline.model import Document, SourceInfo, SourceText
from pipeline.stages.normalize import normalize
from pipeline.rules import load
from pipeline.textkeys import fold, match_key


def header_of(text: str, extra_layers: tuple[str, ...] = ()) -> Document:
    """Run normalize and the header stage alone over a passage."""
    info = SourceInfo("t.txt", "t.txt", "txt", "", 0)
    doc = Document(id="t", source=info)
    doc.text, doc.source_map = normalize(SourceText(text, info))
    doc.extra_layers = list(extra_layers)
    extract_header(doc)
    return doc


def spanned(doc: Document, field: str) -> str:
    span = doc.metadata.spans[field]
    return doc.text[span.start:span.end]


# ---------------------------------------------------------------- layouts (short passages)

SIDE_BY_SIDE = """ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH ĐẮK LẮK Độc lập - Tự do - Hạnh phúc
Số: /KH-UBND Đắk Lắk, ngày tháng 12 năm 2024
KẾ HOẠCH
Triển khai thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ
Triển khai thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ ban hành Kế hoạch, UBND tỉnh Đắk Lắk ban hành Kế hoạch triển khai thực hiện như sau:
I. MỤC ĐÍCH, YÊU CẦU
"""


def test_two_columns_on_one_line_are_cut_apart():
    doc = header_of(SIDE_BY_SIDE)
    m = doc.metadata
    assert (m.doc_type, m.number, m.symbol) == ("ke_hoach", None, "KH-UBND")
    assert (m.issuer, m.province, m.place, m.date) == ("UBND tỉnh Đắk Lắk", "Đắk Lắk", "Đắk Lắk", "2024-12")
    assert m.title == "Triển khai thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ"
    assert spanned(doc, "symbol") == "KH-UBND"
    assert spanned(doc, "place") == "Đắk Lắk"
    assert spanned(doc, "province") == "ĐẮK LẮK"


# lao-cai_bao-cao_vlncn-2025.docx: the header table, row by row, each cell's paragraphs.
DOCX_ROWS = """ỦY BAN NHÂN DÂN

CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
TỈNH LÀO CAI

Độc lập - Tự do - Hạnh phúc
Số: \t     /BC-UBND

          Lào Cai, ngày        tháng       năm 2026


BÁO CÁO
Về tình hình hoạt động vật liệu nổ công nghiệp, tiền chất thuốc nổ sử dụng để sản xuất vật liệu nổ công nghiệp trên địa bàn tỉnh Lào Cai năm 2025

Kính gửi: Cục Kỹ thuật an toàn và Môi trường công nghiệp

Thực hiện Thông tư số 23/2024/TT-BCT ngày 07/11/2024 của Bộ Công Thương quy định về quản lý.
"""


def test_docx_table_cells_alternate_columns():
    m = header_of(DOCX_ROWS).metadata
    assert (m.doc_type, m.number, m.symbol) == ("bao_cao", None, "BC-UBND")
    assert m.issuer == "UBND tỉnh Lào Cai"
    assert m.date == "2026"  # day and month left blank
    assert m.title.startswith("Về tình hình hoạt động vật liệu nổ công nghiệp")
    assert m.recipients == ["Cục Kỹ thuật an toàn và Môi trường công nghiệp"]


# lao-cai_ke-hoach_2242-kiem-tra.docx laid out column after column: the department issuer.
DOCX_COLUMNS = """UBND TỈNH LÀO CAI
SỞ CÔNG THƯƠNG
Số:           /KH-SCT
  CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM
  Độc lập - Tự do - Hạnh phúc
   Lào Cai,  ngày       tháng 4 năm 2026
KẾ HOẠCH
Kiểm tra, cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn 
vật liệu nổ công nghiệp, tiền chất thuốc nổ trên địa bàn tỉnh Lào Cai

Căn cứ Luật Quản lý, sử dụng vũ khí, vật liệu nổ và công cụ hỗ trợ ngày 26 tháng 8 năm 2024;
"""


def test_department_issuer_under_the_province_committee():
    m = header_of(DOCX_COLUMNS).metadata
    assert m.issuer == "Sở Công Thương tỉnh Lào Cai"
    assert (m.province, m.symbol, m.doc_type, m.date) == ("Lào Cai", "KH-SCT", "ke_hoach", "2026-04")
    assert m.title == (
        "Kiểm tra, cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công nghiệp, "
        "tiền chất thuốc nổ trên địa bàn tỉnh Lào Cai"
    )


# lao-cai_cong-van_4280.pdf page text, with the stamped number and day that ingest found.
PDF_LETTER = """UBND TỈNH LÀO CAI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
SỞ CÔNG THƯƠNG Độc lập - Tự do - Hạnh phúc
Số: /SCT - CN Lào Cai, ngày tháng 7 năm 2026
V/v hoàn thiện hồ sơ đề nghị
cấp Giấy phép sử dụng vật 
liệu nổ công nghiệp tại mỏ
đá vôi khu vực xã Văn Chấn
Kính gửi: Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ
Ngày 14/7/2026, Sở Công Thương Lào Cai nhận được Giấy đề nghị số
"""


def test_letter_from_a_pdf_text_layer():
    doc = header_of(PDF_LETTER)
    m = doc.metadata
    assert (m.doc_type, m.number, m.symbol) == ("cong_van", None, "SCT-CN")
    assert m.issuer == "Sở Công Thương tỉnh Lào Cai"
    assert m.title == (
        "V/v hoàn thiện hồ sơ đề nghị cấp Giấy phép sử dụng vật liệu nổ công nghiệp tại mỏ "
        "đá vôi khu vực xã Văn Chấn"
    )
    assert spanned(doc, "title") == m.title
    assert m.recipients == ["Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ"]
    assert m.date == "2026-07"


@pytest.mark.parametrize("layers", [
    ("Số: 4280/SCT - CN Lào Cai, ngày 16 tháng 7 năm 2026",),  # as ingest completes the line
    ("4280 16",),  # bare figures that could not be placed
])
def test_signature_stamp_fills_blank_number_and_day(layers):
    doc = header_of(PDF_LETTER, layers)
    assert (doc.metadata.number, doc.metadata.date) == ("4280", "2026-07-16")
    assert any("signature stamp" in w.message for w in doc.warnings)


def test_stamp_for_another_symbol_or_month_is_ignored():
    doc = header_of(PDF_LETTER, ("Số: 4280/UBND-XD", "Lào Cai, ngày 16 tháng 8 năm 2026"))
    assert (doc.metadata.number, doc.metadata.date) == (None, "2026-07")


# lao-cai_quyet-dinh_1050-ocr.txt: OCR puts the signer title beside "Nơi nhận:".
OCR_FOOTER = """Số: 1050 /QĐ-SCT Lào Cai, ngày 06 tháng 3 năm 2026
QUYẾT ĐỊNH
Kiểm tra việc chấp hành pháp luật trong sử dụng và bảo quản vật liệu nổ
công nghiệp trên địa bàn tỉnh Lào Cai năm 2026
GIÁM ĐỐC SỞ CÔNG THƯƠNG TỈNH LÀO CAI
Điều 1. Thành lập Đoàn kiểm tra.
Quyết định này có hiệu lực kể từ ngày ký./.

 Nơi nhận:                                                  GIÁM ĐỐC
 - UBND tỉnh (để báo cáo);
 - Như Điều 5;
 - Lưu: VT, CN(M.Cường).

                                                          Hoàng Chí Hiền
"""


def test_signer_title_beside_the_distribution_label():
    doc = header_of(OCR_FOOTER)
    m = doc.metadata
    assert (m.doc_type, m.number, m.symbol, m.date) == ("quyet_dinh", "1050", "QĐ-SCT", "2026-03-06")
    # the authority line under the title is not part of the title
    assert m.title.endswith("tỉnh Lào Cai năm 2026")
    assert (m.signer_title, m.signer_name) == ("GIÁM ĐỐC", "Hoàng Chí Hiền")
    assert m.distribution == ["UBND tỉnh (để báo cáo)", "Như Điều 5", "Lưu: VT, CN(M.Cường)"]
    assert spanned(doc, "signer_name") == "Hoàng Chí Hiền"


# ---------------------------------------------------------------- corpus documents

def test_plan_without_number_line_or_signer(corpus_dir):
    doc = parse_file(corpus_dir / "cao-bang_ke-hoach-664_2025-03-10.txt")
    m = doc.metadata
    assert (m.symbol, m.number, m.signer_name, m.signer_title) == (None, None, None, None)
    assert (m.doc_type, m.date) == ("ke_hoach", "2025-03-10")
    # no issuer block: read from "Ủy ban nhân dân (UBND) tỉnh Cao Bằng xây dựng Kế hoạch"
    assert (m.issuer, m.province) == ("UBND tỉnh Cao Bằng", "Cao Bằng")
    assert spanned(doc, "issuer") == "Ủy ban nhân dân (UBND) tỉnh Cao Bằng"
    assert m.title.startswith("THỰC HIỆN NGHỊ QUYẾT SỐ 209/NQ-CP") and m.title.endswith("TRONG TÌNH HÌNH MỚI")
    assert m.distribution[0] == "Bộ Nội vụ" and m.distribution[-1] == "Lưu: VT,VX (T)"


def test_letter_with_recipient_list_and_signature(corpus_dir):
    doc = parse_file(corpus_dir / "cao-bang_cong-van_2025-08.txt")
    m = doc.metadata
    assert (m.doc_type, m.symbol, m.issuer, m.date) == ("cong_van", "UBND-VX", "UBND tỉnh Cao Bằng", "2025-08")
    assert m.title.startswith("V/v tăng cường công tác đảm bảo an toàn")
    assert m.recipients == ["Các Sở, Ban ngành, đoàn thể tỉnh", "Ủy ban nhân dân các xã, phường"]
    assert (m.signer_title, m.signer_name) == ("PHÓ CHỦ TỊCH", "Trịnh Trường Huy")


def test_markdown_stars_are_not_part_of_values(corpus_dir):
    # "**KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH**" in the source
    doc = parse_file(corpus_dir / "cao-bang_bao-cao_2025-12.txt")
    m = doc.metadata
    assert (m.signer_title, m.signer_name) == ("PHÓ CHỦ TỊCH", "Vũ Đình Quang")
    assert spanned(doc, "signer_title") == "PHÓ CHỦ TỊCH"
    assert (m.doc_type, m.symbol, m.date, m.recipients) == ("bao_cao", "BC-UBND", "2025-12", ["Bộ Nội vụ"])


def test_tm_kt_block_after_a_stray_line(corpus_dir):
    # "Hattt/KH07 / TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / Bùi Văn Lương"
    m = parse_file(corpus_dir / "thai-nguyen_ke-hoach_2025-11.txt").metadata
    assert (m.signer_title, m.signer_name) == ("PHÓ CHỦ TỊCH", "Bùi Văn Lương")
    assert (m.issuer, m.province) == ("UBND tỉnh Thái Nguyên", "Thái Nguyên")
    assert m.distribution[-1] == "Lưu: VT, NC" and len(m.distribution) == 16


# ---------------------------------------------------------------- real files (formats folder)

FORMATS = {
    "lao-cai_bao-cao_vlncn-2025.docx": dict(
        doc_type="bao_cao", number=None, symbol="BC-UBND", issuer="UBND tỉnh Lào Cai", province="Lào Cai",
        date="2026", signer_name="Nguyễn Thành Sinh", signer_title="PHÓ CHỦ TỊCH"),
    "lao-cai_ke-hoach_2242-kiem-tra.docx": dict(
        doc_type="ke_hoach", number=None, symbol="KH-SCT", issuer="Sở Công Thương tỉnh Lào Cai",
        province="Lào Cai", date="2026-04", signer_name="Hoàng Văn Thuân", signer_title="PHÓ GIÁM ĐỐC"),
    "lao-cai_cong-van_don-doc-vlncn.docx": dict(
        doc_type="cong_van", number=None, symbol="SCT-CN", issuer="Sở Công Thương tỉnh Lào Cai",
        date="2026-05", title="V/v thực hiện quy định pháp luật về vật liệu nổ công nghiệp",
        signer_name="Hoàng Văn Thuân", signer_title="PHÓ GIÁM ĐỐC"),
    "lao-cai_cong-van_3686-pccc.pdf": dict(
        doc_type="cong_van", number="3686", symbol="UBND-XD", issuer="UBND tỉnh Lào Cai", date="2026-05-11",
        recipients=["Bộ Xây dựng"], signer_name="Phan Trung Bá", signer_title="PHÓ CHỦ TỊCH"),
    "lao-cai_cong-van_4280.pdf": dict(
        doc_type="cong_van", number="4280", symbol="SCT-CN", issuer="Sở Công Thương tỉnh Lào Cai",
        date="2026-07-16", signer_name="Hoàng Văn Thuân", signer_title="PHÓ GIÁM ĐỐC"),
    "lao-cai_quyet-dinh_1050-ocr.txt": dict(
        doc_type="quyet_dinh", number="1050", symbol="QĐ-SCT", issuer="Sở Công Thương tỉnh Lào Cai",
        date="2026-03-06", signer_name="Hoàng Chí Hiền", signer_title="GIÁM ĐỐC"),
}


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_header_of_real_files(formats_dir, name):
    doc = parse_file(formats_dir / name)
    assert doc.status != "failed", doc.errors
    got = {field: getattr(doc.metadata, field) for field in FORMATS[name]}
    assert got == FORMATS[name]


# ---------------------------------------------------------------- rules and gazetteers

@pytest.mark.parametrize("symbol, doc_type", [
    ("KH-UBND", "ke_hoach"), ("BC-UBND", "bao_cao"), ("QĐ-SCT", "quyet_dinh"), ("QD-UBND", "quyet_dinh"),
    ("TTr-SNV", "to_trinh"), ("CT-UBND", "chi_thi"), ("CTr-UBND", "chuong_trinh"), ("UBND-VX", "cong_van"),
    ("SCT-CN", "cong_van"), ("2025/QĐ-UBND", "quyet_dinh"),
])
def test_doc_type_from_symbol_code(symbol, doc_type):
    assert doc_type_from_symbol(symbol) == doc_type


@pytest.mark.parametrize("words, name", [
    ("LÀO CAI", "Lào Cai"), ("Thanh Hoá", "Thanh Hóa"), ("dak lak ban hành", "Đắk Lắk"),
    ("Bà Rịa - Vũng Tàu", "Bà Rịa - Vũng Tàu"), ("THỪA THIÊN HUẾ", "Thừa Thiên Huế"), ("Huế", "Huế"),
])
def test_province_lookup(words, name):
    found = find_province(words)
    assert found and found[0].name == name


def test_province_gazetteer_shape():
    data = load("provinces")
    current = {p["name"] for p in data["current"]}
    assert len(current) == 34 and len({p["name"] for p in data["former"]}) == 63
    for entry in data["current"] + data["former"]:
        assert fold(entry["name"]) == fold(entry["ascii"]), entry
    assert {p["merged_into"] for p in data["former"]} == current
    assert {p["kind"] for p in data["current"] + data["former"]} <= set(data["kinds"])


def test_a_rule_tried_only_on_its_first_letters_has_examples_that_open_with_them():
    for name, entry in load("header").items():
        if isinstance(entry, dict) and "first_letters" in entry:
            for text in entry["examples"]:
                assert text[:1] in entry["first_letters"], (name, text)


def test_header_patterns_reject_their_non_examples():
    for name, entry in load("header").items():
        if isinstance(entry, dict) and "non_examples" in entry:
            for text in entry["non_examples"]:
                assert not _pattern(name).search(match_key(text)), (name, text)


def test_number_pattern_captures_number_and_symbol():
    for text, number, symbol in [
        ("Số: 664/KH-UBND", "664", "kh-ubnd"), ("Số: /BC-UBND", None, "bc-ubnd"),
        ("Số: 1050 /QĐ-SCT Lào Cai, ngày", "1050", "qđ-sct"), ("Số: ......./KH-UBND", None, "kh-ubnd"),
        ("Số: 05/2025/QĐ-UBND", "05/2025", "qđ-ubnd"),
    ]:
        m = _pattern("number").search(match_key(text))
        assert m and m.group("number") == number and re.sub(r"\s", "", m.group("symbol")) == symbol, text


@pytest.mark.parametrize("text, doc_type, symbol", [
    # wild: a law, a decree, a circular, a permit; written variant: a decree of another body
    ("QUỐC HỘI\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nLuật số: 84/2025/QH15\n"
     "Hà Nội, ngày 25 tháng 6 năm 2025\nLUẬT\nTHANH TRA\nCăn cứ Hiến pháp nước Cộng hòa xã hội chủ nghĩa Việt Nam;\n", "other", "QH15"),
    ("CHÍNH PHỦ\n--------\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 14/2026/NĐ-CP\n"
     "Hà Nội, ngày 13 tháng 01 năm 2026\nNGHỊ ĐỊNH\nSỬA ĐỔI, BỔ SUNG MỘT SỐ ĐIỀU CỦA CÁC NGHỊ ĐỊNH\nCăn cứ Luật Tổ chức Chính phủ;\n", "other", "NĐ-CP"),
    ("BỘ GIAO THÔNG VẬN TẢI CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
     "Số: /2023/TT-BGTVT Hà Nội, ngày tháng năm 2023\nTHÔNG TƯ\nVề quản lý hoạt động vận tải đường bộ qua biên giới\nCăn cứ Luật;\n", "other", "2023/TT-BGTVT"),
    ("ỦY BAN NHÂN DÂN\nTỈNH LÀO CAI\nSố: /GP-UBND\nLào Cai, ngày tháng năm 2026\nGIẤY PHÉP SỬ DỤNG VẬT LIỆU NỔ CÔNG NGHIỆP\nCăn cứ Luật;\n", "other", "GP-UBND"),
])
def test_laws_decrees_circulars_and_permits_are_not_letters(text, doc_type, symbol):
    m = header_of(text).metadata
    assert (m.doc_type, m.symbol) == (doc_type, symbol)


def test_symbol_codes_with_a_term_number():
    assert doc_type_from_symbol("84/2025/QH15") == "other"
    assert doc_type_from_symbol("UBND-VX") == "cong_van"
    assert doc_type_from_symbol("KH-UBND") == "ke_hoach"


# lao-cai_cong-van_7103-nd178.txt and lao-cai_cong-van_7432-pccc.pdf: a subject wrapped after
# "số" and after "của Bộ"; written variant: wrapped after a comma.
@pytest.mark.parametrize("subject_lines, title", [
    (["V/v triển khai thực hiện Nghị định số", "178/2026/NĐ-CP ngày 20/5/2026 của Chính phủ"],
     "V/v triển khai thực hiện Nghị định số 178/2026/NĐ-CP ngày 20/5/2026 của Chính phủ"),
    (["V/v triển khai thực hiện Quyết định số", "1074/QĐ-BXD ngày 29/6/2026 của Bộ", "Xây dựng ban hành các giải pháp kỹ thuật"],
     "V/v triển khai thực hiện Quyết định số 1074/QĐ-BXD ngày 29/6/2026 của Bộ Xây dựng ban hành các giải pháp kỹ thuật"),
    (["V/v tăng cường công tác quản lý,", "Giám sát hoạt động VLNCN trên địa bàn tỉnh"],
     "V/v tăng cường công tác quản lý, Giám sát hoạt động VLNCN trên địa bàn tỉnh"),
])
def test_wrapped_subject_lines_are_one_title(subject_lines, title):
    text = ("ỦY BAN NHÂN DÂN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTỈNH LÀO CAI Độc lập - Tự do - Hạnh phúc\n"
            "Lào Cai, ngày 10 tháng 7 năm 2026\nSố: 7103 /UBND-TH\n" + "\n".join(subject_lines) +
            "\nKính gửi:\n- Các sở, ban, ngành thuộc UBND tỉnh;\nThực hiện Nghị định số 178/2026/NĐ-CP.\n")
    doc = header_of(text)
    assert doc.metadata.title == title
    assert doc.metadata.issuer == "UBND tỉnh Lào Cai"


def test_a_subject_that_is_complete_takes_no_next_line():
    text = ("UBND TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG\nSố: /SCT-CN\nV/v thực hiện quy định pháp luật về vật liệu nổ công nghiệp\n"
            "Lào Cai, ngày tháng 6 năm 2026\nKính gửi: Các tổ chức hoạt động vật liệu nổ công nghiệp\n")
    assert header_of(text).metadata.title == "V/v thực hiện quy định pháp luật về vật liệu nổ công nghiệp"


# lao-cai_thong-bao_ket-luan-ubnd.docx: a notice of the committee's office, its title wrapped
# after "Chủ tịch"; lao-cai_ke-hoach_de-an-08-cong-nghiep.docx: a bracketed note under the title.
def test_office_issuer_and_wrapped_sentence_case_title():
    text = ("UBND TỈNH LÀO CAI\nVĂN PHÒNG\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: /TB-VP\n"
            "Lào Cai, ngày tháng 6 năm 2026\nTHÔNG BÁO\nKết luận của đồng chí Nguyễn Tuấn Anh - Phó Bí thư Tỉnh ủy, Chủ tịch\n"
            "Ủy ban nhân dân tỉnh tại cuộc họp về tình hình triển khai các cụm công nghiệp\n_____________\n"
            "Ngày 19 tháng 6 năm 2026, Ủy ban nhân dân tỉnh tổ chức cuộc họp.\n")
    m = header_of(text).metadata
    assert m.issuer == "Văn phòng UBND tỉnh Lào Cai" and m.doc_type == "thong_bao"
    assert m.title == ("Kết luận của đồng chí Nguyễn Tuấn Anh - Phó Bí thư Tỉnh ủy, Chủ tịch "
                       "Ủy ban nhân dân tỉnh tại cuộc họp về tình hình triển khai các cụm công nghiệp")


@pytest.mark.parametrize("note", ["(Ban hành kèm theo Nghị quyết số 35-NQ/TU ngày 29/12/2025 của Tỉnh ủy Lào Cai)",
                                  "(Kèm theo Quyết định số 1050/QĐ-SCT ngày 06/3/2025 của Sở Công Thương)"])
def test_bracketed_note_under_the_title_belongs_to_it(note):
    text = ("UBND TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG\nSố: /KH-SCT\nLào Cai, ngày tháng 4 năm 2026\nKẾ HOẠCH\n"
            "Thực hiện Đề án số 08 về phát triển công nghiệp giai đoạn 2026-2030\n" + note +
            "\nCăn cứ Nghị quyết số 35-NQ/TU ngày 29/12/2025 của Tỉnh ủy Lào Cai;\n")
    m = header_of(text).metadata
    assert m.title == "Thực hiện Đề án số 08 về phát triển công nghiệp giai đoạn 2026-2030 " + note
    assert m.issuer == "Sở Công Thương tỉnh Lào Cai"


# lao-cai_ke-hoach_134-kcn.txt: the footer's two columns flattened, the signer's name at the end
# of a "Nơi nhận" item; written variant: another name, another item. An agency there is no name.
@pytest.mark.parametrize("item, name", [
    ("- Lãnh đạo VPUBND tỉnh; Nguyễn Thế Phước", "Nguyễn Thế Phước"),
    ("- Các BQL dự án ĐTXD tỉnh; Hoàng Chí Hiền", "Hoàng Chí Hiền"),
    ("- Văn phòng UBND tỉnh; Sở Công Thương", None),
])
def test_signer_name_beside_a_distribution_item(item, name):
    text = ("UBND TỈNH LÀO CAI\nSố: 134/KH-UBND\nLào Cai, ngày 26 tháng 3 năm 2026\nKẾ HOẠCH\nThực hiện Nghị quyết số 34-NQ/TU\n"
            "I. MỤC ĐÍCH\nNội dung./.\nNơi nhận: TM. ỦY BAN NHÂN DÂN\n- Như Điều 3; KT. CHỦ TỊCH\n"
            "- TT. Tỉnh uỷ, HĐND tỉnh; PHÓ CHỦ TỊCH\n- UBND các xã, phường;\n" + item + "\n- Lưu: VT, TH.\n")
    doc = header_of(text)
    assert doc.metadata.signer_title == "PHÓ CHỦ TỊCH"
    assert doc.metadata.signer_name == name
    if name:
        assert spanned(doc, "signer_name") == name
        assert not any(name in d for d in doc.metadata.distribution)


# wild: a department's own block with the province after its name and the unit that signs
# under it; written variant: another department, another unit.
@pytest.mark.parametrize("block, issuer", [
    ("SỞ CÔNG THƯƠNG LÀO CAI\nĐOÀN KIỂM TRA", "Sở Công Thương tỉnh Lào Cai"),
    ("UBND TỈNH CAO BẰNG\nSỞ NỘI VỤ\nPHÒNG CÔNG CHỨC", "Sở Nội vụ tỉnh Cao Bằng"),
    ("UBND TỈNH LÀO CAI\nSỞ CÔNG THƯƠNG", "Sở Công Thương tỉnh Lào Cai"),
])
def test_department_issuer_with_words_after_its_name(block, issuer):
    text = (block + "\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 12/BC-ĐKT\n"
            "Lào Cai, ngày 05 tháng 3 năm 2026\nBÁO CÁO\nKết quả kiểm tra\nI. KẾT QUẢ\n")
    assert header_of(text).metadata.issuer == issuer


def test_prime_minister_signs():
    text = ("THỦ TƯỚNG CHÍNH PHỦ\nSố: 07/CT-TTg\nHà Nội, ngày 02 tháng 3 năm 2012\nCHỈ THỊ\nVề việc chấn chỉnh công tác quản lý\n"
            "1. Các Bộ thực hiện./.\nNơi nhận:\n- Ban Bí thư Trung ương Đảng;\n- Lưu: Văn thư, KTN (5b).\nTHỦ TƯỚNG\nNguyễn Tấn Dũng\n")
    m = header_of(text).metadata
    assert (m.signer_title, m.signer_name) == ("THỦ TƯỚNG", "Nguyễn Tấn Dũng")


# wild QD-11-2026-QD-UBND-Lao-Cai-OCR: OCR put "II" for 11 and "É" for "Ế"; written variant:
# "O" for 0 in another number and a misread tone in another type word.
@pytest.mark.parametrize("number_line, type_line, number, doc_type", [
    ("Số: II /2026/QĐ-UBND Lào Cai, ngày 29 tháng 01 năm 2026", "QUYÉT ĐỊNH", "11/2026", "quyet_dinh"),
    ("Số: 1O5/KH-UBND Lào Cai, ngày 29 tháng 01 năm 2026", "KÉ HOẠCH", "105", "ke_hoach"),
])
def test_ocr_figures_and_tone_marks_in_the_header(number_line, type_line, number, doc_type):
    text = ("ỦY BAN NHÂN DÂN _ CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nTỈNH LÀO CAI Độc lập - Tự do - Hạnh phúc\n"
            f"{number_line}\n{type_line}\nBan hành Quy định một số nội dung về quản lý đầu tư\n"
            "Căn cứ Luật Tổ chức chính quyền địa phương số 72/2025/QH15;\n")
    m = header_of(text).metadata
    assert (m.number, m.doc_type, m.date) == (number, doc_type, "2026-01-29")
    assert m.title == "Ban hành Quy định một số nội dung về quản lý đầu tư"
    assert m.symbol in ("QĐ-UBND", "KH-UBND")


# written after the provincial headers (communes issue their own documents since 2025): the
# committee of a commune, a ward; the province comes from the place line.
@pytest.mark.parametrize("block, issuer", [
    ("ỦY BAN NHÂN DÂN\nXÃ BẢO YÊN", "UBND xã Bảo Yên"),
    ("UBND PHƯỜNG CAM ĐƯỜNG", "UBND phường Cam Đường"),
])
def test_commune_issuer(block, issuer):
    text = (block + "\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\nSố: 25/KH-UBND\n"
            "Lào Cai, ngày 05 tháng 3 năm 2026\nKẾ HOẠCH\nTriển khai thực hiện\nI. MỤC ĐÍCH\n")
    m = header_of(text).metadata
    assert (m.issuer, m.province) == (issuer, "Lào Cai")
