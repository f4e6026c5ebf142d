"""Discovery and planning: the input files under a folder, grouped into documents with ids."""
from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .state import STATE_NAME

SUFFIX_PRIORITY = {".txt": 0, ".docx": 1, ".pdf": 2, ".doc": 3}


@dataclass
class Job:
    """One document to consider: the file chosen for it and its alternate formats."""

    id: str
    path: Path
    rel: str  # path relative to the input folder, for messages and the report
    alternates: list[str] = field(default_factory=list)  # rel paths of the other formats
    size: int = -1  # of the input, taken before it is parsed (a file edited meanwhile is redone)
    mtime_ns: int = -1


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name.startswith("~$")


def discover(root: Path, out_dir: Path | None = None) -> list[Path]:
    """The input files under `root`, sorted; hidden files and output folders skipped."""
    out_resolved = out_dir.resolve() if out_dir is not None else None
    found: list[Path] = []
    def unlisted(exc: OSError) -> None:  # a folder that cannot be listed: said, then skipped
        from ..stages.ingest import display_path

        sys.stderr.write(f"vanban: {display_path(exc.filename or root)}: folder skipped, cannot list it: "
                         f"{exc.strerror or exc}\n")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unlisted):
        here = Path(dirpath)
        if (STATE_NAME in filenames and here != root) or (out_resolved is not None and here.resolve() == out_resolved):
            dirnames[:] = []
            continue
        dirnames[:] = sorted(d for d in dirnames if not _is_hidden(d))
        for name in filenames:
            if not _is_hidden(name) and Path(name).suffix.lower() in SUFFIX_PRIORITY:
                found.append(here / name)
    return sorted(found)


def plan_jobs(files: Iterable[Path], root: Path) -> list[Job]:
    """Group files into documents (same folder + same stem) and give each an id."""
    groups: dict[tuple[Path, str], list[Path]] = {}
    for path in files:
        groups.setdefault((path.parent, path.stem), []).append(path)
    jobs: list[Job] = []
    for (_folder, stem), paths in groups.items():
        paths.sort(key=lambda path: (SUFFIX_PRIORITY.get(path.suffix.lower(), 9), path.name))
        chosen, others = paths[0], paths[1:]
        jobs.append(Job(stem, chosen, _rel(chosen, root), [_rel(path, root) for path in others]))
    # Same stem in different folders: different documents; qualify their ids by folder.
    stems = Counter(job.id for job in jobs)
    for job in jobs:
        if stems[job.id] > 1:
            folder = Path(job.rel).parent.parts
            job.id = "__".join([*folder, job.id]) if folder else job.id
    # A name that is not UTF-8 is shown with U+FFFD (ids, report, JSON stay valid text); two
    # such names that become the same id are told apart by a counter.
    from ..stages.ingest import display_path

    seen: Counter[str] = Counter()
    for job in sorted(jobs, key=lambda job: str(job.path)):
        job.id = display_path(job.id)
        seen[job.id] += 1
        if seen[job.id] > 1:
            job.id = f"{job.id}~{seen[job.id]}"
    return sorted(jobs, key=lambda job: job.rel)


def _rel(path: Path, root: Path) -> str:
    from ..stages.ingest import display_path

    try:
        return display_path(path.relative_to(root).as_posix())
    except ValueError:
        return display_path(str(path))
