"""Box initialisation, LSGD last-layer solves and the MSE regression model."""

from __future__ import annotations

import numpy as np
import pytest

from solver.config import NetworkConfig
from solver.data import load_dataset
from solver.errors import ConfigError
from solver.network import evaluate
from solver.optim import OptimizerConfig
from solver.strategies.box import box_layer, box_params
from solver.strategies.lsgd import (
    LSGDControls,
    final_states,
    least_squares_last_layer,
    newton_last_layer,
)
from solver.strategies.regression import RegressionModel, fit, regression_problem
from solver.train import StopConfig, train


@pytest.fixture(scope="module")
def peaks():
    return load_dataset("peaks", n_train_per_class=30, n_val_per_class=10, seed=2)


def test_box_hyperplanes_pass_through_their_points_inside_the_box():
    rng = np.random.default_rng(0)
    lo, hi = np.array([-1.0, 2.0, 0.0]), np.array([1.0, 5.0, 0.5])
    K, b, p = box_layer(rng, lo, hi, 50, scale=3.0)
    np.testing.assert_allclose(np.einsum("ij,ij->i", K, p) + b, 0.0, atol=1e-14)
    assert np.all(p >= lo) and np.all(p <= hi)
    np.testing.assert_allclose(np.linalg.norm(K, axis=1), 3.0 / np.linalg.norm(hi - lo))


def test_box_params_hidden_hyperplanes_through_points_of_the_state_box(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=3)
    params = box_params(config, peaks.X_train, seed=4, scale=2.0)
    # replay the draw: the same generator gives the same points
    rng = np.random.default_rng(4)
    X = peaks.X_train
    K0, b0, p0 = box_layer(rng, X.min(0), X.max(0), 6, 2.0)
    np.testing.assert_array_equal(params.open_K, K0)
    np.testing.assert_allclose(np.diag(params.open_K @ p0.T) + params.open_b, 0, atol=1e-14)
    Y = np.tanh(X @ K0.T + b0)
    K1, b1, p1 = box_layer(rng, Y.min(0), Y.max(0), 6, 2.0)
    np.testing.assert_array_equal(params.K[0], K1)
    np.testing.assert_allclose(np.einsum("ij,ij->i", params.K[0], p1) + params.b[0], 0, atol=1e-14)
    assert np.all(p1 >= Y.min(0)) and np.all(p1 <= Y.max(0))
    np.testing.assert_array_equal(params.W, 0.0)


def test_box_requires_vector_bias(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=3, bias="scalar")
    with pytest.raises(ConfigError, match="needs bias='vector'; got bias='scalar'"):
        box_params(config, peaks.X_train)
    with pytest.raises(ConfigError, match="needs bias='vector'"):
        train(config, peaks, strategy="box")


@pytest.mark.parametrize("m", [1, 3])
def test_least_squares_last_layer_equals_numpy_lstsq(m):
    rng = np.random.default_rng(m)
    Y, T = rng.standard_normal((40, 5)), rng.standard_normal((40, m))
    W, c = least_squares_last_layer(Y, T)
    A, *_ = np.linalg.lstsq(np.hstack([Y, np.ones((40, 1))]), T, rcond=None)
    np.testing.assert_allclose(W, A[:5].T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c, A[5], rtol=1e-12, atol=1e-12)
    # ridge: the normal equations of 1/(2B)|Y W^T + c - T|^2 + ridge/2 |W|^2 hold
    ridge = 0.3
    W, c = least_squares_last_layer(Y, T, ridge)
    R = Y @ W.T + c - T
    np.testing.assert_allclose(R.T @ Y / 40 + ridge * W, 0, atol=1e-12)
    np.testing.assert_allclose(R.sum(0), 0, atol=1e-12)


def test_newton_last_layer_reaches_the_stationary_point():
    rng = np.random.default_rng(0)
    Y, y = rng.standard_normal((60, 4)), rng.integers(0, 3, 60)
    gamma = 1e-2
    W, mu, steps = newton_last_layer(Y, y, np.zeros((3, 4)), np.zeros(3), gamma=gamma, steps=20)
    z = Y @ W.T + mu
    P = np.exp(z - z.max(1, keepdims=True))
    P /= P.sum(1, keepdims=True)
    P[np.arange(60), y] -= 1
    np.testing.assert_allclose(P.T @ Y / 60 + gamma * W, 0, atol=1e-10)
    np.testing.assert_allclose(P.sum(0) / 60 + gamma * mu, 0, atol=1e-10)
    assert 1 <= steps < 20
    with pytest.raises(ConfigError, match="gamma = gamma_class \\+ ridge > 0; got 0"):
        newton_last_layer(Y, y, W, mu, gamma=0)


def test_lsgd_controls_solve_the_classifier_and_return_the_hidden_gradient(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=3, gamma_class=1e-3)
    params = box_params(config, peaks.X_train, seed=1)
    controls = LSGDControls(config, peaks.X_train, peaks.y_train, ridge=1e-4, newton_steps=30)
    theta = controls.split(params)
    assert theta.size == config.n_params - 5 * 7
    solved, _ = controls.params(theta)
    W, mu, _ = newton_last_layer(
        final_states(config, solved, peaks.X_train),
        peaks.y_train,
        np.zeros((5, 6)),
        np.zeros(5),
        gamma=1e-3 + 1e-4,
        steps=30,
    )
    np.testing.assert_allclose(solved.W, W, atol=1e-8)
    ev = evaluate(config, solved, peaks.X_train, peaks.y_train)
    # at the solved classifier the classifier gradient is (nearly) -ridge * W
    np.testing.assert_allclose(ev.gradient.W, -1e-4 * solved.W, atol=1e-8)
    np.testing.assert_array_equal(controls.pullback(theta, ev), ev.gradient.to_flat()[: theta.size])


def test_box_lsgd_training_beats_the_saddle(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=4)
    result = train(
        config,
        peaks,
        optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
        stop=StopConfig(max_iterations=5, grad_tol=0.0),
        strategy={"name": "box", "lsgd": True, "seed": 0},
    )
    # the first row already has the solved classifier: loss well below ln 5
    assert result.history[0]["loss"] < np.log(5) - 0.2
    assert result.n_params == config.n_params - 5 * 7
    assert result.extras == {
        "init": "box", "lsgd": True, "optimizer": {"steps": 5, "failed_steps": 0}
    }  # fmt: skip


def test_regression_gradient_matches_finite_differences():
    model = RegressionModel(n_features=2, n_outputs=2, width=3, n_layers=3, t_final=1.5)
    rng = np.random.default_rng(0)
    theta = 0.6 * rng.standard_normal(model.n_params)
    X, T = rng.standard_normal((10, 2)), rng.standard_normal((10, 2))
    loss, g = model.loss_and_gradient(model.unflatten(theta), X, T)
    assert loss == pytest.approx(model.mse(model.unflatten(theta), X, T), rel=1e-14)
    v = rng.standard_normal(model.n_params)
    eps = 1e-6
    fd = (
        model.mse(model.unflatten(theta + eps * v), X, T)
        - model.mse(model.unflatten(theta - eps * v), X, T)
    ) / (2 * eps)
    assert model.flatten(g) @ v == pytest.approx(fd, rel=1e-7)


def test_regression_lsgd_output_layer_is_the_least_squares_fit():
    data = regression_problem("sine", n_train=50, n_val=20, seed=0)
    model = RegressionModel(n_features=1, n_outputs=1, width=6, n_layers=2)
    start = model.box_params(data.X_train, seed=0)
    res = fit(
        model,
        data,
        start,
        optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
        iterations=0,
        lsgd=True,
        ridge=0.0,
    )
    W, c = least_squares_last_layer(model.final_states(res.params, data.X_train), data.T_train)
    np.testing.assert_allclose(res.params.W, W, atol=1e-12)
    assert res.history[0]["train_mse"] == pytest.approx(
        model.mse(res.params, data.X_train, data.T_train), rel=1e-12
    )
    more = fit(
        model,
        data,
        start,
        optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
        iterations=20,
        lsgd=True,
    )
    assert more.history[-1]["train_mse"] < more.history[0]["train_mse"]


def test_depth_scaled_boxes_grow_by_one_plus_h_per_layer(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=3, t_final=1.5)
    params = box_params(config, peaks.X_train, seed=7, depth_scaled=True)
    rng = np.random.default_rng(7)
    X = peaks.X_train
    K0, b0, _ = box_layer(rng, X.min(0), X.max(0), 6, 2.0)
    Y0 = np.tanh(X @ K0.T + b0)
    centre, half = (Y0.max(0) + Y0.min(0)) / 2, (Y0.max(0) - Y0.min(0)) / 2
    for n in range(3):
        grown = half * (1 + config.h) ** n
        K, b, p = box_layer(rng, centre - grown, centre + grown, 6, 2.0)
        np.testing.assert_array_equal(params.K[n], K)
        np.testing.assert_array_equal(params.b[n], b)
        np.testing.assert_allclose(np.linalg.norm(K, axis=1), 2.0 / np.linalg.norm(2 * grown))


def test_box_strategy_option_errors(peaks):
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=2)
    with pytest.raises(ConfigError, match="`init` must be 'box' or 'random'; got init='glorot'"):
        train(config, peaks, strategy={"name": "box", "init": "glorot"})
    with pytest.raises(ConfigError, match="`scale` of box initialisation must be > 0"):
        train(config, peaks, strategy={"name": "box", "scale": 0.0})
