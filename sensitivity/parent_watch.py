"""Workers stop when the process that started them dies (``kill -9`` of ``sensitivity run``).

:func:`exit_with_parent` asks Linux to send this process SIGTERM when its parent dies
(``prctl(PR_SET_PDEATHSIG, SIGTERM)`` through ctypes) and, as a fallback (other systems, or a
parent gone before that call), a daemon thread polls ``os.getppid()`` every ``interval`` seconds
and sends SIGTERM itself once it differs from the expected parent. The worker's SIGTERM handler
then fails and re-queues its running trial and exits 143 (a second SIGTERM is ignored).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import threading
import time

__all__ = ["exit_with_parent"]

PR_SET_PDEATHSIG = 1


def _pdeathsig(signum: int) -> bool:
    """Linux parent-death signal; False where unavailable."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def exit_with_parent(parent_pid: int, *, interval: float = 1.0) -> threading.Thread:
    """SIGTERM this process when ``parent_pid`` is no longer its parent. Returns the watcher."""
    _pdeathsig(signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)  # a second SIGTERM is ignored by the worker

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread
