"""MPI implementation of :class:`~solver.parallel.comm.Communicator` (the only mpi4py import).

All point-to-point traffic uses the upper-case, buffer-based mpi4py calls (``Isend``/``Irecv``
on float64 arrays); nothing on the hot path is pickled.  :func:`world` is the single place that
touches ``COMM_WORLD``; library code receives the communicator as an argument.
"""

from __future__ import annotations

from typing import NoReturn

import numpy as np

from solver.errors import ParallelError
from solver.parallel.comm import Communicator, ReduceOp, _check_buffer

try:  # pragma: no cover - exercised only where mpi4py is installed
    from mpi4py import MPI
except ImportError as exc:  # pragma: no cover
    raise ParallelError(
        "`solver.parallel.mpi` needs mpi4py; it is not importable "
        f"({exc}). Fix: install the `mpi` extra (pip install -e '.[mpi]') or use SerialComm."
    ) from exc

__all__ = ["MPIComm", "MPIRequest", "world"]

_OPS = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}


class MPIRequest:
    """A nonblocking mpi4py request: :meth:`wait`, :meth:`test` (done yet?) and :meth:`cancel`."""

    __slots__ = ("_request",)

    def __init__(self, request: MPI.Request) -> None:
        self._request = request

    def wait(self) -> None:
        self._request.Wait()

    def test(self) -> bool:
        return bool(self._request.Test())

    def cancel(self) -> None:
        """Cancel a pending receive and complete it (no-op when already done)."""
        if not self._request.Test():
            self._request.Cancel()
            self._request.Wait()


class MPIComm(Communicator):
    """Wrap an mpi4py communicator (``MPIComm(MPI.COMM_WORLD)`` or a split of it)."""

    def __init__(self, comm: MPI.Comm) -> None:
        self._comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()

    @property
    def mpi_comm(self) -> MPI.Comm:
        """The wrapped mpi4py communicator."""
        return self._comm

    def isend(self, buf: np.ndarray, dest: int, tag: int) -> MPIRequest:
        _check_buffer(buf, "buf")
        return MPIRequest(self._comm.Isend([buf, MPI.DOUBLE], dest=dest, tag=tag))

    def irecv(self, buf: np.ndarray, source: int, tag: int) -> MPIRequest:
        """Receive from ``source`` (``-1``: any rank)."""
        _check_buffer(buf, "buf")
        source = MPI.ANY_SOURCE if source == -1 else source
        return MPIRequest(self._comm.Irecv([buf, MPI.DOUBLE], source=source, tag=tag))

    def split(self, color: int, key: int) -> MPIComm:
        """Sub-communicator of the ranks with the same ``color``, ordered by ``key``."""
        return MPIComm(self._comm.Split(color, key))

    def dup(self) -> MPIComm:
        """A communicator over the same ranks whose messages never mix with this one's."""
        return MPIComm(self._comm.Dup())

    def free(self) -> None:
        """Release a communicator made by :meth:`split` or :meth:`dup`."""
        self._comm.Free()

    def allreduce(self, value: np.ndarray, op: ReduceOp = "sum") -> np.ndarray:
        send = np.ascontiguousarray(value, dtype=np.float64)
        recv = np.empty_like(send)
        self._comm.Allreduce([send, MPI.DOUBLE], [recv, MPI.DOUBLE], op=_OPS[op])
        return recv

    def bcast(self, buf: np.ndarray, root: int = 0) -> np.ndarray:
        out = np.array(buf, dtype=np.float64, copy=True, order="C")
        self._comm.Bcast([out, MPI.DOUBLE], root=root)
        return out

    def barrier(self) -> None:
        self._comm.Barrier()

    def abort(self, code: int = 1) -> NoReturn:
        from solver.parallel.guard import active_guard

        guard = active_guard()
        if guard is not None:  # let every rank record its state first, then MPI_Abort
            guard.stop(f"rank {guard.rank} failed", code, notify=True, print_reason=False)
        self._comm.Abort(code)
        raise SystemExit(code)  # not reached: Abort terminates the process


def world() -> MPIComm:
    """``MPIComm(MPI.COMM_WORLD)``; for scripts and the command line only."""
    return MPIComm(MPI.COMM_WORLD)
