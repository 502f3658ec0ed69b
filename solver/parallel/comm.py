"""The communicator interface used by the layer-parallel solver.

A :class:`Communicator` is always passed in explicitly; nothing in :mod:`solver` reaches for a
global world communicator.  Point-to-point messages are *buffer based*: the caller owns a
contiguous float64 numpy array, the communicator moves its bytes (no pickling on the hot path).

Implementations
---------------
* :class:`SerialComm` -- one rank, no mpi4py import; point-to-point calls are errors.
* :class:`solver.parallel.mpi.MPIComm` -- wraps an mpi4py communicator.
* :class:`solver.parallel.threads.ThreadComm` -- P ranks as threads of one process (tests,
  modelled speed-up for P larger than the machine).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal, Protocol

import numpy as np

from solver.errors import ParallelError

__all__ = ["Communicator", "Request", "SerialComm", "ReduceOp", "DoneRequest"]

ReduceOp = Literal["sum", "max", "min"]


class Request(Protocol):
    """Handle of a nonblocking operation; :meth:`wait` returns when the buffer may be used."""

    def wait(self) -> None: ...


class DoneRequest:
    """A request that is already complete."""

    def wait(self) -> None:
        return None


class Communicator(ABC):
    """Minimal message-passing interface: ranks ``0..size-1``.

    Point-to-point: ``isend``/``irecv`` of contiguous float64 arrays with an integer tag;
    messages between one pair of ranks with one tag arrive in the order they were sent.
    Collectives (``allreduce``, ``bcast``, ``barrier``) must be called by every rank in the
    same order.
    """

    rank: int
    size: int

    @abstractmethod
    def isend(self, buf: np.ndarray, dest: int, tag: int) -> Request:
        """Start sending ``buf`` (contiguous float64) to ``dest``; keep it alive until ``wait``."""

    @abstractmethod
    def irecv(self, buf: np.ndarray, source: int, tag: int) -> Request:
        """Start receiving into ``buf`` (contiguous float64, exact size) from ``source``."""

    @abstractmethod
    def allreduce(self, value: np.ndarray, op: ReduceOp = "sum") -> np.ndarray:
        """Element-wise reduction of a float64 array over all ranks; every rank gets the result."""

    @abstractmethod
    def bcast(self, buf: np.ndarray, root: int = 0) -> np.ndarray:
        """Broadcast ``buf`` (same shape on every rank) from ``root``; return the result."""

    @abstractmethod
    def barrier(self) -> None:
        """Block until every rank has called ``barrier``."""

    @abstractmethod
    def abort(self, code: int = 1) -> None:
        """Bring every rank down at once (used after an unrecoverable error on one rank).

        With MPI this never returns.  With threads it marks the world as aborted (every rank's
        next wait raises :class:`~solver.errors.RemoteRankError`) and returns, so that the
        caller's own exception keeps propagating.
        """

    def allreduce_scalar(self, value: float, op: ReduceOp = "sum") -> float:
        """:meth:`allreduce` of one float."""
        return float(self.allreduce(np.array([value], dtype=np.float64), op)[0])


def _check_buffer(buf: np.ndarray, name: str) -> None:
    if not (isinstance(buf, np.ndarray) and buf.dtype == np.float64 and buf.flags.c_contiguous):
        raise ParallelError(
            f"`{name}` must be a C-contiguous float64 numpy array; got "
            f"{type(buf).__name__} {getattr(buf, 'dtype', '')}. Fix: pass np.ascontiguousarray(x, "
            "dtype=np.float64)."
        )


class SerialComm(Communicator):
    """The one-rank communicator: collectives are identities, point-to-point is an error."""

    def __init__(self) -> None:
        self.rank = 0
        self.size = 1

    def isend(self, buf: np.ndarray, dest: int, tag: int) -> Request:
        raise ParallelError(
            f"SerialComm has one rank; cannot send to rank {dest}. Fix: use MPIComm or ThreadComm "
            "for more than one rank."
        )

    def irecv(self, buf: np.ndarray, source: int, tag: int) -> Request:
        raise ParallelError(
            f"SerialComm has one rank; cannot receive from rank {source}. Fix: use MPIComm or "
            "ThreadComm for more than one rank."
        )

    def allreduce(self, value: np.ndarray, op: ReduceOp = "sum") -> np.ndarray:
        _check_buffer(np.ascontiguousarray(value, dtype=np.float64), "value")
        return np.array(value, dtype=np.float64, copy=True)

    def bcast(self, buf: np.ndarray, root: int = 0) -> np.ndarray:
        return np.array(buf, dtype=np.float64, copy=True)

    def barrier(self) -> None:
        return None

    def abort(self, code: int = 1) -> None:
        return None  # one rank: nobody else to stop; the caller's exception propagates
