"""Activation functions sigma and their derivatives sigma', applied elementwise.

* ``tanh``: sigma(x) = tanh(x), sigma'(x) = 1 - tanh(x)^2.
* ``relu``: sigma(x) = max(x, 0), sigma'(x) = 1[x > 0].
* ``smoothrelu`` (reference code, eta = 0.1): relu outside ``|x| < eta``, and
  ``x^2/(4 eta) + x/2 + eta/4`` inside, which is C^1 at ``x = +-eta``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from solver.errors import ConfigError

__all__ = [
    "activation",
    "activation_inplace",
    "derivative_from_value",
    "smoothrelu_prime_band",
    "Scratch",
    "ETA",
]

ETA = 0.1

Pair = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def _tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def _tanh_prime(x: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return 1.0 - t * t


def _relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0.0)


def _relu_prime(x: np.ndarray) -> np.ndarray:
    return (x > 0.0).astype(x.dtype)


def _smoothrelu(x: np.ndarray) -> np.ndarray:
    inner = x * x / (4.0 * ETA) + 0.5 * x + 0.25 * ETA
    return np.where(x >= ETA, x, np.where(x <= -ETA, 0.0, inner))


def _smoothrelu_prime(x: np.ndarray) -> np.ndarray:
    inner = x / (2.0 * ETA) + 0.5
    return np.where(x >= ETA, 1.0, np.where(x <= -ETA, 0.0, inner))


class Scratch:
    """Temporaries of one shape and dtype for the in-place activations (two float arrays
    ``t1, t2`` and two boolean masks ``m1, m2``), kept by a :class:`solver.workspace.Workspace`
    so that the hot layer loop allocates nothing."""

    __slots__ = ("t1", "t2", "m1", "m2", "band")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype | type = np.float64) -> None:
        self.t1 = np.empty(shape, dtype)
        self.t2 = np.empty(shape, dtype)
        self.m1 = np.empty(shape, bool)
        self.m2 = np.empty(shape, bool)
        self.band: np.ndarray | None = None  # flat indices of SmoothReLU's last band


def _smoothrelu_inplace(x: np.ndarray, scratch: Scratch | None = None) -> np.ndarray:
    """SmoothReLU overwriting ``x``, bitwise equal to :func:`_smoothrelu`: ``max(x, 0)``
    everywhere (right outside the band ``|x| < eta``), then the quadratic on the band entries
    only (the same expression, evaluated on ``x[band]``)::

        band = flatnonzero(|x| < eta);  q = x[band];  x = max(x, 0)
        x[band] = q*q / (4 eta) + 0.5 q + eta/4

    NaN stays NaN (it is not in the band and ``max`` propagates it)."""
    if not x.flags.c_contiguous:
        return _smoothrelu_masked(x, scratch)
    s = Scratch(x.shape, x.dtype) if scratch is None else scratch
    flat = x.reshape(-1)
    np.less(np.abs(x, out=s.t1), ETA, out=s.m1)
    band = np.flatnonzero(s.m1)
    q = flat[band]
    np.maximum(x, 0.0, out=x)
    flat[band] = q * q / (4.0 * ETA) + 0.5 * q + 0.25 * ETA
    s.band = band
    return x


def smoothrelu_prime_band(s: np.ndarray, band: np.ndarray, out: np.ndarray) -> np.ndarray:
    """:func:`derivative_from_value` of SmoothReLU, bitwise equal for finite ``s``, given the
    flat ``band`` indices of the forward call that produced ``s``: outside the band ``s`` is
    ``x >= eta`` (derivative 1) or 0 (derivative 0), so one comparison fills ``out`` and the
    clip-divide-sqrt runs on the band only. A NaN in ``s`` gives 0 here (NaN there): callers
    use it only for finite objectives (no NaN in any activation then)."""
    np.greater_equal(s, ETA, out=out, casting="unsafe")
    v = s.reshape(-1)[band]
    np.clip(v, 0.0, ETA, out=v)
    v /= ETA
    out.reshape(-1)[band] = np.sqrt(v, out=v)
    return out


def _smoothrelu_masked(x: np.ndarray, scratch: Scratch | None = None) -> np.ndarray:
    """:func:`_smoothrelu_inplace` for non-contiguous ``x``: the quadratic everywhere, then
    masked copies (same operations and order as :func:`_smoothrelu`)."""
    s = Scratch(x.shape, x.dtype) if scratch is None else scratch
    t1, t2 = s.t1, s.t2
    np.multiply(x, x, out=t1)
    np.divide(t1, 4.0 * ETA, out=t1)
    np.multiply(x, 0.5, out=t2)
    np.add(t1, t2, out=t1)
    np.add(t1, 0.25 * ETA, out=t1)
    np.less_equal(x, -ETA, out=s.m2)
    np.less(x, ETA, out=s.m1)
    np.copyto(x, t1, where=s.m1)
    np.copyto(x, 0.0, where=s.m2)
    return x


_INPLACE = {
    "tanh": lambda x, scratch=None: np.tanh(x, out=x),
    "relu": lambda x, scratch=None: np.maximum(x, 0.0, out=x),
    "smoothrelu": _smoothrelu_inplace,
}


def activation_inplace(name: str) -> Callable[..., np.ndarray]:
    """``(x, scratch=None) -> sigma(x)`` overwriting ``x`` (bitwise equal to the out-of-place
    ``sigma``), for the hot layer loop; ``scratch`` (a :class:`Scratch` of ``x``'s shape and
    dtype) avoids the temporaries of SmoothReLU."""
    activation(name)
    return _INPLACE[name]


_TABLE: dict[str, Pair] = {
    "tanh": (_tanh, _tanh_prime),
    "relu": (_relu, _relu_prime),
    "smoothrelu": (_smoothrelu, _smoothrelu_prime),
}


def activation(name: str) -> Pair:
    """Return ``(sigma, sigma_prime)`` for ``name`` in ``tanh``, ``relu``, ``smoothrelu``."""
    try:
        return _TABLE[name]
    except KeyError:
        raise ConfigError(
            f"`activation` must be one of {', '.join(_TABLE)}; got activation={name!r}."
        ) from None


def _tanh_prime_from_value(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    out = np.multiply(s, s, out=out)
    return np.subtract(1.0, out, out=out)


def _relu_prime_from_value(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    if out is None:
        return (s > 0.0).astype(s.dtype)
    return np.greater(s, 0.0, out=out, casting="unsafe")


def _smoothrelu_prime_from_value(s: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    # inside |x| < eta: s = (x + eta)^2 / (4 eta)  =>  sigma'(x) = (x + eta)/(2 eta) = sqrt(s / eta)
    out = np.clip(s, 0.0, ETA, out=out)
    out /= ETA
    return np.sqrt(out, out=out)


_FROM_VALUE = {
    "tanh": _tanh_prime_from_value,
    "relu": _relu_prime_from_value,
    "smoothrelu": _smoothrelu_prime_from_value,
}


def derivative_from_value(name: str) -> Callable[..., np.ndarray]:
    """``(s, out=None) -> sigma'(x)`` where ``s = sigma(x)``: the backward sweep reuses the
    forward values (``out`` may be a preallocated array of the same shape, float64).

    tanh: ``1 - s^2``; relu: ``1[s > 0]``; smoothrelu: ``1`` for ``s >= eta``,
    ``sqrt(s / eta)`` for ``0 < s < eta`` and ``0`` for ``s <= 0``.
    """
    activation(name)  # validates the name
    return _FROM_VALUE[name]
