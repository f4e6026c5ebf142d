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
from pipeline.header import _pattern, doc_type_from_symbol, extract_header, find_province
from pipeline.model import Document, SourceInfo, SourceText
from pipeline.normalize import normalize
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
