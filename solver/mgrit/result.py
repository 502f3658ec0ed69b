"""`MGRITResult`: what one MGRIT solve returns (status, residuals, states, cost)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

__all__ = ["MGRITResult", "MGRITCost", "Status", "MESSAGES"]

Status = Literal["converged", "max_iterations", "diverged"]

MESSAGES: dict[str, str] = {
    "converged": "The residual reached the requested tolerance.",
    "max_iterations": "The requested number of iterations was performed.",
    "diverged": "The residual became infinite or NaN.",
}


@dataclass(frozen=True)
class MGRITCost:
    """Cost counters of one solve on this rank.

    ``steps_per_level[l]``: propagator calls on level ``l``; ``steps_by_phase``: the same calls
    split by level and phase (``"L1 restrict"``, ``"L0 final"`` ...);
    ``messages_sent``/``values_sent``: point-to-point messages and float64 values sent;
    ``modelled_time``: critical-path time of the solve from the virtual clocks (units of the
    clock's cost model).
    """

    steps_per_level: tuple[int, ...]
    messages_sent: int
    values_sent: int
    modelled_time: float
    steps_by_phase: dict[str, int] = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return sum(self.steps_per_level)


@dataclass(frozen=True)
class MGRITResult:
    """Outcome of :meth:`solver.mgrit.engine.MGRIT.solve` on one rank.

    ``residual_history[k]``: fine C-point residual norm after ``k`` cycles (measured after the
    relaxation that opens the next cycle); ``iterations``: number of cycles (coarse-grid
    corrections) performed; ``states``: this rank's fine states ``{index: array}``;
    ``convergence_factor``: ``(r_last / r_0)^(1/(len-1))`` (NaN with fewer than 2 residuals);
    ``final_pass``: every fine step of this rank went once through ``problem.final_step`` with
    its final input (the solve stopped by ``max_iterations``, or one level); identical on all
    ranks.
    """

    status: Status
    message: str
    residual_history: np.ndarray
    iterations: int
    states: dict[int, np.ndarray] = field(repr=False)
    cost: MGRITCost
    n_levels: int
    final_pass: bool = False

    @property
    def residual(self) -> float:
        """The last measured residual norm."""
        return float(self.residual_history[-1])

    @property
    def convergence_factor(self) -> float:
        """Average convergence factor ``(r_last / r_0)^(1 / (len - 1))``."""
        h = self.residual_history
        if len(h) < 2 or not h[0] > 0.0:
            return float("nan")
        return float((h[-1] / h[0]) ** (1.0 / (len(h) - 1)))
