"""The progress of a run on stderr."""
from __future__ import annotations

import sys


class Progress:
    """The progress of a run's documents on stderr, through tqdm.

    On a terminal: one bar (documents done of the total, rate, ETA, the file just finished),
    with failed documents printed above it as they happen. Anywhere else (a pipe, a log file,
    CI): nothing; the summary at the end says what happened. `quiet`: failures only, one
    line each.
    """

    def __init__(self, total: int, quiet: bool, stream=None):
        self.stream, self.quiet, self.bar = stream or sys.stderr, quiet, None
        if not quiet and total and _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, desc="vanban run", unit="doc", dynamic_ncols=True,
                            mininterval=0.1, smoothing=0.3)

    def update(self, rel: str, status: str, seconds: float) -> None:
        if status == "failed" and self.bar is not None:
            self.bar.write(f"vanban: {rel}: failed", file=self.stream)
        elif status == "failed" and self.quiet:
            self.stream.write(f"vanban: {rel}: failed\n")
        if self.bar is not None:
            self.bar.set_postfix_str(rel if len(rel) <= 40 else "…" + rel[-39:], refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
