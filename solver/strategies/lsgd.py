"""LSGD (Cyr et al. 2020): exact solves of the final linear layer between gradient steps.

The hidden layers form a basis ``Y_N(x)`` (shape ``(B, w)``); the last layer holds its
coefficients. LSGD alternates

1. the exact, regularised solve of the last layer for the current basis, and
2. a gradient step on the hidden parameters at that last layer.

Here step 1 is folded into the controls (:class:`LSGDControls`): the design vector holds only
the opening and hidden parameters, and ``params(theta)`` first propagates the training set to
``Y_N`` (serially) and solves the last layer, warm-started from the previous solution. The
gradient is the partial derivative of the objective with respect to the hidden parameters at
the solved last layer (exact for the variable-projection objective when the solve is exact
and unregularised; the small ridge makes it an approximation of that, as in the paper).

Last-layer problems (``phi_i = [Y_i, 1]``, ``A = [W | c]``):

* mean squared error, :func:`least_squares_last_layer`::

      min_A  1/(2B) sum_i |A phi_i - t_i|^2 + ridge/2 |W|^2

* softmax cross-entropy (our classification objective), :func:`newton_last_layer`, a few
  damped Newton steps on the convex problem::

      f(A) = 1/B sum_i (logsumexp(A phi_i) - (A phi_i)_{y_i}) + gamma/2 |A|^2
      grad = 1/B sum_i (p_i - e_{y_i}) phi_i^T + gamma A
      Hess = 1/B sum_i (diag(p_i) - p_i p_i^T) kron (phi_i phi_i^T) + gamma I

  with ``gamma = gamma_class + ridge > 0`` (the Hessian of the loss alone is singular along
  adding a constant to every class score).
"""

from __future__ import annotations

import numpy as np

from solver import layers
from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.network import Evaluation
from solver.params import Params

__all__ = ["least_squares_last_layer", "newton_last_layer", "LSGDControls", "final_states"]


def least_squares_last_layer(
    Y: np.ndarray, T: np.ndarray, ridge: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``min 1/(2B) |Y W^T + c - T|^2 + ridge/2 |W|^2`` exactly.

    Args:
        Y: basis values ``(B, w)``; T: targets ``(B, m)``; ridge: ``>= 0`` (``c`` is not
            penalised).

    Returns:
        ``(W (m, w), c (m,))``, via ``numpy.linalg.lstsq`` of the augmented system
        ``[phi; sqrt(B ridge) [I 0]] A^T = [T; 0]``.
    """
    if ridge < 0:
        raise ConfigError(f"`ridge` must be >= 0; got ridge={ridge!r}.")
    B, w = Y.shape
    Phi = np.hstack([Y, np.ones((B, 1))])
    rhs = T
    if ridge > 0:
        pen = np.hstack([np.sqrt(B * ridge) * np.eye(w), np.zeros((w, 1))])
        Phi = np.vstack([Phi, pen])
        rhs = np.vstack([T, np.zeros((w, T.shape[1]))])
    A, *_ = np.linalg.lstsq(Phi, rhs, rcond=None)
    return A[:w].T.copy(), A[w].copy()


def _ce_value(Phi: np.ndarray, A: np.ndarray, y: np.ndarray, gamma: float) -> float:
    z = Phi @ A.T
    zmax = z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z - zmax).sum(axis=1)) + zmax[:, 0]
    return float(np.mean(lse - z[np.arange(len(y)), y]) + 0.5 * gamma * np.vdot(A, A))


def newton_last_layer(
    Y: np.ndarray,
    y: np.ndarray,
    W: np.ndarray,
    mu: np.ndarray,
    *,
    gamma: float,
    steps: int = 5,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Damped Newton steps for the regularised softmax cross-entropy of the last layer.

    Args:
        Y: ``(B, w)`` final states; y: ``(B,)`` labels; W ``(C, w)``, mu ``(C,)``: start.
        gamma: ``> 0`` Tikhonov weight on ``W`` and ``mu``.
        steps: maximum Newton steps; tol: stop when ``|grad| < tol``.

    Returns:
        ``(W, mu, steps_taken)``. Each step backtracks (halving, Armijo ``c1 = 1e-4``).
    """
    if not gamma > 0:
        raise ConfigError(
            f"the Newton last-layer solve needs gamma = gamma_class + ridge > 0; got {gamma!r}. "
            "Set `ridge` to e.g. 1e-6."
        )
    B, w = Y.shape
    C = W.shape[0]
    Phi = np.hstack([Y, np.ones((B, 1))])
    A = np.hstack([W, mu[:, None]])
    onehot = np.zeros((B, C))
    onehot[np.arange(B), y] = 1.0
    f = _ce_value(Phi, A, y, gamma)
    taken = 0
    for _ in range(steps):
        z = Phi @ A.T
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        grad = ((P - onehot).T @ Phi) / B + gamma * A  # (C, w+1)
        if np.linalg.norm(grad) < tol:
            break
        G = (P[:, :, None] * Phi[:, None, :]).reshape(B, C * (w + 1))
        H = -(G.T @ G) / B
        for c in range(C):
            blk = slice(c * (w + 1), (c + 1) * (w + 1))
            H[blk, blk] += (Phi * P[:, c : c + 1]).T @ Phi / B
        H[np.diag_indices_from(H)] += gamma
        d = -np.linalg.solve(H, grad.ravel()).reshape(C, w + 1)
        slope = float(np.vdot(grad, d))
        alpha = 1.0
        for _ in range(30):
            f_new = _ce_value(Phi, A + alpha * d, y, gamma)
            if f_new <= f + 1e-4 * alpha * slope:
                break
            alpha *= 0.5
        else:
            break
        A = A + alpha * d
        f = f_new
        taken += 1
    return A[:, :w].copy(), A[:, w].copy(), taken


def final_states(config: NetworkConfig, params: Params, X: np.ndarray) -> np.ndarray:
    """``Y_N`` of shape ``(B, w)`` by the exact serial forward sweep (time scale 1)."""
    Y = layers.opening_forward(X, params.open_K, params.open_b, config.width, config.activation)
    for n in range(config.n_layers):
        Y = layers.hidden_step(Y, params.K[n], params.b[n], config.h, config.activation)
    return Y


class LSGDControls:
    """Controls whose design vector excludes the classifier; the classifier is solved.

    ``theta`` is the plain flat vector without its last ``C (w + 1)`` entries (the classifier
    ``W, mu``, last in the flat order). ``params(theta)`` solves the last layer by
    :func:`newton_last_layer` on the full training set (warm start: the previous solution);
    ``pullback`` returns the opening and hidden part of the gradient.

    Args:
        config: the network; X, y: training set; ridge: added to ``gamma_class`` in the solve;
        newton_steps: Newton steps per solve; ctx: optional training context whose ``cost``
        counter is charged ``N B`` layer steps per solve.
    """

    def __init__(
        self,
        config: NetworkConfig,
        X: np.ndarray,
        y: np.ndarray,
        *,
        ridge: float = 1e-3,
        newton_steps: int = 10,
        ctx: object = None,
    ) -> None:
        if ridge < 0 or (config.gamma_class + ridge) <= 0:
            raise ConfigError(
                f"`ridge` must be >= 0 with gamma_class + ridge > 0; got ridge={ridge!r}, "
                f"gamma_class={config.gamma_class}. Use e.g. ridge=1e-6."
            )
        self.config = config
        self.X, self.y = X, y
        self.ridge, self.newton_steps, self.ctx = float(ridge), int(newton_steps), ctx
        self.n_class = config.n_classes * (config.width + 1)
        self.size = config.n_params - self.n_class
        self.W = np.zeros((config.n_classes, config.width))
        self.mu = np.zeros(config.n_classes)
        self._key: bytes | None = None

    def split(self, params: Params) -> np.ndarray:
        """The design vector (opening and hidden parts) of full parameters."""
        return params.to_flat()[: self.size]

    def params(self, theta: np.ndarray) -> tuple[Params, float]:
        theta = np.asarray(theta, dtype=np.float64)
        full = np.concatenate([theta, np.zeros(self.n_class)])
        params = Params.from_flat(self.config, full)
        key = theta.tobytes()
        if key != self._key:
            Y = final_states(self.config, params, self.X)
            self.W, self.mu, _ = newton_last_layer(
                Y,
                self.y,
                self.W,
                self.mu,
                gamma=self.config.gamma_class + self.ridge,
                steps=self.newton_steps,
            )
            self._key = key
            if self.ctx is not None:
                self.ctx.cost += self.config.n_layers * len(self.y)
        params.W[...] = self.W
        params.mu[...] = self.mu
        return params, 1.0

    def pullback(self, theta: np.ndarray, ev: Evaluation) -> np.ndarray:
        return ev.gradient.to_flat()[: self.size]
