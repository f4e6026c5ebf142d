"""Hostile and broken input (issue 13): every bad file is a per-file failure or warning with a
one-line reason, the run goes on, and the run report lists it.

The inputs (zip bombs, symlinks, FIFOs, odd names) are built in tmp_path; third-party files
are read in place from ../shared and the tests that need them skip when it is absent.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import struct
import sys
import zipfile
from pathlib import Path

import pytest

from pipeline import batch
from pipeline.batch import jobs as batch_jobs
from pipeline.batch import local as batch_local
from pipeline.batch import worker as batch_worker
from pipeline.cli import run as run_command
from pipeline.stages import ingest as ingest_module
from pipeline.stages.ingest import checks
from pipeline.stages.ingest import docx as docx_reader
from pipeline.errors import IngestError
from pipeline.stages.ingest import display_path, file_problem, ingest, valid_unicode
from pipeline.model import SourceInfo, SourceText
from pipeline.parse import parse_file

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
WILD = REPO.parent / "shared" / "wild"
SURROGATE_PDF = WILD / "PANM-cua-DN-Duy-Hieu-mo-da-Xuan-Hoa.pdf"
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the worker tests patch the parse step, which needs fork")

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="word/document.xml"/></Relationships>'
)
PARAGRAPH = "<w:p><w:r><w:t>Sở Nội vụ chủ trì, phối hợp với các sở, ngành triển khai thực hiện.</w:t></w:r></w:p>"


def build_docx(path: Path, body_mb: float, extra_parts: dict[str, int] | None = None) -> Path:
    """A Word package whose document.xml unpacks to about `body_mb` MB, written as a stream
    (the repeated paragraphs deflate ~1000:1, so the file stays small)."""
    block = (PARAGRAPH * 200).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", PACKAGE_RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'.encode())
            written = 0
            while written < body_mb * 2**20:
                fh.write(block)
                written += len(block)
            fh.write(b"</w:body></w:document>")
        for name, size in (extra_parts or {}).items():
            with z.open(name, "w", force_zip64=True) as fh:
                for _ in range(size // 2**20):
                    fh.write(b"\0" * 2**20)
    return path


def _reason(path: Path) -> str:
    with pytest.raises(IngestError) as exc:
        ingest(path)
    assert exc.value.path == display_path(path)
    return exc.value.reason


# --- zip bombs --------------------------------------------------------------------------


def test_a_docx_part_past_the_cap_is_refused_before_anything_is_inflated(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "MAX_DOCX_PART_MB", 2)
    bomb = build_docx(tmp_path / "bomb.docx", 3)
    assert bomb.stat().st_size < 200_000
    inflated: list[str] = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: inflated.append(str(name))
                        or real_open(self, name, *a, **k))
    assert _reason(bomb) == "DOCX expands to more than 2 MB: refusing a possible zip bomb"
    assert inflated == []  # refused on the central directory's sizes alone


def test_parts_under_the_part_cap_but_past_the_total_cap_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("VANBAN_MAX_DOCX_PART_MB", "3")
    monkeypatch.setenv("VANBAN_MAX_DOCX_MB", "5")
    docx = build_docx(tmp_path / "many.docx", 0.1, {f"word/media/image{i}.png": 2 * 2**20 for i in range(3)})
    assert _reason(docx) == "DOCX expands to more than 5 MB: refusing a possible zip bomb"


def test_the_same_package_under_the_caps_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("VANBAN_MAX_DOCX_PART_MB", "3")
    docx = build_docx(tmp_path / "fine.docx", 0.5)
    source = ingest(docx)
    assert source.text.startswith("Sở Nội vụ chủ trì, phối hợp")


def _lie_about_size(data: bytes, member: str, declared: int) -> bytes:
    """The package with `member`'s sizes in the central directory (and zip64 extra) set to `declared`."""
    buf = bytearray(data)
    name = member.encode()
    at = buf.find(b"PK\x01\x02")
    while at >= 0:
        name_len, extra_len = struct.unpack_from("<HH", buf, at + 28)
        if bytes(buf[at + 46:at + 46 + name_len]) == name:
            if struct.unpack_from("<I", buf, at + 24)[0] == 0xFFFFFFFF:  # zip64: the size is in the extra field
                extra = at + 46 + name_len
                end = extra + extra_len
                while extra < end:
                    tag, size = struct.unpack_from("<HH", buf, extra)
                    if tag == 1:
                        struct.pack_into("<Q", buf, extra + 4, declared)
                    extra += 4 + size
            else:
                struct.pack_into("<I", buf, at + 24, declared)
            return bytes(buf)
        at = buf.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{member} not found")


def test_a_header_that_understates_the_size_never_inflates_past_it(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "MAX_DOCX_PART_MB", 2)
    honest = build_docx(tmp_path / "honest.docx", 3).read_bytes()
    liar = tmp_path / "liar.docx"
    liar.write_bytes(_lie_about_size(honest, "word/document.xml", 1000))
    assert zipfile.ZipFile(liar).getinfo("word/document.xml").file_size == 1000
    reason = _reason(liar)
    assert reason.startswith("corrupt .docx") and "CRC" in reason


def test_the_part_reader_stops_at_the_cap_whatever_the_header_says():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"x" * 3 * 2**20)
    package = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with pytest.raises(IngestError, match="DOCX expands to more than 1 MB: refusing a possible zip bomb"):
        docx_reader._read_member(package, "word/document.xml", "a.docx", 2**20)
    assert len(docx_reader._read_member(package, "word/document.xml", "a.docx", 4 * 2**20)) == 3 * 2**20


def test_a_run_over_a_bomb_and_the_sample_corpus_finishes_with_the_others_read(tmp_path, monkeypatch):
    monkeypatch.setenv("VANBAN_MAX_DOCX_PART_MB", "2")
    folder = tmp_path / "in"
    folder.mkdir()
    for txt in sorted(CORPUS.glob("*.txt")):
        shutil.copyfile(txt, folder / txt.name)
    build_docx(folder / "bomb.docx", 3)
    report = batch.run(folder, batch.RunOptions(out=tmp_path / "out", jobs=2, link=False, quiet=True))
    by_file = {r["file"]: r for r in report["documents"]}
    assert by_file["bomb.docx"]["status"] == "failed"
    assert by_file["bomb.docx"]["reason"] == "DOCX expands to more than 2 MB: refusing a possible zip bomb"
    others = [r for f, r in by_file.items() if f != "bomb.docx"]
    assert len(others) == len(list(CORPUS.glob("*.txt")))
    assert all(r["status"] != "failed" and r["output"] for r in others)
    assert not any(e["stage"] == "ingest" for r in others for e in r["errors"])


def test_pdf_page_cap(formats_dir, monkeypatch):
    pdf = formats_dir / "lao-cai_cong-van_3686-pccc.pdf"
    assert len(ingest(pdf).page_starts) > 1
    monkeypatch.setenv("VANBAN_MAX_PDF_PAGES", "1")
    with pytest.raises(IngestError, match=r"PDF has \d+ pages, more than the limit of 1$"):
        ingest(pdf)


def test_text_and_file_size_caps_come_from_the_environment(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_bytes(b"So Noi vu chu tri.\n" * 120_000)  # 2.2 MB
    monkeypatch.setenv("VANBAN_MAX_TEXT_MB", "1")
    assert _reason(big) == "text file too large (2 MB > 1 MB limit)"
    monkeypatch.delenv("VANBAN_MAX_TEXT_MB")
    monkeypatch.setenv("VANBAN_MAX_FILE_MB", "1")
    assert _reason(big) == "file too large (2 MB > 1 MB limit)"


# --- file-system oddities ---------------------------------------------------------------


def test_file_problems_are_named_without_opening_anything(tmp_path):
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "nowhere" / "x.txt")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "null.txt").symlink_to("/dev/null")
    assert _reason(tmp_path / "dangling.txt") == "dangling symbolic link: its target does not exist"
    assert _reason(tmp_path / "loop.txt") == "symbolic link loop: the link never reaches a file"
    assert _reason(tmp_path / "pipe.txt") == "not a regular file (a named pipe (FIFO)): skipped, never opened"
    assert _reason(tmp_path / "null.txt") == "not a regular file (a character device): skipped, never opened"
    assert _reason(tmp_path / "gone.txt") == "no such file"
    assert file_problem(CORPUS / "cao-bang_cong-van_2025-08.txt") is None


def test_an_unreadable_file_is_refused_with_its_reason(tmp_path, monkeypatch):
    path = tmp_path / "locked.txt"
    path.write_text("Sở Nội vụ chủ trì.\n", encoding="utf-8")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checks.os, "open", denied)  # as root, chmod 000 would still be readable
    assert _reason(path) == "cannot read file: Permission denied"


def test_a_file_swapped_for_a_fifo_after_the_check_is_not_read(tmp_path):
    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    # opened without blocking, then told apart by fstat: never read
    with pytest.raises(IngestError, match=r"^pipe.txt: not a regular file \(a named pipe \(FIFO\)\): skipped"):
        checks.read_capped(pipe, "pipe.txt", 2**20)


def test_names_that_are_not_utf8_are_read_and_shown_with_replacement_characters(tmp_path):
    raw = os.fsencode(tmp_path) + b"/ke-hoach-\xe0\xe1.txt"  # Latin-1 bytes: not UTF-8
    with open(raw, "wb") as fh:
        fh.write("Sở Nội vụ chủ trì, phối hợp với các sở triển khai thực hiện.\n".encode())
    path = Path(os.fsdecode(raw))
    doc = parse_file(path)
    assert doc.status != "failed"
    assert doc.id == "ke-hoach-\ufffd\ufffd" and doc.source.file_name == "ke-hoach-\ufffd\ufffd.txt"
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")  # serialisable


def _odd_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("cao-bang_cong-van_2025-08.txt", "dak-lak_ke-hoach_2024-12.txt"):
        shutil.copyfile(CORPUS / name, folder / name)
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "loop.pdf").symlink_to(folder / "loop.pdf")
    os.mkfifo(folder / "pipe.docx")
    (folder / "null.txt").symlink_to("/dev/null")
    with open(os.fsencode(folder) + b"/t\xean-la.txt", "wb") as fh:  # a cp1258-era name
        fh.write("Sở Nội vụ chủ trì, phối hợp với các sở triển khai thực hiện.\n".encode())
    return folder


def test_a_run_over_file_system_oddities_reports_each_and_goes_on(tmp_path):
    folder = _odd_folder(tmp_path)
    out = tmp_path / "out"
    report = batch.run(folder, batch.RunOptions(out=out, jobs=2, timeout=30, link=False, quiet=True))
    by_file = {r["file"]: r for r in report["documents"]}
    assert by_file["dangling.txt"]["reason"] == "dangling symbolic link: its target does not exist"
    assert by_file["loop.pdf"]["reason"] == "symbolic link loop: the link never reaches a file"
    assert by_file["pipe.docx"]["reason"] == "not a regular file (a named pipe (FIFO)): skipped, never opened"
    assert by_file["null.txt"]["reason"] == "not a regular file (a character device): skipped, never opened"
    for name in ("dangling.txt", "loop.pdf", "pipe.docx", "null.txt"):
        assert by_file[name]["status"] == "failed" and by_file[name]["stage"] == "ingest"
    odd_name = by_file["t\ufffdn-la.txt"]
    assert odd_name["status"] != "failed" and odd_name["id"] == "t\ufffdn-la"
    assert (out / "t\ufffdn-la.json").is_file()
    for name in ("cao-bang_cong-van_2025-08.txt", "dak-lak_ke-hoach_2024-12.txt"):
        assert by_file[name]["status"] != "failed"
    assert json.loads((out / "run-report.json").read_text(encoding="utf-8"))["summary"]["documents"] == 7
    # a second run over the same folder: the odd name's manifest entry round-trips
    again = batch.run(folder, batch.RunOptions(out=out, jobs=2, timeout=30, link=False, quiet=True))
    assert {r["file"]: r["action"] for r in again["documents"]}["t\ufffdn-la.txt"] == "skipped"


def test_a_file_that_vanishes_between_listing_and_reading_is_a_failure(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    kept = folder / "cao-bang_cong-van_2025-08.txt"
    shutil.copyfile(CORPUS / kept.name, kept)
    files = [kept, folder / "vanished.txt"]  # listed, then gone
    report = batch.run(folder, batch.RunOptions(out=tmp_path / "out", jobs=1, link=False, quiet=True), files=files)
    by_file = {r["file"]: r for r in report["documents"]}
    assert by_file["vanished.txt"]["status"] == "failed" and by_file["vanished.txt"]["reason"] == "no such file"
    assert by_file[kept.name]["status"] != "failed"


def test_a_failed_document_record_never_opens_a_fifo(tmp_path):
    from pipeline.parse import failed_document

    pipe = tmp_path / "pipe.txt"
    os.mkfifo(pipe)
    doc = failed_document(pipe, "whatever")
    assert doc.source.sha256 == "" and doc.status == "failed"


# --- lost characters --------------------------------------------------------------------


def test_unpaired_surrogates_become_replacement_characters_and_are_counted():
    info = SourceInfo("a.pdf", "a.pdf", "pdf", "", 10)
    source = valid_unicode(SourceText("Sở \ud835 Nội \udc44 vụ", info, extra_layers=["Số: 1\udfff"]))
    assert source.text == "Sở \ufffd Nội \ufffd vụ"  # one for one: offsets keep
    assert source.extra_layers == ["Số: 1\ufffd"]
    assert source.warnings == ["3 characters that cannot be encoded (unpaired surrogates) replaced by U+FFFD"]


def test_a_reader_returning_surrogates_gives_valid_unicode_and_a_partial_document(tmp_path, monkeypatch):
    real = ingest_module.READERS[".txt"]

    def reader(path, data, info):
        source = real(path, data, info)
        source.text = source.text.replace("Nội vụ", "N\udcc3i vụ", 1)
        return source

    monkeypatch.setitem(ingest_module.READERS, ".txt", reader)
    path = tmp_path / "a.txt"
    path.write_text("KẾ HOẠCH\nI. MỤC TIÊU\n1. Sở Nội vụ chủ trì thực hiện.\n", encoding="utf-8")
    doc = parse_file(path)
    assert "N\ufffdi vụ" in doc.text
    assert doc.status == "partial"
    messages = [w.message for w in doc.warnings if w.stage == "ingest"]
    at = doc.text.index("\ufffd")
    assert messages == ["1 character that cannot be encoded (unpaired surrogates) replaced by U+FFFD",
                        f"1 lost character (U+FFFD) in the text, at offset {at}"]
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")


@pytest.mark.skipif(not SURROGATE_PDF.is_file(), reason=f"{SURROGATE_PDF} not found")
def test_a_pdf_whose_text_layer_splits_surrogate_pairs_is_read_whole():
    result = batch_worker.process_one(str(SURROGATE_PDF), "panm", rows=None)
    assert result["status"] != "failed", result["errors"]
    assert not any(e["stage"] in ("internal", "output") for e in result["errors"])
    doc = json.loads(result["json"])
    assert "³√𝑄" in doc["text"]  # U+1D444 from its two UTF-16 halves
    assert "\ufffd" not in doc["text"]


def _mojibake(text: str) -> str:
    return text.encode("utf-8").decode("cp1252", errors="replace")


def test_mojibake_with_lost_bytes_is_partial_and_says_the_repair_could_not_restore_it(tmp_path):
    text = ("ỦY BAN NHÂN DÂN TỈNH\nKẾ HOẠCH\nI. TỔ CHỨC THỰC HIỆN\n"
            "1. Giao UBND các xã, phường thực hiện kế hoạch này; báo cáo kết quả về Sở Nội vụ.\n")
    path = tmp_path / "mojibake.txt"
    path.write_text(_mojibake(text), encoding="utf-8")
    doc = parse_file(path)
    lost = text.encode("utf-8").decode("cp1252", errors="replace").count("\ufffd")
    assert lost == 2  # "ờ" in "phường", "ề" in "về": bytes cp1252 leaves undefined
    assert doc.status == "partial"
    messages = [w.message for w in doc.warnings if w.stage == "ingest"]
    assert messages[0] == "repaired mojibake: UTF-8 that had been read as cp1252/latin-1"
    assert messages[1].startswith("mojibake repair could not restore 2 characters")
    first = doc.text.index("\ufffd")
    second = doc.text.index("\ufffd", first + 1)
    assert messages[2] == f"2 lost characters (U+FFFD) in the text, at offsets {first}, {second}"
    assert "UBND các xã, phư\ufffdng" in doc.text  # the cut the issue saw, now reported


def test_clean_mojibake_is_repaired_without_a_loss_warning(tmp_path):
    text = "KẾ HOẠCH\nI. MỤC TIÊU\n1. Sở Nội vụ chủ trì thực hiện kế hoạch.\n"
    path = tmp_path / "m.txt"
    path.write_text(text.encode("utf-8").decode("latin-1"), encoding="utf-8")  # latin-1 loses nothing
    doc = parse_file(path)
    assert doc.text.startswith("KẾ HOẠCH")
    assert "Sở Nội vụ chủ trì" in doc.text
    assert not any("lost" in w.message or "could not restore" in w.message for w in doc.warnings)


# --- workers: exceptions and memory -----------------------------------------------------


def _run_one(tmp_path: Path, name: str = "cao-bang_cong-van_2025-08.txt") -> dict:
    folder = tmp_path / "in"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CORPUS / name, folder / name)
    jobs = batch_jobs.plan_jobs([folder / name], folder)
    results: dict[str, dict] = {}
    batch_local.run_local(jobs, 1, 60, False, lambda job, result: results.setdefault(job.id, result))
    return results[jobs[0].id]


def _unencodable_result(doc, *args, **kwargs):
    "x\ud800".encode("utf-8")  # what counting a text with a lone surrogate used to do


@needs_fork
def test_an_exception_after_parsing_reaches_the_report_with_its_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_worker, "_result", _unencodable_result)
    result = _run_one(tmp_path)
    assert result["status"] == "failed"
    assert result["errors"][0]["stage"] == "output"
    assert result["errors"][0]["message"].startswith("UnicodeEncodeError: 'utf-8' codec can't encode")


def _vm_size_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) // 1024
    return 0


def _allocate_too_much(path: Path):
    block = bytearray(3 * 2**30)  # more than the limit: MemoryError under RLIMIT_AS
    return block


@needs_fork
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to size the limit")
def test_a_worker_past_its_memory_limit_fails_the_document_at_stage_limit(tmp_path, monkeypatch):
    limit = _vm_size_mb() + 400  # the forked worker starts at the test process's size
    monkeypatch.setenv("VANBAN_WORKER_MEMORY_MB", str(limit))
    monkeypatch.setattr(batch_worker, "parse_document", _allocate_too_much)
    result = _run_one(tmp_path)
    assert result["status"] == "failed"
    assert result["errors"] == [{"stage": "limit", "message":
                                 f"out of memory: the document needs more than the worker's memory limit ({limit} MB)"}]
    # and the next document in a fresh pool is fine
    monkeypatch.undo()
    assert _run_one(tmp_path / "again")["status"] != "failed"


def test_the_worker_memory_limit_and_ingest_limits_come_from_flags(monkeypatch):
    import argparse

    for env in (*run_command.LIMIT_FLAGS.values(), "VANBAN_MAX_DOCX_PART_MB"):
        monkeypatch.delenv(env, raising=False)
    assert batch_worker.worker_memory_mb() == batch_worker.WORKER_MEMORY_MB
    parser = argparse.ArgumentParser()
    run_command.add_arguments(parser)
    args = parser.parse_args(["in", "--memory-mb", "900", "--max-docx-mb", "10", "--max-pdf-pages", "5"])
    for env in (*run_command.LIMIT_FLAGS.values(), "VANBAN_MAX_DOCX_PART_MB"):
        monkeypatch.setenv(env, "")  # so monkeypatch restores them after _apply_limit_flags
    assert run_command._apply_limit_flags(args) is None
    assert batch_worker.worker_memory_mb() == 900
    assert checks.limit("MAX_DOCX_TOTAL_MB") == 10 and checks.limit("MAX_DOCX_PART_MB") == 10
    assert checks.limit("MAX_PDF_PAGES") == 5
    assert run_command._apply_limit_flags(parser.parse_args(["in", "--max-pdf-pages", "-3"])) == "--max-pdf-pages must be > 0"
    run_command._apply_limit_flags(parser.parse_args(["in", "--memory-mb", "-1"]))
    assert batch_worker.worker_memory_mb() == 0  # no limit


def test_a_dead_worker_is_named_with_its_signal():
    assert batch_local._death_reason(3).startswith("worker process died (exit code 3)")
    assert batch_local._death_reason(-9).startswith("worker process died (killed by SIGKILL, exit code -9)")


def test_the_readme_states_the_default_limits():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("#### Limits", 1)[1].split("\n#### ", 1)[0]
    rows = {line.split("|")[-2].strip().split()[0].strip("`()"): line.split("|")[-3].strip()
            for line in section.splitlines() if line.startswith("| ") and "VANBAN_" in line}
    assert rows["--memory-mb"] == f"{batch_worker.WORKER_MEMORY_MB} MB"
    assert rows["--max-docx-mb"] == f"{checks.MAX_DOCX_TOTAL_MB} MB"
    assert rows["VANBAN_MAX_DOCX_PART_MB"] == f"{checks.MAX_DOCX_PART_MB} MB"
    assert rows["--max-pdf-pages"] == str(checks.MAX_PDF_PAGES)
    assert rows["--max-text-mb"] == f"{checks.MAX_TEXT_BYTES // 2**20} MB"
    assert rows["--max-file-mb"] == f"{checks.MAX_FILE_MB} MB"


def test_a_header_with_a_matching_crc_for_a_short_prefix_never_gets_a_one_shot_inflate(tmp_path, monkeypatch):
    """The liar declares the first 2000 bytes (and their CRC) of a stream that inflates to 3 MB:
    the capped reader stops at 2000 bytes, and python-docx (the fallback) only reads parts
    stored uncompressed, never `ZipFile.read` on a compressed stream."""
    import zlib

    honest = build_docx(tmp_path / "honest.docx", 3)
    body = zipfile.ZipFile(honest).read("word/document.xml")
    data = bytearray(_lie_about_size(honest.read_bytes(), "word/document.xml", 2000))
    at = data.find(b"PK\x01\x02", data.find(b"word/document.xml") + 1)
    while bytes(data[at + 46:at + 46 + 17]) != b"word/document.xml":
        at = data.find(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", data, at + 16, zlib.crc32(body[:2000]))
    liar = tmp_path / "liar.docx"
    liar.write_bytes(bytes(data))
    real_read = zipfile.ZipFile.read

    def read(self, name, pwd=None):
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        assert info.compress_type == zipfile.ZIP_STORED, f"one-shot inflate of {info.filename}"
        return real_read(self, name, pwd)

    monkeypatch.setattr(zipfile.ZipFile, "read", read)
    assert _reason(liar) == "corrupt .docx: XMLSyntaxError"  # the 2000 bytes it declares are cut XML


def test_a_folder_that_cannot_be_listed_is_named_and_skipped(tmp_path, monkeypatch, capsys):
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_text("x", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):  # as root, chmod 000 would still be listable
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert batch_jobs.discover(tmp_path) == [tmp_path / "ok" / "a.txt"]
    assert f"vanban: {tmp_path / 'locked'}: folder skipped, cannot list it: Permission denied" in capsys.readouterr().err


def test_libreoffice_is_started_without_the_workers_memory_cap():
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        pytest.skip("needs an unlimited hard RLIMIT_AS to lower the soft one")
    script = (
        "import resource, subprocess, sys\n"
        "from pipeline.stages.ingest.doc import _address_space_lifted\n"
        "resource.setrlimit(resource.RLIMIT_AS, (4 * 2**30, resource.RLIM_INFINITY))\n"
        "probe = [sys.executable, '-c', 'import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])']\n"
        "with _address_space_lifted():\n"
        "    inside = subprocess.run(probe, capture_output=True, text=True).stdout.strip()\n"
        "after = subprocess.run(probe, capture_output=True, text=True).stdout.strip()\n"
        "print(inside, after)\n"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.split() == [str(resource.RLIM_INFINITY), str(4 * 2**30)], out.stderr


def test_a_pdf_page_that_cannot_be_loaded_is_named_and_the_others_are_read(formats_dir, tmp_path):
    """Found by the fuzz suite: a truncated PDF whose first page pdfium cannot load raised
    PdfiumError out of ingest."""
    data = bytearray((formats_dir / "lao-cai_cong-van_3686-pccc.pdf").read_bytes())
    data = data[: len(data) * 857 // 1000]
    data[17] ^= 1
    path = tmp_path / "cut.pdf"
    path.write_bytes(bytes(data))
    doc = parse_file(path)
    assert doc.status == "partial"
    assert "page 1: cannot be loaded (corrupt or truncated PDF): its text is missing" in [
        w.message for w in doc.warnings]
    assert len(doc.text) > 1000  # the other pages
    report = batch_worker.process_one(str(path), "cut", rows=None)
    assert report["lost"] == "page 1: cannot be loaded (corrupt or truncated PDF): its text is missing"
