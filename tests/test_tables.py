"""Tables from ingest to the assignments stage.

A DOCX table reaches the stages as `Document.tables`: every cell a span of doc.text, one per
grid column, a merged cell's span repeated where it spans. The assignments stage reads an
assignment table ("STT | Nội dung | Cơ quan chủ trì | Cơ quan phối hợp | Thời gian") row by row.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from assignment_table import HEADER, ROWS, check_table_assignments
from pipeline import parse_file
from pipeline.stages.ingest import ingest
from pipeline.model import SourceInfo, SourceText
from pipeline.stages.normalize import normalize

import docx



def _plan_docx(path: Path) -> Path:
    d = docx.Document()
    for line in ["ỦY BAN NHÂN DÂN", "TỈNH ĐẮK LẮK", "Số: 12/KH-UBND", "KẾ HOẠCH",
                 "Thực hiện công tác an toàn, vệ sinh lao động năm 2025",
                 "I. MỤC ĐÍCH, YÊU CẦU", "1. Mục đích",
                 "Nâng cao nhận thức về an toàn, vệ sinh lao động.",
                 "II. TỔ CHỨC THỰC HIỆN", "1. Phân công nhiệm vụ",
                 "Các sở, ngành thực hiện các nhiệm vụ theo bảng sau:"]:
        d.add_paragraph(line)
    table = d.add_table(rows=2 + len(ROWS), cols=len(HEADER))
    for c, text in enumerate(HEADER):
        table.cell(0, c).text = text
    # a group row merged across the table: a heading, not a task
    table.cell(1, 0).merge(table.cell(1, 4)).text = "Công tác tuyên truyền, huấn luyện"
    for r, row in enumerate(ROWS, start=2):
        for c, text in enumerate(row):
            if text is not None:
                table.cell(r, c).text = text
    table.cell(3, 2).merge(table.cell(4, 2))  # "Sở Nội vụ" leads rows 2 and 3
    d.add_paragraph("2. Chế độ báo cáo")
    d.add_paragraph("Định kỳ hằng năm, các sở, ngành báo cáo kết quả thực hiện về Sở Nội vụ.")
    out = path / "ke-hoach_bang.docx"
    d.save(out)
    return out


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Path:
    return _plan_docx(tmp_path_factory.mktemp("tables"))


# --- ingest and normalize ------------------------------------------------------------------

def test_docx_cells_are_source_spans_one_per_grid_column(plan):
    src = ingest(plan)
    assert src.hard_wrapped is False
    [table] = src.tables
    cells = [[src.text[s:e] for s, e in row] for row in table]
    assert cells[0] == HEADER
    assert cells[1] == ["Công tác tuyên truyền, huấn luyện"] * 5  # merged across: repeated
    assert cells[2] == ROWS[0]
    assert cells[4][2] == "Sở Nội vụ" and table[4][2] == table[3][2]  # merged down: same span
    assert src.text.count("Sở Nội vụ\n") == 2  # written once in the table, once in the report item


def test_document_tables_point_into_the_normalized_text(plan):
    doc = parse_file(plan)
    [table] = doc.tables
    rows = [[doc.text[c.start:c.end] for c in row] for row in table.rows]
    assert rows[0] == HEADER and rows[2] == ROWS[0]
    assert rows[3][2] == rows[4][2] == "Sở Nội vụ"
    assert doc.text[table.span.start:table.span.end].startswith("STT\nNội dung nhiệm vụ\n")
    assert table.span.end == table.rows[-1][-1].end


def test_docx_paragraphs_are_not_joined_but_split_sentences_are():
    """A DOCX line is a paragraph: "Sở Nội vụ" and "Sở Y tế, Công an tỉnh" (two cells) stay
    apart even though a hard-wrapped text would join them. A Word paragraph that starts in lower
    case continues the previous one (a title the author broke into two paragraphs, KH 2242)."""
    text = ("KẾ HOẠCH\nKiểm tra, cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn \n"
            "vật liệu nổ công nghiệp, tiền chất thuốc nổ\nSở Nội vụ\nhằng năm\nSở Y tế, Công an tỉnh")
    info = SourceInfo("t.docx", "t.docx", "docx", "", 0)
    cell_start = text.index("Sở Nội vụ")
    cells = [[(cell_start, cell_start + 9), (cell_start + 10, cell_start + 18)]]
    norm, smap = normalize(SourceText(text, info, tables=[cells], hard_wrapped=False))
    assert norm.split("\n") == [
        "KẾ HOẠCH",
        "Kiểm tra, cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ công nghiệp, tiền chất thuốc nổ",
        "Sở Nội vụ", "hằng năm", "Sở Y tế, Công an tỉnh"]
    assert smap.to_norm(cell_start) == norm.index("Sở Nội vụ")


def test_to_norm_inverts_to_source_on_a_hard_wrapped_text(corpus_dir):
    src = ingest(corpus_dir / "dak-lak_ke-hoach_2024-12.txt")
    text, smap = normalize(src)
    assert len(smap.segments) > 100  # joined lines and collapsed spaces: many segments
    assert all(smap.to_norm(smap.to_source(n)) == n for n in range(len(text)))
    # a source offset in a dropped run of spaces maps to the next kept character
    gap = src.text.index("ỦY BAN NHÂN DÂN") + len("ỦY BAN NHÂN DÂN") + 1
    assert src.text[gap] == " " and text[smap.to_norm(gap)] == "C"  # "CỘNG HÒA ..."


# --- assignments ---------------------------------------------------------------------------

def test_assignment_table_gives_lead_partners_supports_and_deadlines(plan):
    doc = parse_file(plan)
    check_table_assignments(doc, "II.1")


def test_table_under_an_agency_item_is_read_as_a_table_not_as_its_paragraphs(tmp_path):
    """Under "1. Sở Nội vụ chủ trì, ... các nhiệm vụ sau:" the cell lines would each read as a
    task of Sở Nội vụ ("STT", "Cơ quan chủ trì", ...); the table's rows replace them."""
    d = docx.Document()
    for line in ["KẾ HOẠCH", "Thực hiện công tác an toàn, vệ sinh lao động năm 2025", "I. TỔ CHỨC THỰC HIỆN",
                 "1. Sở Nội vụ chủ trì, phối hợp với các sở, ngành thực hiện các nhiệm vụ sau:"]:
        d.add_paragraph(line)
    table = d.add_table(rows=2, cols=5)
    for r, row in enumerate([HEADER, ROWS[0]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    d.add_paragraph("2. Sở Y tế")
    d.add_paragraph("- Hướng dẫn khám sức khỏe định kỳ cho người lao động.")
    d.save(tmp_path / "kh.docx")
    doc = parse_file(tmp_path / "kh.docx")
    assert [(a.section, a.agency, a.role, a.task) for a in doc.assignments] == [
        ("I.1", "Sở Nội vụ", "lead", ROWS[0][1]),
        ("I.1", "Sở Y tế", "support", ROWS[0][1]),
        ("I.1", "Công an tỉnh", "support", ROWS[0][1]),
        ("I.2", "Sở Y tế", "responsible", "Hướng dẫn khám sức khỏe định kỳ cho người lao động."),
    ]


def test_real_docx_annex_through_parse_file(formats_dir):
    """KH 2242 (Lào Cai): the annex "TT | Nhiệm vụ thực hiện | Người thực hiện | Ghi chú" after
    the signature; each person of a row gets its task, outside every section."""
    doc = parse_file(formats_dir / "lao-cai_ke-hoach_2242-kiem-tra.docx")
    annex = doc.tables[-1]
    header = [doc.text[c.start:c.end] for c in annex.rows[0]]
    assert header == ["TT", "Nhiệm vụ thực hiện", "Người thực hiện", "Ghi chú"]
    rows = [(a.agency, a.task) for a in doc.assignments
            if annex.span.start <= a.span.start < annex.span.end]
    assert rows[:4] == [
        ("Đỗ Mạnh Cường", "Rà soát việc đáp ứng các điều kiện của học viên"),
        ("Vũ Việt Linh", "Rà soát việc đáp ứng các điều kiện của học viên"),
        ("Nguyễn Thị Loan", "Rà soát việc đáp ứng các điều kiện của học viên"),
        ("Đỗ Mạnh Cường", "Xây dựng bài kiểm tra, đáp án")]
    assert rows[-1] == ("Đỗ Mạnh Cường", "Trình ký chứng chỉ")
    assert len(rows) == 16
    # its title, two Word paragraphs, is read whole (the second starts in lower case)
    assert doc.metadata.title == ("Kiểm tra, cấp Giấy chứng nhận huấn luyện kỹ thuật an toàn vật liệu nổ "
                                  "công nghiệp, tiền chất thuốc nổ trên địa bàn tỉnh Lào Cai")
