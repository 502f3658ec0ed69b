"""B-spline basis and spline controls: basis properties, exact ResNet recovery, gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.config import NetworkConfig
from solver.data import load_dataset
from solver.errors import ConfigError
from solver.network import evaluate
from solver.optim import OptimizerConfig
from solver.params import Params
from solver.strategies.bspline import basis_at, cox_de_boor, layer_matrix, refinement_matrix
from solver.strategies.spline import SplineControls, refine_coefficients, spline_param_counts
from solver.train import StopConfig, train


def _config(n_layers: int, **kw) -> NetworkConfig:
    return NetworkConfig(n_features=2, n_classes=3, width=4, n_layers=n_layers, **kw)


def _batch(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 2)), rng.integers(0, 3, n)


@settings(max_examples=60, deadline=None)
@given(
    n_layers=st.integers(1, 150),
    n_knots=st.integers(1, 40),
    degree=st.integers(1, 4),
)
def test_basis_partition_of_unity_nonnegative_local_support(n_layers, n_knots, degree):
    # rows 0..N-1 are the layers; row N is the final time t = T
    num = np.arange(n_layers + 1, dtype=np.int64) * n_knots
    M = basis_at(num, n_layers, n_knots, degree)
    assert M.shape == (n_layers + 1, n_knots + degree)
    assert M.min() >= 0.0
    np.testing.assert_allclose(M.sum(axis=1), 1.0, rtol=0, atol=1e-13)
    for n in range(n_layers + 1):
        span = min(n * n_knots // n_layers, n_knots - 1)
        nonzero = np.flatnonzero(M[n] > 1e-15)
        assert nonzero.min() >= span and nonzero.max() <= span + degree
        for k in nonzero:  # t_n lies in the support [(k - D) tau, (k + 1) tau] of B_k
            assert (k - degree) * n_layers <= n * n_knots <= (k + 1) * n_layers
    np.testing.assert_array_equal(layer_matrix(n_layers, n_knots, degree), M[:-1])


def test_cox_de_boor_matches_closed_form_quadratic_and_cubic():
    u = np.linspace(0.0, 1.0, 11)
    quad = np.stack([(1 - u) ** 2 / 2, (-2 * u**2 + 2 * u + 1) / 2, u**2 / 2], axis=1)
    np.testing.assert_allclose(cox_de_boor(u, 2), quad, rtol=0, atol=1e-15)
    cub = np.stack(
        [
            (1 - u) ** 3 / 6,
            (3 * u**3 - 6 * u**2 + 4) / 6,
            (-3 * u**3 + 3 * u**2 + 3 * u + 1) / 6,
            u**3 / 6,
        ],
        axis=1,
    )
    np.testing.assert_allclose(cox_de_boor(u, 3), cub, rtol=0, atol=1e-15)


def test_degree_one_with_n_knots_equal_layers_reproduces_the_plain_network():
    config = _config(6, gamma_tik=1e-2, gamma_ddt=1e-2)
    controls = SplineControls(config, n_knots=6, degree=1)
    rng = np.random.default_rng(1)
    plain = Params.from_flat(config, 0.5 * rng.standard_normal(config.n_params)).copy()
    coef = Params.zeros(controls.coef_config)
    for name in ("open_K", "open_b", "W", "mu"):
        getattr(coef, name)[...] = getattr(plain, name)
    coef.K[:6], coef.b[:6] = plain.K, plain.b
    coef.K[6], coef.b[6] = rng.standard_normal((4, 4)), rng.standard_normal(4)  # unused c_N
    theta = controls.pack(coef)
    params, lam = controls.params(theta)
    assert lam == 1.0
    np.testing.assert_array_equal(params.K, plain.K)
    np.testing.assert_array_equal(params.b, plain.b)
    X, y = _batch()
    ev_plain = evaluate(config, plain, X, y)
    ev = evaluate(config, params, X, y)
    assert ev.objective == ev_plain.objective
    g = controls.coefficients(controls.pullback(theta, ev))
    np.testing.assert_allclose(g.K[:6], ev_plain.gradient.K, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(g.K[6], 0.0)


@pytest.mark.parametrize("degree,n_knots,n_layers", [(1, 3, 7), (2, 4, 9), (3, 2, 5)])
def test_finite_difference_gradient_of_coefficients_and_time_scale(degree, n_knots, n_layers):
    config = _config(n_layers, t_final=2.0, gamma_tik=1e-3, gamma_ddt=1e-3, gamma_class=1e-3)
    controls = SplineControls(config, n_knots, degree, train_time_scale=True)
    rng = np.random.default_rng(degree)
    theta = 0.5 * rng.standard_normal(controls.size)
    theta[-1] = 1.3
    X, y = _batch(15, seed=degree)

    def J(th: np.ndarray) -> float:
        params, lam = controls.params(th)
        return evaluate(config, params, X, y, gradient=False, time_scale=lam).objective

    params, lam = controls.params(theta)
    g = controls.pullback(theta, evaluate(config, params, X, y, time_scale=lam))
    eps = 1e-6
    for direction in (rng.standard_normal(controls.size), np.eye(controls.size)[-1]):
        fd = (J(theta + eps * direction) - J(theta - eps * direction)) / (2 * eps)
        assert g @ direction == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("degree", [1, 2, 3])
def test_knot_insertion_and_layer_refinement_keep_the_spline(degree):
    coarse = _config(6)
    controls = SplineControls(coarse, 3, degree, train_time_scale=True)
    theta = np.random.default_rng(0).standard_normal(controls.size)
    fine_config = coarse.with_layers(12)
    by_layers, th_l = refine_coefficients(controls, theta, fine_config, "layers")
    by_knots, th_k = refine_coefficients(controls, theta, fine_config, "knots")
    assert by_knots.n_knots == 6 and by_layers.n_knots == 3
    p_l, lam_l = by_layers.params(th_l)
    p_k, lam_k = by_knots.params(th_k)
    assert lam_l == lam_k == theta[-1]
    np.testing.assert_allclose(p_k.K, p_l.K, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p_k.b, p_l.b, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(p_l.K[::2], controls.params(theta)[0].K)
    assert refinement_matrix(3, degree, 2).shape == (6 + degree, 3 + degree)


def test_parameter_counts():
    config = NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=32)
    counts = spline_param_counts(config, n_knots=5, degree=2)
    assert counts["hidden_spline"] == 7 * (64 + 8)
    assert counts["hidden_plain"] == 32 * (64 + 8)
    assert counts["total_plain"] == config.n_params
    assert counts["total_plain"] - counts["total_spline"] == 25 * 72
    assert SplineControls(config, 5, 2).size == counts["total_spline"]


def test_spline_strategy_nested_with_knot_insertion():
    data = load_dataset("peaks", n_train_per_class=20, n_val_per_class=5, seed=1)
    config = NetworkConfig(n_features=2, n_classes=5, width=5, n_layers=8)
    coef_config = config.with_layers(2 + 2)  # first level: n_knots=2, degree 2
    init = Params.from_flat(
        coef_config, 0.2 * np.random.default_rng(0).standard_normal(coef_config.n_params)
    ).copy()
    result = train(
        config,
        data,
        optimizer=OptimizerConfig(name="lbfgs"),
        stop=StopConfig(max_iterations=3, grad_tol=0.0),
        init=init,
        strategy={
            "name": "spline",
            "degree": 2,
            "n_knots": 2,
            "layers": (2, 4, 8),
            "refine": "knots",
            "level_iterations": 2,
            "train_time_scale": True,
        },
    )
    assert [row["n_layers"] for row in result.history] == [2] * 3 + [4] * 3 + [8] * 4
    assert result.extras["n_knots"] == 8
    assert result.n_params == spline_param_counts(config, 8, 2)["total_spline"] + 1
    assert result.params.n_layers == 8
    assert np.isfinite(result.extras["time_scale"])


def test_spline_option_errors():
    with pytest.raises(ConfigError, match="`degree` of the B-spline controls .* got degree=0"):
        SplineControls(_config(4), n_knots=2, degree=0)
    with pytest.raises(ConfigError, match="`n_knots` .* got n_knots=0"):
        layer_matrix(4, 0, 2)
    data = load_dataset("peaks", n_train_per_class=5, n_val_per_class=2, seed=1)
    config = NetworkConfig(n_features=2, n_classes=5, width=5, n_layers=4)
    with pytest.raises(ConfigError, match="`refine` must be 'layers' or 'knots'"):
        train(config, data, strategy={"name": "spline", "refine": "both"})
    with pytest.raises(ConfigError, match="n_knots \\+ degree = 5 coefficient sets"):
        init = Params.zeros(config)
        train(config, data, init=init, strategy={"name": "spline", "n_knots": 3, "degree": 2})
    with pytest.raises(ConfigError, match="fixed `time_scale` other than 1"):
        train(config, data, strategy={"name": "spline", "time_scale": 2.0})
