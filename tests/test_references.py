"""Stage 5, references: rules proven by their examples, behaviour on short corpus passages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline import parse_file, rules
from pipeline.model import Document, Metadata
from pipeline.stages.references import extract_references, references_in
from pipeline.textkeys import search_key

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
R = rules.load("references")
LAWS = rules.load("laws")


def refs_of(text: str, **meta) -> dict:
    doc = Document(id="t", source=None, text=text, metadata=Metadata(**meta))  # type: ignore[arg-type]
    extract_references(doc)
    return {r.canonical_id: r for r in doc.references}


# ------------------------------------------------------------------ rules are data, with examples


def _examples():
    yield "number_symbol", R["number_symbol"]["pattern"], R["number_symbol"]["examples"], 0
    for e in R["doc_types"]:
        yield f"doc_type {e['label']}", e["pattern"], e["examples"], 0
    for i, e in enumerate(R["dates"]):
        yield f"date {i}", e["pattern"], e["examples"], 0
    yield "year", R["year"]["pattern"], R["year"]["examples"], 0
    for e in R["issuers"]:
        yield f"issuer {e['pattern']}", e["pattern"], e["examples"], 0
    names = "|".join(
        r"[\s,\-–]+".join(re.findall(r"[0-9a-z]+", search_key(n))) for n in rules.load("departments")["names"])
    yield "ministry", R["ministry_pattern"]["template"].replace("NAMES", names), R["ministry_pattern"]["examples"], 0
    trigger = R["implement_triggers"]["pattern"].lstrip("^")
    yield "item_lead", R["item_lead"]["template"].replace("TRIGGER", trigger), R["item_lead"]["examples"], 0
    for name in ("title_leads", "implement_triggers", "title_trigger", "coordination", "alias",
                 "report_doc_line", "section_heading"):
        yield name, R[name]["pattern"], R[name]["examples"], 0
    yield "unlisted_law", LAWS["unlisted_law"]["pattern"], LAWS["unlisted_law"]["examples"], 0
    for name in ("date_first_verb", "title_issues_plan", "issued_with", "preamble_grounds", "bare_number", "list_continuation", "standard", "named_document", "sentence_date_first",
                 "sentence_issued_on"):
        yield name, R[name]["pattern"], R[name]["examples"], 0
    for e in R["described_types"]:
        yield f"described {e['pattern']}", e["pattern"], e["examples"], 0
    for name in ("amending_law", "amending_target_end", "law_number_apposition"):
        yield name, LAWS[name]["pattern"], LAWS[name]["examples"], 0


@pytest.mark.parametrize("name,pattern,examples,flags", list(_examples()), ids=lambda x: x if isinstance(x, str) and len(x) < 40 else None)
def test_every_rule_matches_its_examples(name, pattern, examples, flags):
    rx = re.compile(pattern, flags)
    assert examples, f"{name} has no examples"
    for ex in examples:
        key = search_key(ex)
        assert rx.search(key), f"{name}: {ex!r} does not match"


def test_every_law_in_the_table_is_found_by_name():
    for law in LAWS["laws"]:
        prefix = "Bộ luật" if law.get("kind") == "bo_luat" else "Luật"
        got = refs_of(f"theo quy định của {prefix} {law['name']}.", date="2030-01-01")
        latest = max(law["versions"], key=lambda v: str(v["date"]))
        assert f"{prefix} {law['name']} {latest['year']}" in got, law["name"]


def test_code_casing_table_keys_are_folded_codes():
    for key, canon in R["code_casing"].items():
        assert search_key(canon).upper() == key


# ------------------------------------------------------------------ canonical ids


def test_party_symbol_with_a_space_gets_its_hyphen():
    got = refs_of("thông tin, tuyên truyền các hoạt động thực hiện Chỉ thị số 31 CT/TW ngày 19/3/2024 "
                  "của Ban Bí thư Trung ương Đảng khóa XIII về tiếp tục tăng cường sự lãnh đạo của Đảng.")
    r = got["31-CT/TW"]
    assert (r.doc_type, r.number, r.date, r.issuer) == ("chi_thi", "31", "2024-03-19", "Ban Bí thư")


def test_stray_space_in_symbol_and_issuer_with_province_and_title():
    got = refs_of("- Tiếp tục thực hiện có hiệu quả các nội dung tại Kế hoạch số 843/KH- UBND ngày 08/4/2022 "
                  "của UBND tỉnh Cao Bằng về thực hiện Chương trình ATVSLĐ tỉnh Cao Bằng giai đoạn 2021-2025; "
                  "Công văn số 1804/UBND-VX ngày 06/7/2023 của Chủ tịch UBND tỉnh về việc tăng cường triển khai.")
    assert set(got) == {"843/KH-UBND", "1804/UBND-VX"}  # "Chương trình ... 2021-2025" has no number
    r = got["843/KH-UBND"]
    assert r.issuer == "UBND tỉnh Cao Bằng"
    assert r.title == "về thực hiện Chương trình ATVSLĐ tỉnh Cao Bằng giai đoạn 2021-2025"
    assert got["1804/UBND-VX"].doc_type == "cong_van"
    assert got["1804/UBND-VX"].issuer == "Chủ tịch UBND tỉnh"


def test_code_casing_nd_ttg_and_year_in_symbol():
    got = refs_of("quy định tại Nghị định số 39/2016/ND-CP ngày 15/5/2016 của Chính Phủ; "
                  "Chỉ thị số 01/CT-TTG ngày 03/01/2025 của Thủ tướng Chính phủ; "
                  "Quyết định số 659/QĐ-TTg ngày 20/5/2020 của Thủ tướng Chính phủ.")
    assert set(got) == {"39/2016/NĐ-CP", "01/CT-TTg", "659/QĐ-TTg"}
    assert got["39/2016/NĐ-CP"].doc_type == "nghi_dinh"
    assert got["39/2016/NĐ-CP"].issuer == "Chính phủ"
    assert got["01/CT-TTg"].issuer == "Thủ tướng Chính phủ"


def test_alphanumeric_number_and_union_issuer():
    got = refs_of("tiếp tục đẩy mạnh thực hiện Kết luận số 08/KL-BCH ngày 11/01/2023 của Ban Chấp hành Tổng Liên "
                  "đoàn Lao động Việt Nam về việc tiếp tục thực hiện Nghị quyết số 10c/NQ-BCH ngày 12/01/2017 về "
                  "“Nâng cao hiệu quả công tác ATVSLĐ của tổ chức công đoàn trong tình hình mới”")
    assert got["08/KL-BCH"].doc_type == "ket_luan"
    assert got["08/KL-BCH"].issuer == "Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam"
    assert got["10c/NQ-BCH"].issuer is None  # not stated: never implied from the symbol
    assert got["10c/NQ-BCH"].date == "2017-01-12"


# ------------------------------------------------------------------ dates


@pytest.mark.parametrize("written,iso", [
    ("ngày 28/10/2024", "2024-10-28"),
    ("ngày 28 tháng 10 năm 2024", "2024-10-28"),
    ("28-10-2024", "2024-10-28"),
    ("ngày 31/02/2024", None),  # impossible: rejected, not emitted
])
def test_date_forms(written, iso):
    got = refs_of(f"Thực hiện Nghị quyết số 209/NQ-CP {written} của Chính phủ, UBND tỉnh ban hành.")
    assert got["209/NQ-CP"].date == iso


# ------------------------------------------------------------------ robustness


def test_upper_case_title_and_ocr_slips():
    got = refs_of("THỰC HIỆN NGHỊ QUYẾT SỐ 209/NQ-CP NGÀY 28/10/2024 CỦA CHÍNH PHỦ VÀ KẾ HOẠCH SỐ 417-KH/TU "
                  "NGÀY 20/01/2025 CỦA TỈNH UỶ CAO BẰNG VỀ THỰC HIỆN CHỈ THỊ SỐ 31-CT/TW NGÀY 19/3/2024 CỦA BAN BÍ THƯ")
    assert set(got) == {"209/NQ-CP", "417-KH/TU", "31-CT/TW"}
    assert got["417-KH/TU"].issuer == "TỈNH UỶ CAO BẰNG"
    got = refs_of("các mục tiêu, nhiệm vụ và giải pháp nêu tại Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thu "
                  "Trung ương Đảng về tiếp tục tăng cường")
    assert got["31-CT/TW"].issuer == "Ban Bí thư"


def test_this_document_and_unnumbered_documents_are_not_references():
    assert refs_of("a) Tổ chức triển khai thực hiện đầy đủ các nộỉ dung tại Kể hoạch này.") == {}
    assert refs_of("các hoạt động triển khai Chương trình An toàn, vệ sinh lao động giai đoạn 2021-2025 trên "
                   "địa bàn tỉnh; xây dựng Kế hoạch 5 năm; báo cáo 6 tháng đầu năm; tổng số 481 người") == {}
    assert refs_of("phổ biến pháp luật an toàn, vệ sinh lao động cho người lao động") == {}


def test_ocr_type_word_with_a_number_is_a_reference():
    got = refs_of("tổ chức thực hiện Kể hoạch số 622/KH-UBND ngày 07/3/2025 của UBND tỉnh.")
    assert got["622/KH-UBND"].doc_type == "ke_hoach"


def test_number_without_symbol_is_kept_with_its_type():
    got = refs_of("Triển khai các nhiệm vụ tại Đề án số 08 ngày 12/5/2023 của UBND tỉnh về phát triển.")
    (r,) = got.values()
    assert (r.canonical_id, r.doc_type, r.number, r.symbol, r.date) == (
        "Đề án số 08", "other", "08", None, "2023-05-12")


# ------------------------------------------------------------------ short forms, aliases, footnotes


def test_alias_and_later_short_forms_join_one_reference():
    text = ("Thực hiện Kế hoạch số 03-KH/TU ngày 03/10/2025 của Ban Thường vụ Tỉnh ủy về thực hiện Chỉ thị số "
            "31-CT/TW ngày 19/3/2024 của Ban Bí thư Trung ương Đảng về tiếp tục tăng cường sự lãnh đạo của Đảng "
            "(viết tắt Kế hoạch số 03-KH/TU); xét đề nghị của Sở Nội vụ tại Tờ trình số 3137/TTr-SNV ngày "
            "30/10/2025, UBND tỉnh Thái Nguyên ban hành Kế hoạch triển khai thực hiện Kế hoạch số 03-KH/TU.\n"
            "- Tổ chức nghiên cứu, quán triệt triển khai Chỉ thị số 31-CT/TW và Kế hoạch số 03-KH/TU nghiêm túc.")
    got = refs_of(text)
    assert set(got) == {"03-KH/TU", "31-CT/TW", "3137/TTr-SNV"}
    forms = [m.form for m in got["03-KH/TU"].mentions]
    assert forms == ["full", "alias", "short", "short"]
    r = got["03-KH/TU"]
    assert r.issuer == "Ban Thường vụ Tỉnh ủy" and r.text.startswith("Kế hoạch số 03-KH/TU ngày 03/10/2025")
    for m in r.mentions:
        assert text[m.span.start:m.span.end] == m.text


def test_bare_number_alias_resolves_to_its_document():
    got = refs_of("Thực hiện Chỉ thị số 11/CT-TTg ngày 04/3/2020 của Thủ tướng Chính phủ (sau đây viết tắt là "
                  "Chỉ thị 11), UBND tỉnh ban hành Kế hoạch.\n- Quán triệt nội dung Chỉ thị 11 đến cán bộ.")
    assert list(got) == ["11/CT-TTg"]
    assert [m.form for m in got["11/CT-TTg"].mentions] == ["full", "alias", "short"]


def test_footnote_markers_resolve_to_the_footnote_documents():
    text = ("Thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ, UBND tỉnh đã tham mưu Tỉnh uỷ ban "
            "hành Kế hoạch¹ thực hiện Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thư. UBND tỉnh ban hành "
            "Kế hoạch² thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ; Kế hoạch³ triển khai Tháng "
            "hành động về ATVSLĐ năm 2025; văn bản⁴ chỉ đạo tăng cường công tác đảm bảo ATVSLĐ.\n"
            "¹ Số 417-KH/TU ngày 20/01/2025.\n² Số 664/KH-UBND ngày 10/3/2025.\n³ Số 622/KH-UBND ngày 07/3/2025.\n"
            "⁴ Công văn số 2432/UBND-VX ngày 05/8/2025.")
    got = refs_of(text)
    assert set(got) == {"209/NQ-CP", "31-CT/TW", "417-KH/TU", "664/KH-UBND", "622/KH-UBND", "2432/UBND-VX"}
    assert got["417-KH/TU"].doc_type == "ke_hoach" and got["417-KH/TU"].date == "2025-01-20"
    assert got["2432/UBND-VX"].doc_type == "cong_van"
    assert got["622/KH-UBND"].issuer == "UBND tỉnh"  # the sentence says who issued it
    assert all(m.form == "footnote" for m in got["664/KH-UBND"].mentions)
    assert [m.text for m in got["664/KH-UBND"].mentions] == ["Kế hoạch²", "Số 664/KH-UBND ngày 10/3/2025"]


def test_footnote_marker_glued_to_a_symbol_is_not_part_of_it():
    got = refs_of("Căn cứ Nghị định số 105/2025/NĐ-CP2 ngày 15/5/2025 của Chính phủ; Luật số 42/2024/QH15.")
    assert set(got) == {"105/2025/NĐ-CP", "Luật Quản lý, sử dụng vũ khí, vật liệu nổ và công cụ hỗ trợ 2024"}
    assert got["105/2025/NĐ-CP"].issuer == "Chính phủ"


# ------------------------------------------------------------------ laws


def test_law_with_date_and_laws_by_name_only():
    got = refs_of("Thực hiện Luật An toàn, vệ sinh lao động ngày 25/6/2015; Nghị định số 39/2016/NĐ-CP ngày "
                  "15/5/2016 của Chính phủ quy định chi tiết thi hành một số điều của Luật An toàn, vệ sinh lao động")
    law = got["Luật An toàn, vệ sinh lao động 2015"]
    assert (law.doc_type, law.date, law.number) == ("luat", "2015-06-25", "84/2015/QH13")
    assert len(law.mentions) == 2
    got = refs_of("theo quy định của Luật Xây dựng; áp dụng các tiêu chuẩn, quy chuẩn kỹ thuật theo quy định của "
                  "Luật Tiêu chuẩn và Quy chuẩn kỹ thuật.", date="2025-11")
    assert set(got) == {"Luật Xây dựng 2014", "Luật Tiêu chuẩn và Quy chuẩn kỹ thuật 2006"}
    assert got["Luật Xây dựng 2014"].date is None


def test_law_version_follows_the_citing_documents_date():
    text = "bố trí kinh phí theo quy định Luật Ngân sách Nhà nước và các văn bản hướng dẫn hiện hành"
    assert list(refs_of(text, date="2024-12")) == ["Luật Ngân sách nhà nước 2015"]
    assert list(refs_of(text, date="2026-03")) == ["Luật Ngân sách nhà nước 2025"]


# ------------------------------------------------------------------ relations


def test_relations_in_a_plan_title_and_opening():
    text = ("KẾ HOẠCH\nTHỰC HIỆN NGHỊ QUYẾT SỐ 209/NQ-CP NGÀY 28/10/2024 CỦA CHÍNH PHỦ VÀ KẾ HOẠCH SỐ 417-KH/TU "
            "NGÀY 20/01/2025 CỦA TỈNH UỶ CAO BẰNG VỀ THỰC HIỆN CHỈ THỊ SỐ 31-CT/TW NGÀY 19/3/2024 CỦA BAN BÍ THƯ\n"
            "Thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ ban hành Kế hoạch thực hiện Chỉ thị số "
            "31-CT/TW ngày 19/3/2024 của Ban Bí thư (Nghị quyết số 209/NQ-CP) ; Kế hoạch số 417-KH/TU ngày "
            "20/01/2025 của Tỉnh uỷ Cao Bằng thực hiện Chỉ thị số 31-CT/TW, UBND tỉnh xây dựng Kế hoạch như sau:\n"
            "I. MỤC ĐÍCH, YÊU CẦU\n- Tiếp tục triển khai hiệu quả Quyết định số 659/QĐ-TTg ngày 20/5/2020.")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"209/NQ-CP": "implements", "417-KH/TU": "implements", "31-CT/TW": "cites",
                   "659/QĐ-TTg": "cites"}


def test_relations_in_a_letter_opening_list():
    text = ("Kính gửi: Các Sở, Ban ngành\nThực hiện Luật An toàn, vệ sinh lao động ngày 25/6/2015; Nghị định số "
            "39/2016/NĐ-CP ngày 15/5/2016 của Chính phủ quy định chi tiết; Công văn số 907/BNV-CVL ngày 02/4/2025 "
            "của Bộ Nội vụ về việc tăng cường công tác đảm bảo an toàn, vệ sinh lao động (ATVSLĐ), Chủ tịch UBND "
            "tỉnh chỉ đạo như sau:\n1. Thực hiện tốt Kế hoạch số 664/KH-UBND ngày 10/3/2025 của UBND tỉnh.")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"Luật An toàn, vệ sinh lao động 2015": "implements", "39/2016/NĐ-CP": "implements",
                   "907/BNV-CVL": "implements", "664/KH-UBND": "cites"}


def test_relations_in_a_report():
    text = ("BÁO CÁO\nKết quả thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ ban hành Kế hoạch "
            "thực hiện Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thư\nKính gửi: Bộ Nội vụ\n"
            "Thực hiện Công văn số 11057/BNV-CVL ngày 24/11/2025 của Bộ Nội vụ về việc đề nghị báo cáo thực hiện "
            "Kế hoạch theo Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ, UBND tỉnh báo cáo như sau:\n"
            "I. TÌNH HÌNH TRIỂN KHAI THỰC HIỆN")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"209/NQ-CP": "reports_on", "31-CT/TW": "cites", "11057/BNV-CVL": "implements"}


def test_xet_de_nghi_is_not_an_implemented_document():
    text = ("Thực hiện Kế hoạch số 03-KH/TU ngày 03/10/2025 của Ban Thường vụ Tỉnh ủy; xét đề nghị của Sở Nội vụ "
            "tại Tờ trình số 3137/TTr-SNV ngày 30/10/2025, UBND tỉnh ban hành Kế hoạch.\nI. MỤC ĐÍCH")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"03-KH/TU": "implements", "3137/TTr-SNV": "cites"}


def test_references_in_a_title_for_linking():
    got = references_in("ban hành Kế hoạch thực hiện Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thư")
    assert got == [{"canonical_id": "31-CT/TW", "doc_type": "chi_thi", "implements": True}]
    got = references_in("về tiếp tục tăng cường sự lãnh đạo của Đảng đối với công tác an toàn, vệ sinh lao động")
    assert got == []


# ------------------------------------------------------------------ the corpus


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_corpus_references_are_distinct_and_grounded(path):
    doc = parse_file(path)
    assert not [e for e in doc.errors if e.stage == "references"]
    ids = [r.canonical_id for r in doc.references]
    assert len(ids) == len(set(ids)) and ids
    for r in doc.references:
        assert doc.text[r.span.start:r.span.end] == r.text
        assert r.relation in ("implements", "reports_on", "cites")
        for m in r.mentions:
            assert doc.text[m.span.start:m.span.end] == m.text


# ------------------------------------------------------------------ relations: grounds, brackets, wraps


def test_can_cu_grounds_are_cited_not_implemented():
    # A decision's legal grounds (real passage) and a plan's (written variant, one paragraph).
    text = ("QUYẾT ĐỊNH\nKiểm tra việc chấp hành pháp luật trong sử dụng vật liệu nổ công nghiệp\n"
            "Căn cứ Luật số 42/2024/QH15 ngày 29/6/2024 về Quản lý, sử dụng vũ khí, vật liệu nổ và công cụ hỗ trợ;\n"
            "Căn cứ Nghị định số 181/2024/NĐ-CP ngày 31/12/2024 của Chính phủ Quy định chi tiết;\n"
            "Theo đề nghị của Trưởng phòng Quản lý Công nghiệp, QUYẾT ĐỊNH:\nĐiều 1. Thành lập Đoàn kiểm tra")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert set(got.values()) == {"cites"} and "181/2024/NĐ-CP" in got
    text = ("KẾ HOẠCH\nThực hiện Nghị quyết số 34-NQ/TU của Tỉnh uỷ Lào Cai ngày 27/12/2025 về phát triển các khu công nghiệp\n"
            "Căn cứ Nghị định số 35/2022/NĐ-CP ngày 28 tháng 5 năm 2022 của Chính phủ; Nghị quyết số 34-NQ/TU ngày "
            "27 tháng 12 năm 2025 của Ban thường vụ Tỉnh ủy. Ủy ban nhân dân tỉnh ban hành Kế hoạch như sau:\nI. MỤC ĐÍCH")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"34-NQ/TU": "implements", "35/2022/NĐ-CP": "cites"}


def test_bracketed_line_under_the_title_shares_its_relation():
    text = ("KẾ HOẠCH\nThực hiện Đề án số 08 về phát triển công nghiệp tỉnh Lào Cai giai đoạn 2026-2030\n"
            "(Ban hành kèm theo Nghị quyết số 35-NQ/TU ngày 29/12/2025 của Tỉnh ủy Lào Cai)\n"
            "Căn cứ Nghị quyết số 35-NQ/TU ngày 29/12/2025 của Tỉnh ủy Lào Cai và Đề án số 08 ban hành kèm theo; "
            "Kế hoạch số 42-KH/ĐU ngày 11/02/2026 của Ban Thường vụ Đảng ủy thực hiện Đề án 08-ĐA/TU của Tỉnh ủy.\nI. MỤC ĐÍCH")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"35-NQ/TU": "implements", "08-ĐA/TU": "implements", "42-KH/ĐU": "cites"}
    # Written variant: a bracket that is not under the title is not part of it.
    text = ("KẾ HOẠCH\nThực hiện Đề án số 08 về phát triển công nghiệp\nKính gửi: các sở\n"
            "(Ban hành kèm theo Nghị quyết số 35-NQ/TU ngày 29/12/2025 của Tỉnh ủy Lào Cai)\nI. MỤC ĐÍCH")
    assert refs_of(text)["35-NQ/TU"].relation == "cites"


def test_opening_wrapped_over_lines_and_two_letters_each_with_its_title():
    text = ("Kính gửi: Các Sở, ban, ngành thuộc UBND tỉnh.\n"
            "Thực hiện Văn bản số 4250/BNNMT-ĐCKS ngày 29/4/2026 của Bộ\n"
            "Nông nghiệp và Môi trường về việc tăng cường thanh tra, kiểm tra hoạt động khoáng sản trên địa bàn và "
            "Văn bản số 4643/VPCP-CN ngày 20/5/2026 của Văn phòng Chính phủ về việc tăng cường công tác quản lý.\n"
            "Để nâng cao hiệu lực công tác quản lý, Chủ tịch Ủy ban nhân dân tỉnh yêu cầu:\n"
            "1. Thực hiện nghiêm Kế hoạch số 200/KH-UBND ngày 05/5/2026 của Ủy ban nhân dân tỉnh.")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"4250/BNNMT-ĐCKS": "implements", "4643/VPCP-CN": "implements", "200/KH-UBND": "cites"}
    # A reference named inside the first one's title is not coordinated with it.
    text = ("Thực hiện Kế hoạch số 664/KH-UBND ngày 10/3/2025 của UBND tỉnh về việc thực hiện Nghị quyết số "
            "209/NQ-CP ngày 28/10/2024 của Chính phủ và Kế hoạch số 417-KH/TU ngày 20/01/2025 của Tỉnh uỷ, "
            "Sở Nội vụ báo cáo như sau:\nI. KẾT QUẢ")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"664/KH-UBND": "implements", "209/NQ-CP": "cites", "417-KH/TU": "cites"}


def test_every_document_a_footnote_lists_is_a_reference():
    text = ("Thanh tra tỉnh đã ban hành 02 kết luận thanh tra².\n"
            "² Kết luận số 10/KL-TT ngày 09/9/2025 và Kết luận số 17/KL-TT ngày 05/11/2025.\n"
            "³ Văn bản số 4330/UBND-KT ngày 27/11/2025; Văn bản số 196/UBND-KT ngày 10/01/2026 về việc tăng cường.")
    got = refs_of(text)
    assert set(got) == {"10/KL-TT", "17/KL-TT", "4330/UBND-KT", "196/UBND-KT"}
    assert got["17/KL-TT"].date == "2025-11-05"


# ------------------------------------------------------------------ symbols of every shape


@pytest.mark.parametrize("text,canonical,doc_type", [
    ("(Công văn số 501/TTr-NV.IV ngày 12/6/2025 của Thanh tra tỉnh)", "501/TTr-NV.IV", "cong_van"),
    ("theo quy định của Nghị quyết 66.4/2025/NQ-CP ngày 21/9/2025", "66.4/2025/NQ-CP", "nghi_quyet"),
    ("Văn bản số 21.4/GĐN ngày 21/4/2026", "21.4/GĐN", "cong_van"),
    ("Văn bản số 1203/UBND-KT&XD ngày 02/3/2025 của UBND tỉnh", "1203/UBND-KT&XD", "cong_van"),
    ("tại Quyết định số 1050 QĐ-UBND ngày 06/3/2026 của UBND tỉnh", "1050/QĐ-UBND", "quyet_dinh"),
    ("Kế hoạch số 12 KH-SCT ngày 06/3/2026", "12/KH-SCT", "ke_hoach"),
    ("được Thủ tướng Chính phủ Quyết định số 1626/QĐTTg ngày 15/12/2023.", "1626/QĐ-TTg", "quyet_dinh"),
    ("phê duyệt tại Quyết định số 866/QĐ-Tg ngày 18/7/2023 và", "866/QĐ-Tg", "quyet_dinh"),
    ("tại Văn bản số 27/ĐN-Cty ngày 21/4/2026;", "27/ĐN-Cty", "cong_van"),
    ("(Hợp đồng nguyên tắc mua bán VLNCN số 244/HĐNT/A2/2026 với Tổng công ty)", "244/HĐNT/A2/2026", "other"),
    ("theo Giấy phép dịch vụ nổ mìn số 333/GP-ATMT ngày 10/5/2024 của Cục", "333/GP-ATMT", "other"),
    ("nhận được Giấy đề nghị số 24/CV-TH ngày 09/7/2026 của Doanh nghiệp", "24/CV-TH", "other"),
])
def test_symbols_with_dots_ampersands_glued_codes_and_lost_slashes(text, canonical, doc_type):
    got = refs_of(text)
    assert list(got) == [canonical]
    assert got[canonical].doc_type == doc_type
    r = got[canonical]
    assert text[r.span.start:r.span.end] == r.text


def test_a_sentence_after_a_symbol_is_not_part_of_it():
    got = refs_of("theo Nghị quyết số 209/NQ-CP.Tiếp theo đó, Kế hoạch số 12 ngày nào đó")
    assert "209/NQ-CP" in got
    got = refs_of("Quyết định số 12 ngày 06/3/2026 của UBND tỉnh")  # "số 12 ngày": no symbol
    assert list(got) == ["Quyết định số 12"]


def test_bare_numbers_continue_a_list_and_own_number_lines_are_not_references():
    got = refs_of("tại văn bản số 2687/TTg-KTN ngày 30/12/2014 (đối với tỉnh Lào Cai); số 1316/TTg-KTN ngày "
                  "10/8/2015 ( đối với tỉnh Yên Bái).")
    assert {c: (r.doc_type, r.date) for c, r in got.items()} == {
        "2687/TTg-KTN": ("cong_van", "2014-12-30"), "1316/TTg-KTN": ("cong_van", "2015-08-10")}
    got = refs_of("Quyết định số 12/QĐ-UBND ngày 01/3/2025, số 15/QĐ-UBND ngày 05/3/2025 của UBND tỉnh")
    assert got["15/QĐ-UBND"].doc_type == "quyet_dinh"
    assert refs_of("Số: 1050 /QĐ-SCT Lào Cai, ngày 06 tháng 3 năm 2026\nđạt 12/15 xã, số 04/04 đơn vị") == {}


# ------------------------------------------------------------------ laws: amending, by number, abbreviated


def test_amending_law_is_a_law_of_its_own():
    got = refs_of("Thực hiện, Luật Địa chất và khoáng sản năm 2024 và Luật sửa đổi, bổ sung một số điều của Luật "
                  "Địa chất và khoáng sản năm 2025, UBND tỉnh đã chỉ đạo. Tại khoản 26, Điều 1, Luật sửa đổi Luật Địa "
                  "chất và Khoáng sản năm 2025 quy định", date="2026-01")
    amend = "Luật sửa đổi, bổ sung một số điều của Luật Địa chất và khoáng sản 2025"
    assert set(got) == {"Luật Địa chất và khoáng sản 2024", amend}
    assert len(got[amend].mentions) == 2
    # Without a year, and an amending law of many laws named by its number just before.
    got = refs_of("¹ Đặc biệt: Luật Địa chất và khoáng sản ngày 29/11/2024; Luật sửa đổi, bổ sung một số điều của "
                  "Luật Địa chất và khoáng sản; các Nghị định của Chính phủ", date="2026-01")
    assert "Luật sửa đổi, bổ sung một số điều của Luật Địa chất và khoáng sản" in got
    assert got["Luật Địa chất và khoáng sản 2024"].date == "2024-11-29"
    got = refs_of("khoản 16 Điều I Luật số 146/2025/QH15 của Quốc hội: Luật sửa đổi, bổ sung một số điều của 15 luật "
                  "trong lĩnh vực nông nghiệp và môi trường.")
    assert list(got) == ["Luật sửa đổi, bổ sung một số điều của 15 luật trong lĩnh vực nông nghiệp và môi trường 2025"]


def test_laws_by_unlisted_number_with_their_date_and_by_abbreviation():
    got = refs_of("Điều 39 Luật số 42/2024/QH15 ngày 29/6/2024 (được sửa đổi, bổ sung tại Luật số 118/2025/QH15).")
    assert got["Luật Quản lý, sử dụng vũ khí, vật liệu nổ và công cụ hỗ trợ 2024"].date == "2024-06-29"
    assert got["118/2025/QH15"].doc_type == "luat"
    got = refs_of("thực hiện đầy đủ các hồ sơ thủ tục về môi trường theo quy định của Luật BVMT 2020.")
    assert list(got) == ["Luật Bảo vệ môi trường 2020"]
    got = refs_of("tuân thủ Luật ATVSLĐ và các văn bản hướng dẫn", date="2025-01")
    assert list(got) == ["Luật An toàn, vệ sinh lao động 2015"]


# ------------------------------------------------------------------ standards, agreements, short forms


def test_standards_are_references_written_without_spaces():
    got = refs_of("Căn cứ Thông tư số 32/2019/TT-BCT ngày 21/11/2019 của Bộ trưởng Bộ Công Thương ban hành Quy chuẩn "
                  "kỹ thuật quốc gia về an toàn vật liệu nổ công nghiệp QCVN 01:2019/BCT; nộp hồ sơ kho theo "
                  "QCVN 01:2019/BCT kèm văn bản nghiệm thu.")
    assert set(got) == {"32/2019/TT-BCT", "QCVN01:2019/BCT"}
    assert len(got["QCVN01:2019/BCT"].mentions) == 2 and got["QCVN01:2019/BCT"].doc_type == "other"
    got = refs_of("hiện tại Quy chuẩn QCVN 122:2024/BGTVT³ , Thông tư\n³ \nQCVN122:2024/BGTVT quy chuẩn kỹ thuật")
    assert list(got) == ["QCVN122:2024/BGTVT"]
    assert list(refs_of("thi công theo TCVN 5574:2018 về kết cấu bê tông")) == ["TCVN5574:2018"]
    assert refs_of("đạt tiêu chuẩn qcvn về nước sạch, tỷ lệ 10:2019") == {}


def test_agreements_known_by_name():
    got = refs_of("quản lý chặt chẽ việc sử dụng VLNCN tại khu vực biên giới đảm bảo tuân thủ đúng theo Hiệp định về "
                  "quy chế quản lý biên giới trên đất liền Việt Nam - Trung Quốc và các quy định khác có liên quan.")
    assert list(got) == ["Hiệp định về quy chế quản lý biên giới trên đất liền Việt Nam - Trung Quốc"]
    got = refs_of("tận dụng Hiệp định thương mại tự do Việt Nam - EU (EVFTA) để mở rộng thị trường")
    assert list(got) == ["Hiệp định thương mại tự do Việt Nam - EU"]
    assert refs_of("tận dụng các hiệp định thương mại tự do đã ký kết") == {}


def test_short_form_before_or_after_the_full_id_is_one_reference():
    got = refs_of("theo Quyết định số 1626 của Thủ tướng. Quy hoạch được Thủ tướng Chính phủ phê duyệt tại "
                  "Quyết định số 1626/QĐTTg ngày 15/12/2023. Thực hiện Quyết định 1626, UBND tỉnh đã chỉ đạo.")
    assert list(got) == ["1626/QĐ-TTg"] and len(got["1626/QĐ-TTg"].mentions) == 3


# ------------------------------------------------------------------ dates away from the reference


def test_dates_that_open_a_sentence_or_follow_ban_hanh_or_name_a_month():
    got = refs_of("Ngày 18/12/2025, Cục Địa chất và Khoáng sản Việt Nam có Văn bản số 3633/ĐCKS-PCKS xin được tiếp "
                  "thu. Ngày 08/12/2023, Văn phòng Chính phủ có ý kiến tại Văn bản số 9611/VPCP-CN. Ngày 30/12/2023, "
                  "UBND tỉnh Yên Bái đã có Văn bản số 4516/UBND-TNMT ngày 29/12/2023 báo cáo giải trình.")
    assert {c: r.date for c, r in got.items()} == {
        "3633/ĐCKS-PCKS": "2025-12-18", "9611/VPCP-CN": "2023-12-08", "4516/UBND-TNMT": "2023-12-29"}
    got = refs_of("Tuy nhiên, Nghị định số 21/2026/NĐ-CP sửa đổi, bổ sung một số điều của Nghị định số 193/2025/NĐ-CP "
                  "ngày 02/7/2025 đã được ban hành ngày 10/01/2026 chưa có quy định cụ thể.")
    assert {c: r.date for c, r in got.items()} == {"21/2026/NĐ-CP": "2026-01-10", "193/2025/NĐ-CP": "2025-07-02"}
    got = refs_of("Công ty cổ phần Đông Dương tại Văn bản số 02/GĐN-ĐD tháng 4 năm 2026; Công ty VPG tại Văn bản "
                  "số 11/CV-YVG tháng 12/2025.")
    assert {c: r.date for c, r in got.items()} == {"02/GĐN-ĐD": "2026-04", "11/CV-YVG": "2025-12"}
    # A date in a sentence with no reference is nobody's; a meeting that day about a document
    # does not date it.
    got = refs_of("Ngày 18/12/2025, Sở tổ chức hội nghị. Văn bản số 12/SCT-KT nêu rõ yêu cầu.")
    assert got["12/SCT-KT"].date is None
    got = refs_of("Ngày 15/3/2026, Sở tổ chức hội nghị triển khai Quyết định số 5/QĐ-UBND cho các đơn vị.")
    assert got["5/QĐ-UBND"].date is None


def test_wild_variants_fold_into_one_reference():
    # A title-case slip of a known code is that code; a law cited by number and by name is one law.
    got = refs_of("Quyết định số 1086/QĐ-TTg ngày 18/9/2023; đã được phê duyệt tại Quyết định số 1086/QĐ-Ttg.")
    assert list(got) == ["1086/QĐ-TTg"] and len(got["1086/QĐ-TTg"].mentions) == 2
    got = refs_of("Kế hoạch số 12/KH-UBND ngày 2/3/2025 và Kế hoạch số 12/KH-Ubnd.")
    assert list(got) == ["12/KH-UBND"]
    got = refs_of("khoản 12 Luật Giáo dục số 43/2019/QH14, khoản 31 Điều 1 Luật số 43/2019/QH14")
    assert list(got) == ["Luật Giáo dục 2019"]
    got = refs_of("Luật sửa đổi, bổ sung một số điều của 15 Luật trong lĩnh vực nông nghiệp và môi trường và Điều 48 "
                  "Nghị định số 12/2025/NĐ-CP")
    assert set(got) == {"Luật sửa đổi, bổ sung một số điều của 15 luật trong lĩnh vực nông nghiệp và môi trường",
                        "12/2025/NĐ-CP"}
    got = refs_of("theo Hiệp định khung ASEAN về tạo thuận lợi cho hàng hóa quá cảnh ký ngày 16 tháng 12 năm 1998;")
    assert list(got) == ["Hiệp định khung ASEAN về tạo thuận lợi cho hàng hóa quá cảnh"]


def test_grounds_between_the_title_and_a_thuc_hien_paragraph_do_not_end_the_opening():
    text = ("Số: /SNNMT-KS\nV/v thực hiện các quy định của Luật địa chất và khoáng sản 2024\nKính gửi: Các tổ chức\n"
            "Căn cứ Luật Địa chất và khoáng sản số 54/2024/QH15 ngày 29/11/2024, có hiệu lực thi hành từ ngày 01/7/2025;\n"
            "Căn cứ các Nghị định số 193/2025/NĐ-CP ngày 02/7/2025 của Chính phủ quy định chi tiết một số điều.\n"
            "Thực hiện Văn bản số 206/UBND-KT ngày 12/7/2025 của UBND tỉnh Lào Cai về việc triển khai Luật.\n"
            "Nhằm triển khai thực hiện nghiêm túc, đồng bộ, hiệu quả các quy định pháp luật mới về địa chất và khoáng sản, "
            "Sở đề nghị như sau:\n1. Tuân thủ Quyết định số 12/QĐ-UBND ngày 01/3/2025.")
    got = {c: r.relation for c, r in refs_of(text, date="2025-08").items()}
    assert got == {"Luật Địa chất và khoáng sản 2024": "implements", "193/2025/NĐ-CP": "cites",
                   "206/UBND-KT": "implements", "12/QĐ-UBND": "cites"}


def test_date_after_an_issuer_with_a_title_word_and_after_a_law_number():
    got = refs_of("Quyết định số 193/QĐ-BCT của Bộ trưởng Bộ Công Thương ngày 21/01/2021 về việc công bố")
    assert (got["193/QĐ-BCT"].date, got["193/QĐ-BCT"].issuer) == ("2021-01-21", "Bộ trưởng Bộ Công Thương")
    got = refs_of("theo Luật số 57/2024/QH15 của Quốc hội ngày 29/11/2024 sửa đổi, bổ sung")
    assert got["57/2024/QH15"].date == "2024-11-29"


def test_own_symbols_of_every_shape_for_linking():
    from pipeline.stages.references import canonical_symbol
    assert canonical_symbol("501", "TTr-NV.IV") == "501/TTr-NV.IV"
    assert canonical_symbol("1050", " QĐ - SCT") == "1050/QĐ-SCT"
    assert canonical_symbol("31", "CT/TW") == "31-CT/TW"


def test_dotted_short_form_resolves_and_a_dotted_amount_is_no_reference():
    got = refs_of("theo Nghị quyết 66.4/2025/NQ-CP ngày 21/9/2025 của Chính phủ. Thực hiện Nghị quyết 66.4, tỉnh đã ban hành.")
    assert list(got) == ["66.4/2025/NQ-CP"] and len(got["66.4/2025/NQ-CP"].mentions) == 2
    assert refs_of("Kế hoạch số 1.234 người tham gia") == {}
    assert list(refs_of("Nghị quyết số 209/NQ-CP-Theo đó")) == ["209/NQ-CP"]


def test_a_document_issued_with_another_carries_its_date():
    got = refs_of("Chỉ thị số 38-CT/TTg ngày 29/9/2020 của Thủ tướng; Đề án số 13 về tăng cường quản lý tài nguyên "
                  "giai đoạn 2026-2030 (ban hành kèm theo Nghị quyết số 35-NQ/TU ngày29/12/2025 của Ban Chấp hành "
                  "Đảng bộ tỉnh) và các văn bản có liên quan.")
    assert (got["Đề án số 13"].date, got["35-NQ/TU"].date) == ("2025-12-29", "2025-12-29")
    # Written variant: a plan issued with a decision; a date of its own wins.
    got = refs_of("Kế hoạch số 12/KH-UBND ngày 02/01/2026 (được ban hành kèm theo Quyết định số 5/QĐ-UBND ngày "
                  "03/01/2026); Quy chế số 7 (Ban hành kèm theo Quyết định số 9/QĐ-UBND ngày 05/02/2026).")
    assert got["12/KH-UBND"].date == "2026-01-02"
    assert got["Quy chế số 7"].date == "2026-02-05"


def test_type_codes_written_as_type_words_in_tables_and_notes():
    got = refs_of("Hạ tầng đến cụm (2,6 km, QĐ số 1955/QĐ-UBND ngày 19/6/2025) | Lai Châu | QĐ 262/QĐ-TTg | "
                  "Tháo gỡ theo NQ 233/NQ-CP | so với VB 911/TTg-CN, thay thế (Phụ lục IV TT 36/2025/TT-BNNMT)")
    assert {c: r.doc_type for c, r in got.items()} == {
        "1955/QĐ-UBND": "quyet_dinh", "262/QĐ-TTg": "quyet_dinh", "233/NQ-CP": "nghi_quyet",
        "911/TTg-CN": "cong_van", "36/2025/TT-BNNMT": "thong_tu"}
    # Row numbers, lower case, and a header cell "TT" are none.
    assert refs_of("STT | TT 1 | CT 12 | qd 12/QĐ-UBND chưa ký") == {}
    text = "KẾ HOẠCH\nTT\nThực hiện Nghị quyết số 12/NQ-CP ngày 01/02/2025\nCăn cứ Quyết định số 3/QĐ-UBND ngày 01/01/2025."
    assert {c: r.relation for c, r in refs_of(text).items()} == {"12/NQ-CP": "implements", "3/QĐ-UBND": "cites"}


def test_an_unlisted_law_name_holds_no_other_document():
    got = refs_of("theo Luật Thủ đô và Nghị định số 195/2013/NĐ-CP ngày 21 tháng 11 năm 2013 của Chính phủ")
    assert list(got) == ["195/2013/NĐ-CP"]
    assert list(refs_of("Căn cứ Luật Khoa học và Đổi mới sáng tạo năm 2025;")) == [
        "Luật Khoa học và Đổi mới sáng tạo 2025"]


def test_a_symbol_cut_short_joins_the_whole_one_cited_elsewhere():
    got = refs_of("Quyết định số 768/QĐ-TTg ngày 15/4/2025 phê duyệt quy hoạch; theo QĐ số 768/QĐ- (hồ sơ đề xuất)")
    assert list(got) == ["768/QĐ-TTg"] and len(got["768/QĐ-TTg"].mentions) == 2
    # Two longer candidates: nothing is guessed.
    got = refs_of("Quyết định số 5/QĐ-UBND ngày 01/3/2025, Quyết định số 5/QĐ-SCT ngày 02/3/2025 và QĐ số 5/QĐ- khác")
    assert set(got) == {"5/QĐ-UBND", "5/QĐ-SCT", "5/QĐ"}


def test_a_title_that_issues_the_plan_carrying_a_document_out_implements_it():
    text = ("QUYẾT ĐỊNH\nVề việc ban hành Kế hoạch thực hiện Nghị quyết số 12-NQ/TU ngày 05/01/2026 của Tỉnh ủy\n"
            "CHỦ TỊCH ỦY BAN NHÂN DÂN TỈNH\nCăn cứ Luật Tổ chức chính quyền địa phương ngày 16/6/2025;\n"
            "QUYẾT ĐỊNH:\nĐiều 1. Ban hành kèm theo Quyết định này Kế hoạch thực hiện Nghị quyết số 12-NQ/TU.")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"12-NQ/TU": "implements", "Luật Tổ chức chính quyền địa phương 2025": "cites"}
    # Variant: a plan's title; and a body paragraph saying the same is no trigger.
    text = ("KẾ HOẠCH\nHành động thực hiện Kết luận số 123-KL/TW ngày 24/01/2025 của Bộ Chính trị\n"
            "Năm 2025, UBND tỉnh đã ban hành Kế hoạch thực hiện Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thư "
            "và nhiều văn bản chỉ đạo khác trên địa bàn.\nI. MỤC ĐÍCH")
    got = {c: r.relation for c, r in refs_of(text).items()}
    assert got == {"123-KL/TW": "implements", "31-CT/TW": "cites"}


def test_a_later_list_item_continues_the_list_through_its_whole_lead():
    trigger = R["implement_triggers"]["pattern"].lstrip("^")
    lead = re.compile(R["item_lead"]["template"].replace("TRIGGER", trigger))
    for example in R["item_lead"]["examples"]:
        assert lead.fullmatch(search_key(example)), example
    assert not lead.fullmatch(search_key(" theo đề nghị của "))


def test_type_words_grouped_by_first_letter_match_as_the_plain_alternation():
    import re

    from pipeline.stages.references import _by_first_letter

    pats = [r"thong\s+tu(?:\s+lien\s+tich)?", r"chuong\s+trinh", r"thong\s+bao", r"to\s+trinh", r"chi\s+thi"]
    assert _by_first_letter(pats).startswith(r"t(?:hong\s+tu")
    assert _by_first_letter(["a|b", "c"]) == "a|b|c"  # not a plain letter first: left alone
    text = "thong tu lien tich, to trinh va chuong trinh; chi thi, thong bao"
    grouped, plain = re.compile(_by_first_letter(pats)), re.compile("|".join(pats))
    assert [m.span() for m in grouped.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_the_law_read_is_the_one_a_group_per_law_would_give():
    """law_re has no group per law (slow); _law_of must name the law such a group would."""
    from pipeline.stages.references import _law_of, _rules

    R = _rules()
    alts = [f"(?P<l{i}>{rx.pattern})" for i, (rx, _) in enumerate(R.law_names)]
    grouped = re.compile(r"luat\s+(?:" + "|".join(alts) + r")\b")
    for _, law in R.law_names:
        for name in [law.name, *law.aliases]:
            k = search_key(f"theo Luật {name} năm 2020")
            m, g = R.law_re.search(k), grouped.search(k)
            assert (m is None) == (g is None) and (m is None or m.span() == g.span()), name
            if m:
                assert _law_of(m, R) is R.law_names[int(g.lastgroup[1:])][1], name
