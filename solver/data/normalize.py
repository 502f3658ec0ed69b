"""Per-feature affine normalisation ``x' = (x - shift) / scale``, fitted once and recorded.

Methods (statistics per column of a ``(n, d)`` sample matrix):

* ``"none"``:     shift = 0,        scale = 1
* ``"minmax"``:   shift = min_j,    scale = max_j - min_j      (maps the fitted data to [0, 1])
* ``"standard"``: shift = mean_j,   scale = std_j (ddof = 0)   (zero mean, unit variance)

A constant column (``scale == 0``) gets ``scale = 1``, so it maps to a constant instead of NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from solver.errors import ConfigError

__all__ = ["NormalizationMethod", "Normalization", "fit_normalization"]

NormalizationMethod = Literal["none", "minmax", "standard"]


@dataclass(frozen=True)
class Normalization:
    """A fitted normalisation: ``method``, ``shift (d,)`` and ``scale (d,)``."""

    method: NormalizationMethod
    shift: np.ndarray
    scale: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Return ``(X - shift) / scale`` for ``X`` of shape ``(n, d)``."""
        return (np.asarray(X, dtype=np.float64) - self.shift) / self.scale


def fit_normalization(X: np.ndarray, method: NormalizationMethod) -> Normalization:
    """Fit ``method`` on the rows of ``X`` ``(n, d)``; see the module docstring.

    Raises:
        ConfigError: unknown ``method``.
    """
    if method not in get_args(NormalizationMethod):
        raise ConfigError(
            f"`normalization` must be one of {list(get_args(NormalizationMethod))}; got {method!r}."
        )
    X = np.asarray(X, dtype=np.float64)
    d = X.shape[1]
    if method == "none":
        shift, scale = np.zeros(d), np.ones(d)
    elif method == "minmax":
        shift = X.min(axis=0)
        scale = X.max(axis=0) - shift
    else:
        shift, scale = X.mean(axis=0), X.std(axis=0)
    scale = np.where(scale > 0.0, scale, 1.0)
    return Normalization(method=method, shift=shift, scale=scale)
