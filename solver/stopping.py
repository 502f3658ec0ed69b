"""Stop rules and the vocabulary of a training history.

A run ends with one of :data:`STATUSES`; every iteration appends one row whose keys are
:data:`HISTORY_COLUMNS` (NaN where a figure does not apply).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from solver.errors import ConfigError

__all__ = ["StopConfig", "HISTORY_COLUMNS", "STATUSES", "Status"]

HISTORY_COLUMNS = (
    "iteration",
    "wall_time",
    "modelled_time",
    "cost",
    "level",
    "n_layers",
    "objective",
    "loss",
    "grad_norm",
    "step_size",
    "ls_tries",
    "train_acc",
    "val_acc",
    "primal_residual",
    "adjoint_residual",
)
STATUSES = ("converged", "max_iterations", "target_reached", "diverged", "time_budget", "stopped")
Status = Literal[
    "converged", "max_iterations", "target_reached", "diverged", "time_budget", "stopped"
]


@dataclass(frozen=True)
class StopConfig:
    """Stop rules, checked after every iteration's evaluation, in this order.

    Attributes:
        max_iterations: optimisation iterations (gradient evaluations) of the run.
        grad_tol: stop with ``"converged"`` once ``|dJ/dtheta| < grad_tol`` (0 disables).
        target_accuracy: stop with ``"target_reached"`` once the validation accuracy is at least
            this (``None`` disables).
        time_budget: wall-time budget in seconds (``None`` disables): ``"time_budget"``.
        eval_every: compute the validation accuracy every this many iterations (and at the end);
            rows in between carry NaN.
    """

    max_iterations: int = 300
    grad_tol: float = 1e-4
    target_accuracy: float | None = None
    time_budget: float | None = None
    eval_every: int = 1

    def __post_init__(self) -> None:
        if (
            isinstance(self.max_iterations, bool)
            or not isinstance(self.max_iterations, int)
            or (self.max_iterations < 0)
        ):
            raise ConfigError(
                f"`max_iterations` must be an integer >= 0; got max_iterations="
                f"{self.max_iterations!r}."
            )
        if not isinstance(self.grad_tol, int | float) or self.grad_tol < 0:
            raise ConfigError(f"`grad_tol` must be >= 0; got grad_tol={self.grad_tol!r}.")
        if self.target_accuracy is not None and not 0 < self.target_accuracy <= 1:
            raise ConfigError(
                f"`target_accuracy` must lie in (0, 1] (a fraction, not a percentage); got "
                f"target_accuracy={self.target_accuracy!r}."
            )
        if self.time_budget is not None and not self.time_budget > 0:
            raise ConfigError(
                f"`time_budget` must be a positive number of seconds; got {self.time_budget!r}."
            )
        if (
            isinstance(self.eval_every, bool)
            or not isinstance(self.eval_every, int)
            or (self.eval_every < 1)
        ):
            raise ConfigError(f"`eval_every` must be an integer >= 1; got {self.eval_every!r}.")
