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
from solver.activations import activation_inplace, derivative_from_value
from solver.config import NetworkConfig
from solver.errors import DataError
from solver.params import Params
from solver.regularization import regularization

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


def forward(
    config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
) -> np.ndarray:
    """All layer states ``Y_0..Y_N`` as one array of shape ``(N+1, B, w)``."""
    X = np.asarray(X, dtype=np.float64)
    _check_inputs(config, X)
    h = time_scale * config.h
    states = np.empty((params.n_layers + 1, X.shape[0], config.width))
    states[0] = layers.opening_forward(
        X, params.open_K, params.open_b, config.width, config.activation
    )
    for n in range(params.n_layers):
        states[n + 1] = layers.hidden_step(
            states[n], params.K[n], params.b[n], h, config.activation
        )
    return states


def evaluate(
    config: NetworkConfig,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    *,
    gradient: bool = True,
    time_scale: float = 1.0,
) -> Evaluation:
    """Objective (and gradient by the reverse sweep) of the exact serial network."""
    X = np.asarray(X, dtype=np.float64)
    _check_inputs(config, X, y)
    N = params.n_layers
    h = time_scale * config.h
    act = config.activation
    Y = layers.opening_forward(X, params.open_K, params.open_b, config.width, act)
    reg, reg_grad = regularization(config, params, gradient=gradient)
    gt_or_dd = bool(config.gamma_tik or config.gamma_ddt)  # else grad.K is still zero
    if not gradient:
        for n in range(N):
            Y = layers.hidden_step(Y, params.K[n], params.b[n], h, act)
        loss = layers.classifier_value(Y, params.W, params.mu, y)
        return Evaluation(loss + reg, loss, None, {"layer_steps": N})

    # forward sweep, in place: S_n = sigma(Y_n K_n^T + b_n) kept for the reverse sweep
    sigma_ = activation_inplace(act)
    states = np.empty((N + 1, *Y.shape))
    acts = np.empty((N, *Y.shape))
    states[0] = Y
    for n in range(N):
        S = acts[n]
        np.matmul(states[n], params.K[n].T, out=S)
        S += params.b[n]
        sigma_(S)
        np.multiply(S, h, out=states[n + 1])
        states[n + 1] += states[n]
    loss, P, dW, dmu, z = layers.classifier_loss(states[N], params.W, params.mu, y)
    grad = reg_grad
    grad.W += dW
    grad.mu += dmu
    # reverse sweep with two work arrays: G = h P_{n+1} * sigma'(.), P_n = P_{n+1} + G K_n
    prime = derivative_from_value(act)
    G = np.empty_like(P)
    P_next = np.empty_like(P)
    ones = np.ones(P.shape[0])
    scalar_bias = params.b.shape[1] == 1
    d_lambda = 0.0
    for n in range(N - 1, -1, -1):
        P, P_next = P_next, P
        S = acts[n]
        d_lambda += float(np.vdot(P_next, S))
        prime(S, out=G)
        G *= P_next
        G *= h
        if gt_or_dd:
            grad.K[n] += G.T @ states[n]
        else:
            np.matmul(G.T, states[n], out=grad.K[n])
        bias_grad = ones @ G
        grad.b[n] += bias_grad.sum() if scalar_bias else bias_grad
        np.matmul(G, params.K[n], out=P)
        P += P_next
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
    config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
) -> np.ndarray:
    """Class scores ``z = Y_N W^T + mu`` of shape ``(B, C)`` (no stored intermediate states)."""
    X = np.asarray(X, dtype=np.float64)
    _check_inputs(config, X)
    h = time_scale * config.h
    Y = layers.opening_forward(X, params.open_K, params.open_b, config.width, config.activation)
    for n in range(params.n_layers):
        Y = layers.hidden_step(Y, params.K[n], params.b[n], h, config.activation)
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
    """Exact serial propagation (one process); ``modelled_time`` is the measured wall time."""

    name = "serial"

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
        ev = evaluate(config, params, X, y, gradient=gradient, time_scale=time_scale)
        ev.info["modelled_time"] = time.perf_counter() - t0
        return ev

    def scores(
        self, config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
    ) -> np.ndarray:
        return scores(config, params, X, time_scale=time_scale)

    def begin_step(self) -> None:
        """Nothing to warm-start in exact propagation."""
