"""Derived metrics and plots on hand-built tidy frames (known answers, labels, savefig)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sensitivity import metrics, plot_data, plots

matplotlib.use("Agg")


def _trials() -> pd.DataFrame:
    """2 strategies x 2 learning rates x 3 seeds; nested = random + 0.1, one diverged run."""
    rows = []
    for lr in (0.01, 0.1):
        for seed in range(3):
            base = 0.5 + (0.2 if lr == 0.1 else 0.0) + 0.01 * seed
            rows.append(("random", lr, seed, base, "complete"))
            rows.append(("nested", lr, seed, base + 0.1, "complete"))
    rows[0] = ("random", 0.01, 0, np.nan, "diverged")
    df = pd.DataFrame(
        rows, columns=["strategy", "param_learning_rate", "seed", "val_acc", "status"]
    )
    df["counted"] = True
    df["trial"] = np.arange(len(df))
    df["param_init_scale"] = 0.1
    return df


def _curves() -> pd.DataFrame:
    """Trial 0 reaches 0.8 at t = 2; trial 1 never does (censored at t = 3)."""
    return pd.DataFrame(
        {
            "trial": [0, 0, 0, 0, 1, 1, 1, 1],
            "strategy": ["nested"] * 4 + ["random"] * 4,
            "seed": [0] * 8,
            "param_learning_rate": [0.1] * 8,
            "iteration": [0, 1, 2, 3] * 2,
            "wall_time": [0.5, 1.0, 2.0, 3.0] * 2,
            "modelled_time": [0.25, 0.5, 1.0, 1.5] * 2,
            "val_acc": [0.2, 0.5, 0.85, 0.9, 0.2, 0.3, np.nan, 0.4],
        }
    )


def test_time_to_target_with_censoring() -> None:
    tt = metrics.time_to_target(_curves(), 0.8).set_index("trial")
    assert tt.loc[0, "reached"] and not tt.loc[0, "censored"] and tt.loc[0, "time"] == 2.0
    # never reached: censored at the horizon (no budget: never), not at the run's last time
    assert not tt.loc[1, "reached"] and tt.loc[1, "censored"] and tt.loc[1, "time"] == np.inf
    tb = metrics.time_to_target(_curves(), 0.8, budget=1.5).set_index("trial")
    assert not tb.loc[0, "reached"] and tb.loc[0, "time"] == 1.5  # hit at 2.0 > budget
    tm = metrics.time_to_target(_curves(), 0.8, clock="modelled").set_index("trial")
    assert tm.loc[0, "time"] == 1.0


def test_summarize_counts_diverged_runs_as_accuracy_zero() -> None:
    s = metrics.summarize(_trials(), target=0.65)
    s = s.set_index(["strategy", "param_learning_rate"])
    r = s.loc[("random", 0.01)]
    assert r["n"] == 3 and r["diverged"] == 1 and r["failed"] == 0
    assert r["worst"] == 0.0  # the diverged run, as accuracy 0
    assert r["median"] == pytest.approx(0.51)  # median of 0, 0.51, 0.52
    assert r["success_rate"] == 0.0 and r["success_low"] == 0.0
    n = s.loc[("nested", 0.1)]
    assert n["median"] == pytest.approx(0.81) and n["q75"] - n["q25"] == pytest.approx(0.01)
    assert n["worst"] == pytest.approx(0.80) and n["success_rate"] == 1.0
    # Wilson 95 % interval of 3/3: [n / (n + z^2), 1]
    assert n["success_low"] == pytest.approx(3 / (3 + 1.959964**2)) and n["success_high"] == 1.0
    assert n["median_low"] <= n["median"] <= n["median_high"]


def test_paired_differences_match_seeds_and_params() -> None:
    d = metrics.paired_differences(_trials(), baseline="random")
    assert len(d) == 6 and set(d["strategy"]) == {"nested"}
    # the diverged baseline run counts as 0: its pair differs by the nested accuracy 0.6
    assert sorted(d["difference"].round(9)) == [0.1] * 5 + [0.6]


def test_variance_shares_attribute_to_the_right_factor() -> None:
    v = metrics.variance_shares(_trials()).set_index("factor")["share"]
    assert v.index[0] == "param_learning_rate"  # 0.2 step dominates
    assert v["param_learning_rate"] > v["strategy"] > v["seed"] > 0
    assert v["param_init_scale"] == 0.0  # constant factor explains nothing
    assert v.drop("residual").sum() + v["residual"] == pytest.approx(1.0)
    assert (v >= 0).all() and (v <= 1).all()


def test_importance_requires_explicit_known_evaluator() -> None:
    import optuna

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("a", 0, 1) * 10 + t.suggest_float("b", 0, 1), 30)
    for ev in metrics.EVALUATORS:
        imp = metrics.importance(study, evaluator=ev)
        assert imp.iloc[0]["param"] == "a"
        assert imp["importance"].sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="evaluator"):
        metrics.importance(study, evaluator="gini")  # type: ignore[arg-type]


def test_heatmap_data_counts_diverged_as_zero() -> None:
    h = plot_data.heatmap_data(_trials(), x="param_learning_rate", y="param_init_scale")
    row = h[(h["strategy"] == "random") & (h["param_learning_rate"] == 0.01)].iloc[0]
    assert row["n"] == 3 and row["value"] == pytest.approx(0.51)  # median of 0, 0.51, 0.52


def test_runtime_accuracy_data_is_last_value_so_far() -> None:
    d = plot_data.runtime_accuracy_data(_curves(), n_points=5, chance=0.2)
    nested = d[d["strategy"] == "nested"]
    assert nested["time"].iloc[0] == 0.5 and nested["time"].iloc[-1] == 3.0
    assert nested["median"].iloc[-1] == 0.9
    random = d[d["strategy"] == "random"]
    assert random["median"].iloc[-1] == 0.4  # NaN rows (not evaluated) are skipped
    assert (d["n_runs"] == 1).all()


def test_ecdf_is_monotone_and_ends_at_one() -> None:
    e = plot_data.ecdf_data(_trials())
    for _, g in e.groupby("strategy"):
        assert g["fraction"].is_monotonic_increasing and g["fraction"].iloc[-1] == 1.0
        assert g["value"].is_monotonic_increasing


def _labels(fig) -> tuple[list[str], list[str], list[str]]:
    axes = [a for a in fig.axes if a.get_label() != "<colorbar>"]
    return ([a.get_xlabel() for a in axes], [a.get_ylabel() for a in axes],
            [a.get_title() for a in axes])  # fmt: skip


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def test_renderers_label_axes_and_save() -> None:
    t = _trials()
    x, y = "param_learning_rate", "param_init_scale"
    fig = plots.render_heatmap(plot_data.heatmap_data(t, x=x, y=y), x=x, y=y)
    xl, yl, titles = _labels(fig)
    assert "learning rate" in xl and "init scale" in yl and {"random", "nested"} <= set(titles)
    assert _png(fig).startswith(b"\x89PNG")

    fig = plots.render_seed_spread(plot_data.seed_spread_data(t, x=x), x=x)
    xl, yl, _ = _labels(fig)
    assert xl == ["learning rate"] and yl == ["validation accuracy"]
    assert len(_png(fig)) > 1000
    t4 = pd.concat([t.assign(param_init_scale=v) for v in (0.01, 0.1, 1.0)], ignore_index=True)
    fig = plots.render_seed_spread(plot_data.seed_spread_data(t4, x=x, panel=y), x=x, panel=y)
    xl, yl, titles = _labels(fig)
    assert titles == ["init scale = 0.01", "init scale = 0.1", "init scale = 1"]
    assert xl == ["learning rate"] * 3 and yl == ["validation accuracy", "", ""]

    fig = plots.render_ecdf(plot_data.ecdf_data(t))
    assert fig.axes[0].get_ylabel() == "fraction of runs"
    legend = [tx.get_text() for tx in fig.axes[0].get_legend().get_texts()]
    assert legend == ["nested (n=6)", "random (n=6)"]

    panels = {c: plot_data.runtime_accuracy_data(_curves(), clock=c) for c in ("wall", "modelled")}
    fig = plots.render_runtime_accuracy(panels)
    xl, yl, _ = _labels(fig)
    assert xl == ["wall time [s]", "modelled parallel time [s]"]
    assert yl[0] == "validation accuracy"
    assert len(_png(fig)) > 1000

    imp = pd.DataFrame({"param": ["param_learning_rate", "seed"], "importance": [0.8, 0.2]})
    fig = plots.render_importance(imp, evaluator="fanova")
    assert fig.axes[0].get_xlabel() == "importance (fanova)"
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["seed", "learning rate"]
