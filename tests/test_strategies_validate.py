"""Every strategy checks its options against the network before any training."""

from __future__ import annotations

import pytest

import solver
from solver.data import load_dataset
from solver.errors import ConfigError
from solver.strategies import make_strategy
from solver.train import StopConfig, train


@pytest.fixture(scope="module")
def data():
    return load_dataset("peaks", n_train_per_class=10, n_val_per_class=4, seed=0)


def _config(**kw):
    base = dict(n_features=2, n_classes=5, width=6, n_layers=8)
    base.update(kw)
    return solver.NetworkConfig(**base)


@pytest.mark.parametrize(
    "name,options,config_kw,match",
    [
        ("nested", {"layers": [3, 8]}, {}, "integer multiple"),
        (
            "nested",
            {"layers": [4, 8], "interpolation": "zero"},
            {"activation": "smoothrelu"},
            "zero",
        ),
        ("nested", {"layers": [4, 8], "level_tolerance": 2.0}, {}, "level_tolerance"),
        ("spline", {"refine": "both"}, {}, "refine"),
        ("spline", {"degree": 0}, {}, "degree"),
        ("spline", {"time_scale": 2.0}, {}, "time_scale"),
        ("box", {}, {"bias": "scalar"}, "bias='vector'"),
        ("box", {"scale": -1.0}, {}, "scale"),
        ("box", {"newton_steps": 0}, {}, "newton_steps"),
    ],
)
def test_validate_rejects_impossible_options_before_training(data, name, options, config_kw, match):
    config = _config(**config_kw)
    strategy = make_strategy(name, **options)
    with pytest.raises(ConfigError, match=match):
        strategy.validate(config)
    rows = []
    with pytest.raises(ConfigError, match=match):
        train(
            config, data, strategy=strategy, stop=StopConfig(max_iterations=2), callback=rows.append
        )
    assert rows == []  # nothing was trained


@pytest.mark.parametrize("name", ["random", "nested", "spline", "box"])
def test_validate_accepts_defaults(name):
    make_strategy(name).validate(_config())
