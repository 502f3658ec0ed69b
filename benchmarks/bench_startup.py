"""Start-up cost: CPU time of ``import solver``, ``import sensitivity`` and
``python -m sensitivity --help`` in fresh interpreters.

Each repetition starts one interpreter per command, in rotated order (interleaved), and
measures the child's CPU time (user + system, ``resource.getrusage(RUSAGE_CHILDREN)``); the
interpreter's own start-up is measured alike (``python -c pass``) and subtracted. The figure
of the issue is ``import sensitivity`` / ``import solver`` (paired per repetition). One BLAS
thread in the children (environment).

Writes ``results/summaries/bench/startup.csv``.

Usage::

    python benchmarks/bench_startup.py [--reps 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _store import ROOT, context, limit_threads, ratio_summary, write_rows  # noqa: E402

COMMANDS = {
    "python": ["-c", "pass"],
    "import solver": ["-c", "import solver"],
    "import sensitivity": ["-c", "import sensitivity"],
    "sensitivity --help": ["-m", "sensitivity", "--help"],
}


def _cpu(args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, *args], env=env, cwd=ROOT, capture_output=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=9)
    args = ap.parse_args(argv)
    ctx = context("none", limit_threads(1) + "; children: OPENBLAS_NUM_THREADS=1")
    names = list(COMMANDS)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.reps + 1):  # the first round warms the file cache and is dropped
        for name in names[r % len(names) :] + names[: r % len(names)]:
            t = _cpu(COMMANDS[name])
            if r:
                times[name].append(t)
    base = np.asarray(times["python"])
    net = {n: np.asarray(times[n]) - base for n in names if n != "python"}
    rows = []
    for n, t in net.items():
        rows.append({"figure": f"{n} CPU", "command": " ".join(COMMANDS[n]),
                     "cpu_ms": 1e3 * float(np.median(t)),
                     "interpreter_ms": 1e3 * float(np.median(base)),
                     "reps": args.reps, **ctx})  # fmt: skip
    rs = ratio_summary(net["import sensitivity"], net["import solver"])
    rows.append({"figure": "import sensitivity / import solver", "command": "",
                 "cpu_ms": float("nan"), "interpreter_ms": 1e3 * float(np.median(base)),
                 "reps": args.reps, **rs, **ctx})  # fmt: skip
    for row in rows:
        print(f"{row['figure']:40} {row['cpu_ms']:8.1f} ms  {row.get('ratio', '')}")
    write_rows("startup", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
