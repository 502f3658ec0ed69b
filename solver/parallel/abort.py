"""Abort-on-exception: one failing rank brings every rank down promptly, with its message.

Without this, an exception on rank 1 leaves rank 0 blocked in a receive forever (a hung job).
:func:`abort_on_error` prints one line ``[rank r/P] Type: message`` to stderr (the whole
traceback with ``debug=True``; otherwise a hint to rerun with ``--debug`` for errors that are not
the solver's own), flushes, and calls ``comm.abort`` (``MPI_Abort`` under MPI, after the
:mod:`~solver.parallel.guard` let every rank record its state). A
:class:`~solver.errors.RemoteRankError` (this rank was stopped because *another* rank failed)
is passed through without a second abort.

:func:`agree` runs a set-up step on every rank and checks collectively that it worked
everywhere, so that an error seen by one rank only (a data file only it can read, a bad option)
stops every rank instead of leaving the others waiting in the first collective;
:func:`check_same` checks that every rank has the same options.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import numpy as np

from solver.errors import ConfigError, RemoteRankError, SolverError
from solver.parallel.comm import Communicator

__all__ = ["abort_on_error", "aborting", "agree", "check_same", "one_line"]

P = ParamSpec("P")
R = TypeVar("R")


def one_line(exc: BaseException, *, prog: str = "") -> str:
    """``Type: message`` on one line; unexpected errors (not ``ValueError``/``OSError``/the
    package's own) get a hint to rerun with ``--debug`` for the traceback."""
    text = " ".join(str(exc).split()) or repr(exc)
    own = isinstance(exc, SolverError | ValueError | OSError) or type(exc).__module__.startswith(
        ("solver", "sensitivity")
    )
    line = text if own and isinstance(exc, SolverError) else f"{type(exc).__name__}: {text}"
    if not own:
        line += f" (unexpected; rerun {prog + ' ' if prog else ''}with --debug for the traceback)"
    return line


@contextmanager
def abort_on_error(comm: Communicator, *, code: int = 1, debug: bool = False) -> Iterator[None]:
    """Context manager: on an exception, report it with the rank number and abort all ranks."""
    try:
        yield
    except RemoteRankError:
        raise
    except BaseException as exc:
        if isinstance(exc, SystemExit) and not exc.code:
            raise
        prefix = f"[rank {comm.rank}/{comm.size}] "
        if debug:
            body = "".join(traceback.format_exception(exc))
        else:
            body = one_line(exc) + "\n"
        sys.stderr.write("".join(prefix + line for line in body.splitlines(True)))
        if comm.size > 1:
            sys.stderr.write(f"{prefix}aborting all ranks.\n")
        sys.stderr.flush()
        if comm.size > 1:
            from solver.parallel.guard import active_guard

            guard = active_guard()
            if guard is not None:
                guard.stop(f"rank {comm.rank} failed: {one_line(exc)}", code, notify=True)
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


def agree(comm: Communicator, fn: Callable[[], R]) -> R:
    """Run ``fn()`` on every rank; all ranks learn whether it failed anywhere.

    One ``allreduce`` of the lowest failing rank. The failing ranks re-raise their own exception;
    the others raise :class:`~solver.errors.RemoteRankError` naming the lowest failing rank.
    Every rank leaves together: nobody is left waiting in a later collective.
    """
    error: BaseException | None = None
    result: Any = None
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - re-raised below, after the agreement
        error = exc
    if comm.size > 1:
        first = int(comm.allreduce_scalar(comm.rank if error else comm.size, "min"))
        if error is None and first < comm.size:
            raise RemoteRankError(f"set-up failed on rank {first}; this rank stopped with it.")
    if error is not None:
        raise error
    return result


def _digest(value: Any) -> float:
    """A 48-bit hash of ``value``'s JSON text as an exact float64."""
    text = json.dumps(value, sort_keys=True, default=repr)
    return float(int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big"))


def check_same(comm: Communicator, values: Mapping[str, Any], *, what: str = "option") -> None:
    """Raise :class:`~solver.errors.ConfigError` on every rank when some ``values[name]`` differs
    between ranks (two ``allreduce``\\ s of the names' hashes, min and max).

    Raises:
        ConfigError: names the first differing entry, this rank's value and the fix.
    """
    if comm.size == 1:
        return
    names = sorted(values)
    h = np.array([_digest(values[n]) for n in names], dtype=np.float64)
    lo, hi = comm.allreduce(h, "min"), comm.allreduce(h, "max")
    differ = [n for n, a, b in zip(names, lo, hi, strict=True) if a != b]
    if differ:
        raise ConfigError(
            f"{what} {differ[0]} differs between the MPI ranks (rank {comm.rank} has "
            f"{values[differ[0]]!r}). Fix: give every rank the same {what}s and the same files."
        )
