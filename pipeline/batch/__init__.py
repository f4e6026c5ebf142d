"""`vanban run DIR`: every document of a folder tree to JSON, in parallel, incrementally.

A run, step by step:

1. **discover** the files under DIR: `.txt .pdf .docx .doc`, hidden files and folders
   (`.name`), Office lock files (`~$name`) and our own output folders (OUT, or any folder
   holding a `.vanban-state.json`) are skipped.
2. **plan**: a document whose content hash (sha256 of the bytes) and pipeline version are
   unchanged since its output JSON was written is *skipped*; `--force` redoes everything.
   The truth is the output JSON itself (`source.sha256`, `pipeline_version`); the small
   manifest `OUT/.vanban-state.json` only saves rereading it (and rehashing inputs whose
   size and mtime are unchanged, as git and make do).
3. **parse** the others in worker processes (`--jobs`, default all cores): each worker runs
   `pipeline.parse.parse_file`, writes the document's JSON to a temporary file in OUT
   (`.<id>.<pid>.<n>.tmp`) and sends back its name, counts and timings (and the document's
   dict when the store needs it): serialising and writing happen in the workers, in
   parallel, and the driver only renames. Each worker has the next document waiting in its
   pipe, so it never idles while the driver works. A worker that exceeds `--timeout` seconds on one document
   (counted from when it starts that document) is killed and replaced: the document is
   reported `failed` at stage `timeout`. A worker that dies (segfault, out of memory) is
   reported at stage `crash`. The documents waiting in a killed worker's pipe are sent
   again. Workers are recycled every MAX_TASKS_PER_WORKER documents so their memory
   stays flat. `--engine dask` sends the same task to a Dask cluster instead.
4. **write**, in the driver, one document at a time: the SQLite store first (it commits per
   document), then the worker's temporary file is renamed to `OUT/<id>.json` (atomic). So
   an output JSON exists only for a document that is complete everywhere, and a run killed
   at any moment and started again redoes exactly the documents without output; the
   temporary files a killed run leaves are removed when the next run starts. (With
   `--engine dask` the workers may not share OUT's file system: they send the JSON text
   and the driver writes it, temporary file + rename.) A document that fails
   gets no JSON (an older JSON of it is removed): the output folder never claims more
   than the current files give.
5. **finish**: `pipeline.corpus.step.finish_run` links references across all current documents
   (processed and skipped, read back from their JSON), writes links.json and the graph.
6. **report**: `OUT/run-report.json` (schemas/run-report.schema.json) and a summary on
   stderr. Exit code 1 when a document failed or a stage raised on it (status `partial`),
   or when the corpus step failed; 0 otherwise; 2 for usage errors.

Document ids. The id is the file stem. Several files with the same stem *in one folder* are
the same document in several formats (a TXT and its DOCX/PDF renderings): one is processed,
by priority .txt > .docx > .pdf > .doc, and the others are listed in the run report as
"alternate format of <id>". Files with the same stem in *different* folders are different
documents (two provinces' `ke-hoach.pdf`): their ids are qualified by their folder relative
to DIR, `<folder>__<sub>__<stem>`; only the colliding ones are qualified.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import itertools
import json
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..version import pipeline_version
from ..stages.emit import publish, write_atomic, write_json

SUFFIX_PRIORITY = {".txt": 0, ".docx": 1, ".pdf": 2, ".doc": 3}
STATE_NAME = ".vanban-state.json"
LOCK_NAME = ".vanban.lock"
REPORT_NAME = "run-report.json"
REPORT_VERSION = "1.0"
MAX_TASKS_PER_WORKER = 500  # recycle a worker after this many documents (flat memory)
STATE_SAVE_INTERVAL = 2.0  # seconds between manifest saves during a run


class RunError(Exception):
    """A run that cannot start (output folder locked, a module missing): exit code 2."""


# ----------------------------------------------------------------------------- discovery


@dataclass
class Job:
    """One document to consider: the file chosen for it and its alternate formats."""

    id: str
    path: Path
    rel: str  # path relative to the input folder, for messages and the report
    alternates: list[str] = field(default_factory=list)  # rel paths of the other formats
    size: int = -1  # of the input, taken before it is parsed (a file edited meanwhile is redone)
    mtime_ns: int = -1


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def discover(root: Path, out_dir: Path | None = None) -> list[Path]:
    """The input files under `root`, sorted; hidden files and output folders skipped."""
    out_resolved = out_dir.resolve() if out_dir is not None else None
    found: list[Path] = []
    def unlisted(exc: OSError) -> None:  # a folder that cannot be listed: said, then skipped
        from ..stages.ingest import display_path

        sys.stderr.write(f"vanban: {display_path(exc.filename or root)}: folder skipped, cannot list it: "
                         f"{exc.strerror or exc}\n")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
        here = Path(dirpath)
        if (STATE_NAME in filenames and here != root) or (out_resolved is not None and here.resolve() == out_resolved):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in filenames:
            if not _is_hidden(name) and Path(name).suffix.lower() in SUFFIX_PRIORITY:
                found.append(here / name)
    return sorted(found)


def plan_jobs(files: Iterable[Path], root: Path) -> list[Job]:
    """Group files into documents (same folder + same stem) and give each an id."""
    groups: dict[tuple[Path, str], list[Path]] = {}
    for path in files:
        groups.setdefault((path.parent, path.stem), []).append(path)
    jobs: list[Job] = []
    for (_folder, stem), paths in groups.items():
        paths.sort(key=lambda p: (SUFFIX_PRIORITY.get(p.suffix.lower(), 9), p.name))
        chosen, others = paths[0], paths[1:]
        jobs.append(Job(stem, chosen, _rel(chosen, root), [_rel(p, root) for p in others]))
    # Same stem in different folders: different documents; qualify their ids by folder.
    stems = Counter(job.id for job in jobs)
    for job in jobs:
        if stems[job.id] > 1:
            folder = Path(job.rel).parent.parts
            job.id = "__".join([*folder, job.id]) if folder else job.id
    # A name that is not UTF-8 is shown with U+FFFD (ids, report, JSON stay valid text); two
    # such names that become the same id are told apart by a counter.
    from ..stages.ingest import display_path

    seen: Counter[str] = Counter()
    for job in sorted(jobs, key=lambda j: str(j.path)):
        job.id = display_path(job.id)
        seen[job.id] += 1
        if seen[job.id] > 1:
            job.id = f"{job.id}~{seen[job.id]}"
    return sorted(jobs, key=lambda j: j.rel)


def _rel(path: Path, root: Path) -> str:
    from ..stages.ingest import display_path

    try:
        return display_path(path.relative_to(root).as_posix())
    except ValueError:
        return display_path(str(path))


# ----------------------------------------------------------------------------- the worker task


def parse_document(path: Path):
    """The parse step of a worker (tests replace it to simulate a hanging stage)."""
    from ..parse import parse_file

    return parse_file(path)


_temp_numbers = itertools.count()  # per worker process: with its pid, makes temporary names unique


def process_one(path: str, doc_id: str, want_doc: bool, source_path: str | None = None) -> dict[str, Any]:
    """Parse one file and return what the driver needs: the JSON text, counts, timings.

    Runs in a worker process (local pool or Dask). `want_doc` adds the document dict
    (for the SQLite store); `source_path` overrides `source.path` when the worker parses a
    copy of the file (Dask ships bytes, so no shared file system is needed). The local
    workers then swap the text for a temporary file (`json_tmp`, see `_worker_loop`).
    Never raises: whatever goes wrong becomes a failed result naming the stage.
    """
    from ..parse import failed_document, memory_reason

    t0 = time.perf_counter()
    stage = "internal"
    try:
        try:
            doc = parse_document(Path(path))
        except MemoryError:
            doc = failed_document(Path(path), memory_reason(), stage="limit")
        except Exception as exc:  # parse_file should not raise; if it does, isolate it here
            doc = failed_document(Path(path), f"{type(exc).__name__}: {exc}", stage="internal")
        stage = "output"  # serialising and counting: a failure here is reported, not a dead worker
        return _result(doc, doc_id, want_doc, source_path, t0)
    except MemoryError:
        return _failed_result(doc_id, Path(path).suffix, "limit", memory_reason(), time.perf_counter() - t0)
    except Exception as exc:
        return _failed_result(doc_id, Path(path).suffix, stage, f"{type(exc).__name__}: {exc}",
                              time.perf_counter() - t0)


def _result(doc, doc_id: str, want_doc: bool, source_path: str | None, t0: float) -> dict[str, Any]:
    import resource

    from ..stages.emit import dumps, output_dict

    doc.id = doc_id
    if source_path is not None:
        doc.source.path = source_path
    data = output_dict(doc)  # the stage timings go to the run report, not into the JSON
    ok = doc.status != "failed"
    return {
        "id": doc_id,
        "status": doc.status,
        "format": doc.source.format,
        "sha256": doc.source.sha256,
        "errors": [{"stage": e.stage, "message": e.message} for e in doc.errors],
        "warnings": len(doc.warnings),
        # why a document without errors is partial: characters lost in its text (U+FFFD)
        "lost": next((w.message for w in doc.warnings if w.stage == "ingest" and (
            "(U+FFFD) in the text" in w.message or "(corrupt or truncated PDF): its text is missing" in w.message)),
            None),
        "pages": len(doc.pages),
        "references": len(doc.references),
        "assignments": len(doc.assignments),
        # directive-looking lines and those that yielded no assignment (Document.coverage)
        "directive_lines": doc.coverage.directive_sentences,
        "unassigned_lines": len(doc.coverage.unassigned),
        "text_bytes": len(doc.text.encode("utf-8")),
        "timings": dict(doc.timings),
        "json": dumps(data, pretty=False) + "\n" if ok else None,
        "json_tmp": None,
        "doc": data if ok and want_doc else None,
        "stable_json": _stable_json(data) if ok and want_doc else None,  # the store's form, made here in parallel
        "seconds": time.perf_counter() - t0,
        "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "pid": os.getpid(),
    }


def _stable_json(data: dict[str, Any]) -> str | None:
    try:
        from ..corpus.store import stable_json
    except ImportError:
        return None
    return stable_json(data)


def _process_bytes(file_name: str, data: bytes, doc_id: str, want_doc: bool, source_path: str) -> dict[str, Any]:
    """Dask task: write the shipped bytes to a private temporary file and parse it."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="vanban-") as tmp:
        path = Path(tmp) / file_name
        path.write_bytes(data)
        return process_one(str(path), doc_id, want_doc, source_path=source_path)


def _failure(job: Job, stage: str, reason: str, seconds: float) -> dict[str, Any]:
    """A result for a document whose worker never answered (timeout, crash)."""
    return _failed_result(job.id, job.path.suffix, stage, reason, seconds)


def _failed_result(doc_id: str, suffix: str, stage: str, reason: str, seconds: float) -> dict[str, Any]:
    return {
        "id": doc_id, "status": "failed", "format": suffix.lower().lstrip("."), "sha256": None,
        "errors": [{"stage": stage, "message": reason}], "warnings": 0, "pages": 0, "references": 0,
        "assignments": 0, "text_bytes": 0, "timings": {}, "json": None, "json_tmp": None, "doc": None,
        "seconds": seconds, "rss_kb": None, "pid": None,
    }


# ----------------------------------------------------------------------------- local engine


def _exit_with_parent(parent: int, writing) -> None:
    """A worker whose driver was killed stops within a second, even mid-document.

    It waits for `writing` (a lock), never stopping the worker between writing a
    temporary JSON and checking that the driver is still there to rename it.
    """
    while os.getppid() == parent:
        time.sleep(1.0)
    writing.acquire()
    os._exit(1)


def _write_temp_json(result: dict[str, Any], out_dir: str, driver: int) -> bool:
    """Swap the result's JSON text for a temporary file in `out_dir`; False if the driver is gone.

    Checked after writing: a file written while the driver lived is removed by the next
    run's start-up cleanup (`_remove_leftovers`), one written after is removed here.
    """
    from ..stages.emit import write_temp

    try:
        tmp = write_temp(Path(out_dir), f"{result['id']}.{os.getpid()}.{next(_temp_numbers)}",
                         result["json"].encode("utf-8"))
    except OSError:  # keep the text: the driver writes it (and reports what fails)
        return os.getppid() == driver
    if os.getppid() != driver:
        tmp.unlink(missing_ok=True)
        return False
    result["json"], result["json_tmp"] = None, str(tmp)
    return True


def _worker_loop(conn, want_doc: bool, out_dir: str | None) -> None:
    """Parse the documents the driver sends, one at a time, in the order sent.

    Two messages per document: ("started", id) just before parsing it, then ("done",
    result). The driver queues the next document in the pipe while this one is parsed (the
    worker never waits for it), so it counts the time limit from "started", not from sending.
    With `out_dir` the worker writes the JSON there itself, to a temporary file that the
    driver renames: serialising and writing then run in parallel, not in the driver.
    """
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's business
    limit_worker_memory()
    driver = os.getppid()
    writing = threading.Lock()
    threading.Thread(target=_exit_with_parent, args=(driver, writing), daemon=True).start()
    while True:
        try:
            task = conn.recv()
            if task is None or os.getppid() != driver:  # done, or the driver was killed
                return
            path, doc_id = task
            conn.send(("started", doc_id))
            t0 = time.perf_counter()
            try:
                result = process_one(path, doc_id, want_doc)
                if out_dir is not None and result["json"] is not None:
                    with writing:
                        if not _write_temp_json(result, out_dir, driver):
                            return  # the driver was killed: nobody would rename the file
            except (EOFError, OSError):
                raise
            except Exception as exc:  # reported with its stage, never a silently dead worker
                stage = "limit" if isinstance(exc, MemoryError) else "output"
                reason = f"{type(exc).__name__}: {exc}"
                if isinstance(exc, MemoryError):
                    from ..parse import memory_reason

                    reason = memory_reason()
                result = _failed_result(doc_id, Path(path).suffix, stage, reason, time.perf_counter() - t0)
            conn.send(("done", result))
        except (EOFError, OSError):  # the driver is gone
            return


WORKER_MEMORY_MB = 2048  # address-space limit of a local worker (VANBAN_WORKER_MEMORY_MB, --memory-mb; 0 = none)


def worker_memory_mb() -> int:
    """The memory limit of a worker in MB (0: none): VANBAN_WORKER_MEMORY_MB or the default."""
    try:
        return max(0, int(float(os.environ.get("VANBAN_WORKER_MEMORY_MB", WORKER_MEMORY_MB))))
    except ValueError:
        return WORKER_MEMORY_MB


def limit_worker_memory() -> None:
    """Cap this (worker) process's address space, so one document can never take the
    machine: past it an allocation fails with MemoryError (the document fails at stage
    `limit`) instead of the kernel killing processes."""
    mb = worker_memory_mb()
    try:
        import resource
    except ImportError:  # not POSIX
        return
    if not mb or not hasattr(resource, "RLIMIT_AS"):
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    want = mb * 2**20
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (want, hard))
    except (ValueError, OSError):
        pass


PREFETCH = 2  # documents sent to a worker ahead of its answers: the one it parses and the next


class _Worker:
    """A worker process and the documents sent to it, oldest first."""

    def __init__(self, ctx, want_doc: bool, out_dir: str | None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_loop, args=(child, want_doc, out_dir), daemon=True)
        self.proc.start()
        child.close()
        self.queue: deque[Job] = deque()  # sent, not answered yet; queue[0] is parsed first
        self.started: float | None = None  # when the worker said it started queue[0]
        self.sent = 0  # documents sent over its lifetime (recycled at MAX_TASKS_PER_WORKER)
        self.done = 0  # documents it answered

    def give(self, job: Job) -> None:
        self.queue.append(job)
        self.sent += 1
        try:
            self.conn.send((str(job.path), job.id))
        except OSError:  # it died: the driver sees that and sends the job elsewhere
            pass

    def receive(self) -> list[tuple[Job, dict]]:
        """Read every message already in the pipe; the results it holds, in order."""
        results = []
        while self.queue and self.conn.poll():
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):  # it died; the caller finds out from the process
                break
            if kind == "started":
                self.started = time.perf_counter()
            else:
                results.append((self.queue.popleft(), payload))
                self.started, self.done = None, self.done + 1
        return results

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.proc.kill()
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()

    def remove_temps(self, out_dir: str | None, jobs: Iterable[Job]) -> None:
        """Remove the temporary JSONs this (stopped) worker may have left for `jobs`."""
        if out_dir is None:
            return
        for job in jobs:
            for tmp in glob.glob(os.path.join(glob.escape(out_dir), f".{glob.escape(job.id)}.{self.proc.pid}.*.tmp")):
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def _warm_up() -> None:
    """Parse a tiny document in the driver before forking: the stages are imported and
    their rules loaded and compiled once, and every worker starts warm."""
    from ..model import SourceInfo, SourceText
    from ..parse import parse_source
    from ..rules import load

    text = load("warm_up")["text"]  # a short plan (rules/warm_up.yaml)
    info = SourceInfo("warm-up.txt", "warm-up.txt", "txt", "", len(text.encode()), "utf-8")
    parse_source(SourceText(text, info), "warm-up")  # a stage error here shows up again in the real run


def _mp_context():
    import multiprocessing as mp

    # fork starts a worker in milliseconds with the rules already loaded; elsewhere spawn.
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def run_local(jobs: list[Job], n_workers: int, timeout: float | None, want_doc: bool,
              on_result: Callable[[Job, dict], None], out_dir: Path | None = None) -> None:
    """Parse `jobs` in a pool of worker processes with a per-document time limit.

    With `out_dir` the workers write each JSON there to a temporary file and the result
    names it (`json_tmp`); `on_result` renames or removes it. Without, results hold the text.

    Each worker has up to PREFETCH documents sent ahead, so it starts the next one while the
    driver writes the last result. When a worker is killed (time limit) or dies, only the
    document it had started is reported; the ones still waiting in its pipe go to the front
    of the queue and are sent to its replacement.
    """
    from multiprocessing.connection import wait

    ctx = _mp_context()
    if ctx.get_start_method() == "fork":
        _warm_up()
    pending = deque(jobs)
    out = None if out_dir is None else str(out_dir)
    workers = [_Worker(ctx, want_doc, out) for _ in range(max(1, min(n_workers, len(jobs))))]
    try:
        while True:
            for i, w in enumerate(workers):
                if w.sent >= MAX_TASKS_PER_WORKER and not w.queue and pending:  # recycle it
                    w.stop()
                    workers[i] = w = _Worker(ctx, want_doc, out)
                while pending and len(w.queue) < PREFETCH and w.sent < MAX_TASKS_PER_WORKER:
                    w.give(pending.popleft())
            busy = [w for w in workers if w.queue]
            if not busy:
                return
            deadlines = [w.started + timeout for w in busy if timeout is not None and w.started is not None]
            wait_for = max(0.0, min(deadlines) - time.perf_counter()) if deadlines else 1.0
            wait([x for w in busy for x in (w.conn, w.proc.sentinel)], timeout=min(wait_for, 1.0))
            for i, w in enumerate(workers):
                if not w.queue:
                    continue
                for job, result in w.receive():
                    on_result(job, result)
                if not w.queue:
                    continue
                elapsed = 0.0 if w.started is None else time.perf_counter() - w.started
                if not w.proc.is_alive():
                    stage, reason = "crash", _death_reason(w.proc.exitcode)
                elif timeout is not None and w.started is not None and elapsed > timeout:
                    stage, reason = "timeout", f"no result after {timeout:g} s: worker killed"
                else:
                    continue
                # Blame the document it was parsing. A worker that died between documents
                # blames none, unless it never finished one (then the first is the cause:
                # this way every replacement makes progress).
                blamed = w.queue.popleft() if w.started is not None or w.done == 0 else None
                w.stop(kill=True)
                w.remove_temps(out, [blamed, *w.queue] if blamed is not None else w.queue)
                pending.extendleft(reversed(w.queue))  # never started: redone elsewhere, once
                workers[i] = _Worker(ctx, want_doc, out)
                if blamed is not None:
                    on_result(blamed, _failure(blamed, stage, reason, elapsed))
    finally:
        for w in workers:
            w.stop(kill=bool(w.queue))
            w.remove_temps(out, w.queue)


def _death_reason(exitcode: int | None) -> str:
    """Why a worker died, as far as the driver can tell (a Python exception never gets here:
    the worker reports it as the document's failure)."""
    import signal

    how = f"exit code {exitcode}"
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by {signal.Signals(-exitcode).name}, exit code {exitcode}"
        except ValueError:
            pass
    mb = worker_memory_mb()
    limit_note = f"; workers may use {mb} MB (--memory-mb)" if mb else ""
    return f"worker process died ({how}){limit_note}"


# ----------------------------------------------------------------------------- dask engine


def run_dask(jobs: list[Job], n_workers: int, scheduler: str | None, timeout: float | None, want_doc: bool,
             on_result: Callable[[Job, dict], None], log: Callable[[str], None]) -> None:
    """Parse `jobs` on a Dask cluster; the driver (this process) writes every result.

    The bytes of each file are shipped with its task, so workers need the `vanban` package
    but no shared file system. At most one task per worker thread is in flight, so a task
    starts as soon as it is submitted and its deadline can be counted from then; a task past
    its deadline is cancelled and its worker restarted (Dask cannot stop a running thread).
    """
    from dask.distributed import Client, LocalCluster, wait

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, n_workers), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    try:
        slots = max(1, sum(client.nthreads().values()))
        log(f"dask: {client.scheduler.address}, {len(client.nthreads())} workers, {slots} threads")
        pending = deque(jobs)
        inflight: dict[Any, tuple[Job, float]] = {}
        while pending or inflight:
            while pending and len(inflight) < slots:
                job = pending.popleft()
                from ..stages.ingest import file_problem

                problem = file_problem(job.path)  # never opens a FIFO or a device
                if problem is None:
                    try:
                        data = job.path.read_bytes()
                    except OSError as exc:
                        problem = f"cannot read file: {exc.strerror or exc}"
                if problem is not None:
                    on_result(job, _failure(job, "ingest", problem, 0.0))
                    continue
                fut = client.submit(_process_bytes, job.path.name, data, job.id, want_doc,
                                    str(job.path), pure=False, key=f"vanban-{job.id}-{time.monotonic_ns()}")
                inflight[fut] = (job, time.perf_counter())
            now = time.perf_counter()
            wait_for = None if timeout is None else max(0.05, min(t + timeout for _, t in inflight.values()) - now)
            try:
                done, _ = wait(list(inflight), timeout=wait_for, return_when="FIRST_COMPLETED")
            except TimeoutError:  # older distributed raise instead of returning
                done = set()
            for fut in done:
                job, t0 = inflight.pop(fut)
                if fut.status == "finished":
                    on_result(job, fut.result())
                else:
                    reason = f"{type(fut.exception()).__name__}: {fut.exception()}" if fut.status == "error" else fut.status
                    on_result(job, _failure(job, "crash", reason, time.perf_counter() - t0))
            if timeout is None:
                continue
            now = time.perf_counter()
            for fut, (job, t0) in list(inflight.items()):
                if now - t0 > timeout:
                    del inflight[fut]
                    _cancel_and_restart(client, fut)
                    on_result(job, _failure(job, "timeout", f"no result after {timeout:g} s: task cancelled", now - t0))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _exit_process() -> None:
    os._exit(1)


def _cancel_and_restart(client, fut) -> None:
    """Cancel `fut` and end the worker process stuck on it.

    Dask cannot stop a running thread, and a graceful restart waits for it; the worker's
    nanny (started by default by `dask worker`) replaces the process at once. The task is
    cancelled first, so the scheduler does not hand it to another worker. Best effort: the
    document is reported as timed out either way.
    """
    try:
        busy = [w for w, keys in client.processing().items() if fut.key in keys]
    except Exception:
        busy = []
    fut.cancel()
    if busy:
        try:
            client.run(_exit_process, workers=busy, on_error="return")  # the call dies with the worker
        except Exception:
            pass


# ----------------------------------------------------------------------------- state


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class State:
    """OUT/.vanban-state.json: what each output JSON was made from (a cache, never the truth).

    Entry per id: file, size, mtime_ns (of the input), sha256, pipeline_version, the
    document's counts, and the size/mtime of the JSON it describes. An entry is trusted
    only while the JSON on disk still has that size and mtime; otherwise the JSON is read.
    """

    def __init__(self, out: Path):
        self.path = out / STATE_NAME
        self.entries: dict[str, dict[str, Any]] = {}
        self.saved_at = time.perf_counter()
        self.save_seconds = 0.0  # how long the last save took
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") == 1:
                self.entries = data.get("documents", {})
        except (OSError, ValueError, AttributeError):
            pass

    def save(self) -> None:
        t0 = time.perf_counter()
        # ASCII escapes: a file name that is not UTF-8 (lone surrogates) round-trips exactly
        write_atomic(self.path, json.dumps({"version": 1, "documents": self.entries}) + "\n")
        self.saved_at = time.perf_counter()
        self.save_seconds = self.saved_at - t0

    def maybe_save(self) -> None:
        # The whole manifest is rewritten each time: on a big corpus, save less often so
        # saving stays under 2 % of the run (it is only a cache; the JSONs are the truth).
        if time.perf_counter() - self.saved_at > max(STATE_SAVE_INTERVAL, 50 * self.save_seconds):
            self.save()


def _json_stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _counts(doc: dict) -> dict[str, Any]:
    return {
        "status": doc.get("status"),
        "format": doc.get("source", {}).get("format"),
        "pages": len(doc.get("pages") or []),
        "references": len(doc.get("references") or []),
        "assignments": len(doc.get("assignments") or []),
        "directive_lines": (doc.get("coverage") or {}).get("directive_sentences", 0),
        "unassigned_lines": len((doc.get("coverage") or {}).get("unassigned") or []),
        "errors": [{"stage": e.get("stage"), "message": e.get("message")} for e in doc.get("errors") or []],
        "warnings": len(doc.get("warnings") or []),
        "text_bytes": len((doc.get("text") or "").encode("utf-8")),
    }


def unchanged_entry(job: Job, out: Path, state: State) -> dict[str, Any] | None:
    """The state entry of `job` when its output is up to date, else None."""
    json_path = out / f"{job.id}.json"
    json_stat = _json_stat(json_path)
    if json_stat is None:
        return None
    from ..stages.ingest import file_problem

    if file_problem(job.path) is not None:  # gone, a dangling link, a FIFO: the worker says why
        return None
    st = job.path.stat()
    entry = state.entries.get(job.id)
    fresh = entry is not None and tuple(entry.get("json_stat") or ()) == json_stat
    if fresh and entry.get("file") == str(job.path.resolve()) and (entry["size"], entry["mtime_ns"]) == (st.st_size, st.st_mtime_ns):
        sha = entry["sha256"]  # input untouched since it was hashed: no need to reread it
    else:
        sha = sha256_file(job.path)
    if not fresh:
        try:
            doc = json.loads(json_path.read_text(encoding="utf-8"))
            entry = {"sha256": doc["source"]["sha256"], "pipeline_version": doc["pipeline_version"], **_counts(doc)}
        except (OSError, ValueError, KeyError, TypeError):
            return None
    if entry.get("sha256") != sha or entry.get("pipeline_version") != pipeline_version():
        return None
    entry.update(file=str(job.path.resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns, json_stat=list(json_stat))
    state.entries[job.id] = entry
    return entry


# ----------------------------------------------------------------------------- progress


class Progress:
    """The progress of a run's documents on stderr, through tqdm.

    On a terminal: one bar (documents done of the total, rate, ETA, the file just finished),
    with failed documents printed above it as they happen. Anywhere else (a pipe, a log file,
    CI): nothing; the summary at the end says what happened. `quiet`: failures only, one
    line each.
    """

    def __init__(self, total: int, quiet: bool, stream=None):
        self.stream, self.quiet, self.bar = stream or sys.stderr, quiet, None
        if not quiet and total and _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, desc="vanban run", unit="doc", dynamic_ncols=True,
                            mininterval=0.1, smoothing=0.3)

    def update(self, rel: str, status: str, seconds: float) -> None:
        if status == "failed" and self.bar is not None:
            self.bar.write(f"vanban: {rel}: failed", file=self.stream)
        elif status == "failed" and self.quiet:
            self.stream.write(f"vanban: {rel}: failed\n")
        if self.bar is not None:
            self.bar.set_postfix_str(rel if len(rel) <= 40 else "…" + rel[-39:], refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False


# ----------------------------------------------------------------------------- the run


@dataclass
class RunOptions:
    out: Path = Path("outputs")
    jobs: int = 0  # 0 = all cores
    force: bool = False
    engine: str = "local"  # local | dask
    scheduler: str | None = None
    timeout: float | None = 120.0
    db: Path | None = None  # None = no store
    link: bool = True  # run pipeline.corpus.step.finish_run at the end
    graph: bool = False  # also write the graph exports (graph.json, .graphml, .gexf)
    report: bool = False  # also write OUT/report.html (`vanban run` does, unless --no-report)
    quiet: bool = False


def _lock(out: Path):
    """An exclusive lock on OUT, so two runs never write the same folder at once."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        return None
    fh = (out / LOCK_NAME).open("a")
    try:
        # lockf (POSIX record lock), not flock: it is not inherited by the forked workers,
        # so a worker left running by a killed driver does not block the next run.
        fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        fh.close()
        raise RunError(f"another vanban run is writing to {out}")
    return fh


def _remove_leftovers(out: Path) -> None:
    """Temporary files of a run that was killed (never a finished output).

    Both kinds are `.*.tmp`: the workers' unpublished JSONs (`.<id>.<pid>.<n>.tmp`) and
    the driver's own atomic writes (`.<name>.<random>.tmp`, see `emit.write_atomic`).
    """
    for tmp in out.glob(".*.tmp"):
        try:
            tmp.unlink()
        except OSError:
            pass


def run(root: Path, opts: RunOptions, files: list[Path] | None = None) -> dict[str, Any]:
    """Process the documents under `root` (or exactly `files`); returns the run report."""
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = opts.out
    out.mkdir(parents=True, exist_ok=True)
    lock = _lock(out)
    db_lock = None
    log = (lambda _m: None) if opts.quiet else (lambda m: sys.stderr.write(f"vanban: {m}\n"))
    try:
        _remove_leftovers(out)
        state = State(out)
        jobs = plan_jobs(discover(root, out) if files is None else files, root)

        # The store is also the corpus-level state (pipeline.corpus.link's index, and which documents
        # the corpus step still owes a relink); with --no-db a private lite index stands in.
        store = None
        store_path, store_lite = opts.db, False
        if opts.db is None and opts.link:
            from ..corpus.step import INDEX_NAME

            store_path, store_lite = out / INDEX_NAME, True
        if store_path is not None:
            try:
                from ..corpus.store import Store, writer_lock
            except ImportError as exc:
                raise RunError(f"the SQLite store is not available ({exc}); use --no-db") from exc
            try:  # one writer per store: a second run on it stops here, before writing anything
                db_lock = None if store_lite else writer_lock(store_path)  # OUT's lock covers the index
            except RuntimeError as exc:
                raise RunError(str(exc)) from exc
            store = Store(store_path, lite=store_lite)
        finish_run = None
        if opts.link:
            try:
                from ..corpus.step import finish_run
            except ImportError as exc:
                raise RunError(f"the corpus step is not available ({exc}); use --no-link") from exc

        records: dict[str, dict[str, Any]] = {}
        todo: list[Job] = []
        for job in jobs:
            try:
                entry = None if opts.force else unchanged_entry(job, out, state)
            except OSError:  # unreadable, or gone since it was listed: processed, and reported
                entry = None
            if entry is None:
                try:
                    st = job.path.stat()
                    job.size, job.mtime_ns = st.st_size, st.st_mtime_ns
                except OSError:  # a dangling link, a loop, a vanished file: the worker says why
                    pass
                todo.append(job)
            else:
                records[job.id] = _record(job, "skipped", entry)
        n_workers = opts.jobs or os.cpu_count() or 1
        log(f"{len(jobs)} documents in {root}: {len(jobs) - len(todo)} unchanged, {len(todo)} to process "
            f"({opts.engine} engine, {n_workers if opts.engine == 'local' or not opts.scheduler else 'cluster'} workers)")

        progress = Progress(len(todo), opts.quiet)
        peak_rss: dict[int, int] = {}

        def on_result(job: Job, result: dict[str, Any]) -> None:
            json_path = out / f"{job.id}.json"
            tmp = Path(result["json_tmp"]) if result.get("json_tmp") else None  # written by the worker
            if (result["json"] is not None or tmp is not None) and store is not None:
                try:  # the store first: an output JSON always means "in the store too"
                    doc = result["doc"]
                    if doc is None:
                        doc = json.loads(result["json"] if tmp is None else tmp.read_bytes())
                    store.upsert_document(doc, result.get("stable_json") if result["doc"] is not None else None)
                except Exception as exc:
                    if tmp is not None:
                        tmp.unlink(missing_ok=True)
                    tmp, result = None, {**result, "status": "failed", "json": None, "json_tmp": None,
                                         "errors": [{"stage": "store", "message": f"{type(exc).__name__}: {exc}"},
                                                    *result["errors"]]}
            if result["json"] is not None or tmp is not None:
                if tmp is not None:
                    publish(tmp, json_path)
                else:
                    write_atomic(json_path, result["json"])
                state.entries[job.id] = {  # the input's size and mtime as they were before parsing
                    "file": str(job.path.resolve()), "size": job.size, "mtime_ns": job.mtime_ns,
                    "sha256": result["sha256"], "pipeline_version": pipeline_version(),
                    "json_stat": list(_json_stat(json_path) or ()),
                    **{k: result[k] for k in ("status", "format", "pages", "references", "assignments",
                                              "directive_lines", "unassigned_lines", "errors", "warnings",
                                              "text_bytes")},
                }
            else:  # failed: no output, and no stale output from an older version either
                json_path.unlink(missing_ok=True)
                if store is not None:  # nor stale rows in the store
                    store.delete_document(job.id)
                state.entries.pop(job.id, None)
            if result["pid"] is not None and result["rss_kb"]:
                peak_rss[result["pid"]] = max(peak_rss.get(result["pid"], 0), result["rss_kb"])
            records[job.id] = _record(job, "processed", result)
            progress.update(job.rel, result["status"], result["seconds"])
            state.maybe_save()

        interrupted = True
        t_parse = time.perf_counter()
        try:
            if todo and opts.engine == "dask":
                run_dask(todo, n_workers, opts.scheduler, opts.timeout, store is not None, on_result, log)
            elif todo:
                run_local(todo, n_workers, opts.timeout, store is not None, on_result, out_dir=out)
            interrupted = False
        finally:
            progress.close()
            state.save()
            if store is not None and hasattr(store, "close"):
                store.close()
            if interrupted:
                log("interrupted: finished documents are saved; run again to do the rest")
        parse_seconds = time.perf_counter() - t_parse

        corpus: dict[str, Any] | None = None
        current = [j for j in jobs if records[j.id]["status"] != "failed"]
        if store is not None:
            t_link = time.perf_counter()
            store = Store(store_path, lite=store_lite)
            try:
                _sync_store(store, out, state, jobs, current, records)
                if finish_run is not None:
                    corpus = dict(finish_run(out, store, graph=opts.graph))
                    for doc_id in corpus.pop("rewritten", []):  # their JSON now says where they point
                        stat = _json_stat(out / f"{doc_id}.json")
                        if doc_id in state.entries and stat is not None:
                            state.entries[doc_id]["json_stat"] = list(stat)
                    corpus["seconds"] = round(time.perf_counter() - t_link, 3)
            except Exception as exc:  # per-document outputs are safe; say what failed
                import traceback

                traceback.print_exc()
                corpus = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                store.close()
            state.save()

        if opts.report:
            write_html_report(out, len(current), log)

        current_ids = {j.id for j in jobs}
        report = {
            "report_version": REPORT_VERSION,
            "pipeline_version": pipeline_version(),
            "input": str(root),
            "out": str(out),
            "engine": opts.engine,
            "workers": n_workers,
            "forced": opts.force,
            "started": started,
            "seconds": round(time.perf_counter() - t_start, 3),
            "summary": _summary(records, len(todo), parse_seconds, time.perf_counter() - t_start,
                                max(peak_rss.values(), default=None)),
            "documents": [records[j.id] for j in jobs],
            "alternates": [{"file": alt, "id": j.id, "reason": f"alternate format of {j.id}"}
                           for j in jobs for alt in j.alternates],
            "stale": sorted(i for i in state.entries if i not in current_ids),
            "corpus": corpus,
        }
        write_json(out / REPORT_NAME, report)
        return report
    finally:
        if lock is not None:
            lock.close()
        if db_lock is not None:
            db_lock.close()


REPORT_MAX_DOCUMENTS = 100  # above this, `vanban run` leaves the HTML report to `vanban report`


def write_html_report(out: Path, documents: int, log: Callable[[str], None]) -> Path | None:
    """OUT/report.html (pipeline.corpus.report) at the end of a run of at most REPORT_MAX_DOCUMENTS
    documents. The page holds every document's text and diffs every pair of plans: for a
    larger run it is written on request only (`vanban report`). A report that cannot be
    written is said on stderr; the run's own outputs are complete without it."""
    from ..corpus.report import REPORT_NAME, write_report

    if documents > REPORT_MAX_DOCUMENTS:
        log(f"{REPORT_NAME} not written: {documents} documents, more than {REPORT_MAX_DOCUMENTS} "
            f"(`vanban report --run {out}` writes it)")
        return None
    try:
        path = write_report(out)
    except Exception as exc:  # a bug in the report must not lose the run report
        sys.stderr.write(f"vanban: {out / REPORT_NAME} not written: {type(exc).__name__}: {exc}\n")
        return None
    if path is not None:
        log(f"wrote {path}")
    return path


def _sync_store(store, out: Path, state: State, jobs: list[Job], current: list[Job],
                records: dict[str, dict[str, Any]]) -> None:
    """The store holds exactly the current documents: the unchanged ones it lacks (a new
    store, or one another tool emptied) are added from their JSON, and documents whose file
    is gone are removed (with their JSON). Each change marks the document pending."""
    stored = {r[0] for r in store.db.execute("SELECT id FROM documents")}
    for job in current:
        if job.id not in stored and records[job.id]["action"] == "skipped":
            store.upsert_document(json.loads((out / f"{job.id}.json").read_text(encoding="utf-8")))
    listed = {j.id for j in jobs}
    for doc_id in sorted(stored - listed):  # the JSON first: killed in between, the store still says "remove it"
        (out / f"{doc_id}.json").unlink(missing_ok=True)
        state.entries.pop(doc_id, None)
        store.delete_document(doc_id)


def _record(job: Job, action: str, r: dict[str, Any]) -> dict[str, Any]:
    """One document's line in the run report."""
    rec: dict[str, Any] = {
        "id": job.id, "file": job.rel, "format": r.get("format") or job.path.suffix.lower().lstrip("."),
        "action": action, "status": r["status"],
        "output": f"{job.id}.json" if r["status"] != "failed" else None,
        "pages": r.get("pages", 0), "references": r.get("references", 0), "assignments": r.get("assignments", 0),
        "directive_lines": r.get("directive_lines", 0), "unassigned_lines": r.get("unassigned_lines", 0),
        "text_bytes": r.get("text_bytes", 0), "warnings": r.get("warnings", 0), "errors": r.get("errors", []),
    }
    if r["status"] == "failed" and rec["errors"]:
        rec["stage"], rec["reason"] = rec["errors"][0]["stage"], rec["errors"][0]["message"]
    elif r["status"] == "partial" and r.get("lost"):
        rec["stage"], rec["reason"] = "ingest", r["lost"]
    if job.alternates:
        rec["alternates"] = list(job.alternates)
    if action == "processed":
        rec["seconds"] = round(r["seconds"], 4)
        rec["timings"] = {k: round(v, 5) for k, v in r.get("timings", {}).items()}
    return rec


def _summary(records: dict[str, dict], processed: int, parse_seconds: float, seconds: float,
             peak_rss_kb: int | None) -> dict[str, Any]:
    recs = list(records.values())
    done = [r for r in recs if r["action"] == "processed"]
    stage_seconds: Counter[str] = Counter()
    for r in done:
        stage_seconds.update(r.get("timings", {}))
    return {
        "documents": len(recs),
        "processed": processed,
        "skipped": sum(r["action"] == "skipped" for r in recs),
        "by_status": dict(Counter(r["status"] for r in recs)),
        "pages": sum(r["pages"] for r in recs),
        "references": sum(r["references"] for r in recs),
        "assignments": sum(r["assignments"] for r in recs),
        "directive_lines": sum(r.get("directive_lines", 0) for r in recs),
        "unassigned_lines": sum(r.get("unassigned_lines", 0) for r in recs),
        "errors": sum(len(r["errors"]) for r in recs),
        "seconds": round(seconds, 3),
        "parse_seconds": round(parse_seconds, 3),
        "documents_per_second": round(processed / parse_seconds, 2) if processed and parse_seconds > 0 else None,
        "megabytes_per_second": round(sum(r["text_bytes"] for r in done) / 1e6 / parse_seconds, 3)
        if processed and parse_seconds > 0 else None,
        "stage_seconds": {k: round(v, 4) for k, v in stage_seconds.items()},
        "peak_worker_rss_mb": round(peak_rss_kb / 1024, 1) if peak_rss_kb else None,
        "driver_peak_rss_mb": _driver_rss_mb(),
    }


def _driver_rss_mb() -> float | None:
    """Peak resident memory of this process (the driver; its forked workers not included)."""
    try:
        import resource
    except ImportError:
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def print_summary(report: dict[str, Any], out=None) -> None:
    from ..corpus.report_assets import plural

    out = out or sys.stderr
    s = report["summary"]
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(s["by_status"].items())) or "none"
    lines = [
        f"vanban run: {plural(s['documents'], 'document')} ({s['processed']} processed, {s['skipped']} unchanged, "
        f"{plural(len(report['alternates']), 'alternate format')})",
        f"  status: {statuses}",
        f"  {plural(s['pages'], 'page')}, {plural(s['references'], 'reference')}, "
        f"{plural(s['assignments'], 'assignment')}, {plural(s['errors'], 'error')}",
        f"  time {s['seconds']:.2f} s" + (f", {s['documents_per_second']:.1f} documents/s, "
                                           f"{s['megabytes_per_second']:.2f} MB/s of text"
                                           if s["documents_per_second"] else ""),
    ]
    if s.get("directive_lines"):
        lines.append(f"  coverage: {s['unassigned_lines']} of {plural(s['directive_lines'], 'directive-looking line')} "
                     "gave no assignment (each document's JSON lists them under coverage.unassigned)")
        most = sorted((r for r in report["documents"] if r.get("unassigned_lines")),
                      key=lambda r: -r["unassigned_lines"])[:5]
        for r in most:
            lines.append(f"    {r['unassigned_lines']:>4} of {r['directive_lines']:>4}  {r['file']}")
    for r in report["documents"]:
        if r["errors"]:
            for e in r["errors"]:
                lines.append(f"  {r['status']}: {r['file']} [{e['stage']}] {e['message']}")
        if r.get("reason") and r["status"] == "partial":
            lines.append(f"  {r['status']}: {r['file']} [{r['stage']}] {r['reason']}")
    corpus = report.get("corpus") or {}
    if "error" in corpus:
        lines.append(f"  corpus step failed: {corpus['error']}")
    elif corpus:
        lines.append("  corpus: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in corpus.items()
                                               if isinstance(v, (int, float))))
    lines.append(f"  report: {Path(report['out']) / REPORT_NAME}")
    out.write("\n".join(lines) + "\n")


def exit_code(report: dict[str, Any]) -> int:
    bad = any(r["status"] in ("failed", "partial") for r in report["documents"])
    return 1 if bad or "error" in (report.get("corpus") or {}) else 0


# ----------------------------------------------------------------------------- command line


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", type=Path, help="folder of documents (searched recursively)")
    p.add_argument("--out", type=Path, default=Path("outputs"), help="output folder (default: outputs/)")
    p.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (default: all cores)")
    p.add_argument("--force", action="store_true", help="reprocess documents even when unchanged")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://host:8786 (default with --engine dask: a local cluster)")
    p.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="time limit per document (default 120; 0 = none)")
    db = p.add_mutually_exclusive_group()
    db.add_argument("--db", type=Path, metavar="PATH", help="SQLite store (default: OUT/vanban.sqlite)")
    db.add_argument("--no-db", action="store_true", help="do not write the SQLite store")
    p.add_argument("--no-link", action="store_true",
                   help="skip the corpus step (links, chains): per-document outputs only")
    p.add_argument("--graph", action="store_true",
                   help="also write the graph exports graph.json, graph.graphml, graph.gexf (see `vanban export graph`)")
    p.add_argument("--no-report", action="store_true",
                   help=f"do not write OUT/report.html (written by default for runs of at most "
                        f"{REPORT_MAX_DOCUMENTS} documents; `vanban report` writes it on request)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary; failures only")
    lim = p.add_argument_group("limits per document (README, Limits; 0 keeps the default)")
    lim.add_argument("--memory-mb", type=int, metavar="MB",
                     help=f"address space of a worker process (default {WORKER_MEMORY_MB}; -1 = no limit)")
    lim.add_argument("--max-docx-mb", type=float, metavar="MB",
                     help="unpacked size of a DOCX, all parts together (default 256; one part: 64)")
    lim.add_argument("--max-pdf-pages", type=int, metavar="N", help="pages of a PDF (default 2000)")
    lim.add_argument("--max-text-mb", type=float, metavar="MB", help="size of a .txt file (default 20)")
    lim.add_argument("--max-file-mb", type=float, metavar="MB", help="size of any input file (default 256)")


# The limit flags of `vanban run` and the environment variables that carry them to the
# workers (pipeline.stages.ingest reads its own; worker_memory_mb reads the memory one).
LIMIT_FLAGS = {
    "memory_mb": "VANBAN_WORKER_MEMORY_MB",
    "max_docx_mb": "VANBAN_MAX_DOCX_MB",
    "max_pdf_pages": "VANBAN_MAX_PDF_PAGES",
    "max_text_mb": "VANBAN_MAX_TEXT_MB",
    "max_file_mb": "VANBAN_MAX_FILE_MB",
}


def _apply_limit_flags(args: argparse.Namespace) -> str | None:
    """Set the environment from the limit flags; an error message for a bad value."""
    for flag, env in LIMIT_FLAGS.items():
        value = getattr(args, flag, None)
        if value is None or value == 0:
            continue
        if flag == "memory_mb" and value == -1:
            os.environ[env] = "0"  # no limit
            continue
        if value < 0:
            return f"--{flag.replace('_', '-')} must be > 0"
        os.environ[env] = str(value)
        if flag == "max_docx_mb":  # one part can never be larger than the whole
            from ..stages.ingest import limit

            if limit("MAX_DOCX_PART_MB") > value:
                os.environ["VANBAN_MAX_DOCX_PART_MB"] = str(value)
    return None


def main(args: argparse.Namespace) -> int:
    if not args.input.is_dir():
        sys.stderr.write(f"vanban: {args.input}: not a folder\n")
        return 2
    if args.jobs < 0 or args.timeout < 0:
        sys.stderr.write("vanban: --jobs and --timeout must be >= 0\n")
        return 2
    if args.scheduler and args.engine != "dask":
        sys.stderr.write("vanban: --scheduler needs --engine dask\n")
        return 2
    bad_limit = _apply_limit_flags(args)
    if bad_limit:
        sys.stderr.write(f"vanban: {bad_limit}\n")
        return 2
    if args.engine == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            sys.stderr.write("vanban: --engine dask needs dask.distributed: pip install 'vanban[dask]'\n")
            return 2
    opts = RunOptions(
        out=args.out, jobs=args.jobs, force=args.force, engine=args.engine, scheduler=args.scheduler,
        timeout=args.timeout or None, db=None if args.no_db else (args.db or args.out / "vanban.sqlite"),
        link=not args.no_link, graph=args.graph and not args.no_link, report=not args.no_report, quiet=args.quiet,
    )
    try:
        report = run(args.input, opts)
    except RunError as exc:
        sys.stderr.write(f"vanban: {exc}\n")
        return 2
    if not args.quiet:
        print_summary(report)
    return exit_code(report)
