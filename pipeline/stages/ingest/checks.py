"""What every reader of ingest shares: the resource limits, the checks made before a file is
opened, the capped read, valid Unicode out, and the magic numbers that tell formats apart."""
from __future__ import annotations

import errno
import os
import re
import stat

from ...errors import IngestError
from ...model import SourceText

MAX_TEXT_BYTES = 20 * 1024 * 1024  # larger .txt files are refused
# Resource limits per document (README, "Limits"). Each can be overridden through the
# environment variable next to it; `vanban run --max-...` sets them for its workers.
MAX_FILE_MB = 256  # any input file: bytes read from disk
MAX_DOCX_PART_MB = 64  # one unpacked part (word/document.xml, styles, an image) of a DOCX
MAX_DOCX_TOTAL_MB = 256  # all unpacked parts of a DOCX together
MAX_DOCX_PARTS = 10_000  # entries in a DOCX package
MAX_PDF_PAGES = 2_000
_LIMIT_ENV = {
    "MAX_TEXT_BYTES": "VANBAN_MAX_TEXT_MB",
    "MAX_FILE_MB": "VANBAN_MAX_FILE_MB",
    "MAX_DOCX_PART_MB": "VANBAN_MAX_DOCX_PART_MB",
    "MAX_DOCX_TOTAL_MB": "VANBAN_MAX_DOCX_MB",
    "MAX_DOCX_PARTS": "VANBAN_MAX_DOCX_PARTS",
    "MAX_PDF_PAGES": "VANBAN_MAX_PDF_PAGES",
}

# The first bytes of the containers the readers meet (describe_magic names them in refusals).
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
PDF_MAGIC = b"%PDF-"
RTF_MAGIC = b"{\\rtf"
# Code points a UTF-8 encoder refuses: lone surrogates (a PDF text layer can hold them).
SURROGATES = re.compile("[\ud800-\udfff]")
# Digits written as superscripts: footnote markers (PDF and DOCX readers).
SUPERSCRIPT_DIGITS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def limit(name: str) -> float:
    """The limit `name` (a module constant above), overridden by its environment variable."""
    value = globals()[name]
    env = os.environ.get(_LIMIT_ENV[name])
    if env:
        try:
            parsed = float(env)
        except ValueError:
            return value
        if parsed > 0:
            return parsed * 2**20 if name == "MAX_TEXT_BYTES" else parsed
    return value


def display_path(path: str | os.PathLike) -> str:
    """`path` as text that is valid Unicode: bytes of a file name that are not UTF-8
    (kept by Python as lone surrogates) are shown as U+FFFD."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        return text.decode("utf-8", "replace")
    if not SURROGATES.search(text):
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return SURROGATES.sub("\ufffd", text)


def file_problem(path: str | os.PathLike) -> str | None:
    """Why `path` cannot be read as a document file, or None when it is a regular file.

    Never opens the file: a FIFO or a device could block or never end. Symbolic links are
    followed; a dangling one, a loop, a file that vanished and one that cannot be reached
    each get their own reason.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            return "dangling symbolic link: its target does not exist"
        return "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop: the link never reaches a file"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "cannot read file: permission denied"
        if exc.errno == errno.ENAMETOOLONG:
            return "file name too long"
        return f"cannot read file: {exc.strerror or exc}"
    except ValueError as exc:  # a NUL byte in the name
        return f"invalid file name ({exc})"
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "is a directory, not a file (pass the files inside it)"
    if not stat.S_ISREG(mode):
        return f"not a regular file ({_file_kind(mode)}): skipped, never opened"
    return None


_FILE_KINDS = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _file_kind(mode: int) -> str:
    return next((kind for is_kind, kind in _FILE_KINDS if is_kind(mode)), "not a file")


def read_capped(path, where: str, cap: int) -> bytes:
    """The file's bytes. Opened without blocking (a file swapped for a FIFO after the check
    is caught by fstat), and never more than `cap` bytes read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise IngestError(where, file_problem(path) or f"cannot read file: {exc.strerror or exc}") from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IngestError(where, f"not a regular file ({_file_kind(st.st_mode)}): skipped, never opened")
        chunks, total = [], 0
        while True:
            try:
                block = os.read(fd, min(1 << 22, cap + 1 - total))
            except OSError as exc:
                raise IngestError(where, f"cannot read file: {exc.strerror or exc}") from exc
            if not block:
                break
            chunks.append(block)
            total += len(block)
            if total > cap:
                raise IngestError(where, f"file too large (more than {cap / 2**20:.0f} MB limit)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def valid_unicode(source: SourceText) -> SourceText:
    """Replace the code points UTF-8 cannot encode by U+FFFD, one for one (offsets keep).

    Ingest's text then serialises everywhere; the replacements are counted as lost
    characters (parse marks a document holding U+FFFD `partial`).
    """
    count = 0

    def clean(text: str) -> str:
        nonlocal count
        if not SURROGATES.search(text):
            return text
        new, replaced = SURROGATES.subn("\ufffd", text)
        count += replaced
        return new

    source.text = clean(source.text)
    source.extra_layers = [clean(t) for t in source.extra_layers]
    source.warnings = [SURROGATES.sub("\ufffd", w) for w in source.warnings]
    if count:
        source.warnings.append(
            f"{count} character{'s' if count > 1 else ''} that cannot be encoded (unpaired surrogates) "
            "replaced by U+FFFD"
        )
    return source


_MAGIC_SAYS = ((PDF_MAGIC, "it is a PDF"), (ZIP_MAGIC, "it is a ZIP container"),
               (OLE_MAGIC, "it is an OLE file such as Word 97 .doc"), (RTF_MAGIC, "it is RTF"))


def describe_magic(data: bytes) -> str:
    """What the first bytes say a file is, for the reason a reader refuses it."""
    head = data[:8]
    return next((says for magic, says in _MAGIC_SAYS if head.startswith(magic)), f"starts with {head[:4]!r}")

