"""Layer-parallel ResNet propagation: serial equivalence, convergence, rank independence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.config import NetworkConfig
from solver.errors import ConfigError
from solver.mgrit import MGRIT, MGRITPropagation, ParallelConfig, reference_mgrit
from solver.mgrit.resnet import ForwardResNet
from solver.network import evaluate, forward
from solver.parallel import run_ranks
from solver.params import Params


def _network(n_layers=24, bias="vector", activation="tanh"):
    return NetworkConfig(
        n_features=3,
        n_classes=3,
        width=5,
        n_layers=n_layers,
        t_final=2.0,
        activation=activation,
        bias=bias,
        gamma_tik=1e-3,
        gamma_ddt=1e-2,
        gamma_class=1e-3,
    )


def _problem(config, seed=0, scale=0.6):
    rng = np.random.default_rng(seed)
    params = Params.from_flat(config, scale * rng.standard_normal(config.n_params))
    X = rng.standard_normal((16, config.n_features))
    y = rng.integers(0, config.n_classes, 16)
    return params, X, y


def _rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _evaluate(config, parallel, params, X, y, n_ranks=1, steps=1):
    def body(comm):
        prop = MGRITPropagation(config, parallel, comm)
        out = []
        for _ in range(steps):
            prop.begin_step()
            out.append(prop.evaluate(config, params, X, y, gradient=True))
        return out

    return run_ranks(n_ranks, body)


@pytest.mark.parametrize("n_ranks", [1, 3])
def test_one_level_equals_serial_to_round_off(n_ranks):
    config = _network()
    params, X, y = _problem(config)
    ref = evaluate(config, params, X, y, gradient=True)
    ev = _evaluate(
        config, ParallelConfig(mgrit=reference_mgrit(max_levels=1)), params, X, y, n_ranks
    )[0][0]
    assert ev.objective == pytest.approx(ref.objective, rel=1e-14)
    assert _rel(ev.gradient.to_flat(), ref.gradient.to_flat()) < 1e-14
    assert ev.info["d_time_scale"] == pytest.approx(ref.info["d_time_scale"], rel=1e-13)
    np.testing.assert_allclose(ev.info["scores"], ref.info["scores"], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize(
    ("n_layers", "bias", "activation", "cf_fine"),
    [(24, "vector", "tanh", None), (30, "scalar", "relu", 4), (32, "vector", "smoothrelu", 2)],
)
def test_converged_mgrit_equals_serial(n_layers, bias, activation, cf_fine):
    config = _network(n_layers, bias, activation)
    params, X, y = _problem(config, seed=n_layers)
    ref = evaluate(config, params, X, y, gradient=True)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(
            abs_tol=1e-12, min_coarse_size=2, coarsening_factor_fine=cf_fine, max_iterations=100
        )
    )
    ev = _evaluate(config, parallel, params, X, y)[0][0]
    assert ev.info["primal_residual"] <= 1e-12 and ev.info["adjoint_residual"] <= 1e-12
    assert ev.info["primal_iterations"] > 0  # MGRIT did iterate (several levels)
    assert abs(ev.objective - ref.objective) <= 1e-9 * abs(ref.objective)
    assert _rel(ev.gradient.to_flat(), ref.gradient.to_flat()) < 1e-9
    assert ev.info["d_time_scale"] == pytest.approx(ref.info["d_time_scale"], rel=1e-9)


def test_converged_forward_states_equal_serial():
    config = _network(40)
    params, X, _ = _problem(config)
    Y = forward(config, params, X)
    problem = ForwardResNet(params, config.h, config.activation, lambda: Y[0].copy())
    settings = ParallelConfig(mgrit=reference_mgrit(abs_tol=1e-12, min_coarse_size=2)).mgrit
    result = MGRIT(problem, 40, settings).solve()
    states = np.stack([result.states[n] for n in range(41)])
    assert _rel(states, Y) < 1e-9


def test_ranks_give_identical_objective_gradient_and_residuals():
    config = _network(24)
    params, X, y = _problem(config)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=2), one_shot=True, warmup_steps=1, cost="unit"
    )
    runs = {p: _evaluate(config, parallel, params, X, y, p, steps=3) for p in (1, 2, 3, 4)}
    for p in (2, 3, 4):
        for rank_results in runs[p]:
            for ev, ref in zip(rank_results, runs[1][0], strict=True):
                assert ev.objective == ref.objective
                np.testing.assert_array_equal(ev.gradient.to_flat(), ref.gradient.to_flat())
                assert ev.info["primal_residual"] == ref.info["primal_residual"]
                assert ev.info["adjoint_residual"] == ref.info["adjoint_residual"]
        assert runs[p][0][-1].info["messages"] > 0
    assert runs[4][0][-1].info["modelled_time"] < runs[1][0][-1].info["modelled_time"]


def test_one_shot_is_inexact_but_warm_starts_converge():
    config = _network(32)
    params, X, y = _problem(config, scale=1.0)
    ref = evaluate(config, params, X, y, gradient=True)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=2),
        one_shot=True,
        warmup_steps=0,
        fwd_iterations=1,
        bwd_iterations=1,
    )
    evs = _evaluate(config, parallel, params, X, y, steps=6)[0]
    errors = [_rel(ev.gradient.to_flat(), ref.gradient.to_flat()) for ev in evs]
    residuals = [ev.info["primal_residual"] for ev in evs]
    assert errors[0] > 1e-6  # one cycle from a cold start is inexact
    assert errors[-1] < 1e-2 * errors[0]  # warm starts keep iterating (same weights)
    assert residuals[-1] < 1e-3 * residuals[0]
    assert all(ev.info["primal_iterations"] == 1 for ev in evs)


def test_warm_up_steps_use_more_iterations():
    config = _network(16)
    params, X, y = _problem(config)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=2, max_levels=2), one_shot=True, warmup_steps=2
    )
    evs = _evaluate(config, parallel, params, X, y, steps=3)[0]
    assert [ev.info["primal_iterations"] for ev in evs] == [10, 10, 2]
    assert [ev.info["adjoint_iterations"] for ev in evs] == [10, 10, 2]


def test_objective_only_and_scores():
    config = _network(24)
    params, X, y = _problem(config)
    ref = evaluate(config, params, X, y, gradient=True)
    prop = MGRITPropagation(
        config, ParallelConfig(mgrit=reference_mgrit(abs_tol=1e-12, min_coarse_size=2))
    )
    value = prop.evaluate(config, params, X, y, gradient=False)
    assert value.gradient is None
    assert value.objective == pytest.approx(ref.objective, rel=1e-10)
    np.testing.assert_allclose(prop.scores(config, params, X), ref.info["scores"], atol=1e-10)


def test_depth_mismatch_is_an_error():
    prop = MGRITPropagation(_network(24), ParallelConfig())
    config = _network(12)
    params, X, y = _problem(config)
    with pytest.raises(ConfigError, match="built for n_layers=24; got a network with n_layers=12"):
        prop.evaluate(config, params, X, y, gradient=True)


def test_parallel_config_validation():
    with pytest.raises(ConfigError, match="`coarsening_factor` must be an integer >= 2"):
        ParallelConfig(mgrit=reference_mgrit(coarsening_factor=1))
    with pytest.raises(ConfigError, match="`fwd_iterations` must be an integer >= 1; got 0"):
        ParallelConfig(fwd_iterations=0)
    with pytest.raises(ConfigError, match="need `mgrit.abs_tol` or `mgrit.rel_tol` > 0"):
        ParallelConfig(mgrit=reference_mgrit(abs_tol=0.0))
    settings = ParallelConfig(one_shot=True, fwd_iterations=1, bwd_iterations=3)
    assert settings.solve_config("forward", 5).max_iterations == 1
    assert settings.solve_config("adjoint", 5).max_iterations == 3
    assert settings.solve_config("adjoint", 0).max_iterations == 10  # warm-up
    assert ParallelConfig().solve_config("forward", 5).abs_tol == 1e-10


def test_mpi_ranks_give_identical_training_steps(tmp_path):
    from mpi_scripts.resnet_ranks import CASES
    from mpi_scripts.runner import run_mpi

    for n_ranks in (1, 2, 3, 4):
        out = tmp_path / str(n_ranks)
        out.mkdir()
        proc = run_mpi("resnet_ranks.py", n_ranks, str(out), timeout=180)
        assert proc.returncode == 0, proc.stderr
    for name in CASES:
        ref = np.load(tmp_path / "1" / f"{name}_rank0.npz")
        for n_ranks in (2, 3, 4):
            for rank in range(n_ranks):
                got = np.load(tmp_path / str(n_ranks) / f"{name}_rank{rank}.npz")
                for key in ("objective", "gradient", "primal", "adjoint"):
                    np.testing.assert_allclose(got[key], ref[key], rtol=1e-12, atol=1e-300)


def test_training_with_one_level_mgrit_matches_serial_training():
    from solver.data import load_dataset
    from solver.optim import OptimizerConfig
    from solver.train import StopConfig, train

    data = load_dataset("peaks", n_train_per_class=10)
    config = NetworkConfig(n_features=2, n_classes=5, width=6, n_layers=8, t_final=2.0)
    kwargs = {
        "optimizer": OptimizerConfig(name="lbfgs"),
        "stop": StopConfig(max_iterations=4),
    }
    serial = train(config, data, **kwargs)
    layered = train(
        config, data, parallel=ParallelConfig(mgrit=reference_mgrit(max_levels=1)), **kwargs
    )
    for a, b in zip(serial.history, layered.history, strict=True):
        assert a["objective"] == pytest.approx(b["objective"], rel=1e-12)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-10)
    assert layered.history[-1]["primal_residual"] == 0.0


def test_modelled_speedup_grows_with_ranks():
    from solver.mgrit import modelled_evaluation

    config = _network(64)
    params, X, y = _problem(config)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=2), one_shot=True, warmup_steps=0
    )
    models = [modelled_evaluation(config, params, X, y, parallel, p) for p in (1, 4, 16)]
    assert all(m["serial_time"] == 128.0 for m in models)
    speedups = [m["speedup"] for m in models]
    assert speedups[0] < speedups[1] < speedups[2]
    assert models[0]["messages"] == 0 and models[2]["messages"] > 0
    # one rank: the modelled time is the total work (steps) plus the classifier/opening units
    assert models[0]["modelled_time"] >= models[0]["layer_steps"]


@settings(max_examples=12, deadline=None)
@given(n_layers=st.integers(6, 40), cf_fine=st.integers(2, 4), data=st.data())
def test_any_layout_gives_rank_independent_gradients(n_layers, cf_fine, data):
    config = _network(n_layers)
    params, X, y = _problem(config, seed=n_layers)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(min_coarse_size=1, coarsening_factor_fine=cf_fine),
        one_shot=True,
        warmup_steps=0,
    )
    n_ranks = data.draw(st.integers(2, min(5, -(-n_layers // cf_fine))))
    ref = _evaluate(config, parallel, params, X, y, 1, steps=2)[0][-1]
    ev = _evaluate(config, parallel, params, X, y, n_ranks, steps=2)[n_ranks - 1][-1]
    assert ev.objective == ref.objective
    np.testing.assert_array_equal(ev.gradient.to_flat(), ref.gradient.to_flat())
    np.testing.assert_array_equal(ev.info["adjoint_history"], ref.info["adjoint_history"])


def test_one_shot_gradient_costs_no_extra_sweep():
    """1+1 cycles, two levels, cf 4, F-relaxation, N = 64 per solve: cycle = fine F (48) +
    residual (16) + restriction (16) + coarse solve (15, the first coarse step is the
    restriction's), final pass = 64 steps that also give the gradient: 159 per solve."""
    config = _network(64)
    params, X, y = _problem(config)
    parallel = ParallelConfig(
        mgrit=reference_mgrit(max_levels=2, coarsening_factor=4, min_coarse_size=2),
        one_shot=True, warmup_steps=0, fwd_iterations=1, bwd_iterations=1,
    )  # fmt: skip
    ev = _evaluate(config, parallel, params, X, y, steps=2)[0][-1]
    assert ev.info["layer_steps"] == 2 * 159
    for key in ("forward_phases", "adjoint_phases"):
        assert ev.info[key] == {
            "L0 F-relax": 48, "L0 final": 64, "L0 residual": 16, "L1 coarse solve": 15,
            "L1 restrict": 16,
        }  # fmt: skip


@pytest.mark.parametrize("n_ranks", [1, 3])
def test_stored_activations_change_no_bit(n_ranks):
    config = _network(30)
    params, X, y = _problem(config)
    runs = []
    for store in (True, False):
        parallel = ParallelConfig(
            mgrit=reference_mgrit(min_coarse_size=2),
            one_shot=True,
            warmup_steps=1,
            store_activations=store,
        )
        runs.append(_evaluate(config, parallel, params, X, y, n_ranks, steps=3)[0])
    for a, b in zip(*runs, strict=True):
        assert a.objective == b.objective
        np.testing.assert_array_equal(a.gradient.to_flat(), b.gradient.to_flat())
        assert a.info["d_time_scale"] == b.info["d_time_scale"]


def test_fused_gradient_equals_a_separate_vjp_sweep(monkeypatch):
    """The gradient accumulated in the adjoint's final pass is the VJP sweep over the final
    forward and adjoint states (bitwise); keeping only C-points changes no bit."""
    from solver import layers
    from solver.regularization import regularization

    config = _network(20)
    params, X, y = _problem(config)
    parallel = ParallelConfig(one_shot=True, warmup_steps=0)

    def gradient():
        prop = MGRITPropagation(config, parallel)
        prop.begin_step()
        return prop.evaluate(config, params, X, y, gradient=True).gradient

    lean = gradient()  # adjoint keeps C-points only
    solves = []
    plain = MGRIT.solve

    def keep_all(self, initial=None, *, consume_initial=False, store="all"):
        solves.append(plain(self, initial, consume_initial=consume_initial, store="all"))
        return solves[-1]

    monkeypatch.setattr(MGRIT, "solve", keep_all)
    full = gradient()
    np.testing.assert_array_equal(lean.to_flat(), full.to_flat())
    Y, P = solves[0].states, solves[1].states
    assert len(Y) == len(P) == config.n_layers + 1
    _, reg_grad = regularization(config, params, gradient=True)
    n = config.n_layers
    for k in range(n):
        _, dK, db, _ = layers.hidden_step_vjp(
            Y[k], params.K[k], params.b[k], config.h, config.activation, P[n - k - 1]
        )
        np.testing.assert_array_equal(full.K[k], reg_grad.K[k] + dK)
        np.testing.assert_array_equal(full.b[k], reg_grad.b[k] + db)


def test_fine_factor_per_rank():
    parallel = ParallelConfig(
        mgrit=reference_mgrit(coarsening_factor_fine="ranks", min_coarse_size=2), one_shot=True
    )
    assert parallel.for_ranks(64, 4).fine_factor == 16
    assert parallel.for_ranks(64, 64).fine_factor == 2
    with pytest.raises(ConfigError, match="call `for_ranks"):
        _ = parallel.fine_factor
    config = _network(24)
    params, X, y = _problem(config)
    ref = evaluate(config, params, X, y, gradient=True)
    one = _evaluate(config, parallel, params, X, y, 1)[0][0]  # cf 24 on one rank: serial
    assert _rel(one.gradient.to_flat(), ref.gradient.to_flat()) < 1e-14
    three = _evaluate(config, parallel, params, X, y, 3)  # cf 8: the same as an explicit 8
    explicit = _evaluate(
        config,
        ParallelConfig(mgrit=reference_mgrit(coarsening_factor_fine=8, min_coarse_size=2),
                       one_shot=True),
        params, X, y, 1,
    )[0][0]  # fmt: skip
    for res in three:
        np.testing.assert_array_equal(res[0].gradient.to_flat(), explicit.gradient.to_flat())


def test_warm_up_ends_without_begin_step():
    config = _network(16)
    params, X, y = _problem(config)
    prop = MGRITPropagation(
        config,
        ParallelConfig(
            mgrit=reference_mgrit(min_coarse_size=2, max_levels=2), one_shot=True, warmup_steps=2
        ),
    )
    its = [prop.evaluate(config, params, X, y, gradient=True).info["primal_iterations"]
           for _ in range(4)]  # fmt: skip
    assert its == [10, 10, 2, 2]


def test_one_fine_interval_per_rank_models_faster_than_cf2_everywhere():
    """Unit-cost model (deterministic): with cf0 = N/P the fine relaxation of a cycle is one
    interval per rank and the coarse levels hold one point per rank; at N = 256, P = 16 it
    beats coarsening factor 2 on every level and the serial gradient."""
    from solver.mgrit import modelled_evaluation

    config = _network(256)
    params, X, y = _problem(config)
    common = {"one_shot": True, "warmup_steps": 0, "min_coarse_size": 2, "latency": 0.1}
    cf2 = modelled_evaluation(
        config, params, X, y, ParallelConfig.from_options(common), 16, steps=2
    )
    per_rank = modelled_evaluation(
        config, params, X, y,
        ParallelConfig.from_options(common, coarsening_factor_fine="ranks"), 16,
        steps=2,
    )  # fmt: skip
    assert per_rank["speedup"] > 2.0 * cf2["speedup"]
    assert per_rank["speedup"] > 2.5
    assert per_rank["layer_steps"] < 0.5 * cf2["layer_steps"]
