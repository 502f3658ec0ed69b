"""MGRIT relaxation on one level: F-sweeps, weighted-Jacobi C-sweeps and their schedule.

With ``Phi`` the level's step and ``g`` its FAS right-hand side (``g = 0`` when ``None``):

* F-sweep (:func:`sweep_f`): ``u_k <- Phi(u_{k-1}) + g_k`` at the F-points, in order along
  each interval (Gauss-Seidel: ``u_{k-1}`` is the value just computed);
* C-sweep (:func:`sweep_c`): ``u_C <- (1 - w) u_C + w (Phi(u_{C-1}) + g_C)`` at the C-points,
  from the values before the sweep (Jacobi);
* relaxation (:func:`relax`): an F-sweep (unless the F-points are fresh), then ``sweeps``
  (C-sweep, F-sweep) pairs; with ``final`` the last F-sweep of level 0 runs through the
  problem's ``final_step`` (:meth:`~solver.mgrit.steps.Steps.final`).

Each rank sweeps its own points; a sweep first posts the receive of the predecessor of its
first point and sends its last point as soon as that is final, so every point is computed by
the same operations for any number of ranks.
"""

from __future__ import annotations

from solver.mgrit.levels import TAG_C, TAG_F, LevelStates, States
from solver.mgrit.steps import Steps

__all__ = ["sweep_f", "sweep_c", "relax"]


def sweep_f(lv: LevelStates, steps: Steps, level: int) -> None:
    """F-sweep (Gauss-Seidel along each interval): ``u_k = Phi(u_{k-1}) + g_k`` at F-points.

    After a restriction (``lv.pre[level]``) the F-points right after a C-point are already
    final and are skipped.  On level 0 without ``lv.keep_all`` the F-points not needed later
    are dropped once the next step has used them.
    """
    pts, u, g, grid = lv.points[level], lv.u[level], lv.g[level], lv.grid
    pre, lv.pre[level] = lv.pre[level], False
    if pts:
        needs = lv.needs_f(level, pre)
        pending = lv.post_recv(level, TAG_F, needs)
        # a C-point (or a pre-relaxed F-point) is final before the sweep
        early = not needs(pts[-1]) if pts[-1] > 0 else True
        if early:
            lv.send_last(level, u, TAG_F, needs)
        keep = lv.keep(level)
        prev_t, prev = -1, None  # the last point computed (it may not be stored)
        for t in pts:
            if t == 0 or not needs(t):
                continue
            p = grid.pred(level, t)
            up = prev if p == prev_t else (u[p] if p in u else pending.wait())
            new = steps.phi(level, up, p, t)
            prev_t, prev = t, (new + g[t] if g is not None else new)
            if keep(t):
                u[t] = prev
            else:
                u.pop(t, None)
        if not early:
            lv.send_last(level, u, TAG_F, needs)
    lv.fresh[level] = True


def sweep_c(lv: LevelStates, steps: Steps, level: int, weight: float) -> None:
    """Weighted-Jacobi C-sweep: ``u_C <- (1-w) u_C + w (Phi(u_{C-1}) + g_C)``, ``w = weight``."""
    pts, u, g, grid, w = lv.points[level], lv.u[level], lv.g[level], lv.grid, weight
    if pts:
        needs = lv.is_c(level)
        pending = lv.post_recv(level, TAG_C, needs)
        lv.send_last(level, u, TAG_C, needs)  # Jacobi: the value before the sweep
        new: States = {}
        for t in pts:
            if t == 0 or not grid.is_c(level, t):
                continue
            p = grid.pred(level, t)
            up = u[p] if p in u else pending.wait()
            val = steps.phi(level, up, p, t)
            if g is not None:
                val = val + g[t]
            new[t] = val if w == 1.0 else (1.0 - w) * u[t] + w * val
        u.update(new)
    lv.fresh[level] = False


def relax(
    lv: LevelStates,
    steps: Steps,
    level: int,
    sweeps: int,
    weight: float,
    *,
    final: bool = False,
) -> bool:
    """F-sweep (unless fresh), then ``sweeps`` (C, F) pairs with C-weight ``weight``; with
    ``final`` the last F-sweep runs through ``problem.final_step`` on level 0.

    Returns whether that last F-sweep ran in the final pass (``final`` and at least one
    F-sweep), i.e. whether the following residual may use the hook too.
    """
    final_ok = False
    steps.phase = "F-relax"
    if not lv.fresh[level]:
        if final and sweeps == 0:
            steps.phase = "final"
            final_ok = True
            with steps.final():
                sweep_f(lv, steps, level)
        else:
            sweep_f(lv, steps, level)
    for k in range(sweeps):
        steps.phase = "C-relax"
        sweep_c(lv, steps, level, weight)
        steps.phase = "F-relax"
        if final and k == sweeps - 1:
            steps.phase = "final"
            final_ok = True
            with steps.final():
                sweep_f(lv, steps, level)
        else:
            sweep_f(lv, steps, level)
    return final_ok
