"""`vanban report`: a self-contained HTML page; every document string escaped."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

from pipeline.corpus.report import build_report, graph_edges, highlight, json_for_script, layered_layout
from pipeline.model import Assignment, Deadline, Document, Mention, Metadata, Reference, SourceInfo, Span

REPO = Path(__file__).resolve().parents[1]
LETTER = "Sở Y tế chủ trì <script>document.body.setAttribute('data-pwned','1')</script> kiểm tra & giám sát."


def _source(doc_id: str) -> SourceInfo:
    return SourceInfo(path=f"{doc_id}.txt", file_name=f"{doc_id}.txt", format="txt", sha256="", size_bytes=0)


def small_run() -> list[Document]:
    """Two documents of the model, one with markup in its text."""
    text = "Thực hiện Nghị quyết số 209/NQ-CP.\n" + LETTER + "\nBáo cáo trước ngày 15/12 hằng năm."
    start = text.index("Sở Y tế")
    task = Assignment(agency="Sở Y tế", agency_raw="Sở Y tế", agency_id="so_y_te", known=True, agency_kind="so_ban_nganh",
                      successor=None, province="Cao Bằng", role="lead", partners=["các đơn vị liên quan"], section="V.3",
                      task=text[start:text.index("\n", start)], span=Span(start, text.index("\n", start)),
                      deadline=Deadline(text="trước ngày 15/12 hằng năm", span=Span(text.index("trước"), len(text) - 1),
                                        date="--12-15", recurrence="yearly"),
                      topics=["thanh_tra_kiem_tra"], five_clear={"nguoi": True, "viec": True, "thoi_gian": False})
    ref = Reference(id="209/NQ-CP", canonical_id="209/NQ-CP", doc_type="nghi_quyet", number="209", symbol="NQ-CP",
                    date=None, issuer=None, title=None, relation="implements", text="Nghị quyết số 209/NQ-CP",
                    span=Span(10, 33), mentions=[Mention(text="Nghị quyết số 209/NQ-CP", span=Span(10, 33), form="full")])
    plan = Document(id="plan-<b>x</b>", source=_source("plan"), status="ok", text=text,
                    metadata=Metadata(doc_type="ke_hoach", issuer="UBND tỉnh Cao Bằng", date="2025-03-10", province="Cao Bằng",
                                      title="Kế hoạch <i>thử</i>", number=None, symbol="KH-UBND"),
                    references=[ref], assignments=[task])
    letter = Document(id="letter", source=_source("letter"), status="ok", text="Thực hiện Kế hoạch số 664/KH-UBND.",
                      metadata=Metadata(doc_type="cong_van", issuer="UBND tỉnh Cao Bằng", date="2025-08", province="Cao Bằng",
                                        title=None, number=None, symbol="UBND-VX"),
                      references=[replace(ref, id="664/KH-UBND", canonical_id="664/KH-UBND", doc_type="ke_hoach",
                                          relation="implements", resolved_to="plan-<b>x</b>", span=Span(10, 33), mentions=[])],
                      assignments=[replace(task, span=Span(0, 9), task="Thực hiện")])
    return [plan, letter]


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []  # everything outside <script>, entities decoded
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
        else:
            self.text.append(data)


def test_document_text_is_escaped_and_items_are_marked():
    page = build_report(small_run())
    parser = _Collect()
    parser.feed(page)
    # Exactly our two scripts (item data and the page script); the document's <script> is text.
    assert [t for t, _ in parser.tags].count("script") == 2
    # escaped by the templates' autoescape (markupsafe writes ' as &#39;), so it reads as text
    assert "&lt;script&gt;document.body.setAttribute(&#39;data-pwned&#39;,&#39;1&#39;)&lt;/script&gt;" in page
    assert LETTER in "".join(parser.text)
    assert "<b>x</b>" not in page and "<i>thử</i>" not in page
    assert "kiểm tra &amp; giám sát" in page
    marks = [a for t, a in parser.tags if t == "mark"]
    kinds = {a["class"] for a in marks}
    assert {"k-assignment", "k-reference", "k-deadline"} <= kinds
    # The item data is JSON whose '<' are escaped, so '</script>' cannot close the block.
    data = json.loads(parser.scripts[0])
    assert any(v["kind"] == "assignment" and v["data"]["five_clear"]["thoi_gian"] is False for v in data.values())
    assert "</script>" not in json_for_script({"t": "</script>"})


def test_highlight_splits_nested_items_and_keeps_the_text():
    text = "a <Sở Y tế> b"
    html = highlight(text, [("t1", "assignment", 0, 13), ("r1", "reference", 3, 10)], "d0")
    assert re.sub(r"<[^>]+>", "", html) == "a &lt;Sở Y tế&gt; b"
    inner = re.search(r'<mark id="m-r1" class="k-reference" data-doc="d0" data-i="r1 t1">', html)
    assert inner, html
    assert html.startswith('<mark id="m-t1" class="k-assignment"')


def test_matrix_graph_and_chains_are_present():
    docs = small_run()
    links = {"documents": [], "external": [], "edges": [
        {"from": "plan-<b>x</b>", "to": "209/NQ-CP", "relation": "implements", "resolved": False, "source": "text", "via": None},
        {"from": "letter", "to": "plan-<b>x</b>", "relation": "implements", "resolved": True, "source": "text", "via": None}],
        "chains": [["209/NQ-CP", "plan-<b>x</b>", "letter"]]}
    page = build_report(docs, links)
    parser = _Collect()
    parser.feed(page)
    cells = [a for t, a in parser.tags if t == "td" and "n" in (a.get("class") or "").split()]
    assert len(cells) == 2 and all("lead" in c["class"] for c in cells)  # Sở Y tế in both documents
    nodes = [a["data-node"] for t, a in parser.tags if t == "g" and "node" in a.get("class", "")]
    assert sorted(nodes) == sorted(["plan-<b>x</b>", "letter", "209/NQ-CP"])
    assert 'class="chain"' in page and "209/NQ-CP" in page


def test_graph_from_documents_when_links_json_is_absent():
    edges = graph_edges(small_run(), None)
    assert ("letter", "plan-<b>x</b>", "implements") in edges  # resolved_to names the run document
    layout = layered_layout(["letter", "plan-<b>x</b>", "209/NQ-CP"], edges)
    assert layout["209/NQ-CP"][0] < layout["plan-<b>x</b>"][0] < layout["letter"][0]


def test_layout_survives_a_citation_cycle():
    layout = layered_layout(["a", "b"], [("a", "b", "cites"), ("b", "a", "cites")])
    assert set(layout) == {"a", "b"}


def test_cli_writes_the_report(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for doc in small_run():
        (run / f"{doc.id.replace('<', '').replace('>', '').replace('/', '')}.json").write_text(
            json.dumps(doc.to_dict(), ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", "--run", str(run)], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    page = (run / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    empty = subprocess.run([sys.executable, "-m", "pipeline.cli", "report", "--run", str(tmp_path / "none")],
                           capture_output=True, text=True, cwd=REPO)
    assert empty.returncode == 1 and "no document JSON" in empty.stderr


# --- reading at normal size: the graph fits its box, labels readable, words and numbers right


def test_graph_of_a_long_chain_and_many_leaves_fits_the_box_at_full_size():
    from pipeline.corpus.report import GRAPH_WIDTH, graph_svg, label_lines

    docs = [Document(id=f"cao-bang_ke-hoach-{n}_2025-03-10", source=_source(f"plan-{n}")) for n in range(5)]
    # a chain of seven layers (each document implements the one before) and 16 cited laws
    edges = [(docs[n].id, docs[n - 1].id, "implements") for n in range(1, 5)]
    edges += [(docs[0].id, "209/NQ-CP", "implements"), ("209/NQ-CP", "31-CT/TW", "implements")]
    edges += [(docs[n % 5].id, f"Luật số {n}/2015/QH13 về an toàn, vệ sinh lao động", "cites") for n in range(16)]
    svg = str(graph_svg(docs, edges))
    width = int(re.search(r'<svg class="graph"[^>]* width="(\d+)"', svg).group(1))
    assert width <= GRAPH_WIDTH + 50  # 1,300 px: drawn 1:1, never shrunk (labels 12 px, report.css)
    assert 'viewBox="0 0 %d ' % width in svg and "max-width:none" in (REPO / "pipeline/corpus/templates/report.css").read_text()
    # every label on at most two lines that fit the box
    for node in [d.id for d in docs] + ["Luật Tiêu chuẩn và Quy chuẩn kỹ thuật 2006", "209/NQ-CP"]:
        lines = label_lines(node)
        assert 1 <= len(lines) <= 2 and all(len(line) <= 22 for line in lines), lines
    assert label_lines("cao-bang_ke-hoach-664_2025-03-10") == ["cao-bang_ke-hoach-664_", "2025-03-10"]


def test_counts_are_worded_in_the_singular_and_the_plural():
    from pipeline.corpus.report_assets import plural

    assert [plural(n, "document") for n in (0, 1, 2)] == ["0 documents", "1 document", "2 documents"]
    assert plural(1, "agency") == "1 agency" and plural(3, "agency") == "3 agencies"
    assert plural(2, "alternate format") == "2 alternate formats"
    page = build_report(small_run())
    # the plan: 1 assignment, 0 targets, 1 deadline-less list, 1 reference
    assert "1 assignment, 0 targets, 0 results, 0 deadlines, 1 reference" in page
    assert not re.search(r"\b1 (documents|assignments|references|agencies)\b", page)


def test_a_number_the_corpus_resolved_is_shown_marked_as_resolved():
    docs = small_run()
    links = {"documents": [{"id": "plan-<b>x</b>", "number": None, "recognised_as": "664/KH-UBND"}],
             "external": [], "edges": [], "chains": []}
    page = build_report(docs, links)
    row = re.search(r'<tr><td><a href="#doc-d0">.*?</tr>', page).group(0)
    assert "664/KH-UBND" in row and 'class="badge resolved"' in row
    # without the corpus the number stays blank: '…/KH-UBND', and nothing says resolved
    plain = build_report(docs)
    assert "664/KH-UBND" not in re.search(r'<tr><td><a href="#doc-d0">.*?</tr>', plain).group(0)
    assert "…/KH-UBND" in plain and 'class="badge resolved"' not in plain


def test_the_page_is_the_same_bytes_for_the_same_run():
    docs = small_run()
    assert build_report(docs) == build_report([Document.from_dict(json.loads(json.dumps(d.to_dict()))) for d in docs])


def test_one_font_family_for_the_page():
    css = (REPO / "pipeline/corpus/templates/report.css").read_text(encoding="utf-8")
    families = re.findall(r"font-family\s*:\s*([^;}]+)", css) + re.findall(r"\bfont\s*:[^;}]*?\d+px(?:/[\d.]+)?\s+([^;}]+)", css)
    assert {f.strip() for f in families} <= {"inherit", 'system-ui, "Segoe UI", "Noto Sans", Arial, sans-serif'}, families
