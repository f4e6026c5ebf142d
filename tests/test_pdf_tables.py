"""Assignment tables in PDFs: pdfplumber finds the cells (ruling lines), pypdfium2's text holds them.

The PDF is built here with reportlab (DejaVu Sans, so Vietnamese renders) in the layout of a
plan's "Phân công nhiệm vụ" table: STT | Nội dung nhiệm vụ | Cơ quan chủ trì | Cơ quan phối hợp |
Thời gian thực hiện, GRID lines, a task cell that wraps over three lines, a group row merged across
the table and a lead cell merged down over two rows.
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from assignment_table import HEADER, ROWS, check_table_assignments
from pipeline import parse_file
from pipeline.stages.ingest import ingest, pdf_page_may_hold_table
from pipeline.rules import load

import reportlab  # noqa: F401  (a dev dependency: a missing one must fail, not skip)

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
REPO = Path(__file__).resolve().parent.parent
GROUP = "Công tác tuyên truyền, huấn luyện"  # a group row merged across the table



def _pdf(path: Path, table_rows: list[list[str | None]] | None, merged: bool = True,
         valign: str = "TOP") -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    if not FONT.is_file():
        pytest.skip(f"{FONT} is not installed (apt-get install fonts-dejavu-core)")
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(FONT)))
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=11, leading=15)
    small = ParagraphStyle("cell", fontName="DejaVuSans", fontSize=10, leading=12)
    story = [Paragraph(t, body) for t in [
        "ỦY BAN NHÂN DÂN TỈNH ĐẮK LẮK", "Số: 12/KH-UBND", "KẾ HOẠCH",
        "Thực hiện công tác an toàn, vệ sinh lao động năm 2025",
        "I. MỤC ĐÍCH, YÊU CẦU", "Nâng cao nhận thức về an toàn, vệ sinh lao động.",
        "III. TỔ CHỨC THỰC HIỆN", "1. Phân công nhiệm vụ",
        "Các sở, ngành thực hiện các nhiệm vụ theo bảng sau:"]]
    if table_rows is not None:
        data = [[Paragraph(t, small) if t else "" for t in row] for row in table_rows]
        table = Table(data, colWidths=[1.2 * cm, 6 * cm, 3 * cm, 3.5 * cm, 3 * cm], repeatRows=1)
        style = [("GRID", (0, 0), (-1, -1), 0.5, "black"), ("VALIGN", (0, 0), (-1, -1), valign)]
        if merged:
            style += [("SPAN", (0, 1), (-1, 1)),  # the group row
                      ("SPAN", (2, 3), (2, 4))]  # "Sở Nội vụ" leads rows 2 and 3
        table.setStyle(TableStyle(style))
        story.append(table)
    story += [Paragraph(t, body) for t in [
        "2. Chế độ báo cáo",
        "Định kỳ hằng năm, các sở, ngành báo cáo kết quả thực hiện về Sở Nội vụ."]]
    SimpleDocTemplate(str(path), pagesize=A4, invariant=1).build(story)
    return path


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> Path:
    rows = [HEADER, [GROUP, None, None, None, None]] + ROWS
    return _pdf(tmp_path_factory.mktemp("pdf_tables") / "ke-hoach_bang.pdf", rows)


def test_pdf_cells_are_spans_of_the_page_text_one_per_grid_column(plan):
    src = ingest(plan)
    assert src.warnings == []
    [table] = src.tables
    cells = [[src.text[s:e] for s, e in row] for row in table]
    assert cells[0] == HEADER
    assert cells[1] == [GROUP] * 5  # merged across: the one span repeated
    assert cells[2] == ROWS[0]
    assert cells[3] == ROWS[1]  # the wrapped task reads as one line: its wraps are spaces
    assert cells[4][2] == "Sở Nội vụ" and table[4][2] == table[3][2]  # merged down: same span
    assert cells[4][:2] + cells[4][3:] == ROWS[2][:2] + ROWS[2][3:]


def test_document_tables_and_assignments_from_a_pdf(plan):
    doc = parse_file(plan)
    assert doc.errors == []
    [table] = doc.tables
    rows = [[doc.text[c.start:c.end] for c in row] for row in table.rows]
    assert rows[0] == HEADER and rows[2] == ROWS[0] and rows[3] == ROWS[1]
    assert all(c.page == 1 for row in table.rows for c in row)
    check_table_assignments(doc, "III.1")


def test_a_table_over_three_pages_is_one_table_with_its_repeated_header_dropped(tmp_path):
    """29 rows in cells centred vertically: the STT number sits alone on its line in the page text
    (normalize would drop such a line as a page number, so it joins the task's line), and the
    header row repeated at the top of each page is read once."""
    rows = [[str(i), f"Kiểm tra việc thực hiện Thông tư số 07/2016/TT-BLĐTBXH tại doanh nghiệp nhóm {i}",
             "Sở Nội vụ", "Sở Y tế, Công an tỉnh", "Hằng năm"] for i in range(1, 30)]
    path = _pdf(tmp_path / "dai.pdf", [HEADER] + rows, merged=False, valign="MIDDLE")
    src = ingest(path)
    assert src.info.page_count >= 3 and src.warnings == []
    [table] = src.tables
    assert [[src.text[s:e] for s, e in row] for row in table] == [HEADER] + rows
    doc = parse_file(path)
    [table] = doc.tables
    assert [[doc.text[c.start:c.end] for c in row] for row in table.rows] == [HEADER] + rows
    assert {c.page for c in table.rows[-1]} == {src.info.page_count}
    leads = [a for a in doc.assignments if a.role == "lead"]
    assert [a.task for a in leads] == [r[1] for r in rows]
    assert all(a.agency == "Sở Nội vụ" and a.partners == ["Sở Y tế", "Công an tỉnh"] for a in leads)


def test_a_pdf_without_an_assignment_table_never_opens_pdfplumber(tmp_path, monkeypatch):
    import pdfplumber

    def refuse(*args, **kwargs):
        raise AssertionError("pdfplumber opened on a PDF whose pages show no assignment table")

    monkeypatch.setattr(pdfplumber, "open", refuse)
    src = ingest(_pdf(tmp_path / "no-table.pdf", None))
    assert src.tables == [] and "Sở Nội vụ" in src.text
    # and the gate is what lets the table PDF through: the same patch makes it fail there
    with pytest.raises(AssertionError, match="pdfplumber opened"):
        ingest(_pdf(tmp_path / "table.pdf", [HEADER] + ROWS[:2], merged=False))


def test_table_gate_examples_and_prose_that_must_not_open_it():
    gate = load("ingest")["pdf_table_gate"]
    assert gate["headers"] and all(pdf_page_may_hold_table(t) for t in gate["headers"])
    assert not any(pdf_page_may_hold_table(t) for t in gate["not_headers"])


def test_a_table_whose_cells_are_not_in_the_page_text_is_left_out_with_a_warning(plan, monkeypatch):
    """A cell pdfplumber reads differently from pypdfium2 (here: a changed cell text) must not
    give a span: the whole table is dropped and ingest says so."""
    import pdfplumber.table

    extract = pdfplumber.table.Table.extract

    def altered(self, **kwargs):
        rows = extract(self, **kwargs)
        rows[2][3] = "Sở Tài chính"
        return rows

    monkeypatch.setattr(pdfplumber.table.Table, "extract", altered)
    src = ingest(plan)
    assert src.tables == []
    assert any("left out" in w for w in src.warnings)


def _snapshot(paths: list[Path]) -> dict:
    out = {}
    for p in paths:
        doc = parse_file(p)
        out[p.name] = {"text": doc.text, "metadata": asdict(doc.metadata), "tables": len(doc.tables)}
    return out


def _same_without_table_reading(paths: list[Path], monkeypatch) -> None:
    assert paths
    with_gate = _snapshot(paths)
    monkeypatch.setattr("pipeline.stages.ingest.pdf.pdf_page_may_hold_table", lambda text: False)
    without = _snapshot(paths)
    assert json.dumps(with_gate, sort_keys=True) == json.dumps(without, sort_keys=True)
    assert all(v["tables"] == 0 for v in with_gate.values())


def test_corpus_pdfs_parse_as_without_table_reading(corpus_dir, monkeypatch):
    """The gate stays shut on the corpus renderings (prose that names "chủ trì", "phối hợp",
    "thời gian" throughout): text and metadata are what they are when pdfplumber is never asked."""
    _same_without_table_reading(sorted(corpus_dir.glob("*.pdf")), monkeypatch)


def test_real_pdfs_parse_as_without_table_reading(formats_dir, monkeypatch):
    _same_without_table_reading(sorted(formats_dir.glob("*.pdf")), monkeypatch)
