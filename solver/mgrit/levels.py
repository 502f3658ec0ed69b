"""`LevelStates`: one rank's MGRIT states on every level and their exchange with neighbours.

Level ``l`` holds, for this rank's points of that level (``grid.points(l, lo, hi)``),

* ``u[l]``: the states ``{index: array}`` (shape ``shape``), never modified in place, so
  levels share arrays instead of copying them;
* ``g[l]``: the FAS right-hand side ``{index: array}`` (``None`` on level 0 and after a
  correction, meaning ``g = 0``);
* ``fresh[l]``: the F-points were just relaxed (a relaxation may skip its first F-sweep);
* ``pre[l]``: the restriction already computed the F-points after a coarse C-point.

The only messages are single boundary states: :meth:`post_recv` receives the predecessor of
this rank's first point of a level, :meth:`send_last` sends this rank's last point to the owner
of the next one; both evaluate the same ``needs`` predicate on global indices, so a message is
sent exactly when it is expected.  Message tags (one per kind of sweep) are the ``TAG_*``
constants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from solver.errors import ConfigError
from solver.mgrit.grid import LevelGrid
from solver.parallel.channel import Channel, PendingState
from solver.parallel.layout import Layout

__all__ = [
    "LevelStates",
    "Needs",
    "States",
    "always",
    "TAG_F",
    "TAG_C",
    "TAG_RES",
    "TAG_TAU",
    "TAG_PRED",
]

TAG_F, TAG_C, TAG_RES, TAG_TAU, TAG_PRED = 11, 12, 13, 14, 15

States = dict[int, np.ndarray]
Needs = Callable[[int], bool]


def always(_: int) -> bool:
    """The predicate that holds for every index."""
    return True


def _floating(a: np.ndarray) -> np.ndarray:
    """``a`` as a float32 or float64 array (states keep their precision; others -> float64)."""
    a = np.asarray(a)
    return a if a.dtype in (np.float32, np.float64) else a.astype(np.float64)


class LevelStates:
    """States, right-hand sides and flags of every level on rank ``rank`` of ``layout``.

    ``points[l]``: this rank's level-``l`` indices (ascending); ``c_slot``: position of each
    fine C-point ``t > 0`` of the whole grid in global order (for a rank-count independent
    residual norm); ``keep_all``: F-sweeps on level 0 store every point (else see :meth:`keep`).
    """

    def __init__(self, grid: LevelGrid, layout: Layout, rank: int, channel: Channel) -> None:
        self.grid = grid
        self.layout = layout
        self.rank = rank
        self.channel = channel
        lo, hi = layout.bounds(rank)
        n_levels = grid.n_levels
        self.points = [grid.points(lvl, lo, hi) for lvl in range(n_levels)]
        c_global = (
            [t for t in grid.points(0, 0, grid.n_layers + 1) if t > 0] if (n_levels > 1) else []
        )
        self.c_slot = {t: k for k, t in enumerate(c_global)}
        self.u: list[States] = [{} for _ in range(n_levels)]
        self.g: list[States | None] = [None] * n_levels
        self.fresh = [False] * n_levels
        self.pre = [False] * n_levels
        self.keep_all = True
        self.shape: tuple[int, ...] = ()
        self.dtype: np.dtype = np.dtype(np.float64)

    @property
    def n_levels(self) -> int:
        return self.grid.n_levels

    # ------------------------------------------------------------------ set-up
    def load(
        self,
        initial: Mapping[int, np.ndarray] | None,
        consume: bool,
        init_state: Callable[[int], np.ndarray],
    ) -> None:
        """Fine level from ``init_state`` (cold, ``initial is None``) or from the fine C-points
        of ``initial`` (warm; index 0 always from ``init_state``); coarse levels emptied.

        F-points are not read (the first F-sweep recomputes them); with ``consume`` the used
        and the skipped states are deleted from ``initial``.
        """
        fine: States = {}
        sample = None
        for t in self.points[0]:
            if t > 0 and not self.grid.is_c(0, t):  # on one level: every t > 0
                if initial is not None and t in initial:
                    sample = _floating(initial[t])
                    if consume:
                        del initial[t]  # never read: the first F-sweep recomputes it
                continue
            if t == 0 or initial is None:
                fine[t] = np.array(_floating(init_state(t)))
            else:
                if t not in initial:
                    raise ConfigError(
                        f"`initial` lacks the state of fine index {t} owned by rank "
                        f"{self.rank}. Fix: pass this rank's `states` of a previous solve "
                        "with the same layout."
                    )
                # states are never modified in place, so no copy is needed
                fine[t] = _floating(initial[t])
                if consume:
                    del initial[t]
        if fine:
            sample = next(iter(fine.values()))
        elif sample is None:  # one level, a rank without index 0, cold start
            sample = _floating(init_state(self.points[0][0]))
        self.shape, self.dtype = tuple(sample.shape), sample.dtype
        self.u = [fine] + [{} for _ in range(self.n_levels - 1)]
        self.g = [None] * self.n_levels
        self.fresh = [False] * self.n_levels
        self.pre = [False] * self.n_levels

    def release_coarse(self) -> None:
        """Drop the coarse levels' states and every right-hand side (end of a solve)."""
        self.u[1:] = [{} for _ in range(self.n_levels - 1)]
        self.g = [None] * self.n_levels

    # ------------------------------------------------------------------ messages
    def post_recv(self, level: int, tag: int, needs: Needs) -> PendingState | None:
        """Receive the predecessor of this rank's first ``level`` point if ``needs(first)``."""
        pts = self.points[level]
        if not pts or pts[0] == 0 or not needs(pts[0]):
            return None
        source = self.layout.owner(self.grid.pred(level, pts[0]))
        return self.channel.recv(self.shape, source, tag, self.dtype)

    def send_last(self, level: int, states: States, tag: int, needs: Needs) -> None:
        """Send ``states[last]`` to the owner of the next ``level`` point if it ``needs`` it."""
        pts = self.points[level]
        if not pts or pts[-1] == self.grid.n_layers:
            return
        nxt = self.grid.succ(level, pts[-1])
        if needs(nxt):
            self.channel.send(states[pts[-1]], self.layout.owner(nxt), tag)

    def predecessor(self, states: States) -> np.ndarray | None:
        """Fine state just before this rank's first owned index (from its owner), or ``None``
        if this rank owns index 0.  Collective over the ranks (one message per boundary)."""
        fine = self.points[0]
        pending = self.post_recv(0, TAG_PRED, always)
        self.send_last(0, states, TAG_PRED, always)
        out = pending.wait() if pending is not None else None
        self.channel.flush()
        return out if fine and fine[0] > 0 else None

    # ------------------------------------------------------------------ predicates
    def is_c(self, level: int) -> Needs:
        """C-points of ``level`` (the points of ``level + 1``)."""
        return lambda t: self.grid.is_c(level, t)

    def is_f(self, level: int) -> Needs:
        return lambda t: not self.grid.is_c(level, t)

    def needs_f(self, level: int, pre: bool) -> Needs:
        """F-points an F-sweep computes: all, or (``pre``) those not after a C-point."""
        grid = self.grid
        if not pre:
            return self.is_f(level)
        return lambda t: not grid.is_c(level, t) and not grid.is_c(level, grid.pred(level, t))

    def keep(self, level: int) -> Needs:
        """Which computed level points an F-sweep stores: all, or on level 0 without
        ``keep_all`` only the last F-point of each interval, this rank's last index and ``N``."""
        if level > 0 or self.keep_all:
            return always
        grid, n, last = self.grid, self.grid.n_layers, self.points[0][-1]
        return lambda t: t == last or t == n or grid.is_c(0, t + 1)
