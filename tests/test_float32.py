"""float32 networks: gradient accuracy, MGRIT rank invariance and training, at float32 tolerances.

Tolerances (documented in docs/ARCHITECTURE.md): float32 has a unit round-off of 6e-8; a sweep
of N layers accumulates O(N) of it, so a float32 objective agrees with the float64 one to
1e-5 relative and the gradient to 1e-4 (relative 2-norm) for the small networks here. Central
finite differences are not informative in float32 (cancellation), so the float32 gradient is
checked against the float64 adjoint gradient, which the float64 finite-difference tests verify.
"""

from dataclasses import replace

import numpy as np
import pytest

from solver import NetworkConfig, evaluate
from solver.mgrit import MGRITPropagation, ParallelConfig, reference_mgrit
from solver.network import SerialPropagation
from solver.parallel import run_ranks
from solver.params import Params

OBJ_RTOL = 1e-5
GRAD_RTOL = 1e-4


def _case(activation="smoothrelu", bias="vector", opening="dense", n_layers=12, seed=0):
    config = NetworkConfig(
        n_features=3, n_classes=4, width=6, n_layers=n_layers, activation=activation, bias=bias,
        opening=opening, gamma_tik=1e-3, gamma_ddt=1e-3, gamma_class=1e-3,
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    params = Params.from_flat(config, 0.4 * rng.standard_normal(config.n_params))
    X = rng.standard_normal((60, 3))
    y = rng.integers(0, 4, 60)
    return config, params, X, y


def _rel(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("activation", ["tanh", "relu", "smoothrelu"])
@pytest.mark.parametrize("bias", ["vector", "scalar"])
@pytest.mark.parametrize("opening", ["dense", "pad"])
def test_float32_gradient_matches_float64(activation, bias, opening):
    config, params, X, y = _case(activation, bias, opening)
    ref = evaluate(config, params, X, y, time_scale=1.2)
    c32 = replace(config, dtype="float32")
    ev = evaluate(c32, params, X, y, time_scale=1.2)
    assert ev.gradient.K.dtype == np.float32 and ev.info["scores"].dtype == np.float32
    assert ev.objective == pytest.approx(ref.objective, rel=OBJ_RTOL)
    assert _rel(ev.gradient.to_flat().astype(np.float64), ref.gradient.to_flat()) < GRAD_RTOL
    assert ev.info["d_time_scale"] == pytest.approx(ref.info["d_time_scale"], rel=GRAD_RTOL)
    value = SerialPropagation().evaluate(c32, params, X, y, gradient=False, time_scale=1.2)
    assert value.objective == pytest.approx(ref.objective, rel=OBJ_RTOL)


def _mgrit(config, params, X, y, parallel, n_ranks, steps=2):
    def body(comm):
        prop = MGRITPropagation(config, parallel, comm)
        out = []
        for _ in range(steps):
            prop.begin_step()
            out.append(prop.evaluate(config, params, X, y, gradient=True))
        return out

    return run_ranks(n_ranks, body)


def test_float32_mgrit_is_rank_invariant_and_converges_to_serial():
    config, params, X, y = _case(n_layers=16)
    c32 = replace(config, dtype="float32")
    one_shot = ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2), one_shot=True,
                              warmup_steps=1)  # fmt: skip
    runs = {p: _mgrit(c32, params, X, y, one_shot, p) for p in (1, 2, 3, 4)}
    for p in (2, 3, 4):
        for rank in runs[p]:
            for ev, ref in zip(rank, runs[1][0], strict=True):
                assert ev.objective == ref.objective
                np.testing.assert_array_equal(ev.gradient.to_flat(), ref.gradient.to_flat())
    serial = evaluate(config, params, X, y)
    converged = ParallelConfig(mgrit=reference_mgrit(min_coarse_size=2))
    ev = _mgrit(c32, params, X, y, converged, 2, steps=1)[0][0]
    assert ev.info["primal_iterations"] < 50  # the float32 relative stop ends the solve
    assert ev.objective == pytest.approx(serial.objective, rel=OBJ_RTOL)
    assert _rel(ev.gradient.to_flat().astype(np.float64), serial.gradient.to_flat()) < GRAD_RTOL


def test_float32_training_follows_float64():
    from solver.data import load_dataset
    from solver.init import InitConfig
    from solver.train import StopConfig, train

    data = load_dataset("peaks", n_train_per_class=60, n_val_per_class=10, seed=0)
    config = NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=10, activation="tanh")
    kwargs = dict(stop=StopConfig(max_iterations=15, grad_tol=0.0), init=InitConfig(seed=2))
    r64 = train(config, data, **kwargs)
    r32 = train(replace(config, dtype="float32"), data, **kwargs)
    assert r32.status == r64.status == "max_iterations"
    assert r32.params.K.dtype == np.float32
    obj32 = [row["objective"] for row in r32.history]
    obj64 = [row["objective"] for row in r64.history]
    assert obj32[-1] < 0.9 * obj32[0]
    assert obj32[-1] == pytest.approx(obj64[-1], rel=1e-2)


def test_study_files_can_sweep_the_dtype(tmp_path):
    from test_sensitivity_common import write_study

    from sensitivity import bridge
    from sensitivity.design import make_design
    from sensitivity.spec import load_spec

    path = write_study(tmp_path, learning_rates="[0.01]", scales="[0.1]")
    text = path.read_text().replace(
        "[design]",
        '[space.precision]\ntarget = "network.dtype"\nvalues = ["float64", "float32"]\n\n[design]',
    )
    path.write_text(text)
    spec = load_spec(path)
    dtypes = set()
    for point in make_design(spec):
        trial = bridge.build_trial(spec, point, n_features=2, n_classes=5)
        dtypes.add(trial.network.dtype)
    assert dtypes == {"float64", "float32"}
