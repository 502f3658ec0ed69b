"""The journal file: Optuna's ``JournalFileBackend`` made to survive torn writes and a full disk.

Format (Optuna's): one JSON record per line, each ending in ``\\n``, appended under the journal
lock (:class:`KernelLock`, ``<journal>.flock``). A *torn tail* is the bytes after the last
``\\n``: a record whose write was cut short (disk full, file-size limit, a killed process).
Optuna skips a torn tail when reading but appends the next record right after it, which glues
the two into one line that no longer parses (``JSONDecodeError`` on every later open).

:class:`JournalFile` therefore

* on open and before every append, under the journal lock, moves a torn tail of ``n`` bytes
  into ``<journal>.torn-<UTC time>`` (the quarantined bytes, kept as the backup copy) and
  truncates the journal to its last complete record, with a warning naming ``n``;
* appends with ``os.write`` and, if the write fails (``ENOSPC``, ``EFBIG``, ``EDQUOT``, ...),
  truncates the file back to its length before the append and raises
  :class:`~sensitivity.errors.StorageError`: every record stored before stays as it was.

A journal damaged in the middle (a torn record followed by later ones, written by older
versions) is reported by :func:`check_journal` with the line number and the fix.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optuna.storages.journal import JournalFileBackend

from sensitivity.errors import StorageError
from sensitivity.locks import FileLock

__all__ = ["JournalFile", "TornWriteWarning", "repair_tail", "check_journal"]


class TornWriteWarning(UserWarning):
    """An incomplete last record was removed from a journal file (and kept in a backup)."""


def _tail_start(fd: int, size: int) -> int:
    """Offset just after the last ``\\n`` in the first ``size`` bytes of ``fd`` (0 if none)."""
    block = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - block)
        chunk = os.pread(fd, end - start, start)
        nl = chunk.rfind(b"\n")
        if nl >= 0:
            return start + nl + 1
        end = start
    return 0


def repair_tail(path: str | Path) -> int:
    """Quarantine and truncate a torn last record of ``path``; return the bytes dropped.

    Call with the journal lock held (no writer may be mid-append). The dropped bytes are saved
    to ``<path>.torn-<UTC time>``; a :class:`TornWriteWarning` names their number and the copy.
    """
    path = str(path)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return 0
        keep = _tail_start(fd, size)
        torn = os.pread(fd, size - keep, keep)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        backup = f"{path}.torn-{stamp}"
        try:
            Path(backup).write_bytes(torn)
            where = f"saved to {backup}"
        except OSError as err:
            where = f"no backup copy ({err.strerror}); the bytes began {torn[:60]!r}"
        os.ftruncate(fd, keep)
        os.fsync(fd)
    finally:
        os.close(fd)
    warnings.warn(
        f"{path}: dropped {len(torn)} bytes of an incomplete last record (a write cut short: "
        f"disk full or a killed process); {where}. Records before it are intact.",
        TornWriteWarning,
        stacklevel=2,
    )
    return len(torn)


def check_journal(path: str | Path) -> None:
    """Raise :class:`StorageError` naming the first line of ``path`` that is not a JSON record
    (the last line may be incomplete: :func:`repair_tail` handles it)."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.endswith(b"\n"):
                return
            try:
                json.loads(line)
            except ValueError:
                raise StorageError(
                    f"{path}: line {number} is not a journal record ({len(line)} bytes starting "
                    f"{line[:40]!r}; a torn write glued to the next record by an older version). "
                    f"Fix: keep a copy of the file, then delete line {number} (its records are "
                    f"lost; trials left RUNNING are retried after the grace period)."
                ) from None


class KernelLock:
    """The journal lock (``acquire`` / ``release`` like Optuna's lock objects): POSIX ``lockf``
    on ``<journal>.flock`` (:class:`~sensitivity.locks.FileLock`); the kernel (or the NFS lock
    manager) drops it when its holder dies, so a writer killed with ``kill -9`` in the middle of
    an append does not stall every other process for Optuna's 30-second symlink-lock grace
    period."""

    def __init__(self, journal: str) -> None:
        self._lock = FileLock(journal + ".flock")

    def acquire(self) -> bool:
        self._lock.__enter__()
        return True

    def release(self) -> None:
        self._lock.__exit__(None, None, None)


class JournalFile(JournalFileBackend):
    """``JournalFileBackend`` with torn-tail repair on open and before each append, an append
    that leaves the file as it was when the disk is full, and a :class:`KernelLock`. (Every
    writer must use it: plain Optuna tools that write to the journal, unlike readers such as
    ``optuna trials`` or ``optuna-dashboard``, take Optuna's symlink lock instead.)"""

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path, lock_obj=KernelLock(file_path))
        self._locked(lambda: repair_tail(self._file_path))

    def _locked(self, fn: Any) -> Any:
        self._lock.acquire()
        try:
            return fn()
        finally:
            self._lock.release()

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        data = ("\n".join(json.dumps(x, separators=(",", ":")) for x in logs) + "\n").encode()
        self._locked(lambda: self._append(data))

    def _append(self, data: bytes) -> None:
        repair_tail(self._file_path)
        fd = os.open(self._file_path, os.O_WRONLY | os.O_APPEND)
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as err:
                try:
                    os.ftruncate(fd, size)
                    undo = "the partial record was removed, every stored record is intact"
                except OSError as err2:
                    undo = f"the partial record could not be removed ({err2.strerror}); the " \
                           "next open moves it aside"  # fmt: skip
                raise StorageError(
                    f"{self._file_path}: cannot append {len(data)} bytes ({err.strerror}); "
                    f"{undo}. Fix: free disk space (or raise the file-size limit / quota) and "
                    f"run again: the study resumes where it stopped."
                ) from None
        finally:
            os.close(fd)
