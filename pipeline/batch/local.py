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
STOP_SECONDS = 60.0  # how long a stopping worker may take to write what waits
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


def _worker_loop(conn, rows: str | None, out_dir: str | None, store: tuple[str, bool] | None = None) -> None:
    """Parse the documents the driver sends, one at a time, in the order sent.

    Two messages per document: ("started", id) just before parsing it, then ("done",
    result). The driver queues the next document in the pipe while this one is parsed (the
    worker never waits for it), so it counts the time limit from "started", not from sending.
    With `out_dir` the worker writes the JSON there itself, to a temporary file that the
    driver renames: serialising and writing then run in parallel, not in the driver.

    With `store` (its path, and whether it is lite) the worker also writes its results: in
    batches, into the store (`ResultWriter`), then publishing their JSONs, and says so with
    ("written", [(id, result, json_stat), ...]). Its "done" then carries no JSON or rows,
    only what the driver schedules by. Told to stop (None), it writes what waits first.
    """
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's business
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the driver's handler (pipeline.cli): stop now
    limit_worker_memory()
    driver = os.getppid()
    writing = threading.Lock()
    threading.Thread(target=exit_with_parent, args=(driver, writing), daemon=True).start()
    writer = _WorkerWriter(conn, out_dir, store) if store is not None and out_dir is not None else None
    while True:
        try:
            due = None if writer is None else writer.seconds_left()
            # nothing to parse before the waiting batch is due: as if told to write it (FLUSH)
            task = conn.recv() if due is None or conn.poll(due) else FLUSH
            alive = os.getppid() == driver
            if writer is not None and alive and (task == FLUSH or task is None):  # write what waits
                with writing:
                    writer.flush()
            if task == FLUSH:
                continue
            if task is None or not alive:  # done, or the driver was killed
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
            if writer is None:
                conn.send(("done", result))
                continue
            conn.send(("done", {"seconds": result["seconds"]}))
            with writing:  # never stopped between the commit and the renames
                writer.add(doc_id, result)
        except (EOFError, OSError):  # the driver is gone
            return


class _WorkerWriter:
    """A worker's ResultWriter, on its own connection to the store (opened here, after the
    fork: a SQLite connection never crosses one). What each write did goes to the driver in
    one message, without the JSON texts and rows: they are in the store and OUT by then."""

    def __init__(self, conn, out_dir: str, store: tuple[str, bool]):
        from ..corpus.store import Store
        from .writer import ResultWriter

        path, lite = store
        db = Store(path, lite=lite)
        db.prepare_bulk_writes(checkpoints=False)  # the driver checkpoints (run_local's caller)
        self.conn, self.written = conn, []
        self.writer = ResultWriter(Path(out_dir), db, self._on_written)

    def _on_written(self, doc_id: str, result: dict, json_stat: tuple | None) -> None:
        self.written.append((doc_id, {**result, "json": None, "json_tmp": None, "rows": None}, json_stat))

    def add(self, doc_id: str, result: dict) -> None:
        self.writer.add(doc_id, result, wait=False)  # a busy store: parse the next one first
        self._tell()

    def flush(self) -> None:
        self.writer.flush()
        self._tell()

    def seconds_left(self) -> float | None:
        return self.writer.seconds_left()

    def _tell(self) -> None:
        if self.written:
            self.conn.send(("written", self.written))
            self.written = []


FLUSH = "flush"  # the driver's message to a worker that writes: nothing more to send you for now

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

    def __init__(self, ctx, rows: str | None, out_dir: str | None, store: tuple[str, bool] | None = None):
        self.conn, child = ctx.Pipe()
        _widen_send_buffer(child)
        self.proc = ctx.Process(target=_worker_loop, args=(child, rows, out_dir, store), daemon=True)
        self.proc.start()
        child.close()
        self.writes = store is not None  # it writes its results itself ("written" messages)
        self.queue: deque[Job] = deque()  # sent, not answered yet; queue[0] is parsed first
        self.unwritten: dict[str, Job] = {}  # answered, not yet written (when it writes)
        self.flushing = False  # asked to write what waits (FLUSH), nothing sent since
        self.started: float | None = None  # when the worker said it started queue[0]
        self.sent = 0  # documents sent over its lifetime (recycled at MAX_TASKS_PER_WORKER)
        self.done = 0  # documents it answered
        self.seconds: float | None = None  # a moving average of its documents' parse time

    def busy(self) -> bool:
        return bool(self.queue or self.unwritten)

    def ahead(self) -> int:
        """How many documents to keep sent to it (see PREFETCH_SECONDS)."""
        if not self.seconds:
            return PREFETCH
        return max(PREFETCH, min(MAX_PREFETCH, int(PREFETCH_SECONDS / self.seconds)))

    def give(self, job: Job) -> None:
        self.queue.append(job)
        self.sent += 1
        self.flushing = False
        self._send((str(job.path), job.id))

    def flush(self) -> None:
        """Nothing more to send it for now: have it write what waits, once."""
        if self.unwritten and not self.queue and not self.flushing:
            self.flushing = True
            self._send(FLUSH)

    def _send(self, message) -> None:
        try:
            self.conn.send(message)
        except OSError:  # it died: the driver sees that and sends the job elsewhere
            pass

    def receive(self, on_result: Callable[[Job, dict], None],
                on_written: Callable[[Job, dict, tuple | None], None] | None) -> None:
        """Read every message already in the pipe, and hand on the results it holds, in order:
        a worker that writes gives them to `on_written` once written, others to `on_result`."""
        while self.busy() and self.conn.poll():
            try:
                kind, payload = self.conn.recv()
            except (EOFError, OSError):  # it died; the caller finds out from the process
                break
            if kind == "started":
                self.started = time.perf_counter()
            elif kind == "written":
                for doc_id, result, json_stat in payload:
                    on_written(self.unwritten.pop(doc_id), result, json_stat)
            else:
                job = self.queue.popleft()
                self.started, self.done = None, self.done + 1
                seconds = payload.get("seconds") or 0.0
                self.seconds = seconds if self.seconds is None else 0.8 * self.seconds + 0.2 * seconds
                if self.writes:
                    self.unwritten[job.id] = job
                else:
                    on_result(job, payload)

    def stop(self, kill: bool = False, on_result=None, on_written=None) -> None:
        """Stop it; unless killed, it first writes what waits, and `receive` hands that on."""
        if kill:
            self.proc.kill()
        else:
            self._send(None)
            deadline = time.monotonic() + STOP_SECONDS
            while self.unwritten and time.monotonic() < deadline and (self.proc.is_alive() or self.conn.poll()):
                if self.conn.poll(0.1):
                    self.receive(on_result, on_written)
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
              on_idle: Callable[[], None] | None = None, store: tuple[str, bool] | None = None,
              on_written: Callable[[Job, dict, tuple | None], None] | None = None) -> None:
    """Parse `jobs` in a pool of worker processes with a per-document time limit.

    With `out_dir` the workers write each JSON there to a temporary file and the result
    names it (`json_tmp`); `on_result` renames or removes it. Without, results hold the text.
    `rows`: the kind of store rows the workers add to each result (worker.process_one).
    `on_idle` is called each time the driver wakes up (at least once a second), results or not.

    With `store` (its path, and whether it is lite) and `out_dir`, the workers write the
    store and publish the JSONs themselves, in batches, and each result comes to
    `on_written(job, result, json_stat)` once written; `on_result` then only gets the results
    the driver makes itself (a document whose worker died or was killed). The workers'
    commits do not checkpoint the store's WAL: the caller does (`Store.checkpoint`), so the
    workers do not wait for the copy and its fsync.

    Each worker has PREFETCH documents sent ahead (more while its documents are light, see
    PREFETCH_SECONDS), so it starts the next one while the driver writes the last result.
    When a worker is killed (time limit) or dies, only the document it had started is
    reported; the ones still waiting in its pipe, and those it had parsed but not yet
    written, go to the front of the queue and are sent to its replacement (the unwritten
    ones once: a document whose writer died twice is reported).
    """
    from multiprocessing.connection import wait

    ctx = _mp_context()
    if ctx.get_start_method() == "fork":
        warm_up()
    pending = deque(jobs)
    out = None if out_dir is None else str(out_dir)
    store = store if out is not None else None

    def new_worker() -> _Worker:
        return _Worker(ctx, rows, out, store)

    workers = [new_worker() for _ in range(max(1, min(n_workers, len(jobs))))]
    requeued: set[str] = set()  # parsed, then lost with their worker before written: redone once

    def hand_on(worker: _Worker, front: list[Job], reason: str) -> None:
        """Send `front` (the documents a stopped worker had not started) and those it parsed but
        never wrote to the front of the queue; an unwritten one lost a second time is reported."""
        unwritten = list(worker.unwritten.values())
        worker.unwritten.clear()
        lost = [job for job in unwritten if job.id in requeued]
        again = [job for job in unwritten if job.id not in requeued]
        requeued.update(job.id for job in again)
        pending.extendleft(reversed(again + front))
        for job in lost:
            on_result(job, unanswered_result(job, "crash", f"its worker died twice before writing it: {reason}", 0.0))

    try:
        while True:
            for number, worker in enumerate(workers):
                if worker.sent >= MAX_TASKS_PER_WORKER and not worker.queue and pending:  # recycle it
                    worker.stop(on_result=on_result, on_written=on_written)  # it writes what waits first
                    hand_on(worker, [], _death_reason(worker.proc.exitcode))  # unless it died meanwhile
                    seconds = worker.seconds  # the documents are the same kind: as many ahead
                    workers[number] = worker = new_worker()
                    worker.seconds = seconds
                while pending and len(worker.queue) < worker.ahead() and worker.sent < MAX_TASKS_PER_WORKER:
                    worker.give(pending.popleft())
                if not pending:
                    worker.flush()
            busy = [worker for worker in workers if worker.busy()]
            if not busy:
                return
            deadlines = [w.started + timeout for w in busy if timeout is not None and w.started is not None]
            wait_for = max(0.0, min(deadlines) - time.perf_counter()) if deadlines else 1.0
            wait([x for worker in busy for x in (worker.conn, worker.proc.sentinel)], timeout=min(wait_for, 1.0))
            if on_idle is not None:
                on_idle()
            for number, worker in enumerate(workers):
                if not worker.busy():
                    continue
                worker.receive(on_result, on_written)
                if not worker.busy():
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
                blamed = (worker.queue.popleft() if worker.queue and (worker.started is not None or worker.done == 0)
                          else None)
                worker.stop(kill=True)
                worker.remove_temps(out, [*([blamed] if blamed is not None else []), *worker.queue,
                                          *worker.unwritten.values()])
                hand_on(worker, list(worker.queue), reason)  # never started, or never written: redone elsewhere
                workers[number] = new_worker()
                if blamed is not None:
                    on_result(blamed, unanswered_result(blamed, stage, reason, elapsed))
    finally:
        for worker in workers:
            worker.stop(kill=bool(worker.queue), on_result=on_result, on_written=on_written)
            worker.remove_temps(out, [*worker.queue, *worker.unwritten.values()])


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
