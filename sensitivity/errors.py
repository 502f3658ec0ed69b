"""Exceptions of the :mod:`sensitivity` package.

One root, :class:`StudyError`. Problems with a study file subclass :class:`ValueError` too.
Every message names the file, the key, the value and a fix.
"""

from __future__ import annotations

__all__ = ["StudyError", "SpecError", "StorageError", "StorageUnavailable", "Interrupted"]


class StudyError(Exception):
    """Root of every error raised on purpose by :mod:`sensitivity`."""


class SpecError(StudyError, ValueError):
    """A study file has an unknown key, a wrong type, an empty range or an impossible option."""


class StorageError(StudyError):
    """The study storage cannot be opened or does not match the study file."""


class StorageUnavailable(StorageError):
    """The storage cannot be opened (unreachable server, bad URL, missing driver); the message
    names the URL with its password masked, the error and the fix. Exit code 2."""

    exit_code = 2


class Interrupted(StudyError):
    """The worker received SIGINT/SIGTERM; the running trial was marked failed and re-queued."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by signal {signum}; the running trial was re-queued")
        self.signum = signum
