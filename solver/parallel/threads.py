"""P ranks as threads of one process: :class:`ThreadComm` and :func:`run_ranks`.

Used by tests (several ranks without mpiexec) and by the speed-up model (P larger than the
number of cores; the virtual clock, not the wall clock, measures the parallel time).  Sends
are eager copies into a mailbox keyed by ``(source, dest, tag)``; receives block on a condition
variable.  If any rank raises, the world is marked aborted and every other rank's next wait
raises :class:`~solver.errors.RemoteRankError`, so no thread waits forever.
"""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from solver.errors import ParallelError, RemoteRankError
from solver.parallel.comm import Communicator, DoneRequest, ReduceOp, Request, _check_buffer

__all__ = ["ThreadComm", "run_ranks"]

T = TypeVar("T")

_REDUCE = {"sum": np.add, "max": np.maximum, "min": np.minimum}


class _World:
    """State shared by the ranks of one thread world."""

    def __init__(self, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        self.lock = threading.Lock()
        self.conds = [threading.Condition(self.lock) for _ in range(size)]  # one per receiver
        self.mail: defaultdict[tuple[int, int, int], deque[np.ndarray]] = defaultdict(deque)
        self.aborted_by: int | None = None
        self.barrier = threading.Barrier(size)
        self.slots: list[np.ndarray | None] = [None] * size

    def abort(self, rank: int) -> None:
        with self.lock:
            if self.aborted_by is None:
                self.aborted_by = rank
            for cond in self.conds:
                cond.notify_all()
        self.barrier.abort()

    def check(self, rank: int) -> None:
        if self.aborted_by is not None and self.aborted_by != rank:
            raise RemoteRankError(
                f"rank {self.aborted_by} raised; rank {rank} stopped so that no rank waits forever."
            )

    def sync(self, rank: int) -> None:
        self.check(rank)
        try:
            self.barrier.wait(timeout=self.timeout)
        except threading.BrokenBarrierError:
            self.check(rank)
            raise ParallelError(
                f"rank {rank}: collective not reached by every rank within {self.timeout} s. "
                "Fix: make every rank call the same collectives in the same order."
            ) from None


class _RecvRequest:
    def __init__(self, world: _World, key: tuple[int, int, int], buf: np.ndarray) -> None:
        self._world, self._key, self._buf = world, key, buf
        self._done = False

    def wait(self) -> None:
        if self._done:
            return
        world, (source, dest, tag) = self._world, self._key
        with world.lock:
            ok = world.conds[dest].wait_for(
                lambda: world.aborted_by is not None or bool(world.mail[self._key]),
                timeout=world.timeout,
            )
            world.check(dest)
            if not ok or not world.mail[self._key]:
                raise ParallelError(
                    f"rank {dest}: no message from rank {source} with tag {tag} within "
                    f"{world.timeout} s (deadlock?). Fix: check that the sender posts the send."
                )
            data = world.mail[self._key].popleft()
        if data.size != self._buf.size:
            raise ParallelError(
                f"rank {dest}: message from rank {source} (tag {tag}) has {data.size} values, the "
                f"receive buffer {self._buf.size}. Fix: post receives with the sender's size."
            )
        self._buf[...] = data.reshape(self._buf.shape)
        self._done = True


class ThreadComm(Communicator):
    """One rank of a thread world created by :func:`run_ranks`."""

    def __init__(self, world: _World, rank: int) -> None:
        self._world = world
        self.rank = rank
        self.size = world.size

    def isend(self, buf: np.ndarray, dest: int, tag: int) -> Request:
        _check_buffer(buf, "buf")
        world = self._world
        with world.lock:
            world.check(self.rank)
            world.mail[(self.rank, dest, tag)].append(buf.copy())
            world.conds[dest].notify_all()
        return DoneRequest()

    def irecv(self, buf: np.ndarray, source: int, tag: int) -> Request:
        _check_buffer(buf, "buf")
        return _RecvRequest(self._world, (source, self.rank, tag), buf)

    def allreduce(self, value: np.ndarray, op: ReduceOp = "sum") -> np.ndarray:
        world = self._world
        world.slots[self.rank] = np.array(value, dtype=np.float64, copy=True)
        world.sync(self.rank)
        result = world.slots[0].copy()
        for other in world.slots[1:]:
            result = _REDUCE[op](result, other)
        world.sync(self.rank)
        return result

    def bcast(self, buf: np.ndarray, root: int = 0) -> np.ndarray:
        world = self._world
        if self.rank == root:
            world.slots[root] = np.array(buf, dtype=np.float64, copy=True)
        world.sync(self.rank)
        result = world.slots[root].copy()
        world.sync(self.rank)
        return result

    def barrier(self) -> None:
        self._world.sync(self.rank)

    def abort(self, code: int = 1) -> None:
        self._world.abort(self.rank)


def run_ranks(size: int, fn: Callable[[Communicator], T], *, timeout: float = 120.0) -> list[T]:
    """Run ``fn(comm)`` on ``size`` thread ranks; return the per-rank results in rank order.

    If a rank raises, the others are stopped and the first original exception (lowest rank,
    not a :class:`RemoteRankError`) is re-raised here.
    """
    if size < 1:
        raise ParallelError(f"`size` must be >= 1; got {size}. Fix: pass a positive rank count.")
    world = _World(size, timeout)
    results: list[object] = [None] * size
    errors: list[BaseException | None] = [None] * size

    def target(rank: int) -> None:
        try:
            results[rank] = fn(ThreadComm(world, rank))
        except BaseException as exc:  # noqa: BLE001 - forwarded to the caller below
            errors[rank] = exc
            world.abort(rank)

    threads = [threading.Thread(target=target, args=(r,), daemon=True) for r in range(size)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    raised = [e for e in errors if e is not None]
    if raised:
        primary = [e for e in raised if not isinstance(e, RemoteRankError)]
        raise (primary or raised)[0]
    return results  # type: ignore[return-value]
