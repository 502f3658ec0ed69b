"""Backtracking line search with the Armijo (sufficient decrease) condition.

Trial steps ``alpha_k = alpha_0 rho^k``, ``k = 0 .. max_tries-1``; the first ``alpha_k`` with

    f(x + alpha_k d) <= f(x) + c1 alpha_k g.d

is accepted. A non-finite trial objective counts as a failed trial (backtrack); numpy overflow
and invalid-value warnings are silenced during trials.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from solver.optim.base import StepInfo, ValueFn
from solver.optim.config import OptimizerConfig

__all__ = ["ArmijoResult", "backtracking_armijo", "line_search_step"]


@dataclass(frozen=True)
class ArmijoResult:
    """Outcome of :func:`backtracking_armijo`.

    Attributes:
        found: whether an Armijo point was found.
        step_size: accepted step, or the last trial step when ``found`` is False.
        value: objective at ``x + step_size d`` (may be non-finite when not found).
        n_evals: trial objective evaluations (= backtracks + 1).
    """

    found: bool
    step_size: float
    value: float
    n_evals: int


def backtracking_armijo(
    value: ValueFn,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    direction: np.ndarray,
    *,
    initial_step: float,
    factor: float,
    max_tries: int,
    c1: float,
) -> ArmijoResult:
    """Backtrack from ``initial_step`` along ``direction`` (shape ``(n,)``, should have g.d < 0)."""
    slope = float(g @ direction)
    alpha = initial_step
    trial_value = math.nan
    for k in range(max_tries):
        if k > 0:
            alpha *= factor
        with np.errstate(over="ignore", invalid="ignore"):
            trial_value = float(value(x + alpha * direction))
        if math.isfinite(trial_value) and trial_value <= f + c1 * alpha * slope:
            return ArmijoResult(True, alpha, trial_value, k + 1)
    return ArmijoResult(False, alpha, trial_value, max_tries)


def line_search_step(
    value: ValueFn,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    direction: np.ndarray,
    config: OptimizerConfig,
) -> StepInfo:
    """Line search along ``direction`` and the :class:`StepInfo` policy of ``config.ls_fail``.

    On failure, ``"take_last"`` moves to the last trial point if its objective is finite
    (the reference code's behaviour), ``"reject"`` (or a non-finite last trial) stays at ``x``.
    """
    res = backtracking_armijo(
        value,
        x,
        f,
        g,
        direction,
        initial_step=config.learning_rate,
        factor=config.ls_factor,
        max_tries=config.ls_max_tries,
        c1=config.armijo_c1,
    )
    tries = res.n_evals - 1
    if res.found:
        return StepInfo(
            x + res.step_size * direction, res.step_size, tries, True, res.n_evals, res.value
        )
    if config.ls_fail == "take_last" and math.isfinite(res.value):
        return StepInfo(
            x + res.step_size * direction, res.step_size, tries, False, res.n_evals, res.value
        )
    return StepInfo(x.copy(), res.step_size, tries, False, res.n_evals, f)
