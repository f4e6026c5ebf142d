"""`vanban check REPORT [--plan PLAN]`: hold a report's results against its plan's targets.

Each target of the plan is matched to the report result whose indicator is most alike
(folded token overlap, `diff.indicator_similarity`), then judged with the arithmetic shown:

- a yearly rate of change ("tăng 5%/năm", "giảm ít nhất 4%/năm") needs the result's baseline:
  the report's "707 người (tăng 72 người so với năm 2024)" gives 707 − 72 = 635 the year before,
  so +11.3% against +5% → met;
- a level ("100% …") is compared with a result in the same unit;
- an absolute increase ("tăng thêm 30 doanh nghiệp") is compared with the result's change.

Verdicts: met, missed, not reported (no result for the indicator), not assessable (a result
exists but lacks what the comparison needs, e.g. no baseline). When the target names a rate
("tỷ lệ", "tần suất": per 100,000 workers) and the report gives a count, the count's change
stands in for the rate and a note says so.

With no `--plan`, the plan is found among the documents of the run through the report's
references (see `find_plan`).
"""
from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..model import Document, Reference, Result, Target
from ..rules import load
from ..textkeys import fold

_RULES = load("check")  # rules/check.yaml
# Indicator heads that name a rate rather than a count (folded). A count's change can only
# stand in for a rate's change when the workforce is stable, so the verdict carries a note.
RATE_HEADS = tuple(fold(head) for head in _RULES["rate_heads"])
_YEARLY_UNIT = _RULES["yearly"]["unit_suffix"]
_YEARLY_WORD = fold(_RULES["yearly"]["period_word"])
# Relations of a report's references, most telling first, when looking for its plan.
RELATION_ORDER = ("implements", "reports_on", "cites")


def _year(value: str | None) -> int | None:
    match = re.match(r"(\d{4})", value or "")
    return int(match.group(1)) if match else None


def _pct(value: float) -> str:
    return f"{value:+.1f}%".replace("-", "−")


def _num(value: float) -> str:
    return f"{value:g}".replace("-", "−")


def _is_percent(unit: str | None) -> bool:
    return "%" in (unit or "")


def _is_yearly(unit: str | None, period: str | None) -> bool:
    return _YEARLY_UNIT in (unit or "") or _YEARLY_WORD in fold(period).split()


def needs_baseline(target: Target) -> bool:
    """A relative change (percent per year, or percent with an increase/decrease)."""
    return _is_percent(target.unit) and target.direction in ("increase", "decrease")


def match_result(target: Target, results: list[Result], abbreviations: dict[str, str],
                 threshold: float | None = None) -> tuple[Result | None, float]:
    """The report result that measures the target's indicator, and the similarity."""
    from .diff import INDICATOR_MIN, indicator_similarity

    threshold = INDICATOR_MIN if threshold is None else threshold
    best, best_key, best_score = None, (-1.0, 0), 0.0
    for result in results:
        score = indicator_similarity(target.indicator or "", result.indicator or "", abbreviations)
        if score < threshold:
            continue
        # Between two results of one indicator, prefer the one the comparison can use.
        usable = 1 if (result.change is not None) == needs_baseline(target) else 0
        key = (score, usable)
        if key > best_key:
            best, best_key, best_score = result, key, score
    return best, best_score


def judge(target: Target, result: Result | None, report_year: int | None = None) -> dict[str, Any]:
    """Verdict and arithmetic for one target against one result (or none)."""
    direction = target.direction
    goal = float(target.value or 0)
    unit = target.unit
    notes: list[str] = []
    if result is None:
        return {"verdict": "not reported", "arithmetic": "no result in the report measures this indicator", "notes": notes}

    value = float(result.value)
    r_unit = result.unit
    indicator = fold(target.indicator)
    if any(indicator.startswith(h) for h in RATE_HEADS) and not _is_percent(r_unit):
        notes.append(f"the target is a rate ({target.indicator}); the report gives a count"
                     f" ({_num(value)} {r_unit or ''}), whose change stands in for the rate's")

    if needs_baseline(target):
        change = result.change
        if change is None:
            return {"verdict": "not assessable", "notes": notes,
                    "arithmetic": f"the report gives {_num(value)} {r_unit or ''} but not the earlier figure, so no change can be computed"}
        previous = value - float(change)
        if previous <= 0:
            return {"verdict": "not assessable", "notes": notes,
                    "arithmetic": f"{_num(value)} − {_num(float(change))} = {_num(previous)}: no positive baseline"}
        observed = (value - previous) / previous * 100
        since = result.compared_to
        years = 1
        if _is_yearly(unit, target.period) and _year(since) and report_year and report_year - _year(since) > 1:
            years = report_year - _year(since)
        if direction == "increase":
            required = ((1 + goal / 100) ** years - 1) * 100
            met = observed >= required
        else:
            required = -(1 - (1 - goal / 100) ** years) * 100
            met = observed <= required
        per = f" over {years} years" if years > 1 else ""
        arithmetic = (f"{_num(value)} − {_num(float(change))} = {_num(previous)}"
                      + (f" in {since}" if since else " before")
                      + f"; ({_num(value)} − {_num(previous)}) / {_num(previous)} = {_pct(observed)}"
                      + f" against a target of {_pct(required)}{per} ({'≥' if direction == 'increase' else '≤'})")
        return {"verdict": "met" if met else "missed", "arithmetic": arithmetic, "notes": notes,
                "previous": previous, "observed_change_pct": round(observed, 2), "required_change_pct": round(required, 2)}

    if _is_percent(unit):  # a level in percent ("100% … được điều tra")
        if not _is_percent(r_unit):
            return {"verdict": "not assessable", "notes": notes,
                    "arithmetic": f"the target is a share ({_num(goal)}%); the report gives {_num(value)} {r_unit or ''}"}
        met = value <= goal if direction == "decrease" else value >= goal
        return {"verdict": "met" if met else "missed", "notes": notes,
                "arithmetic": f"{_num(value)}% against {_num(goal)}% ({'≤' if direction == 'decrease' else '≥'})"}

    # An absolute amount: "tăng thêm 30 doanh nghiệp" is a change, "đạt 500 người" a level.
    if direction in ("increase", "decrease"):
        change = result.change
        if change is None:
            return {"verdict": "not assessable", "notes": notes,
                    "arithmetic": f"the report gives {_num(value)} {r_unit or ''} but not the change the target counts"}
        met = float(change) >= goal if direction == "increase" else -float(change) >= goal
        return {"verdict": "met" if met else "missed", "notes": notes,
                "arithmetic": f"change {_num(float(change))} {r_unit or ''} against {'+' if direction == 'increase' else '−'}{_num(goal)} {unit or ''}"}
    met = value >= goal
    return {"verdict": "met" if met else "missed", "notes": notes,
            "arithmetic": f"{_num(value)} {r_unit or ''} against {_num(goal)} {unit or ''} (≥)"}


def _target_row(target: Target) -> dict[str, Any]:
    """The target as a check row shows it (the fields of `schemas/document.schema.json`)."""
    return {"indicator": target.indicator, "direction": target.direction, "value": target.value, "unit": target.unit,
            "qualifier": target.qualifier, "period": target.period, "text": target.text, "span": asdict(target.span)}


def _result_row(result: Result) -> dict[str, Any]:
    """The result as a check row shows it."""
    return {"indicator": result.indicator, "value": result.value, "unit": result.unit, "compared_to": result.compared_to,
            "change": result.change, "text": result.text, "span": asdict(result.span)}


def check_report(report: Document, plan: Document) -> dict[str, Any]:
    """Every target of `plan` against the results of `report`."""
    from .diff import TextSimilarity

    abbreviations = TextSimilarity([report, plan]).abbreviations
    report_year = _year(report.metadata.date)
    rows = []
    for target in plan.targets:
        result, score = match_result(target, report.results, abbreviations)
        row = {
            "target": _target_row(target),
            "result": _result_row(result) if result else None,
            "similarity": score if result else None,
        }
        row.update(judge(target, result, report_year))
        rows.append(row)
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in ("met", "missed", "not reported", "not assessable")}
    return {"report": report.id, "plan": plan.id, "rows": rows, "counts": counts}


# --------------------------------------------------------------------------------------------
# Finding the plan of a report


def _doc_number(doc: Document) -> str | None:
    metadata = doc.metadata
    if metadata.number and metadata.symbol:
        return f"{metadata.number}/{metadata.symbol}"
    return None


def reference_matches(ref: Reference, doc: Document) -> str | None:
    """How `ref` designates `doc` ("resolved_to", "number", "type and date"), or None."""
    if ref.resolved_to == doc.id:
        return "resolved_to"
    number = _doc_number(doc)
    if number and fold(number) == fold(ref.canonical_id):
        return "number"
    metadata = doc.metadata
    # A document whose own number is blank: same type, same full date, compatible symbol.
    if (not metadata.number and ref.date and metadata.date == ref.date
            and len(ref.date) == 10 and ref.doc_type == metadata.doc_type
            and (not metadata.symbol or not ref.symbol or fold(metadata.symbol) == fold(ref.symbol))):
        return "type and date"
    return None


def find_plan(report: Document, docs: list[Document]) -> tuple[Document | None, str]:
    """The plan a report accounts for, among the documents of a run, and how it was found."""
    plans = [d for d in docs if d.id != report.id and d.metadata.doc_type == "ke_hoach"]
    refs = sorted(report.references,
                  key=lambda reference: (RELATION_ORDER.index(reference.relation)
                                         if reference.relation in RELATION_ORDER else 9))
    for want_targets in (True, False):
        for ref in refs:
            for plan in plans:
                if want_targets and not plan.targets:
                    continue
                how = reference_matches(ref, plan)
                if how:
                    return plan, f"the report's reference {ref.canonical_id} ({ref.relation}) matches it by {how}"
    # Last resort: a plan of the same province implementing what the report reports on.
    province = report.metadata.province
    subjects = {r.canonical_id for r in refs if r.relation in ("reports_on", "implements")}
    for plan in plans:
        implements = {r.canonical_id for r in plan.references if r.relation == "implements"}
        if plan.metadata.province == province and subjects & implements:
            shared = ", ".join(sorted(subjects & implements))
            return plan, f"same province, and the plan implements {shared}, which the report reports on"
    return None, "no reference of the report designates a plan of the run"


# --------------------------------------------------------------------------------------------
# Rendering and command line


def to_markdown(check: dict[str, Any], how: str | None = None) -> str:
    from .diff import format_value

    lines = [f"# Check: {check['report']} against {check['plan']}", ""]
    if how:
        lines += [f"Plan found: {how}.", ""]
    lines += ["| target | plan | report | arithmetic | verdict |", "|---|---|---|---|---|"]
    for row in check["rows"]:
        target, res = row["target"], row["result"]
        reported = "—"
        if res:
            reported = f"{res['indicator']}: {_num(res['value'])} {res.get('unit') or ''}".strip()
            if res.get("change") is not None:
                reported += f" ({'+' if res['change'] >= 0 else ''}{_num(res['change'])} vs {res.get('compared_to') or 'before'})"
        arith = row["arithmetic"] + "".join(f" — note: {n}" for n in row["notes"])
        cells = [target["indicator"], format_value(target), reported, arith, f"**{row['verdict']}**"]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    counts = check["counts"]
    lines += ["", f"{counts['met']} met, {counts['missed']} missed, {counts['not reported']} not reported, "
                  f"{counts['not assessable']} not assessable."]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", help="the report: a file (TXT/PDF/DOCX/JSON) or a document id of the run")
    parser.add_argument("--plan",
                        help="the plan: a file or a document id; found through the report's references when omitted")
    parser.add_argument("--run", type=Path, default=Path("outputs"), help="run folder (default: outputs/)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown")


def main(args: argparse.Namespace) -> int:
    from .diff import read_document, read_run

    try:
        report = read_document(args.report, args.run)
        if args.plan:
            plan, how = read_document(args.plan, args.run), None
        else:
            plan, how = find_plan(report, read_run(args.run))
            if plan is None:
                sys.stderr.write(f"vanban check: {how} ({args.run}); give --plan\n")
                return 1
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"vanban check: {exc}\n")
        return 1
    result = check_report(report, plan)
    if how:
        result["plan_found"] = how
    if not plan.targets:
        sys.stderr.write(f"vanban check: {plan.id} has no targets\n")
    if args.format == "json":
        from ..stages.emit import dumps

        sys.stdout.write(dumps(result) + "\n")
    else:
        sys.stdout.write(to_markdown(result, how))
    return 0
