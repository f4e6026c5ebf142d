"""`vanban parse FILE... [-o DIR | -]`: parse files and write their JSON.

With no `-o` (or `-o -`) the JSON goes to stdout: one pretty document for one file, one
compact document per line (JSON Lines) for several. Errors go to stderr, one line per file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..stages.emit import dumps, write_json
from ..parse import parse_file


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, help="TXT, PDF, DOCX (or .doc with LibreOffice) files")
    parser.add_argument("-o", "--out", default="-", help="output folder for <stem>.json, or - for stdout (default)")


def main(args: argparse.Namespace) -> int:
    to_stdout = args.out == "-"
    failed = 0
    for path in args.files:
        doc = parse_file(path)
        for err in doc.errors:
            sys.stderr.write(f"vanban: {path}: {err.message}" + ("" if err.stage == "ingest" else f" (stage {err.stage})") + "\n")
        if doc.status == "failed":
            failed += 1
            if to_stdout:
                continue
        data = doc.to_dict()
        if to_stdout:
            sys.stdout.write(dumps(data) + "\n" if len(args.files) == 1 else json.dumps(data, ensure_ascii=False) + "\n")
        else:
            write_json(Path(args.out) / f"{doc.id}.json", data, pretty=False)
    return 1 if failed else 0
