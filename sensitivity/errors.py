"""Exceptions of the :mod:`sensitivity` package.

One root, :class:`StudyError`. Problems with a study file subclass :class:`ValueError` too.
Every message names the file, the key, the value and a fix.
"""

from __future__ import annotations

__all__ = ["StudyError", "SpecError", "StorageError", "Interrupted"]


class StudyError(Exception):
    """Root of every error raised on purpose by :mod:`sensitivity`."""


class SpecError(StudyError, ValueError):
    """A study file has an unknown key, a wrong type, an empty range or an impossible option."""


class StorageError(StudyError):
    """The study storage cannot be opened or does not match the study file."""


class Interrupted(StudyError):
    """The worker received SIGINT/SIGTERM; the running trial was marked failed and re-queued."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}; the running trial was re-queued")
        self.signum = signum
