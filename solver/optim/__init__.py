"""Optimisers on flat float64 vectors: momentum SGD, Adam, L-BFGS with Armijo backtracking.

Usage by a training loop::

    opt = make_optimizer(OptimizerConfig(name="lbfgs"))
    info = opt.step(x, f, g, value)      # value(x_try) -> float, used by line searches
    x = info.x_new
"""

from solver.optim.adam import Adam
from solver.optim.base import Optimizer, StepInfo, ValueFn
from solver.optim.config import OPTIMIZERS, OptimizerConfig
from solver.optim.factory import make_optimizer
from solver.optim.lbfgs import LBFGS, two_loop_direction
from solver.optim.line_search import ArmijoResult, backtracking_armijo, line_search_step
from solver.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "Adam",
    "ArmijoResult",
    "LBFGS",
    "Optimizer",
    "OptimizerConfig",
    "SGD",
    "StepInfo",
    "ValueFn",
    "backtracking_armijo",
    "line_search_step",
    "make_optimizer",
    "two_loop_direction",
]
