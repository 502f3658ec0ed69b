"""Small model problems for MGRIT tests and benchmarks (forward Euler with ``h_c = (j-i) h``).

* :class:`LinearDecay` -- ``y' = lambda y`` (``lambda`` a vector: a diagonal system),
  ``Phi = 1 + lambda (j - i) h``; the problem of the two-level theory.
* :class:`TanhSystem` -- ``y' = tanh(A y + b)``, nonlinear, vector valued (like a ResNet layer).

The initial guess away from index 0 is either zero or a pseudo-random draw seeded by
``(seed, index)``, so it is the same for any number of ranks.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LinearDecay", "TanhSystem"]


class _Guess:
    def __init__(self, y0: np.ndarray, seed: int | None) -> None:
        self.y0 = np.asarray(y0, dtype=np.float64)
        self.seed = seed

    def init_state(self, i: int) -> np.ndarray:
        """``y0`` at index 0; zeros (``seed=None``) or N(0, 1) draws seeded by (seed, i)."""
        if i == 0:
            return self.y0.copy()
        if self.seed is None:
            return np.zeros_like(self.y0)
        return np.random.default_rng([self.seed, i]).standard_normal(self.y0.shape)


class LinearDecay(_Guess):
    """``y_{n+1} = (1 + lambda h) y_n`` element-wise; ``lam`` of shape (k,), state (k,)."""

    def __init__(self, lam: np.ndarray, h: float, y0: np.ndarray, *, seed: int | None = None):
        super().__init__(y0, seed)
        self.lam = np.asarray(lam, dtype=np.float64)
        self.h = float(h)

    def phi(self, span: int) -> np.ndarray:
        """Amplification factor of one step over ``span`` fine layers: ``1 + lambda span h``."""
        return 1.0 + self.lam * span * self.h

    def step(self, u: np.ndarray, i: int, j: int, level: int) -> np.ndarray:
        return self.phi(j - i) * u

    def serial(self, n_layers: int) -> np.ndarray:
        """All fine states ``(N+1, k)`` by sequential propagation."""
        return _serial(self, n_layers)


class TanhSystem(_Guess):
    """``y_{n+1} = y_n + h tanh(A y_n + b)``; ``A`` (k, k), ``b`` (k,), state (k,)."""

    def __init__(
        self, A: np.ndarray, b: np.ndarray, h: float, y0: np.ndarray, *, seed: int | None = None
    ):
        super().__init__(y0, seed)
        self.A = np.asarray(A, dtype=np.float64)
        self.b = np.asarray(b, dtype=np.float64)
        self.h = float(h)

    def step(self, u: np.ndarray, i: int, j: int, level: int) -> np.ndarray:
        return u + (j - i) * self.h * np.tanh(self.A @ u + self.b)

    def serial(self, n_layers: int) -> np.ndarray:
        """All fine states ``(N+1, k)`` by sequential propagation."""
        return _serial(self, n_layers)


def _serial(problem: LinearDecay | TanhSystem, n_layers: int) -> np.ndarray:
    out = [problem.init_state(0)]
    for n in range(n_layers):
        out.append(problem.step(out[-1], n, n + 1, 0))
    return np.stack(out)
