"""CPU per iteration of the default ``python -m solver train`` against an earlier code version.

The default run (peaks, width 8, N = 30, SmoothReLU, L-BFGS, 300 iterations, ``grad_tol``
1e-4) is made by ``solver.cli.main(["train", ...])`` in a fresh interpreter per run, once with
this checkout and once with ``--baseline`` (a git revision, default ``2b00fdf``: the code
before the workspace / one-reverse-sweep / float32 work of issue 11), extracted with
``git archive`` into a temporary folder. Runs alternate (baseline, current, current,
baseline, ...), each measures its own process CPU time around the training call (imports and
data generation excluded) and divides by its number of history rows; the ratio of a round's
two figures is one paired observation. Both runs get one BLAS thread (threadpoolctl inside the
child). The histories are compared too (``same_history``: bitwise equal objective columns).

Second part (this checkout only): validation accuracy is computed only on ``eval_every`` rows
(and the last); the CSV gives the rows that carry ``val_acc`` for ``eval_every`` 1 and 10 and
the paired CPU-per-iteration ratio between them.

Writes ``results/summaries/bench/train.csv``.

Usage::

    python benchmarks/bench_train.py [--rounds 3] [--iterations 300] [--baseline REV]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _store import ROOT, context, limit_threads, ratio_summary, write_rows  # noqa: E402

CHILD = r"""
import csv, json, sys, time, tempfile
from threadpoolctl import threadpool_limits
threadpool_limits(1)
import solver.cli, solver.train, solver.data, solver.optim, solver.init  # imports not timed
solver.data.load_dataset("peaks")  # the generator's first call not timed
out = tempfile.mkdtemp()
argv = ["--out", out, "--iterations", sys.argv[1], "--print-every", "100000"]
c0 = time.process_time()
try:
    code = solver.cli.main(["train", *argv])
except SystemExit as exc:  # a parser without the "train" subcommand
    code = exc.code
if code not in (0, None):
    c0 = time.process_time()
    code = solver.cli.main(argv)
cpu = time.process_time() - c0
rows = list(csv.DictReader(open(out + "/history.csv")))
print(json.dumps({"cpu": cpu, "rows": len(rows), "objective": [r["objective"] for r in rows],
                  "val_acc": rows[-1]["val_acc"]}))
"""

EVAL_CHILD = r"""
import json, math, sys, time
from threadpoolctl import threadpool_limits
threadpool_limits(1)
from solver import NetworkConfig
from solver.data import load_dataset
from solver.init import InitConfig
from solver.train import StopConfig, train
data = load_dataset("peaks")
config = NetworkConfig(n_features=2, n_classes=5, width=8, n_layers=30, t_final=5.0,
                       activation="smoothrelu", gamma_tik=1e-7, gamma_ddt=1e-5, gamma_class=1e-7)
every = int(sys.argv[1])
c0 = time.process_time()
r = train(config, data, stop=StopConfig(max_iterations=int(sys.argv[2]), grad_tol=0.0,
          eval_every=every), init=InitConfig(distribution="reference", scale_open=1e-3,
          scale_hidden=1e-3, scale_class=1e-3, seed=0))
cpu = time.process_time() - c0
print(json.dumps({"cpu": cpu, "rows": len(r.history),
                  "val_rows": sum(not math.isnan(h["val_acc"]) for h in r.history)}))
"""


def _child(code: str, pythonpath: Path, *args: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(pythonpath), OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True,
                          text=True, cwd=pythonpath)  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"child run failed ({pythonpath}): {proc.stderr.strip()[-600:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def extract(rev: str, dest: Path) -> Path:
    """``git archive REV`` of this repository unpacked into ``dest``."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="paired rounds (2 runs each)")
    ap.add_argument("--iterations", default="300", help="--iterations of the training run")
    ap.add_argument("--baseline", default="2b00fdf", help="git revision to compare with")
    ap.add_argument("--eval-iterations", default="100", help="iterations of the eval_every runs")
    args = ap.parse_args(argv)
    threads = limit_threads(1)
    ctx = context("baseline " + args.baseline, threads + "; children: threadpoolctl 1")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = extract(args.baseline, Path(tmp))
        runs: dict[str, list[dict]] = {"baseline": [], "current": []}
        for r in range(args.rounds):
            order = ("baseline", "current") if r % 2 == 0 else ("current", "baseline")
            for who in order:
                res = _child(CHILD, base if who == "baseline" else ROOT, args.iterations)
                runs[who].append(res)
                print(f"round {r} {who:8}: {res['rows']} rows, "
                      f"{1e3 * res['cpu'] / res['rows']:.2f} ms CPU per iteration")  # fmt: skip
    per_it = {k: [x["cpu"] / x["rows"] for x in v] for k, v in runs.items()}
    pairs = zip(runs["current"], runs["baseline"], strict=True)
    same = all(a["objective"] == b["objective"] for a, b in pairs)
    rs = ratio_summary(per_it["current"], per_it["baseline"])
    rows.append({"figure": "default train CPU per iteration / baseline",
                 "numerator": "current", "denominator": f"baseline {args.baseline}",
                 "num_ms_per_iteration": 1e3 * float(np.median(per_it["current"])),
                 "den_ms_per_iteration": 1e3 * float(np.median(per_it["baseline"])),
                 "rows": runs["current"][0]["rows"], "same_history": same,
                 "val_acc": runs["current"][0]["val_acc"], **rs, **ctx})  # fmt: skip
    ev: dict[int, list[dict]] = {1: [], 10: []}
    for r in range(args.rounds):
        for every in (1, 10) if r % 2 == 0 else (10, 1):
            ev[every].append(_child(EVAL_CHILD, ROOT, str(every), args.eval_iterations))
    cpu = {k: [x["cpu"] / x["rows"] for x in v] for k, v in ev.items()}
    rs = ratio_summary(cpu[10], cpu[1])
    rows.append({"figure": "CPU per iteration eval_every 10 / eval_every 1",
                 "numerator": "eval_every 10", "denominator": "eval_every 1",
                 "num_ms_per_iteration": 1e3 * float(np.median(cpu[10])),
                 "den_ms_per_iteration": 1e3 * float(np.median(cpu[1])),
                 "rows": ev[1][0]["rows"], "val_rows_every_1": ev[1][0]["val_rows"],
                 "val_rows_every_10": ev[10][0]["val_rows"], **rs, **ctx})  # fmt: skip
    for row in rows:
        print(f"{row['figure']}: {row['ratio']:.3f} [{row['ratio_lo']:.3f}, {row['ratio_hi']:.3f}]")
    write_rows("train", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
