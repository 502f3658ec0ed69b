"""`Steps`: the problem's level step ``Phi_l``, timed and counted by level and phase.

Every propagator call of an MGRIT solve goes through :meth:`Steps.phi`, which

* evaluates ``problem.step(u, i, j, level)`` on the rank's virtual clock, or, while the
  final-pass hook is active (:meth:`Steps.final`) and ``level == 0``,
  ``problem.final_step(u, i, j)``;
* adds one to ``per_level[level]`` and to ``by_phase[(level, phase)]``, where ``phase`` is a
  label set by the caller before a sweep (``"F-relax"``, ``"C-relax"``, ``"final"``,
  ``"residual"``, ``"restrict"``, ``"correct F"``, ``"coarse solve"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from solver.mgrit.problem import Propagator
from solver.parallel.clock import VirtualClock

__all__ = ["Steps"]


class Steps:
    """Counted evaluation of ``Phi_l`` for one problem on one rank.

    ``per_level[l]``: calls on level ``l``; ``by_phase[(l, phase)]``: the same calls split by
    phase.  :meth:`reset` clears both at the start of a solve.
    """

    def __init__(self, problem: Propagator, clock: VirtualClock, n_levels: int) -> None:
        self.problem = problem
        self.clock = clock
        self.final_step = getattr(problem, "final_step", None)
        self.phase = "F-relax"
        self.per_level = [0] * n_levels
        self.by_phase: dict[tuple[int, str], int] = {}
        self._final_active = False

    @property
    def has_final(self) -> bool:
        """Whether the problem defines the optional ``final_step`` hook."""
        return self.final_step is not None

    def reset(self) -> None:
        """Zero the counters (the phase label is kept)."""
        self.per_level = [0] * len(self.per_level)
        self.by_phase = {}

    def phi(self, level: int, u: np.ndarray, i: int, j: int) -> np.ndarray:
        """``Phi_level(u)`` from fine index ``i`` to ``j`` (a new array, same shape as ``u``)."""
        self.per_level[level] += 1
        key = (level, self.phase)
        self.by_phase[key] = self.by_phase.get(key, 0) + 1
        if self._final_active and level == 0:
            return self.clock.call(self.final_step, u, i, j)
        return self.clock.call(self.problem.step, u, i, j, level)

    @contextmanager
    def final(self, enabled: bool = True) -> Iterator[None]:
        """Within the block, level-0 steps call ``problem.final_step`` (if ``enabled`` and the
        problem has it) instead of ``step``."""
        self._final_active = enabled and self.has_final
        try:
            yield
        finally:
            self._final_active = False
