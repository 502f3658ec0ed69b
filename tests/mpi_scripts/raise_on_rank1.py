"""Rank 1 raises while rank 0 waits for a message that never comes; abort_on_error must end
the whole job quickly with the message.  Usage: mpiexec -n 2 python raise_on_rank1.py"""

from __future__ import annotations

import numpy as np

from solver.parallel import abort_on_error
from solver.parallel.mpi import world


def main() -> None:
    comm = world()
    with abort_on_error(comm):
        if comm.rank == 1:
            raise RuntimeError("deliberate failure on rank 1")
        buf = np.empty(3)
        comm.irecv(buf, source=comm.size - 1, tag=99).wait()  # never satisfied


if __name__ == "__main__":
    main()
