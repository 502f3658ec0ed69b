"""Uniform B-spline basis on ``[0, T]`` evaluated at the layer times, and knot refinement.

Knots: ``n_knots`` intervals of length ``tau = T / n_knots`` over ``[0, T]``, extended uniformly
by ``D`` knots on each side (unclamped): ``xi_j = (j - D) tau``, ``j = 0..n_knots + 2D``. The
``n_knots + D`` basis functions of degree ``D`` are

    B_{k,D}(t)  supported on [xi_k, xi_{k+D+1}) = [(k - D) tau, (k + 1) tau),   k = 0..n_knots+D-1

and on ``[0, T]`` they are non-negative and sum to one. On knot interval ``i`` (``i tau <= t <
(i+1) tau``, local coordinate ``u = t/tau - i`` in ``[0, 1)``) exactly ``B_i .. B_{i+D}`` are
non-zero; their values come from the Cox-de Boor recursion (for uniform knots every
denominator of level ``j`` equals ``j``)::

    N_0 = 1
    for j = 1..D:
        saved = 0
        for r = 0..j-1:
            temp = N_r / j
            N_r = saved + (r + 1 - u) temp
            saved = (u + j - r - 1) temp
        N_j = saved

Layer ``n`` of ``N`` layers sits at ``t_n = n h = n T / N``, so ``t_n / tau = n n_knots / N``;
its interval ``i = (n n_knots) // N`` and ``u = (n n_knots - i N) / N`` are computed with integer
arithmetic (no floating-point knot lookup). ``t = T`` (``n = N``) is evaluated as the right end
of the last interval (``i = n_knots - 1``, ``u = 1``).

With ``D = 1`` and ``n_knots = N`` every layer time is a knot, ``B_{n,1}(t_n) = 1`` and the
layer weights equal the coefficients: ``K_n = c_n`` (``c_N`` only acts at ``t = T``).
"""

from __future__ import annotations

import numpy as np

from solver.errors import ConfigError

__all__ = [
    "check_spline",
    "cox_de_boor",
    "basis_at",
    "layer_matrix",
    "refinement_matrix",
    "n_coefficients",
]


def check_spline(n_knots: object, degree: object) -> None:
    """Raise :class:`ConfigError` unless ``n_knots >= 1`` and ``degree >= 1`` are integers."""
    for name, value in (("n_knots", n_knots), ("degree", degree)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ConfigError(
                f"`{name}` of the B-spline controls must be an integer >= 1; got {name}={value!r}. "
                "Use e.g. n_knots=10, degree=2."
            )


def n_coefficients(n_knots: int, degree: int) -> int:
    """Number of coefficient sets ``n_knots + degree``."""
    return int(n_knots) + int(degree)


def cox_de_boor(u: np.ndarray, degree: int) -> np.ndarray:
    """Values of the ``D + 1`` non-zero uniform B-splines at local coordinates ``u``.

    Args:
        u: shape ``(m,)``, ``0 <= u <= 1``, the position inside the knot interval.
        degree: ``D >= 1``.

    Returns:
        shape ``(m, D + 1)``; column ``r`` is ``B_{i+r,D}`` on interval ``i``.
    """
    u = np.asarray(u, dtype=np.float64)
    vals = np.zeros((u.shape[0], degree + 1))
    vals[:, 0] = 1.0
    for j in range(1, degree + 1):
        saved = np.zeros_like(u)
        for r in range(j):
            # left[j - r] = u + j - r - 1, right[r + 1] = r + 1 - u; their sum is j
            temp = vals[:, r] / j
            vals[:, r] = saved + (r + 1 - u) * temp
            saved = (u + j - r - 1) * temp
        vals[:, j] = saved
    return vals


def basis_at(num: np.ndarray, den: int, n_knots: int, degree: int) -> np.ndarray:
    """The basis matrix at the times ``t / tau = num / den`` (integers ``0 <= num <= n_knots den``).

    Returns:
        shape ``(len(num), n_knots + D)``; row ``m`` holds ``B_{k,D}(t_m)``.
    """
    check_spline(n_knots, degree)
    num = np.asarray(num, dtype=np.int64)
    if num.ndim != 1 or np.any(num < 0) or np.any(num > n_knots * den):
        raise ConfigError(
            f"spline evaluation times must lie in [0, T]; got t/tau in "
            f"[{num.min() / den}, {num.max() / den}] for n_knots={n_knots}."
        )
    span = np.minimum(num // den, n_knots - 1)
    u = (num - span * den) / den
    vals = cox_de_boor(u, degree)
    out = np.zeros((num.shape[0], n_coefficients(n_knots, degree)))
    rows = np.arange(num.shape[0])
    for r in range(degree + 1):
        out[rows, span + r] = vals[:, r]
    return out


def layer_matrix(n_layers: int, n_knots: int, degree: int) -> np.ndarray:
    """``M`` of shape ``(N, n_knots + D)`` with ``M[n, k] = B_{k,D}(n h)``: ``K = M C``."""
    n = np.arange(n_layers, dtype=np.int64)
    return basis_at(n * n_knots, n_layers, n_knots, degree)


def refinement_matrix(n_knots: int, degree: int, factor: int) -> np.ndarray:
    """Knot insertion: ``R`` of shape ``(factor n_knots + D, n_knots + D)``.

    Every old interval is split into ``factor`` equal ones (the old knots stay), so the old
    spline space on ``[0, T]`` lies in the new one and ``c_new = R c_old`` represents the same
    function on ``[0, T]``. ``R`` solves the collocation system at ``D + 1`` points inside
    every new interval (``A_new R = A_old``, full column rank by Schoenberg-Whitney) by least
    squares; the fit is exact up to round-off.
    """
    check_spline(n_knots, degree)
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or factor < 1:
        raise ConfigError(f"knot refinement `factor` must be an integer >= 1; got {factor!r}.")
    q, d = int(factor), int(degree)
    fine = q * n_knots
    # sample t/tau_new = k + (2 s + 1) / (2 (D + 1)); as integers over den = 2 (D + 1) q
    k = np.repeat(np.arange(fine), d + 1)
    s = np.tile(np.arange(d + 1), fine)
    num_fine = 2 * (d + 1) * k + 2 * s + 1  # over den_fine = 2 (D + 1)
    A_new = basis_at(num_fine, 2 * (d + 1), fine, d)
    A_old = basis_at(num_fine, 2 * (d + 1) * q, n_knots, d)
    R, *_ = np.linalg.lstsq(A_new, A_old, rcond=None)
    return R
