"""Layer partition over ranks, communicators (serial, threads; MPI in :mod:`.mpi`), virtual clock.

mpi4py is imported only by :mod:`solver.parallel.mpi`; import it explicitly when needed.
"""

from solver.parallel.abort import abort_on_error, aborting, agree, check_same, one_line
from solver.parallel.channel import Channel
from solver.parallel.clock import CostModel, VirtualClock
from solver.parallel.comm import Communicator, SerialComm
from solver.parallel.layout import LayerLayout, Layout, MirroredLayout
from solver.parallel.threads import ThreadComm, run_ranks

__all__ = [
    "Channel",
    "Communicator",
    "CostModel",
    "LayerLayout",
    "Layout",
    "MirroredLayout",
    "SerialComm",
    "ThreadComm",
    "VirtualClock",
    "abort_on_error",
    "aborting",
    "agree",
    "check_same",
    "one_line",
    "run_ranks",
]
