"""Sensitivity to the initial weight scale and the learning rate across seeds: random, nested,
spline (box + dot plots).

Study: ``studies/init_scale_lr.toml`` (Adam, resized per scale). Tables
(``results/summaries/init_scale_lr/``):

* ``summary.csv`` -- per strategy: runs, failures (Wilson 95 %), final validation accuracy
  mean / median (bootstrap 95 %), std, min, max over all configurations and seeds;
* ``cells.csv`` -- the same per strategy x learning rate x initial scale;
* ``seed_spread.csv`` -- per strategy: median over configurations of the standard deviation
  over seeds (the randomness of the initial weights), with bootstrap 95 %;
* ``paired.csv`` -- per strategy against random: paired over (learning rate, scale, seed) on
  accuracy, and paired over configurations on the seed standard deviation (Wilcoxon);
* ``trials.csv``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity.reproduce.analysis import failed, group_summary
from sensitivity.reproduce.base import (
    Experiment,
    Paths,
    save_figure,
    write_index,
    write_meta,
    write_table,
)
from sensitivity.reproduce.stats import bootstrap_ci, paired
from sensitivity.reproduce.studies import derive, run_study

NAME = "init_scale_lr"
STUDY = "init_scale_lr.toml"
CELL = ["param_learning_rate", "param_init_scale"]

OVERRIDES = {
    "smoke": {
        "problem": {
            "data": {"n_train_per_class": 15, "n_val_per_class": 10, "grid_size": 64},
            "network": {"n_layers": 8},
        },
        "strategies": {
            "nested": {"layers": [4, 8], "level_iterations": 3},
            "spline": {"n_knots": 2},
        },
        "training": {"stop": {"max_iterations": 8, "eval_every": 2}},
        "space": {"learning_rate": {"steps": 2}, "init_scale": {"steps": 2}},
        "design": {"seeds": 2},
    },
    "committed": {
        "problem": {"data": {"n_train_per_class": 50}},
        "strategies": {"nested": {"layers": [8, 16, 32], "level_iterations": 40}},
        "training": {"stop": {"max_iterations": 120}},
        "space": {"learning_rate": {"steps": 3}, "init_scale": {"steps": 3}},
        "design": {"seeds": 8},
    },
    "paper": {},
}
SIZES = {
    "smoke": "15 points/class, N = 8, 8 Adam iterations, 2 x 2 grid, 2 seeds: 24 runs",
    "committed": "50 points/class, N = 32, 120 Adam iterations (nested 8 -> 16 -> 32 with 40 "
    "per coarse level), learning rate {1e-4, 3.2e-3, 0.1} x initial scale {1e-4, 1e-2, 1}, "
    "8 seeds, random / nested / spline (8 knots): 216 runs",
    "paper": "the study file: 1000 points/class, 600 Adam iterations, learning rate 4 steps in "
    "[1e-4, 0.1] x initial scale 5 steps in [1e-4, 1], 10 seeds, 3 strategies: 600 runs",
}


def _seed_spread(t: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    sd = t.groupby(["strategy", *CELL])["acc0"].std().rename("seed_std").reset_index()
    rows = []
    for s, g in sd.groupby("strategy"):
        lo, hi = bootstrap_ci(g["seed_std"], np.median)
        rows.append(
            {
                "strategy": s,
                "configurations": len(g),
                "median_seed_std": g["seed_std"].median(),
                "ci_low": lo,
                "ci_high": hi,
                "max_seed_std": g["seed_std"].max(),
            }
        )
    return pd.DataFrame(rows), sd


def _paired(t: pd.DataFrame, sd: pd.DataFrame) -> pd.DataFrame:
    rows = []
    keys = [*CELL, "seed"]
    base = t[t["strategy"] == "random"].set_index(keys)["acc0"]
    base_sd = sd[sd["strategy"] == "random"].set_index(CELL)["seed_std"]
    for s in sorted(x for x in t["strategy"].unique() if x != "random"):
        other = t[t["strategy"] == s].set_index(keys)["acc0"]
        j = pd.concat([other, base], axis=1, join="inner", keys=["a", "b"])
        rows.append(
            {
                "strategy": s,
                "against": "random",
                "quantity": "final val_acc",
                **paired(j["a"], j["b"]),
            }
        )
        o_sd = sd[sd["strategy"] == s].set_index(CELL)["seed_std"]
        j = pd.concat([o_sd, base_sd], axis=1, join="inner", keys=["a", "b"])
        # lower spread is better: report random minus strategy so that > 0 favours `s`
        rows.append(
            {
                "strategy": s,
                "against": "random",
                "quantity": "seed std (random minus strategy)",
                **paired(j["b"], j["a"]),
            }
        )
    return pd.DataFrame(rows)


def run(scale: str, paths: Paths) -> list[Path]:
    from sensitivity.plots import render_seed_spread

    study = derive(STUDY, OVERRIDES[scale], NAME, paths)
    res = run_study(study)
    t = res.counted().copy()
    t["failed"] = failed(t)
    t["acc0"] = pd.to_numeric(t["val_acc"], errors="coerce").fillna(0.0)
    out = paths.summary_dir(NAME)
    figdir = paths.figure_dir(NAME)
    summary = group_summary(t, ["strategy"])
    cells = group_summary(t, ["strategy", *CELL])
    spread, sd = _seed_spread(t)
    pair = _paired(t, sd)
    cols = [
        "trial",
        "strategy",
        "seed",
        *CELL,
        "status",
        "val_acc",
        "train_acc",
        "failed",
        "wall_time",
        "n_params",
    ]
    written = [
        write_table(summary, out, "summary"),
        write_table(cells, out, "cells"),
        write_table(spread, out, "seed_spread"),
        write_table(pair, out, "paired"),
        write_table(t[cols], out, "trials"),
        write_meta(out, EXPERIMENT, scale, {"runs": len(t)}),
    ]
    data = t.assign(value=t["acc0"])
    fig = render_seed_spread(
        data,
        x="param_learning_rate",
        panel="param_init_scale",
        order=["random", "nested", "spline"],
    )
    written += save_figure(fig, figdir, "seed_spread")
    fig = render_seed_spread(
        data, x="param_init_scale", panel=None, order=["random", "nested", "spline"]
    )
    written += save_figure(fig, figdir, "scale_spread")
    written.append(
        write_index(
            figdir,
            EXPERIMENT,
            scale,
            [
                (
                    "seed_spread",
                    "Final validation accuracy of every seed (dots) and quartiles (boxes) "
                    "over the learning rate, one panel per initial scale; random / nested / "
                    "spline.",
                ),
                ("scale_spread", "The same pooled over learning rates, over the initial scale."),
            ],
            tables=[
                (
                    "Final validation accuracy per strategy",
                    summary.drop(columns=["mean_ci_low", "mean_ci_high", "failure_rate"]),
                ),
                ("Spread over seeds (std of the final accuracy per configuration)", spread),
                ("Paired against random", pair),
            ],
            notes=[
                "Failure: diverged, or final validation accuracy < 0.5 (diverged runs count as "
                "accuracy 0 in the plots and paired tables)."
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="Cyr/Guenther/Schroder 2019: sensitivity to initial weight scale and learning rate "
    "across seeds (box + dot plots), random vs nested vs spline",
    claims=(
        "nested iteration regularises / reduces sensitivity",
        "splines increase robustness to hyperparameters",
    ),
    studies=(STUDY,),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
