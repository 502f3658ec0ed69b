"""The :func:`train` entry point: build the :class:`TrainingContext`, run a strategy.

The optimisation loop itself is :mod:`solver.loop` (re-exported here); strategy names are
resolved by :func:`solver.strategies.resolve_strategy` (the one place that knows them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from solver.config import NetworkConfig
from solver.controls import Controls, PlainControls
from solver.errors import ConfigError
from solver.loop import (
    LevelOutcome,
    TrainingContext,
    TrainResult,
    make_result,
    optimize,
    optimizer_note,
)
from solver.stopping import HISTORY_COLUMNS, STATUSES, StopConfig
from solver.strategies import Strategy, resolve_strategy

if TYPE_CHECKING:
    from solver.data import Dataset
    from solver.init import InitConfig
    from solver.mgrit import ParallelConfig
    from solver.optim import OptimizerConfig
    from solver.parallel.comm import Communicator
    from solver.params import Params

__all__ = [
    "StopConfig",
    "TrainResult",
    "TrainingContext",
    "Controls",
    "PlainControls",
    "LevelOutcome",
    "optimize",
    "make_result",
    "train",
    "HISTORY_COLUMNS",
    "STATUSES",
]


def train(
    config: NetworkConfig,
    data: Dataset,
    *,
    optimizer: OptimizerConfig | None = None,
    stop: StopConfig | None = None,
    init: InitConfig | Params | None = None,
    strategy: Strategy | str | Mapping[str, Any] = "random",
    parallel: ParallelConfig | None = None,
    comm: Communicator | None = None,
    callback: Callable[[dict], bool | None] | None = None,
) -> TrainResult:
    """Train ``config`` on ``data`` (a :class:`solver.data.Dataset`).

    Args:
        optimizer: :class:`solver.optim.OptimizerConfig` (default: L-BFGS).
        stop: :class:`StopConfig` (default: 300 iterations, ``|g| < 1e-4``).
        init: :class:`solver.init.InitConfig` or starting :class:`Params` (default: normal, 1e-3).
        strategy: a strategy object from :mod:`solver.strategies` (e.g.
            ``make_strategy("nested", layers=(8, 16))``); a name (``"random"``, ``"nested"``,
            ``"spline"``, ``"box"``) or a dict ``{"name": ..., **options}`` is resolved by
            :func:`solver.strategies.resolve_strategy`.
        parallel: ``solver.mgrit.ParallelConfig`` for layer-parallel MGRIT propagation;
            ``None`` for exact serial propagation.
        comm: the communicator (``solver.parallel``); ``None`` = a single process.
        callback: called with every history row (on rank 0); returning ``True`` stops the run.

    Returns:
        :class:`TrainResult`. Diverging training returns status ``"diverged"``; it does not raise.
    """
    from solver.data import check_width
    from solver.init import InitConfig
    from solver.optim import OptimizerConfig

    check_width(data, config.width)
    if data.n_features != config.n_features or data.n_classes != config.n_classes:
        raise ConfigError(
            f"network expects n_features={config.n_features}, n_classes={config.n_classes} but "
            f"data set {data.name!r} has n_features={data.n_features}, "
            f"n_classes={data.n_classes}; build the config from the data set."
        )
    from solver.memory import check_memory

    opt = OptimizerConfig() if optimizer is None else optimizer
    check_memory(
        config.n_layers, config.width, getattr(opt, "batch_size", None) or data.n_train,
        lbfgs_memory=getattr(opt, "memory", 10) or 0,
        n_ranks=comm.size if comm is not None and parallel is not None else 1,
    )  # fmt: skip -- refuse before allocating (a huge depth would fail deep inside numpy)
    ctx = TrainingContext(
        data=data,
        optimizer=opt,
        stop=StopConfig() if stop is None else stop,
        init=InitConfig() if init is None else init,
        parallel=parallel,
        comm=comm,
        callback=callback,
    )
    chosen = resolve_strategy(strategy)
    if hasattr(chosen, "validate"):
        chosen.validate(config)  # options that cannot work fail before any training
    result = chosen.run(ctx, config)
    counts = dict(ctx.optimizer_counts)
    result.extras.setdefault("optimizer", counts)
    result.message += optimizer_note(counts)
    result.wall_time = ctx.elapsed()
    result.modelled_time = ctx.modelled_time
    return result
