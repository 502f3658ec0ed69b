"""Nested iteration: schedules, MGRIT fit checks, and end-to-end training on tiny peaks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from solver.config import NetworkConfig
from solver.data import load_dataset
from solver.errors import ConfigError
from solver.mgrit import ParallelConfig, reference_mgrit
from solver.optim import OptimizerConfig
from solver.params import Params
from solver.strategies import make_strategy
from solver.strategies.nested import check_parallel_schedule, inherited_mask, resolve_schedule
from solver.train import StopConfig, train


@pytest.fixture(scope="module")
def peaks():
    return load_dataset("peaks", n_train_per_class=30, n_val_per_class=10, seed=0)


def _config(n_layers: int, **kw) -> NetworkConfig:
    return NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=n_layers, **kw)


def _init(config: NetworkConfig, seed: int = 0) -> Params:
    rng = np.random.default_rng(seed)
    return Params.from_flat(config, 0.3 * rng.standard_normal(config.n_params)).copy()


def test_schedule_from_factor_and_levels():
    assert resolve_schedule(32, factor=2, n_levels=3) == (8, 16, 32)
    assert resolve_schedule(27, factor=3, n_levels=3, coarse_layers=3) == (3, 9, 27)
    assert resolve_schedule(12, layers=[3, 12]) == (3, 12)


def test_schedule_errors():
    with pytest.raises(ConfigError, match="must equal the final network's n_layers=32"):
        resolve_schedule(32, layers=[4, 8, 16])
    with pytest.raises(ConfigError, match="integer multiple >= 2 .* 8 -> 12"):
        resolve_schedule(12, layers=[8, 12])
    with pytest.raises(ConfigError, match="need n_layers divisible by 4; got n_layers=30"):
        resolve_schedule(30, factor=2, n_levels=3)
    with pytest.raises(ConfigError, match="`coarse_layers`=5 does not match"):
        resolve_schedule(32, factor=2, n_levels=3, coarse_layers=5)


@dataclass(frozen=True)
class _Comm:
    size: int


def test_mgrit_schedule_check_names_level_and_suggests_a_schedule():
    parallel = ParallelConfig(mgrit=reference_mgrit(coarsening_factor_fine=4))
    check_parallel_schedule((16, 32, 64), parallel, _Comm(4))
    check_parallel_schedule((2, 4), parallel, None)  # one rank: everything fits
    with pytest.raises(
        ConfigError,
        match=(
            "level 0 .*n_layers=8 .*2 coarse intervals, fewer than the 4 ranks"
            ".*use layers=\\[16, 32, 64\\]"
        ),
    ):
        check_parallel_schedule((8, 16, 32, 64), parallel, _Comm(4))
    with pytest.raises(ConfigError, match="level 0 .*final depth of at least 13 layers"):
        check_parallel_schedule((6, 12), parallel, _Comm(4))


def test_nested_training_marks_levels_and_layer_counts(peaks):
    config = _config(8)
    strategy = make_strategy("nested", layers=(2, 4, 8), level_iterations=(3, 4))
    result = train(
        config,
        peaks,
        optimizer=OptimizerConfig(name="lbfgs"),
        stop=StopConfig(max_iterations=5, grad_tol=0.0),
        init=_init(config.with_layers(2)),
        strategy=strategy,
    )
    levels = [row["level"] for row in result.history]
    layers = [row["n_layers"] for row in result.history]
    # optimize(max_iterations=k) records k + 1 evaluated rows (the last one is not stepped)
    assert levels == [0] * 4 + [1] * 5 + [2] * 6
    assert layers == [2] * 4 + [4] * 5 + [8] * 6
    assert [row["iteration"] for row in result.history] == list(range(15))
    assert result.config.n_layers == 8 and result.params.n_layers == 8
    assert [lv["n_layers"] for lv in result.extras["levels"]] == [2, 4, 8]
    costs = [row["cost"] for row in result.history]
    assert all(b > a for a, b in zip(costs, costs[1:], strict=False))
    assert result.status == "max_iterations"


def test_level_tolerance_moves_on_early_and_coarse_target_does_not_end(peaks):
    config = _config(4)
    strategy = make_strategy("nested", layers=(2, 4), level_iterations=50, level_tolerance=0.05)
    result = train(
        config,
        peaks,
        optimizer=OptimizerConfig(name="lbfgs"),
        stop=StopConfig(max_iterations=2, grad_tol=0.0, target_accuracy=0.01),
        init=_init(config.with_layers(2)),
        strategy=strategy,
    )
    # the coarse level stops at its first row (target and tolerance both met), the final
    # level then ends the run with "target_reached"
    assert [row["n_layers"] for row in result.history] == [2, 4]
    assert result.status == "target_reached"
    assert result.config.n_layers == 4


def test_freeze_inherited_keeps_inherited_layers(peaks):
    config = _config(4)
    coarse = config.with_layers(2, t_final=config.t_final / 2)  # "zero" keeps h fixed
    strategy = make_strategy(
        "nested", layers=(2, 4), level_iterations=3, interpolation="zero", freeze_inherited=True
    )
    seen = []
    result = train(
        config,
        peaks,
        optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
        stop=StopConfig(max_iterations=3, grad_tol=0.0),
        init=_init(coarse),
        strategy=strategy,
        callback=seen.append,
    )
    coarse_result = train(
        coarse,
        peaks,
        optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
        stop=StopConfig(max_iterations=3, grad_tol=0.0),
        init=_init(coarse),
    )
    # the final level trained only the new layers 1, 3 (and opening/classifier)
    np.testing.assert_array_equal(result.params.K[::2], coarse_result.params.K)
    assert np.any(result.params.K[1] != 0.0)
    assert len(seen) == 8
    mask = inherited_mask(config, 2)
    assert mask.sum() == 2 * (6 * 6 + 6)


def test_nested_zero_rejects_smoothrelu(peaks):
    config = _config(4, activation="smoothrelu")
    with pytest.raises(ConfigError, match="interpolation='zero'"):
        train(
            config,
            peaks,
            init=_init(config.with_layers(2)),
            strategy={"name": "nested", "layers": (2, 4), "interpolation": "zero"},
        )


def test_level_options_validated(peaks):
    config = _config(4)
    with pytest.raises(ConfigError, match="one entry per coarse level \\(1\\)"):
        train(
            config,
            peaks,
            init=_init(config.with_layers(2)),
            strategy={"name": "nested", "layers": (2, 4), "level_iterations": (1, 2)},
        )
    with pytest.raises(ConfigError, match="`level_tolerance` must be None or fractions"):
        train(
            config,
            peaks,
            init=_init(config.with_layers(2)),
            strategy={"name": "nested", "layers": (2, 4), "level_tolerance": 85},
        )


def test_initial_params_must_match_the_coarsest_level(peaks):
    config = _config(4)
    with pytest.raises(ConfigError, match="coarsest level \\(n_layers=2\\); the initial Params"):
        train(config, peaks, init=_init(config), strategy={"name": "nested", "layers": (2, 4)})
