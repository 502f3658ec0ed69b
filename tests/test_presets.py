"""The reference preset: library bundle, CLI flag, and non_descent in a training run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solver.data import load_dataset
from solver.errors import ConfigError
from solver.presets import REFERENCE_INIT, REFERENCE_NETWORK, reference_setup
from solver.train import train


@pytest.fixture(scope="module")
def peaks():
    return load_dataset("peaks", n_train_per_class=1000, n_val_per_class=40, seed=0)


def test_reference_setup_bundle_and_overrides():
    s = reference_setup()
    assert (s.network.width, s.network.n_layers, s.network.t_final) == (8, 30, 5.0)
    assert s.network.bias == "scalar" and s.network.ddt_gradient == "reference"
    assert (s.init.distribution, s.init.seed, s.init.scale_hidden) == ("reference", 1, 1e-3)
    assert s.optimizer.non_descent == "keep" and s.optimizer.memory == 20
    assert (s.stop.max_iterations, s.stop.grad_tol) == (300, 1e-4)
    t = reference_setup(network={"n_layers": 8}, optimizer={"non_descent": "reset"})
    assert t.network.n_layers == 8 and t.optimizer.non_descent == "reset"
    assert t.network.bias == REFERENCE_NETWORK["bias"] and t.init.seed == REFERENCE_INIT["seed"]
    with pytest.raises(ConfigError, match="ls_factor"):
        reference_setup(optimizer={"ls_factor": 2.0})


def test_keep_and_reset_agree_until_the_first_non_descent_direction(peaks):
    """Reference peaks run, 25 updates: identical histories up to the first non-descent
    direction; "keep" then fails its line search and says so in the message."""
    runs = {}
    for policy in ("keep", "reset"):
        s = reference_setup(optimizer={"non_descent": policy}, stop={"max_iterations": 25})
        runs[policy] = train(s.network, peaks, optimizer=s.optimizer, init=s.init, stop=s.stop)
    keep, reset = runs["keep"], runs["reset"]
    ck, cr = keep.extras["optimizer"], reset.extras["optimizer"]
    assert ck["non_descent"] >= 1 and ck["resets"] == 0
    assert ck["failed_steps"] >= ck["non_descent"]  # every kept ascent direction failed
    assert "non-descent directions kept" in keep.message
    assert cr["resets"] == cr["non_descent"] >= 1
    obj_k = np.array([r["objective"] for r in keep.history])
    obj_r = np.array([r["objective"] for r in reset.history])
    first = int(np.argmax(obj_k != obj_r))
    assert first >= 2
    np.testing.assert_array_equal(obj_k[:first], obj_r[:first])
    # the update that leaves row first-1 is where the kept direction failed its line search
    assert keep.history[first - 1]["ls_tries"] == 19


def test_cli_reference_flag(tmp_path):
    from solver.cli import main

    out = tmp_path / "ref"
    argv = ["train", "--reference", "--iterations", "3", "--out", str(out), "--print-every", "99"]
    assert main(argv) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["bias"] == "scalar"
    assert summary["config"]["ddt_gradient"] == "reference"
    assert summary["optimizer"]["non_descent"] == "keep" and summary["optimizer"]["memory"] == 20
    assert summary["optimizer_counts"]["steps"] == 3
    over = tmp_path / "over"
    assert main(argv[:-4] + ["--non-descent", "reset", "--out", str(over)]) == 0
    assert json.loads((over / "summary.json").read_text())["optimizer"]["non_descent"] == "reset"
    assert main(["train", "--reference", "--optimizer", "adam", "--out", str(tmp_path / "x")]) == 2
