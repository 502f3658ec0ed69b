"""Nonlinear MGRIT over the layer index (FAS V-/F-cycles, distributed) and the layer-parallel
ResNet propagation built on it (:class:`MGRITPropagation`, :class:`ParallelConfig`)."""

from solver.mgrit.config import CycleType, MGRITConfig, TemporalNorm
from solver.mgrit.engine import MGRIT
from solver.mgrit.grid import LevelGrid
from solver.mgrit.model import modelled_evaluation
from solver.mgrit.parallel_config import REFERENCE_MGRIT, ParallelConfig, reference_mgrit
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
    "REFERENCE_MGRIT",
    "TemporalNorm",
    "modelled_evaluation",
    "reference_mgrit",
]
