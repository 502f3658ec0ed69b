"""Command line for single training runs: ``python -m solver train ...`` (script ``lpsolve``).

Trains one network on a data set and writes ``history.csv``, ``params.npz`` and ``summary.json``
into ``--out``. Studies over many runs belong to ``python -m sensitivity``.
Under ``mpiexec -n P`` with ``--levels > 1`` the layers are propagated by MGRIT across the ranks.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

from solver.errors import SolverError

__all__ = ["main", "build_parser"]


EXAMPLES = """examples:
  python -m solver train                                   # peaks, reference configuration
  python -m solver train --iterations 50 --out results/quick
  python -m solver train --strategy nested --strategy-option 'layers=[8,16,32]' --layers 32
  python -m solver train --data digits --width 64 --layers 16 --optimizer adam \\
      --learning-rate 0.01 --batch-size 64
  mpiexec -n 4 python -m solver train --levels 3 --one-shot --out results/peaks_mgrit
"""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def _cf_fine(text: str) -> int | str:
    if text == "ranks":
        return text
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= 2 or 'ranks', got {text!r}"
        ) from None
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2 or 'ranks', got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m solver", description=__doc__.splitlines()[0])
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser(
        "train",
        help="train one network and save its history",
        description="Train one network and write history.csv, params.npz and summary.json into "
        "--out. Defaults are the reference code's peaks configuration: width 8, N = 30, "
        "T = 5, SmoothReLU, uniform [0,1) initialisation from the C rand() stream scaled by "
        "1e-3, gamma_tik = gamma_class = 1e-7, gamma_ddt = 1e-5, L-BFGS for 300 iterations.",
        epilog=EXAMPLES,
        formatter_class=lambda prog: argparse.RawDescriptionHelpFormatter(prog, width=100),
    )
    pos = _positive_int
    add = t.add_argument
    add("--debug", action="store_true", default=argparse.SUPPRESS,
        help="show the traceback of an error")
    add("--data", default="peaks", help="data set: peaks, peaks_reference, digits, indian_pines, "
        "arrays (default: %(default)s)")
    add("--data-option", action="append", default=[], metavar="KEY=VALUE",
        help="data set option, e.g. n_train_per_class=200 or path=data.npz (repeatable)")
    add("--reference", action="store_true",
        help="the reference code's set-up (solver.presets.reference_setup): scalar bias, zero "
        "ddt gradient, rand() initialisation with seed 1, L-BFGS memory 20 without curvature "
        "test or non-descent safeguard, 20 line-search trials; other flags still apply")
    add("--non-descent", default=None, choices=("reset", "keep"),
        help="L-BFGS on a non-descent direction: reset to -g (default) or keep it (reference)")
    add("--width", type=pos, default=8, help="channels per layer (default: %(default)s)")
    add("--layers", type=pos, default=30, help="hidden layers N (default: %(default)s)")
    add("--t-final", type=float, default=5.0, help="final time T; step h = T/N "
        "(default: %(default)s)")
    add("--activation", default="smoothrelu", choices=("tanh", "relu", "smoothrelu"),
        help="(default: %(default)s)")
    add("--bias", default=None, choices=("vector", "scalar"),
        help="bias per channel or one per layer as in the reference code (default: vector)")
    add("--dtype", default="float64", choices=("float64", "float32"),
        help="arithmetic of data, weights and propagation; the optimiser stays float64 "
        "(default: %(default)s)")
    add("--gamma-tik", type=float, default=1e-7, help="Tikhonov weight (default: %(default)s)")
    add("--gamma-ddt", type=float, default=1e-5,
        help="weight of the time-derivative regulariser (default: %(default)s)")
    add("--gamma-class", type=float, default=1e-7,
        help="classifier regularisation weight (default: %(default)s)")
    add("--optimizer", default="lbfgs", choices=("lbfgs", "adam", "sgd"),
        help="(default: %(default)s)")
    add("--learning-rate", type=float, default=1.0,
        help="step size (L-BFGS: initial line-search step) (default: %(default)s)")
    add("--batch-size", type=pos, default=None,
        help="minibatch size (default: the whole training set)")
    add("--iterations", type=pos, default=300,
        help="optimisation iterations; with --strategy nested: of the final level "
        "(default: %(default)s)")
    add("--grad-tol", type=float, default=1e-4,
        help="stop when the gradient norm is below this (default: %(default)s)")
    add("--target-accuracy", type=float, default=None,
        help="stop when the validation accuracy reaches this fraction, e.g. 0.9 (default: none)")
    add("--time-budget", type=float, default=None, help="wall-clock budget in s (default: none)")
    add("--init", default="reference", choices=("normal", "uniform", "reference", "zero"),
        help="initial weights: reference = C rand() stream (default: %(default)s)")
    add("--scale", type=float, default=1e-3,
        help="initial scale of every weight group (default: %(default)s)")
    add("--seed", type=int, default=None, help="initialisation seed (default: 0; --reference: 1)")
    add("--strategy", default="random", choices=("random", "nested", "spline", "box"),
        help="initialisation strategy (default: %(default)s)")
    add("--strategy-option", action="append", default=[], metavar="KEY=VALUE",
        help="strategy option as KEY=JSON, e.g. layers=[8,16,32] or interpolation=linear for "
        "nested, degree=2 for spline (repeatable; see docs/strategies.md)")
    add("--levels", type=pos, default=1,
        help="MGRIT levels; 1 = exact serial propagation (default: %(default)s)")
    add("--cf", type=pos, default=2, help="MGRIT coarsening factor (default: %(default)s)")
    add("--cf-fine", type=_cf_fine, default=None,
        help="fine-level MGRIT coarsening factor: an integer >= 2 or 'ranks' (N / P) "
        "(default: --cf)")
    add("--mgrit-iterations", type=pos, default=2,
        help="one-shot MGRIT cycles per step, forward and adjoint (default: %(default)s)")
    add("--one-shot", action="store_true",
        help="inexact one-shot MGRIT (--mgrit-iterations cycles per optimisation step)")
    add("--out", default="results/peaks_default", help="output folder (default: %(default)s)")
    add("--print-every", type=pos, default=10,
        help="print every n-th iteration (default: %(default)s)")
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


def _optimizer(args: argparse.Namespace):
    from solver.optim import OptimizerConfig

    options = {
        "name": args.optimizer,
        "learning_rate": args.learning_rate,
        "batch_size": args.batch_size,
    }
    if args.non_descent is not None:
        options["non_descent"] = args.non_descent
    if args.reference:
        if args.optimizer != "lbfgs":
            raise SolverError(
                f"--reference uses the reference code's L-BFGS; got --optimizer {args.optimizer}. "
                "Drop --optimizer or --reference."
            )
        return OptimizerConfig.reference(**options)
    return OptimizerConfig(**options)


def _under_mpi() -> bool:
    """Started by ``mpiexec``/``srun`` with more than one rank (read from the environment, so
    that a serial run never imports mpi4py)."""
    import os

    keys = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS")
    return any(os.environ.get(k, "1").isdigit() and int(os.environ.get(k, "1")) > 1 for k in keys)


def _check_levels(args: argparse.Namespace) -> None:
    """``--levels L`` needs ``cf_fine * cf^(L-2)`` layers (one coarse interval on the coarsest
    level)."""
    if args.levels < 2:
        return
    fine = args.cf if args.cf_fine in (None, "ranks") else args.cf_fine
    need = fine * args.cf ** (args.levels - 2)
    if args.layers < need:
        raise SolverError(
            f"`--levels {args.levels}` with `--cf {args.cf}` needs at least {need} layers; got "
            f"`--layers {args.layers}`. Fix: fewer levels or more layers."
        )


def _setup(args: argparse.Namespace, comm):
    """Everything that can fail on bad input, before training: data, configs."""
    from solver import NetworkConfig
    from solver.data import check_size, load_dataset
    from solver.presets import REFERENCE_NETWORK

    _check_levels(args)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise SolverError(f"`--out {args.out}` is a file. Fix: pass a folder (it is created).")
    data = load_dataset(args.data, **_parse_options(args.data_option, "--data-option"))
    check_size(data)
    config = NetworkConfig(
        n_features=data.n_features,
        n_classes=data.n_classes,
        width=args.width,
        n_layers=args.layers,
        t_final=args.t_final,
        activation=args.activation,
        dtype=args.dtype,
        bias=args.bias or (REFERENCE_NETWORK["bias"] if args.reference else "vector"),
        ddt_gradient=REFERENCE_NETWORK["ddt_gradient"] if args.reference else "exact",
        gamma_tik=args.gamma_tik,
        gamma_ddt=args.gamma_ddt,
        gamma_class=args.gamma_class,
    )
    parallel = None
    if args.levels > 1 or args.one_shot:
        from solver.mgrit import ParallelConfig, reference_mgrit

        parallel = ParallelConfig(
            mgrit=reference_mgrit(
                max_levels=args.levels, coarsening_factor=args.cf,
                coarsening_factor_fine=args.cf_fine,
            ),  # fmt: skip
            one_shot=args.one_shot,
            fwd_iterations=args.mgrit_iterations,
            bwd_iterations=args.mgrit_iterations,
        )
    strategy = {"name": args.strategy, **_parse_options(args.strategy_option, "--strategy-option")}
    from solver.memory import check_memory

    optimizer = _optimizer(args)
    check_memory(
        args.layers, args.width, args.batch_size or data.n_train,
        lbfgs_memory=getattr(optimizer, "memory", 10) if args.optimizer == "lbfgs" else 0,
        n_ranks=comm.size if comm is not None and parallel is not None else 1,
    )  # fmt: skip
    return data, config, parallel, strategy, optimizer


def _data_digest(data) -> str:
    import hashlib

    h = hashlib.sha256()
    for a in (data.X_train, data.y_train, data.X_val, data.y_val):
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def run_train(args: argparse.Namespace) -> int:
    from solver.parallel import abort_on_error, agree, check_same
    from solver.parallel.guard import guarded

    comm = None
    if args.levels > 1 or args.one_shot or _under_mpi():
        from solver.parallel.mpi import world

        comm = world()
        if comm.size == 1 and args.levels == 1 and not args.one_shot:
            comm = None
    if comm is None:
        data, config, parallel, strategy, optimizer = _setup(args, None)
        return _train_and_save(args, comm, data, config, parallel, strategy, optimizer)
    with guarded(comm, name="python -m solver"):
        # every rank sets up, then all agree: an error on one rank stops all (no hang)
        data, config, parallel, strategy, optimizer = agree(comm, lambda: _setup(args, comm))
        options = {f"--{k.replace('_', '-')}": v for k, v in vars(args).items() if k != "func"}
        check_same(comm, options, what="option")
        check_same(comm, {f"--data {args.data}": _data_digest(data)}, what="data set")
        with abort_on_error(comm, debug=getattr(args, "debug", False)):
            return _train_and_save(args, comm, data, config, parallel, strategy, optimizer)


def _train_and_save(args, comm, data, config, parallel, strategy, optimizer) -> int:
    from solver.init import InitConfig
    from solver.train import HISTORY_COLUMNS, StopConfig, train

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
                ),
                flush=True,
            )

    result = train(
        config,
        data,
        optimizer=optimizer,
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
            seed=(1 if args.reference else 0) if args.seed is None else args.seed,
        ),
        strategy=strategy,
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
        "optimizer": dataclasses.asdict(optimizer),
        "optimizer_counts": result.extras.get("optimizer", {}),
        "argv": sys.argv,
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(
        f"{result.status}: {result.message}; validation accuracy "
        f"{_fmt(result.final.get('val_acc'))} after {_iterations(result.history)} in "
        f"{result.wall_time:.1f} s -> {out}/history.csv"
    )
    return 0


def _iterations(history: list[dict]) -> str:
    """``"253 iterations"``, or with several levels (nested iteration) ``"50 iterations on the
    final level (253 in total over 3 levels)"``; a row is one evaluated iterate."""
    levels = [r.get("level") for r in history]
    distinct = sorted({lv for lv in levels if lv is not None and lv == lv})
    if len(distinct) <= 1:
        return f"{len(history)} iterations"
    last = sum(lv == distinct[-1] for lv in levels)
    return (
        f"{last} iterations on the final level ({len(history)} in total over "
        f"{len(distinct)} levels)"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point: 0 ok, 2 bad input (one line naming the option/file), 1 unexpected error
    (one line; ``--debug`` shows the traceback), 130 on Ctrl-C."""
    from solver.errors import RemoteRankError
    from solver.parallel import one_line

    args = build_parser().parse_args(argv)
    debug = getattr(args, "debug", False)
    try:
        return run_train(args)
    except RemoteRankError:
        return 2  # another rank's set-up failed and printed its reason
    except KeyboardInterrupt:
        print("python -m solver: interrupted", file=sys.stderr)
        return 130
    except (SolverError, ValueError, OSError) as exc:
        if debug:
            raise
        print(f"python -m solver: error: {_ranked(one_line(exc))}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the top-level guard: one line, not a traceback
        if debug:
            raise
        print(f"python -m solver: {_ranked(one_line(exc, prog='python -m solver'))}",
              file=sys.stderr)  # fmt: skip
        return 1


def _ranked(line: str) -> str:
    if not _under_mpi():
        return line
    import os

    rank = os.environ.get("PMI_RANK") or os.environ.get("OMPI_COMM_WORLD_RANK")
    return f"[rank {rank}] {line}" if rank is not None else line


if __name__ == "__main__":
    sys.exit(main())
