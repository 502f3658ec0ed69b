"""Study set-up and local execution: validate, create/resume, queue the design, run workers.

``prepare`` is the only step that writes the design: under the host lock it validates every
design point against the solver (before anything is written), creates or re-opens the study,
queues the points that have no waiting, running or complete trial, and records the resolved
study with versions and the command line in ``results/<study>/resolved.json``.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sensitivity import bridge
from sensitivity.design import make_design
from sensitivity.errors import Interrupted, StudyError
from sensitivity.hostid import host_name
from sensitivity.nested import thaw
from sensitivity.runner import WorkerReport, work
from sensitivity.spec import StudySpec
from sensitivity.storage import (
    CountsTicker,
    StudyHandle,
    design_fingerprint,
    fail_stale,
    harness_lock,
    open_study,
    sync_design,
)

__all__ = ["prepare", "run_local", "coverage", "versions", "validation_points"]


def versions() -> dict[str, str]:
    """Versions of Python, the key libraries and the project's git commit (if any)."""
    import numpy
    import optuna
    import pandas

    out = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "optuna": optuna.__version__,
        "pandas": pandas.__version__,
        "platform": platform.platform(),
    }
    try:
        root = Path(__file__).resolve().parent.parent
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
            timeout=5, check=False,
        ).stdout.strip()  # fmt: skip
        if commit:
            out["git_commit"] = commit
    except (OSError, subprocess.SubprocessError):
        pass
    return out


def _write_resolved(spec: StudySpec, h: StudyHandle, argv: list[str], workers: int) -> None:
    path = spec.results_path / "resolved.json"
    meta: dict[str, Any] = {}
    if path.exists():
        try:
            meta = json.loads(path.read_text())
        except json.JSONDecodeError:
            meta = {}
    runs = list(meta.get("runs", []))
    runs.append(
        {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "argv": argv,
            "cwd": os.getcwd(),
            "host": host_name(),
            "workers": workers,
            "versions": versions(),
        }
    )
    meta = {
        "name": spec.name,
        "study_file": str(spec.path.resolve()) if spec.path else None,
        "fingerprint": design_fingerprint(spec),
        "design_kind": spec.design.kind,
        "design_total": h.total,
        "metric": spec.metric.name,
        "target": spec.metric.target,
        "storage": spec.run.storage or str(spec.results_path / "journal.log"),
        "spec": thaw(spec.raw),
        "runs": runs,
    }
    path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    if h.design is not None:
        names = [p.name for p in spec.space]
        with open(spec.results_path / "design.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["design_index", "strategy", "seed"] + names)
            for pt in h.design:
                w.writerow([pt.index, pt.strategy, pt.seed] + [pt.params.get(n, "") for n in names])


def validation_points(spec: StudySpec) -> list:
    """Points whose configurations are checked before anything is written: the whole fixed
    design, or for tpe one point per (strategy, seed) slot at each range's end points and
    every choice value."""
    if spec.design.kind != "tpe":
        return make_design(spec)
    from sensitivity.design import DesignPoint, adaptive_slot

    points = []
    for i in range(len(spec.strategies)):
        strategy, seed = adaptive_slot(spec, i)
        params = spec.params_for(strategy)
        n = max([len(p.values) if p.kind != "range" else 2 for p in params], default=1)
        for k in range(n):
            values = {
                p.name: (p.values[k % len(p.values)] if p.kind != "range"
                         else (p.low, p.high)[k % 2])
                for p in params
            }  # fmt: skip
            points.append(DesignPoint(i, strategy, seed, values))
    return points


def prepare(
    spec: StudySpec, *, storage: str | None = None, argv: list[str] | None = None, workers: int = 1
) -> StudyHandle:
    """Validate, create or resume the study, queue missing design points, save resolved study.

    Raises:
        SpecError: a design point's configuration is rejected by the solver (nothing written).
        StorageError: the storage holds a different design under this name.
    """
    bridge.check_spec(spec, validation_points(spec))
    with harness_lock(spec):
        h = open_study(spec, url=storage)
        fail_stale(h)
        sync_design(h)
        _write_resolved(spec, h, argv or sys.argv, workers)
    return h


def coverage(h: StudyHandle) -> dict[str, dict[str, tuple[int, int]]]:
    """Design coverage: for ``strategy``, ``seed`` and each parameter, value -> (done, total)
    points (ranges of sampled designs are left out: every point has its own value)."""
    trials = h.trials()
    done_idx = {
        int(t.user_attrs["design_index"])
        for t in trials
        if t.state.name == "COMPLETE" and t.user_attrs.get("design_index") is not None
    }
    out: dict[str, dict[str, tuple[int, int]]] = {}
    if h.design is None:
        for t in trials:
            if t.user_attrs.get("design_index") is None:
                continue
            d, n = out.setdefault("strategy", {}).get(t.user_attrs["strategy"], (0, 0))
            out["strategy"][t.user_attrs["strategy"]] = (d + (t.state.name == "COMPLETE"), n + 1)
        return out
    sampled: set[str] = set()
    if h.spec.design.kind != "grid":  # sampled ranges: every point has its own value
        sampled = {p.name for p in h.spec.space if p.kind == "range"}
    for pt in h.design:
        params = {k: v for k, v in pt.params.items() if k not in sampled}
        fields = {"strategy": pt.strategy, "seed": pt.seed} | params
        for k, v in fields.items():
            label = json.dumps(thaw(v)) if isinstance(v, list | tuple | dict) else f"{v:.4g}" \
                if isinstance(v, float) else str(v)  # fmt: skip
            d, n = out.setdefault(k, {}).get(label, (0, 0))
            out[k][label] = (d + (pt.index in done_idx), n + 1)
    return out


def run_local(
    spec: StudySpec,
    h: StudyHandle,
    *,
    workers: int,
    storage: str | None = None,
    extra_args: list[str] | None = None,
    on_progress: Callable[[dict[str, int]], None] | None = None,
    max_trials: int | None = None,
) -> WorkerReport:
    """Run the design with ``workers`` local processes (1: in this process).

    Raises:
        Interrupted: SIGINT/SIGTERM (children are sent SIGTERM and waited for).
        StudyError: a worker process failed.
    """
    ticker = CountsTicker(h, on_progress)  # counts at most once a second
    if workers <= 1:
        ticker(force=True)
        report = work(h, on_trial=ticker, max_trials=max_trials)
        ticker(force=True)
        return report
    cmd = [sys.executable, "-m", "sensitivity", "worker", str(spec.path), "--quiet"]
    cmd += ["--parent-pid", str(os.getpid())]  # workers stop if this process is killed
    cmd += ["--results-dir", spec.run.results_dir]
    if storage:
        cmd += ["--storage", storage]
    cmd += extra_args or []
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")  # one BLAS thread per worker process: no oversubscription
    procs = [subprocess.Popen(cmd, env=env) for _ in range(workers)]
    interrupted: Interrupted | None = None

    def forward(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while any(p.poll() is None for p in procs):
            ticker()
            time.sleep(0.5)
    except Interrupted as err:
        interrupted = err
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait()
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    ticker(force=True)
    if interrupted is not None:
        raise interrupted
    bad = [p.returncode for p in procs if p.returncode != 0]
    if bad:
        raise StudyError(f"{len(bad)} of {workers} worker processes failed (exit codes {bad})")
    return WorkerReport()
