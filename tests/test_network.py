"""Exact serial network: finite-difference gradients, layer VJP dot-product tests, semantics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import solver
from solver import layers
from solver.errors import ConfigError, DataError
from solver.network import evaluate

ACTS = ("tanh", "relu", "smoothrelu")


def _problem(seed=0, **overrides):
    kwargs = dict(n_features=2, n_classes=3, width=4, n_layers=3, t_final=1.5)
    kwargs.update(overrides)
    config = solver.NetworkConfig(**kwargs)
    rng = np.random.default_rng(seed)
    params = solver.Params.from_flat(config, rng.normal(scale=0.7, size=config.n_params))
    X = rng.normal(size=(7, config.n_features))
    y = rng.integers(0, config.n_classes, size=7)
    return config, params, X, y


def _fd_gradient(config, params, X, y, eps=1e-5, time_scale=1.0):
    x0 = params.to_flat()
    g = np.empty_like(x0)
    for i in range(x0.size):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += eps
        xm[i] -= eps
        fp = evaluate(
            config, solver.Params.from_flat(config, xp), X, y, gradient=False, time_scale=time_scale
        ).objective
        fm = evaluate(
            config, solver.Params.from_flat(config, xm), X, y, gradient=False, time_scale=time_scale
        ).objective
        g[i] = (fp - fm) / (2 * eps)
    return g


@pytest.mark.parametrize(
    "act,bias,opening,reg",
    list(
        itertools.product(
            ACTS, ("vector", "scalar"), ("dense", "pad"), ("none", "tik", "ddt", "class", "all")
        )
    ),
)
def test_gradient_matches_central_differences(act, bias, opening, reg):
    gammas = {
        "none": {},
        "tik": {"gamma_tik": 0.3},
        "ddt": {"gamma_ddt": 0.05},
        "class": {"gamma_class": 0.2},
        "all": {"gamma_tik": 0.1, "gamma_ddt": 0.02, "gamma_class": 0.3},
    }[reg]
    config, params, X, y = _problem(
        seed=hash((act, bias, opening, reg)) % 1000,
        activation=act,
        bias=bias,
        opening=opening,
        **gammas,
    )
    J, grad = solver.objective_and_gradient(config, params, X, y)
    assert np.isfinite(J)
    g = grad.to_flat()
    g_fd = _fd_gradient(config, params, X, y)
    rel = np.linalg.norm(g - g_fd) / np.linalg.norm(g_fd)
    assert rel < 1e-6, rel


def test_time_scale_derivative_matches_central_differences():
    config, params, X, y = _problem(seed=3)
    lam, eps = 1.3, 1e-6
    ev = evaluate(config, params, X, y, time_scale=lam)
    fp = evaluate(config, params, X, y, gradient=False, time_scale=lam + eps).objective
    fm = evaluate(config, params, X, y, gradient=False, time_scale=lam - eps).objective
    fd = (fp - fm) / (2 * eps)
    assert abs(ev.info["d_time_scale"] - fd) < 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("nb", (1, 5))
def test_hidden_layer_vjp_dot_product(act, nb):
    """<P_next, J_Y dY> + <P_next, J_K dK> + ... equals the linearised change (dot-product test)."""
    rng = np.random.default_rng(11)
    B, w, h = 6, 5, 0.3
    Y, K, b = rng.normal(size=(B, w)), rng.normal(size=(w, w)), rng.normal(size=nb)
    P_next = rng.normal(size=(B, w))
    dY, dKd, dbd = rng.normal(size=(B, w)), rng.normal(size=(w, w)), rng.normal(size=nb)
    # exact directional derivative (Jacobian-vector product) from the formula
    _, sigma_prime = __import__("solver.activations", fromlist=["activation"]).activation(act)
    z = Y @ K.T + b
    jvp = h * sigma_prime(z) * (dY @ K.T + Y @ dKd.T + dbd)
    jvp += dY
    P, dK, db, _ = layers.hidden_step_vjp(Y, K, b, h, act, P_next)
    lhs = np.vdot(P_next, jvp)
    rhs = np.vdot(P, dY) + np.vdot(dK, dKd) + np.vdot(db, dbd)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


def test_classifier_vjp_dot_product():
    rng = np.random.default_rng(2)
    B, w, C = 9, 6, 4
    Y, W, mu = rng.normal(size=(B, w)), rng.normal(size=(C, w)), rng.normal(size=C)
    y = rng.integers(0, C, B)
    loss, P, dW, dmu, _ = layers.classifier_loss(Y, W, mu, y)
    assert loss == pytest.approx(layers.classifier_value(Y, W, mu, y), rel=1e-14)
    eps = 1e-6
    dY = rng.normal(size=(B, w))
    fd = (
        layers.classifier_value(Y + eps * dY, W, mu, y)
        - layers.classifier_value(Y - eps * dY, W, mu, y)
    ) / (2 * eps)
    assert abs(fd - np.vdot(P, dY)) < 1e-8


def test_loss_at_zero_weights_is_log_classes_and_stable_for_huge_scores():
    config = solver.NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=4)
    params = solver.Params.zeros(config)
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = np.arange(20) % 5
    assert solver.objective(config, params, X, y) == pytest.approx(np.log(5), rel=1e-14)
    params.mu[:] = [1e4, 0, 0, 0, -1e4]
    J, g = solver.objective_and_gradient(config, params, X, y)
    assert np.isfinite(J) and np.all(np.isfinite(g.to_flat()))


def test_forward_is_forward_euler_and_pad_opening():
    config, params, X, _ = _problem(seed=5, opening="pad", width=4)
    states = solver.forward(config, params, X)
    assert states.shape == (config.n_layers + 1, X.shape[0], config.width)
    np.testing.assert_array_equal(states[0][:, :2], X)
    np.testing.assert_array_equal(states[0][:, 2:], 0.0)
    n = 1
    expected = states[n] + config.h * np.tanh(states[n] @ params.K[n].T + params.b[n])
    np.testing.assert_allclose(states[n + 1], expected, rtol=1e-15)
    scores = states[-1] @ params.W.T + params.mu
    np.testing.assert_array_equal(solver.predict(config, params, X), scores.argmax(1))


def test_reference_ddt_gradient_switch_keeps_value_drops_gradient():
    exact, params, X, y = _problem(seed=9, gamma_ddt=0.5)
    ref = solver.NetworkConfig(**{**exact.to_dict(), "ddt_gradient": "reference"})
    plain = solver.NetworkConfig(**{**exact.to_dict(), "gamma_ddt": 0.0})
    J_exact, g_exact = solver.objective_and_gradient(exact, params, X, y)
    J_ref, g_ref = solver.objective_and_gradient(ref, params, X, y)
    _, g_plain = solver.objective_and_gradient(plain, params, X, y)
    assert J_ref == J_exact
    np.testing.assert_allclose(g_ref.to_flat(), g_plain.to_flat(), rtol=0, atol=0)
    assert not np.allclose(g_exact.K, g_plain.K)


def test_params_flat_view_roundtrip_and_save_load(tmp_path):
    config, params, _, _ = _problem(seed=4, bias="scalar")
    flat = params.to_flat()
    assert flat.size == config.n_params == params.size
    view = solver.Params.from_flat(config, flat)
    view.K[0, 0, 0] = 123.0
    assert flat[config.width * config.n_features + 1] == 123.0  # a view, not a copy
    path = tmp_path / "p.npz"
    params.save(path, config)
    loaded = solver.Params.load(path, config)
    assert loaded.allclose(params, rtol=0)
    assert solver.Params.load_config(path) == config


def test_bad_inputs_raise_clear_errors(tmp_path):
    config, params, X, y = _problem()
    with pytest.raises(DataError, match="n_features=2"):
        solver.forward(config, params, X[:, :1])
    with pytest.raises(DataError, match="labels must have shape"):
        solver.objective(config, params, X, y[:-1])
    with pytest.raises(ConfigError, match="width"):
        solver.NetworkConfig(n_features=2, n_classes=5, width=4, n_layers=3)
    with pytest.raises(ConfigError, match="activation"):
        solver.NetworkConfig(n_features=2, n_classes=3, width=4, n_layers=3, activation="sigmoid")
    with pytest.raises(ConfigError, match="gamma_tik"):
        solver.NetworkConfig(n_features=2, n_classes=3, width=4, n_layers=3, gamma_tik=-1.0)
    with pytest.raises(ConfigError, match="shape"):
        solver.Params.from_flat(config, np.zeros(3))
    with pytest.raises(DataError, match="does not exist"):
        solver.Params.load(tmp_path / "missing.npz")
