"""Job guard: a signal or an error on any MPI rank ends every rank within seconds, never a hang.

A rank blocked inside an MPI collective never runs Python code again, so a Python signal handler
in the main thread cannot help it. The guard therefore works from a daemon thread (mpi4py
releases the GIL inside MPI calls, the job runs at ``MPI_THREAD_MULTIPLE``):

* SIGINT/SIGTERM get a handler that does nothing itself; the C-level handler writes the signal
  number to a pipe (:func:`signal.set_wakeup_fd`) even while the main thread is blocked in MPI.
* The thread waits on that pipe and on a *stop* message from any other rank, posted as a receive
  on a duplicate of the world communicator (so it never mixes with the solver's messages).

On a stop (local signal, stop message, or :meth:`JobGuard.stop` called after an error) each rank

1. rank 0 prints the one-line reason (for signals); each rank runs its ``on_stop(reason)``
   callbacks (the harness marks its running trial failed and re-queues it), under
   :attr:`JobGuard.lock`;
2. if the stop started here, sends a stop message ``[kind, code, origin]`` to every other rank;
3. reports *done* to rank 0; rank 0 waits until every rank is done (at most ``settle`` s) and
   calls ``MPI_Abort(128 + signal)`` / the error code;
   any other rank calls ``MPI_Abort`` itself after ``2 * settle`` s if rank 0 is gone.

Exit code of the job: 128 + the signal number, or the error's code (``mpiexec`` passes it on).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["JobGuard", "active_guard", "guarded"]

_STOP, _DONE = 7101, 7102  # tags on the guard's own duplicate communicator
_SIGNAL, _ERROR = 1.0, 2.0  # message kinds
_ACTIVE: JobGuard | None = None


def active_guard() -> JobGuard | None:
    """The guard installed by :func:`guarded` in this process, if any."""
    return _ACTIVE


class JobGuard:
    """Signal and stop watcher of one rank (see the module docstring).

    Args:
        world: an :class:`~solver.parallel.mpi.MPIComm` over every rank of the job.
        name: prefix of the printed line (e.g. ``"sensitivity"``).
        settle: seconds rank 0 waits for every rank to record its state before aborting.
    """

    def __init__(self, world: Any, *, name: str = "solver", settle: float = 4.0) -> None:
        self.rank, self.size = world.rank, world.size
        self.name = name
        self.settle = settle
        self.lock = threading.RLock()  # held while callbacks run; hold it to read/modify state
        self.stopping: tuple[str, int] | None = None
        self.note = ""  # appended to the printed line, e.g. what the callbacks did
        self._world = world
        self._comm = world.dup()
        self._callbacks: list[Callable[[str], None]] = []
        self._closing = threading.Event()
        self._claimed = threading.Lock()
        self._rfd, self._wfd = os.pipe()
        os.set_blocking(self._wfd, False)
        self._stop_buf = np.zeros(3)
        self._stop_req = self._comm.irecv(self._stop_buf, -1, _STOP)
        self._sends: list[tuple[Any, np.ndarray]] = []
        self._old_handlers: dict[int, Any] = {}
        self._old_fd = -1
        self._thread = threading.Thread(target=self._watch, name="job-guard", daemon=True)

    # -- set-up ------------------------------------------------------------------------------
    def start(self) -> JobGuard:
        """Install the signal handlers (main thread only) and start the watcher thread."""
        for s in (signal.SIGINT, signal.SIGTERM):
            self._old_handlers[s] = signal.signal(s, lambda signum, frame: None)
        self._old_fd = signal.set_wakeup_fd(self._wfd)
        self._thread.start()
        return self

    def on_stop(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` (from the watcher thread) before this rank is aborted."""
        self._callbacks.append(callback)

    def close(self) -> None:
        """Normal end: stop watching, restore the handlers, release the communicator."""
        self._closing.set()
        self._thread.join()
        signal.set_wakeup_fd(self._old_fd)
        for s, h in self._old_handlers.items():
            signal.signal(s, h)
        self._stop_req.cancel()
        for req, _ in self._sends:
            req.wait()
        self._comm.free()
        os.close(self._rfd)
        os.close(self._wfd)

    # -- watching ----------------------------------------------------------------------------
    def _watch(self) -> None:
        while not self._closing.is_set():
            ready, _, _ = select.select([self._rfd], [], [], 0.05)
            if ready:
                data = os.read(self._rfd, 16)
                signum = int(data[-1]) if data else int(signal.SIGTERM)
                name = signal.Signals(signum).name
                self.stop(f"interrupted by {name}", 128 + signum, notify=True, kind=_SIGNAL)
                return
            if self._stop_req.test():
                kind, code, origin = (float(x) for x in self._stop_buf)
                what = (
                    f"interrupted by {signal.Signals(int(code) - 128).name}"
                    if kind == _SIGNAL and 128 < code < 128 + 65
                    else "failed"
                )
                self.stop(
                    f"rank {int(origin)} {what}" if kind == _ERROR else what,
                    int(code), notify=False, kind=kind, origin=int(origin),
                )  # fmt: skip
                return

    # -- stopping ----------------------------------------------------------------------------
    def stop(
        self,
        reason: str,
        code: int,
        *,
        notify: bool,
        kind: float = _ERROR,
        origin: int | None = None,
        print_reason: bool = True,
    ) -> None:
        """Record, tell the others, abort the job. Never returns (a second caller just waits)."""
        if not self._claimed.acquire(blocking=False):
            self._wait_for_abort(code)
        origin = self.rank if origin is None else origin
        if self.rank == 0 and print_reason and kind == _SIGNAL:  # first: the user sees why
            ranks = f"all {self.size} ranks" if self.size > 1 else "the run"
            where = "" if origin == 0 else f" on rank {origin}"
            note = f"; {self.note}" if self.note else ""
            _say(f"{self.name}: {reason}{where}; stopping {ranks}{note}")
        with self.lock:
            self.stopping = (reason, code)
            for cb in self._callbacks:
                with contextlib.suppress(Exception):
                    cb(reason)
        if notify:
            msg = np.array([kind, float(code), float(origin)])
            for r in range(self.size):
                if r != self.rank:
                    self._sends.append((self._comm.isend(msg, r, _STOP), msg))
        if self.rank == 0:
            done = [np.zeros(1) for _ in range(self.size - 1)]
            reqs = [self._comm.irecv(done[r - 1], r, _DONE) for r in range(1, self.size)]
            deadline = time.monotonic() + self.settle
            while time.monotonic() < deadline and not all(q.test() for q in reqs):
                time.sleep(0.01)
            self._world.mpi_comm.Abort(code)
        else:
            one = np.ones(1)
            self._sends.append((self._comm.isend(one, 0, _DONE), one))
            time.sleep(2 * self.settle)  # rank 0 aborts the job first; this is the fallback
            self._world.mpi_comm.Abort(code)
        os._exit(code)  # not reached

    def _wait_for_abort(self, code: int) -> None:
        time.sleep(4 * self.settle)
        os._exit(code)


def _say(line: str) -> None:
    with contextlib.suppress(Exception):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


@contextlib.contextmanager
def guarded(world: Any, *, name: str = "solver", settle: float = 4.0) -> Iterator[JobGuard | None]:
    """Install a :class:`JobGuard` on ``world`` for the block (``None`` on one rank or off the
    main thread: nothing to guard there)."""
    global _ACTIVE
    if world.size == 1 or threading.current_thread() is not threading.main_thread():
        yield None
        return
    guard = JobGuard(world, name=name, settle=settle).start()
    _ACTIVE = guard
    try:
        yield guard
    finally:
        _ACTIVE = None
        guard.close()
