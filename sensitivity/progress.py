"""A one-line progress bar: done / running / failed / remaining, elapsed and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_progress"]


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_progress(c: dict[str, int], *, elapsed: float, done_since_start: int, width: int = 24):
    """``name [####----] 12/36 done | 2 running | 1 failed | 22 remaining | 0:35 | ETA 1:10``."""
    total = max(c["total"], 1)
    filled = int(width * c["done"] / total)
    bar = "#" * filled + "-" * (width - filled)
    eta = "--"
    if done_since_start > 0 and c["remaining"] > 0:
        eta = _clock(elapsed / done_since_start * c["remaining"])
    elif c["remaining"] == 0:
        eta = "0:00"
    return (
        f"[{bar}] {c['done']}/{c['total']} done | {c['running']} running | "
        f"{c['failed_trials']} failed | {c['remaining']} remaining | {_clock(elapsed)} | ETA {eta}"
    )


class Progress:
    """Prints the progress line: redrawn in place on a terminal, on change otherwise."""

    def __init__(self, name: str, stream: TextIO | None = None, quiet: bool = False) -> None:
        self.name = name
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.start = time.monotonic()
        self.first_done: int | None = None
        self.last = ""

    def __call__(self, c: dict[str, int]) -> None:
        if self.quiet:
            return
        if self.first_done is None:
            self.first_done = c["done"]
        line = f"{self.name} " + format_progress(
            c, elapsed=time.monotonic() - self.start, done_since_start=c["done"] - self.first_done
        )
        tty = self.stream.isatty()
        key = line.rsplit("|", 2)[0]
        if tty:
            self.stream.write("\r" + line.ljust(len(self.last)))
            self.stream.flush()
        elif key != self.last.rsplit("|", 2)[0]:
            self.stream.write(line + "\n")
            self.stream.flush()
        self.last = line

    def close(self) -> None:
        if not self.quiet and self.stream.isatty() and self.last:
            self.stream.write("\n")
            self.stream.flush()
