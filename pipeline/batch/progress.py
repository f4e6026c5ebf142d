"""The progress of a run on stderr."""
from __future__ import annotations

import sys
import time


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


class StepProgress:
    """The progress of the corpus step on stderr, which takes minutes at 100,000 documents:
    a bar for each counted phase (references resolved, JSONs rewritten), a line for the
    others (links.json). Like `Progress`: on a terminal only, and nothing with `quiet`. A
    step of a second or less (any corpus of a few thousand documents) shows nothing."""

    DELAY = 1.0  # seconds a phase (a bar), or the step so far (a line), runs before it is shown

    def __init__(self, quiet: bool, stream=None, clock=time.monotonic):
        self.stream, self.bar, self.clock, self.started = stream or sys.stderr, None, clock, None
        self.enabled = not quiet and _isatty(self.stream)

    def phase(self, desc: str, total: int | None = None, unit: str = "it") -> None:
        """A new phase: counted up to `total` by `advance`, or (no total) a line of its own."""
        self.close()
        if self.started is None:
            self.started = self.clock()
        if not self.enabled:
            return
        if total:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=self.stream, desc=f"vanban: {desc}", unit=unit,
                            dynamic_ncols=True, mininterval=0.2, delay=self.DELAY)
        elif total is None and self.clock() - self.started >= self.DELAY:
            self.stream.write(f"vanban: {desc}\n")
            self.stream.flush()

    def advance(self, count: int) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
