"""Modelled parallel time of layer-parallel evaluations for P ranks on any machine.

P ranks run as threads of this process (:func:`solver.parallel.run_ranks`); their virtual
clocks (unit cost: one layer step = 1, plus ``latency`` per message hop) give the critical
path that P dedicated processors would need.  The serial reference is ``2N`` steps: the
forward sweep and the reverse (adjoint + gradient) sweep of exact propagation.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from solver.config import NetworkConfig
from solver.mgrit.parallel_config import ParallelConfig
from solver.mgrit.propagation import MGRITPropagation
from solver.parallel.threads import run_ranks
from solver.params import Params

__all__ = ["modelled_evaluation"]


def modelled_evaluation(
    config: NetworkConfig,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    parallel: ParallelConfig,
    n_ranks: int,
    *,
    steps: int = 1,
) -> dict[str, float]:
    """Modelled time of ``steps`` gradient evaluations on ``n_ranks`` thread ranks.

    Returns ``{"modelled_time", "serial_time" (= 2 N steps), "speedup",
    "primal_residual", "adjoint_residual", "layer_steps", "messages"}`` of the last step, with
    ``parallel`` switched to unit cost.  ``n_ranks`` may exceed the number of cores.
    """
    settings = replace(parallel, cost="unit")

    def body(comm):
        prop = MGRITPropagation(config, settings, comm)
        for _ in range(steps):
            prop.begin_step()
            ev = prop.evaluate(config, params, X, y, gradient=True)
        return ev.info

    info = run_ranks(n_ranks, body, timeout=600.0)[0]
    serial = 2.0 * config.n_layers
    return {
        "modelled_time": float(info["modelled_time"]),
        "serial_time": serial,
        "speedup": serial / float(info["modelled_time"]),
        "primal_residual": float(info["primal_residual"]),
        "adjoint_residual": float(info["adjoint_residual"]),
        "layer_steps": float(info["layer_steps"]),
        "messages": float(info["messages"]),
    }
