"""The optimiser variant as a study factor: a study sweeps `optimizer.non_descent` beside the
strategy, and every trial trains with the variant its design point names."""

from __future__ import annotations

from pathlib import Path

from sensitivity import bridge
from sensitivity.cli import main
from sensitivity.design import make_design
from sensitivity.results import load
from sensitivity.spec import load_spec

STUDY = """
[study]
name = "nd"

[problem]
dataset = "peaks"

[problem.data]
n_train_per_class = 20
n_val_per_class = 10
grid_size = 64

[problem.network]
width = 5
n_layers = 4
bias = "scalar"
ddt_gradient = "reference"

[training.optimizer]
name = "lbfgs"
memory = 20
bad_curvature = "keep"

[training.stop]
max_iterations = 6
grad_tol = 0.0

[training.init]
distribution = "reference"

[strategies.random]

[strategies.nested]
layers = [2, 4]
level_iterations = 3

[space.non_descent]
target = "optimizer.non_descent"
values = ["reset", "keep"]

[design]
kind = "grid"
seeds = 1

[metric]
name = "val_acc"

[run]
results_dir = "{results}"
workers = 1
"""


def test_study_sweeps_non_descent_beside_the_strategy(tmp_path: Path) -> None:
    path = tmp_path / "nd.toml"
    path.write_text(STUDY.format(results=(tmp_path / "results").as_posix()))
    spec = load_spec(path)
    points = make_design(spec)
    assert sorted((p.strategy, p.params["non_descent"]) for p in points) == [
        ("nested", "keep"), ("nested", "reset"), ("random", "keep"), ("random", "reset")
    ]  # fmt: skip
    for p in points:
        trial = bridge.build_trial(spec, p, n_features=2, n_classes=5)
        assert trial.optimizer.non_descent == p.params["non_descent"]
        assert trial.optimizer.bad_curvature == "keep" and trial.optimizer.memory == 20
    assert main(["run", str(path), "--quiet"]) == 0
    t = load(tmp_path / "results" / "nd").trials
    assert len(t) == 4 and t["counted"].all()
    assert set(zip(t["strategy"], t["param_non_descent"], strict=True)) == {
        ("nested", "keep"), ("nested", "reset"), ("random", "keep"), ("random", "reset")
    }  # fmt: skip
