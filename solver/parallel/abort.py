"""Abort-on-exception: one failing rank brings every rank down promptly, with its message.

Without this, an exception on rank 1 leaves rank 0 blocked in a receive forever (a hung job).
:func:`abort_on_error` prints the traceback prefixed with ``[rank r/P]`` to stderr, flushes,
and calls ``comm.abort`` (``MPI_Abort`` under MPI, which ends every process of the job).
A :class:`~solver.errors.RemoteRankError` (this rank was stopped because *another* rank
failed) is passed through without a second abort.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from solver.errors import RemoteRankError
from solver.parallel.comm import Communicator

__all__ = ["abort_on_error", "aborting"]

P = ParamSpec("P")
R = TypeVar("R")


@contextmanager
def abort_on_error(comm: Communicator, *, code: int = 1) -> Iterator[None]:
    """Context manager: on an exception, report it with the rank number and abort all ranks."""
    try:
        yield
    except RemoteRankError:
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        lines = traceback.format_exception(exc)
        text = "".join(
            f"[rank {comm.rank}/{comm.size}] {line}" for line in "".join(lines).splitlines(True)
        )
        sys.stderr.write(text)
        sys.stderr.write(f"[rank {comm.rank}/{comm.size}] aborting all ranks.\n")
        sys.stderr.flush()
        if comm.size > 1:
            comm.abort(code)
        raise


def aborting(comm: Communicator) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorator form of :func:`abort_on_error` for a fixed communicator."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with abort_on_error(comm):
                return fn(*args, **kwargs)

        return wrapper

    return decorate
