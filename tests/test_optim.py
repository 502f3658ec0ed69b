"""Tests of solver.optim: convergence, Armijo condition, curvature pairs, policies, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.errors import ConfigError
from solver.optim import (
    LBFGS,
    SGD,
    Adam,
    OptimizerConfig,
    backtracking_armijo,
    make_optimizer,
    two_loop_direction,
)

# ---- problems -------------------------------------------------------------------------------


def ill_conditioned_quadratic(n: int = 20, cond: float = 1e4, seed: int = 0):
    """f(x) = 1/2 (x - x*)^T A (x - x*) with eigenvalues logspaced in [1, cond]."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    a = (q * np.logspace(0.0, np.log10(cond), n)) @ q.T
    x_star = rng.standard_normal(n)

    def fg(x):
        r = x - x_star
        ar = a @ r
        return 0.5 * float(r @ ar), ar

    return fg, x_star


def rosenbrock(x):
    f = 100.0 * (x[1] - x[0] ** 2) ** 2 + (1.0 - x[0]) ** 2
    g = np.array(
        [-400.0 * x[0] * (x[1] - x[0] ** 2) - 2.0 * (1.0 - x[0]), 200.0 * (x[1] - x[0] ** 2)]
    )
    return f, g


def run(opt, fg, x0, iterations, grad_tol=0.0, record=None):
    """Iterate ``opt`` on ``fg``; return (x, iterations used, final gradient norm)."""

    def value(z):
        return fg(z)[0]

    x = x0.copy()
    f, g = fg(x)
    for k in range(iterations):
        if np.linalg.norm(g) < grad_tol:
            return x, k, float(np.linalg.norm(g))
        info = opt.step(x, f, g, value)
        if record is not None:
            record.append((x, f, g, info))
        x = info.x_new
        f, g = fg(x)
    return x, iterations, float(np.linalg.norm(g))


# ---- L-BFGS -----------------------------------------------------------------------------------


def test_lbfgs_converges_on_ill_conditioned_quadratic_and_beats_gradient_descent():
    # condition number 1e3, n = 20, memory 10: 240 iterations measured (scipy's L-BFGS-B with
    # maxcor=10 needs a similar count on this problem)
    fg, x_star = ill_conditioned_quadratic(cond=1e3)
    x0 = np.zeros(20)
    x, used, gnorm = run(make_optimizer(OptimizerConfig()), fg, x0, 300, grad_tol=1e-8)
    assert gnorm < 1e-8
    assert used < 300
    np.testing.assert_allclose(x, x_star, atol=1e-7)
    # gradient descent with the same Armijo line search, same iteration budget
    gd = make_optimizer(OptimizerConfig(name="sgd", momentum=0.0, line_search=True))
    _, _, gd_norm = run(gd, fg, x0, used)
    assert gd_norm > 1e3 * gnorm


@pytest.mark.parametrize(("policy", "budget"), [("skip", 1000), ("reset", 80)])
@pytest.mark.parametrize("start", [(-1.2, 1.0), (2.0, -1.0), (-2.0, 3.0)])
def test_lbfgs_rosenbrock(policy, budget, start):
    opt = make_optimizer(OptimizerConfig(bad_curvature=policy))
    x, used, gnorm = run(opt, rosenbrock, np.array(start), budget, grad_tol=1e-8)
    assert gnorm < 1e-8
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)


def test_reset_policy_clears_memory_on_bad_curvature():
    opt = LBFGS(OptimizerConfig(bad_curvature="reset"))

    def value(z):
        return float(z @ z)

    x0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    opt.step(x0, 1.0, g0, value)
    opt.step(x0 + [0.0, 1.0], 2.0, g0 + [0.0, 2.0], value)  # good pair
    assert len(opt.pairs) == 1
    opt.step(x0 + [1.0, 1.0], 2.0, g0 + [-1.0, 2.0], value)  # s.y = -1 < 0
    assert opt.pairs == [] and opt.n_bad_curvature == 1


def test_accepted_steps_satisfy_armijo():
    record = []
    c1 = 1e-4
    run(
        make_optimizer(OptimizerConfig(armijo_c1=c1)),
        rosenbrock,
        np.array([-1.2, 1.0]),
        40,
        record=record,
    )
    assert len(record) == 40
    n_accepted = 0
    for x, f, g, info in record:
        if info.accepted and info.step_size > 0:
            n_accepted += 1
            f_new = rosenbrock(info.x_new)[0]
            assert f_new <= f + c1 * float(g @ (info.x_new - x)) + 1e-12 * abs(f)
            assert info.value_new == pytest.approx(f_new, rel=1e-12, abs=1e-300)
            assert info.n_value_evals == info.ls_tries + 1
    assert n_accepted >= 30


def test_bad_curvature_pair_is_skipped_and_good_pair_kept():
    opt = LBFGS(OptimizerConfig(memory=3))

    def value(z):
        return float(z @ z)

    x0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    opt.step(x0, 1.0, g0, value)
    # s = (1, 0), y = (-1, 0): s.y < 0 -> skipped
    opt.step(x0 + [1.0, 0.0], 4.0, g0 - [1.0, 0.0], value)
    assert opt.n_bad_curvature == 1 and opt.pairs == []
    # s = (0, 1), y = (0, 2): s.y > 0 -> kept
    opt.step(x0 + [1.0, 1.0], 5.0, g0 + [-1.0, 2.0], value)
    assert opt.n_bad_curvature == 1 and len(opt.pairs) == 1
    s, y, rho = opt.pairs[0]
    np.testing.assert_array_equal(s, [0.0, 1.0])
    np.testing.assert_array_equal(y, [0.0, 2.0])
    assert rho == 0.5


def test_keep_policy_stores_bad_pair_and_falls_back_to_steepest_descent():
    """bad_curvature="keep" with the default non_descent="reset": the safeguard resets to -g."""
    opt = LBFGS(OptimizerConfig(bad_curvature="keep", learning_rate=1e-3))

    def value(z):
        return float(z @ z)

    x0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    opt.step(x0, 1.0, g0, value)
    # s = (1, 0), y = (-1, 0): s.y = -1 is kept; H = gamma (...) gives an ascent direction
    x1, g1 = x0 + [1.0, 0.0], g0 - [1.0, 0.0]
    info = opt.step(x1, 4.0, g1, value)
    assert opt.n_bad_curvature == 1 and opt.n_resets == 1 and opt.pairs == []
    assert opt.n_non_descent == 1
    np.testing.assert_allclose(info.x_new, x1 - info.step_size * g1)


@pytest.mark.parametrize("ls_fail", ["take_last", "reject"])
def test_non_descent_keep_searches_along_the_ascent_direction_and_fails(ls_fail):
    """Reference behaviour: the two-loop direction is used as it is; Armijo fails at every trial."""
    cfg = OptimizerConfig(
        bad_curvature="keep", non_descent="keep", ls_max_tries=20, ls_fail=ls_fail
    )
    opt = LBFGS(cfg)
    calls = []

    def value(z):
        calls.append(z.copy())
        return float(z @ z)

    x0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    opt.step(x0, 1.0, g0, value)
    x1, g1 = x0 + [1.0, 0.0], g0 - [1.0, 0.0]
    calls.clear()
    info = opt.step(x1, 4.0, g1, value)
    d = two_loop_direction(g1, [(x1 - x0, g1 - g0, -1.0)])
    assert float(g1 @ d) > 0  # s.y = -1 kept: ascent direction
    assert opt.n_non_descent == 1 and opt.n_resets == 0
    assert len(opt.pairs) == (1 if ls_fail == "take_last" else 0)  # "reject" forgets
    assert not info.accepted and opt.n_failed_steps == 1
    assert info.n_value_evals == 20 and info.ls_tries == 19
    assert info.step_size == pytest.approx(0.5**19)
    # every trial lies on the kept direction, none on -g
    for k, z in enumerate(calls):
        np.testing.assert_allclose(z, x1 + 0.5**k * d, rtol=1e-15)
    expected = x1 + 0.5**19 * d if ls_fail == "take_last" else x1
    np.testing.assert_allclose(info.x_new, expected, rtol=1e-15)
    assert opt.counters() == {
        "steps": 2, "failed_steps": 1, "bad_curvature": 1, "non_descent": 1, "resets": 0
    }  # fmt: skip


def test_non_descent_reset_is_the_default_and_unchanged():
    assert OptimizerConfig().non_descent == "reset"
    opt = LBFGS(OptimizerConfig(bad_curvature="keep"))
    value = lambda z: float(z @ z)  # noqa: E731
    x0, g0 = np.array([1.0, 0.0]), np.array([2.0, 0.0])
    opt.step(x0, 1.0, g0, value)
    info = opt.step(x0 + [1.0, 0.0], 4.0, g0 - [1.0, 0.0], value)
    assert info.accepted and opt.n_failed_steps == 0  # -g is a descent direction


def test_reference_preset_fields_and_overrides():
    from solver.optim.config import REFERENCE_OPTIMIZER

    ref = OptimizerConfig.reference()
    assert (ref.name, ref.memory, ref.learning_rate, ref.ls_factor, ref.ls_max_tries) == (
        "lbfgs", 20, 1.0, 0.5, 20
    )  # fmt: skip
    assert (ref.non_descent, ref.bad_curvature, ref.ls_fail, ref.armijo_c1) == (
        "keep", "keep", "take_last", 1e-4
    )  # fmt: skip
    assert ref.uses_line_search
    assert OptimizerConfig.reference(memory=10).memory == 10
    assert REFERENCE_OPTIMIZER["memory"] == 20  # the preset is not changed by overrides
    with pytest.raises(ConfigError, match="non_descent"):
        OptimizerConfig.reference(non_descent="restart")


@pytest.mark.parametrize("start", [(-1.2, 1.0), (2.0, -1.0)])
def test_keep_policy_converges_on_rosenbrock(start):
    opt = make_optimizer(OptimizerConfig(bad_curvature="keep"))
    x, _, gnorm = run(opt, rosenbrock, np.array(start), 1000, grad_tol=1e-8)
    assert gnorm < 1e-8
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-7)


def test_memory_is_bounded():
    fg, _ = ill_conditioned_quadratic(n=20)
    opt = LBFGS(OptimizerConfig(memory=4))
    run(opt, fg, np.zeros(20), 12)
    assert len(opt.pairs) == 4


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 5))
def test_two_loop_matches_dense_inverse_bfgs(seed, m):
    """-H g with H from the dense recursion H+ = V^T H V + rho s s^T, V = I - rho y s^T."""
    rng = np.random.default_rng(seed)
    n = 6
    pairs = []
    for _ in range(m):
        s = rng.standard_normal(n)
        y = s + 0.3 * rng.standard_normal(n)  # keeps s.y > 0 with high probability
        if s @ y <= 0:
            y = -y
        pairs.append((s, y, 1.0 / float(s @ y)))
    s, y, _ = pairs[-1]
    h = (float(s @ y) / float(y @ y)) * np.eye(n)
    for s, y, rho in pairs:
        v = np.eye(n) - rho * np.outer(y, s)
        h = v.T @ h @ v + rho * np.outer(s, s)
    g = rng.standard_normal(n)
    np.testing.assert_allclose(two_loop_direction(g, pairs), -h @ g, rtol=1e-9, atol=1e-12)


def test_first_step_and_step_after_reset_are_steepest_descent():
    fg, _ = ill_conditioned_quadratic(n=5)
    x0 = np.ones(5)
    f0, g0 = fg(x0)
    opt = make_optimizer(OptimizerConfig(learning_rate=1e-4))

    def value(z):
        return fg(z)[0]

    first = opt.step(x0, f0, g0, value)
    np.testing.assert_allclose(first.x_new, x0 - first.step_size * g0, rtol=1e-14)
    run(opt, fg, first.x_new, 5)
    opt.reset()
    assert opt.pairs == [] and opt.n_steps == 0
    again = opt.step(x0, f0, g0, value)
    np.testing.assert_array_equal(again.x_new, first.x_new)


# ---- line search policies -------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["take_last", "reject"])
def test_failed_line_search_policy(policy):
    x = np.array([1.0, -2.0])
    g = np.array([1.0, 1.0])
    cfg = OptimizerConfig(ls_max_tries=6, ls_fail=policy)
    info = make_optimizer(cfg).step(x, 0.0, g, lambda z: 1.0)  # never sufficient decrease
    assert not info.accepted
    assert info.n_value_evals == 6 and info.ls_tries == 5
    assert info.step_size == pytest.approx(0.5**5)
    expected = x - 0.5**5 * g if policy == "take_last" else x
    np.testing.assert_allclose(info.x_new, expected, rtol=1e-15)


def test_non_finite_trials_backtrack():
    def value(z):
        return math.inf if np.abs(z).max() > 0.3 else float(z @ z)

    x = np.array([0.2, 0.0])
    g = 2 * x
    d = -4 * x  # trial 1 at z = -0.6 (inf), trial 2 at z = -0.2 (no decrease), trial 3 at z = 0
    res = backtracking_armijo(
        value, x, 0.04, g, d, initial_step=1.0, factor=0.5, max_tries=20, c1=1e-4
    )
    assert res.found and res.n_evals == 3
    assert res.step_size == 0.25 and res.value == 0.0


def test_nan_trials_count_as_failures():
    x = np.array([1.0])
    res = backtracking_armijo(
        lambda z: math.nan,
        x,
        1.0,
        np.array([2.0]),
        np.array([-2.0]),
        initial_step=1.0,
        factor=0.5,
        max_tries=4,
        c1=1e-4,
    )
    assert not res.found and res.n_evals == 4


def test_take_last_with_non_finite_last_trial_stays():
    x = np.array([1.0])
    info = make_optimizer(OptimizerConfig(ls_max_tries=3)).step(
        x, 1.0, np.array([2.0]), lambda z: math.inf
    )
    assert not info.accepted
    np.testing.assert_array_equal(info.x_new, x)


def test_non_finite_input_is_not_accepted():
    x = np.array([1.0, 2.0])
    for name in ("sgd", "adam", "lbfgs"):
        opt = make_optimizer(OptimizerConfig(name=name))
        info = opt.step(x, math.nan, np.ones(2), lambda z: 0.0)
        assert not info.accepted and info.n_value_evals == 0
        np.testing.assert_array_equal(info.x_new, x)
        info = opt.step(x, 1.0, np.array([1.0, math.inf]), lambda z: 0.0)
        assert not info.accepted


def test_zero_gradient_is_a_fixed_point():
    x = np.array([3.0, 4.0])
    info = make_optimizer(OptimizerConfig()).step(x, 1.0, np.zeros(2), lambda z: 0.0)
    assert info.accepted and info.step_size == 0.0
    np.testing.assert_array_equal(info.x_new, x)


# ---- SGD / Adam -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cfg",
    [
        OptimizerConfig(name="sgd", learning_rate=1e-2, momentum=0.0),
        OptimizerConfig(name="sgd", learning_rate=1e-2, momentum=0.9),
        OptimizerConfig(name="sgd", learning_rate=1e-2, momentum=0.9, nesterov=True),
        OptimizerConfig(name="sgd", learning_rate=1.0, momentum=0.5, line_search=True),
        OptimizerConfig(name="adam", learning_rate=5e-2),
    ],
    ids=["gd", "heavy-ball", "nesterov", "sgd-linesearch", "adam"],
)
def test_sgd_and_adam_decrease_convex_quadratic(cfg):
    fg, _ = ill_conditioned_quadratic(n=10, cond=10.0, seed=3)
    x0 = np.zeros(10)
    f0 = fg(x0)[0]
    x, _, _ = run(make_optimizer(cfg), fg, x0, 300)
    assert fg(x)[0] < 1e-4 * f0


def test_adam_first_step_has_length_learning_rate_per_coordinate():
    g = np.array([3.0, -1e-3, 20.0])
    info = Adam(OptimizerConfig(name="adam", learning_rate=0.1, eps=1e-12)).step(
        np.zeros(3), 0.0, g, lambda z: 0.0
    )
    np.testing.assert_allclose(info.x_new, -0.1 * np.sign(g), rtol=1e-8)


def test_heavy_ball_matches_recursion():
    cfg = OptimizerConfig(name="sgd", learning_rate=0.1, momentum=0.5)
    opt = SGD(cfg)
    g1, g2 = np.array([1.0, 0.0]), np.array([0.0, 2.0])
    x1 = opt.step(np.zeros(2), 0.0, g1, lambda z: 0.0).x_new
    x2 = opt.step(x1, 0.0, g2, lambda z: 0.0).x_new
    np.testing.assert_allclose(x1, -0.1 * g1)
    np.testing.assert_allclose(x2, x1 - 0.1 * (0.5 * g1 + g2))


# ---- configuration ----------------------------------------------------------------------------


def test_factory_and_line_search_defaults():
    assert isinstance(make_optimizer(OptimizerConfig()), LBFGS)
    assert isinstance(make_optimizer(OptimizerConfig(name="sgd")), SGD)
    assert isinstance(make_optimizer(OptimizerConfig(name="adam")), Adam)
    assert OptimizerConfig().uses_line_search
    assert not OptimizerConfig(name="sgd").uses_line_search
    assert OptimizerConfig(name="sgd", line_search=True).uses_line_search
    assert not OptimizerConfig(line_search=False).uses_line_search


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"name": "newton"}, r"`name` must be one of sgd, adam, lbfgs; got name='newton'"),
        (
            {"learning_rate": 0.0},
            r"`learning_rate` must be a finite number > 0; got learning_rate=0",
        ),
        ({"learning_rate": math.nan}, r"`learning_rate`"),
        ({"momentum": 1.0}, r"`momentum` must lie in \[0, 1\); got momentum=1.0"),
        ({"beta2": -0.1}, r"`beta2` must lie in \[0, 1\)"),
        ({"ls_factor": 0.0}, r"`ls_factor` must lie in \(0, 1\)"),
        ({"armijo_c1": 1.5}, r"`armijo_c1` must lie in \(0, 1\)"),
        ({"memory": 0}, r"`memory` must be a positive integer; got memory=0"),
        ({"ls_max_tries": 2.5}, r"`ls_max_tries` must be a positive integer"),
        ({"batch_size": 0}, r"`batch_size` must be a positive integer; got batch_size=0"),
        ({"bad_curvature": "damp"}, r"`bad_curvature` must be 'skip', 'reset' or 'keep'"),
        ({"ls_fail": "retry"}, r"`ls_fail` must be 'take_last' or 'reject'"),
        ({"name": "adam", "line_search": True}, r"`line_search` is not available for name='adam'"),
        ({"name": "sgd", "momentum": 0.0, "nesterov": True}, r"`nesterov=True` needs momentum > 0"),
        ({"eps": -1.0}, r"`eps` must be a finite number > 0"),
    ],
)
def test_config_validation(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        OptimizerConfig(**kwargs)


def test_shape_mismatch_is_reported():
    with pytest.raises(ConfigError, match=r"equal shape \(n,\)"):
        make_optimizer(OptimizerConfig()).step(np.zeros(3), 0.0, np.zeros(2), lambda z: 0.0)
