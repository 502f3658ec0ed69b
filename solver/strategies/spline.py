"""B-spline controls (Guenther, Pazner, Qi): layer weights as splines in time.

Hidden weights and biases are ``K(t) = sum_k B_{k,D}(t) C_k``, ``b(t) = sum_k B_{k,D}(t) c_k``
with the uniform basis of :mod:`solver.strategies.bspline` (``n_knots`` intervals over
``[0, T]``, ``n_knots + D`` coefficient sets), evaluated at the layer times ``t_n = n h``:
``K_n = sum_k M[n, k] C_k`` with ``M`` of shape ``(N, n_knots + D)``. The number of layers
``N`` is independent of the number of coefficients. Opening and classifier stay plain
parameters. Optionally a trainable time scale ``lambda``:
``Y_{n+1} = Y_n + lambda h sigma(K_n Y_n + b_n)``.

Design vector ``theta`` (length :attr:`SplineControls.size`)::

    [opening (K_open, b_open) | C_0 (w*w), c_0 (nb) | ... | C_{n_knots+D-1}, c_... |
     classifier (W, mu) | lambda (if trainable)]

i.e. the flat order of a plain network whose "layers" are the coefficient sets. The gradient
is the transposed map: ``dJ/dC_k = sum_n M[n, k] dJ/dK_n`` (``M^T`` scatters every layer's
gradient onto the ``D + 1`` coefficients whose support contains ``t_n``), and
``dJ/dlambda = ev.info["d_time_scale"]``. Regularisation acts on the evaluated layer weights
(its gradient is pulled back like the loss's).

Layer-parallel training: the MGRIT propagation returns the full per-layer gradient on every
rank (per-rank blocks summed by an allreduce), and :meth:`SplineControls.pullback` applies
``M^T`` to that full gradient. A coefficient whose support crosses a rank boundary therefore
receives the sum of its layers' contributions from all ranks, and every rank computes the
same coefficient gradient; results do not depend on the number of ranks beyond the
propagation's own round-off.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.loop import TrainingContext, TrainResult, make_result
from solver.network import Evaluation
from solver.params import Params
from solver.strategies.base import register
from solver.strategies.bspline import check_spline, layer_matrix, n_coefficients, refinement_matrix
from solver.strategies.nested import (
    LevelState,
    check_parallel_schedule,
    per_level,
    resolve_schedule,
    run_levels,
)
from solver.strategies.random import initial_params

__all__ = ["SplineControls", "SplineStrategy", "spline_param_counts", "refine_coefficients"]


def spline_param_counts(config: NetworkConfig, n_knots: int, degree: int) -> dict[str, int]:
    """Trainable parameter counts, spline against plain, for ``config``.

    Hidden part: ``(n_knots + D)(w^2 + nb)`` against ``N (w^2 + nb)`` (``nb = w`` for vector
    bias); totals add the opening and classifier parameters (the time scale is not counted).
    """
    check_spline(n_knots, degree)
    per = config.width**2 + config.bias_size
    hidden_plain = config.n_layers * per
    hidden_spline = n_coefficients(n_knots, degree) * per
    other = config.n_params - hidden_plain
    return {
        "hidden_spline": hidden_spline,
        "hidden_plain": hidden_plain,
        "total_spline": hidden_spline + other,
        "total_plain": config.n_params,
    }


class SplineControls:
    """Design vector of spline coefficients -> per-layer :class:`Params` (see module doc).

    Args:
        config: the network (``N = config.n_layers`` layers).
        n_knots, degree: the spline space (``n_knots + degree`` coefficient sets).
        train_time_scale: append a trainable ``lambda`` to ``theta``.
    """

    def __init__(
        self, config: NetworkConfig, n_knots: int, degree: int, train_time_scale: bool = False
    ) -> None:
        check_spline(n_knots, degree)
        self.config = config
        self.n_knots = int(n_knots)
        self.degree = int(degree)
        self.train_time_scale = bool(train_time_scale)
        self.n_coef = n_coefficients(n_knots, degree)
        self.coef_config = config.with_layers(self.n_coef)
        self.matrix = layer_matrix(config.n_layers, self.n_knots, self.degree)
        self.size = self.coef_config.n_params + int(self.train_time_scale)

    def coefficients(self, theta: np.ndarray) -> Params:
        """``theta`` (without ``lambda``) as a :class:`Params` whose layers are coefficients."""
        return Params.from_flat(self.coef_config, theta[: self.coef_config.n_params])

    def pack(self, coefficients: Params, time_scale: float = 1.0) -> np.ndarray:
        """Inverse of :meth:`coefficients` (appends ``lambda`` if trainable)."""
        flat = coefficients.to_flat()
        return np.append(flat, time_scale) if self.train_time_scale else flat

    def params(self, theta: np.ndarray) -> tuple[Params, float]:
        """Layer weights ``K = M C``, ``b = M c`` and the time scale."""
        c = self.coefficients(theta)
        params = Params(
            open_K=c.open_K,
            open_b=c.open_b,
            K=np.tensordot(self.matrix, c.K, axes=(1, 0)),
            b=self.matrix @ c.b,
            W=c.W,
            mu=c.mu,
        )
        return params, float(theta[-1]) if self.train_time_scale else 1.0

    def pullback(self, theta: np.ndarray, ev: Evaluation) -> np.ndarray:
        """``dJ/dtheta``: ``M^T`` applied to the per-layer gradient, ``dJ/dlambda`` appended."""
        g = ev.gradient
        coef_grad = Params(
            open_K=g.open_K,
            open_b=g.open_b,
            K=np.tensordot(self.matrix.T, g.K, axes=(1, 0)),
            b=self.matrix.T @ g.b,
            W=g.W,
            mu=g.mu,
        )
        return self.pack(coef_grad, float(ev.info.get("d_time_scale", 0.0)))


def refine_coefficients(
    controls: SplineControls,
    theta: np.ndarray,
    fine_config: NetworkConfig,
    mode: Literal["layers", "knots"],
) -> tuple[SplineControls, np.ndarray]:
    """Move spline controls to a network with more layers (same ``T``).

    ``"layers"``: the same coefficients (pure time-step refinement; the spline function is
    unchanged, only sampled at more layer times). ``"knots"``: the knots are refined by the
    same factor as the layers (``n_knots -> r n_knots``) with coefficients from knot insertion
    (:func:`solver.strategies.bspline.refinement_matrix`), again the same spline function.
    """
    if mode not in ("layers", "knots"):
        raise ConfigError(f"`refine` must be 'layers' or 'knots'; got refine={mode!r}.")
    lam = float(theta[-1]) if controls.train_time_scale else 1.0
    if mode == "layers":
        fine = SplineControls(
            fine_config, controls.n_knots, controls.degree, controls.train_time_scale
        )
        return fine, np.array(theta, dtype=np.float64)
    factor = fine_config.n_layers // controls.config.n_layers
    R = refinement_matrix(controls.n_knots, controls.degree, factor)
    c = controls.coefficients(theta)
    fine = SplineControls(
        fine_config, controls.n_knots * factor, controls.degree, controls.train_time_scale
    )
    return fine, fine.pack(c.map_layers(R), lam)


@register
@dataclass(frozen=True)
class SplineStrategy:
    """Train B-spline coefficients instead of per-layer weights (optionally nested).

    Attributes:
        degree: spline degree ``D >= 1``.
        n_knots: knot intervals on the first level (``None``: the first level's layer count).
        train_time_scale: train ``lambda`` (starts at ``time_scale``).
        time_scale: initial ``lambda`` (fixed at this value unless trained).
        layers: nested-iteration schedule of layer counts ending at ``n_layers`` (``None``:
            one level).
        refine: how a spline network moves to the next level: ``"layers"`` (same coefficients)
            or ``"knots"`` (knot insertion by the layer refinement factor).
        level_iterations, level_tolerance: per coarse level, as in ``"nested"``.

    The initial coefficients are drawn from ``ctx.init`` as if they were the layers of a
    plain network with ``n_knots + D`` layers (or given as such a :class:`Params`).
    """

    name = "spline"
    degree: int = 2
    n_knots: int | None = None
    train_time_scale: bool = False
    time_scale: float = 1.0
    layers: tuple[int, ...] | None = None
    refine: Literal["layers", "knots"] = "layers"
    level_iterations: int | tuple[int, ...] = 100
    level_tolerance: float | tuple[float | None, ...] | None = None

    def validate(
        self, config: NetworkConfig
    ) -> tuple[tuple[int, ...], int, tuple[int, ...], tuple[float | None, ...]]:
        """Check every option against ``config`` before training (raises :class:`ConfigError`);
        returns the schedule, the number of knots and the per-level budgets and tolerances."""
        sched = resolve_schedule(
            config.n_layers, layers=self.layers if self.layers is not None else (config.n_layers,)
        )
        n_knots = sched[0] if self.n_knots is None else self.n_knots
        check_spline(n_knots, self.degree)
        if self.refine not in ("layers", "knots"):
            raise ConfigError(f"`refine` must be 'layers' or 'knots'; got refine={self.refine!r}.")
        if not np.isfinite(self.time_scale) or self.time_scale <= 0:
            raise ConfigError(
                f"`time_scale` must be a finite number > 0; got time_scale={self.time_scale!r}."
            )
        if not self.train_time_scale and self.time_scale != 1.0:
            raise ConfigError(
                "a fixed `time_scale` other than 1 is not supported (the network's T sets the "
                f"step); got time_scale={self.time_scale!r}. Change t_final or set "
                "train_time_scale=True."
            )
        iters = per_level("level_iterations", self.level_iterations, len(sched) - 1)
        tols = per_level("level_tolerance", self.level_tolerance, len(sched) - 1)
        return sched, n_knots, iters, tols

    def run(self, ctx: TrainingContext, config: NetworkConfig) -> TrainResult:
        sched, n_knots, iters, tols = self.validate(config)
        check_parallel_schedule(sched, ctx.parallel, ctx.comm)

        first = config.with_layers(sched[0])
        controls = SplineControls(first, n_knots, self.degree, self.train_time_scale)
        if isinstance(ctx.init, Params) and ctx.init.n_layers != controls.n_coef:
            raise ConfigError(
                f"spline controls start from n_knots + degree = {controls.n_coef} coefficient "
                f"sets; the initial Params have {ctx.init.n_layers} layers. Pass Params with "
                f"{controls.n_coef} layers (one per coefficient set) or an InitConfig."
            )
        theta = controls.pack(initial_params(ctx, controls.coef_config), self.time_scale)

        def refine(level: int, state: LevelState) -> LevelState:
            fine_config = config.with_layers(sched[level + 1])
            fine, th = refine_coefficients(state.controls, state.theta, fine_config, self.refine)
            return LevelState(fine_config, fine, th)

        state, outcome, summary = run_levels(
            ctx,
            LevelState(first, controls, theta),
            refine,
            n_levels=len(sched),
            level_iterations=iters,
            level_tolerance=tols,
        )
        final = state.controls
        extras = {
            "degree": final.degree,
            "n_knots": final.n_knots,
            "coefficients": final.coefficients(state.theta).copy(),
            "time_scale": float(state.theta[-1]) if final.train_time_scale else 1.0,
            "param_counts": spline_param_counts(state.config, final.n_knots, final.degree),
            "levels": summary,
            "schedule": sched,
        }
        return make_result(ctx, state.config, final, outcome, extras)
