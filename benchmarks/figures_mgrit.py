"""Layer-parallel (MGRIT) paper figures: data first, then plots from the stored data only.

Step 1 (data) writes small CSV files to ``results/summaries/mgrit/``:

* ``training_histories.csv`` -- peaks, reference network (width 8, N = 32, T = 5, smoothrelu,
  reference initialisation of scale 1e-3, gammas 1e-7 / 1e-5 / 1e-7), L-BFGS, 100 iterations:
  exact serial propagation vs one-shot MGRIT with 1+1 and 2+2 cycles per step (one rank);
  one row per iteration and method (objective, gradient norm, accuracies, wall and modelled
  time, MGRIT residuals);
* ``residual_history.csv`` / ``convergence_factors.csv`` -- MGRIT residual per cycle of cold-start
  solves to 1e-10 for N = 32 ... 1024 (trained weights: the serial run above, resampled in t;
  and the initial weights), forward and adjoint, with the average convergence factor;
* ``speedup.csv`` -- modelled speed-up (unit cost, latency 0.1 step) of one steady-state one-shot
  2+2 gradient evaluation over the exact serial one, P = 1 ... 256, N = 256 / 1024 / 4096, for the
  best setting of docs/mgrit.md and the reference setting;
* ``timings.csv`` -- run time of each data section.

Step 2 (plots) reads only those files and writes ``figures/mgrit/{training_histories,
residual_convergence,speedup}.{png,pdf}`` and ``figures/mgrit/INDEX.md``.

Usage: ``python benchmarks/figures_mgrit.py [--data-only | --plots-only] [--quick]``
(``--quick``: tiny sizes, a smoke test that writes to the same places).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # 2 shared cores: no BLAS threads

import argparse  # noqa: E402
import csv  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from solver.config import NetworkConfig  # noqa: E402
from solver.data import load_dataset  # noqa: E402
from solver.init import InitConfig, initialize  # noqa: E402
from solver.mgrit import LevelGrid, MGRITPropagation, ParallelConfig, reference_mgrit  # noqa: E402
from solver.mgrit.model import modelled_evaluation  # noqa: E402
from solver.optim import OptimizerConfig  # noqa: E402
from solver.params import Params  # noqa: E402
from solver.train import StopConfig, train  # noqa: E402

DATA_DIR = ROOT / "results" / "summaries" / "mgrit"
FIG_DIR = ROOT / "figures" / "mgrit"
COMMAND = "python benchmarks/figures_mgrit.py"

# ---------------------------------------------------------------------------- reference setup
WIDTH, N_REF, T_FINAL = 8, 32, 5.0
GAMMAS = {"gamma_tik": 1e-7, "gamma_ddt": 1e-5, "gamma_class": 1e-7}
INIT = InitConfig(
    distribution="reference", scale_open=1e-3, scale_hidden=1e-3, scale_class=1e-3, seed=1
)
LATENCY = 0.1

#: training methods: label -> ParallelConfig (None = exact serial propagation)
METHODS: dict[str, ParallelConfig | None] = {
    "exact serial": None,
    "one-shot MGRIT 1+1": ParallelConfig(one_shot=True, fwd_iterations=1, bwd_iterations=1),
    "one-shot MGRIT 2+2": ParallelConfig(one_shot=True, fwd_iterations=2, bwd_iterations=2),
}


def _one_shot_model(**kw) -> ParallelConfig:
    """2+2 one-shot steady state (no warm-up), coarse grids down to 2 intervals, unit cost."""
    kw = {"min_coarse_size": 2, **kw}
    return ParallelConfig.from_options(
        kw,
        one_shot=True,
        warmup_steps=0,
        fwd_iterations=2,
        bwd_iterations=2,
        latency=LATENCY,
        cost="unit",
    )


#: speed-up settings: label -> ParallelConfig (docs/mgrit.md: "best 2+2" and the reference)
SPEEDUP_SETTINGS = {
    "cf0=N/P, cf 2, F-relax (best)": _one_shot_model(coarsening_factor_fine="ranks", nrelax=0),
    "cf 2, F/FCF (reference)": _one_shot_model(),
}

#: convergence solves: cold start, tolerance 1e-10, cf 2, V-cycles, F fine / FCF coarse
CONVERGENCE = ParallelConfig(
    mgrit=reference_mgrit(abs_tol=1e-10, max_iterations=60, min_coarse_size=2), cost="unit"
)


def network(n_layers: int) -> NetworkConfig:
    return NetworkConfig(n_features=2, n_classes=5, width=WIDTH, n_layers=n_layers,
                         t_final=T_FINAL, activation="smoothrelu", **GAMMAS)  # fmt: skip


def resample(params: Params, n_layers: int) -> Params:
    """Weights at depth ``n_layers``: layer n takes the weights of the layer covering t_n."""
    idx = (np.arange(n_layers) * params.n_layers) // n_layers
    return Params(params.open_K, params.open_b, params.K[idx].copy(), params.b[idx].copy(),
                  params.W, params.mu)  # fmt: skip


def write_csv(name: str, rows: list[dict]) -> Path:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / name
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    print(f"  wrote {path.relative_to(ROOT)} ({len(rows)} rows)", flush=True)
    return path


def _cell(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else f"{v:.10g}"
    return v


def read_csv(name: str) -> list[dict]:
    with (DATA_DIR / name).open() as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        for k, v in row.items():
            try:
                row[k] = float(v) if v != "" else math.nan
            except ValueError:
                pass
    return rows


# ---------------------------------------------------------------------------- data: training
HISTORY_KEYS = ("iteration", "objective", "loss", "grad_norm", "train_acc", "val_acc",
                "wall_time", "modelled_time", "cost", "step_size", "ls_tries",
                "primal_residual", "adjoint_residual")  # fmt: skip


def data_training(n_per_class: int, iterations: int) -> tuple[list[dict], Params]:
    print(f"== training histories: peaks {n_per_class}/class, N = {N_REF}, L-BFGS, "
          f"{iterations} iterations ==", flush=True)  # fmt: skip
    data = load_dataset("peaks", n_train_per_class=n_per_class)
    config = network(N_REF)
    rows, serial_params = [], None
    for label, par in METHODS.items():
        res = train(config, data, optimizer=OptimizerConfig(name="lbfgs"),
                    stop=StopConfig(max_iterations=iterations, grad_tol=0.0), init=INIT,
                    parallel=par, comm=None)  # fmt: skip
        if par is None:
            serial_params = res.params
        for h in res.history:
            rows.append({"method": label, **{k: float(h[k]) for k in HISTORY_KEYS}})
        f = res.final
        print(f"  {label:>20}: {res.status}, J {f['objective']:.4f}, |g| {f['grad_norm']:.2e}, "
              f"val acc {f['val_acc']:.3f}, wall {res.wall_time:.1f} s, "
              f"modelled {res.modelled_time:.1f} s", flush=True)  # fmt: skip
    return rows, serial_params


# ---------------------------------------------------------------------------- data: convergence
def data_convergence(depths: list[int], n_per_class: int, trained: Params):
    print(f"== MGRIT residual convergence, cold start to 1e-10, N = {depths} ==", flush=True)
    data = load_dataset("peaks", n_train_per_class=n_per_class)
    X, y = data.X_train, data.y_train
    hist, factors = [], []
    for weights in ("trained", "initial"):
        for n in depths:
            config = network(n)
            params = resample(trained, n) if weights == "trained" else initialize(config, INIT)
            info = (
                MGRITPropagation(config, CONVERGENCE)
                .evaluate(config, params, X, y, gradient=True)
                .info
            )
            levels = LevelGrid.build(n, CONVERGENCE.mgrit).n_levels
            for direction, key in (("forward", "primal"), ("adjoint", "adjoint")):
                h = np.asarray(info[f"{key}_history"], dtype=float)
                for k, r in enumerate(h):
                    hist.append({"weights": weights, "N": n, "direction": direction,
                                 "iteration": k, "residual": float(r)})  # fmt: skip
                rho = float((h[-1] / h[0]) ** (1.0 / (len(h) - 1))) if len(h) > 1 else math.nan
                factors.append({"weights": weights, "N": n, "levels": levels,
                                "direction": direction,
                                "iterations": int(info[f"{key}_iterations"]),
                                "initial_residual": float(h[0]), "final_residual": float(h[-1]),
                                "factor": rho})  # fmt: skip
            f = [r for r in factors if r["weights"] == weights and r["N"] == n]
            print(f"  {weights:>8} N {n:>5} ({levels} levels): forward {f[0]['iterations']} / "
                  f"{f[0]['factor']:.3f}, adjoint {f[1]['iterations']} / {f[1]['factor']:.3f}",
                  flush=True)  # fmt: skip
    return hist, factors


# ---------------------------------------------------------------------------- data: speed-up
def _speedup_task(task: tuple[int, int, str]) -> dict | None:
    n, p, label = task
    par = SPEEDUP_SETTINGS[label].for_ranks(n, p)
    if p > -(-n // par.fine_factor):
        return None  # more ranks than fine coarse intervals
    config = network(n)
    X = load_dataset("peaks", n_train_per_class=1).X_train[:2]
    y = np.zeros(2, dtype=np.int64)
    start = time.perf_counter()
    out = modelled_evaluation(config, initialize(config, INIT), X, y, par, p, steps=2)
    return {"N": n, "P": p, "setting": label, "speedup": out["speedup"],
            "modelled_time": out["modelled_time"], "serial_time": out["serial_time"],
            "layer_steps": out["layer_steps"], "messages": out["messages"],
            "fine_factor": par.fine_factor, "seconds": time.perf_counter() - start}  # fmt: skip


def data_speedup(depths: list[int], ranks: list[int], workers: int) -> list[dict]:
    print(f"== modelled speed-up, N = {depths}, P = {ranks}, latency {LATENCY} step, "
          f"{workers} worker processes ==", flush=True)  # fmt: skip
    tasks = [(n, p, label) for n in depths for p in ranks for label in SPEEDUP_SETTINGS]
    tasks.sort(key=lambda t: -t[0] * t[1])  # longest first
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(_speedup_task, tasks))
    else:
        results = [_speedup_task(t) for t in tasks]
    rows = sorted((r for r in results if r is not None),
                  key=lambda r: (r["setting"], r["N"], r["P"]))  # fmt: skip
    for r in rows:
        print(f"  {r['setting']:>30} N {r['N']:>5} P {r['P']:>4}: {r['speedup']:6.2f} "
              f"({r['seconds']:.1f} s)", flush=True)  # fmt: skip
    return rows


def run_data(quick: bool) -> None:
    if quick:
        n_per_class, iterations = 100, 10
        depths, sp_depths, ranks = [32, 64], [64, 256], [1, 2, 4, 8]
    else:
        n_per_class, iterations = 1000, 100
        depths, sp_depths = [32, 64, 128, 256, 512, 1024], [256, 1024, 4096]
        ranks = [2**k for k in range(9)]
    timings = []
    # the speed-up model (thread ranks, GIL-bound) runs in a second process alongside
    pool = ProcessPoolExecutor(max_workers=1)
    t0 = time.perf_counter()
    future = pool.submit(data_speedup, sp_depths, ranks, 1)
    start = time.perf_counter()
    rows, trained = data_training(n_per_class, iterations)
    write_csv("training_histories.csv", rows)
    timings.append({"section": "training", "seconds": time.perf_counter() - start})
    start = time.perf_counter()
    hist, factors = data_convergence(depths, n_per_class, trained)
    write_csv("residual_history.csv", hist)
    write_csv("convergence_factors.csv", factors)
    timings.append({"section": "convergence", "seconds": time.perf_counter() - start})
    write_csv("speedup.csv", future.result())
    pool.shutdown()
    timings.append({"section": "speedup (parallel to the others)",
                    "seconds": time.perf_counter() - t0})  # fmt: skip
    timings.append({"section": "machine", "seconds": math.nan,
                    "note": f"{platform.machine()} {os.cpu_count()} cores, "
                            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, quick={quick}"})  # fmt: skip
    for t in timings:
        t.setdefault("note", "")
    write_csv("timings.csv", timings)


# ---------------------------------------------------------------------------- plots
def _style():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.grid": True, "grid.alpha": 0.3,
                         "legend.fontsize": 8.5, "savefig.dpi": 200,
                         "savefig.bbox": "tight"})  # fmt: skip
    return plt


def _save(fig, name: str) -> None:
    FIG_DIR.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "pdf"):
        fig.savefig(FIG_DIR / f"{name}.{ext}")
    print(f"  wrote figures/mgrit/{name}.png/.pdf", flush=True)


def plot_training(plt) -> dict:
    rows = read_csv("training_histories.csv")
    methods = list(dict.fromkeys(r["method"] for r in rows))
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    styles = {"exact serial": ("k", "-"), "one-shot MGRIT 1+1": ("tab:orange", "--"),
              "one-shot MGRIT 2+2": ("tab:blue", "-.")}  # fmt: skip
    summary = {}
    for m in methods:
        r = [x for x in rows if x["method"] == m]
        it = [x["iteration"] for x in r]
        color, ls = styles.get(m, (None, "-"))
        last = r[-1]
        summary[m] = last
        label = f"{m} (wall {last['wall_time']:.1f} s)"
        axes[0].plot(it, [x["objective"] for x in r], color=color, ls=ls, label=label)
        axes[1].semilogy(it, [x["grad_norm"] for x in r], color=color, ls=ls, label=label)
        val = [(x["iteration"], x["val_acc"]) for x in r if not math.isnan(x["val_acc"])]
        axes[2].plot(*zip(*val, strict=True), color=color, ls=ls, label=label)
    axes[0].set_ylabel("objective $J$ (loss + regularisation)")
    axes[1].set_ylabel(r"gradient norm $\|\nabla J\|_2$")
    axes[2].set_ylabel("validation accuracy")
    axes[2].set_ylim(0, 1)
    titles = ("(a) objective", "(b) gradient norm", "(c) validation accuracy")
    for ax, title in zip(axes, titles, strict=True):
        ax.set_xlabel("L-BFGS iteration")
        ax.set_title(title)
    axes[2].legend(loc="lower right")
    fig.suptitle(f"Peaks, ResNet width {WIDTH}, N = {N_REF}, T = {T_FINAL:g}, smoothrelu: "
                 "exact vs one-shot MGRIT (1 rank)", fontsize=10)  # fmt: skip
    fig.tight_layout()
    _save(fig, "training_histories")
    plt.close(fig)
    return summary


def _factor(rho: float) -> str:
    return f"{rho:.3f}" if rho >= 0.01 else f"{rho:.1e}"


def plot_convergence(plt) -> list[dict]:
    hist = read_csv("residual_history.csv")
    factors = read_csv("convergence_factors.csv")
    weights = list(dict.fromkeys(r["weights"] for r in hist))
    depths = sorted({int(r["N"]) for r in hist})
    cmap = plt.get_cmap("viridis")
    fig, axes = plt.subplots(1, len(weights), figsize=(5.2 * len(weights), 4), sharey=True)
    axes = np.atleast_1d(axes)
    titles = {"trained": f"(a) trained weights (serial run, N = {N_REF}, resampled)",
              "initial": "(b) initial weights (reference init., scale 1e-3)"}  # fmt: skip
    for ax, w in zip(axes, weights, strict=True):
        for i, n in enumerate(depths):
            r = [x for x in hist if x["weights"] == w and x["N"] == n
                 and x["direction"] == "forward"]  # fmt: skip
            f = next(x for x in factors if x["weights"] == w and x["N"] == n
                     and x["direction"] == "forward")  # fmt: skip
            ax.semilogy([x["iteration"] for x in r], [x["residual"] for x in r], marker="o",
                        ms=3, color=cmap(i / max(len(depths) - 1, 1)),
                        label=rf"N = {n} ($\bar\rho$ = {_factor(f['factor'])})")  # fmt: skip
        ax.axhline(1e-10, color="grey", ls=":", lw=1)
        ax.text(0.2, 1.6e-10, "tolerance $10^{-10}$", color="grey", fontsize=8)
        ax.set_xlabel("MGRIT iteration (V-cycle)")
        ax.set_title(titles.get(w, w), fontsize=9.5)
        ax.legend(title="depth (avg. factor)", loc="upper right")
        ax.xaxis.get_major_locator().set_params(integer=True)
    axes[0].set_ylabel("forward residual $\\|r\\|_2$ at C-points")
    fig.suptitle("FAS-MGRIT forward solve, cold start: cf 2, V-cycles, F-relaxation fine / "
                 "FCF coarse, batch of all training points", fontsize=10)  # fmt: skip
    fig.tight_layout()
    _save(fig, "residual_convergence")
    plt.close(fig)
    return factors


def plot_speedup(plt) -> list[dict]:
    rows = read_csv("speedup.csv")
    settings = sorted(dict.fromkeys(r["setting"] for r in rows), key=lambda s: "best" not in s)
    depths = sorted({int(r["N"]) for r in rows})
    colors = dict(zip(depths, ("tab:blue", "tab:orange", "tab:green", "tab:red"), strict=False))
    lstyle = dict(zip(settings, (("-", "o"), ("-.", "s"), (":", "^")), strict=False))
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    ranks = sorted({int(r["P"]) for r in rows})
    ax.loglog(ranks, ranks, "k--", lw=1, label="ideal (speed-up = P)")
    for s in settings:
        for n in depths:
            r = sorted((x for x in rows if x["setting"] == s and x["N"] == n),
                       key=lambda x: x["P"])  # fmt: skip
            ls, mk = lstyle[s]
            ax.loglog([x["P"] for x in r], [x["speedup"] for x in r], ls=ls, marker=mk, ms=4,
                      color=colors[n], label=f"N = {n}, {s}")  # fmt: skip
    ax.axhline(1.0, color="grey", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(ranks, [str(p) for p in ranks])
    ticks = [t for t in (0.1, 0.3, 1, 3, 10, 30, 100, 300) if t <= max(ranks) * 1.2]
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("number of ranks P")
    ax.set_ylabel("modelled speed-up over the exact serial gradient")
    ax.set_title("One-shot MGRIT 2+2 gradient evaluation (unit cost per layer step,\n"
                 f"latency {LATENCY} step per message hop)", fontsize=10)  # fmt: skip
    ax.legend(loc="upper left", fontsize=7.5)
    ax.set_ylim(0.05, max(ranks) * 1.2)
    fig.tight_layout()
    _save(fig, "speedup")
    plt.close(fig)
    return rows


def write_index(training: dict, factors: list[dict], speed: list[dict]) -> None:
    timings = read_csv("timings.csv")
    t = {r["section"]: r for r in timings}
    machine = t.get("machine", {}).get("note", "")
    quick = "quick=True" in machine
    serial = training.get("exact serial")
    lines = [
        "# Layer-parallel (MGRIT) figures",
        "",
        f"Made by `{COMMAND}` (data step, then plots; `--plots-only` redraws from the stored "
        "CSV files, `--data-only` recomputes them). Data: `results/summaries/mgrit/*.csv`. "
        f"Data run: {machine}."
        + (" **Quick (smoke-test) sizes: not the paper figures.**" if quick else ""),
        "",
        "Run time of the data step (s): "
        + ", ".join(f"{k} {v['seconds']:.0f}" for k, v in t.items() if k != "machine")
        + " (the speed-up model runs in a second process alongside the other two).",
        "",
        "Common setup: peaks data (1000 training points per class = 5000, 200 validation "
        f"points), ResNet width {WIDTH}, T = {T_FINAL:g}, smoothrelu, gamma_tik = 1e-7, "
        "gamma_ddt = 1e-5, gamma_class = 1e-7, reference initialisation (glibc `rand()` "
        "stream, seed 1) at scale 1e-3.",
        "",
        "## training_histories.png / .pdf",
        "",
        f"Objective, gradient norm and validation accuracy vs L-BFGS iteration (N = {N_REF}, "
        "100 iterations, `grad_tol = 0`) for exact serial propagation and one-shot MGRIT with "
        "1+1 and 2+2 forward/adjoint cycles per optimisation step on one rank "
        "(`ParallelConfig(one_shot=True, fwd_iterations=k, bwd_iterations=k)`, other settings "
        "default: cf 2, F-relaxation fine / FCF coarse, coarse grids >= 10 intervals, i.e. 2 "
        "levels at N = 32, first 3 steps with 10 warm-up cycles). One-shot objective and "
        "gradient are the inexact ones the optimiser sees; validation accuracy uses a "
        "converged forward solve. Data: `training_histories.csv`.",
        "",
        "| method | final J | final abs(grad J) | final train acc | final val acc | wall s | "
        "modelled s |",
        "|---|---|---|---|---|---|---|",
    ]
    for m, r in training.items():
        lines.append(f"| {m} | {r['objective']:.4f} | {r['grad_norm']:.2e} | "
                     f"{r['train_acc']:.3f} | {r['val_acc']:.3f} | {r['wall_time']:.1f} | "
                     f"{r['modelled_time']:.1f} |")  # fmt: skip
    if serial is not None:
        lines += ["", "Wall time includes the validation solves and line-search evaluations; "
                  "modelled time is the measured-cost critical path of the gradient and "
                  "line-search evaluations (one rank: their measured time). The speed-up "
                  "model ran in a second process during these runs on the 2 shared cores, "
                  "so absolute wall times are inflated (roughly alike for all three "
                  "methods)."]  # fmt: skip
    lines += [
        "",
        "## residual_convergence.png / .pdf",
        "",
        "Forward MGRIT residual (temporal 2-norm at fine C-points) vs V-cycle of cold-start "
        "solves to 1e-10, cf 2, F-relaxation on the finest level, FCF on coarse levels, "
        "coarse grids down to 2 intervals, batch = all 5000 training points. (a) weights of "
        f"the exact serial training run above (N = {N_REF}, 100 L-BFGS iterations), resampled "
        "piecewise constant in t to each depth; (b) the initial weights at each depth. Legend: "
        "average convergence factor (r_last / r_0)^(1/iterations). Data: "
        "`residual_history.csv` (forward and adjoint), `convergence_factors.csv`.",
        "",
        "| weights | N | levels | forward its / factor | adjoint its / factor |",
        "|---|---|---|---|---|",
    ]
    for w in dict.fromkeys(r["weights"] for r in factors):
        for n in sorted({r["N"] for r in factors if r["weights"] == w}):
            f = {r["direction"]: r for r in factors if r["weights"] == w and r["N"] == n}
            lines.append(
                f"| {w} | {int(n)} | {int(f['forward']['levels'])} | "
                f"{int(f['forward']['iterations'])} / {_factor(f['forward']['factor'])} | "
                f"{int(f['adjoint']['iterations'])} / {_factor(f['adjoint']['factor'])} |"
            )
    ranks = sorted({int(r["P"]) for r in speed})
    lines += [
        "",
        "## speedup.png / .pdf",
        "",
        "Modelled speed-up of one steady-state one-shot gradient evaluation (2+2 cycles, "
        "second evaluation warm-started from the first, no warm-up) over the exact serial "
        "gradient (2N layer steps): `solver.mgrit.model.modelled_evaluation` with P thread "
        f"ranks, unit cost per layer step and latency {LATENCY} step per message hop "
        '(log2 P hops per allreduce). Settings: `coarsening_factor_fine="ranks"` (N/P, one '
        "coarse interval per rank), cf 2 below, F-relaxation on every level (the best 2+2 "
        "setting of docs/mgrit.md), and the reference cf 2 with F fine / FCF coarse; both with "
        "coarse grids down to 2 intervals. Missing points: more ranks than fine coarse "
        "intervals. No measured multi-rank wall times (this VM has 2 shared cores; see "
        'docs/mgrit.md, "Model vs measurement", for the 1-vs-2-rank check of the model). '
        "Data: `speedup.csv`.",
        "",
        "| setting | N | " + " | ".join(f"P={p}" for p in ranks) + " |",
        "|---|---|" + "---|" * len(ranks),
    ]
    for s in dict.fromkeys(r["setting"] for r in speed):
        for n in sorted({r["N"] for r in speed if r["setting"] == s}):
            cell = {int(r["P"]): r["speedup"] for r in speed if r["setting"] == s and r["N"] == n}
            lines.append(f"| {s} | {int(n)} | "
                         + " | ".join(f"{cell[p]:.2f}" if p in cell else "-" for p in ranks)
                         + " |")  # fmt: skip
    (FIG_DIR / "INDEX.md").write_text("\n".join(lines) + "\n")
    print("  wrote figures/mgrit/INDEX.md", flush=True)


def run_plots() -> None:
    plt = _style()
    training = plot_training(plt)
    factors = plot_convergence(plt)
    speed = plot_speedup(plt)
    write_index(training, factors, speed)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data-only", action="store_true", help="compute the CSV files only")
    g.add_argument("--plots-only", action="store_true", help="plot from the stored CSV files")
    p.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = p.parse_args(argv)
    start = time.perf_counter()
    if not args.plots_only:
        run_data(args.quick)
    if not args.data_only:
        run_plots()
    print(f"done in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
