"""Tests of solver.init: the glibc rand() stream and the parameter initialisation."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.init import (
    RAND_MAX,
    GlibcRandom,
    InitConfig,
    glibc_rand,
    glibc_uniform,
    group_scales,
    initialize,
)
from solver.params import Params, param_shapes

# ---- glibc rand() -----------------------------------------------------------------------------


def test_srand1_known_values():
    np.testing.assert_array_equal(
        glibc_rand(1, 5), [1804289383, 846930886, 1681692777, 1714636915, 1957747793]
    )


def test_srand0_equals_srand1():
    np.testing.assert_array_equal(glibc_rand(0, 100), glibc_rand(1, 100))


def test_outputs_in_range_and_uniform_is_ratio():
    r = glibc_rand(5, 10_000)
    assert r.dtype == np.int64 and r.min() >= 0 and r.max() <= RAND_MAX
    np.testing.assert_array_equal(glibc_uniform(5, 10_000), r / RAND_MAX)
    assert abs(glibc_uniform(5, 10_000).mean() - 0.5) < 0.01


def test_additive_feedback_property():
    """Outputs are words >> 1, so o[i] = o[i-31] + o[i-3] (mod 2^31) up to a carry bit of 1."""
    o = glibc_rand(3, 5000)
    diff = (o[31:] - o[:-31] - o[28:-3]) % (1 << 31)
    assert set(np.unique(diff)) <= {0, 1}
    assert 0.2 < np.mean(diff == 1) < 0.3  # carry iff both low bits are 1: about 1/4 of cases


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 2500), min_size=1, max_size=4),
)
def test_stream_is_stateful_and_chunk_independent(seed, cuts):
    total = sum(cuts)
    gen = GlibcRandom(seed)
    pieces = np.concatenate([gen.rand(c) for c in cuts])
    np.testing.assert_array_equal(pieces, glibc_rand(seed, total))


@pytest.fixture(scope="module")
def c_rand(tmp_path_factory):
    """Path of a compiled C program printing the first n rand() values after srand(seed)."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc not available")
    src = tmp_path_factory.mktemp("crand") / "rand.c"
    src.write_text(
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "int main(int argc, char **argv) {\n"
        "  srand((unsigned) strtoul(argv[1], 0, 10));\n"
        "  int n = atoi(argv[2]);\n"
        '  for (int i = 0; i < n; i++) printf("%d\\n", rand());\n'
        "  return 0;\n}\n"
    )
    exe = src.with_suffix("")
    subprocess.run([gcc, "-O1", "-o", str(exe), str(src)], check=True)
    probe = subprocess.run([str(exe), "1", "1"], capture_output=True, text=True, check=True)
    if probe.stdout.strip() != "1804289383":
        pytest.skip("the C library is not glibc (srand(1) gives a different stream)")
    return exe


@pytest.mark.parametrize("seed", [1, 42, 2**31 + 7, 2**32 - 1])
def test_matches_c_library(c_rand, seed):
    out = subprocess.run(
        [str(c_rand), str(seed), "1000"], capture_output=True, text=True, check=True
    ).stdout
    np.testing.assert_array_equal(glibc_rand(seed, 1000), np.array(out.split(), dtype=np.int64))


# ---- initialize -------------------------------------------------------------------------------

PEAKS = NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=4)


@pytest.mark.parametrize(
    "config",
    [
        PEAKS,
        NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=3, bias="scalar"),
        NetworkConfig(n_features=3, n_classes=4, width=6, n_layers=2, opening="pad"),
    ],
    ids=["vector", "scalar", "pad"],
)
@pytest.mark.parametrize("distribution", ["normal", "uniform", "reference", "zero"])
def test_shapes_match_config(config, distribution):
    params = initialize(config, InitConfig(distribution=distribution))
    for name, shape in param_shapes(config).items():
        assert getattr(params, name).shape == shape
    assert params.size == config.n_params


def test_reference_stream_order_and_scales():
    config = NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=3, bias="scalar")
    init = InitConfig(
        distribution="reference", seed=1, scale_open=0.1, scale_hidden=0.01, scale_class=1.0
    )
    params = initialize(config, init)
    u = glibc_uniform(1, config.n_params)
    np.testing.assert_array_equal(params.to_flat(), u * group_scales(config, init))
    # the very first rand() value goes to open_K[0, 0], the opening bias follows the weights
    assert params.open_K[0, 0] == 0.1 * 1804289383 / RAND_MAX
    assert params.open_K[0, 1] == 0.1 * 846930886 / RAND_MAX
    assert params.open_b[0] == 0.1 * u[16]
    # hidden layer 0: 64 weights row-major (out x in), then its scalar bias, then layer 1
    np.testing.assert_array_equal(params.K[0], 0.01 * u[17:81].reshape(8, 8))
    assert params.b[0, 0] == 0.01 * u[81]
    np.testing.assert_array_equal(params.K[1], 0.01 * u[82:146].reshape(8, 8))
    # classifier: weights (5 x 8) row-major, then 5 biases, at the end of the stream
    np.testing.assert_array_equal(params.W, u[-45:-5].reshape(5, 8))
    np.testing.assert_array_equal(params.mu, u[-5:])
    assert np.all(params.to_flat() >= 0)  # the reference initialisation is not centred


def test_pad_opening_draws_nothing_for_opening():
    config = NetworkConfig(n_features=3, n_classes=4, width=6, n_layers=2, opening="pad")
    params = initialize(config, InitConfig(distribution="reference", seed=1, scale_hidden=1.0))
    assert params.K[0, 0, 0] == 1804289383 / RAND_MAX


def test_group_scales_apply_per_block():
    init = InitConfig(scale_open=0.0, scale_hidden=2.0, scale_class=0.0, seed=3)
    params = initialize(PEAKS, init)
    assert not np.any(params.open_K) and not np.any(params.open_b)
    assert not np.any(params.W) and not np.any(params.mu)
    assert np.all(params.K != 0) and np.all(params.b != 0)


def test_normal_is_centred_with_scale_std_and_reproducible():
    config = NetworkConfig(n_features=2, n_classes=5, width=64, n_layers=10)
    init = InitConfig(distribution="normal", scale_hidden=0.5, seed=11)
    k = initialize(config, init).K
    assert abs(k.mean()) < 0.01  # 40960 samples: standard error 0.0025
    assert k.std() == pytest.approx(0.5, rel=0.02)
    assert initialize(config, init).allclose(initialize(config, init), rtol=0.0)
    other = initialize(config, InitConfig(distribution="normal", scale_hidden=0.5, seed=12))
    assert not np.allclose(other.K, k)


def test_uniform_is_centred_in_symmetric_interval():
    config = NetworkConfig(n_features=2, n_classes=5, width=64, n_layers=10)
    k = initialize(config, InitConfig(distribution="uniform", scale_hidden=0.3, seed=2)).K
    assert k.min() >= -0.3 and k.max() <= 0.3
    assert k.min() < -0.29 and k.max() > 0.29
    assert abs(k.mean()) < 0.01
    assert k.std() == pytest.approx(0.3 / np.sqrt(3.0), rel=0.02)


def test_zero_ignores_scales():
    params = initialize(PEAKS, InitConfig(distribution="zero", scale_hidden=5.0))
    assert params.allclose(Params.zeros(PEAKS), rtol=0.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"distribution": "xavier"}, r"`distribution` must be one of normal, uniform, reference"),
        (
            {"scale_open": -1e-3},
            r"`scale_open` must be a finite number >= 0; got scale_open=-0.001",
        ),
        ({"scale_class": float("inf")}, r"`scale_class` must be a finite number >= 0"),
        ({"seed": -1}, r"`seed` must be a non-negative integer; got seed=-1"),
        ({"seed": 1.5}, r"`seed` must be a non-negative integer"),
        ({"distribution": "reference", "seed": 2**32}, r"`seed` must be < 2\*\*32"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        InitConfig(**kwargs)
