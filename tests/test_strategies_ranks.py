"""Nested iteration and spline controls with layer-parallel MGRIT on 1, 2 and 4 (thread) ranks."""

from __future__ import annotations

import numpy as np
import pytest

from solver.config import NetworkConfig
from solver.data import load_dataset
from solver.mgrit import ParallelConfig, reference_mgrit
from solver.parallel.threads import run_ranks
from solver.params import Params
from solver.train import StopConfig, train

CONFIG = NetworkConfig(n_features=2, n_classes=5, width=5, n_layers=16, t_final=5.0)
PARALLEL = ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2, abs_tol=1e-13))
CASES = {
    "nested": ({"name": "nested", "layers": (8, 16), "level_iterations": 2}, 8),
    "spline": (
        {"name": "spline", "n_knots": 4, "degree": 2, "layers": (8, 16), "level_iterations": 2},
        6,
    ),
}


@pytest.fixture(scope="module")
def data():
    return load_dataset("peaks", n_train_per_class=10, n_val_per_class=4, seed=0)


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_identical_on_1_2_4_ranks_and_match_serial(case, data):
    strategy, init_layers = CASES[case]
    coarse = CONFIG.with_layers(init_layers)
    rng = np.random.default_rng(0)
    init = Params.from_flat(coarse, 0.3 * rng.standard_normal(coarse.n_params)).copy()
    stop = StopConfig(max_iterations=2, grad_tol=0.0)

    def run(comm, parallel=PARALLEL):
        return train(
            CONFIG, data, stop=stop, init=init, strategy=strategy, parallel=parallel, comm=comm
        )

    serial = run(None, parallel=None)
    one = run_ranks(1, run)[0]
    np.testing.assert_allclose(one.params.to_flat(), serial.params.to_flat(), atol=1e-9)
    for p in (2, 4):
        for result in run_ranks(p, run):
            np.testing.assert_array_equal(result.params.to_flat(), one.params.to_flat())
            assert [r["n_layers"] for r in result.history] == [8] * 3 + [16] * 3
