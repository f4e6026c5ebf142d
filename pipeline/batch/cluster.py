"""The Dask engine (`vanban run --engine dask`): the same task as the local engine, on a cluster."""
from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from .jobs import Job
from .worker import unanswered_result, process_bytes


def run_dask(jobs: list[Job], n_workers: int, scheduler: str | None, timeout: float | None, rows: str | None,
             on_result: Callable[[Job, dict], None], log: Callable[[str], None],
             on_idle: Callable[[], None] | None = None) -> None:
    """Parse `jobs` on a Dask cluster; the driver (this process) writes every result.
    `rows` and `on_idle`: as for `run_local`.

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
                    on_result(job, unanswered_result(job, "ingest", problem, 0.0))
                    continue
                fut = client.submit(process_bytes, job.path.name, data, job.id, rows,
                                    str(job.path), pure=False, key=f"vanban-{job.id}-{time.monotonic_ns()}")
                inflight[fut] = (job, time.perf_counter())
            if not inflight:  # the last files could not be read: nothing to wait for
                continue
            now = time.perf_counter()
            # wake at least once a second: on_idle commits the driver's batch while a long task runs
            wait_for = 1.0 if timeout is None else min(1.0, max(0.05, min(t + timeout for _, t in inflight.values()) - now))
            try:
                done, _ = wait(list(inflight), timeout=wait_for, return_when="FIRST_COMPLETED")
            except TimeoutError:  # older distributed raise instead of returning
                done = set()
            if on_idle is not None:
                on_idle()
            for fut in done:
                job, t0 = inflight.pop(fut)
                if fut.status == "finished":
                    on_result(job, fut.result())
                else:
                    reason = f"{type(fut.exception()).__name__}: {fut.exception()}" if fut.status == "error" else fut.status
                    on_result(job, unanswered_result(job, "crash", reason, time.perf_counter() - t0))
            if timeout is None:
                continue
            now = time.perf_counter()
            for fut, (job, t0) in list(inflight.items()):
                if now - t0 > timeout:
                    del inflight[fut]
                    _cancel_and_restart(client, fut)
                    on_result(job, unanswered_result(job, "timeout", f"no result after {timeout:g} s: task cancelled", now - t0))
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
