"""Nested iteration: multilevel initialisation in the layer dimension (Cyr, Guenther, Schroder).

A schedule of layer counts ``N_0 < N_1 < ... < N_L = config.n_layers`` (each an integer
multiple ``r_l = N_{l+1} / N_l >= 2`` of the one before) is trained coarse to fine::

    theta_0 = init(N_0)
    for l = 0..L:
        theta_l = optimize(network N_l, from theta_l)          # rows marked level=l, n_layers=N_l
        if l < L: theta_{l+1} = refine(theta_l, r_l, interpolation)

``config`` is the *final* network. With ``interpolation="constant"`` or ``"linear"`` the final
time ``T`` is the same on every level (``h_l = T / N_l`` shrinks by ``r_l``); with ``"zero"``
the step ``h`` is the same on every level and level ``l`` has ``T_l = T N_l / N_L`` (new zero
layers keep the network function; see :mod:`solver.strategies.interpolation`).

Per-level budget: coarse levels run at most ``level_iterations`` iterations and end early
once the training accuracy reaches ``level_tolerance``; the final level runs with the stop
rules of ``ctx.stop``. The optimiser state is rebuilt on every level. A coarse level that
reaches ``stop.target_accuracy`` moves on to the next level (only the final network ends the
run with ``"target_reached"``); a diverged, stopped or out-of-time level ends the run.
Cost counters (``cost``: layer steps times samples, cumulative) make levels comparable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from solver.config import NetworkConfig
from solver.errors import ConfigError, ParallelError
from solver.loop import (
    Controls,
    LevelOutcome,
    PlainControls,
    TrainingContext,
    TrainResult,
    make_result,
    optimize,
)
from solver.params import Params
from solver.strategies.base import register
from solver.strategies.interpolation import Interpolation, check_interpolation, refine_params
from solver.strategies.random import initial_params

if TYPE_CHECKING:
    from solver.mgrit import ParallelConfig

__all__ = [
    "NestedIteration",
    "resolve_schedule",
    "check_parallel_schedule",
    "run_levels",
    "LevelState",
    "per_level",
    "inherited_mask",
]

_ENDING = ("diverged", "stopped", "time_budget")


@dataclass
class LevelState:
    """One level's network, its controls and design vector (and frozen entries, if any)."""

    config: NetworkConfig
    controls: Controls
    theta: np.ndarray
    fixed_mask: np.ndarray | None = None


def per_level(name: str, value: object, n: int) -> list:
    if isinstance(value, Sequence) and not isinstance(value, str):
        if len(value) != n:
            raise ConfigError(
                f"`{name}` must have one entry per coarse level ({n}); got {list(value)!r}. "
                f"Give a single value or {n} values."
            )
        return list(value)
    return [value] * n


def resolve_schedule(
    n_final: int,
    *,
    layers: Sequence[int] | None = None,
    coarse_layers: int | None = None,
    factor: int = 2,
    n_levels: int = 3,
) -> tuple[int, ...]:
    """The layer counts of every level, coarse to fine, ending with ``n_final``.

    Either an explicit ``layers`` list, or ``n_levels`` levels with refinement ``factor``
    ending at ``n_final`` (``coarse_layers``, if given, must then equal
    ``n_final / factor^(n_levels-1)``).
    """
    if layers is not None:
        sched = tuple(layers)
        if not sched or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in sched):
            raise ConfigError(
                f"`layers` must be a non-empty list of positive integers; got {layers!r}."
            )
    else:
        if isinstance(factor, bool) or not isinstance(factor, int) or factor < 2:
            raise ConfigError(f"`factor` must be an integer >= 2; got factor={factor!r}.")
        if isinstance(n_levels, bool) or not isinstance(n_levels, int) or n_levels < 1:
            raise ConfigError(f"`n_levels` must be an integer >= 1; got n_levels={n_levels!r}.")
        div = factor ** (n_levels - 1)
        if n_final % div:
            raise ConfigError(
                f"`n_levels`={n_levels} levels with `factor`={factor} need n_layers divisible by "
                f"{div}; got n_layers={n_final}. Use n_layers={max(1, n_final // div) * div} "
                "or fewer levels."
            )
        sched = tuple(n_final // factor ** (n_levels - 1 - k) for k in range(n_levels))
        if coarse_layers is not None and coarse_layers != sched[0]:
            raise ConfigError(
                f"`coarse_layers`={coarse_layers} does not match n_layers={n_final}, "
                f"factor={factor}, n_levels={n_levels} (coarsest level {sched[0]}). Give "
                "`layers=[...]` explicitly or make them consistent."
            )
    if sched[-1] != n_final:
        raise ConfigError(
            f"the last entry of the nested-iteration schedule must equal the final network's "
            f"n_layers={n_final}; got layers={list(sched)}. Append {n_final} or change the config."
        )
    for a, b in zip(sched, sched[1:], strict=False):
        if b <= a or b % a:
            raise ConfigError(
                f"each level of the schedule must be an integer multiple >= 2 of the one before; "
                f"got {a} -> {b} in layers={list(sched)}. Use e.g. "
                f"{[n_final // 2 ** (len(sched) - 1 - k) for k in range(len(sched))]}."
            )
    return sched


def _mgrit_shape(parallel: ParallelConfig, comm: object) -> tuple[int, int]:
    """(fine coarsening factor, number of ranks) of a ``ParallelConfig`` and communicator."""
    n_ranks = int(getattr(comm, "size", 1) or 1) if comm is not None else 1
    mgrit = parallel.mgrit
    if mgrit.coarsening_factor_fine == "ranks":
        # resolves to max(2, N // P) per depth: fits exactly when factor 2 fits
        return 2, n_ranks
    return mgrit.fine_factor, n_ranks


def _fits(n_layers: int, m: int, n_ranks: int) -> str | None:
    """Why ``n_layers`` does not fit the MGRIT layer layout, or ``None`` if it fits."""
    from solver.parallel.layout import LayerLayout

    try:
        LayerLayout(n_layers=n_layers, n_ranks=n_ranks, coarsening_factor=m)
    except (ParallelError, ConfigError):
        return (
            f"n_layers={n_layers} with fine coarsening factor {m} gives "
            f"{-(-n_layers // m)} coarse intervals, fewer than the {n_ranks} ranks"
        )
    return None


def check_parallel_schedule(schedule: Sequence[int], parallel: object, comm: object) -> None:
    """Raise :class:`ConfigError` if a level's layer count does not fit the MGRIT layout.

    The rule is that of :class:`solver.parallel.layout.LayerLayout` (the partition the MGRIT
    propagation uses): every rank owns at least one whole fine coarse interval, i.e.
    ``ceil(N_l / m) >= ranks`` on every level ``l`` (``m``: fine coarsening factor).
    """
    if parallel is None:
        return
    m, p = _mgrit_shape(parallel, comm)
    for level, n in enumerate(schedule):
        why = _fits(n, m, p)
        if why is not None:
            good = [k for k in schedule if _fits(k, m, p) is None]
            fix = (
                f"use layers={good}"
                if good and good[-1] == schedule[-1]
                else f"use a final depth of at least {m * (p - 1) + 1} layers"
            )
            raise ConfigError(
                f"nested-iteration level {level} does not fit layer-parallel MGRIT: {why}. "
                f"Every level needs at least {m * (p - 1) + 1} layers ({p} ranks, fine "
                f"coarsening factor {m}); {fix}, fewer ranks, or a smaller fine coarsening "
                "factor."
            )


def run_levels(
    ctx: TrainingContext,
    start: LevelState,
    refine: Callable[[int, LevelState], LevelState],
    *,
    n_levels: int,
    level_iterations: Sequence[int],
    level_tolerance: Sequence[float | None],
) -> tuple[LevelState, LevelOutcome, list[dict]]:
    """Train ``n_levels`` levels; ``refine(l, state_l)`` builds level ``l+1`` from level ``l``.

    Returns the last trained level, its outcome and one summary dict per level.
    """
    state = start
    summary: list[dict] = []
    outcome: LevelOutcome | None = None
    for level in range(n_levels):
        last = level == n_levels - 1
        outcome = optimize(
            ctx,
            state.config,
            state.controls,
            state.theta,
            max_iterations=ctx.stop.max_iterations if last else level_iterations[level],
            level=level,
            level_train_tolerance=None if last else level_tolerance[level],
            fixed_mask=state.fixed_mask,
        )
        summary.append(
            {
                "level": level,
                "n_layers": state.config.n_layers,
                "t_final": state.config.t_final,
                "iterations": outcome.iterations,
                "status": outcome.status,
                "message": outcome.message,
                "n_params": state.controls.size,
                "cost": ctx.cost,
                **{f"final_{k}": v for k, v in outcome.final.items()},
            }
        )
        state.theta = outcome.theta
        if last or outcome.status in _ENDING:
            break
        state = refine(level, state)
    assert outcome is not None
    return state, outcome, summary


def inherited_mask(config: NetworkConfig, factor: int) -> np.ndarray:
    """Boolean mask of the flat design vector: hidden layers ``r j`` (inherited) are True."""
    marker = Params.from_flat(config, np.zeros(config.n_params))
    marker.K[::factor] = 1.0
    marker.b[::factor] = 1.0
    return marker.to_flat() > 0


@register
@dataclass(frozen=True)
class NestedIteration:
    """Nested iteration over a refinement schedule (see the module docstring).

    Attributes:
        layers: explicit schedule of layer counts, coarse to fine, ending at ``n_layers``.
        factor, n_levels: otherwise ``n_levels`` levels, refinement ``factor`` per level.
        coarse_layers: optional consistency check of the coarsest level.
        interpolation: ``"linear"``, ``"constant"`` or ``"zero"``.
        level_iterations: iteration cap of each coarse level (one value or one per level).
        level_tolerance: training accuracy that ends a coarse level early (``None``: never).
        freeze_inherited: freeze the inherited layers ``r j`` for the level after a refinement.
    """

    name = "nested"
    layers: tuple[int, ...] | None = None
    coarse_layers: int | None = None
    factor: int = 2
    n_levels: int = 3
    interpolation: Interpolation = "linear"
    level_iterations: int | tuple[int, ...] = 100
    level_tolerance: float | tuple[float | None, ...] | None = None
    freeze_inherited: bool = False

    def schedule(self, config: NetworkConfig) -> tuple[int, ...]:
        return resolve_schedule(
            config.n_layers,
            layers=self.layers,
            coarse_layers=self.coarse_layers,
            factor=self.factor,
            n_levels=self.n_levels,
        )

    def validate(
        self, config: NetworkConfig
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[float | None, ...]]:
        """Check every option against ``config`` before training (raises :class:`ConfigError`);
        returns the schedule and the per-level iteration budgets and tolerances."""
        check_interpolation(self.interpolation, config.activation)
        sched = self.schedule(config)
        n_coarse = len(sched) - 1
        iters = per_level("level_iterations", self.level_iterations, n_coarse)
        tols = per_level("level_tolerance", self.level_tolerance, n_coarse)
        for it in iters:
            if isinstance(it, bool) or not isinstance(it, int) or it < 0:
                raise ConfigError(f"`level_iterations` must be integers >= 0; got {iters!r}.")
        for tol in tols:
            if tol is not None and not 0 < tol <= 1:
                raise ConfigError(
                    f"`level_tolerance` must be None or fractions in (0, 1]; got {tols!r}."
                )
        return sched, iters, tols

    def run(self, ctx: TrainingContext, config: NetworkConfig) -> TrainResult:
        sched, iters, tols = self.validate(config)
        check_parallel_schedule(sched, ctx.parallel, ctx.comm)

        def t_final(level: int) -> float:
            if self.interpolation != "zero" or level == len(sched) - 1:
                return config.t_final
            return config.t_final * sched[level] / sched[-1]

        coarse = config.with_layers(sched[0], t_final=t_final(0))
        if isinstance(ctx.init, Params) and ctx.init.n_layers != sched[0]:
            raise ConfigError(
                f"nested iteration starts from the coarsest level (n_layers={sched[0]}); the "
                f"initial Params have {ctx.init.n_layers} layers. Pass Params for "
                f"{sched[0]} layers or an InitConfig."
            )
        theta = initial_params(ctx, coarse).to_flat()
        start = LevelState(coarse, PlainControls(coarse), theta)

        def refine(level: int, state: LevelState) -> LevelState:
            r = sched[level + 1] // sched[level]
            params, _ = state.controls.params(state.theta)
            fine_config, fine = refine_params(state.config, params, r, self.interpolation)
            fine_config = fine_config.with_layers(sched[level + 1], t_final=t_final(level + 1))
            mask = inherited_mask(fine_config, r) if self.freeze_inherited else None
            return LevelState(fine_config, PlainControls(fine_config), fine.to_flat(), mask)

        state, outcome, summary = run_levels(
            ctx,
            start,
            refine,
            n_levels=len(sched),
            level_iterations=iters,
            level_tolerance=tols,
        )
        extras = {"schedule": sched, "levels": summary, "interpolation": self.interpolation}
        return make_result(ctx, state.config, state.controls, outcome, extras)
