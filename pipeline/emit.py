"""Stage 8, emit: the document as JSON, valid against schemas/document.schema.json.

Files are written atomically (a temporary file in the same folder, then `os.replace`), so
a run that is killed never leaves half a JSON behind. `vanban run` splits the two steps:
its workers write the temporary file (`write_temp`) and the driver renames it into place
(`publish`) once the document is in the store. Temporary files are always named `.*.tmp`,
so the next run can remove the ones a killed run left. Files are not fsync'ed one by one: that
tripled the cost of writing a document, and a power cut can only lose the last documents,
which the next run redoes (it skips only documents whose JSON is there and whole).

Per-document JSON is compact (the C encoder; `indent` switches Python's slower one on);
corpus-level files and stdout are indented for people.
"""
from __future__ import annotations

import json
import os
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

from .rules import SCHEMAS_DIR


def dumps(data: Any, pretty: bool = True) -> str:
    if pretty:
        return json.dumps(data, ensure_ascii=False, indent=1)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def write_atomic(path: Path, text: str | bytes) -> None:
    """Write `text` (str as UTF-8, or bytes) to `path`: readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    publish(write_temp(path.parent, f"{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}", data), path)


def write_temp(folder: Path, name: str, data: bytes) -> Path:
    """Write `data` to a new file `folder/.<name>.tmp` (which must not exist) and return its path.

    The first half of an atomic write, for a caller that renames the file later with
    `publish`. `name` must be unique among concurrent writers (`vanban run` puts the
    document id, the worker's pid and a counter in it). A write that fails removes the file.
    """
    tmp = folder / f".{name}.tmp"
    # O_EXCL: never write into a file someone else is writing; mode 0666 minus the umask,
    # like any new file (mkstemp would give 0600)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def publish(tmp: Path, path: Path) -> None:
    """The second half of an atomic write: the finished temporary file becomes `path`."""
    os.replace(tmp, path)


def write_json(path: Path, data: Any, pretty: bool = True) -> None:
    write_atomic(path, dumps(data, pretty) + "\n")


@lru_cache(maxsize=None)
def validator(schema_name: str = "document"):
    """A compiled JSON Schema validator for schemas/<name>.schema.json (built once)."""
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS_DIR / f"{schema_name}.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def schema_errors(data: Any, schema_name: str = "document") -> list[str]:
    """Human-readable schema violations ([] when valid)."""
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
        for err in validator(schema_name).iter_errors(data)
    ]
