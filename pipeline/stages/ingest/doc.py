"""The `.doc` (Word 97) reader: converted to .docx by LibreOffice when it is installed, else
refused with how to convert it."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from ...errors import IngestError
from ...model import SourceInfo, SourceText
from .checks import OLE_MAGIC, RTF_MAGIC, ZIP_MAGIC, describe_magic
from .docx import read_docx

SOFFICE_TIMEOUT_S = 120  # LibreOffice .doc -> .docx conversion

_DOC_REFUSAL = "legacy Word .doc: install LibreOffice (apt-get install libreoffice-writer-nogui) or save it as .docx"


def read_doc(path: Path, data: bytes, info: SourceInfo) -> SourceText:
    """The .doc file `path`, whose bytes are `data`, as text; raises IngestError."""
    where = str(path)
    if data.startswith(ZIP_MAGIC):  # a .docx with a .doc name
        return read_docx(path, data, info)
    if data.startswith(RTF_MAGIC):
        raise IngestError(where, "RTF file with a .doc name: save it as .docx")
    if not data.startswith(OLE_MAGIC):
        raise IngestError(where, f"not a Word .doc file ({describe_magic(data)})")
    soffice = soffice_path()
    if soffice is None:
        raise IngestError(where, _DOC_REFUSAL)
    with tempfile.TemporaryDirectory(prefix="vanban-doc-") as tmp:
        src = Path(tmp) / "in.doc"
        src.write_bytes(data)
        cmd = [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless",
               "--convert-to", "docx", "--outdir", tmp, str(src)]
        try:
            with _address_space_lifted():
                subprocess.run(cmd, capture_output=True, timeout=SOFFICE_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise IngestError(where, f"LibreOffice took over {SOFFICE_TIMEOUT_S} s to convert the .doc") from exc
        out = Path(tmp) / "in.docx"
        if not out.is_file():
            raise IngestError(where, "LibreOffice could not convert the .doc (corrupt file?)")
        converted = read_docx(path, out.read_bytes(), info)
    converted.info.format = "doc"
    converted.info.converted_from = "doc"
    return converted


@contextlib.contextmanager
def _address_space_lifted():
    """A worker's memory cap (RLIMIT_AS) lifted while it starts LibreOffice, which inherits
    rlimits and reserves more address space than it uses; its time limit still holds."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, AttributeError, OSError, ValueError):
        yield
        return
    lifted = False
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
            lifted = True
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        if lifted:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def soffice_path() -> str | None:
    """The LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")

