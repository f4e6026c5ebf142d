"""`vanban bench`: throughput of `vanban run` on a synthetic corpus (pipeline/synth.py).

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

from .batch import RunOptions, run


def _int_list(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    cores = os.cpu_count() or 1
    p.add_argument("--docs", type=_int_list, default=[1, 100, 1000, 10000], help="corpus sizes (default 1,100,1000,10000)")
    p.add_argument("--jobs", type=_int_list, default=sorted({1, cores}), help=f"worker counts (default 1,{cores})")
    p.add_argument("--formats", default="txt,docx,pdf", help="formats to compare on one worker (default txt,docx,pdf)")
    p.add_argument("--format-docs", type=int, default=100, help="documents per format in the comparison (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic corpus (default 0)")
    p.add_argument("--keep", type=Path, metavar="DIR", help="keep the corpus and outputs in DIR (reused next time)")
    p.add_argument("--store", action="store_true", help="also write the SQLite store")
    p.add_argument("--link", action="store_true", help="also run the corpus step (links, graph)")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 and 10 documents, 3 per format")


def _ensure_corpus(folder: Path, n: int, seed: int, fmt: str) -> list[Path]:
    """The first n synthetic documents in `folder`, writing only the missing ones."""
    from .synth import write_corpus

    paths = [folder / f"synth-{i:05d}.{fmt}" for i in range(n)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if missing:
        t0 = time.perf_counter()
        for i in missing:
            write_corpus(folder, 1, seed, fmt, start=i)
        print(f"  generated {len(missing)} {fmt.upper()} documents in {time.perf_counter() - t0:.1f} s", flush=True)
    return paths


def _measure(files: list[Path], root: Path, out: Path, jobs: int, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    opts = RunOptions(out=out, jobs=jobs, force=True, timeout=None, quiet=True, link=args.link,
                      db=out / "vanban.sqlite" if args.store else None)
    report = run(root, opts, files=files)
    s = report["summary"]
    return {
        "docs": s["documents"], "jobs": jobs, "seconds": s["parse_seconds"], "docs_s": s["documents_per_second"] or 0.0,
        "mb_s": s["megabytes_per_second"] or 0.0, "pages": s["pages"], "rss": s["peak_worker_rss_mb"],
        "stages": s["stage_seconds"], "failed": s["by_status"].get("failed", 0),
        "mb": sum(d["text_bytes"] for d in report["documents"]) / 1e6,
    }


def _row(label: str, m: dict[str, Any], pages: bool = False) -> str:
    extra = f" {m['pages'] / m['seconds']:9.1f} pages/s" if pages and m["seconds"] else ""
    failed = f"  ({m['failed']} failed)" if m["failed"] else ""
    return (f"  {label:<22} {m['docs']:>6} docs {m['seconds']:8.2f} s {m['docs_s']:8.1f} docs/s "
            f"{m['mb_s']:6.2f} MB/s  peak RSS/worker {m['rss'] or 0:6.0f} MB{extra}{failed}")


def _cold_start(sample: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipeline.cli", "parse", str(sample)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main(args: argparse.Namespace) -> int:
    if args.quick:
        args.docs, args.format_docs = [1, 10], 3
    formats = [f.strip().lower() for f in args.formats.split(",") if f.strip()]
    if bad := [f for f in formats if f not in ("txt", "docx", "pdf")]:
        sys.stderr.write(f"vanban bench: unknown format(s) {', '.join(bad)}\n")
        return 2
    work = args.keep or Path(tempfile.mkdtemp(prefix="vanban-bench-"))
    base = work / f"seed-{args.seed}"
    print(f"vanban bench: {os.cpu_count()} cores, corpus in {base}", flush=True)
    try:
        txt = _ensure_corpus(base / "txt", max(args.docs), args.seed, "txt")
        from .batch import _warm_up

        _warm_up()  # load the stages and their rules now, not inside the first measurement
        print("\nTXT, by corpus size and workers (full pipeline + JSON output):")
        results: dict[tuple[int, int], dict[str, Any]] = {}
        for n in args.docs:
            for jobs in args.jobs:
                m = results[n, jobs] = _measure(txt[:n], base / "txt", work / "out" / f"txt-{n}-{jobs}", jobs, args)
                print(_row(f"{jobs} worker(s)", m), flush=True)

        print("\nScaling:")
        sizes = sorted(args.docs)
        for jobs in args.jobs:
            for small, big in zip(sizes, sizes[1:]):
                a, b = results[small, jobs], results[big, jobs]
                if a["seconds"] > 0:
                    print(f"  {jobs} worker(s): {big / small:g}x the documents took "
                          f"{b['seconds'] / a['seconds']:.2f}x the time")
        if len(args.jobs) > 1:
            one, most = min(args.jobs), max(args.jobs)
            for n in sizes:
                if results[n, one]["seconds"] > 0 and results[n, most]["seconds"] > 0:
                    print(f"  {n} documents: {most} workers are {results[n, one]['seconds'] / results[n, most]['seconds']:.2f}x "
                          f"as fast as {one}")

        print("\nWhere the time goes (one worker, largest corpus; share of the summed stage time):")
        m = results[max(sizes), min(args.jobs)]
        total = sum(m["stages"].values()) or 1.0
        for stage, seconds in sorted(m["stages"].items(), key=lambda kv: -kv[1]):
            print(f"  {stage:<12} {100 * seconds / total:5.1f} %  {1000 * seconds / max(m['docs'], 1):7.2f} ms/doc")
        print(f"  stages sum {total:.2f} s of {m['seconds']:.2f} s wall: the rest is serialising, "
              f"transferring and writing JSON")

        if formats:
            print(f"\nFormats, one worker, the same {args.format_docs} documents:")
            for fmt in formats:
                files = txt[: args.format_docs] if fmt == "txt" else _ensure_corpus(base / fmt, args.format_docs, args.seed, fmt)
                m = _measure(files, base / fmt, work / "out" / f"fmt-{fmt}", 1, args)
                print(_row(fmt.upper(), m, pages=fmt == "pdf"), flush=True)

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
