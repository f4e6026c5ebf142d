"""The document model: plain data classes passed from stage to stage.

Every stage reads a `Document` and fills in its own part; nothing rereads the file.
`schemas/document.schema.json` describes exactly `Document.to_dict()`; a test keeps the
two in step (tests/test_schema.py).

Offsets: every `Span` points into `Document.text`, the *normalized* text (NFC, hard wraps
re-joined). `Document.source_map` maps a normalized offset back to the source line and page.
"""
from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from functools import lru_cache
from types import UnionType
from typing import Any, Union, get_args, get_origin, get_type_hints

SCHEMA_VERSION = "1.0"


@dataclass(slots=True)
class Span:
    """Half-open character range [start, end) in the normalized text."""

    start: int
    end: int
    page: int | None = None  # 1-based page of `start` when the format has pages


@dataclass(slots=True)
class Issue:
    """A warning or error, with the stage that raised it."""

    stage: str
    message: str
    span: Span | None = None


@dataclass(slots=True)
class SourceInfo:
    path: str
    file_name: str
    format: str  # txt | pdf | docx | doc
    sha256: str
    size_bytes: int
    encoding: str | None = None  # for txt: utf-8, utf-16, cp1258, tcvn3, vni, ...
    page_count: int | None = None
    converted_from: str | None = None  # e.g. "doc" when LibreOffice converted a .doc


@dataclass(slots=True)
class SourceText:
    """What ingest hands to normalize: the extracted text and where pages start."""

    text: str
    info: SourceInfo
    page_starts: list[int] = field(default_factory=list)  # offsets in `text`, one per page
    # Text found outside the ordinary page content (signature stamps, form fields,
    # annotations of digitally signed PDFs); the header stage reads it for number and date.
    extra_layers: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Tables found by ingest: tables[t][row][col] = (start, end) of that cell's text in `text`,
    # one entry per grid column (see `Table` for merged and empty cells).
    tables: list[list[list[tuple[int, int]]]] = field(default_factory=list)
    # True when a line break may be a visual wrap inside a paragraph (TXT, PDF), so normalize
    # re-joins lines; False when every line is a real paragraph (DOCX), so it never joins
    # them (which also keeps the cells of a table apart).
    hard_wrapped: bool = True


@dataclass(slots=True)
class SourceMap:
    """Maps offsets of the normalized text back to the source text.

    `segments` holds (norm_start, src_start) pairs: from `norm_start` on, normalized
    characters are copied one for one from `src_start` on, until the next segment.
    """

    segments: list[tuple[int, int]] = field(default_factory=list)
    source_line_starts: list[int] = field(default_factory=list)
    page_starts: list[int] = field(default_factory=list)  # in source offsets
    # the segments' normalized starts, built once: a span is made for every extracted item,
    # each asking for its page
    _starts_cache: list[int] = field(default_factory=list, repr=False, compare=False,
                                     metadata={"serialize": False})

    def _norm_starts(self) -> list[int]:
        if len(self._starts_cache) != len(self.segments):
            self._starts_cache = [s[0] for s in self.segments]
        return self._starts_cache

    def to_source(self, offset: int) -> int:
        if not self.segments:
            return offset
        index = bisect.bisect_right(self._norm_starts(), offset) - 1
        norm_start, src_start = self.segments[max(index, 0)]
        return src_start + (offset - norm_start)

    def to_norm(self, src_offset: int) -> int:
        """The normalized offset of source offset `src_offset` (inverse of `to_source`).

        A source offset inside text that normalize dropped (a collapsed space run, a page
        number line) maps to the next normalized character after the gap.
        """
        if not self.segments:
            return src_offset
        index = bisect.bisect_right(self.segments, src_offset, key=lambda seg: seg[1]) - 1
        if index < 0:
            return self.segments[0][0]
        norm_start, src_start = self.segments[index]
        norm = norm_start + (src_offset - src_start)
        if index + 1 < len(self.segments):
            norm = min(norm, self.segments[index + 1][0])
        return norm

    def source_line(self, offset: int) -> int:
        """1-based line of the source text that holds normalized `offset`."""
        return bisect.bisect_right(self.source_line_starts, self.to_source(offset))

    def page(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        return bisect.bisect_right(self.page_starts, self.to_source(offset)) or 1


@dataclass(slots=True)
class Metadata:
    doc_type: str | None = None  # ke_hoach | bao_cao | cong_van | quyet_dinh | ...
    number: str | None = None  # "664"; null when the "Số:" line is blank
    symbol: str | None = None  # "KH-UBND"
    issuer: str | None = None  # "UBND tỉnh Cao Bằng"
    province: str | None = None
    date: str | None = None  # ISO; "2025-12" when the day is blank
    place: str | None = None
    title: str | None = None  # trích yếu
    signer_name: str | None = None
    signer_title: str | None = None
    recipients: list[str] = field(default_factory=list)  # Kính gửi
    distribution: list[str] = field(default_factory=list)  # Nơi nhận
    spans: dict[str, Span] = field(default_factory=dict)  # field name -> where it was read


@dataclass(slots=True)
class Section:
    """A node of the outline: a numbered heading, a lettered item or a bullet."""

    id: str  # path such as "V.2.a"; bullets add "#n"; a part/chapter is "part-I"/"chapter-II" and no step of its children's paths
    number: str | None  # "V", "2", "4.1", "a"; None for bullets
    marker: str  # roman | arabic | decimal | letter | dash (any bullet glyph but +: - – — • * ▪ ➢) | plus | part | article | chapter | attachment (a document printed after the signature, "attachment-N")
    level: int  # 1 = top level; 0 = a part (Phần), chapter (Chương) or attachment grouping top-level sections
    heading: str  # the heading line after the marker (for bullets: their first sentence)
    kind: str | None  # canonical kind for top-level sections, else None
    span: Span  # the whole section, children included
    heading_span: Span
    parent: str | None = None


@dataclass(slots=True)
class Mention:
    text: str
    span: Span
    form: str = "full"  # full | short | alias | footnote


@dataclass(slots=True)
class Reference:
    id: str  # stable within the document: canonical_id
    canonical_id: str
    doc_type: str
    number: str | None
    symbol: str | None
    date: str | None
    issuer: str | None
    title: str | None
    relation: str  # implements | reports_on | cites
    text: str  # verbatim text of the first full mention
    span: Span
    mentions: list[Mention] = field(default_factory=list)
    resolved_to: str | None = None  # id of a document of the same run


@dataclass(slots=True)
class Deadline:
    text: str  # "trước ngày 15 tháng 12 hằng năm"
    span: Span
    date: str | None = None  # ISO or partial ("--12-15" for a yearly day)
    recurrence: str | None = None  # yearly | half_yearly | quarterly | monthly | ad_hoc
    who: str | None = None
    what: str | None = None
    relative: str | None = None  # a limit counted from an event, ISO 8601 duration: "P10D", "PT24H"


@dataclass(slots=True)
class AgencySpan:
    """One mention of an agency in the text: a gazetteer name, a group addressee ("các sở, ban,
    ngành"), a title before a body ("Thủ trưởng các cơ quan"), or a name read by pattern."""

    text: str  # verbatim
    span: Span
    name: str  # as named, abbreviations expanded
    agency_id: str | None  # canonical id from the gazetteer (a group's class id for groups)
    known: bool
    kind: str | None
    how: str  # gazetteer | group | pattern | title | distributed


@dataclass(slots=True)
class Passage:
    """A piece of the text, verbatim, with its span."""

    text: str
    span: Span


@dataclass(slots=True)
class Coverage:
    """What the assignments stage could not read: lines that look like directives (a directing
    verb and an agency mention, outside sections that only describe) and yielded no assignment."""

    directive_sentences: int = 0
    unassigned: list[Passage] = field(default_factory=list)


@dataclass(slots=True)
class Assignment:
    agency: str  # as named, abbreviations expanded
    agency_raw: str  # verbatim
    agency_id: str | None  # canonical id from the gazetteer
    known: bool  # found in the gazetteer
    agency_kind: str | None
    successor: str | None  # canonical id after the 2025 restructuring
    province: str | None
    role: str  # lead | support | responsible | requested
    partners: list[str]
    section: str | None  # section path "V.2"
    task: str
    span: Span
    deadline: Deadline | None = None
    topics: list[str] = field(default_factory=list)
    five_clear: dict[str, bool] = field(default_factory=dict)  # "5 rõ"
    agency_span: Span | None = None  # where the agency is named (heading, subject, table cell)


@dataclass(slots=True)
class Target:
    indicator: str
    direction: str  # increase | decrease | reach
    value: float
    unit: str | None
    text: str
    span: Span
    period: str | None = None
    qualifier: str | None = None  # at_least | at_most | about


@dataclass(slots=True)
class Result:
    indicator: str
    value: float
    unit: str | None
    text: str
    span: Span
    compared_to: str | None = None
    change: float | None = None


@dataclass(slots=True)
class Table:
    """A table of the source (DOCX; PDF later): each cell as a span of the normalized text.

    `rows[r][c]` is the cell at grid row r, column c, so a column index means the same
    column in every row. A merged cell is written once in the text and its span is repeated
    at every grid position it covers (a lead agency merged down three rows leads all three).
    An empty cell is a zero-length span where its text would be.
    """

    span: Span  # the whole table
    rows: list[list[Span]] = field(default_factory=list)


@lru_cache(maxsize=1)
def _body_end_pattern():
    """rules/header.yaml body_end, compiled once (a textkeys.LinePattern)."""
    from .rules import load
    from .textkeys import LinePattern

    return LinePattern(load("header")["body_end"]["pattern"])


@dataclass(slots=True)
class Document:
    id: str  # file stem
    source: SourceInfo
    status: str = "ok"  # ok | partial | failed
    text: str = ""
    pages: list[Span] = field(default_factory=list)
    metadata: Metadata = field(default_factory=Metadata)
    sections: list[Section] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    assignments: list[Assignment] = field(default_factory=list)
    agencies: list[AgencySpan] = field(default_factory=list)  # every agency mention
    coverage: Coverage = field(default_factory=Coverage)
    targets: list[Target] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    deadlines: list[Deadline] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    schema_version: str = SCHEMA_VERSION
    pipeline_version: str = ""
    # Not serialised: the map back to the source, and text layers that ingest found outside
    # the page text (signature stamps of signed PDFs), which the header stage reads.
    source_map: SourceMap | None = field(default=None, repr=False, metadata={"serialize": False})
    extra_layers: list[str] = field(default_factory=list, repr=False, metadata={"serialize": False})
    _keys: dict[str, str] = field(default_factory=dict, repr=False, metadata={"serialize": False})
    _found: dict[str, Any] = field(default_factory=dict, repr=False, metadata={"serialize": False})

    def match_text(self) -> str:
        """`match_key(self.text)`, computed once and shared by every stage."""
        if "match" not in self._keys:
            from .textkeys import match_key

            self._keys["match"] = match_key(self.text)
        return self._keys["match"]

    def search_text(self) -> str:
        """`search_key(self.text)`, computed once and shared by every stage."""
        if "search" not in self._keys:
            from .textkeys import search_key

            self._keys["search"] = search_key(self.text)
        return self._keys["search"]

    def body_end(self) -> int:
        """Where the body ends: the distribution list ("Nơi nhận:", rules/header.yaml body_end),
        after which names are addressees and dates are no deadlines; found once, shared."""
        if "body_end" not in self._found:
            hit = _body_end_pattern().search(self.match_text())
            self._found["body_end"] = hit.start() if hit else len(self.text)
        return self._found["body_end"]

    def deadline_hits(self) -> list:
        """The deadlines the text states (`pipeline.stages.measures.find_deadlines` over the whole
        text), found once and shared: the measures stage lists them, the assignments stage
        gives each task the ones inside it (one recogniser, one pass, one result)."""
        if "deadlines" not in self._found:
            from .stages.measures import find_deadlines

            self._found["deadlines"] = find_deadlines(self.text, key=self.match_text(), runs=self.digit_runs())
        return self._found["deadlines"]

    def digit_runs(self) -> list[int]:
        """Where each run of digits of the match text starts (`timex.digit_runs`), found once:
        the time recogniser starts from them and the result reader skips what lies between."""
        if "digit_runs" not in self._found:
            from .stages.timex import digit_runs

            self._found["digit_runs"] = digit_runs(self.match_text())
        return self._found["digit_runs"]

    def warn(self, stage: str, message: str, span: Span | None = None) -> None:
        self.warnings.append(Issue(stage, message, span))

    def span(self, start: int, end: int) -> Span:
        """A span with its page filled in from the source map."""
        page = self.source_map.page(start) if self.source_map else None
        return Span(start, end, page)

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Document":
        """The typed document of a JSON written by `to_dict` (a run's `<id>.json`), so corpus-level
        code can read `doc.metadata.province` instead of ad-hoc dict keys; the inverse of
        `to_dict` (tests/test_schema.py proves the round trip on the corpus)."""
        return _typed(cls, data)


def _serialised_fields(cls: type) -> tuple[str, ...]:
    """Names of a data class's fields that go into the JSON."""
    return tuple(f.name for f in fields(cls) if f.metadata.get("serialize", True))


_SCALARS = frozenset({str, int, float, bool, type(None)})
_TO_DICT: dict[type, Any] = {}


def _to_dict_of(cls: type) -> Any:
    """A function that turns one instance of the data class `cls` into a dict of its serialised
    fields. Generated once per class, as `dataclasses` generates `__init__`: documents hold a
    few hundred items (agency mentions, spans), and a generic walk over `fields()` for each was
    most of the time spent writing a document's JSON."""
    conv = _TO_DICT.get(cls)
    if conv is None:
        _TO_DICT[cls] = _plain_of  # while this one is made: a class that holds itself goes through _plain
        try:
            env: dict[str, Any] = {"_plain": _plain}
            hints = get_type_hints(cls)
            items = [f"{f.name!r}: {_field_expr(f'obj.{f.name}', hints[f.name], env)}"
                     for f in fields(cls) if f.metadata.get("serialize", True)]
            conv = eval("lambda obj: {" + ", ".join(items) + "}", env)  # noqa: S307 (our own field names)
        except BaseException:
            del _TO_DICT[cls]  # never leave the stand-in: _plain would call itself through it
            raise
        _TO_DICT[cls] = conv
    return conv


def _plain_of(obj: Any) -> Any:
    return _plain(obj)


def _field_expr(access: str, hint: Any, env: dict[str, Any]) -> str:
    """How a field of this type becomes JSON data, as a Python expression over `access`: what
    `_plain` would do, decided once from the type instead of for every value. A list of data
    classes converts each item with that class's converter; a list or dict of scalars is
    copied; anything else goes through `_plain`."""
    if hint in _SCALARS:
        return access
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType) and type(None) in args and all(arg in _SCALARS for arg in args):
        return access  # an optional scalar
    if origin is list and len(args) == 1:
        (item,) = args
        if item in _SCALARS:
            return f"(_plain({access}) if type({access}) is not list else [*{access}])"
        if is_dataclass(item):
            name = f"_to_{len(env)}"
            env[name], env[f"{name}_type"] = _to_dict_of(item), item
            # (an item of another class, or None, is left to _plain: what it would do anyway)
            return (f"(_plain({access}) if type({access}) is not list else "
                    f"[{name}(item) if type(item) is {name}_type else _plain(item) for item in {access}])")
    if origin is dict and len(args) == 2 and args[0] is str and args[1] in _SCALARS:
        return f"(_plain({access}) if type({access}) is not dict else dict({access}))"
    return f"_plain({access})"


def _plain(obj: Any) -> Any:
    cls = type(obj)
    if cls in _SCALARS:
        return obj
    if cls is list or cls is tuple:
        return [_plain(v) for v in obj]
    conv = _TO_DICT.get(cls)
    if conv is not None:
        return conv(obj)
    if is_dataclass(obj):
        return _to_dict_of(cls)(obj)
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


@lru_cache(maxsize=None)
def _hints(cls: type) -> dict[str, Any]:
    return {name: hint for name, hint in get_type_hints(cls).items() if name in _serialised_fields(cls)}


def _typed(hint: Any, value: Any) -> Any:
    """`value` (plain JSON data) as the type `hint` of a model field: data classes, lists,
    dicts and optional values are rebuilt; anything else is kept as it is."""
    if value is None:
        return None
    rebuild = _rebuilder(hint)
    return value if rebuild is None else rebuild(value)


@lru_cache(maxsize=None)
def _rebuilder(hint: Any) -> Any:
    """A function that rebuilds a value of type `hint` from its JSON form, or None when the value
    is kept as it is (a scalar). Built once per type, as `_to_dict_of` is for the other way: a
    run's graph export reads every document back, and walking the type hints for each value
    cost about 3.5 ms per document."""
    if is_dataclass(hint):
        fields_of = tuple((name, _rebuilder(field_hint)) for name, field_hint in _hints(hint).items())

        def rebuild_object(value: dict[str, Any]) -> Any:
            return hint(**{name: (value[name] if rebuild is None or value[name] is None else rebuild(value[name]))
                           for name, rebuild in fields_of if name in value})
        return rebuild_object
    origin, args = get_origin(hint), get_args(hint)
    if origin is list:
        item = _rebuilder(args[0])
        if item is None:
            return list
        return lambda value: [None if element is None else item(element) for element in value]
    if origin is dict:
        item = _rebuilder(args[1])
        if item is None:
            return dict
        return lambda value: {key: (None if element is None else item(element)) for key, element in value.items()}
    if origin in (Union, UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        return _rebuilder(inner[0]) if len(inner) == 1 else None
    return None


__all__ = [
    "AgencySpan", "Assignment", "Coverage", "Passage", "Deadline", "Document", "Issue", "Mention", "Metadata", "Reference",
    "Result", "Section", "SourceInfo", "SourceMap", "SourceText", "Span", "Table", "Target",
    "asdict", "SCHEMA_VERSION",
]
