"""Layer-parallel training of deep ODE-ResNets (numpy; mpi4py for several ranks)."""

from solver.config import NetworkConfig
from solver.errors import ConfigError, DataError, ParallelError, SolverError
from solver.network import (
    Evaluation,
    SerialPropagation,
    accuracy,
    evaluate,
    forward,
    objective,
    objective_and_gradient,
    predict,
)
from solver.params import Params

__all__ = [
    "NetworkConfig",
    "Params",
    "Evaluation",
    "SerialPropagation",
    "forward",
    "evaluate",
    "objective",
    "objective_and_gradient",
    "predict",
    "accuracy",
    "SolverError",
    "ConfigError",
    "DataError",
    "ParallelError",
]
