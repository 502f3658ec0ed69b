"""`ParallelConfig`: how the ResNet is propagated layer-parallel (MGRIT settings + one-shot)."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from solver.errors import ConfigError
from solver.mgrit.config import CycleType, MGRITConfig, TemporalNorm
from solver.parallel.clock import CostModel

__all__ = ["ParallelConfig"]


@dataclass(frozen=True)
class ParallelConfig:
    """Layer-parallel propagation of the ResNet by MGRIT (forward and adjoint).

    MGRIT fields mean what they mean in :class:`~solver.mgrit.MGRITConfig`; the defaults are
    the reference settings (coarsening factor 2, up to 10 levels, coarse grids of at least 10
    intervals, F-relaxation on the finest level, FCF on coarse levels, V-cycles).

    coarsening_factor_fine: an integer, ``None`` (= ``coarsening_factor``) or ``"ranks"``:
        ``max(2, N // P)`` for ``N`` layers on ``P`` ranks, i.e. one fine coarse interval per
        rank (the reference code's usual choice); on one rank this leaves one level, i.e. exact
        serial propagation.  Resolved by :meth:`for_ranks`.

    one_shot: ``True`` = simultaneous (inexact) mode: every optimisation step runs exactly
        ``fwd_iterations`` forward and ``bwd_iterations`` adjoint cycles warm-started from the
        previous step (``warmup_iterations`` during the first ``warmup_steps`` steps);
        ``False`` = iterate each solve to ``tolerance`` (at most ``max_iterations`` cycles).
    store_activations: keep the forward activations ``S_n = sigma(Y_n K_n^T + b_n)`` of the
        forward solve's final pass (one-shot mode) for the adjoint, whose steps then never
        evaluate ``sigma`` (about half the adjoint's time) at the price of one more array of
        ``N/P x batch x width`` floats per rank during the adjoint solve.
    latency: modelled message latency added by the virtual clock (units of ``cost``).
    cost: ``"measured"`` (seconds per step, the default) or ``"unit"`` (1 per layer step).
    """

    max_levels: int = 10
    coarsening_factor: int = 2
    coarsening_factor_fine: int | Literal["ranks"] | None = None
    min_coarse_size: int = 10
    cycle: CycleType = "V"
    nrelax: int = 1
    nrelax_fine: int = 0
    c_weight: float = 1.0
    norm: TemporalNorm = "l2"
    skip_first_down: bool = False
    one_shot: bool = False
    fwd_iterations: int = 2
    bwd_iterations: int = 2
    warmup_steps: int = 3
    warmup_iterations: int = 10
    tolerance: float = 1e-10
    max_iterations: int = 50
    store_activations: bool = True
    latency: float = 0.0
    cost: CostModel = "measured"

    def __post_init__(self) -> None:
        self.mgrit(iterations=1)  # validates the MGRIT fields with MGRITConfig's messages
        for name in ("fwd_iterations", "bwd_iterations", "warmup_iterations", "max_iterations"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"`{name}` must be an integer >= 1; got {value!r}. Fix: use e.g. 2."
                )
        if (
            isinstance(self.warmup_steps, bool)
            or not isinstance(self.warmup_steps, int)
            or (self.warmup_steps < 0)
        ):
            raise ConfigError(f"`warmup_steps` must be an integer >= 0; got {self.warmup_steps!r}.")
        if not isinstance(self.store_activations, bool):
            raise ConfigError(
                f"`store_activations` must be a bool; got {self.store_activations!r}."
            )
        if not isinstance(self.one_shot, bool):
            raise ConfigError(f"`one_shot` must be a bool; got {self.one_shot!r}.")
        if not (math.isfinite(self.tolerance) and self.tolerance > 0):
            raise ConfigError(
                f"`tolerance` must be a finite number > 0; got {self.tolerance!r}. Fix: use 1e-10."
            )
        if not (math.isfinite(self.latency) and self.latency >= 0):
            raise ConfigError(f"`latency` must be a finite number >= 0; got {self.latency!r}.")
        if self.cost not in ("measured", "unit"):
            raise ConfigError(f"`cost` must be 'measured' or 'unit'; got {self.cost!r}.")

    @property
    def fine_factor(self) -> int:
        """Coarsening factor of the finest level (ranks own whole blocks of it)."""
        if self.coarsening_factor_fine == "ranks":
            raise ConfigError(
                "`coarsening_factor_fine='ranks'` depends on the depth and the number of ranks. "
                "Fix: call `for_ranks(n_layers, n_ranks)` first."
            )
        return self.coarsening_factor_fine or self.coarsening_factor

    def for_ranks(self, n_layers: int, n_ranks: int) -> ParallelConfig:
        """These settings with ``coarsening_factor_fine="ranks"`` resolved to
        ``max(2, n_layers // n_ranks)`` (unchanged otherwise)."""
        if self.coarsening_factor_fine != "ranks":
            return self
        return replace(self, coarsening_factor_fine=max(2, n_layers // max(n_ranks, 1)))

    def mgrit(self, *, iterations: int | None = None) -> MGRITConfig:
        """The :class:`MGRITConfig` of one solve: a fixed number of ``iterations`` (one-shot)
        or, with ``None``, up to ``max_iterations`` cycles until the residual is below
        ``tolerance``."""
        fixed = iterations is not None
        fine = self.coarsening_factor_fine
        if fine == "ranks":
            if not fixed or iterations != 1:
                _ = self.fine_factor  # raises: unresolved
            fine = None  # validation only
        return MGRITConfig(
            max_levels=self.max_levels,
            coarsening_factor=self.coarsening_factor,
            coarsening_factor_fine=fine,
            min_coarse_size=self.min_coarse_size,
            cycle=self.cycle,
            nrelax=self.nrelax,
            nrelax_fine=self.nrelax_fine,
            c_weight=self.c_weight,
            max_iterations=iterations if fixed else self.max_iterations,
            abs_tol=0.0 if fixed else self.tolerance,
            norm=self.norm,
            skip_first_down=self.skip_first_down,
        )

    def solve_config(self, direction: Literal["forward", "adjoint"], step: int) -> MGRITConfig:
        """Settings of the ``direction`` solve in optimisation step ``step`` (0-based)."""
        if not self.one_shot:
            return self.mgrit()
        if step < self.warmup_steps:
            return self.mgrit(iterations=self.warmup_iterations)
        n = self.fwd_iterations if direction == "forward" else self.bwd_iterations
        return self.mgrit(iterations=n)
