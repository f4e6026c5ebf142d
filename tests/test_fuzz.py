"""Fuzzing the readers and the stages (issue 13): whatever the bytes, `ingest` returns valid
NFC text or raises a VanbanError naming the file and a one-line reason; `parse_file` never
raises, no stage raises on text ingest accepted, and every span stays inside the text.

Inputs: random bytes under each extension, random Unicode in several encodings, truncated
and bit-flipped real DOCX/PDF files from ../shared/formats (read in place; those tests skip
when the folder is absent), DOCX packages whose document.xml is cut or corrupted, and random
sequences of Vietnamese heading markers and clauses.

Example counts are bounded for CI (the file runs well under a minute); set
VANBAN_FUZZ_EXAMPLES=N for a longer run with N examples per test. A hang guard (SIGALRM)
fails an example that runs past HANG_SECONDS instead of letting the suite hang.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import unicodedata
import zipfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis is in the dev extra: pip install -e '.[dev]'")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.errors import VanbanError  # noqa: E402
from pipeline.stages.ingest import display_path, ingest  # noqa: E402
from pipeline.parse import parse_file  # noqa: E402

LONG_RUN = int(os.environ.get("VANBAN_FUZZ_EXAMPLES") or 0)
HANG_SECONDS = 60


def fuzz(examples: int):
    """Hypothesis settings: `examples` in CI, VANBAN_FUZZ_EXAMPLES in a long run."""
    return settings(
        max_examples=LONG_RUN or examples,
        deadline=None,  # no timing assertions; the hang guard catches a real hang
        derandomize=not LONG_RUN,  # CI runs the same examples every time
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.data_too_large],
        database=None,
    )


@contextlib.contextmanager
def hang_guard(seconds: int = HANG_SECONDS):
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def hung(signum, frame):
        raise AssertionError(f"no answer after {seconds} s: a hang")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_ingest(path: Path) -> bool:
    """The contract of ingest on any file; True when it was read."""
    with hang_guard():
        try:
            source = ingest(path)
        except VanbanError as exc:
            assert exc.path == display_path(path)
            assert exc.reason and "\n" not in exc.reason, exc.reason
            return False
    source.text.encode("utf-8")  # valid Unicode: no lone surrogates
    assert unicodedata.is_normalized("NFC", source.text)
    for layer in source.extra_layers:
        layer.encode("utf-8")
    for table in source.tables:
        for row in table:
            for start, end in row:
                assert 0 <= start <= end <= len(source.text)
    return True


def _spans(node, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    if isinstance(node, dict):
        if isinstance(node.get("start"), int) and isinstance(node.get("end"), int):
            found.append((node["start"], node["end"]))
        for value in node.values():
            _spans(value, found)
    elif isinstance(node, list):
        for value in node:
            _spans(value, found)
    return found


def check_parse(path: Path, stages_must_not_raise: bool = True) -> None:
    """parse_file never raises; a document it reads has no stage error, valid spans, JSON text.

    (The JSON Schema is checked by test_schema on real documents; here the contract is
    "no exception, no hang, spans inside the text".)"""
    with hang_guard():
        doc = parse_file(path)
    data = doc.to_dict()
    text = json.dumps(data, ensure_ascii=False)
    text.encode("utf-8")
    if doc.status == "failed":
        assert [e.stage for e in doc.errors] in (["ingest"], ["limit"]), doc.errors
        return
    if stages_must_not_raise:
        assert not doc.errors, [(e.stage, e.message) for e in doc.errors]
    for start, end in _spans(data, []):
        assert 0 <= start <= end <= len(doc.text), (start, end, len(doc.text))


# --- random bytes -----------------------------------------------------------------------

# Starts that send random bytes down each reader's deeper paths.
MAGICS = [b"", b"%PDF-1.7\n", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"{\\rtf1"]


@fuzz(60)
@given(suffix=st.sampled_from([".txt", ".pdf", ".docx"]), magic=st.sampled_from(MAGICS),
       body=st.binary(max_size=4096))
def test_random_bytes_are_read_or_refused_with_a_reason(work, suffix, magic, body):
    path = work / f"random{suffix}"
    path.write_bytes(magic + body)
    if check_ingest(path):
        check_parse(path)


@fuzz(15)
@given(body=st.binary(min_size=1, max_size=2048))
def test_random_bytes_with_a_doc_name_are_refused_or_converted(work, body):
    path = work / "random.doc"
    path.write_bytes(body)  # not OLE: refused without LibreOffice being run
    check_ingest(path)


# --- random Unicode ---------------------------------------------------------------------

ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32", "cp1258"]


@fuzz(60)
@given(text=st.text(st.characters(codec="utf-8"), min_size=1, max_size=3000),
       encoding=st.sampled_from(ENCODINGS))
def test_random_unicode_text_is_read_or_refused(work, text, encoding):
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode(encoding, errors="replace")
    path = work / "unicode.txt"
    path.write_bytes(data)
    if check_ingest(path):
        check_parse(path)


@fuzz(30)
@given(text=st.text(st.characters(codec="utf-8"), min_size=20, max_size=2000))
def test_utf8_read_as_cp1252_is_repaired_or_reported(work, text):
    """The mojibake of the issue's table, on random text: lost bytes are always reported."""
    data = text.encode("utf-8").decode("cp1252", errors="replace").encode("utf-8")
    path = work / "mojibake.txt"
    path.write_bytes(data)
    if not check_ingest(path):
        return
    doc = parse_file(path)
    if "\ufffd" in doc.text:
        assert doc.status in ("partial", "failed")
        assert any("(U+FFFD) in the text" in w.message for w in doc.warnings)


# --- real files, truncated and bit-flipped ----------------------------------------------


def _real_files(formats_dir: Path, suffix: str) -> list[Path]:
    files = sorted(formats_dir.glob(f"*{suffix}"))
    if not files:
        pytest.skip(f"no {suffix} file in {formats_dir}")
    return files


def _mutate(data: bytes, cut: int, flips: list[tuple[int, int]]) -> bytes:
    out = bytearray(data[: max(1, len(data) * cut // 1000)])
    for pos, bit in flips:
        at = pos % len(out)
        out[at] ^= 1 << bit
    return bytes(out)


MUTATION = dict(
    index=st.integers(0, 99),
    cut=st.integers(1, 1000),  # keep cut/1000 of the file (1000: all of it)
    flips=st.lists(st.tuples(st.integers(0, 2**31), st.integers(0, 7)), max_size=8),
)


@fuzz(25)
@given(**MUTATION)
@example(index=0, cut=857, flips=[(17, 0)])  # found: page 1 cannot be loaded (PdfiumError escaped)
def test_truncated_and_bit_flipped_pdfs(formats_dir, work, index, cut, flips):
    _check_mutated(formats_dir, work, ".pdf", index, cut, flips)


@fuzz(30)
@given(**MUTATION)
def test_truncated_and_bit_flipped_docx_files(formats_dir, work, index, cut, flips):
    _check_mutated(formats_dir, work, ".docx", index, cut, flips)


def _check_mutated(formats_dir, work, suffix, index, cut, flips):
    """One real file of `suffix`, truncated and bit-flipped, must be refused cleanly or parsed."""
    files = _real_files(formats_dir, suffix)
    data = files[index % len(files)].read_bytes()
    path = work / f"mutated{suffix}"
    path.write_bytes(_mutate(data, cut, flips))
    if check_ingest(path):
        check_parse(path)


def _repack(data: bytes, edit) -> bytes:
    """The package with every XML part passed through `edit(name, xml) -> xml` (a valid ZIP)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            blob = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                blob = edit(info.filename, blob)
            out.writestr(info.filename, blob)
    return buf.getvalue()


@fuzz(30)
@given(index=st.integers(0, 99), part=st.sampled_from(["word/document.xml", "word/numbering.xml",
                                                       "word/styles.xml", "[Content_Types].xml",
                                                       "word/_rels/document.xml.rels", "_rels/.rels"]),
       cut=st.integers(0, 1000), junk=st.binary(max_size=40), at=st.integers(0, 1000))
def test_docx_packages_with_broken_xml_parts(formats_dir, work, index, part, cut, junk, at):
    """Valid ZIPs whose XML is cut short or has junk spliced in: the XML readers' paths."""
    files = _real_files(formats_dir, ".docx")
    data = files[index % len(files)].read_bytes()

    def edit(name: str, xml: bytes) -> bytes:
        if name != part:
            return xml
        xml = xml[: len(xml) * cut // 1000] if cut < 1000 else xml
        pos = len(xml) * at // 1000
        return xml[:pos] + junk + xml[pos:]

    path = work / "broken-xml.docx"
    path.write_bytes(_repack(data, edit))
    if check_ingest(path):
        check_parse(path)


# --- random heading and marker sequences ------------------------------------------------

MARKERS = ["I.", "II.", "III.", "IV.", "1.", "2.", "10.", "1.1.", "1.2.", "2.1.3.", "a)", "b)", "đ)", "-", "+",
           "*", "•", "Điều 1.", "Điều 2.", "Chương I", "Chương II", "Mục 1.", "Phần I.", "PHẦN THỨ HAI", "(1)",
           "1)", "A.", "B.", ""]
CLAUSES = [
    "MỤC ĐÍCH, YÊU CẦU", "TỔ CHỨC THỰC HIỆN", "NHIỆM VỤ VÀ GIẢI PHÁP", "KẾT QUẢ ĐẠT ĐƯỢC",
    "Sở Nội vụ chủ trì, phối hợp với Sở Tài chính tham mưu UBND tỉnh",
    "Giao UBND các huyện, thành phố triển khai thực hiện",
    "Phấn đấu đến năm 2025 đạt 95% hồ sơ được giải quyết đúng hạn",
    "báo cáo kết quả về Sở Kế hoạch và Đầu tư trước ngày 15/12/2025",
    "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19/6/2015;",
    "Thực hiện Kế hoạch số 123/KH-UBND ngày 01/3/2024 của UBND tỉnh",
    "Công an tỉnh, Bộ Chỉ huy Quân sự tỉnh", "các cơ quan, đơn vị có liên quan",
    "Điều 3. Chánh Văn phòng UBND tỉnh, Giám đốc các sở chịu trách nhiệm thi hành Quyết định này",
    "Nơi nhận:", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Số: 45/BC-UBND", "Cao Bằng, ngày 10 tháng 3 năm 2025",
    "ỦY BAN NHÂN DÂN", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "KẾ HOẠCH", "BÁO CÁO", "QUYẾT ĐỊNH",
    "năm 2025", "100%", "|", "Kinh phí: 1.250 triệu đồng", "", "   ", "\t", ";", ":", "(",
]


@st.composite
def documents(draw) -> str:
    lines = draw(st.lists(st.tuples(st.sampled_from(MARKERS), st.lists(st.sampled_from(CLAUSES), max_size=3),
                                    st.sampled_from(["", ".", ";", ":", ","])),
                          min_size=1, max_size=40))
    return "\n".join(f"{marker} {' '.join(words)}{end}".strip() for marker, words, end in lines) + "\n"


@fuzz(60)
@given(text=documents())
def test_random_heading_and_marker_sequences_parse_without_a_stage_error(work, text):
    path = work / "headings.txt"
    path.write_text(text, encoding="utf-8")
    if check_ingest(path):
        check_parse(path)
