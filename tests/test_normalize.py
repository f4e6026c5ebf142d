"""normalize re-joins hard wraps, keeps paragraph and item boundaries, maps back to the source."""
from pathlib import Path

from pipeline.model import SourceInfo, SourceText
from pipeline.stages.normalize import normalize

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def _norm(text: str) -> tuple[str, object]:
    return normalize(SourceText(text, SourceInfo("t.txt", "t.txt", "txt", "", 0)))


def _corpus(name: str) -> tuple[str, str, object]:
    src = (CORPUS / name).read_text(encoding="utf-8")
    text, smap = _norm(src)
    return src, text, smap


def test_wrapped_letter_lines_are_rejoined():
    _, text, _ = _corpus("cao-bang_cong-van_2025-08.txt")
    lines = text.split("\n")
    assert "V/v tăng cường công tác đảm bảo an toàn, vệ sinh lao động trên địa bàn tỉnh Cao Bằng" in lines
    # A wrap that fell between "số" and the number, with a blank line between.
    assert "Nghị định số 39/2016/NĐ-CP ngày 15/5/2016 của Chính phủ" in text
    # Items keep their own lines.
    assert "2. Sở Nội vụ:" in lines
    assert "- Chủ trì, phối hợp thực hiện điều tra tai nạn lao động chết người hoặc bị thương nặng từ 02 người trở lên." in lines


def test_wrapped_plan_keeps_headings_and_joins_sentences():
    _, text, _ = _corpus("dak-lak_ke-hoach_2024-12.txt")
    lines = text.split("\n")
    assert "1. Sở Lao động - Thương binh và Xã hội" in lines
    assert "3. Sở Tài chính" in lines
    assert any(l.startswith("17. Đề nghị Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh, các đoàn thể chính trị - xã hội tỉnh") for l in lines)
    assert "KẾ HOẠCH" in lines
    # The title wraps over five lines in the source: one paragraph now.
    assert any(l.startswith("Triển khai thực hiện Nghị quyết số 209/NQ-CP ngày 28/10/2024 của Chính phủ về ban hành") and l.endswith("trong tình hình mới") for l in lines)


def test_unwrapped_plan_is_left_alone():
    src, text, _ = _corpus("cao-bang_ke-hoach-664_2025-03-10.txt")
    assert "5. Kiện toàn bộ máy tổ chức, nâng cao chất lượng nguồn nhân lực" in text.split("\n")
    assert len(text.split("\n")) == len([l for l in src.split("\n") if l.strip()])


def test_document_number_wrapped_after_hyphen_is_joined_without_space():
    text, _ = _norm("thực hiện Kế hoạch số 843/KH-\nUBND ngày 08/4/2022 của UBND tỉnh")
    assert "843/KH-UBND ngày" in text


def test_page_number_lines_are_dropped():
    text, _ = _norm("các cơ quan, đơn vị thực hiện\n\n2\n\ncông tác an toàn.")
    assert text == "các cơ quan, đơn vị thực hiện công tác an toàn."


def test_every_character_maps_back_to_the_source():
    for name in ("cao-bang_cong-van_2025-08.txt", "dak-lak_ke-hoach_2024-12.txt", "thai-nguyen_ke-hoach_2025-11.txt"):
        src, text, smap = _corpus(name)
        for i, ch in enumerate(text):
            if not ch.isspace():
                assert src[smap.to_source(i)] == ch, (name, i)


def test_source_line_of_an_offset():
    src, text, smap = _corpus("cao-bang_cong-van_2025-08.txt")
    i = text.index("2. Sở Nội vụ:")
    line_no = smap.source_line(i)
    assert src.split("\n")[line_no - 1].startswith("2. Sở Nội vụ:")


def test_header_phrases_open_with_a_capital():
    """normalize tries the header phrases (rules/normalize.yaml) only on a line that does not
    start in lower case: each phrase must need its capital."""
    from pipeline.stages.normalize import _HEADER_START
    from pipeline.rules import load

    for example in load("normalize")["header_start"]["examples"]:
        assert _HEADER_START.match(example), example
        assert not _HEADER_START.match(example[:1].lower() + example[1:]), example


def test_space_runs_are_the_runs_of_the_plain_pattern():
    """_SPACE_RUN is written to open with a character class (fast scan); it must find the
    same runs as the plain "two or more blanks, or one blank that is no space"."""
    import re

    from pipeline.stages.normalize import _SPACE_RUN

    blanks = " \t\u00a0\u2000-\u200b\u202f\u3000\f\v"
    plain = re.compile(rf"[{blanks}]{{2,}}|[{blanks[1:]}]")
    for s in ["a b", "a  b", "a\tb", "a \tb", "a\t b", " \u00a0 x", "x\u3000", "a   b c\u2009d", "  ", "\t", "a b  "]:
        assert [m.span() for m in _SPACE_RUN.finditer(s)] == [m.span() for m in plain.finditer(s)], repr(s)
    x, y = _norm("Điều 1.\u00a0 Phạm  vi\tđiều chỉnh")
    assert x == "Điều 1. Phạm vi điều chỉnh"
