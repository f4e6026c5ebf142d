"""`vanban bench`: throughput of `vanban run` on a synthetic corpus (pipeline/bench/synth.py).

For each corpus size (--docs) and worker count (--jobs) it runs the batch engine on the
first N synthetic TXT documents (JSON outputs written, no store, no corpus step unless
--store/--link) and prints documents/s, MB/s of text, peak worker RSS; then TXT vs DOCX vs
PDF on one worker (pages/s for PDF); the scaling ratios; the per-stage time shares
(Document.timings summed over documents); and the cold start of `vanban parse`.
Figures are printed, never asserted.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..batch import RunOptions, run
from ..rules import load


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cores = os.cpu_count() or 1
    parser.add_argument("--docs", type=_int_list, default=[1, 100, 1000, 10000],
                        help="corpus sizes (default 1,100,1000,10000)")
    parser.add_argument("--jobs", type=_int_list, default=sorted({1, cores}), help=f"worker counts (default 1,{cores})")
    parser.add_argument("--formats", default="txt,docx,pdf",
                        help="formats to compare on one worker (default txt,docx,pdf)")
    parser.add_argument("--format-docs", type=int, default=100,
                        help="documents per format in the comparison (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus (default 0)")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the corpus and outputs in DIR (reused next time)")
    parser.add_argument("--store", action="store_true", help="also write the SQLite store")
    parser.add_argument("--link", action="store_true", help="also run the corpus step (links, graph)")
    parser.add_argument("--quick", action="store_true", help="smoke test: 1 and 10 documents, 3 per format")
    parser.add_argument("--scale", action="store_true",
                        help="what users wait for: whole `vanban run` (stages, corpus step, store) per corpus size "
                             "and worker count, re-run unchanged, re-run with 1%% changed, query p50/p95, RSS")
    parser.add_argument("--wild", type=Path, metavar="DIR",
                        help="with --scale: also a folder of real files as a second corpus (e.g. ../shared/wild)")
    parser.add_argument("--query-repeat", type=int, default=30, help="with --scale: runs per query (default 30)")
    parser.add_argument("--corpus-step", action="store_true",
                        help="the corpus step alone (link index, relinking, links.json) on --docs synthetic "
                             "document dicts (pipeline.bench.store), no parsing: first, unchanged, 1%% changed")


def _ensure_corpus(folder: Path, count: int, seed: int, fmt: str) -> list[Path]:
    """The first `count` synthetic documents in `folder`, writing only the missing ones."""
    from .synth import write_corpus

    paths = [folder / f"synth-{i:05d}.{fmt}" for i in range(count)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if missing:
        t0 = time.perf_counter()
        for index in missing:
            write_corpus(folder, 1, seed, fmt, start=index)
        print(f"  generated {len(missing)} {fmt.upper()} documents in {time.perf_counter() - t0:.1f} s", flush=True)
    return paths


def _measure(files: list[Path], root: Path, out: Path, jobs: int, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    opts = RunOptions(out=out, jobs=jobs, force=True, timeout=None, quiet=True, link=args.link,
                      db=out / "vanban.sqlite" if args.store else None)
    report = run(root, opts, files=files)
    summary = report["summary"]
    return {
        "docs": summary["documents"], "jobs": jobs, "seconds": summary["parse_seconds"],
        "docs_s": summary["documents_per_second"] or 0.0,
        "mb_s": summary["megabytes_per_second"] or 0.0, "pages": summary["pages"], "rss": summary["peak_worker_rss_mb"],
        "stages": summary["stage_seconds"], "failed": summary["by_status"].get("failed", 0),
        "mb": sum(d["text_bytes"] for d in report["documents"]) / 1e6,
    }


def _row(label: str, stats: dict[str, Any], pages: bool = False) -> str:
    extra = f" {stats['pages'] / stats['seconds']:9.1f} pages/s" if pages and stats["seconds"] else ""
    failed = f"  ({stats['failed']} failed)" if stats["failed"] else ""
    return (f"  {label:<22} {stats['docs']:>6} docs {stats['seconds']:8.2f} s {stats['docs_s']:8.1f} docs/s "
            f"{stats['mb_s']:6.2f} MB/s  peak RSS/worker {stats['rss'] or 0:6.0f} MB{extra}{failed}")


def _cold_start(sample: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", str(sample)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def _vanban_run(folder: Path, out: Path, jobs: int, *extra: str) -> dict[str, Any]:
    """`vanban run FOLDER` in its own process (so its memory is its own); wall time and report."""
    import json

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(folder), "--out", str(out),
                           "--jobs", str(jobs), "--quiet", "--timeout", "0", *extra],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    report = json.loads((out / "run-report.json").read_text(encoding="utf-8"))
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"vanban run {folder} failed ({proc.returncode}): {proc.stderr[-500:]}")
    summary, corpus = report["summary"], report.get("corpus") or {}
    return {"wall": wall, "docs": summary["documents"], "processed": summary["processed"],
            "parse": summary["parse_seconds"], "corpus": corpus.get("seconds"),
            "relinked": corpus.get("relinked_references"),
            "driver_mb": summary.get("driver_peak_rss_mb"), "worker_mb": summary.get("peak_worker_rss_mb"),
            "driver_cpu": summary.get("driver_cpu_seconds"), "worker_cpu": summary.get("worker_cpu_seconds"),
            "failed": summary["by_status"].get("failed", 0)}


def _scale_row(label: str, stats: dict[str, Any], first: float | None = None) -> str:
    share = f" {100 * stats['wall'] / first:5.1f} % of first" if first else ""
    corpus = f"{stats['corpus']:7.2f}" if stats["corpus"] is not None else "      -"
    per_doc = f"{1000 * stats['corpus'] / max(stats['docs'], 1):6.2f}" if stats["corpus"] is not None else "     -"
    # CPU per processed document: the driver's against the workers' (a busy machine changes
    # wall times much more than these; 2 workers can be ~2x as fast only when the driver's is small)
    cpu = "".join(f"{1000 * stats[k] / stats['processed']:8.2f}" if stats.get(k) is not None and stats["processed"]
                  else "       -" for k in ("driver_cpu", "worker_cpu"))
    return (f"  {label:<26} {stats['docs']:>7} {stats['processed']:>7} {stats['wall']:8.2f} "
            f"{stats['parse']:8.2f} {corpus} {per_doc} "
            f"{stats['driver_mb'] or 0:8.0f} {stats['worker_mb'] or 0:8.0f}{cpu}{share}"
            + (f"  ({stats['failed']} failed)" if stats["failed"] else ""))


_SCALE_HEAD = (f"  {'':<26} {'docs':>7} {'parsed':>7} {'wall s':>8} {'parse s':>8} {'corpus':>7} "
               f"{'ms/doc':>6} {'driverMB':>8} {'workerMB':>8} {'drvCPUms':>8} {'wrkCPUms':>8}")


def _query_latency(db: Path, repeat: int) -> None:
    """p50/p95 of each `vanban query` question on the store, as the command answers it
    (page of 50, total counted, table drawn; the interpreter's start-up excluded).

    Each question is answered once untimed first (its time printed apart as "first"): the
    first `duty` of a process loads underthesea's word segmenter (about a second), a cost of
    the process rather than of the query, and would otherwise be one of the timed runs."""
    import statistics

    from .store import _cli
    from ..corpus.store import Store

    with Store(db) as store:
        province = store.db.execute("SELECT province FROM documents WHERE province IS NOT NULL "
                                    "GROUP BY province ORDER BY count(*) DESC LIMIT 1").fetchone()
        province = province[0] if province else None
        terms = load("bench")["questions"]
        agency, duty, cites = terms["agency"], terms["duty"], terms["cites"]
        questions = [
            (f"agency {agency}", _cli(store, "agency", name=agency)),
            (f"agency {agency} --province {province}", _cli(store, "agency", name=agency, province=province)),
            (f"duty {duty}", _cli(store, "duty", text=duty)),
            (f"cites {cites}", _cli(store, "cites", ref=cites)),
            ("gaps", _cli(store, "gaps")),
        ]
        for name, fn in questions:
            t0 = time.perf_counter()
            fn()  # warm-up, untimed: see the docstring
            first = 1000 * (time.perf_counter() - t0)
            times = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                times.append(1000 * (time.perf_counter() - t0))
            times.sort()
            p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
            print(f"    {name:<44} p50 {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms"
                  f"   (first, untimed: {first:.0f} ms)")


def _side_by_side_child(kind: str, paths: list[str], barrier, times) -> None:
    """One process of `parallel_ceiling`: warm up, wait for the others, time the work."""
    from ..parse import parse_file

    def work() -> None:
        if kind == "loop":  # pure interpreter work, little memory
            total = 0
            for step in range(3_000_000):
                total += step * step % 7
        else:
            for path in paths:
                parse_file(path).to_dict()

    work()  # warm: rules compiled, caches filled
    barrier.wait()
    t0 = time.perf_counter()
    work()
    times.put(time.perf_counter() - t0)


def parallel_ceiling(files: list[Path], workers: int, repeat: int = 3) -> dict[str, float]:
    """How much more work `workers` processes do side by side than one alone, on this
    machine: for a pure-Python loop and for parsing `files`. No run engine, no driver, no
    store: the most `workers` workers can gain here. Virtual cores that share a physical
    core, or its cache, give well under `workers`x."""
    from ..batch.local import _mp_context

    ctx = _mp_context()  # as the run's workers are started
    paths = [str(p) for p in files]
    ceiling = {}
    for kind in ("loop", "parse"):
        # alone and side by side in turn, the best of `repeat` each: a virtual machine's speed
        # drifts from minute to minute by more than the difference measured
        seconds: dict[int, float] = {}
        for _ in range(repeat):
            for count in (1, workers):
                barrier, times = ctx.Barrier(count), ctx.Queue()
                procs = [ctx.Process(target=_side_by_side_child, args=(kind, paths, barrier, times))
                         for _ in range(count)]
                for proc in procs:
                    proc.start()
                mean = sum(times.get() for _ in procs) / count  # each did the same work
                seconds[count] = min(seconds.get(count, mean), mean)
                for proc in procs:
                    proc.join()
        ceiling[kind] = workers * seconds[1] / seconds[workers]
    return ceiling


def _change_one_percent(folder: Path, seed: int) -> int:
    """Rewrite 1 % of the documents (at least one) with a new sentence; returns how many."""
    files = sorted(folder.glob("*.txt"))
    sentence = load("bench")["changes"]["sentence"]
    step = 100
    changed = 0
    for path in files[::step] or files[:1]:
        text = path.read_text(encoding="utf-8")
        path.unlink()  # the corpus folder holds hard links: never write through one
        path.write_text(text + f"\n{sentence.format(seed=seed)}\n", encoding="utf-8")
        changed += 1
    return changed


def scale(args: argparse.Namespace, base: Path, work: Path) -> int:
    sizes = sorted(args.docs)
    txt = _ensure_corpus(base / "txt", max(sizes), args.seed, "txt")
    print("\nWhole `vanban run` (document stages, corpus step, SQLite store), each in its own process:")
    print(_SCALE_HEAD)
    for size in sizes:
        folder = work / f"scale-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in txt[:size]:
            os.link(path, folder / path.name)
        one, most = min(args.jobs), max(args.jobs)
        compared = one == 1 and most > 1  # 2 workers against 1: the machine's ceiling brackets the runs
        # a virtual machine's speed for parallel work drifts within minutes: measured before
        # the first runs and after, the ceiling says what the machine could give meanwhile
        before = parallel_ceiling(txt[:100], most) if compared else None
        firsts: dict[int, dict[str, Any]] = {}
        for jobs in sorted(args.jobs, reverse=True):
            out = work / "out" / f"scale-{size}-{jobs}"
            shutil.rmtree(out, ignore_errors=True)
            firsts[jobs] = _vanban_run(folder, out, jobs)
            print(_scale_row(f"{size}: first run, {jobs} worker(s)", firsts[jobs]), flush=True)
        jobs = max(args.jobs)
        out = work / "out" / f"scale-{size}-{jobs}"
        first = firsts[jobs]["wall"]
        print(_scale_row(f"{size}: re-run, unchanged", _vanban_run(folder, out, jobs), first), flush=True)
        changed = _change_one_percent(folder, 1)
        print(_scale_row(f"{size}: re-run, {changed} changed", _vanban_run(folder, out, jobs), first), flush=True)
        if len(args.jobs) > 1:
            print(f"  {size}: {most} workers are {firsts[one]['wall'] / firsts[most]['wall']:.2f}x as fast as {one} "
                  f"end to end", flush=True)
            if compared:
                after = parallel_ceiling(txt[:100], most)
                print(f"  this machine: {most} processes side by side do {before['loop']:.2f}x (before the first "
                      f"runs) and {after['loop']:.2f}x (after) the work of one in a pure-Python loop, "
                      f"{before['parse']:.2f}x and {after['parse']:.2f}x in parsing documents (the most {most} "
                      f"workers can gain here)", flush=True)
        print(f"  {size}: query latency on its store ({args.query_repeat} runs each, after one untimed):")
        _query_latency(out / "vanban.sqlite", args.query_repeat)
    if args.wild:
        out = work / "out" / "wild"
        shutil.rmtree(out, ignore_errors=True)
        jobs = max(args.jobs)
        print(f"\nReal files: {args.wild}")
        print(_SCALE_HEAD)
        first = _vanban_run(args.wild, out, jobs)
        print(_scale_row(f"wild: first run, {jobs} worker(s)", first), flush=True)
        print(_scale_row("wild: re-run, unchanged", _vanban_run(args.wild, out, jobs), first["wall"]), flush=True)
        _query_latency(out / "vanban.sqlite", args.query_repeat)
    return 0


_SLIM = ("id", "status", "pipeline_version", "metadata", "references")


def corpus_step_child(size: int, folder: str, seed: int) -> None:
    """One measurement of `corpus_step`, in its own process (its peak RSS is the step's):
    prints one JSON line."""
    import json

    from .store import corpus_documents, synthesize
    from ..corpus.step import finish_run
    from ..stages.emit import write_json
    from ..corpus.store import Store

    out = Path(folder)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    # only what linking reads (assignments emptied): copying whole documents would be the cost measured
    templates = [{k: t[k] for k in _SLIM if k in t} | {"assignments": []} for t in corpus_documents()]
    store = Store(out / ".vanban-index.sqlite", lite=True)
    t0 = time.perf_counter()
    for doc in synthesize(templates, size, seed):
        slim = {k: doc[k] for k in _SLIM if k in doc}
        write_json(out / f"{slim['id']}.json", slim, pretty=False)
        store.upsert_document(slim)
    figures: dict[str, Any] = {"docs": size, "index": time.perf_counter() - t0}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    summary = finish_run(out, store)
    figures |= {"first": time.perf_counter() - t0, "rewritten": len(summary.get("rewritten", [])),
                "chains": summary["chains"], "edges": summary["edges"]}
    t0 = time.perf_counter()
    finish_run(out, store)
    figures["unchanged"] = time.perf_counter() - t0
    title_suffix = load("bench")["changes"]["title_suffix"]
    t0 = time.perf_counter()
    changed = 0
    for path in sorted(out.glob("synth-*.json"))[::100]:  # 1 %: a new date and title, one more reference
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = doc["metadata"]
        meta["date"] = "2024-06-15"
        meta["title"] = (meta.get("title") or "") + title_suffix
        doc["references"] = [*doc["references"], {**doc["references"][0], "resolved_to": None}] \
            if doc["references"] else []
        write_json(path, doc, pretty=False)
        store.upsert_document(doc)
        changed += 1
    summary = finish_run(out, store)
    figures |= {"changed_docs": changed, "changed": time.perf_counter() - t0,
                "relinked": summary["relinked_references"],
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rss_before_mb": rss0 / 1024}
    store.close()
    shutil.rmtree(out, ignore_errors=True)
    print(json.dumps(figures), flush=True)


def corpus_step(args: argparse.Namespace, work: Path) -> int:
    import json

    print("\nCorpus step alone (lite link index; synthetic document dicts, no parsing), one process per size:")
    print(f"  {'docs':>7} {'index s':>8} {'step s':>8} {'ms/doc':>7} {'rewritten':>9} {'unchanged s':>11} "
          f"{'1% changed s':>12} {'% of step':>9} {'relinked':>8} {'peak RSS MB':>11}")
    for size in sorted(args.docs):
        code = (f"from pipeline.bench.throughput import corpus_step_child; "
                f"corpus_step_child({size}, {str(work / 'step')!r}, {args.seed})")
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"  {size}: failed: {proc.stderr[-800:]}")
            continue
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"  {size:>7} {figures['index']:8.1f} {figures['first']:8.2f} {1000 * figures['first'] / size:7.3f} "
              f"{figures['rewritten']:>9} {figures['unchanged']:11.3f} {figures['changed']:12.2f} "
              f"{100 * figures['changed'] / (figures['index'] + figures['first']):8.1f}% "
              f"{figures['relinked']:>8} {figures['rss_mb']:11.0f}", flush=True)
    return 0


def main(args: argparse.Namespace) -> int:
    if args.quick:
        args.docs, args.format_docs = [1, 10], 3
    if args.corpus_step:
        work = args.keep or Path(tempfile.mkdtemp(prefix="vanban-bench-"))
        try:
            return corpus_step(args, work)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
    if args.scale:
        work = args.keep or Path(tempfile.mkdtemp(prefix="vanban-bench-"))
        print(f"vanban bench --scale: {os.cpu_count()} cores, work folder {work}", flush=True)
        try:
            return scale(args, work / f"seed-{args.seed}", work)
        finally:
            if args.keep is None:
                shutil.rmtree(work, ignore_errors=True)
    formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    if bad := [f for f in formats if f not in ("txt", "docx", "pdf")]:
        sys.stderr.write(f"vanban bench: unknown format(s) {', '.join(bad)}\n")
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    base = work / f"seed-{args.seed}"
    print(f"vanban bench: {os.cpu_count()} cores, corpus in {base}", flush=True)
    try:
        txt = _ensure_corpus(base / "txt", max(args.docs), args.seed, "txt")
        from ..batch.local import warm_up

        warm_up()  # load the stages and their rules now, not inside the first measurement
        print("\nTXT, by corpus size and workers (full pipeline + JSON output):")
        results: dict[tuple[int, int], dict[str, Any]] = {}
        for size in args.docs:
            for jobs in args.jobs:
                stats = results[size, jobs] = _measure(txt[:size], base / "txt", work / "out" / f"txt-{size}-{jobs}",
                                                       jobs, args)
                print(_row(f"{jobs} worker(s)", stats), flush=True)

        print("\nScaling:")
        sizes = sorted(args.docs)
        for jobs in args.jobs:
            for small, big in zip(sizes, sizes[1:]):
                at_small, at_big = results[small, jobs], results[big, jobs]
                if at_small["seconds"] > 0:
                    print(f"  {jobs} worker(s): {big / small:g}x the documents took "
                          f"{at_big['seconds'] / at_small['seconds']:.2f}x the time")
        if len(args.jobs) > 1:
            one, most = min(args.jobs), max(args.jobs)
            for size in sizes:
                if results[size, one]["seconds"] > 0 and results[size, most]["seconds"] > 0:
                    print(f"  {size} documents: {most} workers are "
                          f"{results[size, one]['seconds'] / results[size, most]['seconds']:.2f}x as fast as {one}")

        print("\nWhere the time goes (one worker, largest corpus; share of the summed stage time):")
        stats = results[max(sizes), min(args.jobs)]
        total = sum(stats["stages"].values()) or 1.0
        for stage, seconds in sorted(stats["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<12} {100 * seconds / total:5.1f} %  {1000 * seconds / max(stats['docs'], 1):7.2f} ms/doc")
        print(f"  stages sum {total:.2f} s of {stats['seconds']:.2f} s wall: the rest is serialising, "
              f"transferring and writing JSON")

        if formats:
            print(f"\nFormats, one worker, the same {args.format_docs} documents:")
            for fmt in formats:
                files = txt[: args.format_docs] if fmt == "txt" else _ensure_corpus(base / fmt, args.format_docs, args.seed, fmt)
                stats = _measure(files, base / fmt, work / "out" / f"fmt-{fmt}", 1, args)
                print(_row(fmt.upper(), stats, pages=fmt == "pdf"), flush=True)

        print("\nCold start, `vanban parse` of one document:")
        sample = txt[0]
        times = sorted(_cold_start(sample) for _ in range(3))
        print(f"  {times[1]:.2f} s (median of 3)")
        driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nDriver peak RSS {driver:.0f} MB")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0
