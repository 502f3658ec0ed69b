"""Nonlinear MGRIT over the layer index (FAS V-/F-cycles, distributed) and the layer-parallel
ResNet propagation built on it (:class:`MGRITPropagation`, :class:`ParallelConfig`)."""

from solver.mgrit.config import CycleType, MGRITConfig, TemporalNorm
from solver.mgrit.engine import MGRIT
from solver.mgrit.grid import LevelGrid
from solver.mgrit.model import modelled_evaluation
from solver.mgrit.parallel_config import ParallelConfig
from solver.mgrit.problem import Propagator
from solver.mgrit.propagation import MGRITPropagation
from solver.mgrit.result import MGRITCost, MGRITResult

__all__ = [
    "MGRIT",
    "CycleType",
    "LevelGrid",
    "MGRITConfig",
    "MGRITCost",
    "MGRITPropagation",
    "MGRITResult",
    "ParallelConfig",
    "Propagator",
    "TemporalNorm",
    "modelled_evaluation",
]
