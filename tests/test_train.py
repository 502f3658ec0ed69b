"""solver.train: stop rules, history rows, divergence as data, the default peaks run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import solver
from solver.data import load_dataset
from solver.errors import ConfigError
from solver.init import InitConfig
from solver.optim import OptimizerConfig
from solver.train import HISTORY_COLUMNS, StopConfig, train


@pytest.fixture(scope="module")
def small_peaks():
    return load_dataset("peaks", n_train_per_class=40, n_val_per_class=10, seed=3)


def _config(data, **kw):
    base = dict(n_features=data.n_features, n_classes=data.n_classes, width=6, n_layers=4)
    base.update(kw)
    return solver.NetworkConfig(**base)


def test_history_rows_have_every_column_and_increasing_time(small_peaks):
    result = train(
        _config(small_peaks),
        small_peaks,
        stop=StopConfig(max_iterations=5),
        init=InitConfig(scale_open=0.5, scale_hidden=0.5, scale_class=0.5),
    )
    assert result.status == "max_iterations"
    assert len(result.history) == 6  # iterations 0..5, the last one evaluated but not stepped
    for row in result.history:
        assert set(row) == set(HISTORY_COLUMNS)
    assert [r["iteration"] for r in result.history] == list(range(6))
    walls = [r["wall_time"] for r in result.history]
    assert walls == sorted(walls)
    assert all(0 <= r["train_acc"] <= 1 and 0 <= r["val_acc"] <= 1 for r in result.history)
    assert math.isnan(result.history[-1]["step_size"])
    assert result.history[-1]["objective"] < result.history[0]["objective"]
    assert result.n_params == result.config.n_params


def test_diverging_training_is_recorded_not_raised(small_peaks):
    config = _config(small_peaks, activation="relu")
    result = train(
        config,
        small_peaks,
        optimizer=OptimizerConfig(name="sgd", learning_rate=1e6, momentum=0.0),
        stop=StopConfig(max_iterations=50),
        init=InitConfig(scale_open=1.0, scale_hidden=1.0, scale_class=1.0),
    )
    assert result.status == "diverged"
    assert "non-finite" in result.message
    assert len(result.history) >= 2
    assert not math.isfinite(result.history[-1]["objective"]) or not math.isfinite(
        result.history[-1]["grad_norm"]
    )


def test_target_accuracy_and_callback_and_time_budget(small_peaks):
    config = _config(small_peaks)
    init = InitConfig(scale_open=0.5, scale_hidden=0.5, scale_class=0.5, seed=1)
    reached = train(
        config, small_peaks, stop=StopConfig(max_iterations=200, target_accuracy=0.3), init=init
    )
    assert reached.status == "target_reached"
    assert reached.history[-1]["val_acc"] >= 0.3
    assert all(r["val_acc"] < 0.3 for r in reached.history[:-1])

    seen = []
    stopped = train(
        config,
        small_peaks,
        stop=StopConfig(max_iterations=50),
        init=init,
        callback=lambda row: seen.append(row["iteration"]) or row["iteration"] == 2,
    )
    assert stopped.status == "stopped" and seen == [0, 1, 2]

    budget = train(
        config, small_peaks, stop=StopConfig(max_iterations=10**6, time_budget=0.2), init=init
    )
    assert budget.status == "time_budget"
    assert budget.history[-1]["wall_time"] >= 0.2


def test_gradient_tolerance_converges_on_zero_init(small_peaks):
    """At zero weights only the classifier bias has a gradient; a loose tolerance stops at once."""
    result = train(
        _config(small_peaks),
        small_peaks,
        stop=StopConfig(grad_tol=10.0),
        init=InitConfig(distribution="zero"),
    )
    assert result.status == "converged" and len(result.history) == 1


def test_minibatch_adam_decreases_the_objective(small_peaks):
    result = train(
        _config(small_peaks),
        small_peaks,
        optimizer=OptimizerConfig(name="adam", learning_rate=0.02, batch_size=32),
        stop=StopConfig(max_iterations=60, grad_tol=0.0),
        init=InitConfig(scale_open=0.5, scale_hidden=0.5, scale_class=0.5, seed=2),
    )
    first = np.mean([r["objective"] for r in result.history[:5]])
    last = np.mean([r["objective"] for r in result.history[-5:]])
    assert last < first


def test_mismatched_network_and_data_raise(small_peaks):
    bad = solver.NetworkConfig(n_features=3, n_classes=5, width=6, n_layers=2)
    with pytest.raises(ConfigError, match="n_features=3"):
        train(bad, small_peaks)
    with pytest.raises(ConfigError, match="unknown strategy"):
        train(_config(small_peaks), small_peaks, strategy="warp")
    with pytest.raises(ConfigError, match="target_accuracy"):
        StopConfig(target_accuracy=88)


def test_default_peaks_run_reaches_88_percent_validation_accuracy(tmp_path):
    """The README's reference configuration (T = 5, 300 L-BFGS iterations, all scales 1e-3)."""
    from solver.cli import main

    out = tmp_path / "peaks"
    assert main(["train", "--out", str(out), "--print-every", "1000"]) == 0
    import csv
    import json

    rows = list(csv.DictReader(open(out / "history.csv")))
    assert len(rows) == 301
    summary = json.loads((out / "summary.json").read_text())
    assert summary["final"]["val_acc"] >= 0.88, summary
    assert float(rows[-1]["val_acc"]) == summary["final"]["val_acc"]
    assert float(rows[0]["objective"]) == pytest.approx(np.log(5), abs=1e-2)
