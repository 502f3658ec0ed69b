"""Regularisation terms of the objective and their gradients.

    R = gamma_tik/2 (|K_open|^2 + |b_open|^2 + sum_n |K_n|^2 + |b_n|^2)
      + gamma_ddt/2 sum_{n>=1} (|K_n - K_{n-1}|^2 + |b_n - b_{n-1}|^2) / h^2
      + gamma_class/2 (|W|^2 + |mu|^2)

With ``config.ddt_gradient == "reference"`` the ddt term's value is kept but its gradient is
zero, as in the published reference code (an integer-truncation bug there).
"""

from __future__ import annotations

import numpy as np

from solver.config import NetworkConfig
from solver.params import Params

__all__ = ["regularization"]


def _sq(a: np.ndarray) -> float:
    return float(np.vdot(a, a))


def regularization(
    config: NetworkConfig, params: Params, gradient: bool = True
) -> tuple[float, Params | None]:
    """Value of ``R`` and (if ``gradient``) its gradient as a :class:`Params`."""
    gt, gd, gc = config.gamma_tik, config.gamma_ddt, config.gamma_class
    p = params
    value = 0.0
    grad = Params.zeros(config) if gradient else None
    if gt:
        value += 0.5 * gt * (_sq(p.open_K) + _sq(p.open_b) + _sq(p.K) + _sq(p.b))
        if grad is not None:
            grad.open_K += gt * p.open_K
            grad.open_b += gt * p.open_b
            grad.K += gt * p.K
            grad.b += gt * p.b
    if gd and p.K.shape[0] > 1:
        inv_h2 = 1.0 / config.h**2
        dK = np.diff(p.K, axis=0)
        db = np.diff(p.b, axis=0)
        value += 0.5 * gd * inv_h2 * (_sq(dK) + _sq(db))
        if grad is not None and config.ddt_gradient == "exact":
            for field, diff in (("K", dK), ("b", db)):
                g = getattr(grad, field)
                g[1:] += gd * inv_h2 * diff
                g[:-1] -= gd * inv_h2 * diff
    if gc:
        value += 0.5 * gc * (_sq(p.W) + _sq(p.mu))
        if grad is not None:
            grad.W += gc * p.W
            grad.mu += gc * p.mu
    return value, grad
