"""Run every benchmark in turn and print its figures (``make bench``).

Each benchmark is its own script with its own options (``--help``); this runner only calls
them one after another with their defaults, in a fresh interpreter each, so that one
benchmark's memory and threads do not disturb the next. ``--quick`` passes the quick/small
options where a script has them (a smoke run, not figures to quote; its CSVs go to a temporary
folder, ``BENCH_OUT``, instead of ``results/summaries/bench/``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = {
    "iteration": ["bench_iteration.py"],
    "mgrit": ["bench_mgrit.py"],
    "strategies": ["bench_strategies.py"],
    "harness": ["bench_harness.py"],
    "train": ["bench_train.py"],
    "startup": ["bench_startup.py"],
}
QUICK = {
    "iteration": ["--reps", "3"],
    "mgrit": ["--quick"],
    "strategies": ["--seeds", "2"],
    "harness": ["--trials", "4", "--tp-trials", "4"],
    "train": ["--rounds", "1", "--iterations", "20", "--eval-iterations", "10"],
    "startup": ["--reps", "2"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run: {', '.join(SCRIPTS)}")
    parser.add_argument("--quick", action="store_true", help="small smoke runs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(SCRIPTS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(SCRIPTS)}")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    if args.quick:  # smoke figures never replace the stored ones
        env["BENCH_OUT"] = tempfile.mkdtemp(prefix="bench_quick_")
    failed = []
    for name in args.names or list(SCRIPTS):
        cmd = [sys.executable, str(HERE / SCRIPTS[name][0]), *(QUICK[name] if args.quick else [])]
        print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
        t0 = time.perf_counter()
        if subprocess.run(cmd, env=env).returncode != 0:
            failed.append(name)
        print(f"=== {name}: {time.perf_counter() - t0:.0f} s", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
