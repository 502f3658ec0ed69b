"""`ParallelConfig`: how the ResNet is propagated layer-parallel (MGRIT settings + one-shot).

``ParallelConfig(mgrit=MGRITConfig(...), one_shot=..., ...)`` composes the settings of one
MGRIT solve (:class:`~solver.mgrit.MGRITConfig`) with what only training needs (one-shot
iteration counts, warm-up, stored activations, the modelled clock).  The default ``mgrit`` is
:data:`REFERENCE_MGRIT`, the reference code's settings, spelled out field by field;
:func:`reference_mgrit` changes some of them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from solver.errors import ConfigError
from solver.mgrit.config import MGRITConfig
from solver.parallel.clock import CostModel

__all__ = ["ParallelConfig", "REFERENCE_MGRIT", "reference_mgrit"]

REFERENCE_MGRIT = MGRITConfig(
    max_levels=10,
    coarsening_factor=2,
    coarsening_factor_fine=None,
    min_coarse_size=10,
    cycle="V",
    nrelax=1,  # FCF on coarse levels
    nrelax_fine=0,  # F-relaxation on the finest level
    c_weight=1.0,
    max_iterations=50,
    abs_tol=1e-10,
    rel_tol=0.0,
    norm="l2",
    skip_first_down=False,
)
"""The reference code's MGRIT settings for layer-parallel training: coarsening factor 2, up to
10 levels, coarse grids of at least 10 intervals, F-relaxation on the finest level and FCF on
coarse levels, V-cycles; a solve to tolerance stops at an absolute residual of 1e-10 or after
50 cycles (one-shot solves replace both by a fixed cycle count)."""


def reference_mgrit(**changes: Any) -> MGRITConfig:
    """:data:`REFERENCE_MGRIT` with ``changes`` (``MGRITConfig`` field names)."""
    try:
        return replace(REFERENCE_MGRIT, **changes)
    except TypeError as err:
        names = ", ".join(f.name for f in dataclasses.fields(MGRITConfig))
        raise ConfigError(f"reference_mgrit: {err}. Fix: use one of {names}.") from None


@dataclass(frozen=True)
class ParallelConfig:
    """Layer-parallel propagation of the ResNet by MGRIT (forward and adjoint).

    mgrit: the settings of every MGRIT solve (default :data:`REFERENCE_MGRIT`); its
        ``coarsening_factor_fine="ranks"`` means ``max(2, N // P)`` for ``N`` layers on ``P``
        ranks (one fine coarse interval per rank; on one rank a single level, i.e. exact
        serial propagation), resolved by :meth:`for_ranks`.  Solves to tolerance use its
        ``abs_tol`` / ``rel_tol`` / ``max_iterations``.
    one_shot: ``True`` = simultaneous (inexact) mode: every optimisation step runs exactly
        ``fwd_iterations`` forward and ``bwd_iterations`` adjoint cycles warm-started from the
        previous step (``warmup_iterations`` during the first ``warmup_steps`` steps);
        ``False`` = iterate each solve to the tolerance of ``mgrit``.
    store_activations: keep the forward activations ``S_n = sigma(Y_n K_n^T + b_n)`` of the
        forward solve's final pass (one-shot mode) for the adjoint, whose steps then never
        evaluate ``sigma`` (about half the adjoint's time) at the price of one more array of
        ``N/P x batch x width`` floats per rank during the adjoint solve.
    latency: modelled message latency added by the virtual clock (units of ``cost``).
    cost: ``"measured"`` (seconds per step, the default) or ``"unit"`` (1 per layer step).
    """

    mgrit: MGRITConfig = REFERENCE_MGRIT
    one_shot: bool = False
    fwd_iterations: int = 2
    bwd_iterations: int = 2
    warmup_steps: int = 3
    warmup_iterations: int = 10
    store_activations: bool = True
    latency: float = 0.0
    cost: CostModel = "measured"

    def __post_init__(self) -> None:
        if not isinstance(self.mgrit, MGRITConfig):
            raise ConfigError(
                f"`mgrit` must be an MGRITConfig; got {self.mgrit!r}. "
                "Fix: use solver.mgrit.reference_mgrit(...) or MGRITConfig(...)."
            )
        for name in ("fwd_iterations", "bwd_iterations", "warmup_iterations"):
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
        if self.mgrit.abs_tol == 0.0 and self.mgrit.rel_tol == 0.0:
            raise ConfigError(
                "solves to tolerance (exact mode, validation scores) need `mgrit.abs_tol` or "
                "`mgrit.rel_tol` > 0; got both 0. Fix: use abs_tol=1e-10."
            )
        if not (math.isfinite(self.latency) and self.latency >= 0):
            raise ConfigError(f"`latency` must be a finite number >= 0; got {self.latency!r}.")
        if self.cost not in ("measured", "unit"):
            raise ConfigError(f"`cost` must be 'measured' or 'unit'; got {self.cost!r}.")

    # ------------------------------------------------------------------ flat options
    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """Names accepted by :meth:`from_options`: this class's fields except ``mgrit``, then
        the :class:`MGRITConfig` fields."""
        own = tuple(f.name for f in dataclasses.fields(cls) if f.name != "mgrit")
        return own + tuple(f.name for f in dataclasses.fields(MGRITConfig)) + ("tolerance",)

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None = None, **more: Any) -> ParallelConfig:
        """Build from one flat table (a study file's ``[training.parallel]``, CLI options):
        :class:`MGRITConfig` field names change :data:`REFERENCE_MGRIT`, the others are this
        class's fields; ``tolerance`` (the study files' name) is ``abs_tol``."""
        merged = {**(options or {}), **more}
        if "tolerance" in merged:
            if "abs_tol" in merged:
                raise ConfigError(
                    "give `tolerance` or `abs_tol`, not both (they are the same setting); got "
                    f"tolerance={merged['tolerance']!r}, abs_tol={merged['abs_tol']!r}."
                )
            merged["abs_tol"] = merged.pop("tolerance")
        mgrit_names = {f.name for f in dataclasses.fields(MGRITConfig)}
        unknown = sorted(set(merged) - set(cls.option_names()))
        if unknown:
            raise ConfigError(
                f"unknown parallel option(s) {', '.join(unknown)}. "
                f"Fix: use one of {', '.join(cls.option_names())}."
            )
        mgrit = reference_mgrit(**{k: v for k, v in merged.items() if k in mgrit_names})
        return cls(mgrit=mgrit, **{k: v for k, v in merged.items() if k not in mgrit_names})

    # ------------------------------------------------------------------ derived settings
    @property
    def fine_factor(self) -> int:
        """Coarsening factor of the finest level (ranks own whole blocks of it)."""
        return self.mgrit.fine_factor

    def for_ranks(self, n_layers: int, n_ranks: int) -> ParallelConfig:
        """These settings with ``mgrit.coarsening_factor_fine="ranks"`` resolved to
        ``max(2, n_layers // n_ranks)`` (unchanged otherwise)."""
        resolved = self.mgrit.for_ranks(n_layers, n_ranks)
        return self if resolved is self.mgrit else replace(self, mgrit=resolved)

    def solve_config(
        self, direction: Literal["forward", "adjoint"], step: int | None
    ) -> MGRITConfig:
        """Settings of the ``direction`` solve in optimisation step ``step`` (0-based):
        ``mgrit`` itself when iterating to tolerance (``one_shot=False`` or ``step=None``),
        else ``mgrit`` with a fixed cycle count (no tolerance)."""
        if not self.one_shot or step is None:
            return self.mgrit
        if step < self.warmup_steps:
            n = self.warmup_iterations
        else:
            n = self.fwd_iterations if direction == "forward" else self.bwd_iterations
        return replace(self.mgrit, max_iterations=n, abs_tol=0.0, rel_tol=0.0)
