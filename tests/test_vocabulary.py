"""Vocabulary lives in rules/, not in code: no Vietnamese word in a string literal of pipeline/*.py.

Rules are data (README, "How it works"): a new heading style, a new phrase or a new province is a
change to rules/*.yaml, reviewed like code, each pattern with examples that tests/test_rules.py
proves. The code holds the grammar of the algorithm, not the words of the language.

The check is pragmatic. It reads every module of the package (the rules loader, pipeline/rules.py,
only loads files and is skipped) and flags each string literal that holds a Vietnamese word:

- a letter with a Vietnamese diacritic (ă â đ ê ô ơ ư or a tone mark), outside a regex character
  class that spells a range of the alphabet ("[A-ZĐ]", "[a-zđ]": letters, not words); or
- a word or phrase of Vietnamese written without diacritics, as patterns over the search key are
  ("ke hoach", "ubnd", "ngay"), from the list below.

Not flagged: docstrings and comments (they explain); log, warning and error messages and command
help (they talk to people); ids, snake_case ("ke_hoach", "to_chuc_thuc_hien") or defined by the
rules as an `id`, `type` or `kind` ("luat", "tinh"): keys of the rules and of the JSON, not words
of a text; letters listed in both cases ("đĐ"): an alphabet, not a word. A format word that is
truly grammar of the algorithm goes in ALLOWED, with why (none so far).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

PIPELINE = Path(__file__).resolve().parent.parent / "pipeline"
SKIPPED = {"rules.py"}  # loads rules/*.yaml; holds no vocabulary of its own
MODULES = sorted(p for p in PIPELINE.rglob("*.py") if p.name not in SKIPPED)  # subpackages too

# Letters that only Vietnamese writes among the Latin scripts the documents use.
VIETNAMESE_LETTER = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE)
# A character class with a range ("[A-ZĐÂĂÊÔƠƯ]", "[a-zđ]", "[Â-Æá]") names letters of an alphabet.
ALPHABET_CLASS = re.compile(r"\[\^?(?:\\.|[^\]\\])*?[^\W\d_]-[^\W\d_](?:\\.|[^\]\\])*\]")
# Words and phrases of Vietnamese written without diacritics (how patterns over the search key and
# folded comparisons spell them). Each is matched as whole words, after regex escapes (\s, \b) and
# group names are dropped, so 'ban\s+hanh' reads "ban hanh".
FOLDED = {
    # words that no English string holds
    "ubnd", "hdnd", "ngay", "thang", "tinh", "huyen", "phuong", "luat", "nghi", "quyet", "hoach",
    "trien", "khai", "thuc", "hien", "nhiem", "trach", "phoi", "cua", "cac", "duoc", "nhung", "voi",
    "theo", "tham", "muu", "suat", "uoc", "hiep", "nhan", "kinh", "tiep", "cuong",
    # short words, flagged in phrases only
    "can cu", "noi nhan", "ke hoach", "bao cao", "chi thi", "cong van", "thong tu", "thong bao",
    "to trinh", "uy ban", "nhan dan", "hoi dong", "ban hanh", "ty le", "tan suat", "ve viec",
    "chu tri", "yeu cau", "de nghi", "muc tieu", "giai phap", "dia ban", "tang cuong", "doi voi",
    "va cac", "so nam", "nam so", "bo luat",
}
_FOLDED_RE = re.compile(r"(?<![a-z0-9_])(?:" + "|".join(
    sorted((re.escape(w).replace(r"\ ", r"\s+") for w in FOLDED), key=len, reverse=True)) + r")(?![a-z0-9_])")
# Dropped before the folded words are looked for: regex escapes, group names, format fields,
# and SQL comments (comments, like those of Python).
_REGEX_NOISE = re.compile(r"\\[a-zA-Z]|\(\?P?<\w+>|\(\?P=\w+\)|\{\w+\}|--\s[^\n]*")
_SNAKE_ID = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")


def _rule_ids() -> frozenset[str]:
    """The ids that rules/*.yaml define: values of `id`, `type` and `kind`, keys of `kinds`."""
    ids: set[str] = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("id", "type", "kind") and isinstance(value, str):
                    ids.add(value)
                if key == "kinds" and isinstance(value, dict):
                    ids.update(k for k in value if isinstance(k, str))
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted((PIPELINE.parent / "rules").glob("*.yaml")):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return frozenset(i for i in ids if re.fullmatch(r"[a-z][a-z0-9_]*", i))


RULE_IDS = _rule_ids()

# Calls whose string arguments talk to people: messages, not vocabulary.
MESSAGE_CALLS = {"print", "log", "warn", "warning", "error", "info", "debug", "exception", "critical",
                 "fail", "skip", "exit", "RunError", "UsageError", "add_argument", "add_parser",
                 "ArgumentParser", "add_subparsers"}
MESSAGE_KEYWORDS = {"help", "description", "epilog", "usage", "metavar", "message", "msg", "reason"}

# Format words that are grammar of the algorithm: (module, literal) -> why. None so far.
ALLOWED: dict[tuple[str, str], str] = {}


def _letter_list(text: str) -> bool:
    """Letters listed each in both cases ("đĐ", "ĂăĐđƠơƯư"): an alphabet, not a word."""
    return text.isalpha() and all(c.swapcase() in text for c in text)


def _message_strings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings, or parts of a message to people."""
    skip: set[int] = set()

    def mark(node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                skip.add(id(sub))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body \
                and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            skip.add(id(body[0].value))
        if isinstance(node, ast.Raise) and node.exc is not None:
            mark(node.exc)
        elif isinstance(node, ast.Assert) and node.msg is not None:
            mark(node.msg)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in MESSAGE_CALLS:
                for arg in node.args:
                    mark(arg)
            for kw in node.keywords:
                if name in MESSAGE_CALLS or kw.arg in MESSAGE_KEYWORDS:
                    mark(kw.value)
    return skip


def vocabulary_hits(path: Path, allowed: dict[tuple[str, str], str] = ALLOWED) -> list[tuple[int, str]]:
    """(line, literal) of every string literal of a module that holds a Vietnamese word."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _message_strings(tree)
    hits = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in skip:
            continue
        text = node.value
        if (path.name, text) in allowed or _SNAKE_ID.fullmatch(text) or text in RULE_IDS or _letter_list(text):
            continue
        letters = ALPHABET_CLASS.sub(" ", text)
        folded = _REGEX_NOISE.sub(" ", letters).lower()
        if VIETNAMESE_LETTER.search(letters) or _FOLDED_RE.search(folded):
            hits.append((node.lineno, text))
    return sorted(hits)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PIPELINE)))
def test_no_vietnamese_word_in_code(path):
    hits = [f"{path.name}:{line}: {text[:80]!r}" for line, text in vocabulary_hits(path)]
    assert hits == [], "vocabulary belongs in rules/*.yaml:\n" + "\n".join(hits)


def test_the_check_finds_words_and_spares_grammar(tmp_path):
    module = tmp_path / "sample.py"
    module.write_text('''"""Docstring: Kế hoạch số 12."""
import re
A = re.compile(r"^(?:Kính\\s+gửi|Nơi\\s+nhận)")
B = ("ty le", "tan suat")
C = re.compile(r"luat\\s+(?:so\\s+)?(?P<lnum>\\d+)")
D = re.compile(r"[A-ZĐ][a-zđ]{1,3}")
E = "ke_hoach"
F = re.compile(r"\\(?P<num>\\d+)/(?P<sym>[A-Z]+)")
def f(doc):
    doc.warn("header", f"số {1} không đọc được")
    raise ValueError("tỉnh không rõ")
''', encoding="utf-8")
    assert [line for line, _ in vocabulary_hits(module)] == [3, 4, 4, 5]


def test_allowed_words_are_still_used():
    for (module, literal), why in ALLOWED.items():
        assert why, f"{module}: {literal!r} needs its reason"
        literals = {text for _, text in vocabulary_hits(PIPELINE / module, allowed={})}
        assert literal in literals, f"{module}: {literal!r} is no longer used; drop it from ALLOWED"
