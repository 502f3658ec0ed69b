"""Nested-iteration statistics: nested vs direct training over the grid of regularisation, initial
scales, interpolation and level tolerance, with both L-BFGS variants (``non_descent``).

Study: ``studies/nested_vs_direct.toml`` (resized per scale). Variants: ``direct (L)`` = random
initialisation with the final level's iteration budget ``L`` (equal iterations), ``direct
(1.5L)`` (equal cost: the coarse level of half the layers costs half per iteration), and
``nested <interpolation>, tol <level tolerance>``.

Tables (``results/summaries/nested_statistics/``):

* ``summary.csv`` -- per optimiser variant x training variant: runs, failures (Wilson 95 %),
  mean / median (bootstrap 95 %), std, min, max of the final validation accuracy, and the
  Kaplan-Meier median time to the study's target accuracy in wall time and in cost (layer
  steps x samples, machine independent; runs that never reach it are censored at their end);
* ``top_bottom.csv`` -- the 5 best and 5 worst configurations (gamma, scales, nested options)
  per variant by mean accuracy over seeds;
* ``paired.csv`` -- each nested variant against direct (L) and direct (1.5L) on the same
  (gamma, scales, seed): median difference (bootstrap 95 %), share better, Wilcoxon p;
* ``optimizer_effect.csv`` -- the nested advantage (nested minus direct 1.5L, paired) under
  each optimiser variant side by side;
* ``trials.csv`` -- one row per run.

Figures: ``accuracy_vs_time`` (median and quartiles of validation accuracy vs wall time and vs
cost), ``final_accuracy`` (box + dot per variant).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity.reproduce.analysis import (
    box_dot,
    curve_band,
    failed,
    first_hit,
    group_summary,
    last_time,
    top_bottom,
)
from sensitivity.reproduce.base import (
    Experiment,
    Paths,
    save_figure,
    write_index,
    write_meta,
    write_table,
)
from sensitivity.reproduce.stats import paired
from sensitivity.reproduce.studies import derive, run_study

NAME = "nested_statistics"
STUDY = "nested_vs_direct.toml"
CONFIG = ["param_gamma_tik", "param_scale_hidden", "param_scale_class"]

OVERRIDES = {
    "smoke": {
        "problem": {
            "data": {"n_train_per_class": 15, "n_val_per_class": 10, "grid_size": 64},
            "network": {"n_layers": 8},
        },
        "strategies": {"nested": {"layers": [4, 8], "level_iterations": 4}},
        "training": {"stop": {"max_iterations": 4, "eval_every": 1}},
        "space": {
            "budget": {"values": [4, 6]},
            "gamma_tik": {"values": [1e-7]},
            "scale_hidden": {"values": [1e-3, 1.0]},
            "scale_class": {"values": [1e-3]},
            "level_tolerance": {"values": [0.7]},
        },
        "design": {"seeds": 1},
        "metric": {"target": 0.3},
    },
    "committed": {
        "problem": {"data": {"n_train_per_class": 50}},
        "strategies": {"nested": {"level_iterations": 40}},
        "training": {"stop": {"max_iterations": 40}},
        "space": {
            "budget": {"values": [40, 60]},
            "gamma_tik": {"values": [1e-7, 1e-3]},
            "scale_hidden": {"values": [1e-3, 1.0]},
        },
        "design": {"seeds": 4},
        "metric": {"target": 0.8},
    },
    "paper": {},
}
SIZES = {
    "smoke": "15 points/class, 4 -> 8 layers, 4 iterations per level; 16 runs",
    "committed": "50 points/class (250), 22 -> 44 layers, L = 40 iterations per level, "
    "gamma_tik {1e-7, 1e-3} x hidden scale {1e-3, 1} x open/classifier scale {1e-3, 0.1} x "
    "interpolation {linear, constant} x level tolerance {0.7, 0.9}, direct with 40 and 60 "
    "iterations, both optimiser variants, 4 seeds: 384 runs; target accuracy 0.8",
    "paper": "the study file: 1000 points/class, 22 -> 44 layers, L = 100, gamma_tik "
    "{1e-7, 1e-5, 1e-3} x hidden {1e-3, 0.1, 1} x open/classifier {1e-3, 0.1} x 2 x 2, "
    "direct 100 / 150, both optimiser variants, 3 seeds: 648 runs",
}


def variant(trials: pd.DataFrame, budget: float) -> pd.Series:
    """Training-variant label of each trial (``direct (L)``, ``direct (1.5L)``, ``nested ...``)."""

    def one(row) -> str:
        if row["strategy"] == "random":
            return "direct (L)" if row["param_budget"] == budget else "direct (1.5L)"
        return f"nested {row['param_interpolation']}, tol {row['param_level_tolerance']:g}"

    return trials.apply(one, axis=1)


def _paired_tables(t: pd.DataFrame) -> pd.DataFrame:
    keys = CONFIG + ["seed", "param_non_descent"]
    rows = []
    direct = {
        v: t[t["variant"] == v].set_index(keys)["acc0"] for v in ("direct (L)", "direct (1.5L)")
    }
    for nd in sorted(t["param_non_descent"].unique()):
        for v in sorted(x for x in t["variant"].unique() if x.startswith("nested")):
            nest = t[(t["variant"] == v) & (t["param_non_descent"] == nd)].set_index(keys)["acc0"]
            for ref, series in direct.items():
                joined = pd.concat([nest, series], axis=1, join="inner", keys=["a", "b"])
                rows.append(
                    {
                        "non_descent": nd,
                        "nested": v,
                        "against": ref,
                        **paired(joined["a"], joined["b"]),
                    }
                )
    return pd.DataFrame(rows)


def _optimizer_effect(t: pd.DataFrame) -> pd.DataFrame:
    """Nested (all nested variants pooled) minus direct (1.5L), paired, per optimiser variant;
    and the failure counts of each side."""
    keys = CONFIG + ["seed"]
    rows = []
    for nd in sorted(t["param_non_descent"].unique()):
        s = t[t["param_non_descent"] == nd]
        direct = s[s["variant"] == "direct (1.5L)"].set_index(keys)
        nest = s[s["strategy"] == "nested"]
        a, b = [], []
        for _, r in nest.iterrows():
            k = tuple(r[c] for c in keys)
            if k in direct.index:
                a.append(r["acc0"])
                b.append(direct.loc[k, "acc0"])
        rows.append(
            {
                "non_descent": nd,
                **paired(a, b),
                "nested_failures": int(nest["failed"].sum()),
                "nested_runs": len(nest),
                "direct_1.5L_failures": int(direct["failed"].sum()),
                "direct_1.5L_runs": len(direct),
            }
        )
    return pd.DataFrame(rows)


def _figures(t: pd.DataFrame, curves: pd.DataFrame, figdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nds = sorted(t["param_non_descent"].unique())
    families = {
        "direct (L)": t["variant"] == "direct (L)",
        "direct (1.5L)": t["variant"] == "direct (1.5L)",
        "nested (all options)": t["strategy"] == "nested",
    }
    written = []
    fig, axes = plt.subplots(
        len(nds), 2, figsize=(11, 3.4 * len(nds)), squeeze=False, constrained_layout=True
    )
    for i, nd in enumerate(nds):
        for j, clock in enumerate(("wall_time", "cost")):
            ax = axes[i, j]
            hi = float(curves[clock].max())
            grid = np.linspace(0, hi, 200)
            for k, (label, mask) in enumerate(families.items()):
                ids = t[mask & (t["param_non_descent"] == nd)]["trial"]
                band = curve_band(curves, ids, clock, grid)
                ax.plot(band[clock], band["median"], color=f"C{k}", label=label)
                ax.fill_between(band[clock], band["q25"], band["q75"], color=f"C{k}", alpha=0.2)
            ax.set_xlabel(
                "wall time [s]" if clock == "wall_time" else "cost [layer steps x samples]"
            )
            ax.set_ylabel("validation accuracy")
            ax.set_title(f"optimiser non_descent = {nd}")
            ax.legend(loc="lower right")
    written += save_figure(fig, figdir, "accuracy_vs_time")
    variants = sorted(t["variant"].unique())
    fig, axes = plt.subplots(
        1,
        len(nds),
        figsize=(max(6, 1.3 * len(variants)) * len(nds), 4),
        squeeze=False,
        sharey=True,
        constrained_layout=True,
    )
    for ax, nd in zip(axes[0], nds, strict=True):
        s = t[t["param_non_descent"] == nd]
        box_dot(
            ax, {v.replace(", ", "\n"): s[s["variant"] == v]["acc0"].to_numpy() for v in variants}
        )
        ax.set_title(f"non_descent = {nd}")
        ax.set_ylabel("final validation accuracy")
        ax.tick_params(axis="x", labelsize=7)
    written += save_figure(fig, figdir, "final_accuracy")
    return written


def run(scale: str, paths: Paths) -> list[Path]:
    study = derive(STUDY, OVERRIDES[scale], NAME, paths)
    return analyse(run_study(study), NAME, EXPERIMENT, scale, paths)


def analyse(
    res, name: str, experiment: Experiment, scale: str, paths: Paths, notes: tuple[str, ...] = ()
) -> list[Path]:
    """Tables and figures of a nested-vs-direct study (see the module docstring)."""
    t = res.counted().copy()
    budget = float(min(t.loc[t["strategy"] == "random", "param_budget"]))
    t["variant"] = variant(t, budget)
    t["failed"] = failed(t)
    t["acc0"] = pd.to_numeric(t["val_acc"], errors="coerce").fillna(0.0)
    target = float(res.spec.metric.target)
    curves = res.curves
    hits = {c: first_hit(curves, target, c) for c in ("wall_time", "cost")}
    ends = {c: last_time(curves, c) for c in ("wall_time", "cost")}
    out = paths.summary_dir(name)
    figdir = paths.figure_dir(name)
    summary = group_summary(t, ["param_non_descent", "variant"], hits=hits, ends=ends)
    tb = top_bottom(t, ["param_non_descent", "variant"], CONFIG)
    pair = _paired_tables(t)
    effect = _optimizer_effect(t)
    cols = [
        "trial",
        "strategy",
        "variant",
        "seed",
        *CONFIG,
        "param_interpolation",
        "param_level_tolerance",
        "param_budget",
        "param_non_descent",
        "status",
        "solver_status",
        "val_acc",
        "train_acc",
        "failed",
        "wall_time",
        "reason",
    ]
    written = [
        write_table(summary, out, "summary"),
        write_table(tb, out, "top_bottom"),
        write_table(pair, out, "paired"),
        write_table(effect, out, "optimizer_effect"),
        write_table(t[[c for c in cols if c in t.columns]], out, "trials"),
        write_meta(
            out,
            experiment,
            scale,
            {
                "target_accuracy": target,
                "budget_L": budget,
                "runs": len(t),
                "dataset": res.spec.dataset,
            },
        ),
    ]
    written += _figures(t, curves, figdir)
    show = summary[
        [
            "param_non_descent",
            "variant",
            "n",
            "failures",
            "failure_ci_low",
            "failure_ci_high",
            "mean",
            "median",
            "median_ci_low",
            "median_ci_high",
            "std",
            "min",
            "max",
            "km_median_cost",
        ]
    ]
    written.append(
        write_index(
            figdir,
            experiment,
            scale,
            [
                (
                    "accuracy_vs_time",
                    "Validation accuracy vs wall time (left) and cost (right): median "
                    "and quartiles over runs, direct (L), direct (1.5L) and nested; one row per "
                    "optimiser variant (non_descent reset = our safeguard, keep = reference code).",
                ),
                (
                    "final_accuracy",
                    "Final validation accuracy of every run (dots) and quartiles "
                    "(boxes) per training variant and optimiser variant.",
                ),
            ],
            tables=[
                ("Final validation accuracy per variant", show),
                ("Nested minus direct (1.5L), paired, per optimiser variant", effect),
            ],
            notes=[
                *notes,
                f"Data set: `{res.spec.dataset}`. Failure: diverged, or final "
                f"validation accuracy < 0.5. Target accuracy for the time columns: {target:g} "
                f"(Kaplan-Meier, censored at each run's end). L = {budget:g} iterations.",
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="Cyr/Guenther/Schroder 2019: nested-iteration statistics tables (grid of "
    "regularisation, initial scales, interpolation, level tolerance; direct training with equal "
    "iterations and 1.5x iterations; both optimiser variants) and accuracy vs wall time / time "
    "to equal accuracy",
    claims=(
        "nested iteration reduces run time for equivalent accuracy",
        "nested iteration regularises / reduces sensitivity",
    ),
    studies=(STUDY,),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
