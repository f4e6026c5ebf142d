"""Ingest on real third-party files (/work/shared/formats, read in place) and on the
DOCX/PDF renderings of the corpus (corpus/make_renderings.py)."""
from __future__ import annotations

from collections import Counter

import pytest

from pipeline.errors import IngestError
from pipeline.stages.ingest import ingest, soffice_path
from pipeline.stages.normalize import normalize
from pipeline.textkeys import fold


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


# --- real DOCX ------------------------------------------------------------------------


def test_report_docx_header_table_reads_row_by_row(formats_dir):
    src = ingest(formats_dir / "lao-cai_bao-cao_vlncn-2025.docx")
    lines = _lines(src.text)
    assert lines[:4] == [
        "ỦY BAN NHÂN DÂN",
        "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "TỈNH LÀO CAI",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert lines[4].startswith("Số:") and lines[4].endswith("/BC-UBND")
    assert lines[5].startswith("Lào Cai, ngày")
    assert "Kính gửi: Cục Kỹ thuật an toàn và Môi trường công nghiệp" in lines


def test_report_docx_data_table_merged_cells_once(formats_dir):
    lines = _lines(ingest(formats_dir / "lao-cai_bao-cao_vlncn-2025.docx").text)
    # "Cơ quan cấp phép" spans three columns, "TT" two rows: each is read once
    assert lines.count("Cơ quan cấp phép") == 1
    assert lines.count("TT") == 1
    row = lines.index("Tìm kiếm, thăm dò, khai thác khoáng sản trên đất liền")
    assert lines[row - 1 : row + 6] == [
        "1", "Tìm kiếm, thăm dò, khai thác khoáng sản trên đất liền", "40", "50", "11", "00", "39",
    ]
    # the signature block sits after the body text
    assert lines[-3:] == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Thành Sinh"]


def test_plan_docx_body_and_annex_table(formats_dir):
    src = ingest(formats_dir / "lao-cai_ke-hoach_2242-kiem-tra.docx")
    lines = _lines(src.text)
    assert lines[:2] == ["UBND TỈNH LÀO CAI", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert "KẾ HOẠCH" in lines
    assert lines.index("I. MỤC ĐÍCH, YÊU CẦU") < lines.index("III. TỔ CHỨC THỰC HIỆN")
    assert any(line.startswith("Căn cứ Nghị định số 181/2024/NĐ-CP") for line in lines)
    # annex table: the auto-numbered "TT" cells are empty paragraphs and give no lone "1."
    assert "Rà soát việc đáp ứng các điều kiện của học viên" in lines
    assert not any(line in ("1.", "2.", "3.") for line in lines)


def test_letter_docx_subject_and_signature(formats_dir):
    lines = _lines(ingest(formats_dir / "lao-cai_cong-van_don-doc-vlncn.docx").text)
    assert lines[:2] == ["UBND TỈNH LÀO CAI", "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert "V/v thực hiện quy định pháp luật về vật liệu nổ công nghiệp" in lines
    assert any("Văn bản số 193/UBND-KT ngày 10/01/2026" in line for line in lines)
    assert lines[-3:] == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Hoàng Văn Thuân"]


# --- real PDF -------------------------------------------------------------------------


def test_signed_pdf_3686_pages_and_stamped_number(formats_dir):
    src = ingest(formats_dir / "lao-cai_cong-van_3686-pccc.pdf")
    assert src.info.page_count == 3 and len(src.page_starts) == 3
    first = src.text[: src.page_starts[1]]
    assert "Kính gửi: Bộ Xây dựng" in first
    assert "Số: /UBND-XD" in first  # the page text leaves the number blank ...
    # ... the signature widgets placed over the blanks carry it
    assert "Số: 3686/UBND-XD" in src.extra_layers
    assert "Lào Cai, ngày 11 tháng 5 năm 2026" in src.extra_layers
    assert src.text[src.page_starts[2]:].rstrip().endswith("Phan Trung Bá")
    # superscript footnote markers are not glued to the document number
    assert "Luật số 42/2024/QH15¹ ngày 29/6/2024" in " ".join(src.text.split())
    assert "QH151" not in src.text
    assert "² Nghị định số 105/2025/NĐ-CP" in src.text
    signatures = [layer for layer in src.extra_layers if layer.startswith("Chữ ký số:")]
    assert any("Phan Trung Bá" in s and "2026-05-11T15:20:11+07:00" in s for s in signatures)


def test_signed_pdf_4280_one_line_header(formats_dir):
    src = ingest(formats_dir / "lao-cai_cong-van_4280.pdf")
    assert src.info.page_count == 3
    assert "Số: 4280/SCT - CN Lào Cai, ngày 16 tháng 7 năm 2026" in src.extra_layers
    # pdfium marks a hyphen it joined across a line end with U+0002: restored
    assert "Thông tư số 23/2024/TT-BCT ngày 07/11/2024" in src.text
    assert "\x02" not in src.text
    assert "Kính gửi: Doanh nghiệp tư nhân Thành Hương Nghĩa Lộ" in src.text


def test_pdf_with_unmapped_cid_fonts_needs_ocr(formats_dir):
    with pytest.raises(IngestError) as info:
        ingest(formats_dir / "lao-cai_quyet-dinh_1050-cid-fonts.pdf")
    assert info.value.reason.startswith("unreadable text layer: needs OCR")


def test_ocr_text_of_the_same_decision(formats_dir):
    src = ingest(formats_dir / "lao-cai_quyet-dinh_1050-ocr.txt")
    assert src.info.encoding == "utf-8"
    assert "Số: 1050 /QĐ-SCT" in src.text
    assert "QUYẾT ĐỊNH" in src.text


def test_legacy_doc_follows_the_machine(formats_dir):
    path = formats_dir / "lao-cai_cong-van_legacy.doc"
    if soffice_path() is None:
        with pytest.raises(IngestError) as info:
            ingest(path)
        assert info.value.reason.startswith("legacy Word .doc: install LibreOffice")
    else:
        src = ingest(path)
        assert src.info.converted_from == "doc"
        assert "CÔNG THƯƠNG" in src.text.upper()


# --- corpus renderings ----------------------------------------------------------------


STEMS = [
    "cao-bang_bao-cao_2025-12",
    "cao-bang_cong-van_2025-08",
    "cao-bang_ke-hoach-664_2025-03-10",
    "dak-lak_ke-hoach_2024-12",
    "thai-nguyen_ke-hoach_2025-11",
]


def _words(text: str) -> Counter:
    return Counter(fold(text).split())


@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("ext", [".docx", ".pdf"])
def test_rendering_has_the_text_of_the_txt(corpus_dir, stem, ext):
    txt = _words(ingest(corpus_dir / f"{stem}.txt").text)
    rendered = ingest(corpus_dir / f"{stem}{ext}")
    got = _words(rendered.text)
    common = sum((txt & got).values())
    assert common / sum(txt.values()) >= 0.98
    assert common / sum(got.values()) >= 0.98


@pytest.mark.parametrize("stem", STEMS)
def test_rendered_docx_has_one_paragraph_per_normalized_paragraph(corpus_dir, stem):
    paras, _ = normalize(ingest(corpus_dir / f"{stem}.txt"))
    docx_lines = _lines(ingest(corpus_dir / f"{stem}.docx").text)
    # the body after the header block is the same paragraphs in the same order
    body = [p for p in paras.split("\n") if p.strip()]
    tail = min(len(body), len(docx_lines)) - 8
    assert docx_lines[-tail:] == body[-tail:]


@pytest.mark.parametrize("stem", STEMS)
def test_rendered_pdf_has_pages(corpus_dir, stem):
    src = ingest(corpus_dir / f"{stem}.pdf")
    assert src.info.page_count >= 2
    assert src.page_starts == sorted(src.page_starts) and src.page_starts[0] == 0
    assert len(src.page_starts) == src.info.page_count


def test_rendered_docx_puts_the_two_column_header_in_a_table(corpus_dir):
    # the TXT has "ỦY BAN NHÂN DÂN CỘNG HÒA ..." on one line (a PDF copy); the DOCX
    # header table gives each column's line on its own, row by row
    lines = _lines(ingest(corpus_dir / "dak-lak_ke-hoach_2024-12.docx").text)
    assert lines[:6] == [
        "ỦY BAN NHÂN DÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "TỈNH ĐẮK LẮK",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: /KH-UBND",
        "Đắk Lắk, ngày tháng 12 năm 2024",
    ]
    assert lines[6] == "KẾ HOẠCH"
