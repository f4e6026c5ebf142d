"""The time-expression recogniser (pipeline/stages/timex.py) on real phrases and written variants."""
import pytest

from pipeline.stages.timex import find_time_expressions, is_time_column, recurrence_of, time_of_cell


def _one(text):
    found = find_time_expressions(text)
    assert len(found) == 1, [x.text for x in found]
    x = found[0]
    assert text[x.start:x.end] == x.text
    return x


@pytest.mark.parametrize("text, written, kind, value, recurrence, bound", [
    # dates in every written form
    ("ban hành ngày 18 tháng 12 năm 2025", "ngày 18 tháng 12 năm 2025", "date", "2025-12-18", "once", None),
    ("Báo cáo trước ngày 15/12/2025 về Sở Nội vụ", "trước ngày 15/12/2025", "date", "2025-12-15", "once", "before"),
    ("gửi Sở Tài chính trước ngày 05/7;", "trước ngày 05/7", "date", "--07-05", None, "before"),
    ("trước ngày 15 tháng 12 hằng năm", "trước ngày 15 tháng 12 hằng năm", "date", "--12-15", "yearly", "before"),
    ("trước ngày 20 hằng tháng", "trước ngày 20 hằng tháng", "date", "---20", "monthly", "before"),
    ("vận hành xong trước ngày 01/01/2030", "trước ngày 01/01/2030", "date", "2030-01-01", "once", "before"),
    ("chậm nhất đến ngày 01 tháng 7 năm 2028.", "chậm nhất đến ngày 01 tháng 7 năm 2028", "date", "2028-07-01", "once", "before"),
    ("chậm nhất là ngày 20-11-2025", "chậm nhất là ngày 20-11-2025", "date", "2025-11-20", "once", "before"),
    ("Thời gian kiểm tra: 13h30’ ngày 29/4/2026 (Thứ Tư).", "13h30’ ngày 29/4/2026", "date", "2026-04-29T13:30", "once", None),
    ("vào lúc 08 giờ 00 ngày 15/5/2026", "08 giờ 00 ngày 15/5/2026", "date", "2026-05-15T08:00", "once", None),
    ("trước 24 giờ ngày 15/12/2025", "trước 24 giờ ngày 15/12/2025", "date", "2025-12-15T24:00", "once", "before"),
    # periods
    ("xong trong tháng 6/2026;", "xong trong tháng 6/2026", "period", "2026-06", None, "within"),
    ("trong tháng 9 năm 2026.", "trong tháng 9 năm 2026", "period", "2026-09", None, "within"),
    ("Xong trong Quý II/2026", "Xong trong Quý II/2026", "period", "2026-Q2", None, "within"),
    ("hoàn thành xong trong quý 2/2026", "xong trong quý 2/2026", "period", "2026-Q2", None, "within"),
    ("hoàn thành trong quý IV năm 2026", "hoàn thành trong quý IV năm 2026", "period", "2026-Q4", None, "within"),
    ("Trong năm 2027", "Trong năm 2027", "period", "2027", None, "within"),
    ("kết quả 6 tháng đầu năm 2026", "6 tháng đầu năm 2026", "period", "2026-H1", None, None),
    ("Kế hoạch giai đoạn 2026–2030", "giai đoạn 2026–2030", "period", "2026/2030", None, None),
    ("bắt đầu từ tháng 01/2026", "bắt đầu từ tháng 01/2026", "period", "2026-01", None, "from"),
    ("Phấn đấu đến năm 2030", "đến năm 2030", "period", "2030", None, "until"),
    # recurrences
    ("Hằng năm, báo cáo kết quả", "Hằng năm", "recurrence", None, "yearly", None),
    ("Định kỳ hằng quý tổng hợp", "Định kỳ hằng quý", "recurrence", None, "quarterly", None),
    ("định kỳ 6 tháng một lần", "định kỳ 6 tháng một lần", "recurrence", None, "half_yearly", None),
    ("Định kỳ hoặc đột xuất báo cáo", "Định kỳ hoặc đột xuất", "recurrence", None, "periodic", None),
    ("kiểm tra 01 lần/tháng", "01 lần/tháng", "recurrence", None, "monthly", None),
    ("tổ chức 2 lần/năm", "2 lần/năm", "recurrence", None, "yearly", None),
])
def test_forms(text, written, kind, value, recurrence, bound):
    x = _one(text)
    assert (x.text, x.kind, x.value, x.recurrence, x.bound) == (written, kind, value, recurrence, bound)


@pytest.mark.parametrize("text, written, duration, working, anchor", [
    ("thông báo đến UBND tỉnh ít nhất 10 ngày, thông báo", "ít nhất 10 ngày", "P10D", False, None),
    ("nổ mìn trước 24h trước khi sử dụng theo quy định", "trước 24h trước khi sử dụng", "PT24H", False, "trước khi sử dụng"),
    ("trả lời trong vòng 05 ngày làm việc kể từ ngày nhận được hồ sơ.", "trong vòng 05 ngày làm việc kể từ ngày nhận được hồ sơ",
     "P5D", True, "kể từ ngày nhận được hồ sơ"),
    ("Thời hạn kiểm tra không quá 10 ngày làm việc theo quy định", "không quá 10 ngày làm việc", "P10D", True, None),
])
def test_relative_limits(text, written, duration, working, anchor):
    x = _one(text)
    assert (x.text, x.kind, x.duration, x.working_days, x.anchor) == (written, "relative", duration, working, anchor)


@pytest.mark.parametrize("text", [
    "tổ chức 04/04 đoàn thanh tra",              # a ratio, not a date
    "bảo vệ kho VLNCN 24/24h",                    # round the clock
    "Nghị định số 178/2026/NĐ-CP",                # a document number
    "Điều 13 Nghị định, khoản 2",
    "tăng 12/15 xã",
    "thực hiện trong 6 tháng đầu",                # no year, no period read as a limit
    "chế độ báo cáo định kỳ, đột xuất",           # a kind of report
])
def test_not_time_expressions(text):
    assert [x.text for x in find_time_expressions(text) if x.kind != "period"] == []


def test_offsets_and_a_shared_key():
    from pipeline.textkeys import match_key

    text = "Các đơn vị gửi Sở Tài chính trước ngày 15/12; Sở Tài chính báo cáo trước ngày 20/12."
    found = find_time_expressions(text, offset=500, key=match_key(text))
    assert [(x.start - 500, x.text) for x in found] == [(28, "trước ngày 15/12"), (67, "trước ngày 20/12")]


@pytest.mark.parametrize("cell, written, value, recurrence", [
    ("Xong trong Quý II/2026", "Xong trong Quý II/2026", "2026-Q2", None),
    ("Hàng năm", "Hàng năm", None, "yearly"),
    ("  Thường xuyên. ", "Thường xuyên", None, "continuous"),
    ("Hoàn thành đầu tư, lắp đặt và vận hành xong trước ngày 01/01/2030",
     "Hoàn thành đầu tư, lắp đặt và vận hành xong trước ngày 01/01/2030", "2030-01-01", "once"),
    ("Trong năm 2026", "Trong năm 2026", "2026", None),
])
def test_time_of_cell(cell, written, value, recurrence):
    x = time_of_cell(cell, 100)
    assert (x.text, x.value, x.recurrence) == (written, value, recurrence)
    assert cell[x.start - 100:x.end - 100] == x.text


def test_empty_and_timeless_cells():
    assert time_of_cell("  ") is None
    assert time_of_cell("Sở Nội vụ") is None


@pytest.mark.parametrize("header, yes", [
    ("Thời gian thực hiện", True), ("Thời hạn hoàn thành", True), ("Tiến độ", True),
    ("THỜI GIAN HOÀN THÀNH", True), ("Tên nhiệm vụ", False), ("Cơ quan chủ trì", False),
])
def test_time_column_headers(header, yes):
    assert is_time_column(header) is yes


@pytest.mark.parametrize("words, rec", [
    ("hằng năm", "yearly"), ("Hàng quý", "quarterly"), ("6 tháng", "half_yearly"), ("mỗi tháng", "monthly"),
    ("hằng tuần", "weekly"), ("đột xuất", "ad_hoc"), ("quan trọng", None),
])
def test_recurrence_of(words, rec):
    assert recurrence_of(words) == rec


@pytest.mark.parametrize("pattern, first, digit", [
    (r"(?<!\w)(?:trước|chậm nhất)\s+ngày", {"trước", "chậm"}, False),  # assertion skipped, cut at a space
    (r"(?:quý\s+)?\d+", {"quý"}, True),  # an optional group: what follows may start too
    (r"[a-c]x|đề", {"a", "b", "c", "đề"}, False),  # a class ends the literal beginning
    (r"hằng(?:năm|quý)", {"hằngnăm", "hằngquý"}, False),  # branches continue the word
    (r"thường xuyên", {"thường"}, False),
    (r"abcdefghijk", {"abcdefgh"}, False),  # at most eight letters
])
def test_first_words_of_a_pattern(pattern, first, digit):
    from pipeline.stages.timex import _first_words

    assert _first_words(pattern) == (frozenset(first), digit)


@pytest.mark.parametrize("pattern", [r"\w+ngày", r"(?:ngày)?", r".x", r"\s+ngày"])
def test_first_words_refuses_what_may_start_anywhere(pattern):
    from pipeline.stages.timex import _first_words

    assert _first_words(pattern) is None


def test_the_scan_is_tried_at_every_word_start_an_example_opens_with():
    # The opening filter may skip only word starts where the scan cannot match.
    from pipeline.rules import load
    from pipeline.textkeys import match_key
    from pipeline.stages.timex import _rules

    rules = load("timex")
    examples = [e for f in rules["forms"] for e in f.get("examples", [])]
    examples += [e for b in rules["bounds"].values() for e in b.get("examples", [])]
    for example in examples:
        key = match_key(example)
        starts = [m.start() for m in _rules().scan.finditer(key)]
        assert starts, example
        assert all(_rules().opening.match(key, s) for s in starts), example


def test_digit_runs_are_the_runs_the_regex_finds(corpus_dir):
    """The trigger scan's digit runs (a byte scan) equal re.finditer(r"\\d+") on the sample
    documents and on texts the byte form cannot hold (Arabic-Indic and full-width digits are
    decimal digits too) or that open with a digit."""
    import re

    from pipeline.stages.timex import digit_runs
    from pipeline.textkeys import match_key

    texts = [match_key(p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt"))]
    padding = " Kế hoạch số " * 30
    texts += ["2025" + padding + "ngày 15/12/2025", padding + "Quý ٣ năm ２０２６, mục 1.2.3", "7"]
    for text in texts:
        assert digit_runs(text) == [m.start() for m in re.finditer(r"\d+", text)]
