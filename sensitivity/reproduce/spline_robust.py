"""Spline robustness: Latin-hypercube samples of learning rate, regularisation, knots/depth and
initial amplitude; best accuracy per sample for degree-2 splines vs plain ODE-net vs ResNet;
step-size consistency; parameter counts vs accuracy.

Studies: ``studies/spline_robustness.toml`` (spline: 50 layers, knots {2,...,25}; ODE-net:
per-layer weights, depth {2,...,25}, T = 5) and, derived from it, the ResNet family (per-layer
weights, depth {2,...,25}, h = 1, i.e. T = depth). The LHS of the first study pairs spline and
ODE-net: sample ``i`` of both has the same learning rate, regularisation and amplitude (knots
and depth are drawn independently); the ResNet study draws its own LHS sample (compared
unpaired: Mann-Whitney U).

Step-size consistency: a degree-2 spline network and a plain ODE-net (N = 32) are trained
once; then the same weights (spline: the same coefficients; plain: layer ``n`` takes the
weights of the trained layer covering ``t_n``) are propagated with N = 8 ... 1024 layers and
the final states on the validation set compared with N = 4096: relative error
``|Y_N - Y_ref| / |Y_ref|`` (Frobenius) against ``h = T / N``, with the fitted log-log slope
(forward Euler: expected 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity.reproduce.analysis import box_dot, failed
from sensitivity.reproduce.base import (
    Experiment,
    Paths,
    save_figure,
    write_index,
    write_meta,
    write_table,
)
from sensitivity.reproduce.stats import describe, paired, unpaired
from sensitivity.reproduce.studies import derive, run_study

NAME = "spline_robustness"
STUDY = "spline_robustness.toml"
FAMILIES = ("spline (D = 2)", "ODE-net", "ResNet (h = 1)")

OVERRIDES = {
    "smoke": {
        "problem": {
            "data": {"n_train_per_class": 15, "n_val_per_class": 10, "grid_size": 64},
            "network": {"n_layers": 10},
        },
        "training": {"stop": {"max_iterations": 10, "eval_every": 2}},
        "space": {"depth": {"values": [2, 5]}, "n_knots": {"values": [2, 5]}},
        "design": {"points": 3},
    },
    "committed": {
        "problem": {"data": {"n_train_per_class": 50}},
        "training": {"stop": {"max_iterations": 200}},
        "design": {"points": 32},
    },
    "paper": {},
}
RESNET = {
    "strategies": {"spline": None},
    "space": {"n_knots": None, "depth": {"target": ["network.n_layers", "network.t_final"]}},
}
SIZES = {
    "smoke": "15 points/class, 10 Adam iterations, 3 LHS samples per family, knots/depth "
    "{2, 5}; consistency from 10 L-BFGS updates",
    "committed": "50 points/class, 200 Adam iterations, 32 LHS samples per family (96 runs); "
    "consistency networks: 100 points/class, 100 L-BFGS updates",
    "paper": "the study file: 1000 points/class, 500 Adam iterations, 40 LHS samples per "
    "family (120 runs)",
}


def _derive_all(scale: str, paths: Paths) -> tuple[Path, Path]:
    main = derive(STUDY, OVERRIDES[scale], NAME, paths)
    over = {**OVERRIDES[scale]}
    space = {**over.get("space", {}), **RESNET["space"]}
    if "depth" in over.get("space", {}):
        space["depth"] = {**over["space"]["depth"], **RESNET["space"]["depth"]}
    over = {**over, "strategies": RESNET["strategies"], "space": space}
    resnet = derive(STUDY, over, f"{NAME}_resnet", paths)
    return main, resnet


def _frame(res, family_of) -> pd.DataFrame:
    t = res.counted().copy()
    best = res.curves.groupby("trial")["val_acc"].max()
    t["best_val_acc"] = t["trial"].map(best)
    t["family"] = t["strategy"].map(family_of)
    t["knots_or_depth"] = t["param_n_knots"] if "param_n_knots" in t else np.nan
    if "param_depth" in t:
        t["knots_or_depth"] = t["knots_or_depth"].fillna(t["param_depth"])
    t["failed"] = failed(t)
    return t


def _consistency(scale: str, out: Path) -> pd.DataFrame:
    path = out / "consistency.csv"
    if path.exists():  # resumable
        return pd.read_csv(path)
    from solver import NetworkConfig, forward
    from solver.data import load_dataset
    from solver.init import InitConfig
    from solver.optim import OptimizerConfig
    from solver.params import Params
    from solver.strategies.spline import SplineControls
    from solver.train import StopConfig, train

    n = 15 if scale == "smoke" else 100
    iters = 10 if scale == "smoke" else 100
    data = load_dataset("peaks", n_train_per_class=n, n_val_per_class=40, seed=0)
    cfg = NetworkConfig(
        n_features=2,
        n_classes=5,
        width=8,
        n_layers=32,
        t_final=5.0,
        activation="tanh",
        gamma_tik=1e-7,
        gamma_ddt=1e-5,
        gamma_class=1e-7,
    )
    kw = {
        "optimizer": OptimizerConfig(name="lbfgs"),
        "init": InitConfig(scale_hidden=0.1, scale_open=0.1, scale_class=0.1, seed=0),
        "stop": StopConfig(max_iterations=iters, grad_tol=0.0),
    }
    spline = train(cfg, data, strategy={"name": "spline", "degree": 2, "n_knots": 5}, **kw)
    plain = train(cfg, data, strategy="random", **kw)
    coef = spline.extras["coefficients"]
    X = data.X_val

    def states(kind: str, N: int) -> np.ndarray:
        c = cfg.with_layers(N)
        if kind == "spline":
            ctl = SplineControls(c, 5, 2)
            params, _ = ctl.params(ctl.pack(coef))
        else:
            p = plain.params
            idx = (np.arange(N) * p.n_layers) // N
            params = Params(p.open_K, p.open_b, p.K[idx].copy(), p.b[idx].copy(), p.W, p.mu)
        return forward(c, params, X)[-1]

    rows = []
    for kind in ("spline", "plain"):
        ref = states(kind, 4096)
        for N in (8, 16, 32, 64, 128, 256, 512, 1024):
            err = np.linalg.norm(states(kind, N) - ref) / np.linalg.norm(ref)
            rows.append({"network": kind, "n_layers": N, "h": 5.0 / N, "rel_error": err})
    df = pd.DataFrame(rows)
    df.to_csv(path, index=False)
    return df


def _slopes(cons: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for kind, g in cons.groupby("network"):
        g = g[g["rel_error"] > 0]
        slope = np.polyfit(np.log(g["h"]), np.log(g["rel_error"]), 1)[0] if len(g) > 1 else np.nan
        rows.append(
            {"network": kind, "fitted_slope": slope, "expected_slope": 1.0, "points": len(g)}
        )
    return pd.DataFrame(rows)


def _tables(t: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    rows = []
    for fam in FAMILIES:
        g = t[t["family"] == fam]
        rows.append({"family": fam, **describe(g["best_val_acc"], g["failed"])})
    summary = pd.DataFrame(rows)
    by_k = (
        t.groupby(["family", "knots_or_depth"])
        .agg(
            runs=("best_val_acc", "size"),
            median_best=("best_val_acc", "median"),
            min_best=("best_val_acc", "min"),
            n_params=("n_params", "median"),
        )
        .reset_index()
    )
    pair_rows = [
        {
            "family": FAMILIES[0],
            "against": FAMILIES[1],
            "design": "paired",
            **paired(*_matched(t, FAMILIES[0], FAMILIES[1])),
        }
    ]
    for other in FAMILIES[1:]:  # the ResNet study draws its own LHS: unpaired
        a = t[t["family"] == FAMILIES[0]]["best_val_acc"]
        b = t[t["family"] == other]["best_val_acc"]
        pair_rows.append(
            {"family": FAMILIES[0], "against": other, "design": "unpaired", **unpaired(a, b)}
        )
    return summary, by_k, pd.DataFrame(pair_rows)


def _matched(t: pd.DataFrame, fa: str, fb: str) -> tuple[np.ndarray, np.ndarray]:
    """Best accuracies of two families on the same LHS sample (learning rate, gamma and
    amplitude; knots and depth are drawn independently)."""
    keys = ["param_learning_rate", "param_gamma_tik", "param_amplitude"]
    a = t[t["family"] == fa].copy()
    b = t[t["family"] == fb].copy()
    for d in (a, b):
        for k in keys:
            d[k] = d[k].astype(float).round(12)
    j = a.merge(b, on=keys, suffixes=("_a", "_b"))
    return j["best_val_acc_a"].to_numpy(float), j["best_val_acc_b"].to_numpy(float)


def _figures(t: pd.DataFrame, cons: pd.DataFrame, figdir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    box_dot(ax, {f: t[t["family"] == f]["best_val_acc"].to_numpy() for f in FAMILIES})
    ax.set_ylabel("best validation accuracy per sample")
    ax.set_title("LHS samples of lr, gamma, knots/depth, amplitude")
    written += save_figure(fig, figdir, "robustness")
    ks = sorted(t["knots_or_depth"].dropna().unique())
    fig, axes = plt.subplots(
        1, len(FAMILIES), figsize=(4.2 * len(FAMILIES), 3.6), sharey=True, constrained_layout=True
    )
    for ax, fam in zip(axes, FAMILIES, strict=True):
        g = t[t["family"] == fam]
        box_dot(
            ax, {f"{int(k)}": g[g["knots_or_depth"] == k]["best_val_acc"].to_numpy() for k in ks}
        )
        ax.set_xlabel("knots" if fam.startswith("spline") else "depth N")
        ax.set_title(fam)
    axes[0].set_ylabel("best validation accuracy")
    written += save_figure(fig, figdir, "robustness_by_knots_depth")
    fig, ax = plt.subplots(figsize=(5, 4), constrained_layout=True)
    for kind, g in cons.groupby("network"):
        ax.loglog(g["h"], g["rel_error"], "o-", label=f"{kind} weights")
    h = np.array(sorted(cons["h"].unique()))
    e0 = cons["rel_error"].max()
    ax.loglog(h, e0 * h / h.max(), "k--", label="slope 1 (forward Euler)")
    ax.set_xlabel("step size h = T / N")
    ax.set_ylabel("relative error of the output states")
    ax.legend()
    written += save_figure(fig, figdir, "step_size_consistency")
    fig, ax = plt.subplots(figsize=(6, 4), constrained_layout=True)
    for k, fam in enumerate(FAMILIES):
        g = t[t["family"] == fam]
        ax.scatter(g["n_params"], g["best_val_acc"], s=14, color=f"C{k}", label=fam, alpha=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters")
    ax.set_ylabel("best validation accuracy")
    ax.legend()
    written += save_figure(fig, figdir, "params_vs_accuracy")
    return written


def run(scale: str, paths: Paths) -> list[Path]:
    main, resnet = _derive_all(scale, paths)
    t1 = _frame(run_study(main), {"spline": FAMILIES[0], "random": FAMILIES[1]})
    t2 = _frame(run_study(resnet), {"random": FAMILIES[2]})
    t = pd.concat([t1, t2], ignore_index=True)
    out = paths.summary_dir(NAME)
    figdir = paths.figure_dir(NAME)
    cons = _consistency(scale, out)
    slopes = _slopes(cons)
    summary, by_k, pair = _tables(t)
    cols = [
        "family",
        "trial",
        "design_index",
        "param_learning_rate",
        "param_gamma_tik",
        "param_amplitude",
        "knots_or_depth",
        "status",
        "val_acc",
        "best_val_acc",
        "failed",
        "n_params",
        "wall_time",
    ]
    written = [
        write_table(summary, out, "summary"),
        write_table(by_k, out, "by_knots_depth"),
        write_table(pair, out, "paired"),
        write_table(slopes, out, "consistency_slopes"),
        write_table(t[cols], out, "trials"),
        write_meta(out, EXPERIMENT, scale, {"runs": len(t)}),
    ]
    written += _figures(t, cons, figdir)
    written.append(
        write_index(
            figdir,
            EXPERIMENT,
            scale,
            [
                (
                    "robustness",
                    "Best validation accuracy of every LHS sample (dots) and quartiles "
                    "(boxes): degree-2 spline vs plain ODE-net vs ResNet.",
                ),
                (
                    "robustness_by_knots_depth",
                    "The same per number of knots (spline) or depth (ODE-net, ResNet).",
                ),
                (
                    "step_size_consistency",
                    "Relative error of the output states vs h (log-log) when the "
                    "trained weights are propagated with N = 8 ... 1024 layers, against N = 4096; "
                    "dashed: slope 1.",
                ),
                (
                    "params_vs_accuracy",
                    "Best validation accuracy vs trainable parameters: splines "
                    "(knots + D)(w^2 + w) + opening/classifier vs N(w^2 + w) + opening/classifier.",
                ),
            ],
            tables=[
                (
                    "Best validation accuracy per family",
                    summary.drop(columns=["mean_ci_low", "mean_ci_high", "failure_rate"]),
                ),
                (
                    "Spline against ODE-net (paired: same lr, gamma, amplitude) "
                    "and against both (unpaired)",
                    pair,
                ),
                ("Step-size consistency", slopes),
            ],
            notes=[
                "Failure: diverged, or final validation accuracy < 0.5; the best accuracy of a "
                "failed run still counts in the boxes."
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="Guenther/Pazner/Qi 2021: spline robustness (LHS of learning rate, regularisation, "
    "knots/depth, amplitude; best accuracy per sample, degree-2 spline vs ODE-net vs ResNet), "
    "step-size consistency, parameter counts vs accuracy",
    claims=("splines increase robustness to hyperparameters with fewer parameters",),
    studies=(STUDY,),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
