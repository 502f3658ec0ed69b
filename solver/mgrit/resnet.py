"""The ODE-ResNet as MGRIT problems: forward states, and the adjoint backwards in layers.

Forward (index ``n`` = layer state ``Y_n``, shape ``(B, w)``)::

    Phi(Y, i -> j) = Y + (j - i) h sigma(Y K_i^T + b_i)

i.e. on level 0 the layer step itself, on coarse levels the same step with ``h_c = (j - i) h``
and the weights of the fine layer at the coarse step's start.

Adjoint (index ``a = N - n``, state ``P_n = dJ/dY_n``, ``P_N`` from the classifier)::

    Phi*(P, i -> j) = P + (G K_n),   G = (sigma'(S) * P) h_c,   S = sigma(Y_n K_n^T + b_n),
    n = N - j,  h_c = (j - i) h

the transpose of the forward step from ``n`` to ``N - i`` linearised at the stored forward
state ``Y_n``.  Every step is :func:`solver.layers.hidden_step` /
:func:`solver.layers.hidden_step_vjp` (the serial sweep's implementation, so one level is
bitwise the serial network) with the temporaries of a :class:`~solver.workspace.Workspace`;
each step allocates only its result (kept by the engine).  ``final_step`` (level 0, the
solve's last pass) is the VJP that also writes the parameter cotangents of layer
``n`` (``dK_n, db_n, dh_n`` with cotangent ``P_{n+1}``) into the gradient arrays: the
gradient costs no extra sweep.  With ``activations`` (the forward ``S_n`` of the forward
solve's final pass) the adjoint never evaluates ``sigma``.

With :class:`~solver.parallel.MirroredLayout` the rank owning adjoint index
``a`` owns ``Y_{N-a}``, so every adjoint step uses local forward states only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from solver import layers
from solver.params import Params
from solver.workspace import Workspace

__all__ = ["ForwardResNet", "AdjointResNet"]


class ForwardResNet:
    """Forward propagation problem; ``initial(i)`` gives ``Y_0`` (and the cold guess ``Y_0``)."""

    def __init__(
        self,
        params: Params,
        h: float,
        activation: str,
        opening: Callable[[], np.ndarray],
        activations: dict[int, np.ndarray] | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        """``activations``: a dict that ``final_step`` fills with ``S_i = sigma(Y_i K_i^T + b_i)``
        (for the adjoint, which then never evaluates ``sigma``); ``None`` keeps nothing.
        ``workspace``: where the step temporaries live (the propagation's, reused)."""
        self.K, self.b, self.h, self.activation = params.K, params.b, float(h), activation
        self._opening = opening
        self._Y0: np.ndarray | None = None
        self.activations = activations
        self.workspace = Workspace() if workspace is None else workspace
        self.KT = layers.transposed(params.K)  # contiguous K_i^T: the same product, faster

    def _work(self, u: np.ndarray) -> layers.LayerWork:
        return self.workspace.layer_work("mgrit.forward", u.shape, u.dtype)

    def step(self, u: np.ndarray, i: int, j: int, level: int) -> np.ndarray:
        h = (j - i) * self.h
        return layers.hidden_step(
            u, self.K[i], self.b[i], h, self.activation, work=self._work(u), KT=self.KT[i]
        )

    def final_step(self, u: np.ndarray, i: int, j: int) -> np.ndarray:
        """:meth:`step` on level 0 (bitwise) that keeps ``S_i`` in ``activations``."""
        S = None if self.activations is None else np.empty_like(u)
        out = layers.hidden_step(
            u, self.K[i], self.b[i], (j - i) * self.h, self.activation, work=self._work(u), S=S,
            KT=self.KT[i],
        )  # fmt: skip
        if self.activations is not None:
            self.activations[i] = S
        return out

    def init_state(self, i: int) -> np.ndarray:
        """``Y_0`` (opening layer) at 0; elsewhere the cold-start guess ``Y_n = Y_0``."""
        if self._Y0 is None:
            self._Y0 = self._opening()
        return self._Y0.copy()


class AdjointResNet:
    """Adjoint problem backwards in layers, linearised at the forward ``states`` of this rank."""

    def __init__(
        self,
        params: Params,
        h: float,
        activation: str,
        states: Mapping[int, np.ndarray],
        final: np.ndarray | None,
        n_layers: int,
        gradient: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
        activations: Mapping[int, np.ndarray] | None = None,
        workspace: Workspace | None = None,
    ) -> None:
        """``gradient``: arrays ``(dK (N,w,w), db (N,nb), dh (N,))`` that ``final_step`` fills;
        ``activations``: forward ``S_n`` where known (else ``sigma`` is evaluated);
        ``workspace``: where the step temporaries live (the propagation's, reused)."""
        self.K, self.b, self.h, self.activation = params.K, params.b, float(h), activation
        self.states, self.final, self.n_layers = states, final, n_layers
        self.gradient = gradient
        self.activations = activations if activations is not None else {}
        first = next(iter(states.values()))
        self._shape, self._dtype = first.shape, first.dtype
        self.workspace = Workspace() if workspace is None else workspace

    def _work(self) -> layers.LayerWork:
        return self.workspace.layer_work("mgrit.adjoint", self._shape, self._dtype)

    def step(self, u: np.ndarray, i: int, j: int, level: int) -> np.ndarray:
        n = self.n_layers - j
        work = self._work()
        P, _, _, _ = layers.hidden_step_vjp(
            self.states[n], self.K[n], self.b[n], (j - i) * self.h, self.activation, u,
            self._activation(n, work), parameters=False, work=work,
        )  # fmt: skip
        return P

    def final_step(self, u: np.ndarray, i: int, j: int) -> np.ndarray:
        """:meth:`step` on level 0 that also stores layer ``n = N - j``'s parameter cotangents."""
        n = self.n_layers - j
        work = self._work()
        dK = None if self.gradient is None else self.gradient[0][n]
        P, dK, db, dh = layers.hidden_step_vjp(
            self.states[n], self.K[n], self.b[n], (j - i) * self.h, self.activation, u,
            self._activation(n, work), dK=dK, work=work,
        )  # fmt: skip
        if self.gradient is not None:
            self.gradient[1][n], self.gradient[2][n] = db, dh
        return P

    def _activation(self, n: int, work: layers.LayerWork) -> np.ndarray:
        """Stored ``S_n`` or ``sigma(Y_n K_n^T + b_n)`` evaluated into ``work.S``."""
        S = self.activations.get(n)
        if S is None:
            S = layers.hidden_activation(
                self.states[n], self.K[n], self.b[n], self.activation, work.S, work
            )
        return S

    def init_state(self, a: int) -> np.ndarray:
        """``P_N = dloss/dY_N`` at adjoint index 0 (its owner has it); zeros elsewhere."""
        if a == 0:
            if self.final is None:
                raise RuntimeError("the adjoint's initial state P_N is held by another rank")
            return self.final.copy()
        return np.zeros(self._shape, self._dtype)
