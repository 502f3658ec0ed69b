"""FAS correctness on the nonlinear vector problem y' = tanh(A y + b)."""

from __future__ import annotations

import numpy as np
import pytest

from solver.mgrit import MGRIT, MGRITConfig
from solver.mgrit.examples import TanhSystem


@pytest.fixture
def tanh_system():
    rng = np.random.default_rng(3)
    A = 1.5 * rng.standard_normal((4, 4))
    return TanhSystem(A, rng.standard_normal(4), 0.1, rng.standard_normal(4), seed=9)


@pytest.mark.parametrize(
    "config",
    [
        MGRITConfig(max_levels=2, abs_tol=1e-12),
        MGRITConfig(abs_tol=1e-12, nrelax_fine=1),
        MGRITConfig(abs_tol=1e-12, cycle="F", skip_first_down=True),
        MGRITConfig(abs_tol=1e-12, coarsening_factor_fine=8, coarsening_factor=3, nrelax=2),
    ],
)
def test_converged_fas_equals_serial(tanh_system, config):
    n_layers = 72
    result = MGRIT(tanh_system, n_layers, config).solve()
    assert result.status == "converged"
    states = np.stack([result.states[t] for t in range(n_layers + 1)])
    np.testing.assert_allclose(states, tanh_system.serial(n_layers), rtol=0, atol=1e-11)
    assert result.convergence_factor < 0.5


def test_fas_converges_from_a_zero_guess(tanh_system):
    zero_guess = TanhSystem(tanh_system.A, tanh_system.b, 0.1, tanh_system.y0, seed=None)
    result = MGRIT(zero_guess, 64, MGRITConfig(abs_tol=1e-12)).solve()
    assert result.status == "converged" and result.iterations < 20


def test_one_level_equals_serial(tanh_system):
    result = MGRIT(tanh_system, 33, MGRITConfig(max_levels=1)).solve()
    states = np.stack([result.states[t] for t in range(34)])
    np.testing.assert_array_equal(states, tanh_system.serial(33))
