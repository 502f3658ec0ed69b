"""Problem-agnostic nonlinear MGRIT over the layer index (FAS V-/F-cycles, distributed)."""

from solver.mgrit.config import CycleType, MGRITConfig, TemporalNorm
from solver.mgrit.engine import MGRIT
from solver.mgrit.grid import LevelGrid
from solver.mgrit.problem import Propagator
from solver.mgrit.result import MGRITCost, MGRITResult

__all__ = [
    "MGRIT",
    "CycleType",
    "LevelGrid",
    "MGRITConfig",
    "MGRITCost",
    "MGRITResult",
    "Propagator",
    "TemporalNorm",
]
