"""Known-answer tests of the study statistics on synthetic trial tables, and one test per
defect 2, 3 and 5 of issue 8 (defects 1 and 4: tests/test_sensitivity_records.py).

Every expected number follows from how the table is built (or from the textbook formula of the
statistic), not from running the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm, qmc

from sensitivity import metrics, plot_data

Z = norm.ppf(0.975)


def _table(strategy, val_acc, status=None, **cols) -> pd.DataFrame:
    n = len(val_acc)
    df = pd.DataFrame({"strategy": strategy, "val_acc": np.asarray(val_acc, float),
                       "status": status if status is not None else ["complete"] * n,
                       "counted": True, "seed": np.arange(n)})  # fmt: skip
    for k, v in cols.items():
        df[k] = v
    return df


def _wilson(k: int, n: int) -> tuple[float, float]:
    """Textbook Wilson score interval."""
    p = k / n
    centre = (p + Z**2 / (2 * n)) / (1 + Z**2 / n)
    half = Z / (1 + Z**2 / n) * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return centre - half, centre + half


def test_success_rate_of_a_strategy_failing_a_known_fraction() -> None:
    """40 runs, 10 diverged, 30 complete at accuracy 0.95 >= 0.9: success rate 3/4."""
    status = ["diverged"] * 10 + ["complete"] * 30
    acc = [np.nan] * 10 + [0.95] * 30
    s = metrics.summarize(_table("a", acc, status), target=0.9, by=["strategy"]).iloc[0]
    assert s["n"] == 40 and s["diverged"] == 10 and s["successes"] == 30
    assert s["success_rate"] == 0.75
    lo, hi = _wilson(30, 40)
    assert s["success_low"] == pytest.approx(lo, abs=1e-6)
    assert s["success_high"] == pytest.approx(hi, abs=1e-6)
    # accuracy kept with the diverged runs as 0: sorted, 10 zeros then 0.95; the lower quartile
    # sits at position 0.25 * 39 = 9.75, between 0 and 0.95
    assert s["median"] == 0.95 and s["worst"] == 0.0 and s["q25"] == pytest.approx(0.75 * 0.95)


def _ttt_table(strategy, times, reached) -> pd.DataFrame:
    t = np.where(reached, times, np.nan)
    return pd.DataFrame({"strategy": strategy, "counted": True, "status": "complete",
                         "reached_target": pd.array(reached, dtype="boolean"),
                         "time_to_target_wall": t, "time_to_target_modelled": t / 2})  # fmt: skip


def test_kaplan_meier_median_small_exact() -> None:
    """Events at 1, 2, 3, 4 and 2 runs censored at the budget 10: S = 5/6, 4/6, 3/6 -> 3."""
    df = _ttt_table("a", np.array([1, 2, 3, 4, 9, 9.0]), np.array([1, 1, 1, 1, 0, 0], bool))
    k = metrics.time_to_target_summary(df, clock="wall", budget=10.0).iloc[0]
    assert (k["n"], k["reached"], k["median"]) == (6, 4, 3.0)
    assert k["median_low"] <= 3.0 <= k["median_high"]
    km = metrics.time_to_target_summary(df, clock="modelled", budget=10.0).iloc[0]
    assert km["median"] == 1.5


def test_kaplan_meier_curve_small_exact() -> None:
    """Same runs: S steps 1 -> 5/6 -> 4/6 -> 3/6 -> 2/6 at t = 1..4 and stays at 2/6 (the two
    censored runs never arrive); the band contains the curve."""
    df = _ttt_table("a", np.array([1, 2, 3, 4, 9, 9.0]), np.array([1, 1, 1, 1, 0, 0], bool))
    c = metrics.time_to_target_curves(df, budget=10.0)
    assert c["time"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 10.0]
    assert c["survival"].tolist() == pytest.approx([1, 5 / 6, 4 / 6, 3 / 6, 2 / 6, 2 / 6])
    assert (c["low"] <= c["survival"] + 1e-12).all() and (c["survival"] <= c["high"] + 1e-12).all()
    assert set(c["strategy"]) == {"a"} and set(c["clock"]) == {"wall"}


def test_kaplan_meier_median_of_a_known_distribution_with_failures() -> None:
    """Times ~ Exp(1), a fraction q of runs never arrives: S(t) = q + (1 - q) exp(-t), so the
    median is ln((1 - q) / (0.5 - q)); with q >= 0.5 it is never reached."""
    rng = np.random.default_rng(1)
    n = 2000
    for q, expected in ((0.2, math.log(0.8 / 0.3)), (0.0, math.log(2.0))):
        never = rng.random(n) < q
        t = rng.exponential(1.0, n)
        k = metrics.time_to_target_summary(_ttt_table("a", t, ~never), budget=50.0).iloc[0]
        assert k["median"] == pytest.approx(expected, rel=0.08)
        assert k["median_low"] <= expected <= k["median_high"]
        assert k["median_high"] - k["median_low"] < 0.3
    never = rng.random(200) < 0.6
    k = metrics.time_to_target_summary(_ttt_table("a", rng.exponential(1.0, 200), ~never)).iloc[0]
    assert k["median"] == math.inf  # "not reached"


def test_paired_difference_known_shift() -> None:
    """nested = random + 0.05 + 0.001 i on 8 shared (parameter, seed) pairs: all better, median
    difference 0.0535, exact Wilcoxon two-sided p = 2 / 2^8."""
    base = 0.6 + 0.01 * np.arange(8)
    diff = 0.05 + 0.001 * np.arange(8)
    lr = np.repeat([0.01, 0.1], 4)
    seeds = np.tile(np.arange(4), 2)
    df = pd.concat([
        _table("random", base, param_lr=lr).assign(seed=seeds),
        _table("nested", base + diff, param_lr=lr).assign(seed=seeds),
    ], ignore_index=True)  # fmt: skip
    c = metrics.paired_comparison(df, baseline="random").iloc[0]
    assert c["strategy"] == "nested" and c["pairs"] == 8
    assert c["median_difference"] == pytest.approx(0.0535)
    assert c["share_better"] == 1.0 and c["share_worse"] == 0.0
    assert c["wilcoxon_p"] == pytest.approx(2 / 2**8)
    assert 0.05 <= c["median_low"] <= 0.0535 <= c["median_high"] <= 0.057


def _lhs_table(n: int, seed: int, noise: float) -> pd.DataFrame:
    """accuracy = 0.6 + 0.3 g(lr) + noise, g = 1 above the median log learning rate; the initial
    scale has no effect. Population shares: lr 0.09 * 0.25 / (0.09 * 0.25 + noise^2)."""
    u = qmc.LatinHypercube(d=2, seed=seed).random(n)
    lr = 10 ** (-3 + 2 * u[:, 0])
    scale = 10 ** (-3 + 3 * u[:, 1])
    g = (lr > np.median(lr)).astype(float)
    acc = 0.6 + 0.3 * g + np.random.default_rng(seed).normal(0, noise, n)
    return _table("random", acc, param_learning_rate=lr, param_init_scale=scale).assign(seed=0)


def test_variance_share_of_a_known_effect_on_a_sampled_design() -> None:
    v = metrics.variance_shares(_lhs_table(400, 0, noise=0.05), bins=4).set_index("factor")
    share = v["share"]
    assert share["param_learning_rate"] == pytest.approx(0.9, abs=0.03)
    assert share["param_init_scale"] < 0.02
    assert bool(v.loc["param_learning_rate", "binned"]) and v.loc["param_init_scale", "levels"] == 4
    assert len(v.loc["param_learning_rate", "bin_edges"].split()) == 5  # 4 quantile bins
    assert share.drop("residual").sum() + share["residual"] == pytest.approx(1.0)


def test_variance_shares_on_a_balanced_grid_are_the_classical_eta_squared() -> None:
    rng = np.random.default_rng(2)
    rows = [(s, lr, seed) for s in ("random", "nested") for lr in (1e-3, 1e-2, 1e-1)
            for seed in range(4)]  # fmt: skip
    df = pd.DataFrame(rows, columns=["strategy", "param_learning_rate", "seed"])
    df["val_acc"] = (0.5 + 0.1 * (df["strategy"] == "nested") + 2 * df["param_learning_rate"]
                     + rng.normal(0, 0.02, len(df)))  # fmt: skip
    df["status"], df["counted"] = "complete", True
    v = metrics.variance_shares(df).set_index("factor")["share"]
    y = df["val_acc"]
    for f in ("strategy", "param_learning_rate", "seed"):
        means = y.groupby(df[f]).transform("mean")
        assert v[f] == pytest.approx(((means - y.mean()) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def test_defect2_variance_shares_on_sampled_designs() -> None:
    """Issue 8 defect 2: grouping by exact value made every sampled parameter its own group:
    each share 1.0 and the residual -1."""
    v = metrics.variance_shares(_lhs_table(24, 3, noise=0.1))
    shares = v.set_index("factor")["share"]
    assert ((shares >= 0) & (shares <= 1)).all()
    assert shares.drop("residual").sum() <= 1.0 + 1e-12 and shares["residual"] >= 0
    assert shares["param_init_scale"] < 0.5
    assert v.set_index("factor").loc["param_learning_rate", "levels"] == metrics.VARIANCE_BINS


def test_defect3_failures_are_not_dropped_from_summaries() -> None:
    """Issue 8 defect 3: a strategy failing 4 of 6 runs (successes fast) looked fastest and most
    accurate because medians were taken over successes only."""
    fragile = _table("fragile", [np.nan] * 4 + [0.95] * 2, ["diverged"] * 4 + ["complete"] * 2)
    steady = _table("steady", [0.9] * 6)
    df = pd.concat([fragile, steady], ignore_index=True)
    s = metrics.summarize(df, target=0.9, by=["strategy"]).set_index("strategy")
    assert s.loc["fragile", "median"] == 0.0 and s.loc["steady", "median"] == 0.9
    assert s.loc["fragile", "success_rate"] == pytest.approx(1 / 3)
    t = pd.concat([_ttt_table("fragile", np.array([9, 9, 9, 9, 1, 1.0]),
                              np.array([0, 0, 0, 0, 1, 1], bool)),
                   _ttt_table("steady", np.full(6, 2.0), np.ones(6, bool))])  # fmt: skip
    k = metrics.time_to_target_summary(t, budget=10.0).set_index("strategy")
    assert k.loc["fragile", "median"] == math.inf and k.loc["steady", "median"] == 2.0


def test_defect5_runtime_curves_keep_every_run() -> None:
    """Issue 8 defect 5: runs without an evaluation yet dropped out of early medians (and runs
    never evaluated vanished). Run 0 is at 0.9 from t = 1, run 1 at 0.3 from t = 5, run 2
    never evaluated; chance level 0.2."""
    curves = pd.DataFrame({
        "trial": [0, 0, 1, 1, 2], "strategy": "s", "seed": [0, 0, 1, 1, 2],
        "iteration": [0, 1, 0, 1, 0], "wall_time": [1.0, 2.0, 5.0, 10.0, 0.5],
        "modelled_time": [1.0, 2.0, 5.0, 10.0, 0.5], "val_acc": [0.9, 0.9, 0.3, 0.3, np.nan],
    })  # fmt: skip
    d = plot_data.runtime_accuracy_data(curves, n_points=11, chance=0.2)
    assert (d["n_runs"] == 3).all()
    at = d.set_index("time")
    t2 = at.index[(at.index >= 2) & (at.index < 5)][0]
    assert at.loc[t2, "median"] == 0.2  # 0.9, chance, chance
    assert at.loc[10.0, "median"] == 0.3  # 0.9 carried forward, 0.3, chance
    trials = pd.DataFrame({"trial": [0, 1, 2, 3], "strategy": "s", "counted": True})
    d4 = plot_data.runtime_accuracy_data(curves, n_points=11, chance=0.2, trials=trials)
    assert (d4["n_runs"] == 4).all()  # trial 3 failed before any history row


def test_kaplan_meier_figure_panels_and_labels() -> None:
    import matplotlib

    matplotlib.use("Agg")
    from sensitivity import plots

    a = _ttt_table("a", np.array([1, 2, 3, 9.0]), np.array([1, 1, 1, 0], bool))
    b = _ttt_table("b", np.array([2, 4, 9, 9.0]), np.array([1, 1, 0, 0], bool))
    df = pd.concat([a, b])
    curves = pd.concat([metrics.time_to_target_curves(df, clock=c, budget=10.0)
                        for c in ("wall", "modelled")])  # fmt: skip
    fig = plots.render_time_to_target(curves, target=0.9, order=["b", "a"])
    assert [a.get_title() for a in fig.axes] == ["Runs not yet at 0.9 (wall)",
                                                  "Runs not yet at 0.9 (modelled)"]  # fmt: skip
    assert fig.axes[0].get_ylabel() == "share of runs (Kaplan-Meier)"
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["b", "a"]
    plots.plt.close(fig)
