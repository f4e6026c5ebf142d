"""Match keys fold tone placement and diacritics without changing string length."""
import re

import pytest

from pipeline.textkeys import fold, match_key, search_key


@pytest.mark.parametrize(
    "a, b",
    [
        ("Tỉnh uỷ Cao Bằng", "TỈNH ỦY CAO BẰNG"),
        ("hoá chất", "hóa chất"),
        ("sức khoẻ", "sức khỏe"),
        ("Hoà An", "Hòa An"),
        ("thuỷ lợi", "thủy lợi"),
        ("Sở Văn hoá, Thể thao và Du lịch", "Sở Văn hóa, Thể thao và Du lịch"),
    ],
)
def test_match_key_folds_tone_placement(a, b):
    assert match_key(a) == match_key(b)


def test_match_key_keeps_distinct_words_distinct():
    # "quý" is qu + ý: moving the tone would make it "qúy"; "hoàng" has a final consonant.
    assert match_key("quý") == "quý"
    assert match_key("Hoàng") == "hoàng"
    assert match_key("hóa") != match_key("hòa")
    for word in ("hoặc", "Kế hoạch", "xoắn", "hoẵng"):
        assert match_key(word) == word.lower()


@pytest.mark.parametrize("text", ["Tỉnh uỷ Cao Bằng", "Đắk Lắk", "ĐIỀU TRA TAI NẠN", "Uỷ ban", "x²"])
def test_keys_keep_length(text):
    assert len(match_key(text)) == len(text)
    assert len(search_key(text)) == len(text)


def test_search_key_drops_diacritics_and_folds_d():
    assert search_key("Điều tra tai nạn, quan trắc môi trường") == "dieu tra tai nan, quan trac moi truong"
    assert fold("Sở Lao động - Thương binh và Xã hội") == "so lao dong thuong binh va xa hoi"


def test_search_key_table_agrees_with_the_per_character_definition():
    from pathlib import Path

    from pipeline.textkeys import _lower_same_length, _strip_char

    text = (Path(__file__).resolve().parent.parent / "corpus" / "dak-lak_ke-hoach_2024-12.txt").read_text(encoding="utf-8")
    text += "ĐẮK LẮK Ủy uỷ İ ß ﬁ ¹²"
    expected = "".join(_strip_char(c) if not c.isascii() else c for c in _lower_same_length(text))
    assert search_key(text) == expected


def test_the_one_byte_path_strips_as_the_translation_table():
    """search_key takes a one-byte codec for long texts (fast); it must give what
    str.translate with _STRIP_LIST gives, for every character it handles and for any other."""
    from pathlib import Path

    from pipeline.textkeys import _ONE_BYTE_CHARS, _STRIP_LIST, _strip

    long = (_ONE_BYTE_CHARS * 2).lower()
    assert _strip(long) == long.translate(_STRIP_LIST)
    for other in ("\ufffe", "\u3000", "😀", "ǃ", "ε", "\U00010000"):  # no byte: str.translate
        s = long + other
        assert _strip(s) == s.translate(_STRIP_LIST)
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    for f in sorted(corpus.glob("*.txt")):
        text = f.read_text(encoding="utf-8").lower()
        assert _strip(text) == text.translate(_STRIP_LIST), f.name
    assert search_key("Quyết định số 12/QĐ-UBND – “Hoà” ≥ 5‰ của Ủy ban nhân dân") == \
        "quyet dinh so 12/qd-ubnd – “hoa” ≥ 5‰ cua uy ban nhan dan"


# Patterns of the shapes the stages search whole documents with: a closing formula, a
# heading with named groups and an alternation, a line that may span blank lines (\s*), a
# pattern with an inner lookbehind, one whose top-level alternatives each start a line.
LINE_PATTERNS = [
    (r"^(?:trên\s+đây\s+là|căn\s+cứ\s+nhiệm\s+vụ\s+(?:được\s+)?giao\s*,)", 0),
    (r"^(?:(?P<roman>[IVXLC]+)|(?P<arabic>\d+))\s*[.)]\s*(?:các\s+)?(?:mục tiêu|chỉ tiêu)", re.I),
    (r"^\s*nơi\s+nhận\s*:", 0),
    (r"^[-+]\s*(?<![\w])sở\s+\w+", 0),
    (r"^\d+\.\s|^[a-zđ]\)\s", 0),
]


@pytest.mark.parametrize("source, flags", LINE_PATTERNS)
def test_line_pattern_finds_what_the_multiline_regex_finds(source, flags, corpus_dir):
    """LinePattern gives the same matches as re.compile(source, re.M), from any start and to
    any end, on the sample documents and on a text that opens with a match."""
    from pipeline.textkeys import LinePattern

    plain, fast = re.compile(source, flags | re.M), LinePattern(source, flags)
    texts = [match_key(p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt"))]
    texts.append("trên đây là kế hoạch\n\n  nơi nhận:\n1. mục tiêu\n- sở y tế\na) x\n")
    found = 0
    for text in texts:
        bounds = [(0, len(text)), (1, len(text)), (len(text) // 3, 2 * len(text) // 3)]
        bounds += [(m.start() + 1, len(text)) for m in list(re.finditer("\n", text))[:20]]  # line starts
        for pos, endpos in bounds:
            want = [(m.span(), m.groups()) for m in plain.finditer(text, pos, endpos)]
            assert [(m.span(), m.groups()) for m in fast.finditer(text, pos, endpos)] == want
            first = plain.search(text, pos, endpos)
            got = fast.search(text, pos, endpos)
            assert (got and (got.span(), got.groups())) == (first and (first.span(), first.groups()))
            found += len(want)
    assert found  # the patterns do occur in the texts compared


def test_line_pattern_refuses_a_pattern_that_does_not_start_a_line():
    from pipeline.textkeys import LinePattern

    with pytest.raises(ValueError):
        LinePattern(r"nơi\s+nhận")
