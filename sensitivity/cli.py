"""Command line: ``sensitivity run | worker | status | export | figures`` (also ``python -m``).

Exit codes: 0 success; 1 study error (one-line reason on stderr, no traceback); 2 usage error
(argparse); 128 + signal number when interrupted (the running trial was re-queued).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sensitivity.errors import Interrupted, StudyError

__all__ = ["main", "build_parser"]


def _load(study: str, args: argparse.Namespace):
    from sensitivity.spec import load_spec

    spec = load_spec(study)
    changes = {}
    if getattr(args, "results_dir", None):
        changes["results_dir"] = args.results_dir
    if getattr(args, "storage", None):
        changes["storage"] = args.storage
    return spec.with_run(**changes) if changes else spec


def _under_mpi() -> bool:
    return any(int(os.environ.get(k, "1")) > 1 for k in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE"))


def _cmd_run(args: argparse.Namespace, *, join_only: bool) -> int:
    from sensitivity.progress import Progress

    spec = _load(args.study, args)
    argv = ["sensitivity", *args.argv]
    if args.ranks_per_trial is not None or _under_mpi():
        from sensitivity.mpi_runner import run_mpi

        report = run_mpi(
            spec, ranks_per_trial=args.ranks_per_trial or 1, storage=args.storage, argv=argv,
            prepare_study=not join_only,
        )  # fmt: skip
        if report.trials and not args.quiet:
            print(
                f"{spec.name}: group leader ran {report.trials} trials "
                f"({report.complete} complete, {report.diverged} diverged, {report.failed} failed)",
                file=sys.stderr,
            )
        return 0
    from sensitivity.runner import work
    from sensitivity.session import prepare, run_local
    from sensitivity.storage import counts, open_study

    progress = Progress(spec.name, quiet=args.quiet)
    try:
        if join_only:
            h = open_study(spec, url=args.storage, create=False, salt=os.getpid())
            work(h, max_trials=args.max_trials, on_trial=lambda *_: progress(counts(h)))
        else:
            workers = args.workers or spec.run.workers
            h = prepare(spec, storage=args.storage, argv=argv, workers=workers)
            run_local(
                spec, h, workers=workers, storage=args.storage, on_progress=progress,
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


def _source(args: argparse.Namespace):
    """A study file (-> spec) or a results directory."""
    if args.study.endswith(".toml"):
        return _load(args.study, args)
    return Path(args.study)


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
            r = f"{status}: {str(reason)[:100]}"
            reasons[r] = reasons.get(r, 0) + 1
    if reasons:
        print("  not complete:")
        for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {n} x {r}")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from sensitivity.results import export, load

    res = load(_source(args), storage=args.storage)
    name = res.spec.name if res.spec else res.study.study_name
    out = Path(args.out) if args.out else (
        res.spec.results_path / "export" if res.spec else Path(args.study) / "export")  # fmt: skip
    paths = export(res, out, formats=tuple(args.format.split(",")))
    print(f"{name}: wrote {', '.join(str(p) for p in paths)}")
    return _export_indices(res, out)


def _export_indices(res, out: Path) -> int:
    """Sobol' / Morris / given-data indices (:mod:`sensitivity.gsa`) beside the trials. A
    sobol_indices / morris study with missing design rows is refused (exit 1, rows named)."""
    from sensitivity import gsa

    if not gsa.applies(res.spec):
        return 0
    try:
        result = gsa.analyze(res.trials, res.spec)
    except gsa.AnalysisError as err:
        if res.spec.design.kind in ("sobol_indices", "morris"):
            raise
        print(f"{res.spec.name}: no given-data indices: {err}", file=sys.stderr)
        return 0
    paths = gsa.export_indices(result, out)
    print(f"{res.spec.name}: wrote {', '.join(str(p) for p in paths)}")
    return 0


def _cmd_figures(args: argparse.Namespace) -> int:
    from sensitivity.figures import build_figures
    from sensitivity.results import load

    res = load(_source(args), storage=args.storage)
    name = res.spec.name if res.spec else res.study.study_name
    out = Path(args.out) if args.out else Path("figures") / name
    command = "python -m sensitivity " + " ".join(args.argv)
    made = build_figures(res, out, command=command, evaluator=args.evaluator)
    print(f"{name}: wrote {len(made)} figures (PNG + PDF) and INDEX.md to {out}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``sensitivity`` command."""
    p = argparse.ArgumentParser(
        prog="sensitivity",
        description="Hyperparameter-sensitivity studies of layer-parallel training.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp: argparse.ArgumentParser, study_help: str) -> None:
        sp.add_argument("study", help=study_help)
        sp.add_argument(
            "--storage", help="Optuna storage URL (default: results/<study>/journal.log)"
        )
        sp.add_argument("--results-dir", help="base directory of results (default: results)")

    for name, join in (("run", False), ("worker", True)):
        sp = sub.add_parser(
            name,
            help="create/resume the study and run it to its total" if not join
            else "join a running study as one more worker",
        )  # fmt: skip
        common(sp, "study file (studies/<name>.toml)")
        if not join:
            sp.add_argument(
                "--workers", type=int, help="local worker processes (default: [run] workers)"
            )
        sp.add_argument("--ranks-per-trial", type=int, help="MPI: ranks per trial group (mpiexec)")
        sp.add_argument("--max-trials", type=int, help="stop this process after N trials")
        sp.add_argument("--quiet", action="store_true", help="no progress output")
        sp.set_defaults(func=lambda a, j=join: _cmd_run(a, join_only=j))
    sp = sub.add_parser("status", help="design coverage and progress")
    common(sp, "study file")
    sp.set_defaults(func=_cmd_status)
    sp = sub.add_parser("export", help="write trials and curves as parquet and CSV")
    common(sp, "study file or results/<study> directory")
    sp.add_argument("--out", help="output directory (default: results/<study>/export)")
    sp.add_argument("--format", default="parquet,csv", help="comma list of parquet, csv")
    sp.set_defaults(func=_cmd_export)
    sp = sub.add_parser("figures", help="build the figures from stored results (no training)")
    common(sp, "study file or results/<study> directory")
    sp.add_argument("--out", help="output directory (default: figures/<study>)")
    sp.add_argument("--evaluator", default="fanova", choices=("fanova", "mdi", "ped_anova"),
                    help="Optuna importance evaluator")  # fmt: skip
    sp.set_defaults(func=_cmd_figures)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (0 ok, 1 study error, 128+n on signal n)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    if getattr(args, "workers", None) is not None and args.workers < 1:
        print("sensitivity: error: `--workers` must be >= 1", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except Interrupted as err:
        print(f"sensitivity: {err}", file=sys.stderr)
        return 128 + err.signum
    except StudyError as err:
        print(f"sensitivity: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("sensitivity: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
