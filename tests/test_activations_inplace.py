"""In-place activations and the band derivative are bitwise equal to the plain formulas."""

import numpy as np
import pytest

from solver.activations import (
    ETA,
    Scratch,
    activation,
    activation_inplace,
    derivative_from_value,
    smoothrelu_prime_band,
)


def _samples(dtype):
    rng = np.random.default_rng(4)
    x = (0.15 * rng.standard_normal((300, 7))).astype(dtype)
    edge = [ETA, -ETA, np.nextafter(ETA, 0), np.nextafter(-ETA, 0), 0.0, -0.0, 1e-30, -1e-30]
    x[0, : len(edge) - 1] = edge[:-1]
    x[1, 0] = edge[-1]
    return x


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", ["tanh", "relu", "smoothrelu"])
def test_inplace_activation_is_bitwise_the_formula(name, dtype):
    x = _samples(dtype)
    ref = activation(name)[0](x)
    for scratch in (None, Scratch(x.shape, dtype)):
        got = activation_inplace(name)(x.copy(), scratch)
        assert got.dtype == dtype and got.tobytes() == ref.tobytes()
    got = activation_inplace(name)(np.asfortranarray(x.copy()), None)  # non-contiguous path
    assert np.ascontiguousarray(got).tobytes() == ref.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_band_derivative_is_bitwise_the_clip_formula(dtype):
    x = _samples(dtype)
    scratch = Scratch(x.shape, dtype)
    s = activation_inplace("smoothrelu")(x.copy(), scratch)
    ref = derivative_from_value("smoothrelu")(s)
    got = smoothrelu_prime_band(s, scratch.band, np.empty_like(s))
    assert got.tobytes() == ref.tobytes()


def test_nan_objective_keeps_nan_gradient():
    """A NaN activation makes the objective NaN; the serial gradient then uses the general
    derivative, which propagates the NaN (training reports 'diverged')."""
    from solver import NetworkConfig, evaluate
    from solver.params import Params

    config = NetworkConfig(n_features=2, n_classes=3, width=4, n_layers=3, activation="smoothrelu")
    params = Params.from_flat(config, np.full(config.n_params, 0.1))
    X = np.array([[0.1, np.nan], [0.2, 0.3]])
    ev = evaluate(config, params, X, np.array([0, 1]))
    assert np.isnan(ev.objective) and np.isnan(ev.gradient.to_flat()).any()
