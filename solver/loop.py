"""The optimisation loop that every strategy runs: :func:`optimize`, :class:`TrainingContext`.

The loop works on a *design vector* ``theta`` that a :class:`Controls` object maps to per-layer
weights (plain: one weight set per layer; B-spline: coefficients). Each iteration::

    params, lambda = controls.params(theta)
    ev   = propagation.evaluate(config, params, X, y, gradient=True)   # serial or MGRIT
    g    = controls.pullback(theta, ev)                                 # dJ/dtheta
    row  = {iteration, wall_time, modelled_time, cost, level, n_layers, objective, loss,
            grad_norm, step_size, ls_tries, train_acc, val_acc, primal_residual, adjoint_residual}
    stop if  target reached | |g| < grad_tol | max iterations | time budget | NaN (diverged)
    theta = optimizer.step(theta, J, g, value)                          # value(theta'): J only

Arithmetic: propagation in ``config.dtype`` (float64 or float32); the design vector ``theta``,
the gradient handed to the optimiser and the optimiser's state (L-BFGS pairs, two-loop
recursion, Armijo comparisons) stay float64.

A non-finite objective or gradient ends the run with status ``"diverged"`` and keeps the history.
Strategies (random, nested iteration, splines, box; :mod:`solver.strategies`) compose calls of
:func:`optimize`; :func:`solver.train.train` builds the context and runs a strategy. Import
order (no cycle): ``solver.loop`` <- ``solver.strategies`` <- ``solver.train``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from solver.config import NetworkConfig
from solver.controls import Controls, PlainControls
from solver.network import Propagation, SerialPropagation
from solver.params import Params
from solver.stopping import HISTORY_COLUMNS, STATUSES, Status, StopConfig

if TYPE_CHECKING:
    from solver.data import Dataset
    from solver.init import InitConfig
    from solver.mgrit import ParallelConfig
    from solver.optim import OptimizerConfig
    from solver.parallel.comm import Communicator

__all__ = [
    "StopConfig",
    "TrainResult",
    "TrainingContext",
    "Controls",
    "PlainControls",
    "LevelOutcome",
    "optimize",
    "make_result",
    "HISTORY_COLUMNS",
    "STATUSES",
]


@dataclass
class TrainResult:
    """Outcome of :func:`train`.

    Attributes:
        status: one of :data:`STATUSES`.
        message: human-readable reason for the status.
        params: final per-layer parameters (for spline controls: evaluated at the layers).
        config: the final network (nested iteration changes ``n_layers``).
        history: one dict per iteration with the keys :data:`HISTORY_COLUMNS`.
        final: ``objective, loss, grad_norm, train_acc, val_acc`` of the last evaluated iterate.
        wall_time: seconds from start to end.
        modelled_time: modelled parallel time (critical path over ranks; serial: evaluation time).
        n_params: trainable parameters (length of the design vector).
        extras: strategy-specific results (spline coefficients, time scale, levels ...) and
            ``"optimizer"``: optimiser event counts summed over levels (``steps``,
            ``failed_steps``; L-BFGS also ``bad_curvature``, ``non_descent``, ``resets``).
    """

    status: Status
    message: str
    params: Params
    config: NetworkConfig
    history: list[dict]
    final: dict
    wall_time: float
    modelled_time: float
    n_params: int
    extras: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "diverged"


@dataclass
class TrainingContext:
    """Everything a strategy needs to run optimisation levels; built once by :func:`train`."""

    data: Dataset
    optimizer: OptimizerConfig
    stop: StopConfig
    init: InitConfig | Params
    parallel: ParallelConfig | None = None  # None: exact serial propagation
    comm: Communicator | None = None  # None: one process
    callback: Callable[[dict], bool | None] | None = None
    history: list[dict] = field(default_factory=list)
    start: float = field(default_factory=time.perf_counter)
    modelled_time: float = 0.0
    cost: float = 0.0
    rng: np.random.Generator | None = None
    optimizer_counts: dict[str, int] = field(default_factory=dict)
    _propagations: dict[tuple[int, float], Propagation] = field(default_factory=dict)

    def propagation(self, config: NetworkConfig) -> Propagation:
        """The propagation for a network depth (cached: MGRIT keeps warm states per depth)."""
        key = (config.n_layers, config.t_final)
        if key not in self._propagations:
            if self.parallel is None:
                self._propagations[key] = SerialPropagation()
            else:
                from solver.mgrit import MGRITPropagation

                self._propagations[key] = MGRITPropagation(config, self.parallel, self.comm)
        return self._propagations[key]

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def agree(self, flag: bool) -> bool:
        """Rank 0's decision on ``flag`` for every rank (wall clocks differ between ranks)."""
        if self.comm is not None and getattr(self.comm, "size", 1) > 1:
            return bool(self.comm.bcast(bool(flag), root=0))
        return bool(flag)

    @property
    def is_root(self) -> bool:
        return self.comm is None or getattr(self.comm, "rank", 0) == 0


@dataclass
class LevelOutcome:
    """Result of one :func:`optimize` call."""

    theta: np.ndarray
    status: Status
    message: str
    iterations: int
    final: dict


def _nan_row() -> dict:
    return {k: math.nan for k in HISTORY_COLUMNS}


def _accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0:
        return math.nan
    return float(np.mean(np.argmax(scores, axis=1) == y))


def optimize(
    ctx: TrainingContext,
    config: NetworkConfig,
    controls: Controls,
    theta: np.ndarray,
    *,
    max_iterations: int,
    level: int = 0,
    level_train_tolerance: float | None = None,
    first_iteration: int | None = None,
    fixed_mask: np.ndarray | None = None,
) -> LevelOutcome:
    """Run the optimisation loop on one network from ``theta``; rows go to ``ctx.history``.

    Args:
        ctx: the training context (data, optimiser and stop settings, history, clocks).
        config: the network of this level.
        controls: maps ``theta`` to layer weights and gradients back.
        theta: starting design vector (copied).
        max_iterations: budget of this call (gradient evaluations).
        level: level number written into the history rows.
        level_train_tolerance: end this level early (status ``"converged"``, message says so)
            once the training accuracy reaches it.
        first_iteration: number of the first row (default: continue the context's history).
        fixed_mask: boolean mask of frozen design-vector entries (their gradient is zeroed).

    The optimiser state is built fresh for each call (one call per nested-iteration level).
    """
    from solver.optim import make_optimizer

    data, stop = ctx.data, ctx.stop
    propagation = ctx.propagation(config)
    optimizer = make_optimizer(ctx.optimizer)
    theta = np.array(theta, dtype=np.float64)
    batch_size = getattr(ctx.optimizer, "batch_size", None)
    if ctx.rng is None:
        seed = getattr(ctx.init, "seed", 0)
        ctx.rng = np.random.default_rng([int(seed), 0x5EED])
    iteration = len(ctx.history) if first_iteration is None else first_iteration
    status: Status = "max_iterations"
    message = f"reached max_iterations={max_iterations}"
    final: dict = {}
    X_all, y_all = np.asarray(data.X_train, dtype=config.np_dtype), data.y_train
    X_val = np.asarray(data.X_val, dtype=config.np_dtype)  # cast once per level (float32)

    def value(th: np.ndarray) -> float:
        params, lam = controls.params(th)
        ev = propagation.evaluate(config, params, Xb, yb, gradient=False, time_scale=lam)
        ctx.modelled_time += ev.info.get("modelled_time", 0.0)
        ctx.cost += ev.info.get("layer_steps", config.n_layers) * len(yb)
        return ev.objective

    k = 0
    while True:
        propagation.begin_step()
        if batch_size is not None and batch_size < len(y_all):
            idx = ctx.rng.choice(len(y_all), size=batch_size, replace=False)
            Xb, yb = X_all[idx], y_all[idx]
        else:
            Xb, yb = X_all, y_all
        params, lam = controls.params(theta)
        with np.errstate(all="ignore"):
            ev = propagation.evaluate(config, params, Xb, yb, gradient=True, time_scale=lam)
        ctx.modelled_time += ev.info.get("modelled_time", 0.0)
        ctx.cost += ev.info.get("layer_steps", 2 * config.n_layers) * len(yb)
        row = _nan_row()
        row.update(
            iteration=iteration,
            level=level,
            n_layers=config.n_layers,
            objective=ev.objective,
            loss=ev.loss,
            primal_residual=ev.info.get("primal_residual", math.nan),
            adjoint_residual=ev.info.get("adjoint_residual", math.nan),
        )
        g = None
        finite = math.isfinite(ev.objective)
        if finite:
            g = np.asarray(controls.pullback(theta, ev), dtype=np.float64)
            if fixed_mask is not None:
                g[fixed_mask] = 0.0
            gnorm = float(np.linalg.norm(g))
            finite = math.isfinite(gnorm)
            row["grad_norm"] = gnorm
        if finite:
            scores = ev.info.get("scores")
            if scores is None or len(yb) != len(y_all):
                scores = propagation.scores(config, params, X_all, time_scale=lam)
            row["train_acc"] = _accuracy(scores, y_all)
            last = k >= max_iterations
            if k % stop.eval_every == 0 or last:
                val_scores = propagation.scores(config, params, X_val, time_scale=lam)
                row["val_acc"] = _accuracy(val_scores, data.y_val)
        row["wall_time"] = ctx.elapsed()
        row["modelled_time"] = ctx.modelled_time
        row["cost"] = ctx.cost

        stop_now = True
        if not finite:
            status, message = (
                "diverged",
                f"non-finite objective or gradient at iteration {iteration}",
            )
        elif stop.target_accuracy is not None and row["val_acc"] >= stop.target_accuracy:
            status = "target_reached"
            message = f"validation accuracy {row['val_acc']:.4f} >= target {stop.target_accuracy}"
        elif stop.grad_tol and row["grad_norm"] < stop.grad_tol:
            status, message = "converged", f"gradient norm {row['grad_norm']:.3e} < {stop.grad_tol}"
        elif level_train_tolerance is not None and row["train_acc"] >= level_train_tolerance:
            status = "converged"
            message = f"training accuracy {row['train_acc']:.4f} reached the level tolerance"
        elif k >= max_iterations:
            status, message = "max_iterations", f"reached max_iterations={max_iterations}"
        elif stop.time_budget is not None and ctx.elapsed() >= stop.time_budget:
            status, message = "time_budget", f"wall-time budget {stop.time_budget} s used up"
        else:
            stop_now = False
        stop_now = ctx.agree(stop_now)

        if not stop_now:
            info = optimizer.step(theta, ev.objective, g, value)
            row["step_size"] = info.step_size
            row["ls_tries"] = info.ls_tries
            theta = info.x_new
        ctx.history.append(row)
        if ctx.callback is not None and ctx.is_root and ctx.callback(dict(row)) is True:
            stop_now, status, message = True, "stopped", "stopped by the callback"
        if ctx.callback is not None and ctx.agree(status == "stopped"):
            stop_now, status, message = True, "stopped", "stopped by the callback"
        final = {
            "objective": row["objective"],
            "loss": row["loss"],
            "grad_norm": row["grad_norm"],
            "train_acc": row["train_acc"],
            "val_acc": row["val_acc"],
        }
        if stop_now:
            break
        iteration += 1
        k += 1
    for key, count in optimizer.counters().items():
        ctx.optimizer_counts[key] = ctx.optimizer_counts.get(key, 0) + count
    if math.isnan(final.get("val_acc", math.nan)) and status != "diverged":
        params, lam = controls.params(theta)
        final["val_acc"] = _accuracy(
            propagation.scores(config, params, X_val, time_scale=lam), data.y_val
        )
    return LevelOutcome(theta, status, message, k, final)


def optimizer_note(counts: Mapping[str, int]) -> str:
    """``"; 12 of 300 line searches failed (9 non-descent directions kept)"`` or ``""``."""
    failed = counts.get("failed_steps", 0)
    if not failed:
        return ""
    kept = counts.get("non_descent", 0) - counts.get("resets", 0)
    note = f"; {failed} of {counts.get('steps', 0)} line searches failed"
    return note + (f" ({kept} non-descent directions kept)" if kept else "")


def make_result(
    ctx: TrainingContext,
    config: NetworkConfig,
    controls: Controls,
    outcome: LevelOutcome,
    extras: dict | None = None,
) -> TrainResult:
    """Package a final :class:`LevelOutcome` as a :class:`TrainResult` (used by strategies)."""
    params, _ = controls.params(outcome.theta)
    return TrainResult(
        status=outcome.status,
        message=outcome.message,
        params=params.copy(),
        config=config,
        history=ctx.history,
        final=outcome.final,
        wall_time=ctx.elapsed(),
        modelled_time=ctx.modelled_time,
        n_params=controls.size,
        extras=extras or {},
    )
