"""Match keys for Vietnamese text: used for matching, never written over the text.

Both keys keep the length of their input, character for character, so a regex run over a
key gives offsets that are valid in the text itself.

- `match_key`: lower case, and one tone-mark placement for the open syllables that are
  written both ways (hoá/hóa, uỷ/ủy, khoẻ/khỏe, thuỷ/thủy, hoà/hòa).
- `search_key`: `match_key` with every diacritic dropped and đ folded to d, for
  accent-insensitive search ("quan trac" finds "quan trắc").
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable
import unicodedata

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook, dot below


def _tone_moves() -> dict[str, str]:
    """'oá' -> 'óa', 'uỷ' -> 'ủy', ...: old placement puts the tone on the first vowel."""
    moves = {}
    for first in "ou":
        for second in "aey":
            for tone in _TONES:
                toned = unicodedata.normalize("NFC", second + tone)
                moved = unicodedata.normalize("NFC", first + tone) + second
                moves[first + toned] = moved
    return moves


_MOVES = _tone_moves()
# Only open syllables ending in oa/oe/uy are written both ways (hoá/hóa, uỷ/ủy, khoẻ/khỏe);
# "qu" + y ("quý") is a consonant + y, and a following letter or combining mark means a
# closed syllable ("hoàng", "hoặc") whose tone sits on the second vowel in both styles.
# The pattern opens with a plain letter class so the regex engine can skip ahead to an o/u.
_OPEN_DIPHTHONG = re.compile(
    "[ou](?<!q[ou])(?:" + "|".join(sorted({k[1:] for k in _MOVES})) + r")(?![^\W\d_]|[\u0300-\u036f])"
)


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def match_key(text: str) -> str:
    """Lower case with a single tone-mark placement; same length as `text`."""
    low = _lower_same_length(text)
    return _OPEN_DIPHTHONG.sub(lambda hit: _MOVES[hit.group(0)], low)


def _strip_char(char: str) -> str:
    if char in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", char)[0]
    return base if base.isascii() else char


# A translation table for every code point below U+3000: str.translate looks a list up about
# twice as fast as a dict; code points past its end are left as they are.
_STRIP_LIST = [_strip_char(chr(cp)) if cp >= 0x80 else chr(cp) for cp in range(0x3000)]


# str.translate looks every character up in a Python list (about 25 ns a character): slow on
# a whole document. Most texts hold nothing but ASCII, Vietnamese letters and some common
# signs; such a text is encoded one byte per character with a charmap codec (each of these
# characters gets a byte of its own), the bytes are stripped with bytes.translate, and the
# result decoded with the same codec: all in C, about five times faster. Each byte is
# stripped exactly as _STRIP_LIST strips its character; a text holding any other character
# takes str.translate.
# The lower-case vowels: a, ă, â, e, ê, i, o, ô, ơ, u, ư, y (breve, circumflex, horn), each
# with no tone or one of the five.
_VOWELS = ("a", "a\u0306", "a\u0302", "e", "e\u0302", "i", "o", "o\u0302", "o\u031b", "u", "u\u031b", "y")
_TONED_VOWELS = [unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in ("", *_TONES)]
_ONE_BYTE_CHARS = (
    "".join(chr(cp) for cp in range(0x80))
    + "".join(c for c in _TONED_VOWELS if not c.isascii()) + "\u0111\u0110"  # d with stroke, both cases
    + _TONES  # tone marks written as combining characters
    + "–—‑‘’“”…•·°±×÷≤≥‰¹²³⁰⁴⁵⁶⁷⁸⁹§©®™€\u00a0\u202f"
)
# U+FFFE marks a byte as unused: charmap_build leaves it out, so "\ufffe" is never encoded.
_ONE_BYTE_TABLE = _ONE_BYTE_CHARS + "\ufffe" * (256 - len(_ONE_BYTE_CHARS))
_ONE_BYTE_CODEC = codecs.charmap_build(_ONE_BYTE_TABLE)
_STRIP_BYTES = bytes(_ONE_BYTE_TABLE.index(_STRIP_LIST[ord(c)]) for c in _ONE_BYTE_CHARS).ljust(256, b"\0")


def _strip(low: str) -> str:
    """`low.translate(_STRIP_LIST)`, through the one-byte codec when every character has a byte."""
    if len(low) < 32:  # a word or two: str.translate is as fast as setting up the codec calls
        return low.translate(_STRIP_LIST)
    try:
        encoded = codecs.charmap_encode(low, "strict", _ONE_BYTE_CODEC)[0]
    except UnicodeEncodeError:
        return low.translate(_STRIP_LIST)
    return codecs.charmap_decode(encoded.translate(_STRIP_BYTES), "strict", _ONE_BYTE_TABLE)[0]


def one_byte(text: str) -> bytes | None:
    """`text` one byte per character (the codec above), or None when a character has no byte.
    ASCII keeps its bytes; the only decimal digits among these characters are 0-9."""
    try:
        return codecs.charmap_encode(text, "strict", _ONE_BYTE_CODEC)[0]
    except UnicodeEncodeError:
        return None


def search_key(text: str) -> str:
    """Lower case, no diacritics, đ -> d; same length as `text`."""
    low = _lower_same_length(text)
    return low if low.isascii() else _strip(low)


def accent_optional(text: str) -> str:
    """A regex for `text` as written, or with its diacritics dropped, case kept: "QĐ" -> "Q[ĐD]"."""
    out = []
    for char in text:
        bare = search_key(char)
        bare = bare.upper() if char.isupper() else bare
        out.append(re.escape(char) if bare == char else f"[{re.escape(char)}{re.escape(bare)}]")
    return "".join(out)


def fold(text: str | None) -> str:
    """A compact comparison key: search_key with runs of non-alphanumerics collapsed."""
    if not text:
        return ""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", search_key(text)).split())


def _letters_and_spaces(phrase: str) -> list[str]:
    """A match-keyed phrase as regex tokens: one per letter, any run of white space for a space."""
    return [r"\s+" if char == " " else re.escape(char) for char in match_key(phrase)]


def trie_alternation(phrases: Iterable[str], tokens: Callable[[str], list[str]] = _letters_and_spaces) -> str:
    """One regex alternation of phrases, factored by common prefixes ("thanh tra|thông tin" ->
    "th(?:anh tra|ông tin)") so the regex engine follows one branch per distinct next token
    instead of trying every phrase (4-5 times faster on the gazetteer's 600 names). `tokens`
    spells a phrase as regex tokens: by default its match key letter by letter, a space matching
    any run of white space. Along each path the longer phrases come first, as in a
    length-sorted alternation."""
    trie: dict = {}
    for phrase in set(phrases):
        node = trie
        for token in tokens(phrase):
            node = node.setdefault(token, {})
        node[""] = {}

    def depth(node: dict) -> int:
        return max((1 + depth(sub) for token, sub in node.items() if token), default=0)

    def emit(node: dict) -> str:
        branches = sorted(((token, sub) for token, sub in node.items() if token), key=lambda item: (-depth(item[1]), item[0]))
        alts = [token + emit(sub) for token, sub in branches]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return "(?:" + body + ")?" if "" in node else body

    return emit(trie)


class LinePattern:
    """A pattern whose every match starts at a line start ("^..." in each top-level
    alternative, multiline), searched without trying it at every character.

    Python's regex engine tries a `^` of re.M at each position of the text; the same pattern
    behind a newline ("\\n(?:^...)") is skipped from newline to newline in C: five to ten
    times faster over a whole document. `search`, `finditer` and `match` give the match
    objects of the pattern itself, as re.compile(source, flags | re.M) would.
    Only for patterns that never match the empty string (a heading, a closing formula).
    """

    __slots__ = ("pattern", "_after_newline")

    def __init__(self, source: str, flags: int = 0) -> None:
        if not source.startswith("^"):
            raise ValueError(f"LinePattern needs a pattern that starts at a line start: {source[:40]!r}")
        self.pattern = re.compile(source, flags | re.M)
        self._after_newline = re.compile(r"\n(?:" + source + ")", flags | re.M)

    def match(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        return self.pattern.match(text, pos, len(text) if endpos is None else endpos)

    def search(self, text: str, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        endpos = len(text) if endpos is None else endpos
        if pos == 0 or (0 < pos <= len(text) and text[pos - 1] == "\n"):
            here = self.pattern.match(text, pos, endpos)  # `pos` is a line start of its own
            if here is not None:
                return here
        after = self._after_newline.search(text, pos, endpos)
        # the same match, as the pattern itself gives it (start, groups)
        return None if after is None else self.pattern.match(text, after.start() + 1, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int | None = None):
        endpos = len(text) if endpos is None else endpos
        while (hit := self.search(text, pos, endpos)) is not None:
            yield hit
            pos = hit.end() if hit.end() > hit.start() else hit.end() + 1
