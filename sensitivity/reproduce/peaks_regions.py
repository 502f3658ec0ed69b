"""Peaks data and decision regions of trained networks: random vs nested vs spline.

One network per strategy (reference-like peaks network: width 8, T = 5, SmoothReLU, reference
``rand()`` initialisation scaled 1e-3, gammas 1e-7 / 1e-5 / 1e-7, full-batch L-BFGS), trained
once; the trained weights are stored (``params_<strategy>.npz``) so that the figure is redrawn
without training. Decision regions are the predicted class on a 200 x 200 grid of [-3, 3]^2.
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

NAME = "peaks_decision_regions"
STRATEGIES = ("random", "nested", "spline")
SIZES = {
    "smoke": "30 points/class, N = 8, 15 L-BFGS updates",
    "committed": "1000 points/class (5000), N = 32, 300 L-BFGS updates, seed 1",
    "paper": "as committed (the paper's peaks set-up; one network per strategy)",
}
PAPER = "1000 points/class, 40/class validation, N = 32, 300 L-BFGS updates"


def _settings(scale: str) -> dict:
    if scale == "smoke":
        return {"n": 30, "layers": 8, "iters": 15, "schedule": [4, 8], "knots": 2, "grid": 40}
    return {"n": 1000, "layers": 32, "iters": 300, "schedule": [8, 16, 32], "knots": 8, "grid": 200}


def _strategy(name: str, s: dict) -> dict:
    if name == "nested":
        return {"name": "nested", "layers": s["schedule"], "level_iterations": s["iters"] // 3}
    if name == "spline":
        return {"name": "spline", "degree": 2, "n_knots": s["knots"]}
    return {"name": "random"}


def _train(scale: str, out: Path) -> pd.DataFrame:
    from solver import NetworkConfig
    from solver.data import load_dataset
    from solver.init import InitConfig
    from solver.optim import OptimizerConfig
    from solver.train import StopConfig, train

    s = _settings(scale)
    data = load_dataset("peaks", n_train_per_class=s["n"], n_val_per_class=40, seed=0)
    rows = []
    for name in STRATEGIES:
        path = out / f"params_{name}.npz"
        row_path = out / f"run_{name}.csv"
        if path.exists() and row_path.exists():  # resumable: trained before
            rows.append(pd.read_csv(row_path).iloc[0].to_dict())
            continue
        config = NetworkConfig(
            n_features=2,
            n_classes=5,
            width=8,
            n_layers=s["layers"],
            t_final=5.0,
            activation="smoothrelu",
            gamma_tik=1e-7,
            gamma_ddt=1e-5,
            gamma_class=1e-7,
        )
        res = train(
            config,
            data,
            optimizer=OptimizerConfig(name="lbfgs", memory=10),
            stop=StopConfig(max_iterations=s["iters"], grad_tol=1e-4),
            init=InitConfig(distribution="reference", seed=1),
            strategy=_strategy(name, s),
        )
        res.params.save(path, res.config)
        row = {
            "strategy": name,
            "status": res.status,
            "val_acc": res.final["val_acc"],
            "train_acc": res.final["train_acc"],
            "n_params": res.n_params,
            "n_layers": res.config.n_layers,
            "iterations": len(res.history) - 1,
            "wall_time": res.wall_time,
        }
        pd.DataFrame([row]).to_csv(row_path, index=False)
        rows.append(row)
    return pd.DataFrame(rows)


def _figure(scale: str, out: Path, table: pd.DataFrame):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from solver import Params, predict
    from solver.data import load_dataset
    from solver.data.peaks import peaks_labels

    s = _settings(scale)
    data = load_dataset("peaks", n_train_per_class=s["n"], n_val_per_class=40, seed=0)
    axis = np.linspace(-3, 3, s["grid"])
    gx, gy = np.meshgrid(axis, axis, indexing="xy")
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    cmap = ListedColormap(plt.get_cmap("viridis")(np.linspace(0, 1, 5)))
    fig, axes = plt.subplots(1, 4, figsize=(15, 3.9), constrained_layout=True)
    truth = peaks_labels(pts).reshape(gx.shape)
    axes[0].imshow(truth, origin="lower", extent=(-3, 3, -3, 3), cmap=cmap, vmin=0, vmax=4)
    sub = np.random.default_rng(0).permutation(len(data.y_train))[:600]
    axes[0].scatter(
        data.X_train[sub, 0],
        data.X_train[sub, 1],
        c=data.y_train[sub],
        cmap=cmap,
        vmin=0,
        vmax=4,
        s=6,
        edgecolors="k",
        linewidths=0.2,
    )
    axes[0].set_title("peaks classes and 600 training points")
    agree = []
    for ax, name in zip(axes[1:], STRATEGIES, strict=True):
        config = Params.load_config(out / f"params_{name}.npz")
        params = Params.load(out / f"params_{name}.npz", config)
        pred = predict(config, params, pts)
        agree.append(float(np.mean(pred == truth.ravel())))
        ax.imshow(
            pred.reshape(gx.shape), origin="lower", extent=(-3, 3, -3, 3), cmap=cmap, vmin=0, vmax=4
        )
        row = table[table["strategy"] == name].iloc[0]
        ax.set_title(f"{name}: val. acc. {row['val_acc']:.3f}, N = {int(row['n_layers'])}")
    for ax in axes:
        ax.set_xlabel("x")
    axes[0].set_ylabel("y")
    return fig, agree


def run(scale: str, paths: Paths) -> list[Path]:
    out = paths.summary_dir(NAME)
    figdir = paths.figure_dir(NAME)
    table = _train(scale, out)
    fig, agree = _figure(scale, out, table)
    table = table.assign(grid_agreement=agree)
    written = [write_table(table, out, "networks"), write_meta(out, EXPERIMENT, scale)]
    written += save_figure(fig, figdir, "decision_regions")
    written.append(
        write_index(
            figdir,
            EXPERIMENT,
            scale,
            [
                (
                    "decision_regions",
                    "Left: the five peaks classes on [-3, 3]^2 with training points; "
                    "then the predicted class of the trained random / nested / spline networks.",
                )
            ],
            tables=[
                (
                    "Trained networks",
                    table[
                        [
                            "strategy",
                            "status",
                            "val_acc",
                            "train_acc",
                            "grid_agreement",
                            "n_params",
                            "n_layers",
                            "iterations",
                            "wall_time",
                        ]
                    ],
                )
            ],
            notes=[
                "`grid_agreement`: share of the plotted grid points classified like the true "
                "peaks classes."
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="peaks data figure and decision regions of trained networks (random, nested, "
    "spline) -- Guenther et al. 2020 / Cyr et al. 2019 / Guenther et al. 2021",
    claims=(),
    studies=(),
    paper_size=PAPER,
    sizes=SIZES,
    run=run,
)
