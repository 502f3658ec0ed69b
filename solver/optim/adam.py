"""Adam (Kingma & Ba) with bias correction.

At step ``t = 1, 2, ...`` with gradient ``g``::

    m <- beta1 m + (1 - beta1) g          v <- beta2 v + (1 - beta2) g**2
    m_hat = m / (1 - beta1**t)            v_hat = v / (1 - beta2**t)
    x <- x - alpha m_hat / (sqrt(v_hat) + eps)
"""

from __future__ import annotations

import numpy as np

from solver.optim.base import Optimizer, StepInfo, ValueFn
from solver.optim.config import OptimizerConfig

__all__ = ["Adam"]


class Adam(Optimizer):
    """Bias-corrected Adam; see the module docstring."""

    def __init__(self, config: OptimizerConfig) -> None:
        super().__init__(config)
        self._reset_impl()

    def _reset_impl(self) -> None:
        self._m: np.ndarray | None = None
        self._v: np.ndarray | None = None
        self._t = 0

    def _step_impl(self, x: np.ndarray, f: float, g: np.ndarray, value: ValueFn) -> StepInfo:
        c = self.config
        if self._m is None or self._m.shape != g.shape:
            self._m = np.zeros_like(g)
            self._v = np.zeros_like(g)
            self._t = 0
        self._t += 1
        self._m = c.beta1 * self._m + (1.0 - c.beta1) * g
        self._v = c.beta2 * self._v + (1.0 - c.beta2) * (g * g)
        m_hat = self._m / (1.0 - c.beta1**self._t)
        v_hat = self._v / (1.0 - c.beta2**self._t)
        x_new = x - c.learning_rate * m_hat / (np.sqrt(v_hat) + c.eps)
        return StepInfo(x_new, c.learning_rate, 0, True, 0)
