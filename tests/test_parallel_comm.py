"""Communicators without MPI: SerialComm, ThreadComm; the virtual clock; abort propagation."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from solver.errors import ConfigError, ParallelError, RemoteRankError
from solver.parallel import (
    Channel,
    SerialComm,
    VirtualClock,
    abort_on_error,
    run_ranks,
)


def test_serial_comm_collectives_are_identities_and_p2p_is_an_error():
    comm = SerialComm()
    assert (comm.rank, comm.size) == (0, 1)
    np.testing.assert_array_equal(comm.allreduce(np.array([1.5, 2.0]), "max"), [1.5, 2.0])
    np.testing.assert_array_equal(comm.bcast(np.array([3.0])), [3.0])
    with pytest.raises(ParallelError, match="SerialComm has one rank"):
        comm.isend(np.zeros(2), 1, 0)


def test_solver_parallel_does_not_import_mpi4py():
    import subprocess

    code = "import solver.parallel, solver.mgrit, sys; print('mpi4py' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_thread_ranks_ring_allreduce_bcast():
    def body(comm):
        r, p = comm.rank, comm.size
        recv = np.empty(3)
        req = comm.irecv(recv, (r - 1) % p, tag=1)
        comm.isend(np.full(3, float(r)), (r + 1) % p, tag=1).wait()
        req.wait()
        total = comm.allreduce(np.array([float(r)]), "sum")[0]
        top = comm.allreduce_scalar(float(r), "max")
        root = comm.bcast(np.array([42.0 + r]), root=2)[0]
        comm.barrier()
        return recv[0], total, top, root

    out = run_ranks(4, body)
    assert [o[0] for o in out] == [3.0, 0.0, 1.0, 2.0]
    assert all(o[1:] == (6.0, 3.0, 44.0) for o in out)


def test_thread_rank_error_stops_the_others_and_is_reraised():
    def body(comm):
        with abort_on_error(comm):
            if comm.rank == 1:
                raise ValueError("boom on rank 1")
            comm.irecv(np.empty(1), source=1, tag=3).wait()  # would wait forever

    with pytest.raises(ValueError, match="boom on rank 1"):
        run_ranks(3, body, timeout=30.0)


def test_remote_rank_error_on_the_waiting_ranks():
    seen = []

    def body(comm):
        try:
            if comm.rank == 0:
                raise KeyError("first")
            comm.barrier()
        except RemoteRankError as exc:
            seen.append(str(exc))
            raise

    with pytest.raises(KeyError):
        run_ranks(3, body, timeout=30.0)
    assert len(seen) == 2 and all("rank 0 raised" in s for s in seen)


def test_virtual_clock_rules():
    clock = VirtualClock(latency=0.5)
    with clock.step():
        pass
    assert clock.time == 1.0
    clock.receive(3.0)
    assert clock.time == 3.5  # max(own, sender + latency)
    clock.receive(1.0)
    assert clock.time == 3.5
    clock.collective(10.0, 4)
    assert clock.time == 10.0 + 0.5 * 2
    with pytest.raises(ConfigError, match="`latency` must be a finite number >= 0"):
        VirtualClock(latency=-1.0)


def test_channel_messages_carry_the_sender_clock():
    """Rank 0 works 5 steps then sends; rank 1 (idle) receives: its clock becomes 5 + latency."""

    def body(comm):
        clock = VirtualClock(latency=2.0)
        chan = Channel(comm, clock)
        if comm.rank == 0:
            clock.advance(5.0)
            chan.send(np.ones((2, 2)), 1, tag=7)
            chan.flush()
            return clock.time, chan.messages_sent
        state = chan.recv((2, 2), 0, tag=7).wait()
        np.testing.assert_array_equal(state, np.ones((2, 2)))
        return clock.time, chan.messages_sent

    assert run_ranks(2, body) == [(5.0, 1), (7.0, 0)]


def test_aborting_decorator_reports_the_rank(capsys):
    from solver.parallel import aborting

    comm = SerialComm()

    @aborting(comm)
    def fail():
        raise ArithmeticError("bad step")

    with pytest.raises(ArithmeticError, match="bad step"):
        fail()
    err = capsys.readouterr().err
    assert "[rank 0/1]" in err and "ArithmeticError: bad step" in err


def test_thread_receive_size_mismatch_is_reported():
    def body(comm):
        if comm.rank == 0:
            comm.isend(np.zeros(3), 1, tag=2)
        else:
            comm.irecv(np.zeros(4), 0, tag=2).wait()

    with pytest.raises(ParallelError, match="has 3 values, the receive buffer 4"):
        run_ranks(2, body, timeout=30.0)
