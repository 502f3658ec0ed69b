"""One layer of the ODE-ResNet and its vector-Jacobian product (VJP), side by side.

Samples are rows: a state ``Y`` has shape ``(B, w)``. For an adjoint (cotangent) ``P`` of a
layer's output, the VJP returns the cotangent of its input and of its parameters.

Hidden layer (forward Euler step of ``dY/dt = sigma(Y K^T + b)``)::

    S      = sigma(Y K^T + b)                     (B, w)
    Y_next = Y + h S
    G      = (sigma'(Y K^T + b) * P_next) * h      (B, w)
    P      = P_next + G K                          dJ/dY
    dK     = G^T Y                                 (w, w)
    db     = sum_rows G   (vector bias, (w,))   or   sum_all G  (scalar bias, (1,))
    dh     = <P_next, S>                           dJ/dh (for a trainable time scale)

This module is the one implementation of the step and its VJP: the serial sweep
(:mod:`solver.network`) and the MGRIT problems (:mod:`solver.mgrit.resnet`) call
:func:`hidden_step` / :func:`hidden_step_vjp`.  Both take optional output arrays and a
:class:`LayerWork` of temporaries (from a :class:`solver.workspace.Workspace`) so that the hot
loops allocate nothing; without them they return fresh arrays.  Arrays keep their dtype
(float64 or float32); the operations and their order are the same with and without buffers,
so results are bitwise equal either way.

Opening layer: ``Y_0 = sigma(X K_open^T + b_open)`` or zero-padding of ``X`` to the width.
Classifier: ``z = Y_N W^T + mu``, loss = mean softmax cross-entropy.
"""

from __future__ import annotations

import numpy as np

from solver.activations import (
    Scratch,
    activation,
    activation_inplace,
    derivative_from_value,
    smoothrelu_prime_band,
)

__all__ = [
    "LayerWork",
    "hidden_activation",
    "hidden_step",
    "hidden_step_vjp",
    "transposed",
    "opening_forward",
    "opening_vjp",
    "classifier_loss",
    "classifier_value",
    "logits",
]


class LayerWork:
    """Temporaries of one state shape ``(B, w)`` and dtype for :func:`hidden_step` and
    :func:`hidden_step_vjp`: ``S`` (activation), ``G`` (VJP), ``dK`` ``(w, w)``,
    ``ones`` ``(B,)`` and the activation's :class:`~solver.activations.Scratch`."""

    __slots__ = ("S", "G", "dK", "ones", "scratch")

    def __init__(self, shape: tuple[int, int], dtype: np.dtype | type = np.float64) -> None:
        self.S = np.empty(shape, dtype)
        self.G = np.empty(shape, dtype)
        self.dK = np.empty((shape[1], shape[1]), dtype)
        self.ones = np.ones(shape[0], dtype)
        self.scratch = Scratch(shape, dtype)


def _reduce_bias(G: np.ndarray, nb: int) -> np.ndarray:
    return G.sum(axis=0) if nb > 1 else np.array([G.sum()])


def _bias_vjp(G: np.ndarray, nb: int, ones: np.ndarray | None) -> np.ndarray:
    """``db``: column sums ``1^T G`` (one GEMV), summed once more for a scalar bias."""
    if ones is None:
        ones = np.ones(G.shape[0], G.dtype)
    db = ones @ G
    return db if nb > 1 else np.array([db.sum()], dtype=G.dtype)


def hidden_activation(
    Y: np.ndarray,
    K: np.ndarray,
    b: np.ndarray,
    name: str,
    out: np.ndarray | None = None,
    work: LayerWork | None = None,
    KT: np.ndarray | None = None,
) -> np.ndarray:
    """``S = sigma(Y K^T + b)``, shape ``(B, w)``, written into ``out`` when given.

    ``KT``: ``K^T`` as a C-contiguous array (see :func:`transposed`): the same product, bitwise,
    in less time than through the transposed view (2.3x at width 8)."""
    if out is None:
        out = np.empty((Y.shape[0], K.shape[0]), dtype=Y.dtype)
    np.matmul(Y, K.T if KT is None else KT, out=out)
    out += b
    return activation_inplace(name)(out, None if work is None else work.scratch)


def hidden_step(
    Y: np.ndarray,
    K: np.ndarray,
    b: np.ndarray,
    h: float,
    name: str,
    out: np.ndarray | None = None,
    work: LayerWork | None = None,
    S: np.ndarray | None = None,
    KT: np.ndarray | None = None,
) -> np.ndarray:
    """``Y + h sigma(Y K^T + b)``: one forward Euler step, ``(B, w) -> (B, w)``.

    ``out`` receives the result (a new array when ``None``; it may not alias ``Y``); ``S``
    receives the activation (default: ``work.S`` or a temporary) for callers that keep it;
    ``KT`` is the optional contiguous ``K^T``."""
    if S is None:
        S = None if work is None else work.S
    S = hidden_activation(Y, K, b, name, S, work, KT)
    out = np.multiply(S, h, out=out)
    out += Y
    return out


def transposed(K: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``K_n^T`` for every layer as one C-contiguous array ``(N, w, w)`` (into ``out``)."""
    if out is None:
        return np.ascontiguousarray(np.swapaxes(K, -1, -2))
    np.copyto(out, np.swapaxes(K, -1, -2))
    return out


def hidden_step_vjp(
    Y: np.ndarray,
    K: np.ndarray,
    b: np.ndarray,
    h: float,
    name: str,
    P_next: np.ndarray,
    S: np.ndarray | None = None,
    *,
    out: np.ndarray | None = None,
    dK: np.ndarray | None = None,
    accumulate: bool = False,
    parameters: bool = True,
    work: LayerWork | None = None,
    band: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, float]:
    """VJP of :func:`hidden_step` at ``Y`` with output cotangent ``P_next``.

    ``S`` (the layer's activation values from the forward sweep) may be passed to avoid
    recomputing ``sigma``. Returns ``(P, dK, db, dh)`` as in the module docstring; ``P`` goes
    into ``out`` (it may not alias ``P_next``), ``dK`` into ``dK`` (added to it when
    ``accumulate``).  ``parameters=False`` (MGRIT's adjoint relaxation) computes ``P`` only and
    returns ``(P, None, None, nan)``.  ``band`` (SmoothReLU only, finite ``S``): the forward
    call's band indices, for the cheaper bitwise-equal derivative
    (:func:`~solver.activations.smoothrelu_prime_band`).
    """
    if S is None:
        S = hidden_activation(Y, K, b, name, None if work is None else work.S, work)
    G = None if work is None else work.G
    if band is not None and name == "smoothrelu":
        G = smoothrelu_prime_band(S, band, np.empty_like(S) if G is None else G)
    else:
        G = derivative_from_value(name)(S, out=G)
    G *= P_next
    G *= h
    P = np.matmul(G, K, out=out)
    P += P_next
    if not parameters:
        return P, None, None, float("nan")
    dh = float(np.vdot(P_next, S))
    if accumulate:
        tmp = np.matmul(G.T, Y, out=None if work is None else work.dK)
        dK += tmp
    else:
        dK = np.matmul(G.T, Y, out=dK)
    return P, dK, _bias_vjp(G, b.size, None if work is None else work.ones), dh


def opening_forward(
    X: np.ndarray, open_K: np.ndarray, open_b: np.ndarray, width: int, name: str
) -> np.ndarray:
    """``Y_0 = sigma(X K_open^T + b_open)``; ``X`` zero-padded to ``width`` if no ``open_K``."""
    if open_K.shape[0] == 0:
        Y0 = np.zeros((X.shape[0], width), dtype=X.dtype)
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
) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
