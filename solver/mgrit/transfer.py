"""FAS transfer between MGRIT levels ``l`` and ``l + 1``: residual, restriction, correction.

With ``A_l(u)_k = u_k - Phi_l(u_{k-1})`` and the C-points of level ``l`` being the points of
level ``l + 1``:

* residual (:func:`residual`): ``r_k = g_k - u_k + Phi_l(u_{k-1})`` at the C-points, and its
  norm (:func:`residual_norm`): the temporal l1/l2/inf norm of the spatial 2-norms;
* restriction by injection (:func:`restrict`): ``v = u|_C``, ``g_{l+1} = r + A_{l+1}(v)``,
  i.e. ``g_k = r_k + v_k - Phi_{l+1}(v_{k-1})``, initial guess ``v``;
* correction (:func:`correct`): ``u_C <- u_C + (w - v)`` for the coarse solution ``w``,
  which is ``u_C <- w`` because ``u_C`` still equals ``v`` (so ``v`` is not stored and no
  rounding is added), then an F-sweep on coarse levels (on level 0 the F-sweep is left to the
  next relaxation, which starts with one).

The restriction evaluates ``Phi_{l+1}(v_{k-1})`` at every coarse point; at a coarse F-point
whose predecessor is a coarse C-point the first coarse F-sweep would evaluate exactly that step
again (``v`` is unchanged), so the restriction stores ``v_k = Phi_{l+1}(v_{k-1}) + g_k`` there
and marks the level (``pre``) so that the sweep skips those points.
"""

from __future__ import annotations

import numpy as np

from solver.mgrit.config import TemporalNorm
from solver.mgrit.levels import TAG_RES, TAG_TAU, LevelStates, States, always
from solver.mgrit.relaxation import sweep_f
from solver.mgrit.steps import Steps

__all__ = ["residual", "residual_norm", "restrict", "correct"]


def residual(lv: LevelStates, steps: Steps, level: int) -> States:
    """C-point residuals ``{k: r_k}``, ``r_k = g_k - u_k + Phi_l(u_{k-1})``, for this rank."""
    u, g, grid = lv.u[level], lv.g[level], lv.grid
    needs = lv.is_c(level)
    pending = lv.post_recv(level, TAG_RES, needs)
    lv.send_last(level, u, TAG_RES, needs)
    res: States = {}
    for t in lv.points[level + 1]:
        if t == 0:
            continue
        p = grid.pred(level, t)
        up = u[p] if p in u else pending.wait()
        r = steps.phi(level, up, p, t) - u[t]
        res[t] = r + g[t] if g is not None else r
    return res


def residual_norm(lv: LevelStates, res: States, norm: TemporalNorm) -> float:
    """Global ``norm`` over the fine C-points ``k`` of ``||r_k||_2`` (collective).

    Each rank fills its slots of a vector over all fine C-points and one allreduce sums them;
    every slot has one nonzero term, so the result is exact and the same on every rank and for
    any number of ranks.
    """
    local = np.zeros(len(lv.c_slot))
    for t, r in res.items():
        local[lv.c_slot[t]] = np.sqrt(np.sum(np.square(r)))  # no BLAS call
    norms = lv.channel.allreduce(local, "sum")  # one nonzero per slot: exact
    if norm == "l2":
        return float(np.sqrt(np.sum(norms**2)))
    if norm == "l1":
        return float(np.sum(norms))
    return float(np.max(norms, initial=0.0))


def restrict(lv: LevelStates, steps: Steps, level: int, res: States) -> None:
    """FAS restriction: ``v = u|_C``, ``g_{l+1} = r + v - Phi_{l+1}(v_prev)``.

    Consumes ``res`` (each residual is freed once folded into ``g_{l+1}``).
    """
    coarse, u, grid = level + 1, lv.u[level], lv.grid
    pending = lv.post_recv(coarse, TAG_TAU, always)
    lv.send_last(coarse, u, TAG_TAU, always)
    steps.phase = "restrict"
    uc, gc = {}, {}
    for t in lv.points[coarse]:
        uc[t] = u[t]  # shared, never modified in place
        if t == 0:
            continue
        q = grid.pred(coarse, t)
        vq = u[q] if q in u else pending.wait()
        phi = steps.phi(coarse, vq, q, t)
        gc[t] = res.pop(t) + u[t] - phi  # each residual freed once folded in
        if grid.is_c(coarse, q) and not grid.is_c(coarse, t):
            uc[t] = phi + gc[t]  # what the first F-sweep would compute (v_q unchanged)
    lv.u[coarse], lv.g[coarse] = uc, gc
    lv.fresh[coarse] = False
    lv.pre[coarse] = True


def correct(lv: LevelStates, steps: Steps, level: int) -> None:
    """FAS correction ``u_C <- u_{l+1}`` (see module docstring); F-sweep on coarse levels."""
    u, uc = lv.u[level], lv.u[level + 1]
    for t in lv.points[level + 1]:
        if t > 0:
            u[t] = uc[t]
    lv.u[level + 1], lv.g[level + 1] = {}, None  # rebuilt by the next restriction
    lv.fresh[level] = False
    if level > 0:
        steps.phase = "correct F"
        sweep_f(lv, steps, level)
