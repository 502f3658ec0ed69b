"""Draw initial network parameters from an :class:`InitConfig`."""

from __future__ import annotations

import numpy as np

from solver.config import NetworkConfig
from solver.init.config import InitConfig
from solver.init.glibc_rand import glibc_uniform
from solver.params import Params

__all__ = ["initialize", "draw_stream", "group_scales"]


def draw_stream(init: InitConfig, n: int) -> np.ndarray:
    """``n`` unscaled draws of ``init.distribution`` from ``init.seed``, float64, shape ``(n,)``."""
    if init.distribution == "zero":
        return np.zeros(n)
    if init.distribution == "reference":
        return glibc_uniform(init.seed, n)
    rng = np.random.default_rng(init.seed)
    if init.distribution == "normal":
        return rng.standard_normal(n)
    return rng.uniform(-1.0, 1.0, n)


def group_scales(config: NetworkConfig, init: InitConfig) -> np.ndarray:
    """Per-entry scale of the design vector, shape ``(config.n_params,)``.

    Entries ``[0, n_open)`` get ``scale_open``, the hidden layers ``scale_hidden``, the
    classifier (last ``C w + C`` entries) ``scale_class``.
    """
    w, c, nb = config.width, config.n_classes, config.bias_size
    n_open = 0 if config.opening == "pad" else w * config.n_features + nb
    n_hidden = config.n_layers * (w * w + nb)
    return np.concatenate(
        [
            np.full(n_open, float(init.scale_open)),
            np.full(n_hidden, float(init.scale_hidden)),
            np.full(c * w + c, float(init.scale_class)),
        ]
    )


def initialize(config: NetworkConfig, init: InitConfig) -> Params:
    """Parameters ``scale_group * u`` with ``u`` one stream over the design vector.

    The design-vector order is that of :meth:`Params.to_flat` (opening, hidden ``0..N-1``,
    classifier; each weights row-major then bias), so ``distribution="reference"`` with
    ``seed=1`` reproduces the reference code's initial design.
    """
    scales = group_scales(config, init)
    vector = draw_stream(init, scales.size) * scales
    return Params.from_flat(config, vector)
