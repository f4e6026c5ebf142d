"""`vanban run`: parallel, incremental, resumable, isolated from bad files and hangs."""
from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipeline.batch import driver as batch_driver
from pipeline.batch import jobs as batch_jobs
from pipeline.batch import local as batch_local
from pipeline.batch import progress as batch_progress
from pipeline.batch import worker as batch_worker
from pipeline.cli import main as cli
from pipeline.stages.emit import schema_errors
from pipeline.parse import parse_file

REPO = Path(__file__).resolve().parent.parent
CORPUS_TXT = sorted((REPO / "corpus").glob("*.txt"))
IDS = sorted(p.stem for p in CORPUS_TXT)
needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the patched parse reaches the workers only through fork")


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for p in CORPUS_TXT:
        shutil.copyfile(p, folder / p.name)
    return folder


def vanban_run(folder: Path, out: Path, *extra: str) -> tuple[int, dict]:
    code = cli(["run", str(folder), "--out", str(out), "--no-db", "--no-link", "--jobs", "2", *extra])
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    assert schema_errors(report, "run-report") == []
    return code, report


def outputs(out: Path) -> list[str]:
    """Ids of the document JSONs in `out` (not the report, not hidden state files)."""
    return sorted(p.stem for p in out.glob("*.json") if p.name != "run-report.json" and not p.name.startswith("."))


def actions(report: dict) -> dict[str, str]:
    return {d["id"]: d["action"] for d in report["documents"]}


def test_run_writes_one_valid_json_per_document(corpus, tmp_path):
    out = tmp_path / "out"
    code, report = vanban_run(corpus, out)
    assert code == 0
    assert outputs(out) == IDS
    for doc_id in IDS:
        doc = json.loads((out / f"{doc_id}.json").read_text(encoding="utf-8"))
        assert doc["id"] == doc_id and doc["status"] == "ok"
        # the batch writes exactly what parsing the file alone gives
        alone = parse_file(corpus / f"{doc_id}.txt").to_dict()
        assert {**doc, "timings": None} == {**alone, "timings": None}
    assert set(actions(report).values()) == {"processed"}
    assert report["summary"]["by_status"] == {"ok": 5}
    assert report["summary"]["documents_per_second"] > 0
    assert not list(out.glob(".*.tmp"))


def test_second_run_skips_unchanged_and_force_redoes_all(corpus, tmp_path):
    out = tmp_path / "out"
    vanban_run(corpus, out)
    _, again = vanban_run(corpus, out)
    assert set(actions(again).values()) == {"skipped"} and again["summary"]["processed"] == 0

    letter = corpus / "cao-bang_cong-van_2025-08.txt"
    os.utime(letter, ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes: still unchanged
    _, touched = vanban_run(corpus, out)
    assert touched["summary"]["processed"] == 0

    letter.write_text(letter.read_text(encoding="utf-8") + "\nNơi nhận:\n- Như trên;\n", encoding="utf-8")
    _, edited = vanban_run(corpus, out)
    assert [i for i, a in actions(edited).items() if a == "processed"] == ["cao-bang_cong-van_2025-08"]

    _, forced = vanban_run(corpus, out, "--force")
    assert set(actions(forced).values()) == {"processed"}


def test_skip_decision_reads_the_output_when_the_manifest_is_gone(corpus, tmp_path):
    out = tmp_path / "out"
    vanban_run(corpus, out)
    (out / ".vanban-state.json").unlink()
    _, report = vanban_run(corpus, out)
    assert report["summary"]["processed"] == 0
    # an output JSON that no longer matches its file (another content hash) is redone
    plan = out / "dak-lak_ke-hoach_2024-12.json"
    doc = json.loads(plan.read_text(encoding="utf-8"))
    doc["source"]["sha256"] = "0" * 64
    plan.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    _, report = vanban_run(corpus, out)
    assert [i for i, a in actions(report).items() if a == "processed"] == ["dak-lak_ke-hoach_2024-12"]


def test_bad_files_are_reported_and_do_not_stop_the_batch(corpus, tmp_path):
    out = tmp_path / "out"
    (corpus / "garbage.pdf").write_bytes(b"%PDF-1.4\n\x00\x01 not really a pdf \xff\xfe")
    (corpus / "empty.txt").write_bytes(b"")
    code, report = vanban_run(corpus, out)
    assert code == 1
    assert all((out / f"{i}.json").is_file() for i in IDS)
    failed = {d["id"]: d for d in report["documents"] if d["status"] == "failed"}
    assert sorted(failed) == ["empty", "garbage"]
    for entry in failed.values():
        assert entry["stage"] == "ingest" and entry["reason"] and entry["output"] is None
        assert not (out / f"{entry['id']}.json").exists()
    assert report["summary"]["by_status"] == {"ok": 5, "failed": 2}


def test_a_document_that_now_fails_loses_its_old_output(corpus, tmp_path):
    out = tmp_path / "out"
    vanban_run(corpus, out)
    (corpus / "cao-bang_cong-van_2025-08.txt").write_bytes(b"")
    code, report = vanban_run(corpus, out)
    assert code == 1 and not (out / "cao-bang_cong-van_2025-08.json").exists()


def test_alternate_formats_hidden_files_and_folder_collisions(corpus, tmp_path):
    # a DOCX beside its TXT is the same document in another format: the TXT is read
    (corpus / "cao-bang_cong-van_2025-08.docx").write_bytes(b"not a docx: never opened")
    (corpus / ".hidden.txt").write_text("Số: 1/KH-UBND\n", encoding="utf-8")
    (corpus / "~$lock.docx").write_bytes(b"")
    (corpus / ".git").mkdir()
    (corpus / ".git" / "x.txt").write_text("Số: 1/KH-UBND\n", encoding="utf-8")
    sub = corpus / "tinh-b"
    sub.mkdir()
    shutil.copyfile(CORPUS_TXT[0], sub / CORPUS_TXT[0].name)  # same stem, other folder: another document
    out = corpus / "out"  # the output folder inside the input is not read back
    code, report = vanban_run(corpus, out)
    assert code == 0
    vanban_run(corpus, out)  # outputs written inside the input are not picked up as input
    ids = sorted(d["id"] for d in report["documents"])
    stem = CORPUS_TXT[0].stem
    assert ids == sorted([*IDS, f"tinh-b__{stem}"])
    assert report["alternates"] == [{"file": "cao-bang_cong-van_2025-08.docx", "id": "cao-bang_cong-van_2025-08",
                                     "reason": "alternate format of cao-bang_cong-van_2025-08"}]


def _hang_on_slow(path: Path):
    from pipeline.parse import parse_file

    if "slow" in path.name:
        time.sleep(60)
    return parse_file(path)


@needs_fork
def test_a_hanging_document_is_cut_off_by_the_time_limit(corpus, tmp_path, monkeypatch):
    shutil.copyfile(CORPUS_TXT[0], corpus / "slow.txt")
    monkeypatch.setattr(batch_worker, "parse_document", _hang_on_slow)
    out = tmp_path / "out"
    t0 = time.perf_counter()
    code, report = vanban_run(corpus, out, "--timeout", "1")
    assert time.perf_counter() - t0 < 30  # the 60 s sleep was cut off (not a speed assertion)
    assert code == 1
    entry = next(d for d in report["documents"] if d["id"] == "slow")
    assert (entry["status"], entry["stage"]) == ("failed", "timeout")
    assert all((out / f"{i}.json").is_file() for i in IDS)


SLOW_RUN = textwrap.dedent("""
    import sys, time
    from pipeline.batch import worker as batch_worker
    from pipeline.cli import main
    from pipeline.parse import parse_file

    def slow(path):
        time.sleep(0.15)
        return parse_file(path)

    batch_worker.parse_document = slow
    sys.exit(main(sys.argv[1:]))
""")


@needs_fork
def test_resume_after_kill_redoes_only_unfinished_documents(corpus, tmp_path):
    for i in range(1, 5):  # 25 documents
        for p in CORPUS_TXT:
            shutil.copyfile(p, corpus / f"{p.stem}-copy{i}.txt")
    total = len(list(corpus.glob("*.txt")))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, "run", str(corpus), "--out", str(out), "--no-db",
                             "--no-link", "--jobs", "1"], stderr=subprocess.DEVNULL, cwd=REPO)
    deadline = time.time() + 30
    while time.time() < deadline and not (out.is_dir() and outputs(out)):
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = outputs(out)
    assert 0 < len(done) < total and not (out / "run-report.json").exists()
    for p in out.glob("*.json"):
        json.loads(p.read_text(encoding="utf-8"))  # never half-written

    # the re-run in a fresh process too: both compute the pipeline version from the files
    # (this process computed its own when the session started, and rules/ may change)
    rerun = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(corpus), "--out", str(out), "--no-db",
                            "--no-link", "--jobs", "2", "--quiet"], cwd=REPO)
    assert rerun.returncode == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    acts = actions(report)
    assert sorted(i for i, a in acts.items() if a == "skipped") == done
    assert sum(a == "processed" for a in acts.values()) == total - len(done)
    assert not list(out.glob(".*.tmp"))


def test_usage_errors_exit_2(tmp_path):
    assert cli(["run", str(tmp_path / "missing")]) == 2
    assert cli(["run", str(tmp_path), "--scheduler", "tcp://localhost:8786"]) == 2


@pytest.mark.skipif(not all(importlib.util.find_spec(f"pipeline.corpus.{m}") for m in ("store", "step", "link", "graph")),
                    reason="pipeline.corpus.store / step / link / graph are not all written yet")
def test_default_run_fills_the_store_and_links_the_corpus(corpus, tmp_path):
    out = tmp_path / "out"
    code = cli(["run", str(corpus), "--out", str(out), "--jobs", "2", "--quiet"])
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    assert schema_errors(report, "run-report") == []
    assert report["corpus"] is not None and "error" not in report["corpus"], report["corpus"]
    assert code == 0 and (out / "vanban.sqlite").is_file()


# --- the local engine itself: each worker has the next document waiting in its pipe


def _engine(folder: Path, n_workers: int, timeout: float | None) -> list[tuple[str, dict]]:
    """Run the local engine on every TXT of `folder`; (id, result) in the order they came."""
    jobs = batch_jobs.plan_jobs(sorted(folder.glob("*.txt")), folder)
    results: list[tuple[str, dict]] = []
    batch_local.run_local(jobs, n_workers, timeout, False, lambda job, result: results.append((job.id, result)))
    return results


@pytest.mark.parametrize("cover_seconds, deeper", [(60.0, True), (0.0, False)])
def test_a_worker_with_light_documents_gets_more_of_them_ahead(corpus, monkeypatch, cover_seconds, deeper):
    # The corpus's documents take ~10-300 ms each: to cover a minute of parsing, a worker is
    # sent more of them than PREFETCH (up to MAX_PREFETCH), so it goes on while the driver
    # commits a batch; to cover nothing, PREFETCH. Either way each document comes back once.
    for copy in range(3):
        for path in CORPUS_TXT:
            shutil.copyfile(path, corpus / f"{path.stem}-{copy}.txt")
    monkeypatch.setattr(batch_local, "PREFETCH_SECONDS", cover_seconds)
    most_ahead = []
    give = batch_local._Worker.give

    def counting_give(worker, job):
        give(worker, job)
        most_ahead.append(len(worker.queue))

    monkeypatch.setattr(batch_local._Worker, "give", counting_give)
    results = _engine(corpus, 1, None)
    assert sorted(i for i, _ in results) == sorted(p.stem for p in corpus.glob("*.txt"))
    assert all(r["status"] == "ok" for _, r in results)
    if deeper:
        assert batch_local.PREFETCH < max(most_ahead) <= batch_local.MAX_PREFETCH
    else:
        assert max(most_ahead) == batch_local.PREFETCH


def _slow_everywhere(path: Path):
    from pipeline.parse import parse_file

    time.sleep(0.7)
    return parse_file(path)


@needs_fork
def test_the_time_limit_counts_from_when_the_worker_starts_the_document(corpus, monkeypatch):
    # every document takes ~0.7 s, under the 1 s limit; the second one has waited in the
    # pipe for the first, so counting from when it was sent would give ~1.4 s and kill it
    for p in CORPUS_TXT[2:]:
        (corpus / p.name).unlink()
    monkeypatch.setattr(batch_worker, "parse_document", _slow_everywhere)
    results = _engine(corpus, 1, 1.0)
    assert sorted(i for i, _ in results) == IDS[:2]
    assert [r["status"] for _, r in results] == ["ok", "ok"]


def _crash_on_bad(path: Path):
    from pipeline.parse import parse_file

    if "crash" in path.name:
        os._exit(3)  # like a segfault: no exception, no answer
    return parse_file(path)


@needs_fork
def test_a_crashing_worker_loses_no_queued_document_and_counts_none_twice(corpus, monkeypatch):
    shutil.copyfile(CORPUS_TXT[0], corpus / "cao-bang_c-crash.txt")  # sorted second: one done before it, one waiting behind
    monkeypatch.setattr(batch_worker, "parse_document", _crash_on_bad)
    results = _engine(corpus, 1, None)
    assert sorted(i for i, _ in results) == sorted([*IDS, "cao-bang_c-crash"])  # each exactly once
    by_id = dict(results)
    assert by_id["cao-bang_c-crash"]["status"] == "failed"
    assert by_id["cao-bang_c-crash"]["errors"][0]["stage"] == "crash"
    assert "exit code 3" in by_id["cao-bang_c-crash"]["errors"][0]["message"]
    assert all(by_id[i]["status"] == "ok" for i in IDS)


_write_temp_json = batch_local._write_temp_json


def _crash_after_writing(result: dict, out_dir: str, driver: int) -> bool:
    ok = _write_temp_json(result, out_dir, driver)
    if "crash" in result["id"]:
        os._exit(3)  # dies with its temporary JSON written but not reported
    return ok


@needs_fork
def test_workers_write_temporary_jsons_and_a_dead_workers_file_is_removed(corpus, tmp_path, monkeypatch):
    shutil.copyfile(CORPUS_TXT[0], corpus / "cao-bang_c-crash.txt")
    monkeypatch.setattr(batch_local, "_write_temp_json", _crash_after_writing)
    out = tmp_path / "out"
    out.mkdir()
    jobs = batch_jobs.plan_jobs(sorted(corpus.glob("*.txt")), corpus)
    results: dict[str, dict] = {}
    batch_local.run_local(jobs, 1, None, False, lambda job, result: results.setdefault(job.id, result), out_dir=out)
    assert results["cao-bang_c-crash"]["errors"][0]["stage"] == "crash"
    for doc_id in IDS:  # the worker wrote each JSON; the text is not sent as well
        r = results[doc_id]
        tmp = Path(r["json_tmp"])
        assert r["json"] is None and tmp.parent == out and tmp.name.startswith(f".{doc_id}.")
        written = json.loads(tmp.read_text(encoding="utf-8"))
        assert {**written, "timings": None} == {**parse_file(corpus / f"{doc_id}.txt").to_dict(), "timings": None}
    # left: exactly the files waiting for the driver to rename them; the dead worker's is gone
    assert sorted(p.name for p in out.iterdir()) == sorted(Path(results[i]["json_tmp"]).name for i in IDS)


def _socket_setting(name: str) -> int:
    try:
        return int(Path(f"/proc/sys/net/core/{name}").read_text())
    except (OSError, ValueError):
        return 0


@pytest.mark.skipif(_socket_setting("wmem_max") < batch_local.SEND_BUFFER,
                    reason="the kernel caps a socket's send buffer below SEND_BUFFER (net.core.wmem_max)")
def test_a_worker_puts_its_results_in_the_pipe_without_waiting_for_the_driver():
    # The results of the corpus with their store rows, as a worker sends them, while the
    # driver reads nothing (it is storing the result before): a widened pipe takes them all
    # at once, so the worker goes on parsing; a pipe as the system makes it takes a few.
    from multiprocessing.reduction import ForkingPickler  # what Connection.send writes

    messages = [bytes(ForkingPickler.dumps(("done", batch_worker.process_one(str(p), p.stem, "full"))))
                for p in CORPUS_TXT]

    def sent(widen: bool) -> int:
        driver_end, worker_end = multiprocessing.Pipe()
        if widen:
            batch_local._widen_send_buffer(worker_end)
        os.set_blocking(worker_end.fileno(), False)  # a send that would wait raises instead
        count = 0
        try:
            for message in messages:
                worker_end.send_bytes(message)
                count += 1
        except BlockingIOError:
            pass
        finally:
            driver_end.close()
            worker_end.close()
        return count

    assert sent(widen=True) == len(messages)
    if 2 * _socket_setting("wmem_default") < sum(map(len, messages)):  # Linux doubles the setting
        assert sent(widen=False) < len(messages)


@needs_fork
def test_a_worker_killed_at_the_time_limit_hands_its_queue_on(corpus, monkeypatch):
    shutil.copyfile(CORPUS_TXT[0], corpus / "cao-bang_c-slow.txt")
    monkeypatch.setattr(batch_worker, "parse_document", _hang_on_slow)
    results = _engine(corpus, 1, 1.0)
    assert sorted(i for i, _ in results) == sorted([*IDS, "cao-bang_c-slow"])
    by_id = dict(results)
    assert by_id["cao-bang_c-slow"]["errors"][0]["stage"] == "timeout"
    assert all(by_id[i]["status"] == "ok" for i in IDS)


@needs_fork
def test_workers_are_recycled_after_max_tasks(corpus, monkeypatch):
    monkeypatch.setattr(batch_local, "MAX_TASKS_PER_WORKER", 2)
    results = _engine(corpus, 1, None)
    assert sorted(i for i, _ in results) == IDS
    pids = [r["pid"] for _, r in results]
    # 5 documents, 2 per worker: three processes, each used for consecutive documents
    assert len(set(pids)) == 3 and [pids.count(p) for p in dict.fromkeys(pids)] == [2, 2, 1]


def test_a_document_that_now_fails_leaves_the_store_too(tmp_path):
    import sqlite3
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    (src / "thu.txt").write_text("CÔNG VĂN\nSở Nội vụ:\n- Chủ trì, phối hợp tổ chức thực hiện kế hoạch.\n", encoding="utf-8")
    out = tmp_path / "out"
    run = lambda: subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(src), "--out", str(out), "-q", "--no-link"],
                                 capture_output=True, text=True)
    assert run().returncode == 0
    db = sqlite3.connect(out / "vanban.sqlite")
    assert db.execute("SELECT COUNT(*) FROM documents WHERE id = 'thu'").fetchone()[0] == 1
    db.close()
    (src / "thu.txt").write_bytes(b"")  # now empty: refused at ingest
    assert run().returncode == 1
    db = sqlite3.connect(out / "vanban.sqlite")
    assert db.execute("SELECT COUNT(*) FROM documents WHERE id = 'thu'").fetchone()[0] == 0
    assert not (out / "thu.json").exists()


# --- what a run leaves in OUT: the same bytes on every run, so outputs/ can be committed


def _ignored_in_outputs() -> list[str]:
    """The patterns of outputs/.gitignore: what a run writes but outputs/ never commits."""
    lines = (REPO / "outputs" / ".gitignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _committed_kind(out: Path) -> dict[str, bytes]:
    """The files of OUT that outputs/ commits (not those outputs/.gitignore names), by name."""
    import fnmatch

    ignored = _ignored_in_outputs()
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.is_file() and p.name != ".gitignore" and not any(fnmatch.fnmatch(p.name, g) for g in ignored)}


def _run_and_export(out: Path, *extra: str) -> subprocess.CompletedProcess:
    """`vanban run corpus --out OUT` from the repository root (as the README says), then the
    graph exports outputs/ holds."""
    run = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "corpus", "--out", str(out), "--jobs", "2", *extra],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    export = subprocess.run([sys.executable, "-m", "pipeline.cli", "export", "graph", "--format", "json,graphml,gexf",
                             "--run", str(out)], capture_output=True, text=True, cwd=REPO)
    assert export.returncode == 0, export.stderr
    return run


def test_two_runs_write_byte_identical_committed_outputs(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    _run_and_export(first)
    time.sleep(1.1)  # a second later: a date or a time of day would differ
    _run_and_export(second, "--jobs", "1", "--no-db")  # another worker count, no store: the same files
    a, b = _committed_kind(first), _committed_kind(second)
    assert sorted(a) == sorted([*(f"{i}.json" for i in IDS), "graph.gexf", "graph.graphml", "graph.json",
                                "links.json", "report.html"])
    assert a == b, [name for name in a if a[name] != b.get(name)]
    # exactly the files outputs/ tracks (what varies is in outputs/.gitignore)
    tracked = subprocess.run(["git", "ls-files", "outputs"], capture_output=True, text=True, cwd=REPO)
    if tracked.returncode == 0 and tracked.stdout.strip():
        assert sorted(Path(p).name for p in tracked.stdout.split()) == sorted([".gitignore", *a])
    # run-varying facts are in the run report only
    report = json.loads((first / "run-report.json").read_text(encoding="utf-8"))
    assert report["started"] and all(d["timings"] for d in report["documents"])
    for doc_id in IDS:
        assert json.loads(a[f"{doc_id}.json"])["timings"] == {}
    assert b"lastmodifieddate" not in a["graph.gexf"]
    # and a re-run with nothing changed leaves them as they are
    again = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", "corpus", "--out", str(first), "--jobs", "2"],
                           capture_output=True, text=True, cwd=REPO)
    assert again.returncode == 0 and "0 processed, 5 unchanged" in again.stderr, again.stderr
    assert _committed_kind(first) == a


def test_a_run_writes_the_html_report_unless_asked_not_to(corpus, tmp_path):
    out = tmp_path / "out"
    code = cli(["run", str(corpus), "--out", str(out), "--no-db", "--jobs", "2", "--quiet"])
    assert code == 0 and (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    bare = tmp_path / "bare"
    assert cli(["run", str(corpus), "--out", str(bare), "--no-db", "--jobs", "2", "--quiet", "--no-report"]) == 0
    assert not (bare / "report.html").exists()


def test_a_large_run_leaves_the_html_report_to_vanban_report(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch_driver, "REPORT_MAX_DOCUMENTS", 3)
    out = tmp_path / "out"
    assert cli(["run", str(corpus), "--out", str(out), "--no-db", "--no-link", "--jobs", "2"]) == 0
    assert not (out / "report.html").exists()
    assert f"report.html not written: 5 documents, more than 3 (`vanban report --run {out}` writes it)" in capsys.readouterr().err


# --- progress: one tqdm bar on a terminal, nothing elsewhere


class _Terminal:
    """A stream that says it is a terminal, and keeps what was written."""

    def __init__(self, tty: bool):
        self.tty, self.parts = tty, []

    def isatty(self) -> bool:
        return self.tty

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    @property
    def text(self) -> str:
        return "".join(self.parts)


def test_progress_is_one_bar_with_rate_and_eta_on_a_terminal():
    term = _Terminal(tty=True)
    progress = batch_progress.Progress(4, quiet=False, stream=term)
    for n, status in enumerate(("ok", "failed", "ok", "partial")):
        progress.update(f"doc{n}.txt", status, 0.1)
    progress.close()
    final = term.text.split("\r")[-1]
    assert final.startswith("vanban run: 100%") and "4/4" in final and "doc/s" in final and "doc3.txt" in final
    assert "<00:00" in term.text  # elapsed<remaining: the ETA
    assert "vanban: doc1.txt: failed\n" in term.text  # a failure is printed above the bar
    assert term.text.count("\n") == 2  # the failure, and the bar's own line at the end


def test_the_corpus_step_shows_its_phases_once_it_takes_a_while():
    """A bar per counted phase and a line for links.json, on a terminal, once the step has
    run for StepProgress.DELAY; a quick step (any small corpus) shows nothing at all."""
    clock = [0.0]
    quick = _Terminal(tty=True)
    step = batch_progress.StepProgress(quiet=False, stream=quick, clock=lambda: clock[0])
    step.phase("resolving references", 40, unit="ref")
    step.advance(40)
    step.phase("writing links.json and the chains")
    step.close()
    assert quick.text == ""

    slow = _Terminal(tty=True)
    step = batch_progress.StepProgress(quiet=False, stream=slow, clock=lambda: clock[0])
    step.phase("rewriting document JSONs", 0, unit="doc")  # nothing to rewrite: no bar
    clock[0] += 5.0
    step.phase("writing links.json and the chains")
    step.close()
    assert slow.text == "vanban: writing links.json and the chains\n"

    bars = _Terminal(tty=True)
    step = batch_progress.StepProgress(quiet=False, stream=bars, clock=lambda: clock[0])
    step.DELAY = 0.0  # tqdm's own delay too: shown at once
    step.phase("resolving references", 6, unit="ref")
    step.advance(3)
    step.advance(3)
    step.close()
    assert "vanban: resolving references: 100%" in bars.text and "6/6" in bars.text and "ref/s" in bars.text

    for stream, quiet in ((_Terminal(tty=False), False), (_Terminal(tty=True), True)):
        step = batch_progress.StepProgress(quiet=quiet, stream=stream, clock=lambda: clock[0])
        step.DELAY = 0.0
        step.phase("resolving references", 6, unit="ref")
        step.advance(6)
        step.phase("writing links.json and the chains")
        step.close()
        assert stream.text == ""  # not a terminal, or --quiet: the run's summary says it all


def test_progress_is_quiet_when_stderr_is_not_a_terminal():
    pipe = _Terminal(tty=False)
    progress = batch_progress.Progress(3, quiet=False, stream=pipe)
    for status in ("ok", "failed", "ok"):
        progress.update("doc.txt", status, 0.1)
    progress.close()
    assert pipe.text == ""  # the summary at the end says what happened
    quiet = _Terminal(tty=True)
    progress = batch_progress.Progress(2, quiet=True, stream=quiet)
    progress.update("a.txt", "ok", 0.1)
    progress.update("b.txt", "failed", 0.1)
    progress.close()
    assert quiet.text == "vanban: b.txt: failed\n"  # --quiet: failures only, even on a terminal


# --- who writes the store: the driver, or (all cores taken by workers) each worker its own results


def _store_rows(path: Path) -> dict[str, list[str]]:
    """Every table of a store but the FTS index's own, its rows sorted (the order of inserts
    differs with the order in which workers finish), and the FTS rows."""
    import sqlite3

    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                           "'sqlite_%' AND name NOT LIKE 'assignments_fts%'")]
        rows = {t: sorted(map(repr, db.execute(f"SELECT * FROM {t}"))) for t in tables}
        # an assignment's rowid is the order it was inserted in: each row by its document and index instead
        by_rowid = {rowid: (doc_id, idx) for rowid, doc_id, idx in db.execute("SELECT rowid, doc_id, idx FROM assignments")}
        rows["assignments"] = sorted(repr(r[1:]) for r in db.execute("SELECT * FROM assignments"))
        rows["task_sizes"] = sorted(repr((by_rowid[a], w)) for a, w in db.execute("SELECT * FROM task_sizes"))
        rows["agency_duty_order"] = sorted(repr((*r[:-1], by_rowid[r[-1]])) for r in db.execute(
            "SELECT * FROM agency_duty_order"))
        rows["assignments_fts"] = sorted(repr((by_rowid[r[0]], *r[1:])) for r in db.execute(
            "SELECT rowid, task, agency FROM assignments_fts"))
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return rows
    finally:
        db.close()


def _stored_ids(path: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(path)
    try:
        return [r[0] for r in db.execute("SELECT id FROM documents ORDER BY id")]
    finally:
        db.close()


def test_the_workers_write_the_same_store_and_outputs_as_the_driver(corpus, tmp_path):
    # Two workers on the corpus, once writing the store themselves, once leaving it to the
    # driver: the same JSONs byte for byte, the same rows, and each document once in the report.
    runs = {}
    for writes in ("workers", "driver"):
        out = tmp_path / writes
        assert cli(["run", str(corpus), "--out", str(out), "--jobs", "2", "--quiet", "--no-report",
                    "--store-writes", writes]) == 0
        report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
        assert sorted(d["id"] for d in report["documents"]) == IDS
        assert all(d["status"] == "ok" and d["action"] == "processed" for d in report["documents"])
        assert not list(out.glob(".*.tmp"))
        runs[writes] = ({p.name: p.read_bytes() for p in out.glob("*.json") if p.name != "run-report.json"
                         and not p.name.startswith(".")},
                        _store_rows(out / "vanban.sqlite"))
    assert runs["workers"][0] == runs["driver"][0]
    assert runs["workers"][1] == runs["driver"][1]
    assert len(runs["workers"][1]["documents"]) == len(IDS) and runs["workers"][1]["assignments"]


def test_auto_leaves_the_store_to_the_driver_while_a_core_is_free():
    opts = batch_driver.RunOptions()
    cores = os.cpu_count() or 1
    assert batch_driver._workers_write(opts, cores) is True
    assert batch_driver._workers_write(opts, cores + 1) is True
    assert batch_driver._workers_write(opts, cores - 1) is False
    assert batch_driver._workers_write(batch_driver.RunOptions(store_writes="driver"), cores) is False
    assert batch_driver._workers_write(batch_driver.RunOptions(store_writes="workers"), 1) is True


def _writing_engine(folder: Path, out: Path, n_workers: int, timeout: float | None = None):
    """The local engine on every TXT of `folder`, the workers writing a store in `out`: the
    results written by the workers, and those the driver made (a dead worker's document)."""
    from pipeline.corpus.store import Store

    out.mkdir(exist_ok=True)
    Store(out / "s.db").close()  # the driver creates the store before the workers start
    jobs = batch_jobs.plan_jobs(sorted(folder.glob("*.txt")), folder)
    written: list[tuple[str, dict, tuple | None]] = []
    made: list[tuple[str, dict]] = []
    batch_local.run_local(jobs, n_workers, timeout, "full", lambda job, result: made.append((job.id, result)),
                          out_dir=out, store=(str(out / "s.db"), False),
                          on_written=lambda job, result, stat: written.append((job.id, result, stat)))
    return written, made


@needs_fork
def test_a_worker_that_writes_stores_and_publishes_each_document_once(corpus, tmp_path):
    out = tmp_path / "out"
    written, made = _writing_engine(corpus, out, 2)
    assert made == [] and sorted(doc_id for doc_id, _, _ in written) == IDS
    for doc_id, result, stat in written:
        path = out / f"{doc_id}.json"
        assert result["status"] == "ok" and result["rows"] is None and result["json"] is None  # not sent
        assert stat == (path.stat().st_size, path.stat().st_mtime_ns)
        assert {**json.loads(path.read_text(encoding="utf-8")), "timings": None} == \
            {**parse_file(corpus / f"{doc_id}.txt").to_dict(), "timings": None}
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []  # no temporary file left
    assert _stored_ids(out / "s.db") == IDS


@needs_fork
def test_a_recycled_worker_writes_what_waits_before_it_goes(corpus, tmp_path, monkeypatch):
    # Recycled every 2 documents, each worker still holds them unwritten (a batch may be a
    # minute old here) when told to stop: it writes them first, and each is written once.
    from pipeline.batch import writer as batch_writer

    monkeypatch.setattr(batch_local, "MAX_TASKS_PER_WORKER", 2)
    monkeypatch.setattr(batch_writer, "BATCH_SECONDS", 60.0)
    written, made = _writing_engine(corpus, tmp_path / "out", 1)
    assert made == [] and sorted(doc_id for doc_id, _, _ in written) == IDS
    pids = [r["pid"] for _, r, _ in written]
    assert [pids.count(p) for p in dict.fromkeys(pids)] == [2, 2, 1]
    assert _stored_ids(tmp_path / "out" / "s.db") == IDS


@needs_fork
def test_a_worker_that_dies_before_writing_hands_its_parsed_documents_on(corpus, tmp_path, monkeypatch):
    # The document before the crashing one is parsed but waits in the worker's batch (a
    # minute long here) when its worker dies: it is parsed again by the replacement and
    # written once; only the crashing one is reported failed, by the driver.
    from pipeline.batch import writer as batch_writer

    shutil.copyfile(CORPUS_TXT[0], corpus / "cao-bang_c-crash.txt")  # sorted second
    monkeypatch.setattr(batch_worker, "parse_document", _crash_on_bad)
    monkeypatch.setattr(batch_writer, "BATCH_SECONDS", 60.0)
    out = tmp_path / "out"
    written, made = _writing_engine(corpus, out, 1)
    assert [(doc_id, r["errors"][0]["stage"]) for doc_id, r in made] == [("cao-bang_c-crash", "crash")]
    assert sorted(doc_id for doc_id, _, _ in written) == IDS  # each once, the one before the crash too
    pids = {doc_id: r["pid"] for doc_id, r, _ in written}
    assert len(set(pids.values())) == 1  # all by the replacement: the first worker wrote nothing
    assert _stored_ids(out / "s.db") == IDS
    assert not (out / "cao-bang_c-crash.json").exists() and not list(out.glob(".*.tmp"))


def test_a_writer_that_finds_the_store_busy_keeps_its_batch_and_writes_it_later(tmp_path):
    import sqlite3

    from pipeline.batch.writer import ResultWriter
    from pipeline.corpus.store import Store, document_rows
    from pipeline.stages.emit import write_temp

    store = Store(tmp_path / "s.db")
    other = sqlite3.connect(tmp_path / "s.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another worker writing its batch
    assert store.begin_batch(wait=False) is False
    written = []
    writer = ResultWriter(tmp_path, store, lambda key, result, stat: written.append(key))
    for path in CORPUS_TXT[:2]:
        doc = parse_file(path)
        doc.id = path.stem
        data = doc.to_dict()
        tmp = write_temp(tmp_path, f"{path.stem}.test", json.dumps(data).encode("utf-8"))
        result = {"id": path.stem, "status": "ok", "json": None, "json_tmp": str(tmp), "errors": [],
                  "rows": document_rows(data)}
        writer.add(path.stem, result, wait=False)
    assert writer.flush(wait=False) is False  # still busy: nothing written, nothing lost
    assert written == [] and len(writer.waiting) == 2 and not (tmp_path / f"{CORPUS_TXT[0].stem}.json").exists()
    other.execute("COMMIT")
    assert writer.flush(wait=False) is True
    assert written == [p.stem for p in CORPUS_TXT[:2]]
    assert all((tmp_path / f"{p.stem}.json").exists() for p in CORPUS_TXT[:2])
    assert store.db.execute("SELECT count(*) FROM documents").fetchone()[0] == 2
