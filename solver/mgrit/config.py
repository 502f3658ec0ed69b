"""`MGRITConfig`: the settings of one MGRIT solve (frozen, validated on construction)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from solver.errors import ConfigError

__all__ = ["MGRITConfig", "CycleType", "TemporalNorm"]

CycleType = Literal["V", "F"]
TemporalNorm = Literal["l1", "l2", "inf"]


def _int_at_least(name: str, value: object, low: int, fix: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(f"`{name}` must be an integer >= {low}; got {value!r}. Fix: {fix}")


@dataclass(frozen=True)
class MGRITConfig:
    """Settings of the nonlinear (FAS) MGRIT solver.

    Levels: level 0 is the fine grid of layer states ``0..N``; level ``l+1`` keeps every
    ``m_l``-th point of level ``l`` (plus ``N``), with ``m_0 = coarsening_factor_fine`` (or
    ``coarsening_factor`` when ``None``) and ``m_l = coarsening_factor`` for ``l >= 1``;
    ``coarsening_factor_fine="ranks"`` stands for ``max(2, N // P)`` (one fine coarse interval
    per rank, the reference code's usual choice) and is resolved by :meth:`for_ranks`.  A
    coarser level is added while fewer than ``max_levels`` exist and it would still have at
    least ``min_coarse_size`` intervals (and fewer than the level above).

    Relaxation on a level: one F-sweep followed by ``nrelax`` (C-sweep, F-sweep) pairs, so 0 is
    F-relaxation, 1 is FCF, 2 is FCFCF; ``nrelax_fine`` applies on level 0.  The C-sweep is
    weighted Jacobi, ``u_C <- (1-w) u_C + w (Phi(u_{C-1}) + g_C)`` with ``w = c_weight``.

    Stopping: after each cycle's relaxation the residual at the fine C-points is measured;
    the solve stops when it is ``<= abs_tol`` (if ``abs_tol > 0``), ``<= rel_tol`` times the
    first residual (if ``rel_tol > 0``), or after ``max_iterations`` cycles (set both
    tolerances to 0 for a fixed iteration count, as in one-shot training).  The residual norm
    is the temporal ``norm`` ("l1", "l2" or "inf") of the spatial 2-norms of the C-point
    residuals.
    """

    max_levels: int = 10
    coarsening_factor: int = 2
    coarsening_factor_fine: int | Literal["ranks"] | None = None
    min_coarse_size: int = 2
    cycle: CycleType = "V"
    nrelax: int = 1
    nrelax_fine: int = 0
    c_weight: float = 1.0
    max_iterations: int = 100
    abs_tol: float = 1e-10
    rel_tol: float = 0.0
    norm: TemporalNorm = "l2"
    skip_first_down: bool = False

    def __post_init__(self) -> None:
        _int_at_least("max_levels", self.max_levels, 1, "use 1 for serial propagation, e.g. 10.")
        _int_at_least("coarsening_factor", self.coarsening_factor, 2, "use e.g. 2 or 4.")
        if self.coarsening_factor_fine not in (None, "ranks"):
            _int_at_least(
                "coarsening_factor_fine",
                self.coarsening_factor_fine,
                2,
                "use None, 'ranks' or e.g. 4.",
            )
        _int_at_least("min_coarse_size", self.min_coarse_size, 1, "use e.g. 2 or 10.")
        _int_at_least("nrelax", self.nrelax, 0, "use 0 (F) or 1 (FCF).")
        _int_at_least("nrelax_fine", self.nrelax_fine, 0, "use 0 (F) or 1 (FCF).")
        _int_at_least("max_iterations", self.max_iterations, 0, "use e.g. 2 or 100.")
        if self.cycle not in ("V", "F"):
            raise ConfigError(f"`cycle` must be 'V' or 'F'; got {self.cycle!r}. Fix: use 'V'.")
        if self.norm not in ("l1", "l2", "inf"):
            raise ConfigError(
                f"`norm` must be 'l1', 'l2' or 'inf'; got {self.norm!r}. Fix: use 'l2'."
            )
        if not (math.isfinite(self.c_weight) and 0.0 < self.c_weight <= 2.0):
            raise ConfigError(
                f"`c_weight` must lie in (0, 2]; got {self.c_weight!r}. Fix: use 1.0 (plain "
                "C-relaxation) or e.g. 1.3 (over-relaxed)."
            )
        for name in ("abs_tol", "rel_tol"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0.0):
                raise ConfigError(
                    f"`{name}` must be a finite number >= 0 (0 disables it); got {value!r}."
                )
        if not isinstance(self.skip_first_down, bool):
            raise ConfigError(f"`skip_first_down` must be a bool; got {self.skip_first_down!r}.")

    @property
    def fine_factor(self) -> int:
        """Coarsening factor of level 0."""
        if self.coarsening_factor_fine == "ranks":
            raise ConfigError(
                "`coarsening_factor_fine='ranks'` depends on the depth and the number of ranks. "
                "Fix: call `for_ranks(n_layers, n_ranks)` first."
            )
        return self.coarsening_factor_fine or self.coarsening_factor

    def for_ranks(self, n_layers: int, n_ranks: int) -> MGRITConfig:
        """These settings with ``coarsening_factor_fine="ranks"`` resolved to
        ``max(2, n_layers // n_ranks)`` (unchanged otherwise)."""
        if self.coarsening_factor_fine != "ranks":
            return self
        return replace(self, coarsening_factor_fine=max(2, n_layers // max(n_ranks, 1)))

    def factor(self, level: int) -> int:
        """Coarsening factor from ``level`` to ``level + 1``."""
        return self.fine_factor if level == 0 else self.coarsening_factor

    def sweeps(self, level: int) -> int:
        """Number of (C, F) sweep pairs after the first F-sweep on ``level``."""
        return self.nrelax_fine if level == 0 else self.nrelax
