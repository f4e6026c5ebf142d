"""Render each corpus/*.txt as a DOCX and a PDF, so ingest is tested on the same text in
three formats (the pipeline must give the same sections and metadata for each).

    python corpus/make_renderings.py            # writes corpus/<stem>.docx and .pdf

The text is first normalized with `pipeline.normalize.normalize` (hard wraps re-joined,
one paragraph per line), then written one paragraph per paragraph. When the document has
the two-column header of Vietnamese administrative documents (agency | "CỘNG HÒA ..."),
the header block (the lines before the document-type line, or before "Kính gửi") goes
into a borderless two-column table, as in real documents. Text and order are kept: only
the header lines are regrouped into the two columns, row by row.

DOCX: python-docx, Times New Roman 13 pt. PDF: reportlab, A4, DejaVu Serif 12 pt.
The outputs are deterministic (fixed dates in the metadata), so re-running the script
leaves unchanged files unchanged.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

CORPUS = Path(__file__).resolve().parent
sys.path.insert(0, str(CORPUS.parent))

from pipeline.ingest import ingest  # noqa: E402
from pipeline.normalize import normalize  # noqa: E402

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_DOC_TYPE = re.compile(
    r"^(?:KẾ HOẠCH|BÁO CÁO|QUYẾT ĐỊNH|CÔNG VĂN|TỜ TRÌNH|THÔNG BÁO|NGHỊ QUYẾT|CHỈ THỊ"
    r"|CHƯƠNG TRÌNH|ĐỀ ÁN|KẾT LUẬN|HƯỚNG DẪN)$"
)
_KINH_GUI = re.compile(r"^Kính gửi\b")
_NATIONAL = re.compile(r"CỘNG H[OÒ][AÀ] XÃ HỘI")
# Where the right column starts inside a merged header line.
_RIGHT_START = re.compile(
    r"CỘNG H[OÒ][AÀ] XÃ HỘI|Độc lập\s*-|(?<!\S)(?:[^\W\d_]+\s+){0,3}[^\W\d_]+,\s*ngày\b"
)


def paragraphs(txt: Path) -> list[str]:
    text, _ = normalize(ingest(txt))
    return [line for line in text.split("\n") if line.strip()]


def split_header(paras: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(left column, right column, body) when the two-column header is present."""
    end = next(
        (i for i, p in enumerate(paras) if _DOC_TYPE.match(p) or _KINH_GUI.match(p)), 0
    )
    head = paras[:end]
    if not any(_NATIONAL.search(p) for p in head):
        return [], [], paras
    left: list[str] = []
    right: list[str] = []
    for line in head:
        m = _first_right_start(line)
        if m is None:
            left.append(line)
        elif m == 0:
            right.append(line)
        else:
            left.append(line[:m].strip())
            right.append(line[m:].strip())
    return left, right, paras[end:]


def _first_right_start(line: str) -> int | None:
    for m in _RIGHT_START.finditer(line):
        words = m.group(0).split(",")[0].split()
        if m.group(0).startswith(("CỘNG", "Độc")) or all(w[:1].isupper() for w in words):
            return m.start()
    return None


def header_rows(left: list[str], right: list[str]) -> list[tuple[str, str]]:
    n = max(len(left), len(right))
    return [(left[i] if i < len(left) else "", right[i] if i < len(right) else "") for i in range(n)]


def write_docx(paras: list[str], out: Path) -> None:
    import datetime

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    document = docx.Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    props = document.core_properties
    props.author = "vanban corpus/make_renderings.py"
    props.created = props.modified = datetime.datetime(2025, 1, 1)
    props.last_modified_by = props.author
    props.revision = 1

    left, right, body = split_header(paras)
    if left or right:
        rows = header_rows(left, right)
        table = document.add_table(rows=len(rows), cols=2)
        for r, (lt, rt) in enumerate(rows):
            for c, cell_text in enumerate((lt, rt)):
                cell = table.cell(r, c)
                cell.paragraphs[0].text = cell_text
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, para in enumerate(body):
        p = document.add_paragraph(para)
        if _DOC_TYPE.match(para):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            for run in p.runs:
                run.bold = True
        elif i and _DOC_TYPE.match(body[i - 1]):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        else:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    document.save(out)
    _fix_zip_dates(out)


def _fix_zip_dates(path: Path) -> None:
    """Rewrite the DOCX zip with fixed entry dates, so re-running changes nothing."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=(2025, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, data)


def write_pdf(paras: list[str], out: Path) -> None:
    from xml.sax.saxutils import escape

    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import cm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(TTFont("DejaVuSerif", str(FONT_DIR / "DejaVuSerif.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSerif-Bold", str(FONT_DIR / "DejaVuSerif-Bold.ttf")))
    body_style = ParagraphStyle(
        "body", fontName="DejaVuSerif", fontSize=12, leading=16, alignment=TA_JUSTIFY, spaceAfter=4
    )
    center = ParagraphStyle("center", parent=body_style, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=center, fontName="DejaVuSerif-Bold", fontSize=13)
    header = ParagraphStyle("header", parent=center, fontSize=11, leading=14)

    story = []
    left, right, body = split_header(paras)
    if left or right:
        rows = [
            [Paragraph(escape(lt), header), Paragraph(escape(rt), header)]
            for lt, rt in header_rows(left, right)
        ]
        table = Table(rows, colWidths=[7 * cm, 9.5 * cm])
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.append(table)
    for i, para in enumerate(body):
        if _DOC_TYPE.match(para):
            style = title
        elif i and _DOC_TYPE.match(body[i - 1]):
            style = center
        else:
            style = body_style
        story.append(Paragraph(escape(para), style))
    doc = SimpleDocTemplate(
        str(out), pagesize=A4, leftMargin=2.5 * cm, rightMargin=2 * cm, topMargin=2 * cm,
        bottomMargin=2 * cm, title=out.stem, author="vanban corpus/make_renderings.py",
        creator="reportlab", invariant=1,
    )
    doc.build(story)


def main() -> None:
    for txt in sorted(CORPUS.glob("*.txt")):
        paras = paragraphs(txt)
        write_docx(paras, txt.with_suffix(".docx"))
        write_pdf(paras, txt.with_suffix(".pdf"))
        print(f"{txt.name}: {len(paras)} paragraphs -> {txt.stem}.docx, {txt.stem}.pdf")


if __name__ == "__main__":
    main()
