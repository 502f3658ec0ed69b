"""MGRIT on y' = lambda y (forward Euler): serial equivalence and the two-level theory.

Two-level bounds (Dobrev, Kolev, Petersson, Schroder 2017) for fine step ``phi = 1 + lambda h``,
coarse step ``mu = 1 + lambda m h`` and K coarse intervals: the C-point error (and residual)
propagator is lower-triangular Toeplitz with norm at most

    F-relaxation:   |phi^m - mu| (1 - |mu|^(K-1)) / (1 - |mu|)
    FCF-relaxation: |phi|^m |phi^m - mu| (1 - |mu|^(K-2)) / (1 - |mu|)
"""

from __future__ import annotations

import numpy as np
import pytest

from solver.mgrit import MGRIT, MGRITConfig
from solver.mgrit.examples import LinearDecay


def _fine(result, n_layers):
    return np.stack([result.states[t] for t in range(n_layers + 1)])


@pytest.fixture
def decay():
    return LinearDecay(np.array([-1.0, -6.0, -0.2]), 0.05, np.array([1.0, 2.0, -1.0]), seed=1)


def test_one_level_is_exactly_serial_propagation(decay):
    result = MGRIT(decay, 40, MGRITConfig(max_levels=1)).solve()
    np.testing.assert_array_equal(_fine(result, 40), decay.serial(40))
    assert result.status == "converged" and result.cost.steps_per_level == (40,)


@pytest.mark.parametrize(
    "config",
    [
        MGRITConfig(max_levels=2, abs_tol=1e-13),
        MGRITConfig(abs_tol=1e-13, nrelax_fine=1),
        MGRITConfig(abs_tol=1e-13, cycle="F", coarsening_factor_fine=4),
        MGRITConfig(abs_tol=1e-13, skip_first_down=True, c_weight=1.3),
        MGRITConfig(abs_tol=0.0, rel_tol=1e-14, coarsening_factor=3, norm="inf"),
    ],
)
def test_converged_mgrit_equals_serial(decay, config):
    n_layers = 60
    result = MGRIT(decay, n_layers, config).solve()
    assert result.status == "converged", result.residual_history
    np.testing.assert_allclose(_fine(result, n_layers), decay.serial(n_layers), rtol=0, atol=1e-12)
    assert result.iterations == len(result.residual_history) - 1 + int(config.skip_first_down)


@pytest.mark.parametrize(
    ("lam_h", "m"), [(-0.5, 2), (-0.2, 4), (-0.3, 4), (-0.05, 4), (-0.1, 2), (-0.02, 8)]
)
@pytest.mark.parametrize("nrelax", [0, 1])
def test_two_level_factors_respect_and_approach_the_bound(lam_h, m, nrelax):
    n_layers = 256
    problem = LinearDecay(np.array([lam_h]), 1.0, np.array([1.0]), seed=11)
    phi_m, mu, k = (1.0 + lam_h) ** m, 1.0 + lam_h * m, n_layers // m
    bound = abs(phi_m - mu) * (1 - abs(mu) ** (k - 1)) / (1 - abs(mu))
    if nrelax == 1:
        bound = abs(phi_m) * abs(phi_m - mu) * (1 - abs(mu) ** (k - 2)) / (1 - abs(mu))
    config = MGRITConfig(
        max_levels=2, coarsening_factor=m, nrelax_fine=nrelax, max_iterations=8, abs_tol=0.0
    )
    history = MGRIT(problem, n_layers, config).solve().residual_history
    ratios = history[1:] / history[:-1]
    assert ratios.max() <= bound * (1 + 1e-9)
    assert ratios.max() >= 0.5 * bound


def test_fcf_converges_faster_than_f(decay):
    f = MGRIT(decay, 128, MGRITConfig(max_iterations=6, abs_tol=0.0)).solve()
    fcf = MGRIT(decay, 128, MGRITConfig(max_iterations=6, abs_tol=0.0, nrelax_fine=1)).solve()
    assert fcf.convergence_factor < f.convergence_factor


def test_fixed_iterations_and_warm_restart(decay):
    config = MGRITConfig(max_iterations=2, abs_tol=0.0)
    solver = MGRIT(decay, 64, config)
    first = solver.solve()
    assert first.status == "max_iterations" and first.iterations == 2
    assert len(first.residual_history) == 3
    second = solver.solve(initial=first.states)
    # a warm restart continues the iteration (F-relaxation is idempotent on its final states),
    # so its first residual is the previous last one
    assert second.residual_history[0] == pytest.approx(first.residual_history[-1], rel=1e-12)
    assert second.residual_history[-1] < first.residual_history[-1]


def test_warm_start_from_the_solution_is_converged_at_once(decay):
    solver = MGRIT(decay, 64, MGRITConfig(abs_tol=1e-12))
    exact = {t: s for t, s in enumerate(decay.serial(64))}
    result = solver.solve(initial=exact)
    assert result.iterations == 0 and result.residual < 1e-14


def test_cost_counters(decay):
    result = MGRIT(decay, 64, MGRITConfig(max_levels=2, max_iterations=1, abs_tol=0.0)).solve()
    # cycle 1: F (32) + residual (32) on level 0, tau (32) + coarse solve (31: the step
    # 0 -> 2 was evaluated by the restriction) on level 1; final pass: F (32) + residual (32)
    assert result.cost.steps_per_level == (128, 63)
    assert result.cost.steps_by_phase == {
        "L0 F-relax": 32, "L0 residual": 32, "L0 final": 64, "L1 restrict": 32,
        "L1 coarse solve": 31,
    }  # fmt: skip
    assert result.cost.messages_sent == 0
    assert result.cost.modelled_time == 191.0


def test_restriction_relaxes_the_coarse_f_points_after_c_points(decay):
    """With cf 2 the first coarse F-sweep is free (its steps were the restriction's), and the
    states are bitwise those of the plain sweep (checked against a 2-rank run elsewhere)."""
    config = MGRITConfig(max_levels=3, nrelax=1, max_iterations=1, abs_tol=0.0)
    result = MGRIT(decay, 64, config).solve()
    phases = result.cost.steps_by_phase
    assert "L1 F-relax" in phases  # the second F-sweep of FCF
    assert phases["L1 F-relax"] == 16 and phases["L1 C-relax"] == 16  # not 32 F-steps


def test_divergence_is_reported():
    unstable = LinearDecay(np.array([-3.0]), 1.0, np.array([1.0]), seed=0)  # |mu| = 5
    with np.errstate(over="ignore", invalid="ignore"):
        result = MGRIT(unstable, 1024, MGRITConfig(max_levels=2, max_iterations=50)).solve()
    assert result.status == "diverged"
    assert not np.isfinite(result.residual)


def test_f_cycles_beat_v_cycles_with_many_levels():
    """With F-relaxation on every level the V-cycle deteriorates with depth; the F-cycle's
    extra coarse work (F- then V-cycle on each coarse level) restores fast convergence."""
    problem = LinearDecay(np.array([-1.0, -0.3, -3.0]), 0.01, np.ones(3), seed=4)
    factors = {}
    for cycle in ("V", "F"):
        config = MGRITConfig(cycle=cycle, max_levels=6, nrelax=0, max_iterations=6, abs_tol=0.0)
        result = MGRIT(problem, 1024, config).solve()
        assert result.n_levels == 6
        factors[cycle] = result.convergence_factor
    assert factors["F"] < 0.25 * factors["V"]
