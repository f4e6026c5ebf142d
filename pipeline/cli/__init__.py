"""The `vanban` command line.

Each subcommand has its own module here, named after it (`vanban run` is pipeline/cli/run.py),
which exposes `add_arguments(parser)` and `main(args) -> int`. `parse` and `run` hold their
command-line code; the others take it from the module that answers them (pipeline/corpus/
query, diff, check, report, export; pipeline/bench/throughput.py). Only the chosen module is
imported, so `vanban parse` starts fast.

Exit codes: 0 success; 1 some input failed or (for queries) nothing matched; 2 usage error;
130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
"""
from __future__ import annotations

import argparse
import importlib
import signal
import sys

from .. import __version__

# name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "parse": ("pipeline.cli.parse", "parse files to JSON (stdout or -o DIR)"),
    "run": ("pipeline.cli.run", "process a folder: JSON per document, links, graph, SQLite store, run report"),
    "query": ("pipeline.cli.query", "ask the store: agency duties, duty owners, citations, gaps"),
    "diff": ("pipeline.cli.diff", "compare plans across provinces"),
    "check": ("pipeline.cli.check", "hold a report's results against its plan's targets"),
    "report": ("pipeline.cli.report", "write a self-contained HTML report of a run"),
    "export": ("pipeline.cli.export", "a run as a spaCy DocBin, assignments as CSV, or the graph (GraphML, GEXF, JSON)"),
    "bench": ("pipeline.cli.bench", "measure throughput on a synthetic corpus"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return (
        "usage: vanban COMMAND [options]   (vanban COMMAND --help for details)\n\n"
        "Vietnamese administrative documents to structured, source-grounded JSON.\n\n"
        "commands:\n" + "\n".join(lines) + "\n\n"
        "exit codes: 0 ok; 1 an input failed or nothing matched; 2 usage error\n"
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # a usage error: say how to use it, on stderr
        sys.stderr.write(_usage())
        return 2
    if argv[0] in ("-h", "--help"):
        sys.stdout.write(_usage())
        return 0
    if argv[0] == "--version":
        print(f"vanban {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        sys.stderr.write(f"vanban: unknown command {name!r}\n\n{_usage()}")
        return 2
    module_name, help_ = COMMANDS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            sys.stderr.write(f"vanban: the {name!r} command is not available in this build\n")
            return 2
        raise
    parser = argparse.ArgumentParser(prog=f"vanban {name}", description=help_)
    module.add_arguments(parser)
    args = parser.parse_args(argv[1:])
    terminated: list[int] = []
    previous = _on_terminate(terminated)
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        sys.stderr.write(f"vanban: {'terminated' if terminated else 'interrupted'}\n")
        return 143 if terminated else 130
    except BrokenPipeError:  # `vanban ... | head`
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_terminate(terminated: list[int]):
    """SIGTERM (`kill`, a service manager) stops a command the way Ctrl-C does: its cleanup
    runs (a run commits what it stored and stops its worker processes) instead of the
    process vanishing with its workers left running. Returns the handler it replaced."""
    def handler(signum: int, _frame) -> None:
        terminated.append(signum)
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): leave its handling alone
        return None


if __name__ == "__main__":
    sys.exit(main())
