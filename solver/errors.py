"""Exceptions of the :mod:`solver` package.

One root, :class:`SolverError`; configuration and data problems also subclass
:class:`ValueError` so callers that only know the standard library can catch them.
Messages name the parameter, the rule, the value and a fix.
"""

from __future__ import annotations

__all__ = ["SolverError", "ConfigError", "DataError", "ParallelError", "RemoteRankError"]


class SolverError(Exception):
    """Root of every error raised on purpose by :mod:`solver`."""


class ConfigError(SolverError, ValueError):
    """An option has a value the solver cannot use (names option, rule, value and a fix)."""


class DataError(SolverError, ValueError):
    """A data file or array is missing, malformed or inconsistent (names file and problem)."""


class ParallelError(SolverError):
    """A layer-parallel layout or communication problem (ranks, coarsening, partitions)."""


class RemoteRankError(ParallelError):
    """Another rank raised; this rank stopped so that no rank waits forever."""
