"""`MGRITPropagation`: objective and gradient of the ODE-ResNet with layer-parallel MGRIT.

One gradient evaluation on every rank (parameters are replicated):

1. opening layer ``Y_0 = opening(X)`` on the owner of layer 0 (re-applied every step);
2. forward MGRIT solve for ``Y_0..Y_N`` (warm-started from the previous step's states);
3. classifier loss and ``P_N = dloss/dY_N`` on the owner of ``Y_N``;
4. adjoint MGRIT solve backwards in layers for ``P_N..P_0`` (warm-started);
5. parameter gradient on the finest level only, once per layer:
   ``(dK_n, db_n) = VJP of layer n at Y_n with cotangent P_{n+1}`` on the owner of layer ``n``,
   accumulated inside the adjoint's last fine relaxation and residual
   (``AdjointResNet.final_step``) when the solve stops by its iteration count (one-shot), else
   in a separate sweep after the solve (``P_{n+1}`` of a block's first layer then comes from
   the neighbouring rank); opening gradient on the owner of layer 0, classifier gradient on
   the owner of ``Y_N``;
6. **the once-per-step exchange**: one allreduce (sum) of the vector
   ``[gradient blocks, dJ/dh per layer, loss, scores, step counts]`` in which every entry is
   nonzero on exactly one rank, so the sum is exact and identical for any number of ranks;
   the regularisation (cheap, replicated) is added on every rank.

In one-shot mode (``ParallelConfig.one_shot``) each solve runs a fixed number of cycles, so
the gradient is inexact; otherwise each solve is iterated to ``tolerance``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from solver import layers
from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.mgrit.engine import MGRIT
from solver.mgrit.parallel_config import ParallelConfig
from solver.mgrit.resnet import AdjointResNet, ForwardResNet
from solver.mgrit.result import MGRITResult
from solver.network import Evaluation
from solver.parallel.channel import Channel
from solver.parallel.clock import VirtualClock
from solver.parallel.comm import Communicator, SerialComm
from solver.parallel.layout import LayerLayout, MirroredLayout
from solver.params import Params
from solver.regularization import regularization
from solver.workspace import Workspace

__all__ = ["MGRITPropagation", "FLOAT32_REL_TOL"]

FLOAT32_REL_TOL = 1e-5
"""float32 networks: solves to tolerance also stop once the residual fell by this factor
(an absolute 1e-10 is below float32 round-off of O(1) states and would run every solve to
``max_iterations``)."""


def _for_dtype(parallel: ParallelConfig, config: NetworkConfig) -> ParallelConfig:
    """``parallel`` with ``mgrit.rel_tol`` at least :data:`FLOAT32_REL_TOL` for float32."""
    if config.dtype != "float32" or parallel.mgrit.rel_tol >= FLOAT32_REL_TOL:
        return parallel
    return replace(parallel, mgrit=replace(parallel.mgrit, rel_tol=FLOAT32_REL_TOL))


class MGRITPropagation:
    """Layer-parallel implementation of the ``solver.network.Propagation`` protocol.

    ``info`` of an evaluation: ``primal_residual``, ``adjoint_residual`` (last MGRIT residual
    norms), ``primal_iterations``, ``adjoint_iterations``, ``modelled_time`` (critical path
    from the virtual clocks), ``layer_steps`` (propagator calls summed over ranks),
    ``messages`` (point-to-point messages summed over ranks), ``d_time_scale``, ``scores``,
    ``primal_history`` / ``adjoint_history`` (residual norm after each MGRIT cycle).
    """

    name = "mgrit"

    def __init__(
        self,
        network_config: NetworkConfig,
        parallel_config: ParallelConfig,
        comm: Communicator | None = None,
    ) -> None:
        if not isinstance(parallel_config, ParallelConfig):
            raise ConfigError(
                f"`parallel_config` must be a ParallelConfig; got {type(parallel_config).__name__}."
            )
        self.network = network_config
        self.comm = comm if comm is not None else SerialComm()
        self.parallel = _for_dtype(
            parallel_config.for_ranks(network_config.n_layers, self.comm.size), network_config
        )
        self.clock = VirtualClock(latency=self.parallel.latency, cost=self.parallel.cost)
        self.channel = Channel(self.comm, self.clock)
        n = network_config.n_layers
        self.layout = LayerLayout(n, self.comm.size, self.parallel.fine_factor)
        self.adjoint_layout = MirroredLayout(self.layout)
        self._step = -1
        self._explicit_steps = False
        self._X: np.ndarray | None = None
        self._forward: dict[int, np.ndarray] | None = None
        self._adjoint: dict[int, np.ndarray] | None = None
        self.workspace = Workspace()  # step temporaries, reused across solves

    # ------------------------------------------------------------------ protocol
    def begin_step(self) -> None:
        """A new optimisation step starts (counts warm-up steps of one-shot mode).

        A caller that never calls this gets every gradient evaluation counted as a new step,
        so the warm-up iterations end after ``warmup_steps`` gradients in any case."""
        self._explicit_steps = True
        self._step += 1

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
        """Objective ``J = loss + R`` (and ``dJ/dparams`` if ``gradient``), see module doc."""
        self._check(config)
        params, X = params.astype(config.np_dtype), np.asarray(X, dtype=config.np_dtype)
        y = np.asarray(y)
        t0 = self.clock.time
        if gradient and not self._explicit_steps:
            self._step += 1
        step = max(self._step, 0)
        h, act, n = time_scale * config.h, config.activation, config.n_layers
        warm = self._forward is not None and self._X is not None and np.array_equal(self._X, X)
        acts: dict[int, np.ndarray] | None = (
            {} if gradient and self.parallel.store_activations else None
        )
        fwd = self._solve_forward(config, params, X, h, step, warm, consume=gradient, acts=acts)
        if acts is not None and not fwd.final_pass:
            acts = None  # no final pass (converged by tolerance): the adjoint evaluates sigma
        owns_last = n in fwd.states
        loss = 0.0
        scores = np.zeros((X.shape[0], config.n_classes), X.dtype)
        reg, reg_grad = regularization(config, params, gradient=gradient)
        if not gradient:
            if owns_last:
                with self.clock.step():
                    loss = layers.classifier_value(fwd.states[n], params.W, params.mu, y)
            total = self.channel.allreduce(
                np.array([loss, fwd.cost.steps, fwd.cost.messages_sent]), "sum"
            )
            info = {
                "primal_residual": fwd.residual,
                "primal_iterations": fwd.iterations,
                "layer_steps": int(total[1]),
                "messages": int(total[2]),
                "modelled_time": self.clock.time - t0,
            }
            return Evaluation(float(total[0]) + reg, float(total[0]), None, info)

        self._X, self._forward = X.copy(), fwd.states
        grad = Params.zeros(config)
        P_N = None
        if owns_last:
            with self.clock.step():
                loss, P_N, grad.W, grad.mu, scores = layers.classifier_loss(
                    fwd.states[n], params.W, params.mu, y
                )
        dh = np.zeros(n)
        if acts is not None:
            acts = {k: S for k, S in acts.items() if k in fwd.states}  # the adjoint's layers
        adjoint = AdjointResNet(
            params, h, act, fwd.states, P_N, n, (grad.K, grad.b, dh), acts, self.workspace
        )
        adj_engine = MGRIT(
            adjoint,
            n,
            self.parallel.solve_config("adjoint", step),
            self.comm,
            clock=self.clock,
            layout=self.adjoint_layout,
        )
        previous, self._adjoint = self._adjoint, None
        settings = adj_engine.config
        fixed = settings.abs_tol == 0.0 and settings.rel_tol == 0.0  # final pass is certain
        adj = adj_engine.solve(
            previous if warm else None,
            consume_initial=True,
            store="c-points" if fixed else "all",
        )
        del previous
        adjoint.activations = acts = {}  # free the forward activations
        grid = adj_engine.grid
        # the next warm start reads the fine C-points only
        self._adjoint = {a: P for a, P in adj.states.items() if grid.is_c(0, a)}
        before = None if adj.final_pass else adj_engine.predecessor(adj.states)
        for a in sorted(adj.states):
            if a == 0 or adj.final_pass:  # final_pass: accumulated during the solve
                continue
            k = n - a  # layer k maps Y_k to Y_{k+1}; its cotangent is P_{k+1} (adjoint a - 1)
            P_next = adj.states[a - 1] if a - 1 in adj.states else before
            work = self.workspace.layer_work("gradient", P_next.shape, P_next.dtype)
            unused = self.workspace.array("gradient.P", P_next.shape, P_next.dtype)
            with self.clock.step():
                _, _, grad.b[k], dh[k] = layers.hidden_step_vjp(
                    fwd.states[k], params.K[k], params.b[k], h, act, P_next,
                    out=unused, dK=grad.K[k], work=work,
                )  # fmt: skip
        if n in adj.states:  # owner of layer 0: the opening layer's gradient
            with self.clock.step():
                grad.open_K, grad.open_b = layers.opening_vjp(
                    X, params.open_K, params.open_b, fwd.states[0], adj.states[n], act
                )
        counts = [
            fwd.cost.steps + adj.cost.steps,
            fwd.cost.messages_sent + adj_engine.channel.messages_sent,
        ]
        packed = np.concatenate([grad.to_flat(), dh, [loss], scores.ravel(), counts])
        total = self.channel.allreduce(packed, "sum")  # the once-per-step exchange
        size = grad.size
        full = Params.from_flat(config, total[:size].copy())
        for field in ("open_K", "open_b", "K", "b", "W", "mu"):
            getattr(reg_grad, field)[...] += getattr(full, field)
        dh_all = total[size : size + n]
        d_lambda = 0.0
        for k in range(n - 1, -1, -1):
            d_lambda += dh_all[k] * config.h
        loss = float(total[size + n])
        z = total[size + n + 1 : size + n + 1 + scores.size].reshape(scores.shape)
        info = {
            "primal_residual": fwd.residual,
            "adjoint_residual": adj.residual,
            "primal_history": fwd.residual_history,
            "adjoint_history": adj.residual_history,
            "primal_iterations": fwd.iterations,
            "adjoint_iterations": adj.iterations,
            "layer_steps": int(total[-2]),
            "forward_phases": fwd.cost.steps_by_phase,
            "adjoint_phases": adj.cost.steps_by_phase,
            "messages": int(total[-1]),
            "modelled_time": self.clock.time - t0,
            "d_time_scale": d_lambda,
            "scores": z,
        }
        return Evaluation(loss + reg, loss, reg_grad, info)

    def scores(
        self, config: NetworkConfig, params: Params, X: np.ndarray, time_scale: float = 1.0
    ) -> np.ndarray:
        """Class scores ``(B, C)`` from a forward MGRIT solve to ``tolerance`` (cold start)."""
        self._check(config)
        params, X = params.astype(config.np_dtype), np.asarray(X, dtype=config.np_dtype)
        fwd = self._solve_forward(config, params, X, time_scale * config.h, None, False)
        z = np.zeros((X.shape[0], config.n_classes), X.dtype)
        if config.n_layers in fwd.states:
            z = layers.logits(fwd.states[config.n_layers], params.W, params.mu)
        return self.channel.allreduce(z.ravel(), "sum").reshape(z.shape)

    # ------------------------------------------------------------------ helpers
    def _check(self, config: NetworkConfig) -> None:
        if config.n_layers != self.network.n_layers:
            raise ConfigError(
                f"MGRITPropagation was built for n_layers={self.network.n_layers}; got a network "
                f"with n_layers={config.n_layers}. Fix: build one propagation per depth."
            )

    def _solve_forward(
        self,
        config: NetworkConfig,
        params: Params,
        X: np.ndarray,
        h: float,
        step: int | None,
        warm: bool,
        consume: bool = False,
        acts: dict[int, np.ndarray] | None = None,
    ) -> MGRITResult:
        """Forward MGRIT solve (``step=None``: to tolerance) with the opening re-applied;
        ``consume`` moves the warm-start states into the solve (gradient evaluations, which
        store their new states afterwards); ``acts`` receives the activations ``S_n`` of the
        solve's final pass."""

        def opening() -> np.ndarray:
            with self.clock.step():
                return layers.opening_forward(
                    X, params.open_K, params.open_b, config.width, config.activation
                )

        settings = self.parallel.solve_config("forward", step)
        engine = MGRIT(
            ForwardResNet(params, h, config.activation, opening, acts, self.workspace),
            config.n_layers,
            settings,
            self.comm,
            clock=self.clock,
            layout=self.layout,
        )
        store = "all" if consume else "c-points"  # objective or scores only: Y_N needed
        if not warm:
            return engine.solve(None, store=store)
        if consume:
            previous, self._forward = self._forward, None
            return engine.solve(previous, consume_initial=True)
        return engine.solve(dict(self._forward), consume_initial=True, store=store)
