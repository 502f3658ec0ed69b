"""One layer of the ODE-ResNet and its vector-Jacobian product (VJP), side by side.

Samples are rows: a state ``Y`` has shape ``(B, w)``. For an adjoint (cotangent) ``P`` of a
layer's output, the VJP returns the cotangent of its input and of its parameters.

Hidden layer (forward Euler step of ``dY/dt = sigma(Y K^T + b)``)::

    S      = sigma(Y K^T + b)                     (B, w)
    Y_next = Y + h S
    G      = h P_next * sigma'(Y K^T + b)          (B, w)
    P      = P_next + G K                          dJ/dY
    dK     = G^T Y                                 (w, w)
    db     = sum_rows G   (vector bias, (w,))   or   sum_all G  (scalar bias, (1,))
    dh     = <P_next, S>                           dJ/dh (for a trainable time scale)

Opening layer: ``Y_0 = sigma(X K_open^T + b_open)`` or zero-padding of ``X`` to the width.
Classifier: ``z = Y_N W^T + mu``, loss = mean softmax cross-entropy.
"""

from __future__ import annotations

import numpy as np

from solver.activations import activation, derivative_from_value

__all__ = [
    "hidden_activation",
    "hidden_step",
    "hidden_step_vjp",
    "opening_forward",
    "opening_vjp",
    "classifier_loss",
    "logits",
]


def _reduce_bias(G: np.ndarray, nb: int) -> np.ndarray:
    return G.sum(axis=0) if nb > 1 else np.array([G.sum()])


def hidden_activation(Y: np.ndarray, K: np.ndarray, b: np.ndarray, name: str) -> np.ndarray:
    """``S = sigma(Y K^T + b)``, shape ``(B, w)``."""
    sigma, _ = activation(name)
    return sigma(Y @ K.T + b)


def hidden_step(Y: np.ndarray, K: np.ndarray, b: np.ndarray, h: float, name: str) -> np.ndarray:
    """``Y + h sigma(Y K^T + b)``: one forward Euler step, ``(B, w) -> (B, w)``."""
    return Y + h * hidden_activation(Y, K, b, name)


def hidden_step_vjp(
    Y: np.ndarray,
    K: np.ndarray,
    b: np.ndarray,
    h: float,
    name: str,
    P_next: np.ndarray,
    S: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """VJP of :func:`hidden_step` at ``Y`` with output cotangent ``P_next``.

    ``S`` (the layer's activation values from the forward sweep) may be passed to avoid
    recomputing ``sigma``. Returns ``(P, dK, db, dh)`` as in the module docstring.
    """
    if S is None:
        S = hidden_activation(Y, K, b, name)
    G = (h * P_next) * derivative_from_value(name)(S)
    P = P_next + G @ K
    dK = G.T @ Y
    return P, dK, _reduce_bias(G, b.size), float(np.vdot(P_next, S))


def opening_forward(
    X: np.ndarray, open_K: np.ndarray, open_b: np.ndarray, width: int, name: str
) -> np.ndarray:
    """``Y_0 = sigma(X K_open^T + b_open)``; ``X`` zero-padded to ``width`` if no ``open_K``."""
    if open_K.shape[0] == 0:
        Y0 = np.zeros((X.shape[0], width))
        Y0[:, : X.shape[1]] = X
        return Y0
    sigma, _ = activation(name)
    return sigma(X @ open_K.T + open_b)


def opening_vjp(
    X: np.ndarray, open_K: np.ndarray, open_b: np.ndarray, Y0: np.ndarray, P0: np.ndarray, name: str
) -> tuple[np.ndarray, np.ndarray]:
    """Cotangents ``(dK_open, db_open)`` of the opening layer for output cotangent ``P0``."""
    if open_K.shape[0] == 0:
        return np.zeros_like(open_K), np.zeros_like(open_b)
    G = P0 * derivative_from_value(name)(Y0)
    return G.T @ X, _reduce_bias(G, open_b.size)


def logits(Y: np.ndarray, W: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Class scores ``z = Y W^T + mu``, shape ``(B, C)``."""
    return Y @ W.T + mu


def classifier_loss(
    Y: np.ndarray, W: np.ndarray, mu: np.ndarray, y: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Mean softmax cross-entropy of ``z = Y W^T + mu`` and its VJP.

    ``loss = mean_i (logsumexp(z_i) - z_{i, y_i})`` computed with the max shift.
    Returns ``(loss, P_N, dW, dmu, z)`` with ``dz = (softmax(z) - onehot(y)) / B``,
    ``P_N = dz W`` ``(B, w)``, ``dW = dz^T Y`` ``(C, w)``, ``dmu = sum_rows dz`` ``(C,)``.
    """
    B = Y.shape[0]
    z = logits(Y, W, mu)
    zmax = z.max(axis=1, keepdims=True)
    e = np.exp(z - zmax)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(B)
    loss = float(np.mean(np.log(total[:, 0]) + zmax[:, 0] - z[rows, y]))
    dz = e / total
    dz[rows, y] -= 1.0
    dz /= B
    return loss, dz @ W, dz.T @ Y, dz.sum(axis=0), z


def classifier_value(Y: np.ndarray, W: np.ndarray, mu: np.ndarray, y: np.ndarray) -> float:
    """Mean softmax cross-entropy only (no VJP), for line searches."""
    z = logits(Y, W, mu)
    zmax = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - zmax).sum(axis=1)) + zmax[:, 0]
    return float(np.mean(lse - z[np.arange(Y.shape[0]), y]))
