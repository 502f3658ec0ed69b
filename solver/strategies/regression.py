"""Small regression problems (1-D and 2-D function fitting) with an MSE ODE-ResNet.

Model (hidden layers from :mod:`solver.layers`, own linear output layer)::

    Y_0 = sigma(X K_open^T + b_open)     (B, w)
    Y_{n+1} = Y_n + h sigma(Y_n K_n^T + b_n),   n = 0..N-1,  h = T/N
    z = Y_N W^T + c                      (B, m)
    loss = 1/(2B) sum_i |z_i - t_i|^2

Parameters are a :class:`solver.params.Params` with ``W (m, w)``, ``mu = c (m,)``; the design
vector is its flat view (:meth:`RegressionModel.unflatten`). :func:`fit` trains with an
optimiser of :mod:`solver.optim`, plainly or with LSGD (exact least-squares output layer at
every evaluation, gradient steps on the rest).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

import numpy as np

from solver import layers
from solver.data.peaks import peaks_function
from solver.errors import ConfigError
from solver.params import Params
from solver.strategies.box import box_body
from solver.strategies.lsgd import least_squares_last_layer

__all__ = ["RegressionData", "regression_problem", "RegressionModel", "fit", "FitResult"]


@dataclass(frozen=True)
class RegressionData:
    """``X_* (n, d)`` inputs and ``T_* (n, m)`` targets."""

    name: str
    X_train: np.ndarray
    T_train: np.ndarray
    X_val: np.ndarray
    T_val: np.ndarray


def regression_problem(
    name: Literal["sine", "peaks"], *, n_train: int = 200, n_val: int = 200, seed: int = 0
) -> RegressionData:
    """``"sine"``: ``t = sin(2 pi x)`` on ``x in [0, 1]``; ``"peaks"``: ``t = f(x, y) / 8``
    (MATLAB's peaks surface, :func:`solver.data.peaks.peaks_function`) on ``[-3, 3]^2``.

    Inputs are uniform random from one ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    if name == "sine":
        X = rng.random((n_train + n_val, 1))
        T = np.sin(2 * np.pi * X)
    elif name == "peaks":
        X = rng.uniform(-3.0, 3.0, (n_train + n_val, 2))
        T = peaks_function(X[:, 0], X[:, 1])[:, None] / 8.0
    else:
        raise ConfigError(f"regression problem must be 'sine' or 'peaks'; got {name!r}.")
    return RegressionData(name, X[:n_train], T[:n_train], X[n_train:], T[n_train:])


@dataclass(frozen=True)
class RegressionModel:
    """Shapes of the MSE ODE-ResNet: ``d`` inputs, ``m`` outputs, width, ``N`` layers, ``T``."""

    n_features: int
    n_outputs: int
    width: int
    n_layers: int
    t_final: float = 1.0
    activation: str = "tanh"

    @property
    def h(self) -> float:
        return self.t_final / self.n_layers

    @property
    def sizes(self) -> tuple[int, ...]:
        w, d, N, m = self.width, self.n_features, self.n_layers, self.n_outputs
        return (w * d, w, N * w * w, N * w, m * w, m)

    @property
    def n_params(self) -> int:
        return sum(self.sizes)

    def unflatten(self, theta: np.ndarray) -> Params:
        """Views into ``theta``: ``open_K, open_b, K, b, W, mu`` (K, b stored per field)."""
        w, d, N, m = self.width, self.n_features, self.n_layers, self.n_outputs
        parts = np.split(np.asarray(theta, dtype=np.float64), np.cumsum(self.sizes)[:-1])
        shapes = ((w, d), (w,), (N, w, w), (N, w), (m, w), (m,))
        return Params(*(p.reshape(s) for p, s in zip(parts, shapes, strict=True)))

    def flatten(self, params: Params) -> np.ndarray:
        return np.concatenate(
            [
                a.ravel()
                for a in (params.open_K, params.open_b, params.K, params.b, params.W, params.mu)
            ]
        )

    def random_params(self, seed: int, scale: float = 1.0) -> Params:
        """Standard initialisation: ``N(0, scale^2 / fan_in)`` weights, zero biases."""
        rng = np.random.default_rng(seed)
        p = self.unflatten(np.zeros(self.n_params))
        p.open_K[...] = rng.standard_normal(p.open_K.shape) * scale / np.sqrt(self.n_features)
        p.K[...] = rng.standard_normal(p.K.shape) * scale / np.sqrt(self.width)
        p.W[...] = rng.standard_normal(p.W.shape) * scale / np.sqrt(self.width)
        return p

    def box_params(self, X: np.ndarray, seed: int, scale: float = 2.0) -> Params:
        """Box initialisation of opening and hidden layers (:mod:`solver.strategies.box`)."""
        p = self.unflatten(np.zeros(self.n_params))
        p.open_K[...], p.open_b[...], p.K[...], p.b[...] = box_body(
            X,
            width=self.width,
            n_layers=self.n_layers,
            h=self.h,
            activation=self.activation,
            opening="dense",
            rng=np.random.default_rng(seed),
            scale=scale,
        )
        return p

    def final_states(self, p: Params, X: np.ndarray) -> np.ndarray:
        Y = layers.opening_forward(X, p.open_K, p.open_b, self.width, self.activation)
        for n in range(self.n_layers):
            Y = layers.hidden_step(Y, p.K[n], p.b[n], self.h, self.activation)
        return Y

    def predict(self, p: Params, X: np.ndarray) -> np.ndarray:
        """``z (B, m)``."""
        return self.final_states(p, X) @ p.W.T + p.mu

    def mse(self, p: Params, X: np.ndarray, T: np.ndarray) -> float:
        """``1/(2B) sum |z - t|^2``."""
        r = self.predict(p, X) - T
        return 0.5 * float(np.vdot(r, r)) / X.shape[0]

    def loss_and_gradient(self, p: Params, X: np.ndarray, T: np.ndarray) -> tuple[float, Params]:
        """Loss and its gradient (reverse sweep with the layer VJPs), same shapes as ``p``."""
        act, h, B = self.activation, self.h, X.shape[0]
        states = [layers.opening_forward(X, p.open_K, p.open_b, self.width, act)]
        for n in range(self.n_layers):
            states.append(layers.hidden_step(states[-1], p.K[n], p.b[n], h, act))
        r = states[-1] @ p.W.T + p.mu - T
        loss = 0.5 * float(np.vdot(r, r)) / B
        dz = r / B
        g = self.unflatten(np.zeros(self.n_params))
        g.W[...], g.mu[...] = dz.T @ states[-1], dz.sum(axis=0)
        P = dz @ p.W
        for n in range(self.n_layers - 1, -1, -1):
            P, g.K[n], g.b[n], _ = layers.hidden_step_vjp(states[n], p.K[n], p.b[n], h, act, P)
        g.open_K[...], g.open_b[...] = layers.opening_vjp(X, p.open_K, p.open_b, states[0], P, act)
        return loss, g


@dataclass
class FitResult:
    params: Params
    history: list[dict]  # iteration, wall_time, train_mse, val_mse


def fit(
    model: RegressionModel,
    data: RegressionData,
    params: Params,
    *,
    optimizer: object,
    iterations: int,
    lsgd: bool = False,
    ridge: float = 1e-8,
) -> FitResult:
    """Train from ``params`` for ``iterations`` optimiser steps (full batch).

    With ``lsgd`` the output layer is the exact ridge least-squares fit
    (:func:`solver.strategies.lsgd.least_squares_last_layer`) for the current hidden layers,
    recomputed at every evaluation, and the optimiser moves only the other parameters.
    """
    from solver.optim import make_optimizer

    opt = make_optimizer(optimizer)
    X, T = data.X_train, data.T_train
    n_out = model.n_outputs * (model.width + 1)
    theta = model.flatten(params)
    size = theta.size - n_out if lsgd else theta.size

    def full(th: np.ndarray) -> Params:
        if not lsgd:
            return model.unflatten(th.copy())
        p = model.unflatten(np.concatenate([th, np.zeros(n_out)]))
        p.W[...], p.mu[...] = least_squares_last_layer(model.final_states(p, X), T, ridge)
        return p

    def value(th: np.ndarray) -> float:
        return model.mse(full(th), X, T)

    th = theta[:size].copy()
    history: list[dict] = []
    t0 = time.perf_counter()
    for k in range(iterations + 1):
        p = full(th)
        loss, g = model.loss_and_gradient(p, X, T)
        history.append(
            {
                "iteration": k,
                "wall_time": time.perf_counter() - t0,
                "train_mse": loss,
                "val_mse": model.mse(p, data.X_val, data.T_val),
            }
        )
        if k == iterations or not np.isfinite(loss):
            break
        th = opt.step(th, loss, model.flatten(g)[:size], value).x_new
    return FitResult(full(th), history)
