"""Clock-stamped state messages between ranks, with message counters.

A message is one float64 buffer ``[t_sender, state.ravel()...]`` (a float32 state travels
exactly in it and is cast back on receipt): the sender's virtual clock
travels with the data (see :mod:`solver.parallel.clock`).  Sends are nonblocking; their
requests are kept (with their buffers) until :meth:`Channel.flush`.
"""

from __future__ import annotations

import math

import numpy as np

from solver.parallel.clock import VirtualClock
from solver.parallel.comm import Communicator, ReduceOp, Request

__all__ = ["Channel", "PendingState"]


class PendingState:
    """A posted receive of one state; :meth:`wait` returns it and advances the clock."""

    def __init__(
        self,
        request: Request,
        buf: np.ndarray,
        shape: tuple[int, ...],
        clock: VirtualClock,
        dtype: np.dtype | type = np.float64,
    ):
        self._request, self._buf, self._shape, self._clock = request, buf, shape, clock
        self._dtype = np.dtype(dtype)

    def wait(self) -> np.ndarray:
        self._request.wait()
        self._clock.receive(float(self._buf[0]))
        return self._buf[1:].reshape(self._shape).astype(self._dtype, copy=False)


class Channel:
    """Point-to-point state exchange and clocked collectives over a :class:`Communicator`."""

    def __init__(self, comm: Communicator, clock: VirtualClock) -> None:
        self.comm = comm
        self.clock = clock
        self.messages_sent = 0
        self.values_sent = 0
        self._pending: list[tuple[Request, np.ndarray]] = []

    def send(self, state: np.ndarray, dest: int, tag: int) -> None:
        """Start sending ``state`` (any shape, float64) stamped with the current clock."""
        buf = np.empty(state.size + 1, dtype=np.float64)
        buf[0] = self.clock.time
        buf[1:] = state.ravel()
        self._pending.append((self.comm.isend(buf, dest, tag), buf))
        self.messages_sent += 1
        self.values_sent += state.size

    def recv(
        self, shape: tuple[int, ...], source: int, tag: int, dtype: np.dtype | type = np.float64
    ) -> PendingState:
        """Post the receive of one state of ``shape`` (and ``dtype``) from ``source``."""
        buf = np.empty(math.prod(shape) + 1, dtype=np.float64)
        return PendingState(self.comm.irecv(buf, source, tag), buf, shape, self.clock, dtype)

    def flush(self) -> None:
        """Wait for every send started so far (their buffers may then be freed)."""
        for request, _ in self._pending:
            request.wait()
        self._pending.clear()

    def allreduce(self, values: np.ndarray, op: ReduceOp = "sum") -> np.ndarray:
        """Clocked allreduce: the result, and every clock set to the max + latency * log2(P)."""
        out = self.comm.allreduce(np.ascontiguousarray(values, dtype=np.float64), op)
        if self.comm.size == 1:
            return out
        t_max = self.comm.allreduce(np.array([self.clock.time]), "max")[0]
        self.clock.collective(float(t_max), self.comm.size)
        return out.reshape(np.shape(values))
