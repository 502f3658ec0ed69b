"""Distributed MGRIT: identical residual histories and states for any number of ranks.

Thread ranks cover many layouts quickly (including coarse intervals split between ranks and
ranks without coarse points); the MPI test runs the same engine under mpiexec -n 1..4.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mpi_scripts.mgrit_ranks import N_LAYERS, cases
from mpi_scripts.runner import run_mpi

from solver.mgrit import MGRIT, MGRITConfig
from solver.mgrit.examples import TanhSystem
from solver.parallel import run_ranks


def _gather(results):
    states = {}
    for r in results:
        states.update(r.states)
    return np.stack([states[t] for t in range(len(states))])


def _solve_on(n_ranks, problem, n_layers, config):
    return run_ranks(n_ranks, lambda comm: MGRIT(problem, n_layers, config, comm).solve())


@pytest.fixture
def tanh_system():
    rng = np.random.default_rng(1)
    return TanhSystem(
        rng.standard_normal((3, 3)), rng.standard_normal(3), 0.1, rng.standard_normal(3), seed=2
    )


@pytest.mark.parametrize(
    "config",
    [
        MGRITConfig(max_iterations=4, abs_tol=0.0),
        MGRITConfig(max_iterations=4, abs_tol=0.0, nrelax_fine=1, c_weight=0.7, norm="l1"),
        MGRITConfig(max_iterations=3, abs_tol=0.0, cycle="F", skip_first_down=True),
        MGRITConfig(max_iterations=3, abs_tol=0.0, coarsening_factor=3, nrelax=2),
    ],
)
def test_thread_ranks_agree_bitwise(tanh_system, config):
    n_layers = 50  # not a power of 2: short last intervals; coarse intervals split across ranks
    reference = _solve_on(1, tanh_system, n_layers, config)[0]
    ref_states = _gather([reference])
    for n_ranks in (2, 3, 5, 7):
        results = _solve_on(n_ranks, tanh_system, n_layers, config)
        np.testing.assert_array_equal(_gather(results), ref_states)
        for r in results:
            np.testing.assert_array_equal(r.residual_history, reference.residual_history)
        assert sum(r.cost.messages_sent for r in results) > 0


def test_more_ranks_reduce_the_modelled_time(tanh_system):
    config = MGRITConfig(max_levels=2, coarsening_factor=4, max_iterations=2, abs_tol=0.0)
    times = [_solve_on(p, tanh_system, 64, config)[0].cost.modelled_time for p in (1, 2, 4)]
    assert times[0] > times[1] > times[2]
    serial = _solve_on(1, tanh_system, 64, MGRITConfig(max_levels=1))[0]
    assert serial.cost.modelled_time == 64.0  # one unit per step
    one_level_4 = _solve_on(4, tanh_system, 64, MGRITConfig(max_levels=1))[0]
    assert one_level_4.cost.modelled_time == 64.0  # sequential across ranks: no speed-up


def test_serial_propagation_across_ranks_equals_serial(tanh_system):
    results = _solve_on(4, tanh_system, 37, MGRITConfig(max_levels=1))
    np.testing.assert_array_equal(_gather(results), tanh_system.serial(37))


def _load(directory, name, n_ranks):
    parts = [np.load(directory / f"{name}_rank{r}.npz") for r in range(n_ranks)]
    states = np.concatenate([p["states"] for p in parts])
    indices = np.concatenate([p["indices"] for p in parts])
    assert np.array_equal(indices, np.arange(N_LAYERS + 1))
    histories = [p["history"] for p in parts]
    return states, histories


def test_mpi_ranks_agree(tmp_path):
    runs = {}
    for n_ranks in (1, 2, 3, 4):
        out = tmp_path / str(n_ranks)
        out.mkdir()
        proc = run_mpi("mgrit_ranks.py", n_ranks, str(out), timeout=120)
        assert proc.returncode == 0, proc.stderr
        runs[n_ranks] = out
    for name, (problem, _) in cases().items():
        ref_states, ref_hist = _load(runs[1], name, 1)
        if name == "tanh_serial":
            np.testing.assert_array_equal(ref_states, problem.serial(N_LAYERS))
        for n_ranks in (2, 3, 4):
            states, histories = _load(runs[n_ranks], name, n_ranks)
            np.testing.assert_allclose(states, ref_states, rtol=1e-12, atol=1e-12)
            for h in histories:
                np.testing.assert_allclose(h, ref_hist[0], rtol=1e-12, atol=0)


@settings(max_examples=30, deadline=None)
@given(
    n_layers=st.integers(10, 70),
    cf_fine=st.integers(2, 5),
    cf=st.integers(2, 4),
    nrelax=st.integers(0, 2),
    cycle=st.sampled_from(["V", "F"]),
    data=st.data(),
)
def test_any_layout_gives_the_serial_result_bitwise(n_layers, cf_fine, cf, nrelax, cycle, data):
    """Random depths, coarsening factors and rank counts (ranks without coarse points,
    coarse intervals split between ranks, short last intervals): bitwise rank independence."""
    problem = TanhSystem(np.array([[0.5, -1.0], [1.0, 0.2]]), np.zeros(2), 0.05, np.ones(2), seed=1)
    config = MGRITConfig(
        coarsening_factor_fine=cf_fine, coarsening_factor=cf, nrelax=nrelax, cycle=cycle,
        max_iterations=3, abs_tol=0.0, min_coarse_size=1,
    )  # fmt: skip
    n_ranks = data.draw(st.integers(2, min(6, -(-n_layers // cf_fine))))
    reference = _solve_on(1, problem, n_layers, config)[0]
    results = _solve_on(n_ranks, problem, n_layers, config)
    np.testing.assert_array_equal(_gather(results), _gather([reference]))
    np.testing.assert_array_equal(results[-1].residual_history, reference.residual_history)


@pytest.mark.parametrize("n_ranks", [1, 3])
def test_storing_c_points_only_changes_no_bit(tanh_system, n_ranks):
    """``store="c-points"`` keeps C-points, each interval's last F-point, each rank's last
    index and N, with the values of ``store="all"``; a warm start from C-points only equals
    the warm start from all states (F-points are recomputed before they are read)."""
    n_layers, config = 50, MGRITConfig(max_iterations=2, abs_tol=0.0, coarsening_factor=3)

    def run(store, warm_from):
        def body(comm):
            first = MGRIT(tanh_system, n_layers, config, comm).solve(store=store)
            initial = {t: v for t, v in first.states.items() if warm_from(t)}
            return first, MGRIT(tanh_system, n_layers, config, comm).solve(initial)

        return run_ranks(n_ranks, body)

    full = run("all", lambda t: True)
    lean = run("c-points", lambda t: t % 3 == 0 or t == n_layers)
    for (f1, f2), (l1, l2) in zip(full, lean, strict=True):
        lo, hi = min(f1.states), max(f1.states)
        kept = {t for t in f1.states if t % 3 == 0 or (t + 1) % 3 == 0 or t in (hi, 49, 50)}
        assert set(l1.states) == kept and lo in kept
        for t in kept:
            np.testing.assert_array_equal(l1.states[t], f1.states[t])
        np.testing.assert_array_equal(l1.residual_history, f1.residual_history)
        assert set(l2.states) == set(f2.states)
        for t in f2.states:
            np.testing.assert_array_equal(l2.states[t], f2.states[t])
