"""Benchmark of the SQLite store: build a store of N synthetic documents, time the queries.

    python -m pipeline.bench.store --docs 10000 [--db PATH [--reuse]] [--repeat 20]

The documents are the corpus's own pipeline output (corpus/*.txt parsed once), copied N times
with perturbed names: each copy moves to another province (rules/provinces.yaml), swaps some
agencies for others of the gazetteer (rules/agencies.yaml), renumbers the documents it cites
(keeping the shared directives such as 209/NQ-CP, so they are cited by thousands), gives each
document and each renumbered reference a date of its own (2022-2026), and adds a
word to each task so the full-text index is not made of duplicates. Building from dicts skips
parsing: this measures the store, not the stages (`vanban bench` measures those).

Two tables: what `vanban query` does by default (a page of 50 rows, the total counted in SQL,
the terminal table drawn; the interpreter's start-up excluded), then the Python API's unlimited
answers for reference. Figures are printed, never asserted. Target: each `vanban query` under
50 ms on 10,000 documents.
"""
from __future__ import annotations

import argparse
import copy
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CORPUS_DIR = Path(__file__).resolve().parents[2] / "corpus"
# The copies' words and the questions timed: rules/bench.yaml (`store`, `questions`).


def corpus_documents() -> list[dict[str, Any]]:
    from .. import parse_file

    return [parse_file(p).to_dict() for p in sorted(CORPUS_DIR.glob("*.txt"))]


def synthesize(templates: list[dict[str, Any]], count: int, seed: int = 0):
    """Yield `count` document dicts, document `idx` always the same for a given seed."""
    from ..rules import load

    words = load("bench")["store"]
    shared_refs, extra_words = set(words["shared_references"]), words["task_words"]
    provinces = [p["name"] for p in load("provinces")["current"]]
    agencies = [a for a in load("agencies")["agencies"] if a.get("kind") == "so_ban_nganh"]
    successors = {s["from"]: s["to"] for s in load("agencies").get("successors", [])}
    for idx in range(count):
        rng = random.Random(f"{seed}:{idx}")
        doc = copy.deepcopy(templates[idx % len(templates)])
        doc["id"] = f"synth-{idx:06d}"
        province = provinces[rng.randrange(len(provinces))]
        meta = doc["metadata"]
        meta["province"] = province
        if meta.get("issuer"):
            meta["issuer"] = words["issuer"].format(province=province)
        if meta.get("symbol"):
            meta["number"] = str(rng.randrange(1, 1_000_000))
        if meta.get("date"):  # one document per number, a few per day, as in a real corpus
            meta["date"] = _random_date(rng, meta["date"])
        for ref in doc["references"]:
            if ref["canonical_id"] not in shared_refs and ref.get("number"):
                number = str(rng.randrange(1, 1_000_000))  # one document per number: few chance collisions
                ref["canonical_id"] = ref["id"] = f"{number}/{ref['symbol']}"
                ref["number"] = number
                if ref.get("date"):
                    ref["date"] = _random_date(rng, ref["date"])
            ref["resolved_to"] = None
        swap = {}
        for assignment in doc["assignments"]:
            assignment["province"] = province
            if assignment.get("agency_kind") == "so_ban_nganh" and rng.random() < 0.3:
                other = swap.setdefault(assignment["agency"], agencies[rng.randrange(len(agencies))])
                assignment["agency"] = assignment["agency_raw"] = other["name"]
                assignment["agency_id"] = other["id"]
                assignment["successor"] = successors.get(other["id"])  # the swapped agency's, not the old one's
            assignment["task"] = f"{assignment['task']} {extra_words[rng.randrange(len(extra_words))]}"
        yield doc


def _random_date(rng: random.Random, like: str) -> str:
    """A date between 2022 and 2026 as precise as `like` ("2025", "2025-03", "2025-03-10")."""
    full = f"{rng.randint(2022, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return full[: len(like)] if len(like) in (4, 7, 10) else full


def _median_ms(fn, repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def _cli(store, question: str, **options: Any):
    """What `vanban query QUESTION ...` runs with its defaults: the answer and its table."""
    from argparse import Namespace

    from ..corpus.query import ANSWERS, DEFAULT_LIMIT, answer_text

    args = Namespace(**({"question": question, "limit": DEFAULT_LIMIT, "province": None,
                         "agency": None} | options))

    def run() -> dict[str, Any]:
        # each `vanban query` is a process of its own: nothing kept from the previous answer
        store.clear_cache()
        answer = ANSWERS[question](store, args)
        answer_text(question, answer, width=80)
        return answer
    return run


def main(argv: list[str] | None = None) -> int:
    from ..rules import load
    from ..corpus.store import Store

    parser = argparse.ArgumentParser(prog="python -m pipeline.bench.store", description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=10000, help="documents in the store (default 10000)")
    parser.add_argument("--db", type=Path, help="where to build it (default: a temporary folder)")
    parser.add_argument("--repeat", type=int, default=20, help="runs per query; the median is printed")
    parser.add_argument("--reuse", action="store_true",
                        help="with --db: query the store already there if it holds --docs documents")
    args = parser.parse_args(argv)

    tmp = None
    if args.db is None:
        tmp = tempfile.TemporaryDirectory(prefix="vanban-bench-store-")
        args.db = Path(tmp.name) / "vanban.sqlite"
    store = Store(args.db)
    if args.reuse and store.count("documents") == args.docs:
        print(f"store: reusing {args.db}")
    else:
        templates = corpus_documents()
        t0 = time.perf_counter()
        for doc in synthesize(templates, args.docs):
            store.upsert_document(doc)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        unchanged = sum(store.upsert_document(d) for d in synthesize(templates, min(args.docs, 1000)))
        rerun = time.perf_counter() - t0
        print(f"build: {build:.1f} s ({args.docs / build:.0f} documents/s, one transaction each); "
              f"re-upsert of {min(args.docs, 1000)} unchanged: {rerun * 1000:.0f} ms, "
              f"{unchanged} rewritten")
    size_mb = sum(f.stat().st_size for f in args.db.parent.glob(args.db.name + "*")) / 1e6
    print(f"store: {store.count('documents')} documents, {store.count('assignments')} assignments, "
          f"{store.count('refs')} references, {size_mb:.0f} MB")

    # a renumbered reference: cited by the one or two copies that drew its number
    rare = store.db.execute("SELECT canonical_id FROM refs WHERE doc_id = 'synth-000000' AND "
                            "relation = 'cites' ORDER BY idx DESC LIMIT 1").fetchone()[0]
    questions = load("bench")["questions"]
    agency, abbreviated, duty, cites = (questions["agency"], questions["agency_abbreviated"],
                                        questions["duty"], questions["cites"])
    province, other_province = questions["provinces"]
    cli = [
        (f"agency  {agency} --province {province}", _cli(store, "agency", name=agency, province=province)),
        (f"agency  {abbreviated} --province {other_province}", _cli(store, "agency", name=abbreviated,
                                                                    province=other_province)),
        (f"agency  {agency}", _cli(store, "agency", name=agency)),
        (f"duty    {duty}", _cli(store, "duty", text=duty)),
        (f"duty    {questions['duty_folded']}", _cli(store, "duty", text=questions["duty_folded"])),
        (f"cites   {rare} (a few)", _cli(store, "cites", ref=rare)),
        (f"cites   {cites} (thousands)", _cli(store, "cites", ref=cites)),
        (f"gaps    --province {province}", _cli(store, "gaps", province=province)),
        ("gaps", _cli(store, "gaps")),
    ]
    print(f"\n{'`vanban query`, defaults (--limit 50)':<42} {'median ms':>10} {'shown':>6} "
          f"{'of':>8}  (target 50 ms)")
    for name, fn in cli:
        ms, answer = _median_ms(fn, args.repeat)
        flag = "" if ms < 50 else "  over target"
        print(f"{name:<42} {ms:>10.1f} {len(answer['rows']):>6} {answer['total']:>8}{flag}")

    api = [
        (f"agency_duties({agency})", lambda: store.agency_duties(agency)),
        (f"duty_owners({' '.join(duty.split()[:2])}…, limit=200)", lambda: store.duty_owners(duty)),
        (f"citing({cites})", lambda: store.citing(cites)),
        (f"chain({cites}, limit=50)", lambda: store.chain(cites, limit=50)),
        ("gaps()", lambda: store.gaps()),
    ]
    print(f"\n{'for reference: the Python API, unlimited':<42} {'median ms':>10} {'rows':>8}")
    for name, fn in api:
        ms, rows = _median_ms(fn, max(3, args.repeat // 5))
        print(f"{name:<42} {ms:>10.1f} {len(rows):>8}")
    store.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
