"""Exact serial propagation through the ODE-ResNet and its hand-written adjoint.

Forward sweep (``N`` hidden layers, step ``h = T/N``, optional time scale ``lambda``)::

    Y_0 = opening(X);   Y_{n+1} = Y_n + lambda h sigma(Y_n K_n^T + b_n);   z = Y_N W^T + mu

Reverse (adjoint) sweep: ``P_N = dloss/dY_N`` from the classifier, then for ``n = N-1..0`` the
layer VJP of :mod:`solver.layers` gives ``P_n`` and the parameter cotangents of layer ``n``;
finally the opening layer's VJP. The objective is ``J = loss + R`` with ``R`` from
:mod:`solver.regularization`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from solver import layers
from solver.config import NetworkConfig
from solver.errors import DataError
from solver.params import Params
from solver.regularization import regularization
from solver.workspace import Workspace

__all__ = [
    "Evaluation",
    "Propagation",
    "SerialPropagation",
    "forward",
    "evaluate",
    "objective",
    "objective_and_gradient",
    "predict",
    "accuracy",
]


@dataclass
class Evaluation:
    """One evaluation of the objective.

    Attributes:
        objective: ``J = loss + R``.
        loss: mean softmax cross-entropy.
        gradient: ``dJ/dparams`` (``None`` for objective-only evaluations).
        info: extra figures: ``d_time_scale`` (``dJ/dlambda``), ``layer_steps`` (cost counter),
            and for layer-parallel propagation ``primal_residual``, ``adjoint_residual``,
            ``modelled_time``; ``scores`` (class scores ``(B, C)`` of the evaluated batch, when
            the propagation has them at no extra cost).
    """

    objective: float
    loss: float
    gradient: Params | None = None
    info: dict = field(default_factory=dict)


def _check_inputs(config: NetworkConfig, X: np.ndarray, y: np.ndarray | None = None) -> None:
    if X.ndim != 2 or X.shape[1] != config.n_features:
        raise DataError(
            f"inputs must have shape (batch, n_features={config.n_features}); got {X.shape}."
        )
    if y is not None and (y.shape != (X.shape[0],)):
        raise DataError(f"labels must have shape ({X.shape[0]},); got {y.shape}.")


def _prepare(config: NetworkConfig, params: Params, X: np.ndarray) -> tuple[Params, np.ndarray]:
    """Parameters and inputs in the config's dtype (no copy when they already are)."""
    dt = config.np_dtype
    return params.astype(dt), np.asarray(X, dtype=dt)


def _propagate(
    config: NetworkConfig, params: Params, Y: np.ndarray, h: float, ws: Workspace, role: str
) -> np.ndarray:
    """``Y_N`` from ``Y_0 = Y`` without storing states: two state buffers and one
    :class:`~solver.layers.LayerWork` of the workspace under ``role``; ``Y`` is not changed."""
    shape, dt = Y.shape, Y.dtype
    work = ws.layer_work(role, shape, dt)
    buffers = (ws.array(role + ".Y0", shape, dt), ws.array(role + ".Y1", shape, dt))
    KT = layers.transposed(params.K, ws.array("KT", params.K.shape, dt))
    for n in range(params.n_layers):
        out = buffers[n % 2]
        layers.hidden_step(
            Y, params.K[n], params.b[n], h, config.activation, out=out, work=work, KT=KT[n]
        )
        Y = out
    return Y


def forward(
    config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
) -> np.ndarray:
    """All layer states ``Y_0..Y_N`` as one new array of shape ``(N+1, B, w)``."""
    params, X = _prepare(config, params, X)
    _check_inputs(config, X)
    h = time_scale * config.h
    states = np.empty((params.n_layers + 1, X.shape[0], config.width), dtype=X.dtype)
    states[0] = layers.opening_forward(
        X, params.open_K, params.open_b, config.width, config.activation
    )
    work = layers.LayerWork(states.shape[1:], X.dtype)
    KT = layers.transposed(params.K)
    for n in range(params.n_layers):
        layers.hidden_step(
            states[n], params.K[n], params.b[n], h, config.activation, out=states[n + 1],
            work=work, KT=KT[n],
        )  # fmt: skip
    return states


def evaluate(
    config: NetworkConfig,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    gradient: bool = True,
    time_scale: float = 1.0,
    workspace: Workspace | None = None,
) -> Evaluation:
    """Objective (and gradient by the reverse sweep) of the exact serial network.

    Arithmetic in ``config.dtype``; ``workspace`` (kept by :class:`SerialPropagation`) holds
    the states, activations and adjoint buffers across calls of the same shapes (a fresh one
    per call when ``None``).  The objective-only path (line searches) stores no states: two
    state buffers, fused in-place steps.  The reverse sweep is :func:`layers.hidden_step_vjp`.
    """
    params, X = _prepare(config, params, X)
    _check_inputs(config, X, y)
    ws = Workspace() if workspace is None else workspace
    N, B, w, dt = params.n_layers, X.shape[0], config.width, X.dtype
    h = time_scale * config.h
    act = config.activation
    Y = layers.opening_forward(X, params.open_K, params.open_b, w, act)
    reg, reg_grad = regularization(config, params, gradient=gradient)
    if not gradient:
        Y = _propagate(config, params, Y, h, ws, "value")
        loss = layers.classifier_value(Y, params.W, params.mu, y)
        return Evaluation(loss + reg, loss, None, {"layer_steps": N})

    # forward sweep, in place: S_n = sigma(Y_n K_n^T + b_n) kept for the reverse sweep
    states = ws.array("states", (N + 1, B, w), dt)
    acts = ws.array("activations", (N, B, w), dt)
    work = ws.layer_work("gradient", (B, w), dt)
    KT = layers.transposed(params.K, ws.array("KT", params.K.shape, dt))
    states[0] = Y
    bands: list[np.ndarray | None] = [None] * N  # SmoothReLU band indices per layer
    for n in range(N):
        layers.hidden_step(
            states[n], params.K[n], params.b[n], h, act, out=states[n + 1], work=work, S=acts[n],
            KT=KT[n],
        )  # fmt: skip
        bands[n], work.scratch.band = work.scratch.band, None
    loss, P, dW, dmu, z = layers.classifier_loss(states[N], params.W, params.mu, y)
    if not np.isfinite(loss):  # a NaN/inf activation: the general derivative propagates it
        bands = [None] * N
    grad = reg_grad
    grad.W += dW
    grad.mu += dmu
    # reverse sweep, two adjoint buffers: P_n = VJP of layer n at Y_n with cotangent P_{n+1}
    gt_or_dd = bool(config.gamma_tik or config.gamma_ddt)  # else grad.K is still zero
    P_next = ws.array("adjoint", (B, w), dt)
    d_lambda = 0.0
    for n in range(N - 1, -1, -1):
        P, P_next = P_next, P
        _, _, db, dh = layers.hidden_step_vjp(
            states[n], params.K[n], params.b[n], h, act, P_next, acts[n],
            out=P, dK=grad.K[n], accumulate=gt_or_dd, work=work, band=bands[n],
        )  # fmt: skip
        grad.b[n] += db
        d_lambda += dh
    d_lambda *= config.h
    dK0, db0 = layers.opening_vjp(X, params.open_K, params.open_b, states[0], P, act)
    grad.open_K += dK0
    grad.open_b += db0
    info = {"d_time_scale": d_lambda, "layer_steps": 2 * N, "scores": z}
    return Evaluation(loss + reg, loss, grad, info)


def objective_and_gradient(
    config: NetworkConfig, params: Params, X: np.ndarray, y: np.ndarray
) -> tuple[float, Params]:
    """``(J, dJ/dparams)`` with the gradient as a :class:`Params` of the same shapes."""
    ev = evaluate(config, params, X, y, gradient=True)
    return ev.objective, ev.gradient


def objective(config: NetworkConfig, params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """``J = loss + R`` without the gradient."""
    return evaluate(config, params, X, y, gradient=False).objective


def scores(
    config: NetworkConfig,
    params: Params,
    X: np.ndarray,
    time_scale: float = 1.0,
    workspace: Workspace | None = None,
) -> np.ndarray:
    """Class scores ``z = Y_N W^T + mu`` of shape ``(B, C)`` (no stored intermediate states)."""
    params, X = _prepare(config, params, X)
    _check_inputs(config, X)
    h = time_scale * config.h
    ws = Workspace() if workspace is None else workspace
    Y = layers.opening_forward(X, params.open_K, params.open_b, config.width, config.activation)
    Y = _propagate(config, params, Y, h, ws, "scores")
    return layers.logits(Y, params.W, params.mu)


def predict(config: NetworkConfig, params: Params, X: np.ndarray) -> np.ndarray:
    """Predicted class labels ``argmax z``, shape ``(B,)``."""
    return np.argmax(scores(config, params, X), axis=1)


def accuracy(config: NetworkConfig, params: Params, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples classified correctly."""
    return float(np.mean(predict(config, params, X) == np.asarray(y)))


class Propagation(Protocol):
    """How the training loop evaluates the network: exact serial, or MGRIT over ranks.

    Implementations: :class:`SerialPropagation` here and
    ``solver.mgrit.MGRITPropagation`` (layer-parallel, possibly inexact one-shot).
    """

    def evaluate(
        self,
        config: NetworkConfig,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        *,
        gradient: bool,
        time_scale: float = 1.0,
    ) -> Evaluation: ...

    def scores(
        self, config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
    ) -> np.ndarray: ...

    def begin_step(self) -> None: ...


class SerialPropagation:
    """Exact serial propagation (one process); ``modelled_time`` is the measured wall time.

    Keeps one :class:`~solver.workspace.Workspace` for all its evaluations."""

    name = "serial"

    def __init__(self) -> None:
        self.workspace = Workspace()

    def evaluate(
        self,
        config: NetworkConfig,
        params: Params,
        X: np.ndarray,
        y: np.ndarray,
        *,
        gradient: bool,
        time_scale: float = 1.0,
    ) -> Evaluation:
        t0 = time.perf_counter()
        ev = evaluate(
            config, params, X, y, gradient=gradient, time_scale=time_scale,
            workspace=self.workspace,
        )  # fmt: skip
        ev.info["modelled_time"] = time.perf_counter() - t0
        return ev

    def scores(
        self, config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
    ) -> np.ndarray:
        return scores(config, params, X, time_scale=time_scale, workspace=self.workspace)

    def begin_step(self) -> None:
        """Nothing to warm-start in exact propagation."""
