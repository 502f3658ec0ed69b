"""MPI tests: MPIComm under mpiexec, and abort-on-exception ending a job that would hang."""

from __future__ import annotations

import numpy as np
import pytest
from mpi_scripts.runner import run_mpi


@pytest.mark.parametrize("n_ranks", [1, 3])
def test_mpi_comm_roundtrip(tmp_path, n_ranks):
    proc = run_mpi("comm_roundtrip.py", n_ranks, str(tmp_path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    for r in range(n_ranks):
        out = np.load(tmp_path / f"comm_rank{r}.npz")
        left = (r - 1) % n_ranks
        np.testing.assert_array_equal(out["recv"], np.arange(4) + 10.0 * left)
        np.testing.assert_array_equal(out["total"], [sum(range(n_ranks)), n_ranks])
        assert float(out["biggest"]) == n_ranks - 1
        np.testing.assert_array_equal(out["root_value"], np.full(2, 100.0 + n_ranks - 1))


def test_exception_on_one_rank_aborts_the_job_with_its_message():
    proc = run_mpi("raise_on_rank1.py", 2, timeout=60)  # a hang would raise TimeoutExpired
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "[rank 1/2]" in output
    assert "deliberate failure on rank 1" in output
