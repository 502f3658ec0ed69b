"""Named set-ups: the reference code's peaks run as one call.

``reference_setup()`` bundles what differs from this toolkit's modern defaults so that a run
reproduces the published reference code (C++ on XBraid) as closely as the model allows:

* network: width 8, ``N = 30`` hidden layers, ``T = 5``, SmoothReLU, **one scalar bias per
  layer**, ``gamma_tik = gamma_class = 1e-7``, ``gamma_ddt = 1e-5`` with the reference code's
  **zero ddt gradient** (``ddt_gradient="reference"``);
* init: uniform ``[0, 1]`` from glibc ``rand()`` after ``srand(1)``, every group scaled by 1e-3;
* optimiser: :meth:`solver.optim.OptimizerConfig.reference` (L-BFGS memory 20, no curvature
  test, no non-descent safeguard, Armijo backtracking from 1 by 0.5 with 20 trials);
* stop: 300 updates (the reference code's ``maxoptimiter = 301``) or ``|grad J| < 1e-4``.

Iteration counting: the reference code's loop ``for iter < maxoptimiter`` evaluates objective
and gradient at the top and stops there at ``iter = maxoptimiter - 1``, so ``maxoptimiter = M``
is ``M`` objective+gradient evaluations and ``M - 1`` updates. Our ``max_iterations = M`` counts
updates: ``M`` updates and ``M + 1`` evaluations (history rows ``0..M``). Row ``i`` of both
histories is the same iterate, so ``max_iterations = M - 1`` reproduces ``maxoptimiter = M``.
Line-search trials are objective-only in both codes and are not counted as iterations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from solver.config import NetworkConfig
from solver.init import InitConfig
from solver.optim import OptimizerConfig
from solver.stopping import StopConfig

__all__ = ["ReferenceSetup", "reference_setup", "REFERENCE_NETWORK", "REFERENCE_INIT"]

REFERENCE_NETWORK: dict[str, Any] = {
    "width": 8,
    "n_layers": 30,
    "t_final": 5.0,
    "activation": "smoothrelu",
    "bias": "scalar",
    "opening": "dense",
    "gamma_tik": 1e-7,
    "gamma_ddt": 1e-5,
    "gamma_class": 1e-7,
    "ddt_gradient": "reference",
}
"""Network fields of the reference peaks run (besides ``n_features`` and ``n_classes``)."""

REFERENCE_INIT: dict[str, Any] = {
    "distribution": "reference",
    "scale_open": 1e-3,
    "scale_hidden": 1e-3,
    "scale_class": 1e-3,
    "seed": 1,
}
"""Initialisation fields of the reference peaks run (``srand(1)``)."""


@dataclass(frozen=True)
class ReferenceSetup:
    """Everything :func:`solver.train.train` needs besides the data and the strategy.

    Use as ``train(s.network, data, optimizer=s.optimizer, init=s.init, stop=s.stop)``.
    """

    network: NetworkConfig
    optimizer: OptimizerConfig
    init: InitConfig
    stop: StopConfig


def reference_setup(
    n_features: int = 2,
    n_classes: int = 5,
    *,
    network: dict[str, Any] | None = None,
    optimizer: dict[str, Any] | None = None,
    init: dict[str, Any] | None = None,
    stop: dict[str, Any] | None = None,
) -> ReferenceSetup:
    """The reference code's peaks set-up; each dict overrides fields of one part.

    Example: ``reference_setup(optimizer={"non_descent": "reset"})`` is the reference run with
    this toolkit's steepest-descent safeguard.

    Raises:
        ConfigError: an override is rejected by the dataclass it belongs to.
    """
    net = NetworkConfig(n_features=n_features, n_classes=n_classes, **REFERENCE_NETWORK)
    return ReferenceSetup(
        network=replace(net, **(network or {})),
        optimizer=OptimizerConfig.reference(**(optimizer or {})),
        init=InitConfig(**{**REFERENCE_INIT, **(init or {})}),
        stop=StopConfig(**{"max_iterations": 300, "grad_tol": 1e-4, **(stop or {})}),
    )
