"""Command line for single training runs: ``python -m solver train ...`` (script ``lpsolve``).

Trains one network on a data set and writes ``history.csv``, ``params.npz`` and ``summary.json``
into ``--out``. Studies over many runs belong to ``python -m sensitivity``.
Under ``mpiexec -n P`` with ``--levels > 1`` the layers are propagated by MGRIT across the ranks.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import sys
from pathlib import Path

from solver.errors import SolverError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m solver", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train one network and save its history",
        description="Defaults are the reference code's peaks configuration: width 8, N = 30, "
        "T = 5, SmoothReLU, uniform [0,1) initialisation from the C rand() stream scaled by "
        "1e-3, gamma_tik = gamma_class = 1e-7, gamma_ddt = 1e-5, L-BFGS for 300 iterations.",
    )
    t.add_argument("--data", default="peaks", help="data set name (peaks, digits, ...)")
    t.add_argument(
        "--data-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="data set option, e.g. n_train_per_class=200 (repeatable)",
    )
    t.add_argument("--width", type=int, default=8)
    t.add_argument("--layers", type=int, default=30, help="hidden layers N")
    t.add_argument("--t-final", type=float, default=5.0)
    t.add_argument("--activation", default="smoothrelu", choices=("tanh", "relu", "smoothrelu"))
    t.add_argument("--bias", default="vector", choices=("vector", "scalar"))
    t.add_argument("--gamma-tik", type=float, default=1e-7)
    t.add_argument("--gamma-ddt", type=float, default=1e-5)
    t.add_argument("--gamma-class", type=float, default=1e-7)
    t.add_argument("--optimizer", default="lbfgs", choices=("lbfgs", "adam", "sgd"))
    t.add_argument("--learning-rate", type=float, default=1.0)
    t.add_argument("--batch-size", type=int, default=None)
    t.add_argument("--iterations", type=int, default=300)
    t.add_argument("--grad-tol", type=float, default=1e-4)
    t.add_argument("--target-accuracy", type=float, default=None)
    t.add_argument("--time-budget", type=float, default=None)
    t.add_argument(
        "--init", default="reference", choices=("normal", "uniform", "reference", "zero")
    )
    t.add_argument("--scale", type=float, default=1e-3, help="initial scale of every group")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--strategy", default="random", help="random, nested, spline, box")
    t.add_argument(
        "--strategy-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="strategy option as KEY=JSON, e.g. schedule=[8,16,32] (repeatable)",
    )
    t.add_argument(
        "--levels", type=int, default=1, help="MGRIT levels; 1 = exact serial propagation"
    )
    t.add_argument("--cf", type=int, default=2, help="MGRIT coarsening factor")
    t.add_argument(
        "--cf-fine",
        default=None,
        help="fine-level MGRIT coarsening factor: an integer or 'ranks' (N / P)",
    )
    t.add_argument(
        "--mgrit-iterations", type=int, default=2, help="one-shot cycles per step (fwd and adj)"
    )
    t.add_argument(
        "--one-shot",
        action="store_true",
        help="inexact one-shot MGRIT (2 iterations per optimisation step)",
    )
    t.add_argument("--out", default="results/peaks_default", help="output folder")
    t.add_argument("--print-every", type=int, default=10)
    return p


def _parse_options(pairs: list[str], flag: str) -> dict:
    options = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise SolverError(f"{flag} expects KEY=VALUE; got {pair!r}.")
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def _fmt(value: float) -> str:
    return (
        "nan"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else (f"{value:.4g}")
    )


def run_train(args: argparse.Namespace) -> int:
    from solver import NetworkConfig
    from solver.data import load_dataset
    from solver.init import InitConfig
    from solver.optim import OptimizerConfig
    from solver.train import HISTORY_COLUMNS, StopConfig, train

    data = load_dataset(args.data, **_parse_options(args.data_option, "--data-option"))
    config = NetworkConfig(
        n_features=data.n_features,
        n_classes=data.n_classes,
        width=args.width,
        n_layers=args.layers,
        t_final=args.t_final,
        activation=args.activation,
        bias=args.bias,
        gamma_tik=args.gamma_tik,
        gamma_ddt=args.gamma_ddt,
        gamma_class=args.gamma_class,
    )
    comm, parallel = None, None
    if args.levels > 1 or args.one_shot:
        from solver.mgrit import ParallelConfig, reference_mgrit
        from solver.parallel.mpi import world

        comm = world()
        cf_fine = args.cf_fine if args.cf_fine in (None, "ranks") else int(args.cf_fine)
        parallel = ParallelConfig(
            mgrit=reference_mgrit(
                max_levels=args.levels, coarsening_factor=args.cf, coarsening_factor_fine=cf_fine
            ),
            one_shot=args.one_shot,
            fwd_iterations=args.mgrit_iterations,
            bwd_iterations=args.mgrit_iterations,
        )
    root = comm is None or comm.rank == 0

    def show(row: dict) -> None:
        if root and (row["iteration"] % args.print_every == 0):
            print(
                "  ".join(
                    f"{k}={_fmt(row[k])}"
                    for k in (
                        "iteration",
                        "objective",
                        "grad_norm",
                        "train_acc",
                        "val_acc",
                        "wall_time",
                    )
                )
            )

    guard = contextlib.nullcontext()
    if comm is not None:
        from solver.parallel import abort_on_error

        guard = abort_on_error(comm)  # an exception on one rank ends every rank, no hang
    with guard:
        result = train(
            config,
            data,
            optimizer=OptimizerConfig(
                name=args.optimizer, learning_rate=args.learning_rate, batch_size=args.batch_size
            ),
            stop=StopConfig(
                max_iterations=args.iterations,
                grad_tol=args.grad_tol,
                target_accuracy=args.target_accuracy,
                time_budget=args.time_budget,
            ),
            init=InitConfig(
                distribution=args.init,
                scale_open=args.scale,
                scale_hidden=args.scale,
                scale_class=args.scale,
                seed=args.seed,
            ),
            strategy={
                "name": args.strategy,
                **_parse_options(args.strategy_option, "--strategy-option"),
            },
            parallel=parallel,
            comm=comm,
            callback=show,
        )
    if not root:
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "history.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(HISTORY_COLUMNS))
        writer.writeheader()
        writer.writerows({k: row[k] for k in HISTORY_COLUMNS} for row in result.history)
    result.params.save(out / "params.npz", result.config)
    summary = {
        "status": result.status,
        "message": result.message,
        "final": result.final,
        "wall_time": result.wall_time,
        "modelled_time": result.modelled_time,
        "n_params": result.n_params,
        "config": result.config.to_dict(),
        "argv": sys.argv,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(
        f"{result.status}: {result.message}; validation accuracy "
        f"{_fmt(result.final.get('val_acc'))} after {len(result.history)} iterations in "
        f"{result.wall_time:.1f} s -> {out}/history.csv"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return run_train(args)
    except (SolverError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
