"""`vanban query`: ask the store of a run.

    vanban query agency "Sở Y tế" [--province "Cao Bằng"]   every duty of one agency
    vanban query duty "quan trắc môi trường lao động"      which agencies own a duty
    vanban query cites 209/NQ-CP                           who implements or cites it, and the chain
    vanban query gaps                                      tasks that are not "5 rõ"

Common options: --db PATH (default outputs/vanban.sqlite), --format table|json|csv,
--limit N (a page of the first N rows, 50 by default; 0 = all): the answer says how many
match in all ("showing 50 of 24,285"). Tables fit the terminal (80 columns when unknown): long
task text wraps. Exit code 1 when nothing matches, 2 when the database is missing. The same
answers in Python: `Store(path).agency_duties(name, limit=None)`, `.duty_owners(text)`,
`.citing(ref)`, `.chain(ref)`, `.gaps()`, and `.count_agency_duties(name)`, `.count_citing(ref)`,
`.count_gaps()` for the totals.
"""
from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import textwrap
from pathlib import Path
from typing import Any

DEFAULT_DB = Path("outputs/vanban.sqlite")
FORMATS = ("table", "json", "csv")
DEFAULT_LIMIT = 50


def add_arguments(query_parser: argparse.ArgumentParser) -> None:
    def common(parser: argparse.ArgumentParser, default: bool) -> None:
        # given before or after the subcommand; the subcommand's copy only overrides when used
        parser.add_argument("--db", type=Path, default=DEFAULT_DB if default else argparse.SUPPRESS,
                            help="the SQLite store of a run (default: outputs/vanban.sqlite)")
        parser.add_argument("--format", choices=FORMATS,
                            default="table" if default else argparse.SUPPRESS,
                            help="table (default), json or csv")

    common(query_parser, True)
    sub = query_parser.add_subparsers(dest="question", required=True, metavar="QUESTION")
    agency_parser = sub.add_parser("agency", help="every duty of one agency across documents")
    agency_parser.add_argument("name", help='agency name, alias or abbreviation ("Sở Y tế", "Sở LĐTBXH")')
    agency_parser.add_argument("--province", help="only this province")
    duty_parser = sub.add_parser("duty", help="which agencies own a duty, best match first")
    duty_parser.add_argument("text", help="words of the duty, with or without diacritics")
    cites_parser = sub.add_parser("cites", help="which documents implement or cite a reference, and the chain")
    cites_parser.add_argument("ref", help='"209/NQ-CP", "NQ 209", "209 NQ-CP"')
    gaps_parser = sub.add_parser("gaps", help="tasks with no deadline, no lead or no measurable result")
    gaps_parser.add_argument("--province", help="only this province")
    gaps_parser.add_argument("--agency", help="only this agency (as named)")
    for parser in (agency_parser, duty_parser, cites_parser, gaps_parser):
        common(parser, False)
        parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT, metavar="N",
                            help=f"show the first N rows (default {DEFAULT_LIMIT}; 0 = all)")


def main(args: argparse.Namespace) -> int:
    from .store import Store

    if not Path(args.db).is_file():
        sys.stderr.write(f"vanban query: no store at {args.db} (run `vanban run DIR` first, "
                         "or give --db PATH)\n")
        return 2
    with Store(args.db) as store:
        answer = ANSWERS[args.question](store, args)
    out = sys.stdout
    if args.format == "json":
        json.dump(answer, out, ensure_ascii=False, indent=1)
        out.write("\n")
    elif args.format == "csv":
        write_csv(answer["rows"], out)
        if len(answer["rows"]) < answer["total"]:  # the pipe gets rows only; say so aside
            sys.stderr.write(f"vanban query: {_showing(answer)}\n")
    else:
        out.write(answer_text(args.question, answer, width=_width()))
    return 0 if answer["rows"] else 1


# ----------------------------------------------------------------------------- answers

def _limit(args) -> int | None:
    """--limit 0 (or less) means everything: the API's None."""
    return args.limit if args.limit and args.limit > 0 else None


def answer_agency(store, args) -> dict[str, Any]:
    who = store.resolve_agency(args.name)
    rows = store.agency_duties(args.name, province=args.province, limit=_limit(args))
    counts = store.agency_duty_counts(args.name, province=args.province)
    return {"question": "agency", "query": args.name, "province": args.province,
            "agency": {"name": who["name"], "agency_id": who["agency_id"],
                       "successor": (who["successor"] or {}).get("name"),
                       "predecessors": [p["name"] for p in who["predecessors"]]},
            "notes": sorted(v for v in counts if v), "total": sum(counts.values()),
            "limit": _limit(args), "rows": rows}


def answer_duty(store, args) -> dict[str, Any]:
    # ranked by relevance: the page is all there is (no total: the loosest tiers match a lot)
    rows = store.duty_owners(args.text, limit=_limit(args) or 1_000_000)
    return {"question": "duty", "query": args.text, "total": len(rows), "limit": _limit(args),
            "rows": rows}


def answer_cites(store, args) -> dict[str, Any]:
    limit = _limit(args)
    rows = store.citing(args.ref, limit=limit)
    resolved = store.resolve_reference(args.ref)
    chain, complete = store.chain_page(args.ref, limit) if rows or resolved else ([], True)
    return {"question": "cites", "query": args.ref, "reference": resolved,
            "chain": chain, "chain_complete": complete, "total": store.count_citing(args.ref),
            "limit": limit, "rows": rows}


def answer_gaps(store, args) -> dict[str, Any]:
    limit = _limit(args)
    return {"question": "gaps", "province": args.province, "agency": args.agency,
            "total": store.count_gaps(province=args.province, agency=args.agency),
            "limit": limit,
            "rows": store.gaps(province=args.province, agency=args.agency, limit=limit)}


ANSWERS = {"agency": answer_agency, "duty": answer_duty, "cites": answer_cites, "gaps": answer_gaps}


# ----------------------------------------------------------------------------- output

def write_csv(rows: list[dict[str, Any]], out) -> None:
    if not rows:
        return
    fields = list(rows[0])
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()})


def _width() -> int:
    return max(60, shutil.get_terminal_size((80, 24)).columns)


def _where(row: dict[str, Any]) -> list[str]:
    """["Cao Bằng, V.3", "664/KH-UBND"]: province and section, the document's number or id."""
    return [", ".join(x for x in (row.get("province"), row.get("section")) if x),
            row.get("document_id") or row["document"]]


def _doc_header(row: dict[str, Any]) -> str:
    bits = [row.get("document_id"), row.get("doc_type"), row.get("province"), row.get("date")]
    return f"{row['document']} ({', '.join(b for b in bits if b)})"


def table(rows: list[list[str]], headers: list[str], widths: list[int | None], width: int) -> str:
    """A plain text table; the one column with width None takes what is left and wraps."""
    fixed = sum(w for w in widths if w) + 2 * (len(widths) - 1)
    flex = max(20, width - fixed)
    widths = [w or flex for w in widths]
    lines = ["  ".join(h[:w].ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for row in rows:
        cells = [_wrap(c, w) for c, w in zip(row, widths)]
        for line_no in range(max(len(c) for c in cells)):
            lines.append("  ".join((c[line_no] if line_no < len(c) else "").ljust(w)
                                   for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines) + "\n"


def _wrap(cell: str | list[str], width: int) -> list[str]:
    """Lines of a cell: each given line (a cell may be a list of lines) wrapped to `width`."""
    lines = cell if isinstance(cell, list) else [cell]
    out = [w for line in lines for w in textwrap.wrap(" ".join(str(line).split()), width,
                                                       break_on_hyphens=False)]
    return out or [""]


def _clip(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def _task(row: dict[str, Any], limit: int = 200) -> str:
    text = " ".join(row["task"].split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    if row.get("deadline"):
        text += f" [deadline: {row['deadline']}]"
    return text


def answer_text(question: str, answer: dict[str, Any], width: int = 80) -> str:
    rows = answer["rows"]
    out: list[str] = []
    if question == "agency":
        who = answer["agency"]
        out.append(f"{who['name']}" + (f" [{who['agency_id']}]" if who["agency_id"] else "")
                   + (f", {answer['province']}" if answer.get("province") else "")
                   + f": {answer['total']:,} duties")
        out.extend(f"  {n}" for n in answer["notes"])
        for doc_rows in _by_document(rows):
            out.append(f"\n{_doc_header(doc_rows[0])}")
            # a duty found through the successor map names its agency: "[Sở Nội vụ] Chủ trì, …"
            out.append(table([[r["section"] or "", r["role"],
                               (f"[{r['agency']}] " if r["via"] else "") + _task(r, 160),
                               "; ".join(r["partners"])] for r in doc_rows],
                             ["Sec", "Role", "Task", "Partners"], [6, 11, None, 18],
                             width).rstrip("\n"))
    elif question == "duty":
        out.append(f"Agencies owning \"{answer['query']}\": {len(rows)} tasks, best match first"
                   + (f" (the first {answer['limit']}; --limit 0 for all)"
                      if answer.get("limit") and len(rows) >= answer["limit"] else ""))
        out.append(table([[[r["agency"], *_where(r)], r["role"], _task(r, 160)] for r in rows],
                         ["Agency, where", "Role", "Task"], [26, 11, None], width).rstrip("\n"))
    elif question == "cites":
        ref = answer.get("reference") or {}
        name = ref.get("canonical_id") or answer["query"]
        carried = f" = {ref['document']}" if ref.get("document") else ""
        out.append(f"{name}{carried}: cited {answer['total']:,} times")
        if rows:
            out.append(table([[r["relation"], r["document"], r.get("province") or "",
                               r.get("date") or ""] for r in rows],
                             ["Relation", "Document", "Province", "Date"], [11, None, 12, 10],
                             width).rstrip("\n"))
        if answer["chain"]:
            out.append("\nChain (above: what it implements; below: what implements or cites it):")
            base = min(c["level"] for c in answer["chain"])
            for item in answer["chain"]:
                mark = "  <== " if item["is_query"] else ""
                line = f"{'  ' * (item['level'] - base)}{'└ ' if item['level'] > base else ''}{item['label']}{mark}"
                out.append(_clip(line, width))
            if not answer.get("chain_complete", True):
                out.append(f"… chain cut at {answer['limit']} nodes below it; --limit 0 for all")
    elif question == "gaps":
        out.append(f"Tasks with no deadline, lead or result: {answer['total']:,}")
        for doc_rows in _by_document(rows):
            out.append(f"\n{_doc_header(doc_rows[0])}")
            out.append(table([[r["agency"], r["section"] or "", ", ".join(r["missing"]), _task(r, 120)]
                              for r in doc_rows], ["Agency", "Sec", "Missing", "Task"],
                             [20, 6, 10, None], width).rstrip("\n"))
    if not rows:
        out.append("nothing matches")
    elif question != "duty" and len(rows) < answer["total"]:
        out.append(f"\n{_showing(answer)}")
    return "\n".join(out) + "\n"


def _showing(answer: dict[str, Any]) -> str:
    return f"showing {len(answer['rows']):,} of {answer['total']:,}; --limit 0 for all"


def _by_document(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["document"], []).append(row)
    return list(groups.values())
