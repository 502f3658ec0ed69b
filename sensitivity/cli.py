"""Command line: ``sensitivity run | queue | worker | status | export | figures | reproduce``.

Also ``python -m sensitivity``.

Exit codes: 0 success; 2 bad input -- a study file, option, path or storage that cannot be
used (one line naming it, the value and the fix; nothing stored is changed); 1 another study
error or an unexpected one (one line; ``--debug`` shows the traceback); 128 + signal number
when interrupted (the running trial was marked failed and re-queued).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sensitivity.errors import Interrupted, SpecError, StorageError, StudyError

__all__ = ["main", "build_parser"]


def _dir_option(path: str | Path, option: str, *, writable: bool = True) -> Path:
    """``path`` for an output folder: must not be a file (it is created if missing) and, with
    ``writable``, its nearest existing folder must be writable."""
    p = Path(path)
    for q in (p, *p.parents):
        if q.exists():
            if not q.is_dir():
                raise SpecError(
                    f"`{option} {path}`: {q} is a file, not a folder. Fix: pass a folder path "
                    "(it is created if missing)."
                )
            if writable and not os.access(q, os.W_OK):
                raise StorageError(
                    f"`{option} {path}`: {q} is not writable. Fix: pass a writable folder or "
                    "change its permissions."
                )
            break
    return p


def _load(study: str, args: argparse.Namespace):
    from sensitivity.spec import load_spec

    spec = load_spec(study)
    changes = {}
    if getattr(args, "results_dir", None):
        _dir_option(args.results_dir, "--results-dir", writable=False)
        changes["results_dir"] = args.results_dir
    if getattr(args, "storage", None):
        changes["storage"] = args.storage
    return spec.with_run(**changes) if changes else spec


def _under_mpi() -> bool:
    return any(int(os.environ.get(k, "1")) > 1 for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))


def _check_writable_study(spec) -> None:
    if spec.run.storage is None:
        _dir_option(spec.results_path, "--results-dir")


def _cmd_run(args: argparse.Namespace, *, join_only: bool) -> int:
    from sensitivity.progress import Progress

    argv = ["sensitivity", *args.argv]
    if args.ranks_per_trial is not None or _under_mpi():
        return _cmd_run_mpi(args, join_only=join_only, argv=argv)
    spec = _load(args.study, args)
    _check_writable_study(spec)
    if getattr(args, "parent_pid", None):
        from sensitivity.parent_watch import exit_with_parent

        exit_with_parent(args.parent_pid)
    from sensitivity.runner import work
    from sensitivity.session import prepare, run_local
    from sensitivity.storage import CountsTicker, counts, open_study

    progress = Progress(spec.name, quiet=args.quiet)
    try:
        if join_only:
            h = open_study(spec, url=args.storage, create=False, salt=os.getpid())
            work(h, max_trials=args.max_trials, on_trial=CountsTicker(h, progress))
        else:
            workers = args.workers or spec.run.workers
            h = prepare(spec, storage=args.storage, argv=argv, workers=workers)
            if args.max_trials == 0:
                c = counts(h)
                print(
                    f"{spec.name}: queued; {c['waiting']} trials waiting, {c['done']}/{c['total']}"
                    f" design points complete. Workers: sensitivity worker {args.study}",
                    file=sys.stderr,
                )
                return 0
            run_local(
                spec, h, workers=workers, storage=args.storage,
                on_progress=None if args.quiet else progress,
                max_trials=args.max_trials,
            )  # fmt: skip
    finally:
        progress.close()
    if not join_only:
        c = counts(h)
        if not args.quiet:
            print(
                f"{spec.name}: {c['done']}/{c['total']} design points complete, "
                f"{c['failed']} failed after retries; results in {spec.results_path}",
                file=sys.stderr,
            )
    return 0


def _cmd_run_mpi(args: argparse.Namespace, *, join_only: bool, argv: list[str]) -> int:
    from sensitivity.mpi_runner import run_mpi
    from sensitivity.progress import Progress

    names: list[str] = []

    def load():
        spec = _load(args.study, args)
        _check_writable_study(spec)
        names.append(spec.name)
        return spec

    progress = Progress(Path(args.study).stem, quiet=args.quiet)
    try:
        report = run_mpi(
            load, ranks_per_trial=args.ranks_per_trial or 1, storage=args.storage, argv=argv,
            prepare_study=not join_only, on_progress=progress, max_trials=args.max_trials,
        )  # fmt: skip
    finally:
        progress.close()
    if report.trials and not args.quiet:
        print(
            f"{names[0]}: group leader ran {report.trials} trials "
            f"({report.complete} complete, {report.diverged} diverged, {report.failed} failed)",
            file=sys.stderr,
        )
    return 0


def _cmd_queue(args: argparse.Namespace) -> int:
    """Create/resume the study and queue its design for workers, without training."""
    args.max_trials, args.workers, args.ranks_per_trial, args.quiet = 0, None, None, False
    return _cmd_run(args, join_only=False)


def _source(args: argparse.Namespace):
    """A study file (-> spec, refused like ``run`` when the storage holds a different design)
    or a results directory (-> the stored study)."""
    if args.study.endswith(".toml"):
        from sensitivity.storage import open_study

        spec = _load(args.study, args)
        open_study(spec, url=args.storage, create=False)  # missing or changed: StorageError
        return spec
    p = Path(args.study)
    if not p.is_dir():
        raise StorageError(
            f"{p}: neither a study file (.toml) nor a results folder. Fix: pass "
            "studies/<name>.toml or results/<name>."
        )
    return p


def _short(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut at a word boundary with an ellipsis when longer than ``limit``."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " ..."


def _cmd_status(args: argparse.Namespace) -> int:
    from sensitivity.session import coverage
    from sensitivity.storage import counts, open_study

    spec = _load(args.study, args)
    h = open_study(spec, url=args.storage, create=False)
    c = counts(h)
    print(f"study {spec.name} ({spec.design.kind} design, metric {spec.metric.name})")
    print(
        f"  {c['done']}/{c['total']} done, {c['running']} running, {c['waiting']} waiting, "
        f"{c['failed_trials']} failed trials ({c['failed']} points failed after retries), "
        f"{c['remaining']} remaining"
    )
    print("  coverage (done/total design points):")
    for key, values in coverage(h).items():
        cells = ", ".join(f"{v}: {d}/{n}" for v, (d, n) in values.items())
        print(f"    {key}: {cells}")
    reasons: dict[str, int] = {}
    for t in h.trials():
        rec = t.user_attrs.get("record") or {}
        status = "failed" if t.state.name == "FAIL" else rec.get("status")
        if status in ("failed", "diverged"):
            reason = t.user_attrs.get("reason") or rec.get("reason")
            r = f"{status}: {_short(reason)}"
            reasons[r] = reasons.get(r, 0) + 1
    if reasons:
        print("  not complete:")
        for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {n} x {r}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from sensitivity.results import export

    formats = tuple(f.strip() for f in args.format.split(","))
    bad = [f for f in formats if f not in ("parquet", "csv")]
    if bad or not formats:
        raise SpecError(
            f"`--format {args.format}`: unknown format {bad[0] if bad else ''!r}. Fix: a comma "
            "list of parquet, csv (e.g. --format csv)."
        )
    if args.out:
        _dir_option(args.out, "--out")
    res = _results(args)
    name = res.spec.name if res.spec else res.study.study_name
    out = Path(args.out) if args.out else (
        res.spec.results_path / "export" if res.spec else Path(args.study) / "export")  # fmt: skip
    paths = export(res, out, formats=formats)
    print(f"{name}: wrote {', '.join(str(p) for p in paths)}")
    return _export_indices(res, out, args.base_samples)


def _export_indices(res, out: Path, base_samples: int | None = None) -> int:
    """Sobol' / Morris / given-data indices (:mod:`sensitivity.gsa`) beside the trials. A
    sobol_indices / morris study with missing design rows is refused (exit 1, rows named)."""
    from sensitivity import gsa

    if not gsa.applies(res.spec):
        return 0
    try:
        result = gsa.analyze(res.trials, res.spec, base_samples=base_samples)
    except gsa.AnalysisError as err:
        if res.spec.design.kind in ("sobol_indices", "morris"):
            raise
        print(f"{res.spec.name}: no given-data indices: {err}", file=sys.stderr)
        return 0
    paths = gsa.export_indices(result, out)
    print(f"{res.spec.name}: wrote {', '.join(str(p) for p in paths)}")
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only; the library modules leave the backend alone
    from sensitivity.figures import build_figures

    if args.out:
        _dir_option(args.out, "--out")
    res = _results(args)
    name = res.spec.name if res.spec else res.study.study_name
    finished = int(res.trials["state"].isin(["COMPLETE", "FAIL"]).sum()) if len(res.trials) else 0
    if finished == 0:
        raise StorageError(
            f"study {name!r} has no finished trials yet ({len(res.trials)} trials stored), so "
            f"there is nothing to draw. Fix: run it first (sensitivity run {args.study})."
        )
    out = Path(args.out) if args.out else Path("figures") / name
    _dir_option(out, "--out")
    command = "python -m sensitivity " + " ".join(args.argv)
    made = build_figures(
        res, out, command=command, evaluator=args.evaluator, base_samples=args.base_samples
    )
    print(f"{name}: wrote {len(made)} figures (PNG + PDF) and INDEX.md to {out}")
    return 0


def _cmd_reproduce(args: argparse.Namespace) -> int:
    from sensitivity.reproduce import describe_all, reproduce

    if args.list:
        print(describe_all(args.scale))
        return 0
    root = Path(args.root) if args.root else None
    reproduce(args.names, args.scale, root=root,
              log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    return 0


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = _count(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


_BASE_HELP = (
    "sobol_indices designs: analyse the prefix design of this many base samples (a power of 2 "
    "<= N; default N), e.g. while the rest of the study is still running"
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sensitivity`` command."""
    p = argparse.ArgumentParser(
        prog="sensitivity",
        description="Hyperparameter-sensitivity studies of layer-parallel training.",
    )
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, study_help: str) -> None:
        sp.add_argument("study", help=study_help)
        sp.add_argument(
            "--storage", help="Optuna storage URL (default: results/<study>/journal.log)"
        )
        sp.add_argument("--results-dir", help="base directory of results (default: results)")
        sp.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the traceback of an error")  # fmt: skip

    for name, join in (("run", False), ("worker", True)):
        sp = sub.add_parser(
            name,
            help="create/resume the study and run it to its total" if not join
            else "join a study (made by `run` or `queue`) as one more worker",
        )  # fmt: skip
        common(sp, "study file (studies/<name>.toml)")
        if not join:
            sp.add_argument(
                "--workers", type=_positive, help="local worker processes (default: [run] workers)"
            )
        sp.add_argument("--ranks-per-trial", type=_positive,
                        help="MPI: ranks per trial group (under mpiexec)")  # fmt: skip
        sp.add_argument(
            "--max-trials", type=_count,
            help="stop this process after N trials (run: 0 = only queue, like `queue`)",
        )  # fmt: skip
        sp.add_argument("--quiet", action="store_true", help="no progress output")
        sp.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # set by `run`
        sp.set_defaults(func=lambda a, j=join: _cmd_run(a, join_only=j))
    sp = sub.add_parser(
        "queue", help="create/resume the study and queue its design for workers (no training)"
    )
    common(sp, "study file (studies/<name>.toml)")
    sp.set_defaults(func=_cmd_queue)
    sp = sub.add_parser("status", help="design coverage and progress")
    common(sp, "study file")
    sp.set_defaults(func=_cmd_status)
    sp = sub.add_parser(
        "export", help="write trials and curves (parquet, CSV) and the summary tables (CSV)"
    )
    common(sp, "study file or results/<study> directory")
    sp.add_argument("--out", help="output directory (default: results/<study>/export)")
    sp.add_argument("--format", default="parquet,csv", help="comma list of parquet, csv")
    sp.add_argument("--base-samples", type=_positive, help=_BASE_HELP)
    sp.set_defaults(func=_cmd_export)
    sp = sub.add_parser("figures", help="build the figures from stored results (no training)")
    common(sp, "study file or results/<study> directory")
    sp.add_argument("--out", help="output directory (default: figures/<study>)")
    sp.add_argument("--evaluator", default="fanova", choices=("fanova", "mdi", "ped_anova"),
                    help="Optuna importance evaluator")  # fmt: skip
    sp.add_argument("--base-samples", type=_positive, help=_BASE_HELP)
    sp.set_defaults(func=_cmd_figures)
    sp = sub.add_parser(
        "reproduce",
        help="regenerate the papers' experiments: tables in results/summaries/<name>/, figures "
        "in figures/<name>/ (resumable)",
    )
    sp.add_argument("names", nargs="*", help="experiment names, or all")
    sp.add_argument("--list", action="store_true", help="list the experiments and exit")
    sp.add_argument("--scale", default="committed", choices=("smoke", "committed", "paper"),
                    help="smoke: seconds (CI); committed: the committed results; paper: the "
                    "documented full size")  # fmt: skip
    sp.add_argument("--root", help="output root (default: this checkout)")
    sp.set_defaults(func=_cmd_reproduce)
    return p


def _os_line(err: OSError) -> str:
    where = f": {err.filename}" if getattr(err, "filename", None) else ""
    return (
        f"{err.strerror or err}{where}. Fix: check that the path exists and is writable, or pass "
        "another --results-dir / --out / --storage."
    )


def _results(args: argparse.Namespace):
    """Load the stored results; say how many duplicate runs (older storages) are ignored."""
    import warnings

    from sensitivity.results import DuplicateTrialsWarning, load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DuplicateTrialsWarning)
        res = load(_source(args), storage=args.storage)
    if res.duplicates:
        print(
            f"sensitivity: {res.duplicates} duplicate complete trials of already complete design "
            f"points ignored (the first complete trial of each point is counted)",
            file=sys.stderr,
        )
    return res


def _one_line_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ANN001
    return f"sensitivity: warning: {message}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 2 bad input, 1 other error, 128+n on signal n).

    The top-level guard: no traceback reaches the user unless ``--debug`` is given.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    import warnings

    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    args.argv = argv
    debug = getattr(args, "debug", False)
    try:
        return int(args.func(args))
    except Interrupted as err:
        print(f"sensitivity: {err}", file=sys.stderr)
        return 128 + err.signum
    except KeyboardInterrupt:
        print("sensitivity: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `sensitivity status | head`: the reader left, not an error
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as err:  # noqa: BLE001 - the top-level guard
        if debug:
            raise
        return _report(err)


def _report(err: Exception) -> int:
    from solver.errors import RemoteRankError, SolverError

    if isinstance(err, RemoteRankError):
        return 2  # another MPI rank failed and printed its reason
    if isinstance(err, SpecError | StorageError | SolverError | ValueError):
        print(f"sensitivity: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    if isinstance(err, OSError):
        print(f"sensitivity: error: {_os_line(err)}", file=sys.stderr)
        return 2
    if isinstance(err, StudyError):
        print(f"sensitivity: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 1
    text = " ".join(str(err).split())
    print(
        f"sensitivity: unexpected error: {type(err).__name__}: {text} (rerun with --debug for "
        "the traceback)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
