"""`run()`: one run of the engine, from the folder to OUT and the run report (the steps are in
the package's docstring, pipeline/batch/__init__.py)."""
from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..stages.emit import write_json
from ..version import pipeline_version
from .cluster import run_dask
from .jobs import Job, discover, plan_jobs
from .local import run_local
from .progress import Progress, StepProgress
from .state import State, size_and_mtime, unchanged_entry, written_entry
from .writer import ResultWriter

LOCK_NAME = ".vanban.lock"
CHECKPOINT_DOCUMENTS = 200  # documents written by the workers between two checkpoints (~10,000 WAL pages)
REPORT_NAME = "run-report.json"
REPORT_VERSION = "1.0"


class RunError(Exception):
    """A run that cannot start (output folder locked, a module missing): exit code 2."""


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
    store_writes: str = "auto"  # who writes the store during a local run: auto | driver | workers


def _workers_write(opts: RunOptions, n_workers: int) -> bool:
    """Whether the local workers write the store: "auto" when they take every core.

    The driver writing every row costs 6-8 ms of its CPU a document beside the workers; with
    a core to spare (one worker on two cores) that is free, with none it slows the workers.
    Written by the workers, the same rows cost each of them ~4 ms a document, and the driver
    keeps ~1 ms for dispatching, recording and checkpointing."""
    if opts.store_writes != "auto":
        return opts.store_writes == "workers"
    return n_workers >= (os.cpu_count() or 1)


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
    log = (lambda _message: None) if opts.quiet else (lambda message: sys.stderr.write(f"vanban: {message}\n"))
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
            store.prepare_bulk_writes()  # the writes come in batches (writer.py)
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

        # With no core left for the driver, the local workers write the store themselves
        # (one at a time, each a batch); otherwise the driver does, on its free core.
        workers_write = store is not None and opts.engine == "local" and _workers_write(opts, n_workers)
        written_since = 0  # documents the workers wrote since the driver's last checkpoint

        def on_written(job: Job, result: dict[str, Any], json_stat: tuple | None) -> None:
            """A result stored and its JSON published (or, failed, its outputs removed)."""
            nonlocal written_since
            if json_stat is not None:
                state.entries[job.id] = written_entry(job, result, json_stat)
            else:
                state.entries.pop(job.id, None)
            state.maybe_save()
            if result["pid"] is not None and result["rss_kb"]:
                peak_rss[result["pid"]] = max(peak_rss.get(result["pid"], 0), result["rss_kb"])
            records[job.id] = _record(job, "processed", result)
            progress.update(job.rel, result["status"], result["seconds"])
            if workers_write:  # their commits leave the WAL's checkpoints to the driver
                written_since += 1
                if written_since >= CHECKPOINT_DOCUMENTS:
                    store.checkpoint()
                    written_since = 0

        writer = ResultWriter(out, store, on_written)
        interrupted = True
        t_parse = time.perf_counter()
        try:
            rows = None if store is None else "lite" if store_lite else "full"  # what the workers make for the store
            if todo and opts.engine == "dask":
                run_dask(todo, n_workers, opts.scheduler, opts.timeout, rows, writer.add, log, on_idle=writer.tick)
            elif todo:
                run_local(todo, n_workers, opts.timeout, rows, writer.add, out_dir=out, on_idle=writer.tick,
                          store=(store_path, store_lite) if workers_write else None, on_written=on_written)
            interrupted = False
        finally:
            progress.close()
            writer.close()  # interrupted too: the documents stored so far are committed and published
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
            store.prepare_bulk_writes()  # the corpus step is one long transaction
            try:
                _sync_store(store, out, state, jobs, current, records)
                if finish_run is not None:
                    # as many processes as workers (idle by now), on this machine's cores
                    processes = max(1, min(n_workers, os.cpu_count() or 1))
                    corpus = dict(finish_run(out, store, graph=opts.graph, processes=processes,
                                             progress=StepProgress(opts.quiet)))
                    for doc_id in corpus.pop("rewritten", []):  # their JSON now says where they point
                        stat = size_and_mtime(out / f"{doc_id}.json")
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


def _record(job: Job, action: str, result: dict[str, Any]) -> dict[str, Any]:
    """One document's line in the run report."""
    rec: dict[str, Any] = {
        "id": job.id, "file": job.rel, "format": result.get("format") or job.path.suffix.lower().lstrip("."),
        "action": action, "status": result["status"],
        "output": f"{job.id}.json" if result["status"] != "failed" else None,
        "pages": result.get("pages", 0), "references": result.get("references", 0),
        "assignments": result.get("assignments", 0), "directive_lines": result.get("directive_lines", 0),
        "unassigned_lines": result.get("unassigned_lines", 0), "text_bytes": result.get("text_bytes", 0),
        "warnings": result.get("warnings", 0), "errors": result.get("errors", []),
    }
    if result["status"] == "failed" and rec["errors"]:
        rec["stage"], rec["reason"] = rec["errors"][0]["stage"], rec["errors"][0]["message"]
    elif result["status"] == "partial" and result.get("lost"):
        rec["stage"], rec["reason"] = "ingest", result["lost"]
    if job.alternates:
        rec["alternates"] = list(job.alternates)
    if action == "processed":
        rec["seconds"] = round(result["seconds"], 4)
        rec["timings"] = {k: round(v, 5) for k, v in result.get("timings", {}).items()}
    return rec


def _summary(records: dict[str, dict], processed: int, parse_seconds: float, seconds: float,
             peak_rss_kb: int | None) -> dict[str, Any]:
    recs = list(records.values())
    done = [record for record in recs if record["action"] == "processed"]
    stage_seconds: Counter[str] = Counter()
    for record in done:
        stage_seconds.update(record.get("timings", {}))
    return {
        "documents": len(recs),
        "processed": processed,
        "skipped": sum(record["action"] == "skipped" for record in recs),
        "by_status": dict(Counter(record["status"] for record in recs)),
        "pages": sum(record["pages"] for record in recs),
        "references": sum(record["references"] for record in recs),
        "assignments": sum(record["assignments"] for record in recs),
        "directive_lines": sum(record.get("directive_lines", 0) for record in recs),
        "unassigned_lines": sum(record.get("unassigned_lines", 0) for record in recs),
        "errors": sum(len(record["errors"]) for record in recs),
        "seconds": round(seconds, 3),
        "parse_seconds": round(parse_seconds, 3),
        "documents_per_second": round(processed / parse_seconds, 2) if processed and parse_seconds > 0 else None,
        "megabytes_per_second": round(sum(record["text_bytes"] for record in done) / 1e6 / parse_seconds, 3)
        if processed and parse_seconds > 0 else None,
        "stage_seconds": {k: round(v, 4) for k, v in stage_seconds.items()},
        "peak_worker_rss_mb": round(peak_rss_kb / 1024, 1) if peak_rss_kb else None,
        "driver_peak_rss_mb": _driver_rss_mb(),
        **_cpu_seconds(),
    }


def _cpu_seconds() -> dict[str, float | None]:
    """CPU time of this process (the driver) and of its ended child processes (the workers),
    since it started: the division of work that decides how a run scales with workers, and
    that, unlike wall time, a busy machine hardly changes."""
    try:
        import resource
    except ImportError:
        return {"driver_cpu_seconds": None, "worker_cpu_seconds": None}
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"driver_cpu_seconds": round(own.ru_utime + own.ru_stime, 3),
            "worker_cpu_seconds": round(children.ru_utime + children.ru_stime, 3)}


def _driver_rss_mb() -> float | None:
    """Peak resident memory of this process (the driver; its forked workers not included)."""
    try:
        import resource
    except ImportError:
        return None
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)
