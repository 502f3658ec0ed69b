"""Storage benchmark: the harness on the journal file and on PostgreSQL.

1. Throughput: ``sensitivity run --workers W --storage S`` for W = 1, 2, 4 on a study of
   ``--trials`` trials of 1 Adam iteration (a 4-layer width-5 network: ~25 ms of trial time, so
   the storage dominates). Trials per second in the steady state (while every worker runs) and
   over the whole command; overhead per trial = W / (steady trials/s) - mean trial time, i.e. the
   time a worker spends per trial outside the trial itself (claim, heartbeat, record, curve,
   tell, stale check).
2. Stored trials: the same study with 100, 1,000, 10,000 complete trials already stored (each
   with a record and a 2-row curve); the in-process worker loop runs ``--probe`` more trials,
   ``solver.train`` timed; overhead per trial = (loop time - training time) / trials.

PostgreSQL is a throw-away local server (``tests/pg_server.py``) with ``fsync=off``; the journal
fsyncs every append. Writes ``results/summaries/bench/storage_throughput.csv`` and
``storage_stored.csv`` with the code version; run ``python benchmarks/bench_storage.py``
(about 10 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))
OUT = REPO / "results" / "summaries" / "bench"

STUDY = """
[study]
name = "{name}"
[problem]
dataset = "peaks"
[problem.data]
n_train_per_class = 20
n_val_per_class = 10
grid_size = 64
[problem.network]
width = 5
n_layers = 4
[training.optimizer]
name = "adam"
[training.stop]
max_iterations = 1
grad_tol = 0.0
[strategies.random]
[space.learning_rate]
target = "optimizer.learning_rate"
low = 1e-3
high = 1e-1
log = true
[design]
kind = "random"
points = {trials}
[run]
results_dir = "{results}"
heartbeat_interval = 10.0
grace_period = 60.0
"""


def _study(tmp: Path, name: str, trials: int) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(STUDY.format(name=name, trials=trials, results=(tmp / "results").as_posix()))
    return path


def _storage(kind: str, tmp: Path, server, name: str) -> str:
    if kind == "journal":
        return str(tmp / name / "journal.log")
    return server.create_database(name)


def throughput(kind: str, tmp: Path, server, trials: int, workers: int) -> dict:
    from sensitivity.results import load
    from sensitivity.spec import load_spec

    name = f"tp_{kind}_{workers}"
    study = _study(tmp, name, trials)
    url = _storage(kind, tmp, server, name)
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    t0 = time.perf_counter()
    cmd = [sys.executable, "-m", "sensitivity", "run", str(study), "--workers", str(workers),
           "--storage", url, "--quiet"]  # fmt: skip
    subprocess.run(cmd, check=True, env=env, cwd=tmp)
    wall = time.perf_counter() - t0
    t = load(load_spec(study), storage=url).trials
    lo = t.groupby("worker")["datetime_start"].min().max()
    hi = t.groupby("worker")["datetime_complete"].max().min()
    inside = t[(t["datetime_complete"] > lo) & (t["datetime_complete"] <= hi)]
    span = (hi - lo).total_seconds()
    steady = len(inside) / span if span > 0 and len(inside) else float("nan")
    trial_time = float(t["trial_time"].mean())
    return {
        "storage": kind, "workers": workers, "trials": trials,
        "trials_per_s_steady": round(steady, 2), "trials_per_s_wall": round(trials / wall, 2),
        "mean_trial_time_ms": round(1e3 * trial_time, 1),
        "overhead_per_trial_ms": round(1e3 * (workers / steady - trial_time), 1),
    }  # fmt: skip


def _prefill(h, n: int) -> None:
    """``n`` COMPLETE trials outside the design (design_index >= 10**6), like finished ones."""
    import optuna
    from optuna.distributions import FloatDistribution

    record = {"status": "complete", "val_acc": 0.5, "wall_time": 0.01, "trial_time": 0.02}
    curve = {"iteration": [0, 1], "objective": [1.0, 0.9], "val_acc": [0.4, 0.5]}
    batch = [
        optuna.trial.create_trial(
            state=optuna.trial.TrialState.COMPLETE, value=0.5,
            params={"learning_rate": 0.01},
            distributions={"learning_rate": FloatDistribution(1e-3, 1e-1, log=True)},
            user_attrs={"design_index": 10**6 + i, "strategy": "random", "seed": 0,
                        "attempt": 0, "record": record, "curve": curve},
        )
        for i in range(n)
    ]  # fmt: skip
    h.study.add_trials(batch)


def stored(kind: str, tmp: Path, server, n_stored: int, probe: int) -> dict:
    from sensitivity import bridge
    from sensitivity.runner import work
    from sensitivity.session import prepare
    from sensitivity.spec import load_spec

    name = f"st_{kind}_{n_stored}"
    study = _study(tmp, name, probe)
    url = _storage(kind, tmp, server, name)
    spec = load_spec(study)
    t0 = time.perf_counter()
    from sensitivity.storage import open_study

    _prefill(open_study(spec, url=url), n_stored)
    fill = time.perf_counter() - t0
    h = prepare(spec, storage=url, argv=["bench"])
    real = bridge.train_function()
    inside: list[float] = []

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - t)

    t0 = time.perf_counter()
    report = work(h, train=timed)
    total = time.perf_counter() - t0
    return {
        "storage": kind, "stored_trials": n_stored, "probe_trials": report.trials,
        "overhead_per_trial_ms": round(1e3 * (total - sum(inside)) / report.trials, 1),
        "train_ms": round(1e3 * sum(inside) / report.trials, 1),
        "prefill_s": round(fill, 1),
    }  # fmt: skip


def _write(path: Path, rows: list[dict], meta: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]) + list(meta))
        w.writeheader()
        for r in rows:
            w.writerow(r | meta)
    print(f"wrote {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=120, help="trials of each throughput run")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--stored", default="100,1000,10000")
    ap.add_argument("--probe", type=int, default=20, help="trials run on top of the stored ones")
    ap.add_argument("--storages", default="journal,postgres")
    args = ap.parse_args()
    from pg_server import PostgresServer, find_bindir

    from sensitivity.session import versions

    kinds = args.storages.split(",")
    server = None
    if "postgres" in kinds:
        bindir = find_bindir()
        if bindir is None:
            raise SystemExit("bench_storage: no PostgreSQL server binaries (initdb, pg_ctl)")
        server = PostgresServer(bindir).start()
    tmp = Path(tempfile.mkdtemp(prefix="bench_storage_"))
    meta = {
        "code_version": versions().get("git_commit", "unknown"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_avg_start": round(os.getloadavg()[0], 2),
        "cores": os.cpu_count(),
        "postgres": server.version if server else "",
    }
    try:
        rows = []
        for kind in kinds:
            for w in [int(x) for x in args.workers.split(",")]:
                rows.append(throughput(kind, tmp, server, args.trials, w))
                print(rows[-1], flush=True)
                _write(OUT / "storage_throughput.csv", rows, meta)  # after each row
        rows = []
        for n in [int(x) for x in args.stored.split(",")]:
            for kind in kinds:
                rows.append(stored(kind, tmp, server, n, args.probe))
                print(rows[-1], flush=True)
                _write(OUT / "storage_stored.csv", rows, meta)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
