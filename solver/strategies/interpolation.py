"""Interpolation of trained layer weights from a coarse to a finer network (layer dimension).

A coarse network has ``N_c`` hidden layers with step ``h_c = T_c / N_c``; refining by an integer
factor ``r >= 2`` gives ``N_f = r N_c`` layers. Coarse layer ``j`` sits at time ``t_j = j h_c``,
fine layer ``i`` at ``i h_f``. The hidden weights (``K`` and ``b`` alike) are mapped by a
matrix ``P`` of shape ``(N_f, N_c)``, ``K_f[i] = sum_j P[i, j] K_c[j]``:

``"constant"`` (piecewise constant), ``T`` fixed, ``h_f = h_c / r``::

    K_f[r j + s] = K_c[j]                                   s = 0..r-1

``"linear"`` (piecewise linear in time between the coarse layer times), ``T`` fixed::

    K_f[r j + s] = (1 - s/r) K_c[j] + (s/r) K_c[j+1]         j = 0..N_c-2
    K_f[r (N_c-1) + s] = K_c[N_c-1]                          (last coarse interval)

  The last coarse layer has no right neighbour inside ``[0, T)``, so the last ``r`` fine
  layers are copies of it (constant extrapolation over the final interval), as the reference
  code does; linear interpolation is exact for weights that are linear in time except on that
  final interval.

``"zero"`` (function preserving), ``T_f = r T_c`` so that ``h_f = h_c``::

    K_f[r j] = K_c[j],   K_f[r j + s] = 0,  b_f[r j + s] = 0   s = 1..r-1

  With ``sigma(0) = 0`` (tanh, relu) a zero layer is the identity, so the refined network
  computes exactly the coarse network's function (the outputs agree to round-off). It is not
  available for ``smoothrelu`` (``sigma(0) = eta/4``).

Opening and classifier weights are copied unchanged in every mode.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from solver.activations import activation
from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.params import Params

__all__ = [
    "INTERPOLATIONS",
    "Interpolation",
    "check_interpolation",
    "interpolation_matrix",
    "refine_params",
]

Interpolation = Literal["constant", "linear", "zero"]
INTERPOLATIONS: tuple[str, ...] = ("constant", "linear", "zero")


def _check_factor(factor: int) -> None:
    if isinstance(factor, bool) or not isinstance(factor, int | np.integer) or factor < 2:
        raise ConfigError(
            f"refinement `factor` must be an integer >= 2; got factor={factor!r}. "
            "Use e.g. 2 (the layer count doubles)."
        )


def check_interpolation(mode: str, activation_name: str) -> None:
    """Raise :class:`ConfigError` if ``mode`` is unknown or cannot work with the activation."""
    if mode not in INTERPOLATIONS:
        raise ConfigError(
            f"`interpolation` must be one of {', '.join(INTERPOLATIONS)}; got "
            f"interpolation={mode!r}."
        )
    if mode == "zero":
        sigma, _ = activation(activation_name)
        if float(sigma(np.zeros(1))[0]) != 0.0:
            raise ConfigError(
                f"`interpolation='zero'` keeps the network function only if sigma(0) = 0, but "
                f"activation={activation_name!r} has sigma(0) != 0. Use interpolation='linear' "
                "or 'constant', or activation 'tanh' or 'relu'."
            )


def interpolation_matrix(n_coarse: int, factor: int, mode: Interpolation) -> np.ndarray:
    """The matrix ``P`` of shape ``(factor * n_coarse, n_coarse)`` of the module docstring."""
    _check_factor(factor)
    if mode not in INTERPOLATIONS:
        raise ConfigError(
            f"`interpolation` must be one of {', '.join(INTERPOLATIONS)}; got "
            f"interpolation={mode!r}."
        )
    r = int(factor)
    P = np.zeros((r * n_coarse, n_coarse))
    for j in range(n_coarse):
        for s in range(r):
            i = r * j + s
            if mode == "constant":
                P[i, j] = 1.0
            elif mode == "zero":
                P[i, j] = 1.0 if s == 0 else 0.0
            elif j + 1 < n_coarse:
                P[i, j] = 1.0 - s / r
                P[i, j + 1] = s / r
            else:
                P[i, j] = 1.0
    return P


def refine_params(
    config: NetworkConfig, params: Params, factor: int, mode: Interpolation
) -> tuple[NetworkConfig, Params]:
    """Refine a trained coarse network by ``factor`` in the layer dimension.

    Args:
        config: the coarse network (``N_c = config.n_layers`` layers, final time ``T_c``).
        params: its parameters.
        factor: integer ``r >= 2``.
        mode: ``"constant"``, ``"linear"`` (``T`` fixed) or ``"zero"`` (``T_f = r T_c``).

    Returns:
        ``(fine_config, fine_params)`` with ``r N_c`` layers; new arrays (no views).
    """
    check_interpolation(mode, config.activation)
    params.check(config)
    P = interpolation_matrix(config.n_layers, factor, mode)
    t_final = config.t_final * factor if mode == "zero" else config.t_final
    fine_config = config.with_layers(config.n_layers * int(factor), t_final=t_final)
    return fine_config, params.map_layers(P)
