"""Stochastic gradient descent with heavy-ball or Nesterov momentum.

With velocity ``v`` (zero at start), momentum ``beta`` and learning rate ``alpha``::

    v <- beta v + g
    d  = -v               (heavy ball)
    d  = -(g + beta v)    (Nesterov, the look-ahead form used by PyTorch)
    x <- x + alpha d

With a line search, ``alpha`` is found by backtracking Armijo from ``learning_rate``; if ``d``
is not a descent direction (``g.d >= 0``) the velocity is reset to ``g`` and ``d = -g``.
"""

from __future__ import annotations

import numpy as np

from solver.optim.base import Optimizer, StepInfo, ValueFn
from solver.optim.config import OptimizerConfig
from solver.optim.line_search import line_search_step

__all__ = ["SGD"]


class SGD(Optimizer):
    """Momentum SGD; see the module docstring."""

    def __init__(self, config: OptimizerConfig) -> None:
        super().__init__(config)
        self._reset_impl()

    def _reset_impl(self) -> None:
        self._velocity: np.ndarray | None = None

    def _step_impl(self, x: np.ndarray, f: float, g: np.ndarray, value: ValueFn) -> StepInfo:
        beta = self.config.momentum
        if self._velocity is None or self._velocity.shape != g.shape:
            self._velocity = np.zeros_like(g)
        v = beta * self._velocity + g
        d = -(g + beta * v) if self.config.nesterov else -v
        if not self.config.uses_line_search:
            self._velocity = v
            alpha = self.config.learning_rate
            return StepInfo(x + alpha * d, alpha, 0, True, 0)
        if not float(g @ d) < 0.0:
            v = g.copy()
            d = -g
        self._velocity = v
        return line_search_step(value, x, f, g, d, self.config)
