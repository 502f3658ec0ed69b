"""Benchmark of the initialisation strategies (prints its figures; not a timed test).

Part 1 (peaks classification, same final network and optimiser, several seeds): wall time to
reach a target validation accuracy (default 85%) and the number of runs that never reach it
within the iteration budget, for

* ``random``: random initialisation, then training at the final depth;
* ``nested``: nested iteration over ``--schedule`` (coarse levels capped at
  ``--level-iterations`` and left early at ``--level-tolerance`` training accuracy);
* ``spline``: degree-2 B-spline controls with ``--n-knots`` knot intervals at the same depth.

Part 2 (MSE regression, 1-D sine and 2-D peaks surface): final validation MSE of standard
initialisation + Adam against standard + LSGD, box + Adam and box + LSGD.

    .venv/bin/python benchmarks/bench_strategies.py            # default run, a few minutes
    .venv/bin/python benchmarks/bench_strategies.py --seeds 20 --train-per-class 1000
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _store import context, limit_threads, write_rows  # noqa: E402

from sensitivity import records  # noqa: E402
from solver.config import NetworkConfig  # noqa: E402
from solver.data import load_dataset  # noqa: E402
from solver.init import InitConfig  # noqa: E402
from solver.optim import OptimizerConfig  # noqa: E402
from solver.strategies.regression import RegressionModel, fit, regression_problem  # noqa: E402
from solver.train import StopConfig, train  # noqa: E402


def _to_target(result, target: float) -> tuple[float, float] | None:
    """(wall time, cost) of the first final-depth row with validation accuracy >= target (the
    rule of :func:`sensitivity.records.time_to_target`)."""
    h = result.history
    ttt = records.time_to_target([r["val_acc"] for r in h], [r["wall_time"] for r in h],
                                 [r["modelled_time"] for r in h], target=target,
                                 n_layers=[r["n_layers"] for r in h])  # fmt: skip
    return None if ttt.row is None else (ttt.wall, h[ttt.row]["cost"])


def classification(args: argparse.Namespace) -> None:
    data = load_dataset("peaks", n_train_per_class=args.train_per_class, n_val_per_class=40, seed=0)
    config = NetworkConfig(
        n_features=2, n_classes=5, width=args.width, n_layers=args.n_layers, t_final=args.t_final
    )
    optimizer = OptimizerConfig(name=args.optimizer, learning_rate=args.learning_rate)
    stop = StopConfig(max_iterations=args.max_iterations, grad_tol=0.0, target_accuracy=args.target)
    schedule = tuple(int(n) for n in args.schedule.split(","))
    strategies = {
        "random": "random",
        "nested": {
            "name": "nested",
            "layers": schedule,
            "interpolation": "linear",
            "level_iterations": args.level_iterations,
            "level_tolerance": args.level_tolerance,
        },
        "spline": {"name": "spline", "degree": 2, "n_knots": args.n_knots},
    }
    print(
        f"peaks: {data.n_train} train / {data.n_val} val, width {args.width}, "
        f"N = {args.n_layers}, T = {args.t_final}, {args.optimizer} lr {args.learning_rate}, "
        f"init normal scale {args.init_scale}, target val acc {args.target}, "
        f"budget {args.max_iterations} iterations at the final depth, seeds 0..{args.seeds - 1}"
    )
    print(
        f"nested schedule {schedule}, coarse levels <= {args.level_iterations} iterations, "
        f"left at train acc {args.level_tolerance}; spline degree 2, {args.n_knots} knots"
    )
    print(
        f"{'strategy':8s} {'seed':>4s} {'status':>15s} {'iters':>6s} {'t_target[s]':>11s} "
        f"{'cost_target':>11s} {'val_acc':>7s} {'params':>6s}",
        flush=True,
    )
    ctx = context("none", limit_threads(1))  # at the start: the code that ran
    runs: dict[str, dict[str, list]] = {
        name: {"times": [], "costs": [], "walls": [], "fails": [0]} for name in strategies
    }
    # seeds outer, strategies inner: a change of machine load hits every strategy alike
    for seed in range(args.seeds):
        init = InitConfig(
            scale_open=args.init_scale,
            scale_hidden=args.init_scale,
            scale_class=args.init_scale,
            seed=seed,
        )
        for name, strategy in strategies.items():
            t0 = time.perf_counter()
            res = train(config, data, optimizer=optimizer, stop=stop, init=init, strategy=strategy)
            rec = runs[name]
            rec["walls"].append(time.perf_counter() - t0)
            hit = _to_target(res, args.target)
            if hit is None:
                rec["fails"][0] += 1
            else:
                rec["times"].append(hit[0])
                rec["costs"].append(hit[1])
            t_txt = "-" if hit is None else f"{hit[0]:.2f}"
            c_txt = "-" if hit is None else f"{hit[1]:.3g}"
            print(
                f"{name:8s} {seed:4d} {res.status:>15s} {len(res.history):6d} {t_txt:>11s} "
                f"{c_txt:>11s} {res.final['val_acc']:7.3f} {res.n_params:6d}",
                flush=True,
            )
    print()
    print(
        "t = wall time [s], cost = layer steps x samples, to the first final-depth row with "
        f"val acc >= {args.target}.\n"
        "'reached' = median over the runs that reach the target; 'all' = median over all runs, "
        "a run that never reaches it counting as infinitely slow."
    )
    print(
        f"{'strategy':8s} {'t reached':>10s} {'t all':>8s} {'cost reached':>13s} "
        f"{'cost all':>10s} {'never reached':>13s} {'total wall[s]':>13s}"
    )
    med: dict[str, tuple[float, float, float, float]] = {}
    for name, rec in runs.items():
        fails = rec["fails"][0]
        t_all = rec["times"] + [math.inf] * fails
        c_all = rec["costs"] + [math.inf] * fails
        med[name] = (
            statistics.median(rec["times"]) if rec["times"] else math.nan,
            statistics.median(t_all),
            statistics.median(rec["costs"]) if rec["costs"] else math.nan,
            statistics.median(c_all),
        )
        t_r, t_a, c_r, c_a = med[name]
        print(
            f"{name:8s} {t_r:10.2f} {t_a:8.2f} {c_r:13.3g} {c_a:10.3g} "
            f"{fails:>10d}/{args.seeds} {sum(rec['walls']):13.1f}"
        )
    r = [med["nested"][k] / med["random"][k] for k in range(4)]
    print(
        f"nested / random: time {r[0]:.2f} (reached), {r[1]:.2f} (all); "
        f"cost {r[2]:.2f} (reached), {r[3]:.2f} (all)",
        flush=True,
    )
    write_rows("strategies", [
        {"strategy": name, "n_layers": args.n_layers, "seeds": args.seeds,
         "target": args.target, "median_time_reached_s": med[name][0],
         "median_time_all_s": med[name][1], "median_cost_reached": med[name][2],
         "median_cost_all": med[name][3], "never_reached": rec["fails"][0],
         "time_all_vs_random": med[name][1] / med["random"][1],
         "total_wall_s": sum(rec["walls"]), **ctx}
        for name, rec in runs.items()
    ])  # fmt: skip


def regression(args: argparse.Namespace) -> None:
    print()
    print(
        f"regression: width {args.reg_width}, N = {args.reg_layers}, T = 1, tanh, Adam lr "
        f"{args.reg_lr}, {args.reg_iterations} iterations, seeds 0..{args.seeds - 1}; "
        "median final validation MSE (1/2 mean squared error)"
    )
    optimizer = OptimizerConfig(name="adam", learning_rate=args.reg_lr)
    for problem, d in (("sine", 1), ("peaks", 2)):
        data = regression_problem(problem, n_train=200, n_val=200, seed=0)
        model = RegressionModel(
            n_features=d, n_outputs=1, width=args.reg_width, n_layers=args.reg_layers
        )
        results = {"standard+adam": [], "standard+lsgd": [], "box+adam": [], "box+lsgd": []}
        for seed in range(args.seeds):
            runs = {
                "standard+adam": (model.random_params(seed), False),
                "standard+lsgd": (model.random_params(seed), True),
                "box+adam": (model.box_params(data.X_train, seed), False),
                "box+lsgd": (model.box_params(data.X_train, seed), True),
            }
            for name, (start, lsgd) in runs.items():
                res = fit(
                    model,
                    data,
                    start,
                    optimizer=optimizer,
                    iterations=args.reg_iterations,
                    lsgd=lsgd,
                )
                results[name].append(res.history[-1]["val_mse"])
        cells = "  ".join(f"{k} {statistics.median(v):.2e}" for k, v in results.items())
        print(f"{problem:6s} {cells}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--train-per-class", type=int, default=200)
    p.add_argument("--width", type=int, default=8)
    p.add_argument("--n-layers", type=int, default=64)
    p.add_argument("--t-final", type=float, default=5.0)
    p.add_argument("--optimizer", default="lbfgs")
    p.add_argument("--learning-rate", type=float, default=1.0)
    p.add_argument("--init-scale", type=float, default=1e-3)
    p.add_argument("--target", type=float, default=0.85)
    p.add_argument("--max-iterations", type=int, default=300)
    p.add_argument("--schedule", default="8,16,32,64")
    p.add_argument("--level-iterations", type=int, default=100)
    p.add_argument("--level-tolerance", type=float, default=0.85)
    p.add_argument("--n-knots", type=int, default=8)
    p.add_argument("--reg-width", type=int, default=10)
    p.add_argument("--reg-layers", type=int, default=4)
    p.add_argument("--reg-lr", type=float, default=1e-2)
    p.add_argument("--reg-iterations", type=int, default=300)
    p.add_argument("--skip-regression", action="store_true")
    p.add_argument("--skip-classification", action="store_true")
    args = p.parse_args()
    np.seterr(all="ignore")
    if not args.skip_classification:
        classification(args)
    if not args.skip_regression:
        regression(args)


if __name__ == "__main__":
    main()
