"""Which rank owns which fine layer indices (integers only).

The fine grid has the N+1 layer states ``0..N`` (state ``n`` is the input of layer ``n``).
With fine coarsening factor ``m`` the fine C-points are ``0, m, 2m, ...`` (and ``N``), and the
``K = ceil(N/m)`` coarse intervals ``[k m, (k+1) m)`` are dealt out to P ranks in contiguous
blocks of whole intervals::

    rank r owns the intervals  floor(K r / P) <= k < floor(K (r+1) / P)
    i.e. the fine indices      lo_r <= n < hi_r,  lo_r = m floor(K r / P)

and the last rank also owns the final state ``N``.  Every rank therefore owns at least one fine
C-point; on coarser levels a rank may own no points at all, which the MGRIT engine handles.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Protocol

from solver.errors import ConfigError, ParallelError

__all__ = ["LayerLayout", "MirroredLayout", "Layout"]


class Layout(Protocol):
    """What the MGRIT engine needs from a partition of the indices ``0..n_layers``."""

    n_layers: int
    n_ranks: int

    def bounds(self, rank: int) -> tuple[int, int]: ...

    def owner(self, index: int) -> int: ...


@dataclass(frozen=True)
class LayerLayout:
    """Partition of fine indices ``0..n_layers`` over ``n_ranks`` in whole coarse intervals."""

    n_layers: int
    n_ranks: int
    coarsening_factor: int

    def __post_init__(self) -> None:
        if not (isinstance(self.n_layers, int) and self.n_layers >= 1):
            raise ConfigError(
                f"`n_layers` must be an integer >= 1; got {self.n_layers!r}. Fix: pass the number "
                "of hidden layers."
            )
        if not (isinstance(self.coarsening_factor, int) and self.coarsening_factor >= 1):
            raise ConfigError(
                f"`coarsening_factor` must be an integer >= 1; got {self.coarsening_factor!r}."
            )
        if not (isinstance(self.n_ranks, int) and self.n_ranks >= 1):
            raise ParallelError(f"`n_ranks` must be an integer >= 1; got {self.n_ranks!r}.")
        if self.n_ranks > self.n_intervals:
            raise ParallelError(
                f"more ranks than coarse intervals: n_ranks={self.n_ranks}, n_layers="
                f"{self.n_layers}, fine coarsening factor={self.coarsening_factor} gives "
                f"{self.n_intervals} intervals. Fix: use at most {self.n_intervals} ranks, more "
                "layers, or a smaller fine coarsening factor."
            )

    @property
    def n_intervals(self) -> int:
        """Number of fine coarse intervals ``K = ceil(N / m)``."""
        return -(-self.n_layers // self.coarsening_factor)

    @property
    def lowers(self) -> tuple[int, ...]:
        """First owned fine index of every rank (length ``n_ranks``)."""
        k, p, m = self.n_intervals, self.n_ranks, self.coarsening_factor
        return tuple(min(m * ((k * r) // p), self.n_layers) for r in range(p))

    def bounds(self, rank: int) -> tuple[int, int]:
        """Half-open range ``(lo, hi)`` of fine indices of ``rank`` (last rank: ``hi=N+1``)."""
        if not 0 <= rank < self.n_ranks:
            raise ParallelError(f"`rank` must be in [0, {self.n_ranks}); got {rank}.")
        lowers = self.lowers
        hi = lowers[rank + 1] if rank + 1 < self.n_ranks else self.n_layers + 1
        return lowers[rank], hi

    def owner(self, index: int) -> int:
        """Rank owning fine index ``index`` (``0 <= index <= N``)."""
        if not 0 <= index <= self.n_layers:
            raise ParallelError(f"fine index must be in [0, {self.n_layers}]; got {index}.")
        return bisect.bisect_right(self.lowers, index) - 1

    def owned(self, rank: int) -> range:
        """The fine indices owned by ``rank``."""
        lo, hi = self.bounds(rank)
        return range(lo, hi)


@dataclass(frozen=True)
class MirroredLayout:
    """The partition of the reversed index ``a = N - n`` that keeps every index on its rank.

    Used for the adjoint, which runs backwards in layers: rank ``r`` owns adjoint index ``a``
    exactly when it owns layer state ``n = N - a`` in ``base``, i.e. the adjoint indices
    ``N - hi_r < a <= N - lo_r``; so the forward states an adjoint step needs are local.
    """

    base: LayerLayout

    @property
    def n_layers(self) -> int:
        return self.base.n_layers

    @property
    def n_ranks(self) -> int:
        return self.base.n_ranks

    def bounds(self, rank: int) -> tuple[int, int]:
        """Half-open range ``(lo, hi)`` of adjoint indices of ``rank``."""
        lo, hi = self.base.bounds(rank)
        n = self.base.n_layers
        return n - hi + 1, n - lo + 1

    def owner(self, index: int) -> int:
        """Rank owning adjoint index ``index`` (``0 <= index <= N``)."""
        return self.base.owner(self.base.n_layers - index)
