"""Interpolation of layer weights between nested-iteration levels."""

from __future__ import annotations

import numpy as np
import pytest

from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.network import evaluate, scores
from solver.params import Params
from solver.strategies.interpolation import interpolation_matrix, refine_params


def _config(n_layers: int = 3, **kw) -> NetworkConfig:
    return NetworkConfig(n_features=2, n_classes=3, width=4, n_layers=n_layers, **kw)


def _params(config: NetworkConfig, seed: int = 0, scale: float = 0.7) -> Params:
    rng = np.random.default_rng(seed)
    return Params.from_flat(config, scale * rng.standard_normal(config.n_params)).copy()


def test_constant_matrix_repeats_each_layer():
    P = interpolation_matrix(3, 2, "constant")
    expected = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(P, expected)


def test_linear_matrix_interpolates_and_copies_the_last_interval():
    P = interpolation_matrix(3, 4, "linear")
    coarse = np.array([0.0, 4.0, 8.0])  # linear in time: 4 per coarse step
    fine = P @ coarse
    np.testing.assert_allclose(fine[:8], np.arange(8.0), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(fine[8:], [8.0, 8.0, 8.0, 8.0])
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=0, atol=1e-15)


def test_zero_matrix_keeps_coarse_layers_at_multiples_of_r():
    P = interpolation_matrix(2, 3, "zero")
    expected = np.zeros((6, 2))
    expected[0, 0] = expected[3, 1] = 1.0
    np.testing.assert_array_equal(P, expected)


@pytest.mark.parametrize("mode", ["constant", "linear", "zero"])
def test_refine_params_shapes_and_copies(mode):
    config = _config(3)
    params = _params(config)
    fine_config, fine = refine_params(config, params, 2, mode)
    assert fine_config.n_layers == 6
    assert fine_config.t_final == (2 * config.t_final if mode == "zero" else config.t_final)
    fine.check(fine_config)
    np.testing.assert_array_equal(fine.W, params.W)
    np.testing.assert_array_equal(fine.open_K, params.open_K)
    np.testing.assert_array_equal(fine.K[::2], params.K)
    fine.W[0, 0] += 1.0
    assert fine.W[0, 0] != params.W[0, 0]


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("factor", [2, 3])
def test_zero_refinement_preserves_the_network_function(activation, factor):
    config = _config(4, activation=activation, t_final=2.0)
    params = _params(config, seed=3)
    X = np.random.default_rng(1).standard_normal((25, 2))
    y = np.arange(25) % 3
    fine_config, fine = refine_params(config, params, factor, "zero")
    assert fine_config.h == pytest.approx(config.h, rel=1e-15)
    np.testing.assert_allclose(
        scores(fine_config, fine, X), scores(config, params, X), rtol=0, atol=1e-13
    )
    assert evaluate(fine_config, fine, X, y, gradient=False).loss == pytest.approx(
        evaluate(config, params, X, y, gradient=False).loss, rel=1e-13
    )


def test_constant_refinement_of_layer_independent_weights_is_a_smaller_step():
    config = _config(2)
    params = _params(config)
    params.K[1] = params.K[0]
    params.b[1] = params.b[0]
    fine_config, fine = refine_params(config, params, 2, "linear")
    assert np.all(fine.K == params.K[0])
    assert fine_config.h == config.h / 2


def test_zero_interpolation_rejects_smoothrelu():
    config = _config(2, activation="smoothrelu")
    with pytest.raises(ConfigError, match="sigma\\(0\\) = 0.*smoothrelu"):
        refine_params(config, _params(config), 2, "zero")


def test_bad_factor_and_mode():
    with pytest.raises(ConfigError, match="`factor` must be an integer >= 2; got factor=1"):
        interpolation_matrix(3, 1, "linear")
    with pytest.raises(ConfigError, match="`interpolation` must be one of .*cubic"):
        interpolation_matrix(3, 2, "cubic")
