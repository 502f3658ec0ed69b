"""Harness benchmark: overhead per trial and throughput of N local workers vs one.

1. Overhead: trials of a tiny peaks network with ``--iterations`` history rows each run through
   the real worker loop (claim, heartbeat thread, record + curve attributes, tell, journal file
   storage). ``solver.train`` is wrapped by a timer; overhead = loop time - training time, per
   trial, quoted as a fraction of a 1-second trial (goal: < 5 %).
2. Throughput: the same study of ``--trials`` trials run with ``--workers`` processes
   (``sensitivity run --workers N``), trials per second relative to one worker.

Prints its figures; run ``python benchmarks/bench_harness.py`` (about a minute).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _store import context, limit_threads, write_rows  # noqa: E402

STUDY = """
[study]
name = "{name}"
[problem]
dataset = "peaks"
[problem.data]
n_train_per_class = {n_train}
n_val_per_class = 10
grid_size = 64
[problem.network]
width = 5
n_layers = {layers}
[training.optimizer]
name = "adam"
[training.stop]
max_iterations = {iterations}
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
grace_period = 30.0
"""


def _study(tmp: Path, name: str, **kw: object) -> Path:
    path = tmp / f"{name}.toml"
    path.write_text(STUDY.format(name=name, results=(tmp / "results").as_posix(), **kw))
    return path


def overhead(tmp: Path, trials: int, iterations: int) -> dict[str, float]:
    from sensitivity import bridge
    from sensitivity.runner import work
    from sensitivity.session import prepare
    from sensitivity.spec import load_spec

    spec = load_spec(_study(tmp, "overhead", n_train=10, layers=2, iterations=iterations,
                            trials=trials))  # fmt: skip
    h = prepare(spec, argv=["bench"])
    real = bridge.train_function()
    inside = []

    def timed(*args: object, **kwargs: object):
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            inside.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    work(h, train=timed)
    total = time.perf_counter() - t0
    n = len(inside)
    per_trial = (total - sum(inside)) / n
    return {"trials": n, "rows": iterations + 1, "train_s": sum(inside) / n,
            "overhead_s": per_trial, "fraction_of_1s": per_trial / 1.0}  # fmt: skip


def throughput(
    tmp: Path, trials: int, workers: list[int], iterations: int
) -> dict[int, tuple[float, float]]:
    """Per worker count: (trials/s over the whole command including process start-up,
    trials/s while all workers run, i.e. between the last worker's first start and the first
    worker's last completion)."""
    from sensitivity.results import load

    rates = {}
    for n in workers:
        study = _study(tmp, f"tp{n}", n_train=40, layers=8, iterations=iterations, trials=trials)
        env = dict(os.environ, PYTHONPATH=str(REPO))
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sensitivity", "run", str(study), "--workers", str(n),
             "--quiet"], check=True, env=env, cwd=REPO,
        )  # fmt: skip
        wall = time.perf_counter() - t0
        t = load(tmp / "results" / f"tp{n}").trials
        # steady state: while every worker process is running trials (after all start-ups)
        lo = t.groupby("worker")["datetime_start"].min().max()
        hi = t.groupby("worker")["datetime_complete"].max().min()
        inside = t[(t["datetime_complete"] > lo) & (t["datetime_complete"] <= hi)]
        span = (hi - lo).total_seconds()
        steady = len(inside) / span if span > 0 and len(inside) else float("nan")
        rates[n] = (trials / wall, steady)
    return rates


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=30, help="trials of the overhead run")
    ap.add_argument("--iterations", type=int, default=300, help="history rows per trial")
    ap.add_argument("--tp-trials", type=int, default=32, help="trials of each throughput run")
    ap.add_argument("--tp-iterations", type=int, default=1500, help="iterations per trial")
    ap.add_argument("--workers", default="1,2,4", help="worker counts to compare")
    args = ap.parse_args()
    ctx = context("none", limit_threads(1) + "; workers: OPENBLAS_NUM_THREADS=1")
    tmp = Path(tempfile.mkdtemp(prefix="bench_harness_"))
    try:
        load = os.getloadavg()[0]
        print(f"machine: {os.cpu_count()} cores, load average {load:.2f} at start")
        o = overhead(tmp, args.trials, args.iterations)
        print(
            f"overhead per trial (claim + heartbeat + record + {o['rows']:.0f}-row curve + tell, "
            f"journal file): {o['overhead_s'] * 1e3:.1f} ms = {100 * o['fraction_of_1s']:.2f} % "
            f"of a 1-second trial (goal < 5 %); training itself {o['train_s'] * 1e3:.1f} ms/trial"
        )
        ws = [int(w) for w in args.workers.split(",")]
        rates = throughput(tmp, args.tp_trials, ws, args.tp_iterations)
        base = rates[ws[0]]
        for n, (r, steady) in rates.items():
            print(
                f"throughput with {n} worker(s): {steady:.2f} trials/s steady "
                f"({steady / base[1]:.2f}x of {ws[0]}), {r:.2f} trials/s incl. process start-up "
                f"({r / base[0]:.2f}x)"
            )
        print(f"load average at end {os.getloadavg()[0]:.2f}")
        rows = [
            {
                "figure": "overhead per 1-s trial",
                "trials": o["trials"],
                "overhead_ms": 1e3 * o["overhead_s"],
                "fraction_of_1s": o["fraction_of_1s"],
                "train_ms": 1e3 * o["train_s"],
                **ctx,
            }
        ]
        rows += [
            {
                "figure": f"throughput {n} workers",
                "trials": args.tp_trials,
                "steady_trials_per_s": steady,
                "steady_vs_first": steady / base[1],
                "trials_per_s_with_startup": r,
                **ctx,
            }
            for n, (r, steady) in rates.items()
        ]
        write_rows("harness", rows)  # fmt: skip
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
