"""The corpus step is incremental, crash-consistent and has one writer per store.

Every comparison is against a from-scratch run on the same files: the per-document JSONs
(timings aside), links.json, and every row of the store (the store's own row numbers aside).
"""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pipeline.cli import main as cli

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
PLAN = "cao-bang_ke-hoach-664_2025-03-10"  # numberless: the letter and the report cite it as 664/KH-UBND
LETTER = "cao-bang_cong-van_2025-08"
REPORT = "cao-bang_bao-cao_2025-12"
DAK_LAK = "dak-lak_ke-hoach_2024-12"
THAI_NGUYEN = "thai-nguyen_ke-hoach_2025-11"

# A written document with a number of its own, which every corpus plan cites: adding it
# resolves their references by number; removing it unresolves them again.
RESOLUTION_209 = """CHÍNH PHỦ
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: 209/NQ-CP
Hà Nội, ngày 28 tháng 10 năm 2024

NGHỊ QUYẾT
Về việc thực hiện Chỉ thị số 31-CT/TW ngày 19/3/2024 của Ban Bí thư

I. MỤC TIÊU
1. Giảm tần suất tai nạn lao động chết người ít nhất 4% mỗi năm.
II. TỔ CHỨC THỰC HIỆN
1. Bộ Nội vụ chủ trì, phối hợp với các bộ, ngành hướng dẫn thực hiện Nghị quyết này.
"""


def _copy(folder: Path, *stems: str) -> None:
    for stem in stems:
        shutil.copyfile(CORPUS / f"{stem}.txt", folder / f"{stem}.txt")


def _run(folder: Path, out: Path, *extra: str) -> int:
    return cli(["run", str(folder), "--out", str(out), "--jobs", "2", "--quiet", *extra])


def _documents(out: Path) -> dict[str, dict]:
    docs = {}
    for p in sorted(out.glob("*.json")):
        data = json.loads(p.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "metadata" in data:
            data.pop("timings", None)
            docs[p.stem] = data
    return docs


# The store's tables, each read in a stable order. Row numbers that depend on the order of
# inserts (assignments' rowid, which the FTS index shares) are left out: they are not content.
_TABLES = {
    "documents": "SELECT * FROM documents ORDER BY id",
    "document_json": "SELECT * FROM document_json ORDER BY id",
    "sections": "SELECT * FROM sections ORDER BY doc_id, section_id",
    "refs": "SELECT * FROM refs ORDER BY doc_id, idx",
    "agencies": "SELECT * FROM agencies ORDER BY node_id",
    "assignments": "SELECT doc_id, idx, task_id, agency, role, partners, task, deadline, missing_deadline, "
                   "missing_lead, missing_result FROM assignments ORDER BY doc_id, idx",
    "assignments_fts": "SELECT a.doc_id, a.idx, f.task, f.agency FROM assignments_fts f "
                       "JOIN assignments a ON a.rowid = f.rowid ORDER BY a.doc_id, a.idx",
    "task_sizes": "SELECT a.doc_id, a.idx, t.words FROM task_sizes t "
                  "JOIN assignments a ON a.rowid = t.assignment ORDER BY a.doc_id, a.idx",
    "targets": "SELECT * FROM targets ORDER BY doc_id, idx",
    "results": "SELECT * FROM results ORDER BY doc_id, idx",
    "deadlines": "SELECT * FROM deadlines ORDER BY doc_id, idx",
    "links": "SELECT * FROM links ORDER BY from_id, to_id, relation",
    "chains": "SELECT * FROM chains ORDER BY chain, pos",
    "link_docs": "SELECT * FROM link_docs ORDER BY id",
    "link_refs": "SELECT * FROM link_refs ORDER BY doc_id, idx",
    "link_doc_words": "SELECT * FROM link_doc_words ORDER BY word, doc_id",
    "link_ref_words": "SELECT * FROM link_ref_words ORDER BY word, doc_id, idx",
    "pending": "SELECT * FROM pending ORDER BY doc_id",
}


def _store(path: Path) -> dict[str, list[tuple]]:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return {name: db.execute(sql).fetchall() for name, sql in _TABLES.items()}
    finally:
        db.close()


def _assert_same_as_scratch(folder: Path, out: Path, tmp_path: Path, name: str) -> Path:
    scratch = tmp_path / f"scratch-{name}"
    assert _run(folder, scratch) == 0
    assert _documents(out) == _documents(scratch)
    assert (out / "links.json").read_text(encoding="utf-8") == (scratch / "links.json").read_text(encoding="utf-8")
    mine, theirs = _store(out / "vanban.sqlite"), _store(scratch / "vanban.sqlite")
    for table in _TABLES:
        assert mine[table] == theirs[table], table
    assert mine["pending"] == []
    return scratch


def _version_now() -> str:
    """The version this process's runs stamp (computed once per process; the killed run, a
    fresh process, computes its own: they differ when rules/ changed in between)."""
    from pipeline.version import pipeline_version

    return pipeline_version()


def _resolved(out: Path, doc_id: str) -> dict[str, str | None]:
    doc = json.loads((out / f"{doc_id}.json").read_text(encoding="utf-8"))
    return {r["canonical_id"]: r["resolved_to"] for r in doc["references"]}


def test_incremental_runs_end_like_runs_from_scratch(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    _copy(folder, PLAN, DAK_LAK, THAI_NGUYEN)
    assert _run(folder, out) == 0

    # added: the letter and the report, which cite the numberless plan (and a resolution
    # every plan cites); changed: Đắk Lắk's plan; removed: Thái Nguyên's plan
    _copy(folder, LETTER, REPORT)
    (folder / "nq-209.txt").write_text(RESOLUTION_209, encoding="utf-8")
    text = (folder / f"{DAK_LAK}.txt").read_text(encoding="utf-8")
    (folder / f"{DAK_LAK}.txt").write_text(text + "\n3. Sở Y tế chủ trì tổ chức khám sức khỏe định kỳ.\n",
                                           encoding="utf-8")
    (folder / f"{THAI_NGUYEN}.txt").unlink()
    assert _run(folder, out) == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    assert {d["id"]: d["action"] for d in report["documents"]}[PLAN] == "skipped"
    assert not (out / f"{THAI_NGUYEN}.json").exists()
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    assert _resolved(out, PLAN)["209/NQ-CP"] == "nq-209"  # an unchanged document, relinked
    _assert_same_as_scratch(folder, out, tmp_path, "added")

    # removed: the plan the letter and the report cite, and the resolution
    (folder / f"{PLAN}.txt").unlink()
    (folder / "nq-209.txt").unlink()
    assert _run(folder, out) == 0
    assert _resolved(out, LETTER)["664/KH-UBND"] is None
    assert _resolved(out, DAK_LAK)["209/NQ-CP"] is None
    _assert_same_as_scratch(folder, out, tmp_path, "removed")

    # nothing changed: the corpus step has nothing to do and rewrites nothing
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("[!.]*.json") if p.name != "run-report.json"}
    assert _run(folder, out) == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    assert report["corpus"]["pending_documents"] == 0 and report["corpus"]["relinked_references"] == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("[!.]*.json") if p.name != "run-report.json"} == before


def test_a_run_without_a_store_keeps_its_corpus_state_in_a_private_index(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _copy(folder, PLAN, LETTER)
    out = tmp_path / "out"
    assert _run(folder, out, "--no-db") == 0
    assert not (out / "vanban.sqlite").exists() and (out / ".vanban-index.sqlite").is_file()
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    (folder / f"{PLAN}.txt").unlink()
    assert _run(folder, out, "--no-db") == 0
    assert _resolved(out, LETTER)["664/KH-UBND"] is None


@pytest.mark.parametrize("store", ["db", "no-db"])
def test_a_forced_rerun_keeps_the_resolutions_of_unchanged_documents(tmp_path, store):
    """`--force` parses every file again. A worker's JSON has no `resolved_to` (linking is the
    corpus step's), and an unchanged document owes the step no relink: its output must
    still carry the resolutions the index holds, with or without a store."""
    folder = tmp_path / "in"
    folder.mkdir()
    _copy(folder, PLAN, LETTER)
    out = tmp_path / "out"
    extra = ("--no-db",) if store == "no-db" else ()
    assert _run(folder, out, *extra) == 0
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    first = _documents(out)
    assert _run(folder, out, "--force", *extra) == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    assert report["corpus"]["relinked_references"] == 0  # nothing changed, nothing relinked
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    assert _documents(out) == first
    if store == "db":
        _assert_same_as_scratch(folder, out, tmp_path, "forced")


def test_the_corpus_step_in_several_processes_ends_like_in_one(tmp_path, monkeypatch):
    """`--jobs 2` resolves references and rewrites documents in 2 processes (link.in_parallel):
    the same JSONs byte for byte, links.json and store as one process."""
    from pipeline.batch import driver
    from pipeline.corpus import link

    folder = tmp_path / "in"
    folder.mkdir()
    _copy(folder, PLAN, LETTER, REPORT, DAK_LAK, THAI_NGUYEN)
    (folder / "nq-209.txt").write_text(RESOLUTION_209, encoding="utf-8")
    monkeypatch.setattr(link, "PARALLEL_MIN_ITEMS", 1)  # a small corpus in parallel too
    monkeypatch.setattr(link, "PART_ITEMS", 3)  # in many parts, answered as they come
    calls = []
    in_parallel = link.in_parallel
    monkeypatch.setattr(link, "in_parallel", lambda *args: calls.append(args[0]) or in_parallel(*args))
    heard: dict[str, list] = {}  # what each run's corpus step told its progress
    monkeypatch.setattr(driver, "StepProgress", lambda quiet: _HeardProgress(heard.setdefault("run", [])))
    assert _run(folder, tmp_path / "two") == 0
    assert len(calls) == 2  # the references, then the documents to rewrite
    two_heard = heard.pop("run")
    assert cli(["run", str(folder), "--out", str(tmp_path / "one"), "--jobs", "1", "--quiet"]) == 0
    assert len(calls) == 2
    for name, events in (("one", heard.pop("run")), ("two", two_heard)):
        report = json.loads((tmp_path / name / "run-report.json").read_text(encoding="utf-8"))
        assert report["corpus"]["linked_documents"] > 0, name  # documents were rewritten
        # each phase counted up to its total, part by part (3 references a part)
        phases = [e for e in events if e[0] == "phase"]
        assert [p[1] for p in phases] == ["resolving references", "rewriting document JSONs",
                                          "writing links.json and the chains"]
        assert phases[0][2] == report["corpus"]["relinked_references"]
        assert phases[1][2] == report["corpus"]["linked_documents"] and phases[2][2] is None
        starts = [events.index(p) for p in phases]
        counted = [[e[1] for e in events[starts[i] + 1:starts[i + 1]] if e[0] == "advance"] for i in (0, 1)]
        assert all(sum(steps) == p[2] for steps, p in zip(counted, phases)), counted
        assert len(counted[0]) == -(-phases[0][2] // 3) and events[-1] == ("close",)
    names = sorted(p.name for p in (tmp_path / "one").glob("[!.]*.json") if p.name != "run-report.json")
    assert names == sorted(p.name for p in (tmp_path / "two").glob("[!.]*.json") if p.name != "run-report.json")
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    one, two = _store(tmp_path / "one" / "vanban.sqlite"), _store(tmp_path / "two" / "vanban.sqlite")
    for table in _TABLES:
        assert one[table] == two[table], table


class _HeardProgress:
    """A StepProgress that writes down what it is told."""

    def __init__(self, events: list):
        self.events = events

    def phase(self, desc, total=None, unit="it"):
        self.events.append(("phase", desc, total))

    def advance(self, count):
        self.events.append(("advance", count))

    def close(self):
        self.events.append(("close",))


# --- crash consistency: kill -9 at each boundary of the corpus step, then run again

KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    from pipeline.corpus import link, step, store
    from pipeline.cli import main

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    where = sys.argv.pop(1)
    if where == "after-documents":      # every document JSON published, the corpus step not begun
        step.finish_run = lambda *a, **k: die()
    elif where == "after-links":        # links.json written, the store's transaction not committed
        write_links = link.write_links
        link.write_links = lambda *a, **k: (write_links(*a, **k), die())
    elif where in ("during-store", "during-upsert"):
        # a document's rows replaced inside the corpus step's transaction, or inside the
        # transaction that stores a freshly parsed document
        name = "set_resolutions" if where == "during-store" else "write_rows"
        write = getattr(store.Store, name)

        def write_then_die(self, *a, **k):
            write(self, *a, **k)
            die()
        setattr(store.Store, name, write_then_die)
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("where", ["during-upsert", "during-upsert-by-a-worker", "after-documents", "after-links",
                                   "during-store"])
def test_a_run_killed_in_the_corpus_step_is_finished_by_the_next_run(tmp_path, where):
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    _copy(folder, PLAN, DAK_LAK)
    assert _run(folder, out) == 0
    _copy(folder, LETTER, REPORT)  # their references to the plan resolve in the corpus step
    # who stores a parsed document: the driver (killed: the whole run) or a worker (killed:
    # the driver hands its documents to a new worker, which dies too, and reports them failed)
    writes = "workers" if where == "during-upsert-by-a-worker" else "driver"
    killed = subprocess.run([sys.executable, "-c", KILLED_RUN, where.replace("-by-a-worker", ""), "run", str(folder),
                             "--out", str(out), "--jobs", "2", "--quiet", "--store-writes", writes],
                            cwd=REPO, capture_output=True)
    if writes == "workers":
        assert killed.returncode == 1, killed.stderr.decode()[-2000:]
        report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
        failed = {d["id"]: d["reason"] for d in report["documents"] if d["status"] == "failed"}
        assert set(failed) == {LETTER, REPORT}, failed
        assert all("died twice before writing it" in reason for reason in failed.values()), failed
        assert not (out / f"{LETTER}.json").exists()
        where = "during-upsert"
    else:
        assert killed.returncode == -9, killed.stderr.decode()[-2000:]
    if where == "after-links":  # the bug this guards against: the re-run saw nothing to do
        assert (out / "links.json").is_file()
    db = sqlite3.connect(out / "vanban.sqlite")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if where != "during-upsert":
        assert db.execute("SELECT count(*) FROM pending").fetchone()[0] > 0  # the step is still owed
    db.close()

    version_before = json.loads((out / f"{DAK_LAK}.json").read_text(encoding="utf-8"))["pipeline_version"]
    assert _run(folder, out) == 0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    redone = {d["id"] for d in report["documents"] if d["action"] == "processed"}
    if where == "during-upsert":  # the document being stored has no JSON: it is parsed again
        assert redone and redone <= {LETTER, REPORT}
    elif _version_now() == version_before:
        # every document is done: only the corpus step is redone (unless the rules or the
        # stage code were edited during the session: then every document is redone anyway)
        assert redone == set()
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    _assert_same_as_scratch(folder, out, tmp_path, where)


# --- stopped by a signal while the corpus step's processes work

SIGNALLED_RUN = textwrap.dedent("""
    import multiprocessing, os, signal, sys, time
    from pathlib import Path
    from pipeline.corpus import link
    from pipeline.cli import main

    signum, pids = getattr(signal, sys.argv.pop(1)), Path(sys.argv.pop(1))
    stopped = pids.with_suffix(".stopped")
    link.PARALLEL_MIN_ITEMS, link.PART_ITEMS = 1, 1  # a small corpus, in parallel, in many parts
    decide, in_parallel = link._decide, link.in_parallel

    def long_part(db, refs):  # in the processes: the parts begun once the driver is stopped last long
        answer = decide(db, refs)
        for _ in range(20):
            if stopped.exists():
                time.sleep(60)
                break
            time.sleep(0.1)
        return answer

    def stopped_at_first_answer(*args, **kwargs):  # in the driver
        for number, answer in enumerate(in_parallel(*args, **kwargs)):
            if number == 0:
                pids.write_text(" ".join(str(p.pid) for p in multiprocessing.active_children()))
                stopped.touch()
                os.kill(os.getpid(), signum)
            yield answer
    link._decide, link.in_parallel = long_part, stopped_at_first_answer
    sys.exit(main(sys.argv[1:]))
""")


def _gone(pid: int, seconds: float) -> bool:
    """True once the process `pid` has ended (or is a zombie) within `seconds`."""
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGKILL"])
def test_a_run_stopped_in_the_corpus_step_leaves_no_process_behind(tmp_path, signame):
    """Stopped while the corpus step's processes are busy: SIGTERM stops `vanban run` as
    Ctrl-C does (exit 143, its processes terminated); after SIGKILL, which no handler sees,
    the processes notice within a second or two that their driver is gone. Either way the
    next run ends like a run from scratch."""
    folder, out, pids = tmp_path / "in", tmp_path / "out", tmp_path / "pids"
    folder.mkdir()
    _copy(folder, PLAN, DAK_LAK)
    assert _run(folder, out) == 0
    _copy(folder, LETTER, REPORT)  # their references to the plan resolve in the corpus step
    stopped = subprocess.run([sys.executable, "-c", SIGNALLED_RUN, signame, str(pids), "run", str(folder),
                              "--out", str(out), "--jobs", "2", "--quiet"], cwd=REPO, capture_output=True,
                             timeout=50)  # processes left behind hold its pipes open for 60 s
    if signame == "SIGTERM":
        assert stopped.returncode == 143, stopped.stderr.decode()[-2000:]
        assert "vanban: terminated" in stopped.stderr.decode()
    else:
        assert stopped.returncode == -9
    children = [int(p) for p in pids.read_text().split()]
    assert children  # the corpus step was running in processes of its own
    assert all(_gone(pid, 5.0) for pid in children), children
    assert _run(folder, out) == 0
    assert _resolved(out, LETTER)["664/KH-UBND"] == PLAN
    _assert_same_as_scratch(folder, out, tmp_path, signame)


# --- one writer per store


def test_a_second_writer_on_the_same_store_stops_with_a_clear_message(tmp_path):
    from pipeline.corpus.store import writer_lock

    folder = tmp_path / "in"
    folder.mkdir()
    _copy(folder, LETTER)
    db = tmp_path / "shared.sqlite"
    held = writer_lock(db)  # another run (here: this process) is writing to it
    try:
        second = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(folder), "--out",
                                 str(tmp_path / "out2"), "--db", str(db), "--quiet"],
                                cwd=REPO, capture_output=True, text=True)
        assert second.returncode == 2
        assert f"another vanban run is writing to {db}" in second.stderr
        assert not (tmp_path / "out2" / f"{LETTER}.json").exists()  # it wrote nothing
    finally:
        held.close()
    assert _run(folder, tmp_path / "out3", "--db", str(db)) == 0  # free again
    assert _store(db)["documents"][0][0] == LETTER
