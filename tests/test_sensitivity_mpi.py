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


# No rank dies in these runs: heartbeats far below a long grace period, so a live trial whose
# heartbeat is late (4 ranks on a loaded 2-core machine) is never failed as stale and re-run by
# the other group, which would add trials that the exact counts below rightly reject.
NO_STALE = {"heartbeat": 0.5, "grace": 60.0}


def test_two_groups_of_two_ranks_complete_the_design(tmp_path: Path) -> None:
    study = write_study(tmp_path, **NO_STALE)
    proc = _mpirun(4, "run", str(study), "--ranks-per-trial", "2")
    assert proc.returncode == 0, proc.stderr
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("tiny [")]
    assert progress and "6/6 done" in progress[-1]  # rank 0 prints progress under mpiexec
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


def test_groups_train_layer_parallel_like_serial(tmp_path: Path) -> None:
    """With [training.parallel] (MGRIT iterated to tolerance) each 2-rank group trains the
    layer-parallel network; its final accuracies equal a serial run of the same design."""
    from sensitivity.cli import main

    serial = write_study(tmp_path, name="serial", **NO_STALE)
    text = serial.read_text().replace("n_layers = 4", "n_layers = 8")
    serial.write_text(text)
    par = tmp_path / "par.toml"
    par.write_text(
        text.replace('name = "serial"', 'name = "par"').replace(
            "[strategies.random]",
            "[training.parallel]\nmin_coarse_size = 2\none_shot = false\ntolerance = 1e-12\n\n"
            "[strategies.random]",
        )
    )
    assert main(["run", str(serial), "--quiet"]) == 0
    proc = _mpirun(4, "run", str(par), "--ranks-per-trial", "2")
    assert proc.returncode == 0, proc.stderr
    s = load(tmp_path / "results" / "serial").trials.set_index("design_index")
    p = load(tmp_path / "results" / "par").trials.set_index("design_index")
    assert (p["status"] == "complete").all() and len(p) == 6
    assert (p["val_acc"] - s["val_acc"]).abs().max() < 1e-12
    assert (p["objective"] - s["objective"]).abs().max() < 1e-6
