"""Stateful optimiser interface on flat float64 vectors.

Checklist for a new optimiser (subclass :class:`Optimizer`):

1. implement ``_step_impl(x, f, g, value) -> StepInfo``; ``x`` and ``g`` are float64 of shape
   ``(n,)``, ``f`` and every entry of ``g`` are finite (checked by :meth:`Optimizer.step`);
2. implement ``_reset_impl()`` to forget all history;
3. never modify ``x`` or ``g`` in place; return a new ``x_new``.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from solver.errors import ConfigError
from solver.optim.config import OptimizerConfig

__all__ = ["Optimizer", "StepInfo", "ValueFn"]

ValueFn = Callable[[np.ndarray], float]
"""Objective only, ``value(x_try) -> float``; used by line searches."""


@dataclass(frozen=True)
class StepInfo:
    """Result of one optimiser step.

    Attributes:
        x_new: the new iterate, shape ``(n,)`` (equal to ``x`` when nothing was accepted and
            the step was rejected).
        step_size: the step length ``alpha`` used along the search direction (for a failed line
            search: the last trial step).
        ls_tries: number of backtracking reductions (0 = first trial accepted, as the
            reference code counts); 0 without a line search.
        accepted: ``False`` when the line search found no Armijo point or the input was not
            finite.
        n_value_evals: calls of ``value`` made during this step.
        value_new: objective at ``x_new`` when known from the line search, else NaN.
    """

    x_new: np.ndarray
    step_size: float
    ls_tries: int
    accepted: bool
    n_value_evals: int
    value_new: float = field(default=math.nan)


class Optimizer(abc.ABC):
    """Base class: ``step(x, f, g, value) -> StepInfo`` and ``reset()``."""

    def __init__(self, config: OptimizerConfig) -> None:
        self.config = config
        self.n_steps = 0
        self.n_failed_steps = 0

    @property
    def name(self) -> str:
        return self.config.name

    def step(self, x: np.ndarray, f: float, g: np.ndarray, value: ValueFn) -> StepInfo:
        """One step from ``x`` (shape ``(n,)``) with objective ``f`` and gradient ``g`` (``(n,)``).

        A non-finite ``f`` or ``g`` gives ``accepted=False`` and ``x_new = x`` (no update of the
        history), so a caller can detect divergence without the optimiser crashing.
        """
        x = np.asarray(x, dtype=np.float64)
        g = np.asarray(g, dtype=np.float64)
        if x.ndim != 1 or g.shape != x.shape:
            raise ConfigError(
                f"optimiser `step` needs flat vectors x and g of equal shape (n,); got "
                f"x.shape={x.shape}, g.shape={g.shape}. Pass Params.to_flat() vectors."
            )
        if not (math.isfinite(f) and np.all(np.isfinite(g))):
            return StepInfo(x.copy(), 0.0, 0, False, 0)
        info = self._step_impl(x, float(f), g, value)
        self.n_steps += 1
        self.n_failed_steps += not info.accepted
        return info

    def counters(self) -> dict[str, int]:
        """Event counts since the last :meth:`reset`: ``steps``, ``failed_steps`` (line searches
        without an Armijo point) and any optimiser-specific ``n_*`` counter (without ``n_``)."""
        out = {"steps": self.n_steps, "failed_steps": self.n_failed_steps}
        for key, val in vars(self).items():
            if key.startswith("n_") and key not in ("n_steps", "n_failed_steps"):
                out[key[2:]] = int(val)
        return out

    def reset(self) -> None:
        """Forget all history (momentum, moments, curvature pairs, step counters)."""
        self.n_steps = 0
        self.n_failed_steps = 0
        self._reset_impl()

    @abc.abstractmethod
    def _step_impl(self, x: np.ndarray, f: float, g: np.ndarray, value: ValueFn) -> StepInfo: ...

    @abc.abstractmethod
    def _reset_impl(self) -> None: ...
