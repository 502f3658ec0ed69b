"""Limited-memory BFGS with backtracking Armijo line search (the reference code's optimiser).

Direction ``d = -H g`` from the two-loop recursion over the last ``m`` pairs
``s_i = x_{i+1} - x_i``, ``y_i = g_{i+1} - g_i`` (``rho_i = 1 / s_i.y_i``)::

    q = g;  for i = newest..oldest:  a_i = rho_i s_i.q;  q -= a_i y_i
    r = gamma q,  gamma = s.y / y.y of the newest pair (1 without pairs; y.y = 0 read as 1)
    for i = oldest..newest:  b = rho_i y_i.r;  r += (a_i - b) s_i
    d = -r

A pair is formed at the next :meth:`step` call from ``(x, g)`` against the previous call's
``(x, g)`` (no pair when ``s = 0``). A pair with bad curvature, ``s.y <= curvature_eps |s| |y|``,
is skipped (``bad_curvature="skip"``), skipped and the memory cleared (``"reset"``), or kept
like the reference code does (``"keep"``, with ``s.y = 0`` read as 1).
If ``g.d >= 0`` (not a descent direction), ``non_descent="reset"`` clears the memory and uses
``d = -g``; ``non_descent="keep"`` (the reference code) searches along ``d`` anyway, so the Armijo
test ``f(x + a d) <= f(x) + c1 a g.d`` normally fails at every trial and ``ls_fail`` decides the
step (the reference code moves to the last trial point and continues).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from solver.optim.base import Optimizer, StepInfo, ValueFn
from solver.optim.config import OptimizerConfig
from solver.optim.line_search import line_search_step

__all__ = ["LBFGS", "two_loop_direction"]


def two_loop_direction(
    g: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray, float]]
) -> np.ndarray:
    """``-H g`` for the pairs ``(s_i, y_i, rho_i)`` ordered oldest to newest; shapes ``(n,)``."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(s @ q)
        q -= a * y
        alphas.append(a)
    if pairs:
        _, y, rho = pairs[-1]
        q *= (1.0 / rho) / (float(y @ y) or 1.0)
    for (s, y, rho), a in zip(pairs, reversed(alphas), strict=True):
        b = rho * float(y @ q)
        q += (a - b) * s
    return -q


class LBFGS(Optimizer):
    """L-BFGS with memory ``config.memory``; see the module docstring.

    Counters: ``n_bad_curvature`` (pairs failing the curvature test), ``n_non_descent``
    (two-loop directions with ``g.d >= 0``), ``n_resets`` (of those, replaced by ``-g``), and
    the base class's ``n_failed_steps`` (line searches without an Armijo point).
    """

    def __init__(self, config: OptimizerConfig) -> None:
        super().__init__(config)
        self._reset_impl()

    @property
    def pairs(self) -> list[tuple[np.ndarray, np.ndarray, float]]:
        """Stored curvature pairs ``(s, y, 1/s.y)``, oldest first."""
        return list(self._pairs)

    def _reset_impl(self) -> None:
        self._pairs: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=self.config.memory)
        self._prev: tuple[np.ndarray, np.ndarray] | None = None
        self.n_bad_curvature = 0
        self.n_non_descent = 0
        self.n_resets = 0

    def _update_memory(self, x: np.ndarray, g: np.ndarray) -> None:
        if self._prev is not None:
            s = x - self._prev[0]
            y = g - self._prev[1]
            if not np.any(s):  # no move since the last call (e.g. a rejected step)
                self._prev = (x.copy(), g.copy())
                return
            sy = float(s @ y)
            policy = self.config.bad_curvature
            if sy > self.config.curvature_eps * float(np.linalg.norm(s) * np.linalg.norm(y)):
                self._pairs.append((s, y, 1.0 / sy))
            else:
                self.n_bad_curvature += 1
                if policy == "keep":
                    self._pairs.append((s, y, 1.0 / sy if sy != 0.0 else 1.0))
                elif policy == "reset":
                    self._pairs.clear()
        self._prev = (x.copy(), g.copy())

    def _step_impl(self, x: np.ndarray, f: float, g: np.ndarray, value: ValueFn) -> StepInfo:
        self._update_memory(x, g)
        if not np.any(g):
            return StepInfo(x.copy(), 0.0, 0, True, 0, f)
        d = two_loop_direction(g, list(self._pairs))
        if not float(g @ d) < 0.0:
            self.n_non_descent += 1
            if self.config.non_descent == "reset":
                self._pairs.clear()
                self.n_resets += 1
                d = -g
        if not self.config.uses_line_search:
            alpha = self.config.learning_rate
            return StepInfo(x + alpha * d, alpha, 0, True, 0)
        info = line_search_step(value, x, f, g, d, self.config)
        if not info.accepted and self.config.ls_fail == "reject":
            self._pairs.clear()
        return info
