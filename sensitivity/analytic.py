"""Analytic test objectives with known sensitivity indices, run in place of ``solver.train``.

:func:`as_train` turns ``f(x)`` into a callable with ``solver.train``'s signature: it reads each
input from the solver configuration the study wrote it to (e.g. ``init.scale_open``), maps it
linearly from the parameter's range onto the function's domain and returns a finished
training result whose final ``val_acc`` is ``f(x)``. Passed as ``train=`` to
:func:`sensitivity.runner.work` (or :func:`sensitivity.objective.run_trial`), a study then runs
through the whole harness -- study file, design, bridge, storage, results, analysis -- with a
response whose indices are known, which is how the tests check :mod:`sensitivity.gsa`.

Functions (inputs ``x`` of shape ``(n, D)``, output shape ``(n,)``):

* :func:`ishigami` ``f = sin x1 + a sin^2 x2 + b x3^4 sin x1`` on ``[-pi, pi]^3`` (a = 7,
  b = 0.1): S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244).
* :func:`sobol_g` ``f = prod_i (|4 x_i - 2| + a_i) / (1 + a_i)`` on ``[0, 1]^D``:
  ``V_i = 1 / (3 (1 + a_i)^2)``, ``S1_i = V_i / V``, ``ST_i = V_i prod_{j!=i}(1 + V_j) / V``
  with ``V = prod (1 + V_i) - 1`` (:func:`sobol_g_indices`).
* :func:`linear` ``f = sum_i c_i x_i``: factor i is inactive iff ``c_i = 0`` (Morris mu* = 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ishigami",
    "ISHIGAMI_S1",
    "ISHIGAMI_ST",
    "sobol_g",
    "sobol_g_indices",
    "linear",
    "Input",
    "as_train",
]

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    """Ishigami function, ``x`` of shape ``(n, 3)`` on ``[-pi, pi]^3``."""
    x = np.atleast_2d(x)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def sobol_g(x: np.ndarray, a: Sequence[float]) -> np.ndarray:
    """Sobol' G function, ``x`` of shape ``(n, D)`` on ``[0, 1]^D``, coefficients ``a`` (D,)."""
    x = np.atleast_2d(x)
    a_ = np.asarray(a, float)
    return np.prod((np.abs(4 * x - 2) + a_) / (1 + a_), axis=1)


def sobol_g_indices(a: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices ``(S1, ST)`` of :func:`sobol_g`."""
    v = 1.0 / (3.0 * (1.0 + np.asarray(a, float)) ** 2)
    total = np.prod(1 + v) - 1
    st = np.array([v[i] * np.prod(np.delete(1 + v, i)) for i in range(len(v))]) / total
    return v / total, st


def linear(x: np.ndarray, c: Sequence[float]) -> np.ndarray:
    """``sum_i c_i x_i``, ``x`` of shape ``(n, D)``."""
    return np.atleast_2d(x) @ np.asarray(c, float)


@dataclass(frozen=True)
class Input:
    """One input of the function: the study option holding it (``"section.field"``), that
    parameter's range ``(low, high)`` and the function's domain ``(a, b)``; mapped linearly."""

    target: str
    low: float
    high: float
    a: float
    b: float


@dataclass
class _Result:
    """The fields of ``solver.train.TrainResult`` the harness reads."""

    status: str
    message: str
    final: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0
    modelled_time: float = 0.0
    n_params: int = 0
    config: Any = None


def as_train(
    fn: Callable[[np.ndarray], np.ndarray],
    inputs: Sequence[Input],
    *,
    noise: float = 0.0,
    diverge_below: float | None = None,
) -> Callable[..., _Result]:
    """A ``train(network, data, **configs)`` stand-in returning ``val_acc = fn(x)``.

    ``noise`` adds ``noise * N(0, 1)``, an independent draw per (initialisation seed, x)
    (seeds as noise); ``diverge_below``: report status ``diverged`` when ``fn(x)`` is below it.
    """

    def train(network: Any, data: Any, **configs: Any) -> _Result:
        sections = dict(configs, network=network)
        x = []
        for inp in inputs:
            sec, _, name = inp.target.partition(".")
            v = float(getattr(sections[sec], name))
            x.append(inp.a + (inp.b - inp.a) * (v - inp.low) / (inp.high - inp.low))
        y = float(fn(np.array([x]))[0])
        seed = int(getattr(configs.get("init"), "seed", 0))
        if noise:  # independent draws per (seed, x): a stream keyed by both
            key = [seed] + [int(v) for v in np.round(np.asarray(x) * 1e9) % 2**32]
            y += noise * float(np.random.default_rng(key).standard_normal())
        diverged = diverge_below is not None and y < diverge_below
        row = {"iteration": 0, "wall_time": 0.0, "modelled_time": 0.0,
               "val_acc": math.nan if diverged else y}  # fmt: skip
        return _Result(
            status="diverged" if diverged else "converged",
            message="analytic test objective",
            final={"val_acc": y, "train_acc": y, "objective": -y, "loss": -y, "grad_norm": 0.0},
            history=[row],
            config=network,
        )

    return train
