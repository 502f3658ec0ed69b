"""Exclusive locks that every process on every host sharing one storage agrees on.

One lock per study storage serialises the harness's read-decide-write steps (queueing the
design, retries of failed or stale trials, adaptive asks) across hosts × workers:

==================== ===================================================================
storage              lock
==================== ===================================================================
PostgreSQL           ``pg_advisory_lock(key)`` on a connection of the storage's engine;
                     the server drops it when the holder's connection ends (kill -9 too)
journal file         POSIX ``lockf`` on ``<journal>.harness.lock`` next to the journal
                     (on the shared file system with it; the kernel / NFS lock manager
                     drops it when the holder dies)
SQLite               the same ``lockf`` on ``<database>.harness.lock`` (SQLite itself
                     locks the database file with the same fcntl locks)
==================== ===================================================================

Every lock is re-entrant within a process (a thread lock and a depth count around the
cross-process lock), so nested sections (fail a trial, then queue its retry) do not deadlock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

__all__ = ["StorageLock", "FileLock", "AdvisoryLock", "ThreadLock", "advisory_key"]


class StorageLock:
    """Re-entrant exclusive section: ``with lock: ...``. Subclasses implement
    :meth:`_acquire` / :meth:`_release` of the cross-process lock."""

    def __init__(self) -> None:
        self._thread_lock = threading.RLock()
        self._depth = 0

    def _acquire(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _release(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self) -> StorageLock:
        self._thread_lock.acquire()
        try:
            if self._depth == 0:
                self._acquire()
        except BaseException:
            self._thread_lock.release()
            raise
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0:
                self._release()
        finally:
            self._thread_lock.release()


class ThreadLock(StorageLock):
    """Within one process only (an in-memory storage)."""

    def _acquire(self) -> None:
        pass

    def _release(self) -> None:
        pass


class FileLock(StorageLock):
    """POSIX record lock (``fcntl.lockf``) on ``path`` (created if missing)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._fd: int | None = None

    def _acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                fcntl.lockf(fd, fcntl.LOCK_UN)
            os.close(fd)


def advisory_key(name: str) -> int:
    """Signed 64-bit key of ``name`` for ``pg_advisory_lock`` (first 8 bytes of SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AdvisoryLock(StorageLock):
    """PostgreSQL session-level advisory lock ``key`` on a connection of ``engine`` (a
    SQLAlchemy engine; the connection is held only while the lock is)."""

    def __init__(self, engine: Any, key: int) -> None:
        super().__init__()
        self.engine, self.key = engine, key
        self._conn: Any = None

    def _acquire(self) -> None:
        from sqlalchemy import text

        conn = self.engine.connect()
        try:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
            conn.commit()
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _release(self) -> None:
        from sqlalchemy import text

        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            conn.commit()
        except BaseException:
            conn.invalidate()  # never hand a connection that may hold the lock back to the pool
            raise
        finally:
            conn.close()

