"""Nonlinear (FAS) multigrid reduction in time over the layer index, distributed over ranks.

Level ``l`` solves ``A_l(u) = g_l`` with ``A_l(u)_0 = u_0`` (fixed initial state) and

    A_l(u)_k = u_k - Phi_l(u_{k-1}),   k = 1..N_l,

where ``Phi_l`` is the problem's ``step`` over one level-``l`` interval and ``g_0 = 0`` on the
fine level.  One cycle on level ``l`` (``l`` not coarsest):

1. relax: F-sweep, then ``nrelax`` (C-sweep, F-sweep) pairs;
2. residual at the C-points ``r_k = g_k - u_k + Phi_l(u_{k-1})``;
3. FAS restriction by injection: ``v = u|_C``, ``g_{l+1} = r + A_{l+1}(v)``, initial guess ``v``;
4. coarse solve: recursive V- (or F-) cycle, sequential propagation on the coarsest level;
5. correction ``u_C <- u_C + (w - v)``, which is ``u_C <- w`` because ``u_C`` still equals
   ``v`` (so ``v`` is not stored and no rounding is added), and an F-sweep (on level 0 the
   F-sweep is left to the next relaxation, which starts with one).

Work saved without changing any result bit:

* the restriction evaluates ``Phi_{l+1}(v_{k-1})`` at every coarse point; at a coarse F-point
  whose predecessor is a coarse C-point the first F-sweep would evaluate exactly that step again
  (``v`` is unchanged), so the restriction stores ``u_k = Phi_{l+1}(v_{k-1}) + g_k`` and the
  first F-sweep skips those points (with coarsening factor 2: the whole first F-sweep);
* ``problem.final_step(u, i, j)`` (optional) replaces ``step`` on level 0 during the last
  relaxation and residual of a solve that stops by ``max_iterations``: every fine step is then
  evaluated exactly once with its final input, so a problem can accumulate by-products there
  (the ResNet adjoint accumulates the parameter gradient) instead of in a separate sweep.

States are never modified in place (every update stores a new array), so levels share arrays
instead of copying them; coarse levels are released at the end of :meth:`MGRIT.solve`.

Every rank stores only the states of its own fine range (:class:`~solver.parallel.LayerLayout`)
and exchanges single boundary states with the owner of the neighbouring level point; F-sweeps
are Gauss-Seidel along each interval, C-sweeps Jacobi, so every point is computed by the same
operations for any number of ranks and results agree bitwise across rank counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

import numpy as np

from solver.errors import ConfigError, ParallelError
from solver.mgrit.config import MGRITConfig
from solver.mgrit.grid import LevelGrid
from solver.mgrit.problem import Propagator
from solver.mgrit.result import MESSAGES, MGRITCost, MGRITResult, Status
from solver.parallel.channel import Channel, PendingState
from solver.parallel.clock import VirtualClock
from solver.parallel.comm import Communicator, SerialComm
from solver.parallel.layout import LayerLayout, Layout

__all__ = ["MGRIT"]

_TAG_F, _TAG_C, _TAG_RES, _TAG_TAU, _TAG_PRED = 11, 12, 13, 14, 15

States = dict[int, np.ndarray]
Needs = Callable[[int], bool]


def _always(_: int) -> bool:
    return True


class MGRIT:
    """FAS-MGRIT solver for one problem on one rank of ``comm``.

    Parameters
    ----------
    problem: the :class:`~solver.mgrit.problem.Propagator` (``step``, ``init_state``).
    n_layers: number of fine steps ``N`` (states ``0..N``).
    config: :class:`MGRITConfig`.
    comm: communicator (default :class:`SerialComm`); the layout deals whole fine intervals out.
    clock: this rank's virtual clock (default: unit cost, zero latency); kept across solves.
    layout: partition of the indices over ranks (default: :class:`LayerLayout` in whole fine
        intervals); any contiguous partition works, e.g. :class:`MirroredLayout` for adjoints.
    """

    def __init__(
        self,
        problem: Propagator,
        n_layers: int,
        config: MGRITConfig,
        comm: Communicator | None = None,
        *,
        clock: VirtualClock | None = None,
        layout: Layout | None = None,
    ) -> None:
        if not isinstance(config, MGRITConfig):
            raise ConfigError(f"`config` must be an MGRITConfig; got {type(config).__name__}.")
        self.problem = problem
        self.config = config
        self.comm = comm if comm is not None else SerialComm()
        self.clock = clock if clock is not None else VirtualClock()
        self.grid = LevelGrid.build(n_layers, config)
        if layout is None:
            layout = LayerLayout(n_layers, self.comm.size, config.fine_factor)
        if (layout.n_layers, layout.n_ranks) != (n_layers, self.comm.size):
            raise ParallelError(
                f"`layout` covers n_layers={layout.n_layers} on {layout.n_ranks} ranks but the "
                f"solve has n_layers={n_layers} on {self.comm.size} ranks. Fix: build the layout "
                "for this problem and communicator."
            )
        self.layout = layout
        self.lo, self.hi = self.layout.bounds(self.comm.rank)
        self.channel = Channel(self.comm, self.clock)
        n_levels = self.grid.n_levels
        self.points = [self.grid.points(lvl, self.lo, self.hi) for lvl in range(n_levels)]
        # fine C-points of the whole grid (global order) for a rank-count independent norm
        self._c_global = (
            [t for t in self.grid.points(0, 0, n_layers + 1) if t > 0] if (n_levels > 1) else []
        )
        self._c_slot = {t: k for k, t in enumerate(self._c_global)}
        self.u: list[States] = [{} for _ in range(n_levels)]
        self.g: list[States | None] = [None] * n_levels
        self._fresh = [False] * n_levels
        self._pre = [False] * n_levels  # F-points after a C-point already relaxed (restriction)
        self._steps = [0] * n_levels
        self._phase = "F-relax"
        self._phases: dict[str, int] = {}
        self._final_step = getattr(problem, "final_step", None)
        self._final_active = False
        self._final_ok = False
        self._keep_all = True
        self._shape: tuple[int, ...] = ()

    # ------------------------------------------------------------------ public
    @property
    def n_levels(self) -> int:
        return self.grid.n_levels

    def solve(
        self,
        initial: Mapping[int, np.ndarray] | None = None,
        *,
        consume_initial: bool = False,
        store: Literal["all", "c-points"] = "all",
    ) -> MGRITResult:
        """Run MGRIT cycles from a cold start (``init_state``) or a warm start.

        ``initial``: this rank's fine states ``{index: array}`` from a previous solve (e.g.
        ``previous.states``); only the fine C-points are read (the first relaxation recomputes
        every F-point before reading it), and state 0 is always re-read from
        ``problem.init_state(0)``.
        ``consume_initial``: move the states out of ``initial`` (a dict, emptied), so that each
        old state is freed as soon as it is replaced (saves one copy of the states in memory).
        ``store``: ``"all"`` keeps every fine state; ``"c-points"`` keeps only the fine
        C-points, the last F-point of each interval (the C-point residual's input), this
        rank's last index and ``N`` -- F-points are dropped as soon as the next step has used
        them (memory ``~2/m`` of ``"all"``; ``final_step`` still sees every step).
        Returns this rank's :class:`MGRITResult`; the residual history is identical on all ranks.
        """
        if store not in ("all", "c-points"):
            raise ConfigError(f"`store` must be 'all' or 'c-points'; got {store!r}.")
        self._keep_all = store == "all"
        cfg, n_levels = self.config, self.n_levels
        self._steps = [0] * n_levels
        self._phases = {}
        sent0, values0, t0 = self.channel.messages_sent, self.channel.values_sent, self.clock.time
        cold = initial is None
        self._start(initial, consume_initial)
        initial = None
        history: list[float] = []
        iterations = 0
        status: Status = "max_iterations"
        final_pass = False
        if n_levels == 1:
            self._phase = "final"
            self._final(lambda: self._sweep_f(0))  # exact sequential propagation
            final_pass = True
            history.append(0.0)
            status = "converged"
        else:
            if cfg.skip_first_down and cold and cfg.max_iterations > 0:
                self._skip_down_cycle()
                iterations = 1
            while True:
                last = iterations >= cfg.max_iterations
                self._relax(0, final=last)
                self._phase = "final" if last else "residual"
                with_hook = last and self._final_pass_ok
                residual, rnorm = (
                    self._final(lambda: self._residual(0, with_norm=True))
                    if with_hook
                    else self._residual(0, with_norm=True)
                )
                final_pass = with_hook
                history.append(rnorm)
                if not np.isfinite(rnorm):
                    status = "diverged"
                    break
                if (cfg.abs_tol > 0 and rnorm <= cfg.abs_tol) or (
                    cfg.rel_tol > 0 and rnorm <= cfg.rel_tol * history[0]
                ):
                    status = "converged"
                    break
                if last:
                    break
                self._restrict(0, residual)
                residual = {}  # folded into the coarse right-hand side; free it
                self._coarse_solve(1, cfg.cycle)
                self._correct(0)
                iterations += 1
        self.channel.flush()
        self.u[1:] = [{} for _ in range(n_levels - 1)]  # release the coarse levels
        self.g = [None] * n_levels
        t_end = self.channel.allreduce(np.array([self.clock.time]), "max")[0]
        cost = MGRITCost(
            steps_per_level=tuple(self._steps),
            steps_by_phase={f"L{lv} {ph}": k for (lv, ph), k in sorted(self._phases.items())},
            messages_sent=self.channel.messages_sent - sent0,
            values_sent=self.channel.values_sent - values0,
            modelled_time=float(t_end - t0),
        )
        return MGRITResult(
            status=status,
            message=MESSAGES[status],
            residual_history=np.asarray(history, dtype=np.float64),
            iterations=iterations,
            states=self.u[0],
            cost=cost,
            n_levels=n_levels,
            final_pass=final_pass and self._final_step is not None,
        )

    def predecessor(self, states: States) -> np.ndarray | None:
        """Fine state just before this rank's first owned index (from its owner), or ``None``
        if this rank owns index 0.  Collective over the ranks (one message per boundary)."""
        fine = self.points[0]
        pending = self._post_recv(0, _TAG_PRED, _always)
        self._send_last(0, states, _TAG_PRED, _always)
        out = pending.wait() if pending is not None else None
        self.channel.flush()
        return out if fine and fine[0] > 0 else None

    # ------------------------------------------------------------------ set-up
    def _start(self, initial: Mapping[int, np.ndarray] | None, consume: bool) -> None:
        fine: States = {}
        shape = None
        for t in self.points[0]:
            if t > 0 and not self.grid.is_c(0, t):  # on one level: every t > 0
                if initial is not None and t in initial:
                    shape = np.shape(initial[t])
                    if consume:
                        del initial[t]  # never read: the first F-sweep recomputes it
                continue
            if t == 0 or initial is None:
                fine[t] = np.array(self.problem.init_state(t), dtype=np.float64)
            else:
                if t not in initial:
                    raise ConfigError(
                        f"`initial` lacks the state of fine index {t} owned by rank "
                        f"{self.comm.rank}. Fix: pass this rank's `states` of a previous solve "
                        "with the same layout."
                    )
                # states are never modified in place, so no copy is needed
                fine[t] = np.asarray(initial[t], dtype=np.float64)
                if consume:
                    del initial[t]
        if fine:
            shape = next(iter(fine.values())).shape
        elif shape is None:  # one level, a rank without index 0, cold start
            shape = np.shape(self.problem.init_state(self.points[0][0]))
        self._shape = tuple(shape)
        self.u = [fine] + [{} for _ in range(self.n_levels - 1)]
        self.g = [None] * self.n_levels
        self._fresh = [False] * self.n_levels
        self._pre = [False] * self.n_levels

    # ------------------------------------------------------------------ messages
    def _post_recv(self, level: int, tag: int, needs: Needs) -> PendingState | None:
        """Receive the predecessor of this rank's first ``level`` point if ``needs(first)``.

        ``needs`` is evaluated on the same global data by sender and receiver, so a message
        is sent exactly when it is expected.
        """
        pts = self.points[level]
        if not pts or pts[0] == 0 or not needs(pts[0]):
            return None
        source = self.layout.owner(self.grid.pred(level, pts[0]))
        return self.channel.recv(self._shape, source, tag)

    def _send_last(self, level: int, states: States, tag: int, needs: Needs) -> None:
        """Send ``states[last]`` to the owner of the next ``level`` point if it ``needs`` it."""
        pts = self.points[level]
        if not pts or pts[-1] == self.grid.n_layers:
            return
        nxt = self.grid.succ(level, pts[-1])
        if needs(nxt):
            self.channel.send(states[pts[-1]], self.layout.owner(nxt), tag)

    def _is_f(self, level: int) -> Needs:
        return lambda t: not self.grid.is_c(level, t)

    def _keep(self, level: int) -> Needs:
        """Which computed level points an F-sweep stores (see ``store`` in :meth:`solve`)."""
        if level > 0 or self._keep_all:
            return _always
        grid, n, last = self.grid, self.grid.n_layers, self.points[0][-1]
        return lambda t: t == last or t == n or grid.is_c(0, t + 1)

    def _needs_f(self, level: int, pre: bool) -> Needs:
        """F-points an F-sweep computes: all, or (``pre``) those not after a C-point."""
        grid = self.grid
        if not pre:
            return self._is_f(level)
        return lambda t: not grid.is_c(level, t) and not grid.is_c(level, grid.pred(level, t))

    def _is_c(self, level: int) -> Needs:
        return lambda t: self.grid.is_c(level, t)

    # ------------------------------------------------------------------ level operations
    def _phi(self, level: int, u: np.ndarray, i: int, j: int) -> np.ndarray:
        self._steps[level] += 1
        key = (level, self._phase)
        self._phases[key] = self._phases.get(key, 0) + 1
        if self._final_active and level == 0:
            return self.clock.call(self._final_step, u, i, j)
        return self.clock.call(self.problem.step, u, i, j, level)

    def _final(self, fn):
        """Run ``fn`` with ``problem.final_step`` in place of ``step`` on level 0 (if any)."""
        self._final_active = self._final_step is not None
        try:
            return fn()
        finally:
            self._final_active = False

    def _sweep_f(self, level: int) -> None:
        """F-sweep (Gauss-Seidel along each interval): ``u_k = Phi(u_{k-1}) + g_k`` at F-points."""
        pts, u, g, grid = self.points[level], self.u[level], self.g[level], self.grid
        pre, self._pre[level] = self._pre[level], False
        if pts:
            needs = self._needs_f(level, pre)
            pending = self._post_recv(level, _TAG_F, needs)
            # a C-point (or a pre-relaxed F-point) is final before the sweep
            early = not needs(pts[-1]) if pts[-1] > 0 else True
            if early:
                self._send_last(level, u, _TAG_F, needs)
            keep = self._keep(level)
            prev_t, prev = -1, None  # the last point computed (it may not be stored)
            for t in pts:
                if t == 0 or not needs(t):
                    continue
                p = grid.pred(level, t)
                up = prev if p == prev_t else (u[p] if p in u else pending.wait())
                new = self._phi(level, up, p, t)
                prev_t, prev = t, (new + g[t] if g is not None else new)
                if keep(t):
                    u[t] = prev
                else:
                    u.pop(t, None)
            if not early:
                self._send_last(level, u, _TAG_F, needs)
        self._fresh[level] = True

    def _sweep_c(self, level: int) -> None:
        """Weighted-Jacobi C-sweep: ``u_C <- (1-w) u_C + w (Phi(u_{C-1}) + g_C)``."""
        pts, u, g, grid, w = (
            self.points[level],
            self.u[level],
            self.g[level],
            self.grid,
            (self.config.c_weight),
        )
        if pts:
            needs = self._is_c(level)
            pending = self._post_recv(level, _TAG_C, needs)
            self._send_last(level, u, _TAG_C, needs)  # Jacobi: the value before the sweep
            new: States = {}
            for t in pts:
                if t == 0 or not grid.is_c(level, t):
                    continue
                p = grid.pred(level, t)
                up = u[p] if p in u else pending.wait()
                val = self._phi(level, up, p, t)
                if g is not None:
                    val = val + g[t]
                new[t] = val if w == 1.0 else (1.0 - w) * u[t] + w * val
            u.update(new)
        self._fresh[level] = False

    @property
    def _final_pass_ok(self) -> bool:
        return self._final_step is not None and self._final_ok

    def _relax(self, level: int, *, final: bool = False) -> None:
        """F-sweep (unless fresh), then ``sweeps`` (C, F) pairs; with ``final`` the last
        F-sweep runs through ``problem.final_step`` on level 0."""
        sweeps = self.config.sweeps(level)
        self._phase = "F-relax"
        self._final_ok = False
        if not self._fresh[level]:
            if final and sweeps == 0:
                self._phase = "final"
                self._final_ok = True
                self._final(lambda: self._sweep_f(level))
            else:
                self._sweep_f(level)
        for k in range(sweeps):
            self._phase = "C-relax"
            self._sweep_c(level)
            self._phase = "F-relax"
            if final and k == sweeps - 1:
                self._phase = "final"
                self._final_ok = True
                self._final(lambda: self._sweep_f(level))
            else:
                self._sweep_f(level)

    def _residual(self, level: int, *, with_norm: bool = False) -> tuple[States, float]:
        """C-point residuals ``r_k = g_k - u_k + Phi_l(u_{k-1})`` (and their global norm)."""
        u, g, grid = self.u[level], self.g[level], self.grid
        needs = self._is_c(level)
        pending = self._post_recv(level, _TAG_RES, needs)
        self._send_last(level, u, _TAG_RES, needs)
        res: States = {}
        for t in self.points[level + 1]:
            if t == 0:
                continue
            p = grid.pred(level, t)
            up = u[p] if p in u else pending.wait()
            r = self._phi(level, up, p, t) - u[t]
            res[t] = r + g[t] if g is not None else r
        if not with_norm:
            return res, float("nan")
        local = np.zeros(len(self._c_global))
        for t, r in res.items():
            local[self._c_slot[t]] = np.sqrt(np.sum(np.square(r)))  # no BLAS call
        norms = self.channel.allreduce(local, "sum")  # one nonzero per slot: exact
        if self.config.norm == "l2":
            return res, float(np.sqrt(np.sum(norms**2)))
        if self.config.norm == "l1":
            return res, float(np.sum(norms))
        return res, float(np.max(norms, initial=0.0))

    def _restrict(self, level: int, residual: States) -> None:
        """FAS restriction: ``v = u|_C``, ``g_{l+1} = r + v - Phi_{l+1}(v_prev)``."""
        coarse, u, grid = level + 1, self.u[level], self.grid
        pending = self._post_recv(coarse, _TAG_TAU, _always)
        self._send_last(coarse, u, _TAG_TAU, _always)
        self._phase = "restrict"
        uc, gc = {}, {}
        for t in self.points[coarse]:
            uc[t] = u[t]  # shared, never modified in place
            if t == 0:
                continue
            q = grid.pred(coarse, t)
            vq = u[q] if q in u else pending.wait()
            phi = self._phi(coarse, vq, q, t)
            gc[t] = residual.pop(t) + u[t] - phi  # each residual freed once folded in
            if grid.is_c(coarse, q) and not grid.is_c(coarse, t):
                uc[t] = phi + gc[t]  # what the first F-sweep would compute (v_q unchanged)
        self.u[coarse], self.g[coarse] = uc, gc
        self._fresh[coarse] = False
        self._pre[coarse] = True

    def _correct(self, level: int) -> None:
        """FAS correction ``u_C <- u_{l+1}`` (see module docstring); F-sweep on coarse levels."""
        u, uc = self.u[level], self.u[level + 1]
        for t in self.points[level + 1]:
            if t > 0:
                u[t] = uc[t]
        self.u[level + 1], self.g[level + 1] = {}, None  # rebuilt by the next restriction
        self._fresh[level] = False
        if level > 0:
            self._phase = "correct F"
            self._sweep_f(level)

    def _coarse_solve(self, level: int, kind: str) -> None:
        """Solve on ``level``: exactly (sequential sweep) on the coarsest level; else by one
        V-cycle (``kind="V"``) or, for F-cycles, one F-cycle followed by one V-cycle."""
        if level == self.n_levels - 1:
            self._phase = "coarse solve"
            self._sweep_f(level)
            return
        self._cycle(level, kind)
        if kind == "F":
            self._cycle(level, "V")

    def _cycle(self, level: int, kind: str) -> None:
        """One cycle on a non-coarsest ``level``: relax, restrict, coarse solve, correct."""
        self._relax(level)
        self._phase = "residual"
        residual, _ = self._residual(level)
        self._restrict(level, residual)
        del residual  # folded into the coarse right-hand side; free it before recursing
        self._coarse_solve(level + 1, kind)
        self._correct(level)

    def _skip_down_cycle(self) -> None:
        """First cycle from a cold start without down-cycle work: inject, solve, interpolate."""
        for level in range(self.n_levels - 1):
            u = self.u[level]
            self.u[level + 1] = {t: u[t] for t in self.points[level + 1]}
            self.g[level + 1] = None
            self._pre[level + 1] = False
        self._phase = "coarse solve"
        self._sweep_f(self.n_levels - 1)
        for level in range(self.n_levels - 2, -1, -1):
            self._correct(level)
