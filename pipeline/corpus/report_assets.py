"""What `vanban report` and `vanban diff` render with: the Jinja2 templates, the page's CSS
and script, and the wording helpers the templates (and the run summary) share.

The templates live in `pipeline/corpus/templates/`: `report.html` (the page), `diff.html` (the
diff's own page) and `diff_fragment.html` (the diff, also inside the report), `highlight.html`
(a document's text with its items marked), `graph.svg.html` (the citation graph) and
`diff.md` (the diff as Markdown). Every `.html` template is autoescaped: a string from a
document can never become markup. The Markdown template is not HTML: its table cells go
through the `cell` filter instead.

`report.css` and `report.js` are inlined into the page, so the report is one file that opens
with no network. The script builds the detail panel with `textContent` only (never
`innerHTML` with data), so document text can never become markup there either.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

CSS = (TEMPLATES_DIR / "report.css").read_text(encoding="utf-8")
JS = (TEMPLATES_DIR / "report.js").read_text(encoding="utf-8")


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """'1 document', '5 documents', '2 agencies', '3 alternate formats'."""
    if count == 1:
        return f"{count} {noun}"
    if plural_form is None:
        head, _, last = noun.rpartition(" ")
        if last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
            last = last[:-1] + "ies"
        elif last.endswith(("s", "x", "ch", "sh")):
            last += "es"
        else:
            last += "s"
        plural_form = f"{head} {last}" if head else last
    return f"{count} {plural_form}"


def short(text: Any, limit: int = 180) -> str:
    """One line of at most `limit` characters, cut with '…'."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def markdown_cell(value: Any) -> str:
    """A value that stays inside one cell of a Markdown table."""
    return str("" if value is None else value).replace("|", "\\|").replace("\n", " ")


@lru_cache(maxsize=1)
def environment():
    """The Jinja2 environment of the templates: HTML autoescaped, Markdown not."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html", "svg"), default_for_string=True, default=False),
        undefined=StrictUndefined,  # a name the code forgot to pass is an error, never an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(plural=plural, short=short, cell=markdown_cell)
    from .diff import template_filters

    env.filters.update(template_filters())
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
