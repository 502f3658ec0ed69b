"""Exercise MPIComm: ring isend/irecv, allreduce (sum/max), bcast, barrier.
Usage: mpiexec -n P python comm_roundtrip.py OUTDIR  -> OUTDIR/comm_rank<r>.npz"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from solver.parallel import abort_on_error
from solver.parallel.mpi import world


def main(outdir: Path) -> None:
    comm = world()
    with abort_on_error(comm):
        r, p = comm.rank, comm.size
        send = np.arange(4, dtype=np.float64) + 10.0 * r
        recv = np.empty(4)
        rq = comm.irecv(recv, source=(r - 1) % p, tag=5)
        sq = comm.isend(send, dest=(r + 1) % p, tag=5)
        rq.wait()
        sq.wait()
        total = comm.allreduce(np.array([float(r), 1.0]), "sum")
        biggest = comm.allreduce_scalar(float(r), "max")
        root_value = comm.bcast(np.full(2, 100.0 + r), root=p - 1)
        comm.barrier()
        np.savez(
            outdir / f"comm_rank{r}.npz",
            recv=recv,
            total=total,
            biggest=biggest,
            root_value=root_value,
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
