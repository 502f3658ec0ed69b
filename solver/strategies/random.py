"""Random (or zero, or reference-stream) initialisation followed by plain training."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solver.config import NetworkConfig
from solver.loop import PlainControls, TrainingContext, TrainResult, make_result, optimize
from solver.params import Params
from solver.strategies.base import register

__all__ = ["RandomInit", "initial_params"]


def initial_params(ctx: TrainingContext, config: NetworkConfig) -> Params:
    """``ctx.init`` as parameters: given :class:`Params` are checked and copied, an
    :class:`solver.init.InitConfig` is drawn."""
    from solver.init import initialize

    if isinstance(ctx.init, Params):
        ctx.init.check(config)
        return ctx.init.copy()
    return initialize(config, ctx.init)


@register
@dataclass(frozen=True)
class RandomInit:
    """Draw the weights from ``ctx.init`` (distribution, group scales, seed) and train."""

    name = "random"

    def validate(self, config: NetworkConfig) -> None:
        """Nothing to check beyond the network config itself."""

    def run(self, ctx: TrainingContext, config: NetworkConfig) -> TrainResult:
        controls = PlainControls(config)
        theta = initial_params(ctx, config).to_flat()
        outcome = optimize(
            ctx, config, controls, np.asarray(theta), max_iterations=ctx.stop.max_iterations
        )
        return make_result(ctx, config, controls, outcome)
