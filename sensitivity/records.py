"""The trial record contract: what one trial stores, and the one time-to-target rule.

Analysis code (:mod:`~sensitivity.results`, :mod:`~sensitivity.metrics`,
:mod:`~sensitivity.plot_data`, figures, export) reads trials through this module only and
imports no solver module; the training side (:mod:`~sensitivity.objective`) writes records with
it.

Record (Optuna user attribute ``record``), one dict per trial with the keys
:data:`RECORD_FIELDS`::

    status           "complete" | "diverged" | "failed"  (:data:`TRIAL_STATUSES`)
    solver_status    TrainResult.status or None when training raised
    reason           TrainResult.message, or "ExceptionType: message" for a failed trial
    val_acc, train_acc, objective, loss, grad_norm      TrainResult.final (NaN if absent)
    wall_time, modelled_time, n_params                  TrainResult fields
    n_iterations, n_layers_final, n_classes             history / final network / data set
    reached_target, time_to_target_wall, time_to_target_modelled
                     :func:`time_to_target` of the history (not reached: False, NaN, NaN)
    trial_time       wall time of the whole trial including data loading and set-up
    worker           host:pid of the process that trained it

Curve (user attribute ``curve``): the solver's history columns :data:`CURVE_COLUMNS` as lists
(one entry per iteration, NaN stored as null).

Time to target -- the censoring rule (one rule, used everywhere)
-----------------------------------------------------------------
A run *reaches* the target at the first evaluated history row of its final-depth network (rows
of nested iteration's coarser levels do not count) with ``val_acc >= target`` whose time on the
metric's clock is ``<= budget`` (no budget: any time). Its time to target is that
row's wall and modelled time. A run that does not reach it -- it stopped, diverged, failed, or
arrived after the budget -- *never* reaches it: in survival summaries it is right-censored at the
horizon ``H = budget`` (``H = +inf`` without a budget), so failures stay in the risk set to the
end (:func:`event_times`). Stored records keep ``time_to_target_* = NaN`` and
``reached_target = False`` for such runs.

Optimised value of a time-to-target study (:func:`time_to_target_score`): the time to target
when reached, otherwise the penalty ``budget * (1 + shortfall)`` with
``shortfall = clip((target - best) / target, 0, 1)``, ``best`` the best validation accuracy the
run evaluated within the budget (diverged or failed runs: ``shortfall = 1``). Every successful
time is ``<= budget``, so every censored run scores ``>=`` every success, and among censored runs
the ones that got closer to the target score better.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = [
    "CURVE_COLUMNS",
    "RECORD_FIELDS",
    "TRIAL_STATUSES",
    "TimeToTarget",
    "time_to_target",
    "time_to_target_score",
    "accuracy_score",
    "event_times",
    "horizon",
    "time_column",
    "param_columns",
    "counted",
]

# Copy of solver.stopping.HISTORY_COLUMNS (tests/test_sensitivity_records.py checks they agree),
# so that reading results imports no solver module.
CURVE_COLUMNS = (
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
RECORD_FIELDS = (
    "status", "solver_status", "reason", "val_acc", "train_acc", "objective", "loss", "grad_norm",
    "wall_time", "modelled_time", "n_params", "n_iterations", "n_layers_final", "n_classes",
    "reached_target", "time_to_target_wall", "time_to_target_modelled", "trial_time", "worker",
)  # fmt: skip
TRIAL_STATUSES = ("complete", "diverged", "failed")

Clock = Literal["wall", "modelled"]


def param_columns(df: Any) -> list[str]:
    """Names of the ``param_<name>`` columns (searched parameters) of a trials or curves frame."""
    return [c for c in df.columns if c.startswith("param_")]


def counted(trials: Any) -> Any:
    """The trials standing for design points (``counted`` column; all rows when absent):
    complete, diverged and failed alike -- every summary counts failures."""
    return trials[trials["counted"].astype(bool)] if "counted" in trials else trials


def time_column(clock: Clock) -> str:
    """History / record column of a clock: ``wall_time`` or ``modelled_time``."""
    if clock not in ("wall", "modelled"):
        raise ValueError(f"clock must be 'wall' or 'modelled'; got {clock!r}")
    return "wall_time" if clock == "wall" else "modelled_time"


def horizon(budget: float | None) -> float:
    """Censoring time of runs that never reach the target: the budget, or +inf without one."""
    return math.inf if budget is None else float(budget)


@dataclass(frozen=True)
class TimeToTarget:
    """One run's time to target.

    Attributes:
        reached: the target was reached within the budget.
        wall, modelled: wall / modelled time of the first row at the target (NaN if not reached).
        best_acc: best finite final-depth validation accuracy within the budget (NaN if none).
        row: index of the history row at the target (``None`` if not reached).
    """

    reached: bool
    wall: float
    modelled: float
    best_acc: float
    row: int | None = None

    def time(self, clock: Clock) -> float:
        """Time to target on ``clock`` (NaN if not reached)."""
        return self.wall if clock == "wall" else self.modelled


def _floats(x: Sequence[Any]) -> np.ndarray:
    return np.array([math.nan if v is None else v for v in x], dtype="float64")


def time_to_target(
    val_acc: Sequence[Any],
    wall_time: Sequence[Any],
    modelled_time: Sequence[Any],
    *,
    target: float | None,
    clock: Clock = "wall",
    budget: float | None = None,
    n_layers: Sequence[Any] | None = None,
) -> TimeToTarget:
    """First evaluation at the target within the budget (the module's censoring rule).

    Args:
        val_acc, wall_time, modelled_time: one run's history columns, shape ``(n_rows,)``, in
            iteration order; NaN / None for rows without an evaluation.
        target: accuracy to reach (``None``: never reached).
        clock: clock the ``budget`` is measured on.
        budget: last admissible time on ``clock`` (``None``: no limit).
        n_layers: the history's ``n_layers`` column, shape ``(n_rows,)``: only rows of the
            final depth (that of the last row) count (``None``: every row).

    Returns:
        :class:`TimeToTarget`; ``reached`` iff some final-depth row ``i`` has
        ``val_acc[i] >= target`` and ``t[i] <= budget``; times of the first such row.
    """
    acc = _floats(val_acc)
    wall = _floats(wall_time)
    modelled = _floats(modelled_time)
    t = wall if clock == "wall" else modelled
    within = np.ones(len(acc), bool) if budget is None else (t <= budget)
    if n_layers is not None and len(acc):
        depth = _floats(n_layers)
        if np.isfinite(depth[-1]):  # unknown depths: every row counts
            within &= depth == depth[-1]
    ok = np.isfinite(acc) & within
    best = float(acc[ok].max()) if ok.any() else math.nan
    if target is None:
        return TimeToTarget(False, math.nan, math.nan, best)
    hits = np.flatnonzero(ok & (acc >= target))
    if len(hits) == 0:
        return TimeToTarget(False, math.nan, math.nan, best)
    i = int(hits[0])
    return TimeToTarget(True, float(wall[i]), float(modelled[i]), best, i)


def time_to_target_score(
    ttt: TimeToTarget, *, target: float, budget: float, clock: Clock, diverged: bool = False
) -> float:
    """Optimised (minimised) value of a time-to-target trial.

    ``t`` when reached (even if the run diverged later: it did reach the target); else
    ``budget * (1 + shortfall)``, ``shortfall = clip((target - best_acc) / target, 0, 1)``
    (1 when the run diverged or has no accuracy). Always ``>= budget >=`` every successful time.
    """
    if ttt.reached:
        return ttt.time(clock)
    best = ttt.best_acc
    if diverged or not math.isfinite(best):
        shortfall = 1.0
    else:
        shortfall = min(max((target - best) / target, 0.0), 1.0)
    return float(budget) * (1.0 + shortfall)


def accuracy_score(val_acc: Any, status: str) -> float:
    """Optimised (maximised) value of an accuracy trial: final ``val_acc``; 0 when diverged or
    not finite."""
    try:
        v = float(val_acc)
    except (TypeError, ValueError):
        v = math.nan
    return v if math.isfinite(v) and status == "complete" else 0.0


def event_times(
    trials: Any, *, clock: Clock = "wall", budget: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Survival data of a trials frame under the censoring rule.

    Args:
        trials: frame with ``reached_target`` and ``time_to_target_<clock>`` (one row per run;
            failed and diverged runs included).
        clock: which time.
        budget: the study's budget on ``clock`` (``None``: none).

    Returns:
        ``(time, reached)``, shape ``(n,)`` each: time to target for runs that reached it
        (``<= budget``), the horizon :func:`horizon` for all others; ``reached`` bool.
    """
    t = trials[f"time_to_target_{clock}"].to_numpy(dtype="float64", na_value=np.nan)
    reached = trials["reached_target"].fillna(False).to_numpy(dtype=bool) & np.isfinite(t)
    if budget is not None:
        reached &= t <= budget
    return np.where(reached, t, horizon(budget)), reached
