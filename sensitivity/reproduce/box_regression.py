"""Box initialisation / LSGD vs standard initialisation / Adam on small regression problems.

Problems (:func:`solver.strategies.regression.regression_problem`): ``sine`` (1-D,
``sin 2 pi x``) and ``peaks`` (2-D surface / 8); MSE ODE-ResNet (width 10, N = 4, T = 1, tanh),
Adam (learning rate 1e-2); four methods: standard init (``N(0, 1/fan_in)``) or box init, each
with Adam on all parameters or LSGD (exact ridge least-squares output layer at every
evaluation, Adam on the hidden layers); seeds 0..S-1 (initial weights; the data are fixed).

Data: one CSV per run (every iteration: training and validation MSE, wall time) in the study
storage folder, written once and reused (resumable per run); ``histories.csv`` in the summaries
keeps every 5th iteration and the last. Tables: ``summary.csv`` (final validation
MSE per problem x method: median with bootstrap 95 %, min, max; Kaplan-Meier median
iterations and wall time to reach a validation MSE of 10 x the best median final value of the
problem), ``paired.csv`` (each method against standard + Adam on the same seed, as the ratio
of final validation MSEs: log10 median with bootstrap 95 %, Wilcoxon p).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity.reproduce.base import (
    Experiment,
    Paths,
    save_figure,
    write_index,
    write_meta,
    write_table,
)
from sensitivity.reproduce.stats import bootstrap_ci, km_median, paired

NAME = "box_lsgd_regression"
METHODS = ("standard+adam", "standard+lsgd", "box+adam", "box+lsgd")
SETTINGS = {
    "smoke": {"seeds": 2, "iterations": 20, "n_train": 50},
    "committed": {"seeds": 10, "iterations": 300, "n_train": 200},
    "paper": {"seeds": 20, "iterations": 2000, "n_train": 200},
}
SIZES = {
    "smoke": "2 seeds, 20 Adam iterations, 50 training points",
    "committed": "10 seeds, 300 Adam iterations, 200 training / 200 validation points",
    "paper": "20 seeds, 2000 Adam iterations, 200 training / 200 validation points",
}


def _histories(scale: str, cache: Path) -> pd.DataFrame:
    from solver.optim import OptimizerConfig
    from solver.strategies.regression import RegressionModel, fit, regression_problem

    s = SETTINGS[scale]
    parts = cache / NAME / "runs"
    parts.mkdir(parents=True, exist_ok=True)
    frames = []
    for problem, d in (("sine", 1), ("peaks", 2)):
        data = regression_problem(problem, n_train=s["n_train"], n_val=200, seed=0)
        model = RegressionModel(n_features=d, n_outputs=1, width=10, n_layers=4)
        for seed in range(s["seeds"]):
            for method in METHODS:
                path = parts / f"{problem}_{method}_{seed}.csv"
                if path.exists():  # resumable: this run is done
                    frames.append(pd.read_csv(path))
                    continue
                init, opt = method.split("+")
                start = (
                    model.box_params(data.X_train, seed)
                    if init == "box"
                    else model.random_params(seed)
                )
                res = fit(
                    model,
                    data,
                    start,
                    iterations=s["iterations"],
                    lsgd=opt == "lsgd",
                    optimizer=OptimizerConfig(name="adam", learning_rate=1e-2),
                )
                h = pd.DataFrame(res.history).assign(problem=problem, method=method, seed=seed)
                h.to_csv(path, index=False)
                frames.append(h)
    return pd.concat(frames, ignore_index=True)


def _tables(h: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    final = h.sort_values("iteration").groupby(["problem", "method", "seed"]).last().reset_index()
    rows, pair_rows = [], []
    for problem, g in final.groupby("problem"):
        best = g.groupby("method")["val_mse"].median().min()
        level = 10 * best
        for method in METHODS:
            v = g[g["method"] == method]["val_mse"].to_numpy(float)
            lo, hi = bootstrap_ci(v, np.median)
            runs = h[(h["problem"] == problem) & (h["method"] == method)]
            hit = runs[runs["val_mse"] <= level].groupby("seed")[["iteration", "wall_time"]].min()
            end = runs.groupby("seed")[["iteration", "wall_time"]].max()
            it = hit["iteration"].reindex(end.index).to_numpy(float)
            wt = hit["wall_time"].reindex(end.index).to_numpy(float)
            km_i = km_median(it, np.isfinite(it), end["iteration"].to_numpy(float))
            km_w = km_median(wt, np.isfinite(wt), end["wall_time"].to_numpy(float))
            rows.append(
                {
                    "problem": problem,
                    "method": method,
                    "runs": len(v),
                    "diverged": int((~np.isfinite(v)).sum()),
                    "median_val_mse": np.nanmedian(v),
                    "ci_low": lo,
                    "ci_high": hi,
                    "min_val_mse": np.nanmin(v),
                    "max_val_mse": np.nanmax(v),
                    "level": level,
                    "reached_level": km_i["reached"],
                    "km_median_iterations": km_i["km_median"],
                    "km_median_wall_time": km_w["km_median"],
                }
            )
        base = g[g["method"] == "standard+adam"].set_index("seed")["val_mse"]
        for method in METHODS[1:]:
            other = g[g["method"] == method].set_index("seed")["val_mse"]
            j = pd.concat([base, other], axis=1, join="inner", keys=["a", "b"])
            # log10(standard+adam / method) > 0: the method reaches a lower error
            p = paired(np.log10(j["a"]), np.log10(j["b"]))
            pair_rows.append(
                {"problem": problem, "method": method, "against": "standard+adam", **p}
            )
    summary = pd.DataFrame(rows)
    pair = pd.DataFrame(pair_rows).rename(
        columns={
            "median_diff": "median_log10_ratio",
            "median_diff_ci_low": "ci_low",
            "median_diff_ci_high": "ci_high",
        }
    )
    return summary, pair


def _figures(h: pd.DataFrame, figdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    problems = sorted(h["problem"].unique())
    fig, axes = plt.subplots(
        2, len(problems), figsize=(5.5 * len(problems), 7.5), squeeze=False, constrained_layout=True
    )
    for j, problem in enumerate(problems):
        for i, clock in enumerate(("iteration", "wall_time")):
            ax = axes[i, j]
            for k, method in enumerate(METHODS):
                runs = h[(h["problem"] == problem) & (h["method"] == method)]
                if clock == "iteration":
                    q = runs.groupby("iteration")["val_mse"].quantile([0.25, 0.5, 0.75]).unstack()
                    x = q.index.to_numpy()
                else:
                    x = np.linspace(0, runs["wall_time"].max(), 200)
                    vals = []
                    for _, r in runs.groupby("seed"):
                        idx = np.searchsorted(r["wall_time"].to_numpy(), x, side="right") - 1
                        vals.append(r["val_mse"].to_numpy()[np.clip(idx, 0, None)])
                    q = pd.DataFrame(
                        np.quantile(np.array(vals), [0.25, 0.5, 0.75], axis=0).T,
                        columns=[0.25, 0.5, 0.75],
                    )
                ax.plot(x, q[0.5], color=f"C{k}", label=method)
                ax.fill_between(x, q[0.25], q[0.75], color=f"C{k}", alpha=0.2)
            ax.set_yscale("log")
            ax.set_xlabel("iteration" if clock == "iteration" else "wall time [s]")
            ax.set_ylabel("validation MSE")
            ax.set_title(f"{problem}: median and quartiles over seeds")
            ax.legend(fontsize=8)
    written += save_figure(fig, figdir, "error_vs_iteration_and_time")
    return written


def run(scale: str, paths: Paths) -> list[Path]:
    out = paths.summary_dir(NAME)
    figdir = paths.figure_dir(NAME)
    h = _histories(scale, paths.storage)
    summary, pair = _tables(h)
    last = h.groupby(["problem", "method", "seed"])["iteration"].transform("max")
    thin = h[(h["iteration"] % 5 == 0) | (h["iteration"] == last)]
    written = [
        write_table(summary, out, "summary"),
        write_table(pair, out, "paired"),
        write_table(thin, out, "histories"),
        write_meta(out, EXPERIMENT, scale, {"settings": SETTINGS[scale]}),
    ]
    written += _figures(h, figdir)
    written.append(
        write_index(
            figdir,
            EXPERIMENT,
            scale,
            [
                (
                    "error_vs_iteration_and_time",
                    "Validation MSE vs iteration (top) and wall time "
                    "(bottom), median and quartiles over seeds, for standard/box "
                    "initialisation with Adam/LSGD; left sine (1-D), right peaks surface (2-D).",
                )
            ],
            tables=[
                ("Final validation MSE", summary),
                (
                    "Against standard init + Adam (paired by "
                    "seed; log10 of the MSE ratio, > 0 favours the method)",
                    pair,
                ),
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="Cyr/Gulian/Patel/Perego/Trask 2020: box initialisation and LSGD vs standard "
    "initialisation and Adam on small regression problems (error vs iteration and vs time)",
    claims=("box initialisation + LSGD gives large gains on regression",),
    studies=(),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
