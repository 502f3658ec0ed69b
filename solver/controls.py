"""Controls: how the design vector ``theta`` that the optimiser sees determines the layer weights.

Plain controls (here) are one weight set per layer; B-spline controls live in
:mod:`solver.strategies.spline`, LSGD's in :mod:`solver.strategies.lsgd`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from solver.config import NetworkConfig
from solver.network import Evaluation
from solver.params import Params

__all__ = ["Controls", "PlainControls"]


class Controls(Protocol):
    """How the design vector ``theta`` determines the per-layer weights.

    ``params(theta)`` returns ``(Params, time_scale)``; ``pullback(theta, ev)`` returns
    ``dJ/dtheta`` (flat, same length as ``theta``) from an evaluation with gradient.
    """

    size: int

    def params(self, theta: np.ndarray) -> tuple[Params, float]: ...

    def pullback(self, theta: np.ndarray, ev: Evaluation) -> np.ndarray: ...


class PlainControls:
    """One weight set per layer: ``theta`` is the flat view of :class:`Params`."""

    def __init__(self, config: NetworkConfig) -> None:
        self.config = config
        self.size = config.n_params

    def params(self, theta: np.ndarray) -> tuple[Params, float]:
        return Params.from_flat(self.config, theta), 1.0

    def pullback(self, theta: np.ndarray, ev: Evaluation) -> np.ndarray:
        return ev.gradient.to_flat()
