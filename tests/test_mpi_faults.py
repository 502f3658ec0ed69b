"""Faults under ``mpiexec -n 2``: SIGINT/SIGTERM to mpiexec and one-rank set-up errors end every
rank within 10 s with a one-line reason and a non-zero exit; no hang (timeouts everywhere)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from mpi_scripts.runner import require_mpi
from test_sensitivity_common import REPO, write_study

from sensitivity.spec import load_spec
from sensitivity.storage import open_study

LIMIT = 10.0  # seconds from the signal to the end of every rank


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def _layer_parallel_study(tmp_path: Path) -> Path:
    """Long 2-rank layer-parallel trials (the ranks meet in an allreduce every step)."""
    study = write_study(tmp_path, iterations=100000, learning_rates="[0.01, 0.02]",
                        scales="[0.1]", heartbeat=0.5, grace=30.0)  # fmt: skip
    text = (
        study.read_text()
        .replace("n_layers = 4", "n_layers = 8")
        .replace(
            "[strategies.random]",
            "[training.parallel]\nmin_coarse_size = 2\n\n[strategies.random]",
        )
    )
    study.write_text(text)
    return study


def _ranks_left(marker: str) -> list[int]:
    """Pids of processes whose command line contains ``marker`` (ranks still alive)."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = (d / "stat").read_text().split(") ", 1)[1][:1]
            except OSError:
                continue
            if marker in cmd and "mpiexec" not in cmd and state != "Z":
                pids.append(int(d.name))
    return pids


def _wait_for_heartbeat(journal: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if journal.exists() and b'"heartbeat"' in journal.read_bytes():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("no trial started")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_to_mpiexec_ends_every_rank_and_requeues(tmp_path: Path, signum: int) -> None:
    mpiexec = require_mpi()
    study = _layer_parallel_study(tmp_path)
    journal = tmp_path / "results" / "tiny" / "journal.log"
    for attempt in range(5):
        proc = subprocess.Popen(
            [mpiexec, "-n", "2", sys.executable, "-m", "sensitivity", "run", str(study),
             "--ranks-per-trial", "2"],
            cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            _wait_for_heartbeat(journal, proc)
            time.sleep(0.2 * attempt)  # vary where the ranks are when the signal arrives
            sent = time.monotonic()
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=LIMIT + 20)
            took = time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert took < LIMIT, (attempt, took, err)
        end = time.monotonic() + LIMIT - took
        while _ranks_left(str(study)) and time.monotonic() < end:
            time.sleep(0.05)
        assert not _ranks_left(str(study)), "ranks outlived mpiexec"
        assert proc.returncode == 128 + signum, (attempt, proc.returncode, err)
        name = signal.Signals(signum).name
        ours = [ln for ln in err.splitlines() if ln.startswith("sensitivity:")]
        assert len(ours) == 1 and f"interrupted by {name}" in ours[0], (attempt, took, err)
        assert "Traceback" not in err
        h = open_study(load_spec(study), create=False)
        trials = h.trials()
        assert not [t.number for t in trials if t.state.name == "RUNNING"], (attempt, err)
        failed = [t for t in trials if t.state.name == "FAIL"]
        assert failed and f"interrupted by {name}" in failed[-1].user_attrs["reason"]
        waiting = [t for t in trials if t.state.name == "WAITING"]
        assert failed[-1].number in {t.user_attrs["retry_of"] for t in waiting}  # re-queued
        lock = journal.with_name(journal.name + ".lock")
        assert not lock.is_symlink(), "journal file lock left behind by the abort"
        journal.unlink()  # next attempt starts afresh (retries are limited per point)


def _train(mpiexec: str, *parts: list[str]) -> subprocess.CompletedProcess:
    """``mpiexec -n 1 python -m solver train A : -n 1 ... B`` (one argument list per rank)."""
    cmd = [mpiexec]
    for i, args in enumerate(parts):
        cmd += ([":"] if i else []) + ["-n", "1", sys.executable, "-m", "solver", "train", *args]
    return subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True,
                          timeout=60)  # fmt: skip


def test_different_layers_per_rank_is_a_clear_error(tmp_path: Path) -> None:
    mpiexec = require_mpi()
    common = ["--levels", "2", "--iterations", "2", "--out", str(tmp_path / "out")]
    t0 = time.monotonic()
    proc = _train(mpiexec, ["--layers", "8", *common], ["--layers", "16", *common])
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 2, proc.stderr
    assert "option --layers differs between the MPI ranks" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_data_file_only_one_rank_sees_is_a_clear_error(tmp_path: Path) -> None:
    mpiexec = require_mpi()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    np.savez(tmp_path / "seen.npz", X=x, y=(x[:, 0] > 0).astype(int))
    common = ["--levels", "2", "--layers", "8", "--iterations", "2", "--data", "arrays"]
    common += ["--out", str(tmp_path / "out")]
    proc = _train(
        mpiexec,
        [*common, "--data-option", f"path={tmp_path / 'seen.npz'}"],
        [*common, "--data-option", f"path={tmp_path / 'missing.npz'}"],
    )
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "[rank 1]" in lines[0] and "missing.npz" in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_signal_during_layer_parallel_training_ends_solver_train(tmp_path: Path) -> None:
    mpiexec = require_mpi()
    proc = subprocess.Popen(
        [mpiexec, "-n", "2", sys.executable, "-m", "solver", "train", "--levels", "2",
         "--layers", "64", "--iterations", "100000", "--grad-tol", "0", "--print-every", "1",
         "--out", str(tmp_path / "out")],
        cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the first iteration: both ranks are in the training loop
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=LIMIT + 20)
        assert time.monotonic() - sent < LIMIT
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err
    # mpiexec forwards the signal to every rank; whichever rank's guard sees it first stops the
    # others, so rank 0's one line names rank 1 when rank 1 was first (" on rank 1").
    ours = [ln for ln in err.splitlines() if ln.startswith("python -m solver:")]
    assert len(ours) == 1, err
    assert re.fullmatch(
        r"python -m solver: interrupted by SIGTERM( on rank 1)?; stopping all 2 ranks", ours[0]
    ), err


def test_study_file_only_one_rank_can_read(tmp_path: Path) -> None:
    """``sensitivity run`` under mpiexec where rank 1 gets a missing study file: every rank ends
    at once with rank 1's one-line reason; nothing is written."""
    mpiexec = require_mpi()
    study = write_study(tmp_path)
    cmd = [
        mpiexec,
        "-n",
        "1",
        sys.executable,
        "-m",
        "sensitivity",
        "run",
        str(study),
        ":",
        "-n",
        "1",
        sys.executable,
        "-m",
        "sensitivity",
        "run",
        str(tmp_path / "gone.toml"),
    ]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "gone.toml: cannot read the study file" in lines[0], lines
    assert not (tmp_path / "results").exists()


def test_trial_error_on_one_rank_of_a_layer_parallel_group(tmp_path: Path) -> None:
    """Rank 1 cannot read the study's data file (relative path, other working directory): its
    trial fails while rank 0 waits in a collective; the job ends with rank 1's reason and the
    trial is re-queued, instead of hanging."""
    mpiexec = require_mpi()
    study = _layer_parallel_study(tmp_path)
    study.write_text(
        study.read_text()
        .replace('dataset = "peaks"', 'dataset = "arrays"')
        .replace("n_train_per_class = 20\nn_val_per_class = 10\ngrid_size = 64", 'path = "d.npz"')
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 2))
    np.savez(tmp_path / "a" / "d.npz", X=x, y=(x[:, 0] > 0).astype(int))
    run = [sys.executable, "-m", "sensitivity", "run", str(study), "--ranks-per-trial", "2"]
    cmd = [mpiexec, "-n", "1", "-wdir", str(tmp_path / "a"), *run,
           ":", "-n", "1", "-wdir", str(tmp_path / "b"), *run]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=90)
    assert time.monotonic() - t0 < 60
    assert proc.returncode != 0
    ours = [ln for ln in proc.stderr.splitlines() if ln.startswith("sensitivity:")]
    assert len(ours) == 1 and "rank 1: trial failed" in ours[0] and "d.npz" in ours[0], ours
    trials = open_study(load_spec(study), create=False).trials()
    assert not [t for t in trials if t.state.name == "RUNNING"]
    assert any(t.state.name == "FAIL" and "rank 1" in t.user_attrs["reason"] for t in trials)
