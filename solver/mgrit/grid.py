"""The MGRIT level hierarchy over integer fine layer indices.

Level ``l`` consists of the fine indices that are multiples of the stride ``M_l``
(``M_0 = 1``, ``M_{l+1} = m_l M_l``) and the final index ``N``; the last interval of a level
may be shorter than ``M_l`` when ``M_l`` does not divide ``N``.  A level-``l`` point is a
C-point if it is also a level-``l+1`` point; on the coarsest level every point but 0 is
treated as an F-point, so an F-sweep there is the exact sequential solve.
"""

from __future__ import annotations

from dataclasses import dataclass

from solver.errors import ConfigError
from solver.mgrit.config import MGRITConfig

__all__ = ["LevelGrid"]


@dataclass(frozen=True)
class LevelGrid:
    """Strides ``M_0 = 1 < M_1 < ...`` of the levels over fine indices ``0..n_layers``."""

    n_layers: int
    strides: tuple[int, ...]

    @classmethod
    def build(cls, n_layers: int, config: MGRITConfig) -> LevelGrid:
        """Coarsen while ``len < max_levels`` and the next level keeps ``>= min_coarse_size``
        intervals (and fewer than the current level)."""
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 1:
            raise ConfigError(f"`n_layers` must be an integer >= 1; got {n_layers!r}.")
        strides = [1]
        while len(strides) < config.max_levels:
            nxt = strides[-1] * config.factor(len(strides) - 1)
            n_now, n_next = -(-n_layers // strides[-1]), -(-n_layers // nxt)
            if n_next < config.min_coarse_size or n_next >= n_now:
                break
            strides.append(nxt)
        return cls(n_layers, tuple(strides))

    @property
    def n_levels(self) -> int:
        return len(self.strides)

    def n_intervals(self, level: int) -> int:
        """Number of intervals (steps) on ``level``: ``ceil(N / M_l)``."""
        return -(-self.n_layers // self.strides[level])

    def points(self, level: int, lo: int, hi: int) -> list[int]:
        """Level points in the half-open fine range ``[lo, hi)``, ascending."""
        m, n = self.strides[level], self.n_layers
        first = -(-lo // m) * m
        out = list(range(first, min(hi, n), m))
        if lo <= n < hi:
            out.append(n)
        return out

    def pred(self, level: int, index: int) -> int:
        """The level point before ``index`` (``index > 0`` a level point)."""
        m = self.strides[level]
        return ((index - 1) // m) * m

    def succ(self, level: int, index: int) -> int:
        """The level point after ``index`` (``index < N`` a level point)."""
        return min(index + self.strides[level], self.n_layers)

    def is_c(self, level: int, index: int) -> bool:
        """Whether level point ``index`` is also a point of ``level + 1`` (a C-point)."""
        if level + 1 >= self.n_levels:
            return index == 0
        return index % self.strides[level + 1] == 0 or index == self.n_layers
