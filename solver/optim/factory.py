"""Build an optimiser from its configuration."""

from __future__ import annotations

from solver.optim.adam import Adam
from solver.optim.base import Optimizer
from solver.optim.config import OptimizerConfig
from solver.optim.lbfgs import LBFGS
from solver.optim.sgd import SGD

__all__ = ["make_optimizer"]

_CLASSES: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam, "lbfgs": LBFGS}


def make_optimizer(config: OptimizerConfig) -> Optimizer:
    """A fresh (history-free) optimiser for ``config.name``."""
    return _CLASSES[config.name](config)
