"""Stage 1, ingest: unit tests on small generated inputs (see test_formats_ingest.py for
the real third-party files and the corpus renderings)."""
from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest

from pipeline.stages.ingest import checks
from pipeline.stages.ingest import docx as docx_reader
from pipeline.stages.ingest import pdf as pdf_reader
from pipeline.stages.ingest import txt as txt_reader
from pipeline.errors import IngestError
from pipeline.stages.ingest import ingest, soffice_path

# Real passages (corpus/cao-bang_cong-van_2025-08.txt).
HEADER = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n"
BODY = (
    "Thực hiện Luật An toàn, vệ sinh lao động ngày 25/6/2015; Nghị định số "
    "39/2016/NĐ-CP ngày 15/5/2016 của Chính phủ quy định chi tiết thi hành một số "
    "điều của Luật An toàn, vệ sinh lao động.\n"
)
SAMPLE = HEADER + "Số:            /UBND-VX\n" + BODY
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
_TONES = "\u0300\u0301\u0303\u0309\u0323"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _reason(path: Path) -> str:
    with pytest.raises(IngestError) as info:
        ingest(path)
    return info.value.reason


def _cp1258(text: str) -> bytes:
    """Encode like Windows-1258: precomposed base letters, tones as combining marks."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            nfd = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES))
            out += base.encode("cp1258") + "".join(c for c in nfd if c in _TONES).encode("cp1258")
    return bytes(out)


# --- TXT ------------------------------------------------------------------------------


def test_utf8_text_is_kept_verbatim(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", SAMPLE.encode("utf-8")))
    assert src.text == SAMPLE  # the blank number's spaces are kept: no viparse on Unicode
    assert src.info.encoding == "utf-8"
    assert src.info.format == "txt"
    assert src.info.size_bytes == len(SAMPLE.encode("utf-8"))
    assert len(src.info.sha256) == 64


def test_utf8_bom_is_dropped(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", b"\xef\xbb\xbf" + SAMPLE.encode("utf-8")))
    assert src.text == SAMPLE
    assert src.info.encoding == "utf-8-sig"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    data = SAMPLE.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    src = ingest(_write(tmp_path, "a.txt", data))
    assert src.text == SAMPLE
    assert src.info.encoding == "utf-16"


def test_utf16_without_bom(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", SAMPLE.encode("utf-16-le")))
    assert src.text == SAMPLE
    assert src.info.encoding == "utf-16"


def test_cp1258_is_decoded_and_composed(tmp_path):
    data = _cp1258(SAMPLE)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    src = ingest(_write(tmp_path, "a.txt", data))
    assert src.info.encoding == "cp1258"
    assert src.text == SAMPLE
    assert unicodedata.is_normalized("NFC", src.text)


def test_nfd_input_comes_out_nfc(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", unicodedata.normalize("NFD", SAMPLE).encode()))
    assert src.text == SAMPLE


def test_crlf_line_ends_become_lf(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", SAMPLE.replace("\n", "\r\n").encode()))
    assert src.text == SAMPLE


TCVN3 = "Céng hoµ x· héi chñ nghÜa ViÖt Nam\n§éc lËp - Tù do - H¹nh phóc\n"
VNI = "Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam\n"


def test_tcvn3_typed_text_saved_as_utf8_is_converted(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", TCVN3.encode("utf-8")))
    assert src.text.startswith("Cộng hoà xã hội chủ nghĩa Việt Nam\nĐộc lập - Tự do - Hạnh phúc")
    assert src.info.encoding == "tcvn3"
    assert any("TCVN3" in w for w in src.warnings)


def test_tcvn3_bytes_are_converted(tmp_path):
    # a .txt saved from a .VnTime document: one byte per character
    src = ingest(_write(tmp_path, "a.txt", TCVN3.encode("cp1252")))
    assert src.text.startswith("Cộng hoà xã hội chủ nghĩa Việt Nam")
    assert src.info.encoding == "tcvn3"


def test_vni_text_is_converted(tmp_path):
    src = ingest(_write(tmp_path, "a.txt", VNI.encode("utf-8")))
    assert src.text.strip() == "Cộng hòa xã hội chủ nghĩa Việt Nam"
    assert src.info.encoding == "vni"


def test_mojibake_is_repaired(tmp_path):
    mojibake = SAMPLE.encode("utf-8").decode("latin-1")
    src = ingest(_write(tmp_path, "a.txt", mojibake.encode("utf-8")))
    assert src.text == SAMPLE
    assert "mojibake" in src.info.encoding
    assert src.warnings


def test_clean_text_with_latin1_letters_is_not_touched(tmp_path):
    # à á â ã è é ... are Latin-1 letters too; Unicode-only letters (ộ, ư, đ) show it is clean
    text = "Bộ Nội vụ; Sở Tài chính; ông Nguyễn Văn Á; café; naïve résumé\n"
    src = ingest(_write(tmp_path, "a.txt", text.encode()))
    assert src.text == text
    assert src.info.encoding == "utf-8"


def _letters_by_regex(text: str) -> tuple[int, int]:
    return len(txt_reader._LATIN1_HIGH.findall(text)), len(txt_reader._UNICODE_VIET.findall(text))


@pytest.mark.parametrize("text", [
    "Bộ Nội vụ; Sở Tài chính; ông Nguyễn Văn Á; café; naïve résumé",  # Unicode with Latin-1 letters
    TCVN3, VNI,  # legacy fonts: Latin-1 look-alikes only
    "Nghĩa Lộ, Ĩa, Đắk Lắk, Ơ, Ư",  # ĩ/Ĩ share Ă's lead byte and are no Unicode-only letter
    "Ā ā ẁ ẟ ỻ \x85 mixed with ộ ư đ",  # neighbours that share the lead bytes: counted by regex
    "",
])
def test_letter_counts_by_lead_byte_equal_the_regex_counts(text):
    assert txt_reader._letter_counts(text) == _letters_by_regex(text)


def test_letter_counts_on_the_eval_and_corpus_texts():
    root = Path(__file__).resolve().parents[1]
    files = sorted((root / "corpus").glob("*.txt")) + sorted((root.parent / "shared" / "eval" / "docs").glob("*.txt"))
    assert files
    for f in files:
        text = f.read_text(encoding="utf-8", errors="replace")
        assert txt_reader._letter_counts(text) == _letters_by_regex(text), f.name


def test_empty_file_is_refused(tmp_path):
    assert _reason(_write(tmp_path, "a.txt", b"")) == "empty file"


def test_whitespace_only_file_is_refused(tmp_path):
    assert "empty" in _reason(_write(tmp_path, "a.txt", b" \n\n\t \n"))


def test_nul_bytes_are_refused_as_binary(tmp_path):
    data = bytes(range(256)) * 8 + b"\x00\x01\x02\x03\x00"
    assert _reason(_write(tmp_path, "a.txt", data)).startswith("binary data")


def test_control_characters_are_refused_as_binary(tmp_path):
    data = bytes([0x10, 0x41, 0x1b, 0x42, 0x07] * 100)
    assert _reason(_write(tmp_path, "a.txt", data)).startswith("binary data")


def test_oversized_text_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "MAX_TEXT_BYTES", 1000)
    reason = _reason(_write(tmp_path, "a.txt", SAMPLE.encode() * 10))
    assert reason.startswith("text file too large")


def test_default_text_limit_is_20_mb():
    assert checks.MAX_TEXT_BYTES == 20 * 1024 * 1024


# --- paths ----------------------------------------------------------------------------


def test_missing_file(tmp_path):
    assert _reason(tmp_path / "nope.txt") == "no such file"


def test_directory(tmp_path):
    d = tmp_path / "folder.txt"
    d.mkdir()
    assert "is a directory" in _reason(d)


def test_unknown_extension(tmp_path):
    reason = _reason(_write(tmp_path, "a.odt", b"PK\x03\x04"))
    assert reason.startswith("unsupported file type '.odt'")


def test_error_message_carries_the_path(tmp_path):
    path = tmp_path / "nope.pdf"
    with pytest.raises(IngestError) as info:
        ingest(path)
    assert str(path) in str(info.value)


# --- PDF ------------------------------------------------------------------------------


def _pdf(pages: list[list[str]], **canvas_args) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSerif", str(DEJAVU)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, **canvas_args)
    for lines in pages:
        c.setFont("DejaVuSerif", 12)
        y = 780
        for line in lines:
            c.drawString(72, y, line)
            y -= 18
        c.showPage()
    c.save()
    return buf.getvalue()


PAGE1 = ["ỦY BAN NHÂN DÂN", "TỈNH CAO BẰNG", "Số: /UBND-VX"]
PAGE2 = ["3. Giao Sở Nội vụ chủ trì, phối hợp với các cơ quan liên quan."]


def test_pdf_text_and_page_starts(tmp_path):
    src = ingest(_write(tmp_path, "a.pdf", _pdf([PAGE1, PAGE2])))
    assert src.info.format == "pdf"
    assert src.info.page_count == 2
    assert len(src.page_starts) == 2 and src.page_starts[0] == 0
    second = src.text[src.page_starts[1]:]
    assert second.strip() == PAGE2[0]
    assert src.text[: src.page_starts[1]].split() == " ".join(PAGE1).split()
    assert "\r" not in src.text


def test_pdf_with_nfd_glyphs_comes_out_nfc(tmp_path):
    nfd = unicodedata.normalize("NFD", "Tỉnh ủy Cao Bằng")
    src = ingest(_write(tmp_path, "a.pdf", _pdf([[nfd] * 3])))
    assert "Tỉnh ủy Cao Bằng" in src.text
    assert unicodedata.is_normalized("NFC", src.text)


def test_truncated_pdf_is_refused(tmp_path):
    data = _pdf([PAGE1, PAGE2])
    reason = _reason(_write(tmp_path, "a.pdf", data[: len(data) // 2]))
    assert reason == "corrupt or truncated PDF: it cannot be opened"


def test_pdf_needing_a_password_is_refused(tmp_path):
    from reportlab.lib import pdfencrypt

    enc = pdfencrypt.StandardEncryption("secret", ownerPassword="owner")
    reason = _reason(_write(tmp_path, "a.pdf", _pdf([PAGE1], encrypt=enc)))
    assert reason.startswith("encrypted PDF: it needs a password")


def test_pdf_with_owner_password_only_is_read(tmp_path):
    # permissions-only encryption: any viewer opens it, so we read it too
    from reportlab.lib import pdfencrypt

    enc = pdfencrypt.StandardEncryption("", ownerPassword="owner", canCopy=0)
    src = ingest(_write(tmp_path, "a.pdf", _pdf([PAGE1], encrypt=enc)))
    assert "TỈNH CAO BẰNG" in src.text


def test_pdf_without_text_layer_needs_ocr(tmp_path):
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.rect(100, 100, 300, 400, fill=1)  # a "scan": graphics only
    c.showPage()
    c.save()
    reason = _reason(_write(tmp_path, "a.pdf", buf.getvalue()))
    assert reason.startswith("no text layer") and reason.endswith("needs OCR")


def test_fonts_without_unicode_map_need_ocr(tmp_path):
    # reportlab puts the non-ASCII glyphs in a subset font with its own codes and a
    # ToUnicode map; hiding the map (same byte length, so the xref stays valid) leaves
    # what lao-cai_quyet-dinh_1050-cid-fonts.pdf has: glyphs pdfium cannot map.
    data = _pdf([PAGE1 * 10, PAGE2 * 10])
    assert data.count(b"/ToUnicode") == 1
    readable = ingest(_write(tmp_path, "ok.pdf", data))
    assert "TỈNH CAO BẰNG" in readable.text
    broken = data.replace(b"/ToUnicode", b"/ToUnicodX")
    reason = _reason(_write(tmp_path, "a.pdf", broken))
    assert reason.startswith("unreadable text layer: needs OCR")


def test_pdf_superscript_footnote_markers(tmp_path):
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("DejaVuSerif", str(DEJAVU)))
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    body = "Theo điểm b khoản 1 Điều 41 Luật số 42/2024/QH15"
    c.setFont("DejaVuSerif", 12)
    c.drawString(72, 700, body)
    c.setFont("DejaVuSerif", 7)
    c.drawString(72 + pdfmetrics.stringWidth(body, "DejaVuSerif", 12) + 1, 705, "1")
    c.setFont("DejaVuSerif", 6)
    c.drawString(72, 104, "1")  # the footnote body at the foot of the page
    c.setFont("DejaVuSerif", 10)
    c.drawString(78, 100, "Luật Quản lý, sử dụng vũ khí, vật liệu nổ và công cụ hỗ trợ")
    c.showPage()
    c.save()
    text = ingest(_write(tmp_path, "a.pdf", buf.getvalue())).text
    assert "Luật số 42/2024/QH15¹" in text
    assert "QH151" not in text
    assert "¹ Luật Quản lý" in text or "¹Luật Quản lý" in text


def test_not_a_pdf(tmp_path):
    reason = _reason(_write(tmp_path, "a.pdf", b"PK\x03\x04 this is a zip"))
    assert reason == "not a PDF file (it is a ZIP container)"


def test_pdf_date_to_iso():
    assert pdf_reader._pdf_date("D:20260511152011+07'00'") == "2026-05-11T15:20:11+07:00"
    assert pdf_reader._pdf_date("D:20260511") == "2026-05-11"


# --- DOCX -----------------------------------------------------------------------------


def _save(document, tmp_path: Path, name: str = "a.docx") -> Path:
    path = tmp_path / name
    document.save(path)
    return path


def test_docx_paragraphs_and_tables_in_document_order(tmp_path):
    import docx

    d = docx.Document()
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "ỦY BAN NHÂN DÂN"
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 0).text = "TỈNH CAO BẰNG"
    table.cell(1, 1).text = "Độc lập - Tự do - Hạnh phúc"
    d.add_paragraph("KẾ HOẠCH")
    d.add_paragraph("")  # empty paragraphs are dropped
    d.add_paragraph("I. MỤC ĐÍCH, YÊU CẦU")
    src = ingest(_save(d, tmp_path))
    assert src.text.split("\n") == [
        "ỦY BAN NHÂN DÂN",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "TỈNH CAO BẰNG",
        "Độc lập - Tự do - Hạnh phúc",
        "KẾ HOẠCH",
        "I. MỤC ĐÍCH, YÊU CẦU",
    ]
    assert src.info.format == "docx" and src.page_starts == []


def test_docx_merged_cells_appear_once(tmp_path):
    import docx

    d = docx.Document()
    table = d.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Cơ quan cấp phép"
    table.cell(1, 0).merge(table.cell(2, 0)).text = "TT"
    table.cell(1, 1).text = "Bộ Công Thương"
    table.cell(2, 2).text = "39"
    lines = ingest(_save(d, tmp_path)).text.split("\n")
    assert lines == ["Cơ quan cấp phép", "TT", "Bộ Công Thương", "39"]


def test_docx_cell_paragraphs_are_separate_lines(tmp_path):
    import docx

    d = docx.Document()
    cell = d.add_table(rows=1, cols=2).cell(0, 1)
    cell.paragraphs[0].text = "KT. GIÁM ĐỐC"
    cell.add_paragraph("PHÓ GIÁM ĐỐC")
    cell.add_paragraph("Hoàng Văn Thuân")
    assert ingest(_save(d, tmp_path)).text == "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC\nHoàng Văn Thuân"


def test_docx_list_number_style_is_made_visible(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Mục đích", style="List Number")
    d.add_paragraph("Yêu cầu", style="List Number")
    assert ingest(_save(d, tmp_path)).text == "1. Mục đích\n2. Yêu cầu"


def _add_numbering(document, levels: list[tuple[str, str]]) -> str:
    """Add an abstractNum with the given (numFmt, lvlText) levels; return its numId."""
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    lvls = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="{fmt}"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
        for i, (fmt, text) in enumerate(levels)
    )
    numbering = document.part.numbering_part.element
    abstract = parse_xml(f'<w:abstractNum {w} w:abstractNumId="90">{lvls}</w:abstractNum>')
    first_num = numbering.find("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}num")
    first_num.addprevious(abstract)
    numbering.append(parse_xml(f'<w:num {w} w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    return "90"


def _numbered(document, text: str, num_id: str, ilvl: int) -> None:
    from docx.oxml import parse_xml

    p = document.add_paragraph(text)
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    p._p.get_or_add_pPr().append(
        parse_xml(f'<w:numPr {w}><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr>')
    )


def test_docx_multilevel_numbering(tmp_path):
    import docx

    d = docx.Document()
    num = _add_numbering(
        d, [("upperRoman", "%1."), ("decimal", "%2."), ("lowerLetter", "%3)"), ("bullet", "\uf02d")]
    )
    for text, lvl in [
        ("MỤC ĐÍCH, YÊU CẦU", 0), ("Mục đích", 1), ("Yêu cầu", 1), ("kịp thời", 2),
        ("đồng bộ", 2), ("từ tỉnh đến xã", 3), ("NHIỆM VỤ", 0), ("Tuyên truyền", 1),
    ]:
        _numbered(d, text, num, lvl)
    assert ingest(_save(d, tmp_path)).text.split("\n") == [
        "I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích", "2. Yêu cầu", "a) kịp thời", "b) đồng bộ",
        "- từ tỉnh đến xã", "II. NHIỆM VỤ", "1. Tuyên truyền",
    ]


def test_docx_legal_style_numbering(tmp_path):
    import docx

    d = docx.Document()
    num = _add_numbering(d, [("decimal", "%1."), ("decimal", "%1.%2.")])
    for text, lvl in [("Mục tiêu chung", 0), ("Giảm tai nạn", 1), ("Tăng huấn luyện", 1)]:
        _numbered(d, text, num, lvl)
    assert ingest(_save(d, tmp_path)).text.split("\n") == [
        "1. Mục tiêu chung", "1.1. Giảm tai nạn", "1.2. Tăng huấn luyện",
    ]


def test_docx_footnotes_are_marked_and_appended(tmp_path):
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    d = docx.Document()
    p = d.add_paragraph("UBND tỉnh đã tham mưu Tỉnh uỷ ban hành Kế hoạch")
    p._p.append(parse_xml(f'<w:r {w}><w:footnoteReference w:id="7"/></w:r>'))
    p.add_run(" thực hiện Chỉ thị số 31-CT/TW.")
    blob = (
        f'<w:footnotes {w}>'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:id="7"><w:p><w:r><w:footnoteRef/></w:r>'
        '<w:r><w:t xml:space="preserve"> Số 417-KH/TU ngày 20/01/2025.</w:t></w:r></w:p></w:footnote>'
        "</w:footnotes>"
    ).encode()
    part = Part(
        PackURI("/word/footnotes.xml"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
        blob,
        d.part.package,
    )
    d.part.relate_to(part, RT.FOOTNOTES)
    lines = ingest(_save(d, tmp_path)).text.split("\n")
    assert lines == [
        "UBND tỉnh đã tham mưu Tỉnh uỷ ban hành Kế hoạch¹ thực hiện Chỉ thị số 31-CT/TW.",
        "¹ Số 417-KH/TU ngày 20/01/2025.",
    ]


def test_docx_that_is_not_a_zip(tmp_path):
    reason = _reason(_write(tmp_path, "a.docx", b"Hello, this is plain text."))
    assert reason.startswith("not a valid .docx (not a ZIP container")


def test_docx_zip_without_document_is_corrupt(tmp_path):
    import zipfile

    path = tmp_path / "a.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "xin chào")
    assert _reason(path).startswith("corrupt .docx")


def test_docx_truncated_is_corrupt(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph(BODY)
    data = _save(d, tmp_path, "full.docx").read_bytes()
    assert _reason(_write(tmp_path, "a.docx", data[: len(data) // 2])).startswith("corrupt .docx")


def _docx_read_both_ways(where: str, data: bytes):
    """(lines, tables) from the fast zipfile+lxml opening and from python-docx's."""
    out = []
    for parts in (docx_reader._docx_parts_fast(data),
                  docx_reader._docx_parts_python_docx(where, data)):
        reader = docx_reader._DocxText(parts)
        lines = reader.lines()
        out.append((lines, reader.table_spans(lines)))
    return out


def test_docx_fast_reader_matches_python_docx_on_real_files(corpus_dir, formats_dir):
    # The corpus renderings (header tables) and the third-party files (merged cells, list
    # numbering, paragraph styles) read the same through both openings of the package.
    paths = sorted(corpus_dir.glob("*.docx")) + sorted(formats_dir.glob("*.docx"))
    assert paths
    for path in paths:
        fast, reference = _docx_read_both_ways(str(path), path.read_bytes())
        assert fast == reference, path.name


def test_docx_fast_reader_matches_python_docx_on_numbering_and_merged_cells(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Mục đích", style="List Number")  # numbering through the style
    num_id = _add_numbering(d, [("upperRoman", "%1."), ("decimal", "%2.")])
    _numbered(d, "MỤC ĐÍCH, YÊU CẦU", num_id, 0)
    _numbered(d, "Mục đích", "0" + num_id, 1)  # "090" names numId 90, as Word reads it
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).merge(table.cell(1, 0)).text = "TT"
    table.cell(0, 1).text = "Nội dung"
    data = _save(d, tmp_path).read_bytes()
    fast, reference = _docx_read_both_ways("a.docx", data)
    assert fast == reference
    assert fast[0][:3] == ["1. Mục đích", "I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích"]


def _rewrite_part(data: bytes, name: str, edit) -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            blob = src.read(item.filename)
            dst.writestr(item, edit(blob) if item.filename == name else blob)
    return out.getvalue()


def test_docx_whose_main_part_is_not_a_word_document_is_refused(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph(BODY)
    data = _rewrite_part(  # a macro-enabled document (.docm) renamed .docx
        _save(d, tmp_path, "full.docx").read_bytes(), "[Content_Types].xml",
        lambda xml: xml.replace(b"document.main+xml", b"document.macroEnabled.main+xml"),
    )
    reason = _reason(_write(tmp_path, "a.docx", data))
    assert reason.startswith("corrupt .docx: ValueError") and "is not a Word file" in reason


def test_docx_with_broken_styles_is_refused_when_a_style_numbers_a_paragraph(tmp_path):
    # The styles part is read only when a paragraph's style may carry a list number; when
    # it is, a broken styles part is refused as python-docx refuses it.
    import docx

    d = docx.Document()
    d.add_paragraph("Mục đích", style="List Number")
    data = _rewrite_part(_save(d, tmp_path, "full.docx").read_bytes(), "word/styles.xml",
                         lambda xml: xml[: len(xml) // 2])
    assert _reason(_write(tmp_path, "a.docx", data)) == "corrupt .docx: XMLSyntaxError"


# --- DOC ------------------------------------------------------------------------------


def test_fake_word97_file_follows_the_machine(tmp_path):
    path = _write(tmp_path, "a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    reason = _reason(path)
    if soffice_path() is None:
        assert reason == (
            "legacy Word .doc: install LibreOffice (apt-get install libreoffice-writer-nogui) "
            "or save it as .docx"
        )
    else:  # LibreOffice cannot convert 600 NUL bytes either
        assert "LibreOffice" in reason


def test_docx_named_doc_is_read_as_docx(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("Kính gửi: Bộ Nội vụ")
    src = ingest(_save(d, tmp_path, "a.doc"))
    assert src.text == "Kính gửi: Bộ Nội vụ"


def test_doc_that_is_not_word(tmp_path):
    assert _reason(_write(tmp_path, "a.doc", b"{\\rtf1 hello}")).startswith("RTF file")
