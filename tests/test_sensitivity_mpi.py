"""MPI rank groups: ``mpiexec -n 4 ... --ranks-per-trial 2`` (two groups, leaders only tell)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_sensitivity_common import REPO, write_study

from sensitivity.results import load

MPIEXEC = Path(sys.executable).parent / "mpiexec"
pytestmark = pytest.mark.skipif(not MPIEXEC.exists(), reason="mpiexec not next to python")


def _mpirun(n: int, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [str(MPIEXEC), "-n", str(n), sys.executable, "-m", "sensitivity", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_two_groups_of_two_ranks_complete_the_design(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    proc = _mpirun(4, "run", str(study), "--ranks-per-trial", "2")
    assert proc.returncode == 0, proc.stderr
    t = load(tmp_path / "results" / "tiny").trials
    assert sorted(t["design_index"].tolist()) == list(range(6))  # each point once
    assert (t["state"] == "COMPLETE").all()
    assert t["worker"].nunique() <= 2  # only the two group leaders touched storage
    study_trials = load(tmp_path / "results" / "tiny").study.get_trials()
    assert {tr.user_attrs["mpi"]["ranks"] for tr in study_trials} == {2}
    assert {tr.user_attrs["mpi"]["group"] for tr in study_trials} <= {0, 1}


def test_ranks_per_trial_must_divide_world(tmp_path: Path) -> None:
    study = write_study(tmp_path)
    proc = _mpirun(3, "run", str(study), "--ranks-per-trial", "2")
    assert proc.returncode != 0
    assert "`--ranks-per-trial` must divide the number of MPI ranks" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()
