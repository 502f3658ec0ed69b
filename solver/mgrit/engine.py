"""Nonlinear (FAS) multigrid reduction in time over the layer index, distributed over ranks.

Level ``l`` solves ``A_l(u) = g_l`` with ``A_l(u)_0 = u_0`` (fixed initial state) and

    A_l(u)_k = u_k - Phi_l(u_{k-1}),   k = 1..N_l,

where ``Phi_l`` is the problem's ``step`` over one level-``l`` interval and ``g_0 = 0`` on the
fine level.  One cycle on level ``l`` (``l`` not coarsest):

1. relax: F-sweep, then ``nrelax`` (C-sweep, F-sweep) pairs (:mod:`~solver.mgrit.relaxation`);
2. residual at the C-points ``r_k = g_k - u_k + Phi_l(u_{k-1})``;
3. FAS restriction by injection: ``v = u|_C``, ``g_{l+1} = r + A_{l+1}(v)``, initial guess ``v``;
4. coarse solve: recursive V- (or F-) cycle, sequential propagation on the coarsest level;
5. correction ``u_C <- u_C + (w - v)`` (stored as ``u_C <- w``) and an F-sweep on coarse levels
   (steps 2, 3 and 5: :mod:`~solver.mgrit.transfer`).

This module drives the cycles (:class:`MGRIT`: V/F cycles, stopping test, residual history,
result); the states of every level and their exchange between ranks live in
:class:`~solver.mgrit.levels.LevelStates`, and every step is evaluated and counted by
:class:`~solver.mgrit.steps.Steps`.

``problem.final_step(u, i, j)`` (optional) replaces ``step`` on level 0 during the last
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

from collections.abc import Mapping
from typing import Literal

import numpy as np

from solver.errors import ConfigError, ParallelError
from solver.mgrit.config import MGRITConfig
from solver.mgrit.grid import LevelGrid
from solver.mgrit.levels import LevelStates, States
from solver.mgrit.problem import Propagator
from solver.mgrit.relaxation import relax, sweep_f
from solver.mgrit.result import MESSAGES, MGRITCost, MGRITResult, Status
from solver.mgrit.steps import Steps
from solver.mgrit.transfer import correct, residual, residual_norm, restrict
from solver.parallel.channel import Channel
from solver.parallel.clock import VirtualClock
from solver.parallel.comm import Communicator, SerialComm
from solver.parallel.layout import LayerLayout, Layout

__all__ = ["MGRIT"]


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
        self.levels = LevelStates(self.grid, layout, self.comm.rank, self.channel)
        self.points = self.levels.points
        self.steps = Steps(problem, self.clock, self.grid.n_levels)

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
        lv, steps = self.levels, self.steps
        lv.keep_all = store == "all"
        cfg, n_levels = self.config, self.n_levels
        steps.reset()
        sent0, values0, t0 = self.channel.messages_sent, self.channel.values_sent, self.clock.time
        cold = initial is None
        lv.load(initial, consume_initial, self.problem.init_state)
        initial = None
        history: list[float] = []
        iterations = 0
        status: Status = "max_iterations"
        final_pass = False
        if n_levels == 1:
            steps.phase = "final"
            with steps.final():
                sweep_f(lv, steps, 0)  # exact sequential propagation
            final_pass = True
            history.append(0.0)
            status = "converged"
        else:
            if cfg.skip_first_down and cold and cfg.max_iterations > 0:
                self._skip_down_cycle()
                iterations = 1
            while True:
                last = iterations >= cfg.max_iterations
                hooked = relax(lv, steps, 0, cfg.sweeps(0), cfg.c_weight, final=last)
                steps.phase = "final" if last else "residual"
                with_hook = last and steps.has_final and hooked
                with steps.final(with_hook):
                    res = residual(lv, steps, 0)
                rnorm = residual_norm(lv, res, cfg.norm)
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
                restrict(lv, steps, 0, res)
                res = {}  # folded into the coarse right-hand side; free it
                self._coarse_solve(1, cfg.cycle)
                correct(lv, steps, 0)
                iterations += 1
        self.channel.flush()
        lv.release_coarse()
        t_end = self.channel.allreduce(np.array([self.clock.time]), "max")[0]
        cost = MGRITCost(
            steps_per_level=tuple(steps.per_level),
            steps_by_phase={f"L{lev} {ph}": k for (lev, ph), k in sorted(steps.by_phase.items())},
            messages_sent=self.channel.messages_sent - sent0,
            values_sent=self.channel.values_sent - values0,
            modelled_time=float(t_end - t0),
        )
        return MGRITResult(
            status=status,
            message=MESSAGES[status],
            residual_history=np.asarray(history, dtype=np.float64),
            iterations=iterations,
            states=lv.u[0],
            cost=cost,
            n_levels=n_levels,
            final_pass=final_pass and steps.has_final,
        )

    def predecessor(self, states: States) -> np.ndarray | None:
        """Fine state just before this rank's first owned index (from its owner), or ``None``
        if this rank owns index 0.  Collective over the ranks (one message per boundary)."""
        return self.levels.predecessor(states)

    # ------------------------------------------------------------------ cycles
    def _coarse_solve(self, level: int, kind: str) -> None:
        """Solve on ``level``: exactly (sequential sweep) on the coarsest level; else by one
        V-cycle (``kind="V"``) or, for F-cycles, one F-cycle followed by one V-cycle."""
        if level == self.n_levels - 1:
            self.steps.phase = "coarse solve"
            sweep_f(self.levels, self.steps, level)
            return
        self._cycle(level, kind)
        if kind == "F":
            self._cycle(level, "V")

    def _cycle(self, level: int, kind: str) -> None:
        """One cycle on a non-coarsest ``level``: relax, restrict, coarse solve, correct."""
        lv, steps, cfg = self.levels, self.steps, self.config
        relax(lv, steps, level, cfg.sweeps(level), cfg.c_weight)
        steps.phase = "residual"
        res = residual(lv, steps, level)
        restrict(lv, steps, level, res)
        del res  # folded into the coarse right-hand side; free it before recursing
        self._coarse_solve(level + 1, kind)
        correct(lv, steps, level)

    def _skip_down_cycle(self) -> None:
        """First cycle from a cold start without down-cycle work: inject, solve, interpolate."""
        lv = self.levels
        for level in range(self.n_levels - 1):
            u = lv.u[level]
            lv.u[level + 1] = {t: u[t] for t in lv.points[level + 1]}
            lv.g[level + 1] = None
            lv.pre[level + 1] = False
        self.steps.phase = "coarse solve"
        sweep_f(lv, self.steps, self.n_levels - 1)
        for level in range(self.n_levels - 2, -1, -1):
            correct(lv, self.steps, level)
