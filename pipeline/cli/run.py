"""`vanban run DIR`: the command line of the run engine (pipeline/batch): its options, the
limits it hands the workers through the environment, the summary it prints, its exit code."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from ..batch.driver import REPORT_MAX_DOCUMENTS, REPORT_NAME, RunError, RunOptions, run
from ..batch.worker import WORKER_MEMORY_MB


def print_summary(report: dict[str, Any], out=None) -> None:
    from ..corpus.report_assets import plural

    out = out or sys.stderr
    summary = report["summary"]
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(summary["by_status"].items())) or "none"
    lines = [
        f"vanban run: {plural(summary['documents'], 'document')} ({summary['processed']} processed, "
        f"{summary['skipped']} unchanged, "
        f"{plural(len(report['alternates']), 'alternate format')})",
        f"  status: {statuses}",
        f"  {plural(summary['pages'], 'page')}, {plural(summary['references'], 'reference')}, "
        f"{plural(summary['assignments'], 'assignment')}, {plural(summary['errors'], 'error')}",
        f"  time {summary['seconds']:.2f} s" + (f", {summary['documents_per_second']:.1f} documents/s, "
                                           f"{summary['megabytes_per_second']:.2f} MB/s of text"
                                           if summary["documents_per_second"] else ""),
    ]
    if summary.get("directive_lines"):
        lines.append(f"  coverage: {summary['unassigned_lines']} of "
                     f"{plural(summary['directive_lines'], 'directive-looking line')} gave no assignment "
                     "(each document's JSON lists them under coverage.unassigned)")
        most = sorted((record for record in report["documents"] if record.get("unassigned_lines")),
                      key=lambda record: -record["unassigned_lines"])[:5]
        for record in most:
            lines.append(f"    {record['unassigned_lines']:>4} of {record['directive_lines']:>4}  {record['file']}")
    for record in report["documents"]:
        if record["errors"]:
            for error in record["errors"]:
                lines.append(f"  {record['status']}: {record['file']} [{error['stage']}] {error['message']}")
        if record.get("reason") and record["status"] == "partial":
            lines.append(f"  {record['status']}: {record['file']} [{record['stage']}] {record['reason']}")
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, help="folder of documents (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("outputs"), help="output folder (default: outputs/)")
    parser.add_argument("--jobs", "-j", type=int, default=0, help="worker processes (default: all cores)")
    parser.add_argument("--force", action="store_true", help="reprocess documents even when unchanged")
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local process pool (default) or a Dask cluster")
    parser.add_argument("--store-writes", choices=("auto", "driver", "workers"), default="auto",
                   help="who writes the store with the local engine: the workers, each its own results, "
                        "or the driver; auto (default): the workers when they take every core")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://host:8786 (default with --engine dask: a local cluster)")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                   help="time limit per document (default 120; 0 = none)")
    db = parser.add_mutually_exclusive_group()
    db.add_argument("--db", type=Path, metavar="PATH", help="SQLite store (default: OUT/vanban.sqlite)")
    db.add_argument("--no-db", action="store_true", help="do not write the SQLite store")
    parser.add_argument("--no-link", action="store_true",
                   help="skip the corpus step (links, chains): per-document outputs only")
    parser.add_argument("--graph", action="store_true",
                   help="also write the graph exports graph.json, graph.graphml, graph.gexf (see `vanban export graph`)")
    parser.add_argument("--no-report", action="store_true",
                   help=f"do not write OUT/report.html (written by default for runs of at most "
                        f"{REPORT_MAX_DOCUMENTS} documents; `vanban report` writes it on request)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress and no summary; failures only")
    lim = parser.add_argument_group("limits per document (README, Limits; 0 keeps the default)")
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
        store_writes=args.store_writes,
    )
    try:
        report = run(args.input, opts)
    except RunError as exc:
        sys.stderr.write(f"vanban: {exc}\n")
        return 2
    if not args.quiet:
        print_summary(report)
    return exit_code(report)
