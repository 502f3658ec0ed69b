"""Initialisation strategies, by name: ``random`` (+ ``nested``, ``spline``, ``box``)."""

from solver.strategies import random as _random  # noqa: F401  (registers "random")
from solver.strategies.base import (
    Strategy,
    make_strategy,
    register,
    resolve_strategy,
    strategy_names,
)
from solver.strategies.box import BoxStrategy
from solver.strategies.nested import NestedIteration
from solver.strategies.random import RandomInit
from solver.strategies.spline import SplineControls, SplineStrategy

__all__ = [
    "Strategy",
    "make_strategy",
    "register",
    "resolve_strategy",
    "strategy_names",
    "RandomInit",
    "NestedIteration",
    "SplineStrategy",
    "SplineControls",
    "BoxStrategy",
]
