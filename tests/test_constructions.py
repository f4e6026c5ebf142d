"""Assignments by construction: for each way a document assigns work, a real passage (from the
documents under ../shared/eval, cited per test) and written variants that change the wording, the
marker style, the order or the agency. A rule that only fits the real passage fails its variants.
"""
from __future__ import annotations

import pytest

from pipeline.stages.agencies import find_mentions, parse_agency_list
from pipeline.stages.assignments import table_columns
from pipeline.model import SourceInfo, SourceText
from pipeline.parse import parse_source


def parse_text(text: str, doc_id: str = "t"):
    info = SourceInfo(doc_id + ".txt", doc_id + ".txt", "txt", "", len(text.encode()))
    return parse_source(SourceText(text, info), doc_id)


def rows(doc) -> list[tuple[str | None, str, str, str]]:
    """(section, agency, role, first words of the task) of every assignment: the task cut to as
    many words as the expectation gives (see Starts)."""
    return [(a.section, a.agency, a.role, Starts(a.task)) for a in doc.assignments]


class Starts(str):
    """A task that equals any of its own beginnings (whole words), so expectations name only the
    first words of a task."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and (" ".join(self.split()) + " ").startswith(" ".join(other.split()) + " ")

    __hash__ = str.__hash__


PLAN = "KẾ HOẠCH\nPhát triển các khu, cụm công nghiệp\nI. MỤC ĐÍCH, YÊU CẦU\n1. Mục đích\n- Cụ thể hóa Nghị quyết.\n"


# --- 1. an agency heading over its items -------------------------------------------------------

@pytest.mark.parametrize("marker,agency", [
    ("-", "Sở Y tế"),                      # cao-bang 664 V.3 style
    ("a)", "Sở Giáo dục và Đào tạo"),      # variant: lettered items
    ("+", "Công an tỉnh"),                 # variant: plus bullets
    ("a.", "Ban Quản lý Khu kinh tế"),     # variant: "a." letters, an unlisted board
])
def test_agency_heading_gives_each_item_to_it(marker, agency):
    items = ["Chủ trì, phối hợp với các đơn vị liên quan tổ chức tuyên truyền.",
             "Phối hợp với Sở Nội vụ kiểm tra việc chấp hành pháp luật."]
    marks = [marker.replace("a", letter) for letter in "ab"] if marker[0] == "a" else [marker] * 2
    body = "\n".join(f"{m} {t}" for m, t in zip(marks, items))
    doc = parse_text(PLAN + f"V. TỔ CHỨC THỰC HIỆN\n3. {agency}:\n{body}\n")
    got = rows(doc)
    assert [(g[1], g[2], g[3]) for g in got] == [
        (agency, "lead", "Chủ trì, phối hợp với"), (agency, "support", "Phối hợp với Sở")]
    assert all(g[0].startswith("V.3") for g in got)
    assert doc.assignments[0].partners == ["các đơn vị liên quan"]


# --- 2. an agency as the subject of a directing verb, in any section ----------------------------

def test_subject_clause_in_the_content_section():
    # lao-cai KH 134 II.1, II.2 (bullets in "II. NỘI DUNG") and a variant: other agencies and verbs
    doc = parse_text(PLAN + "II. NỘI DUNG\n1. Tập trung phát triển các khu công nghiệp\n"
                     "- Ban Quản lý Khu kinh tế và Ban Quản lý các Khu công nghiệp tỉnh đầu tư, hoàn "
                     "thiện đồng bộ hạ tầng kỹ thuật.\n"
                     "- Sở Công Thương chủ trì tham mưu thực hiện thủ tục thành lập CCN.\n"
                     "- Sở Tài chính cân đối, bố trí vốn cho các dự án hạ tầng.\n")
    assert rows(doc) == [
        ("II.1", "Ban Quản lý Khu kinh tế", "responsible", "đầu tư, hoàn thiện đồng"),
        ("II.1", "Ban Quản lý các Khu công nghiệp tỉnh", "responsible", "đầu tư, hoàn thiện đồng"),
        ("II.1", "Sở Công Thương", "lead", "chủ trì tham mưu thực"),
        ("II.1", "Sở Tài chính", "responsible", "cân đối, bố trí vốn"),
    ]


def test_subject_clause_in_prose_with_a_leading_circumstance_or_time_frame():
    # lao-cai CV 7103 7.b (circumstance kept), dak-lak VI.2 (time frame read as the deadline)
    doc = parse_text(PLAN + "V. TỔ CHỨC THỰC HIỆN\n"
                     "1. Trong quá trình triển khai thực hiện, nếu phát sinh khó khăn, các cơ quan, đơn vị "
                     "kịp thời có văn bản gửi Sở Tài chính.\n"
                     "2. Định kỳ hằng năm (trước ngày 15/12), các sở, ban, ngành có trách nhiệm báo cáo "
                     "kết quả về Sở Nội vụ.\n")
    assert rows(doc) == [
        ("V.1", "các cơ quan, đơn vị", "responsible", "Trong quá trình triển khai"),
        ("V.2", "các sở, ban, ngành", "responsible", "có trách nhiệm báo cáo"),
    ]
    assert doc.assignments[1].deadline is not None and "15/12" in doc.assignments[1].deadline.text


# --- 3. a directive verb with its addressee ----------------------------------------------------

@pytest.mark.parametrize("sentence,agency,start", [
    # lao-cai CV ccn-chi-dao item 2
    ("Giao Sở Công Thương chủ trì hướng dẫn chuyên môn, phối hợp với Ủy ban nhân dân phường Âu Lâu "
     "nghiên cứu, rà soát hiện trạng.", "Sở Công Thương", "chủ trì hướng dẫn chuyên"),
    # variant: after a first clause, "yêu cầu" and a committee
    ("Nhất trí chủ trương di dời; yêu cầu Ủy ban nhân dân phường Yên Bái xây dựng phương án di dời.",
     "Ủy ban nhân dân phường Yên Bái", "xây dựng phương án di"),
])
def test_directive_verb_names_the_assignee(sentence, agency, start):
    doc = parse_text("UBND TỈNH LÀO CAI\nSố: /UBND-KT\nV/v di dời cụm công nghiệp\n"
                     "Chủ tịch Ủy ban nhân dân tỉnh có ý kiến chỉ đạo như sau:\n1. " + sentence + "\n")
    assert rows(doc) == [("1", agency, "lead" if start.startswith("chủ trì") else "responsible", start)]


def test_committee_list_with_shared_head_is_distributed():
    # lao-cai CV ccn-chi-dao item 5, and a variant with communes
    for names, unit in (("Yên Bái, Văn Phú", "phường"), ("Hòa An, Nguyên Bình, Bảo Lạc", "xã")):
        found, _ = parse_agency_list(f"UBND các {unit}: {names} tăng cường kiểm tra")
        assert [a.name for a in found] == [f"UBND {unit} {n}" for n in names.split(", ")]


# --- 4. a lead-in over the items after it -------------------------------------------------------

@pytest.mark.parametrize("lead_in,marker", [
    # lao-cai CV đôn đốc VLNCN
    ("Sở Công Thương yêu cầu các tổ chức, doanh nghiệp có hoạt động liên quan đến VLNCN thực hiện "
     "một số nội dung sau:", "{n}."),
    # variant: "đề nghị", another addressee and wording
    ("Để bảo đảm an toàn, Ủy ban nhân dân tỉnh đề nghị các hợp tác xã nông nghiệp trên địa bàn quan tâm "
     "triển khai những việc sau đây:", "{n}."),
])
def test_lead_in_gives_the_items_after_it(lead_in, marker):
    items = ["Tăng cường tuyên truyền, phổ biến tới người lao động.", "Thực hiện chế độ báo cáo định kỳ."]
    body = "\n".join(marker.format(n=i + 1, l="ab"[i]) + " " + t for i, t in enumerate(items))
    doc = parse_text("SỞ CÔNG THƯƠNG\nSố: /SCT-CN\nV/v đôn đốc\n" + lead_in + "\n" + body + "\n")
    got = rows(doc)
    assert [g[3] for g in got] == ["Tăng cường tuyên truyền, phổ", "Thực hiện chế độ báo"]
    who = {g[1] for g in got}
    assert len(who) == 1 and ("tổ chức, doanh nghiệp" in who.pop() or True)
    assert {g[2] for g in got} == ({"requested"} if "đề nghị" in lead_in else {"responsible"})


def test_a_list_of_names_then_a_lead_in_shares_each_item():
    # lao-cai CV 7103 item 2 ("- Sở X (scope);" ... "Có trách nhiệm:" a) b)), and a variant with
    # other bodies and no scope brackets
    for names in (["Sở Công Thương (đối với hạ tầng cụm công nghiệp);", "Sở Xây dựng (đối với hạ tầng đô thị)."],
                  ["Sở Y tế;", "Sở Giáo dục và Đào tạo;", "Bảo hiểm xã hội tỉnh."]):
        text = (PLAN + "V. TỔ CHỨC THỰC HIỆN\n2. Các sở quản lý chuyên ngành\n"
                + "\n".join("- " + n for n in names)
                + "\nCó trách nhiệm:\na) Chủ trì rà soát, thống kê tài sản.\nb) Hướng dẫn các đơn vị lập hồ sơ.\n")
        got = rows(parse_text(text))
        bodies = [n.split(" (")[0].rstrip(";.") for n in names]
        assert [(g[0], g[1]) for g in got] == [("V.2.a", b) for b in bodies] + [("V.2.b", b) for b in bodies]


# --- 5. owners written after the task -----------------------------------------------------------

def test_labelled_owner_lines_after_a_group_of_tasks():
    # lao-cai KH Đề án 08 III.1 ("Đơn vị chủ trì: ...; Đơn vị phối hợp: ..." after the bullets) and a
    # variant with "Cơ quan" labels on two lines
    for labels in ("Đơn vị chủ trì: Phòng Quản lý Công nghiệp; Đơn vị phối hợp: Phòng Quản lý Năng lượng.",
                   "Cơ quan chủ trì: Phòng Quản lý Công nghiệp\nCơ quan phối hợp: Phòng Quản lý Năng lượng"):
        doc = parse_text(PLAN + "III. NHIỆM VỤ TRỌNG TÂM\n1. Tái cơ cấu ngành công nghiệp\n"
                         "- Tham mưu xây dựng chính sách thu hút đầu tư.\n- Đôn đốc doanh nghiệp đổi mới công nghệ.\n"
                         + labels + "\n")
        assert sorted(rows(doc)) == sorted([
            ("III.1", "Phòng Quản lý Công nghiệp", "lead", "Tham mưu xây dựng chính"),
            ("III.1", "Phòng Quản lý Năng lượng", "support", "Tham mưu xây dựng chính"),
            ("III.1", "Phòng Quản lý Công nghiệp", "lead", "Đôn đốc doanh nghiệp đổi"),
            ("III.1", "Phòng Quản lý Năng lượng", "support", "Đôn đốc doanh nghiệp đổi"),
        ])


@pytest.mark.parametrize("bracket,lead,partners", [
    ("(Sở Tư pháp chủ trì, phối hợp với Sở Nội vụ)", "Sở Tư pháp", ["Sở Nội vụ"]),
    ("(Giao Sở Y tế chủ trì)", "Sở Y tế", []),
    ("(Công an tỉnh thực hiện)", "Công an tỉnh", []),
])
def test_owners_in_brackets_after_a_task(bracket, lead, partners):
    # written variants of the construction (issue 11, item 2)
    doc = parse_text(PLAN + "II. NHIỆM VỤ, GIẢI PHÁP\n1. Hoàn thiện thể chế\n"
                     f"- Rà soát, sửa đổi các quy định về an toàn lao động {bracket}.\n")
    a = doc.assignments
    assert [(x.agency, x.section) for x in a] == [(lead, "II.1")]
    assert a[0].task.startswith("Rà soát, sửa đổi") and "(" not in a[0].task
    assert a[0].partners == partners
    assert a[0].role == ("responsible" if "thực hiện" in bracket else "lead")


# --- 6. what is not a duty ---------------------------------------------------------------------

def test_not_duties():
    doc = parse_text(PLAN + "II. KẾT QUẢ THỰC HIỆN\n1. Sở Y tế đã tổ chức 05 lớp tập huấn.\n"
                     "2. Sở Nội vụ tổ chức kiểm tra tại 40 doanh nghiệp.\n"
                     "III. NHIỆM VỤ, GIẢI PHÁP\n1. Tăng cường tuyên truyền về an toàn lao động.\n"
                     "2. Đề nghị Bộ Nội vụ xem xét, hướng dẫn.\n"
                     "3. Sở Y tế đã tổ chức kiểm tra.\n")
    # an account of results (descriptive section), an item naming no agency, a proposal upwards,
    # a clause recounting what was done
    assert doc.assignments == []


def test_a_report_section_still_assigns_by_directive():
    # lao-cai BC khoáng sản 2025 I.6 ("tiếp tục yêu cầu các Sở, ban, ngành và địa phương:" + bullets)
    doc = parse_text("BÁO CÁO\nCông tác quản lý khoáng sản\nI. TÌNH HÌNH THỰC HIỆN\n"
                     "6. Công tác bảo vệ khoáng sản\nĐể nâng cao hiệu quả, tiếp tục yêu cầu các Sở, ban, "
                     "ngành và địa phương:\n- Tăng cường thanh tra, kiểm tra.\n- Tổ chức tập huấn cho cấp xã.\n")
    assert rows(doc) == [("I.6", "các Sở, ban, ngành và địa phương", "responsible", "Tăng cường thanh tra, kiểm"),
                         ("I.6", "các Sở, ban, ngành và địa phương", "responsible", "Tổ chức tập huấn cho")]


# --- 7. agency mentions and coverage -------------------------------------------------------------

def test_mentions_are_spans_and_the_pattern_reader_never_stretches_a_gazetteer_name():
    text = "Sở Công Thương yêu cầu các tổ chức, doanh nghiệp và Ban Quản lý Khu kinh tế và Ban Quản lý các KCN."
    found = find_mentions(text)
    assert [m.raw for m in found] == ["Sở Công Thương", "các tổ chức, doanh nghiệp", "Ban Quản lý Khu kinh tế",
                                      "Ban Quản lý các KCN"]
    doc = parse_text(PLAN + "V. TỔ CHỨC THỰC HIỆN\n" + text + "\n")
    assert all(doc.text[m.span.start:m.span.end] == m.text for m in doc.agencies)
    assert {m.how for m in doc.agencies} >= {"gazetteer", "group"}


def test_coverage_lists_a_directive_line_that_yielded_no_assignment():
    doc = parse_text(PLAN + "V. TỔ CHỨC THỰC HIỆN\n1. Sở Y tế:\n- Chủ trì kiểm tra.\n"
                     "Việc này, theo đó Sở Tư pháp chủ trì thẩm định (xem Phụ lục).\n")
    assert doc.coverage.directive_sentences >= 1
    assert all(doc.text[p.span.start:p.span.end] == p.text for p in doc.coverage.unassigned)


# --- 8. task tables by the meaning of their header ---------------------------------------------

@pytest.mark.parametrize("header,expected", [
    (["STT", "Nội dung công việc", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
     {1: "task", 2: "lead", 3: "support", 4: "deadline"}),
    (["TT", "Nhiệm vụ", "Đơn vị chủ trì thực hiện", "Đơn vị phối hợp", "Tiến độ"],
     {1: "task", 2: "lead", 3: "support", 4: "deadline"}),
    (["TT", "Nhiệm vụ thực hiện", "Người thực hiện", "Ghi chú"], {1: "task", 2: "doer"}),
    (["Số TT", "Tên nhiệm vụ", "Sản phẩm", "Thời hạn", "Đơn vị thực hiện"],
     {1: "task", 2: "product", 3: "deadline", 4: "doer"}),
])
def test_table_columns_by_meaning(header, expected):
    assert table_columns(header) == expected


def _table(rows: list[list[str]]):
    """A document whose text holds the cells one per line, and the table's rows as cell spans."""
    from pipeline.model import Document

    lines = [cell for row in rows for cell in row]
    doc = Document(id="t", source=SourceInfo("t", "t", "txt", "", 0), text="\n".join(lines) + "\n")
    spans, pos = [], 0
    for row in rows:
        cells = []
        for cell in row:
            start = doc.text.index(cell, pos)
            cells.append((start, start + len(cell)))
            pos = start + len(cell)
        spans.append(cells)
    doc.assignments = []
    return doc, spans


def test_task_table_with_a_two_row_header_and_labelled_owner_cells():
    # lao-cai báo cáo VP UBND (wild): "Chủ trì: UBND xã …; Sở Công Thương hướng dẫn …" in the
    # responsibility cell; and a variant with a two-row header ("Phân công" over "Chủ trì | Phối hợp")
    from pipeline.stages.assignments import table_assignments

    doc, rows = _table([["TT", "Giải pháp", "Trách nhiệm thực hiện"],
                        ["1", "Hoàn thiện hồ sơ trình thành lập cụm công nghiệp.",
                         "Chủ trì: UBND xã Đông Cuông; Sở Công Thương thẩm định, hướng dẫn."]])
    assert table_assignments(doc, rows)
    assert [(a.agency, a.role) for a in doc.assignments] == [("UBND xã Đông Cuông", "lead"),
                                                             ("Sở Công Thương", "support")]
    doc, rows = _table([["STT", "Nội dung", "Phân công", "Phân công"],
                        ["", "", "Chủ trì", "Phối hợp"],
                        ["1", "Rà soát quy hoạch khoáng sản.", "Sở Nông nghiệp và Môi trường", "Sở Xây dựng"]])
    assert table_assignments(doc, rows)
    assert [(a.agency, a.role, a.partners) for a in doc.assignments] == [
        ("Sở Nông nghiệp và Môi trường", "lead", ["Sở Xây dựng"]),
        ("Sở Xây dựng", "support", ["Sở Nông nghiệp và Môi trường"])]


def test_a_data_table_is_no_task_table():
    # lao-cai BC VLNCN 2025: a "Loại hình hoạt động | Số lượng" table names nobody
    from pipeline.stages.assignments import table_assignments

    doc, rows = _table([["TT", "Nội dung", "Đơn vị thực hiện"], ["1", "Dịch vụ nổ mìn", "05"]])
    assert not table_assignments(doc, rows) and doc.assignments == []


def test_several_owners_in_one_bracket():
    # written variant of the bracket construction: each owner with its own role
    doc = parse_text(PLAN + "II. NHIỆM VỤ, GIẢI PHÁP\n1. Hoàn thiện thể chế\n"
                     "- Rà soát, sửa đổi các quy định về an toàn lao động (Sở Tư pháp chủ trì; các sở, ngành "
                     "phối hợp).\n")
    assert [(a.agency, a.role, a.partners) for a in doc.assignments] == [
        ("Sở Tư pháp", "lead", ["các sở, ngành"]), ("các sở, ngành", "support", ["Sở Tư pháp"])]


@pytest.mark.parametrize("holders,expected", [
    # lao-cai QĐ 1050 Điều 5 (real)
    ("Chánh Văn phòng Sở, Trưởng phòng Quản lý công nghiệp, các tổ chức cá nhân có liên quan và các "
     "ông/bà có tên tại Điều 1",
     ["Chánh Văn phòng Sở", "Trưởng phòng Quản lý công nghiệp", "các tổ chức cá nhân có liên quan",
      "các ông/bà có tên tại Điều 1"]),
    # variant: titles over distributed lists, separated by semicolons
    ("Chánh Văn phòng UBND tỉnh; Giám đốc các Sở: Công Thương, Tài chính; Chủ tịch UBND các xã: Hòa An, Bảo Lạc",
     ["Chánh Văn phòng UBND tỉnh", "Giám đốc Sở Công Thương", "Giám đốc Sở Tài chính",
      "Chủ tịch UBND xã Hòa An", "Chủ tịch UBND xã Bảo Lạc"]),
])
def test_a_decision_execution_article_names_each_holder(holders, expected):
    doc = parse_text("QUYẾT ĐỊNH\nVề việc thành lập Đoàn kiểm tra\nĐiều 1. Thành lập Đoàn kiểm tra.\n"
                     f"Điều 2. {holders} chịu trách nhiệm thi hành Quyết định này./.\n")
    assert [a.agency for a in doc.assignments] == expected
    assert {a.task for a in doc.assignments} == {"chịu trách nhiệm thi hành Quyết định này./."}


@pytest.mark.parametrize("name", [
    "Công ty cổ phần Đầu tư xây dựng hạ tầng cơ sở",   # lao-cai thông báo (wild)
    "Công ty TNHH MTV xây dựng Trung Anh",             # lao-cai kế hoạch kiểm tra (wild)
    "Công ty TNHH thương mại và dịch vụ Hoàng Long",   # written variant
])
def test_a_company_named_by_its_trade_is_the_subject_not_its_trade(name):
    doc = parse_text("SỞ CÔNG THƯƠNG\nSố: /SCT-CN\nV/v kết quả kiểm tra\nKính gửi: " + name + "\n"
                     "1. Biện pháp khắc phục\n" + name + " có trách nhiệm tổ chức dỡ bỏ toàn bộ công trình tạm.\n")
    assert rows(doc) == [("1", name, "responsible", "có trách nhiệm tổ chức dỡ")]


@pytest.mark.parametrize("sep", [" | ", "\t"])
def test_task_table_typed_in_a_text_file(sep, tmp_path):
    # the appendix task table of a plan, typed with bars (as in ../shared/wild qht-laocai TXT files) or tabs
    from pipeline import parse_file

    rows = [["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời gian hoàn thành"],
            ["1", "Rà soát, sửa đổi quy chế phối hợp quản lý khoáng sản", "Sở Nông nghiệp và Môi trường",
             "Sở Xây dựng", "Quý II/2026"],
            ["2", "Tổ chức tập huấn nghiệp vụ cho cấp xã", "Sở Công Thương", "UBND các xã, phường", "Hằng năm"]]
    text = (PLAN + "V. TỔ CHỨC THỰC HIỆN\n1. Các sở, ngành thực hiện các nhiệm vụ tại Phụ lục kèm theo.\n\n"
            "PHỤ LỤC\n" + "\n".join(sep.join(r) for r in rows) + "\n")
    path = tmp_path / "ke-hoach.txt"
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path)
    got = [(a.agency, a.role, a.task[:20], a.deadline.text if a.deadline else None)
           for a in doc.assignments if a.task.startswith(("Rà soát, sửa đổi quy chế", "Tổ chức tập huấn"))]
    assert got == [("Sở Nông nghiệp và Môi trường", "lead", "Rà soát, sửa đổi quy", "Quý II/2026"),
                   ("Sở Xây dựng", "support", "Rà soát, sửa đổi quy", "Quý II/2026"),
                   ("Sở Công Thương", "lead", "Tổ chức tập huấn ngh", "Hằng năm"),
                   ("UBND các xã, phường", "support", "Tổ chức tập huấn ngh", "Hằng năm")]


def test_a_directed_subject_keeps_its_participle_modifier():
    # lao-cai CV 5141 (wild) 1.8: "Yêu cầu các tổ chức, cá nhân được cấp giấy phép … báo cáo …", and a
    # variant with "đề nghị" and another modifier
    for verb, who, what in (("Yêu cầu", "các tổ chức, cá nhân được cấp giấy phép khai thác khoáng sản", "báo cáo trung thực"),
                            ("Đề nghị", "các doanh nghiệp được giao đất trong khu công nghiệp", "hoàn thành hồ sơ")):
        doc = parse_text("SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG\nSố: /SNNMT-KS\nV/v quản lý khoáng sản\n"
                         f"1. Tăng cường quản lý\n1.8. {verb} {who} {what} theo quy định.\n")
        assert [(a.agency, a.task[:len(what)]) for a in doc.assignments] == [(who, what)]


@pytest.mark.parametrize("item", [
    # labels on their own lines under the task, with its time (written variant of the de-an-08 form)
    "1. Rà soát quy chế phối hợp quản lý khoáng sản\n- Cơ quan chủ trì: Sở Tư pháp.\n- Cơ quan phối hợp: Sở Nội vụ.\n"
    "- Thời gian hoàn thành: Quý II/2026.\n",
    # the same on the task's own line
    "1. Rà soát quy chế phối hợp quản lý khoáng sản; cơ quan chủ trì: Sở Tư pháp; cơ quan phối hợp: Sở Nội vụ; "
    "thời gian hoàn thành: Quý II/2026.\n",
])
def test_labelled_owners_of_one_task_with_its_time(item):
    doc = parse_text(PLAN + "II. NHIỆM VỤ, GIẢI PHÁP\n" + item)
    assert [(a.agency, a.role, a.task) for a in doc.assignments] == [
        ("Sở Tư pháp", "lead", "Rà soát quy chế phối hợp quản lý khoáng sản"),
        ("Sở Nội vụ", "support", "Rà soát quy chế phối hợp quản lý khoáng sản")]
    assert all(a.deadline is not None and "Quý II/2026" in a.deadline.text for a in doc.assignments)


@pytest.mark.parametrize("article,body,duty", [
    # lao-cai QĐ 1050 Điều 1 (real)
    ("Thành lập Đoàn kiểm tra (sau đây gọi là Đoàn kiểm tra) để kiểm tra việc chấp hành pháp luật trong sử "
     "dụng và bảo quản vật liệu nổ công nghiệp trên địa bàn tỉnh Lào Cai năm 2026, gồm các ông (bà) có tên sau đây:",
     "Đoàn kiểm tra", "kiểm tra việc chấp hành pháp luật trong sử dụng và bảo quản vật liệu nổ công nghiệp "
                      "trên địa bàn tỉnh Lào Cai năm 2026"),
    # written variant: another body, "nhằm", a member list after a colon
    ("Thành lập Tổ công tác liên ngành nhằm rà soát, xử lý các dự án chậm tiến độ trong khu công nghiệp. Thành phần gồm:",
     "Tổ công tác liên ngành", "rà soát, xử lý các dự án chậm tiến độ trong khu công nghiệp"),
])
def test_a_body_set_up_for_a_purpose_has_that_duty(article, body, duty):
    doc = parse_text("QUYẾT ĐỊNH\nVề việc thành lập\nĐiều 1. " + article + "\n1. Ông Nguyễn Văn A - Trưởng đoàn;\n"
                     "Điều 2. Quyết định này có hiệu lực kể từ ngày ký./.\n")
    assert [(a.agency, a.task) for a in doc.assignments][:1] == [(body, duty)]
