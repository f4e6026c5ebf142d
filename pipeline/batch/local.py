"""The local engine: a pool of worker processes, each with the next document waiting in its
pipe, a time limit per document, and a replacement for a worker that dies or is killed."""
from __future__ import annotations

import glob
import itertools
import os
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .jobs import Job
from .worker import failed_result, unanswered_result, limit_worker_memory, process_one, worker_memory_mb

MAX_TASKS_PER_WORKER = 500  # recycle a worker after this many documents (flat memory)
_temp_numbers = itertools.count()  # per worker process: with its pid, makes temporary names unique


def exit_with_parent(parent: int, writing=None) -> None:
    """A worker (or a corpus-step process) whose driver was killed stops within a second,
    even mid-document. Run it in a daemon thread.

    It waits for `writing` (a lock) if given, never stopping the worker between writing a
    temporary JSON and checking that the driver is still there to rename it.
    """
    while os.getppid() == parent:
        time.sleep(1.0)
    if writing is not None:
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


def _worker_loop(conn, rows: str | None, out_dir: str | None) -> None:
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
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the driver's handler (pipeline.cli): stop now
    limit_worker_memory()
    driver = os.getppid()
    writing = threading.Lock()
    threading.Thread(target=exit_with_parent, args=(driver, writing), daemon=True).start()
    while True:
        try:
            task = conn.recv()
            if task is None or os.getppid() != driver:  # done, or the driver was killed
                return
            path, doc_id = task
            conn.send(("started", doc_id))
            t0 = time.perf_counter()
            try:
                result = process_one(path, doc_id, rows)
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
                result = failed_result(doc_id, Path(path).suffix, stage, reason, time.perf_counter() - t0)
            conn.send(("done", result))
        except (EOFError, OSError):  # the driver is gone
            return


PREFETCH = 2  # documents sent to a worker ahead of its answers, at least: the one it parses and the next
# ... and, while its documents are light, as many as it parses in PREFETCH_SECONDS (at most
# MAX_PREFETCH): the driver stops reading for a few hundred ms when it commits a batch to the
# store, and a worker with only the next document waited out the rest. Measured on 2,000
# synthetic documents (~17 ms each): 4-7 % less time, one worker or two. Heavy documents keep
# PREFETCH, so the two workers still finish a run together.
PREFETCH_SECONDS = 0.5
MAX_PREFETCH = 16


SEND_BUFFER = 4 << 20  # bytes a worker may have in its pipe before it waits for the driver


def _widen_send_buffer(conn) -> None:
    """Let a worker put whole results in its pipe and go on to the next document.

    A result with its store rows is 100-430 kB on the seed corpus (~170 kB on the synthetic
    one), as much as a socket holds by default (~200 kB on Linux): the worker waited,
    mid-send, while the driver stored the result before it. Profiled on 2,000 synthetic
    documents with one worker: 1.1 ms a document blocked in the send before, 0.07 ms after.
    The kernel caps the size (net.core.wmem_max); below it, the worker waits as before."""
    import socket

    try:
        sock = socket.fromfd(conn.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)  # a dup: closing it keeps conn
    except (OSError, AttributeError):  # not a socket (Windows pipes)
        return
    with sock:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        except OSError:
            pass


class _Worker:
    """A worker process and the documents sent to it, oldest first."""

    def __init__(self, ctx, rows: str | None, out_dir: str | None):
        self.conn, child = ctx.Pipe()
        _widen_send_buffer(child)
        self.proc = ctx.Process(target=_worker_loop, args=(child, rows, out_dir), daemon=True)
        self.proc.start()
        child.close()
        self.queue: deque[Job] = deque()  # sent, not answered yet; queue[0] is parsed first
        self.started: float | None = None  # when the worker said it started queue[0]
        self.sent = 0  # documents sent over its lifetime (recycled at MAX_TASKS_PER_WORKER)
        self.done = 0  # documents it answered
        self.seconds: float | None = None  # a moving average of its documents' parse time

    def ahead(self) -> int:
        """How many documents to keep sent to it (see PREFETCH_SECONDS)."""
        if not self.seconds:
            return PREFETCH
        return max(PREFETCH, min(MAX_PREFETCH, int(PREFETCH_SECONDS / self.seconds)))

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
                seconds = payload.get("seconds") or 0.0
                self.seconds = seconds if self.seconds is None else 0.8 * self.seconds + 0.2 * seconds
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


def warm_up() -> None:
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


def run_local(jobs: list[Job], n_workers: int, timeout: float | None, rows: str | None,
              on_result: Callable[[Job, dict], None], out_dir: Path | None = None,
              on_idle: Callable[[], None] | None = None) -> None:
    """Parse `jobs` in a pool of worker processes with a per-document time limit.

    With `out_dir` the workers write each JSON there to a temporary file and the result
    names it (`json_tmp`); `on_result` renames or removes it. Without, results hold the text.
    `rows`: the kind of store rows the workers add to each result (worker.process_one).
    `on_idle` is called each time the driver wakes up (at least once a second), results or not.

    Each worker has PREFETCH documents sent ahead (more while its documents are light, see
    PREFETCH_SECONDS), so it starts the next one while the driver writes the last result.
    When a worker is killed (time limit) or dies, only the document it had started is
    reported; the ones still waiting in its pipe go to the front of the queue and are sent
    to its replacement.
    """
    from multiprocessing.connection import wait

    ctx = _mp_context()
    if ctx.get_start_method() == "fork":
        warm_up()
    pending = deque(jobs)
    out = None if out_dir is None else str(out_dir)
    workers = [_Worker(ctx, rows, out) for _ in range(max(1, min(n_workers, len(jobs))))]
    try:
        while True:
            for number, worker in enumerate(workers):
                if worker.sent >= MAX_TASKS_PER_WORKER and not worker.queue and pending:  # recycle it
                    worker.stop()
                    seconds = worker.seconds  # the documents are the same kind: as many ahead
                    workers[number] = worker = _Worker(ctx, rows, out)
                    worker.seconds = seconds
                while pending and len(worker.queue) < worker.ahead() and worker.sent < MAX_TASKS_PER_WORKER:
                    worker.give(pending.popleft())
            busy = [worker for worker in workers if worker.queue]
            if not busy:
                return
            deadlines = [w.started + timeout for w in busy if timeout is not None and w.started is not None]
            wait_for = max(0.0, min(deadlines) - time.perf_counter()) if deadlines else 1.0
            wait([x for worker in busy for x in (worker.conn, worker.proc.sentinel)], timeout=min(wait_for, 1.0))
            if on_idle is not None:
                on_idle()
            for number, worker in enumerate(workers):
                if not worker.queue:
                    continue
                for job, result in worker.receive():
                    on_result(job, result)
                if not worker.queue:
                    continue
                elapsed = 0.0 if worker.started is None else time.perf_counter() - worker.started
                if not worker.proc.is_alive():
                    stage, reason = "crash", _death_reason(worker.proc.exitcode)
                elif timeout is not None and worker.started is not None and elapsed > timeout:
                    stage, reason = "timeout", f"no result after {timeout:g} s: worker killed"
                else:
                    continue
                # Blame the document it was parsing. A worker that died between documents
                # blames none, unless it never finished one (then the first is the cause:
                # this way every replacement makes progress).
                blamed = worker.queue.popleft() if worker.started is not None or worker.done == 0 else None
                worker.stop(kill=True)
                worker.remove_temps(out, [blamed, *worker.queue] if blamed is not None else worker.queue)
                pending.extendleft(reversed(worker.queue))  # never started: redone elsewhere, once
                workers[number] = _Worker(ctx, rows, out)
                if blamed is not None:
                    on_result(blamed, unanswered_result(blamed, stage, reason, elapsed))
    finally:
        for worker in workers:
            worker.stop(kill=bool(worker.queue))
            worker.remove_temps(out, worker.queue)


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
