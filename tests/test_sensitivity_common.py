"""Shared helpers of the sensitivity-harness tests (tiny studies) and checks of the helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

TINY = """
[study]
name = "{name}"

[problem]
dataset = "peaks"

[problem.data]
n_train_per_class = 20
n_val_per_class = 10
grid_size = 64

[problem.network]
width = 5
n_layers = 4
activation = "{activation}"

[training.optimizer]
name = "{optimizer}"
momentum = 0.0

[training.stop]
max_iterations = {iterations}
grad_tol = 0.0

[strategies.random]

[space.learning_rate]
target = "optimizer.learning_rate"
values = {learning_rates}

[space.init_scale]
target = ["init.scale_open", "init.scale_hidden", "init.scale_class"]
values = {scales}

[design]
kind = "grid"
seeds = {seeds}

[metric]
name = "val_acc"
target = 0.3

[run]
results_dir = "{results}"
heartbeat_interval = {heartbeat}
grace_period = {grace}
retries = 2
"""


def write_study(
    tmp: Path,
    *,
    name: str = "tiny",
    iterations: int = 15,
    learning_rates: str = "[0.001, 0.01, 0.1]",
    scales: str = "[0.01, 1.0]",
    seeds: int = 1,
    optimizer: str = "adam",
    activation: str = "tanh",
    heartbeat: float = 0.2,
    grace: float = 1.5,
) -> Path:
    """A tiny peaks study (default: 3 x 2 x 1 = 6 trials of ~0.02 s) under ``tmp``."""
    path = tmp / f"{name}.toml"
    path.write_text(
        TINY.format(
            name=name,
            iterations=iterations,
            learning_rates=learning_rates,
            scales=scales,
            seeds=seeds,
            optimizer=optimizer,
            activation=activation,
            heartbeat=heartbeat,
            grace=grace,
            results=(tmp / "results").as_posix(),
        )  # fmt: skip
    )
    return path


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m sensitivity ARGS`` in a subprocess."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run(
        [sys.executable, "-m", "sensitivity", *args], cwd=cwd or REPO, env=env,
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def test_tiny_study_parses(tmp_path: Path) -> None:
    from sensitivity.design import design_total
    from sensitivity.spec import load_spec

    spec = load_spec(write_study(tmp_path, seeds=2))
    assert spec.name == "tiny"
    assert design_total(spec) == 12
    assert spec.results_path == tmp_path / "results" / "tiny"


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_study(tmp_path)
