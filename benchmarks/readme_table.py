"""Generate the README's benchmark tables from the stored CSVs (no hand-copied numbers).

Reads ``results/summaries/bench/*.csv`` (written by the benchmarks, see ``_store.py``) and
rewrites the block of ``README.md`` between ``<!-- bench:begin -->`` and
``<!-- bench:end -->``: the speed goals of issue 11 (figure, measured median with its 95 %
interval, goal, met or not, source file and code version), then the strategy and harness
figures. A figure whose CSV is missing is shown as "not measured".

Usage::

    python benchmarks/readme_table.py            # rewrite README.md
    python benchmarks/readme_table.py --check    # exit 1 if README.md is not up to date
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "results" / "summaries" / "bench"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def _rows(name: str) -> list[dict[str, str]]:
    path = BENCH / f"{name}.csv"
    if not path.exists():
        return []
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _find(name: str, **where: str) -> dict[str, str] | None:
    for row in _rows(name):
        if all(row.get(k) == v for k, v in where.items()):
            return row
    return None


@dataclass(frozen=True)
class Goal:
    figure: str
    source: str  # CSV name
    where: dict
    goal: str
    met: Callable[[float], bool]
    value: str = "ratio"  # column holding the figure
    scale: float = 1.0  # shown value = scale * column
    unit: str = "x"
    why: str = ""  # the measured reason when the goal is not met


W_ELEM = (
    "at width 8 the three GEMMs per layer are a small part of a layer; about ten elementwise "
    "passes over `(B, w)` arrays (bias, activation, Euler update, derivative, adjoint update) "
    "dominate and numpy cannot fuse them. A compiled kernel (numba) could, but it would change "
    "float64 bits (loop vs BLAS summation) and was not built"
)
W_WIDE = (
    "the GEMMs alone take {gemm_share} of our time; the rest is about ten "
    "elementwise passes per layer over 4000 x 220 arrays (bias, tanh, Euler update, 1 - S^2, "
    "adjoint update, bias reduction) that numpy cannot fuse without changing float64 bits"
)
W_TRAIN = (
    "an iteration is a gradient, about 1.2 objective-only sweeps (line search) and the "
    "validation scores; every sweep is dominated by the elementwise passes of the peaks row"
)
W_MGRIT = (
    "the ratio is the cycle's layer steps per serial step times the CPU cost of one MGRIT step "
    "relative to a serial one; the step count alone is above the goal for cf 2 and close to it "
    "for cf 8, and an MGRIT step costs more than a serial step (it allocates the state it "
    "returns, and residuals, restriction and C-relaxation add numpy passes, while the serial "
    "sweep reuses its workspace)"
)

GOALS = [
    Goal("objective+gradient / PyTorch, peaks (w 8, N 30, 5000 samples), float64", "iteration",
         {"case": "peaks", "figure": "ours/torch", "dtype": "float64"}, "<= 0.25",
         lambda v: v <= 0.25, why=W_ELEM),
    Goal("same, wide (w 220, N 27, 4000 samples), float64", "iteration",
         {"case": "wide", "figure": "ours/torch", "dtype": "float64"}, "<= 0.70",
         lambda v: v <= 0.70, why=W_WIDE),
    Goal("same, deep (w 8, N 1024, 5000 samples), float64", "iteration",
         {"case": "deep", "figure": "ours/torch", "dtype": "float64"}, "<= 0.35",
         lambda v: v <= 0.35, why=W_ELEM),
    Goal("share of the GEMM limit, wide, float64 (GEMMs alone / our evaluation)", "iteration",
         {"case": "wide", "figure": "gemm share"}, ">= 85 %", lambda v: v >= 0.85,
         scale=100.0, unit=" %", why=W_WIDE),
    Goal("wide float32 / our wide float64", "iteration",
         {"case": "wide", "figure": "ours float32/ours float64"}, "<= 0.6", lambda v: v <= 0.6),
    Goal("wide float32: ours / PyTorch float32", "iteration",
         {"case": "wide", "figure": "ours/torch", "dtype": "float32"}, "<= 0.8",
         lambda v: v <= 0.8, why=W_WIDE),
    Goal("default `python -m solver train`, CPU per iteration / before issue 11", "train",
         {"figure": "default train CPU per iteration / baseline"}, "<= 0.6", lambda v: v <= 0.6,
         why=W_TRAIN),
    Goal("one-shot MGRIT gradient / serial gradient, 1 rank, N 256, 2+2 cycles cf 2 F/FCF",
         "mgrit_oneshot", {"n_layers": "256", "configuration": "2+2 cf2 F/FCF (reference)"},
         "<= 5", lambda v: v <= 5.0, why=W_MGRIT),
    Goal("same, two levels cf 8, 2+2 cycles (trains like serial, docs/mgrit.md)",
         "mgrit_oneshot", {"n_layers": "256", "configuration": "2+2 cf8 2 levels"}, "<= 2",
         lambda v: v <= 2.0, why=W_MGRIT),
    Goal("same, two levels cf 8, 1+1 cycles", "mgrit_oneshot",
         {"n_layers": "256", "configuration": "1+1 cf8 2 levels"}, "<= 2", lambda v: v <= 2.0,
         why=W_MGRIT),
    Goal("`import sensitivity` / `import solver` (CPU)", "startup",
         {"figure": "import sensitivity / import solver"}, "<= 2", lambda v: v <= 2.0),
]  # fmt: skip


def _num(text: str | None) -> float:
    try:
        return float(text) if text not in (None, "") else math.nan
    except ValueError:
        return math.nan


def goal_table() -> list[str]:
    out = [
        "| figure | measured (median, 95 % interval) | goal | met | source |",
        "|---|---|---|---|---|",
    ]
    for g in GOALS:
        row = _find(g.source, **g.where)
        if row is None:
            out.append(f"| {g.figure} | not measured | {g.goal} | - | `{g.source}.csv` |")
            continue
        v, lo, hi = (g.scale * _num(row.get(k)) for k in (g.value, "ratio_lo", "ratio_hi"))
        fmt = ".0f" if g.unit == " %" else ".2f"
        met = "yes" if g.met(v / g.scale) else "**no**"
        interval = "" if math.isnan(lo) else f" [{lo:{fmt}}, {hi:{fmt}}]"
        detail = ""
        if "num_cpu_ms" in row and row.get("num_cpu_ms"):
            detail = f"; {_num(row['num_cpu_ms']):.4g} vs {_num(row['den_cpu_ms']):.4g} ms"
        if row.get("num_ms_per_iteration"):
            detail = (f"; {_num(row['num_ms_per_iteration']):.3g} vs "
                      f"{_num(row['den_ms_per_iteration']):.3g} ms/iteration")  # fmt: skip
        out.append(
            f"| {g.figure} | {v:{fmt}}{g.unit}{interval}{detail} | {g.goal} | {met} | "
            f"`{g.source}.csv` @ {row.get('code_version', '?')} |"
        )
    return out


def not_met_lines() -> list[str]:
    out = []
    for g in GOALS:
        row = _find(g.source, **g.where)
        if row is None:
            continue
        v = _num(row.get(g.value))
        if g.met(v):
            continue
        limit = float(g.goal.replace("%", "").split()[-1]) / (100.0 if g.unit == " %" else 1.0)
        by = (v - limit) / limit
        extra = ""
        if row.get("steps_ratio"):
            steps = _num(row["steps_ratio"])
            extra = (f" ({steps:.2f} layer steps per serial step, each costing "
                     f"{v / steps:.2f}x a serial step)")  # fmt: skip
        gemm = _find("iteration", case="wide", figure="gemm share")
        why = g.why.format(
            gemm_share="n/a" if gemm is None else f"{100 * _num(gemm['ratio']):.0f} %"
        )
        shown = f"{g.scale * v:.0f} %" if g.unit == " %" else f"{v:.2f}x"
        out.append(f"* {g.figure}: {shown} against {g.goal}, {100 * abs(by):.0f} % "
                   f"{'above' if by > 0 else 'below'} the goal{extra}. Why: {why}.")  # fmt: skip
    return ["", "Goals not met (generated from the same files):", "", *out] if out else []


def context_lines() -> list[str]:
    seen = {}
    for name in ("iteration", "train", "mgrit_oneshot", "startup"):
        rows = _rows(name)
        if rows:
            r = rows[0]
            seen[name] = (f"`{name}.csv`: {r.get('utc', '?')}, code {r.get('code_version', '?')}, "
                          f"peer {r.get('peer', '?')}, {r.get('threads', '?')}, "
                          f"{r.get('reps', r.get('pairs', '?'))} paired repetitions")  # fmt: skip
    return [f"* {v}" for v in seen.values()]


def other_lines() -> list[str]:
    out = []
    strat = {r["strategy"]: r for r in _rows("strategies")}
    if strat:
        cells = [
            f"{k} {_num(r['median_time_all_s']):.1f} s (never reached {r['never_reached']}/"
            f"{r['seeds']})"
            for k, r in strat.items()
        ]
        out.append(f"| `bench_strategies.py`: median time to {strat['random']['target']} "
                   f"validation accuracy, N = {strat['random']['n_layers']} (failures = never) | "
                   f"{'; '.join(cells)} | `strategies.csv` |")  # fmt: skip
    harness = _rows("harness")
    if harness:
        o = harness[0]
        tp = "; ".join(f"{r['figure'].removeprefix('throughput ')} "
                       f"{_num(r['steady_vs_first']):.2f}x" for r in harness[1:])  # fmt: skip
        out.append(f"| `bench_harness.py`: harness overhead per 1-s trial; throughput vs one "
                   f"worker | {100 * _num(o['fraction_of_1s']):.1f} % "
                   f"({_num(o['overhead_ms']):.1f} ms); {tp} | `harness.csv` |")  # fmt: skip
    ev = _find("train", figure="CPU per iteration eval_every 10 / eval_every 1")
    if ev is not None:
        out.append(f"| `bench_train.py`: validation accuracy only on `eval_every` rows "
                   f"(rows with `val_acc` of {ev['rows']}: {ev['val_rows_every_1']} at 1, "
                   f"{ev['val_rows_every_10']} at 10); CPU per iteration 10 vs 1 | "
                   f"{_num(ev['ratio']):.2f} [{_num(ev['ratio_lo']):.2f}, "
                   f"{_num(ev['ratio_hi']):.2f}] | `train.csv` |")  # fmt: skip
    if not out:
        return []
    return ["", "| benchmark | figure | source |", "|---|---|---|", *out]


def block() -> str:
    lines = [BEGIN, "<!-- generated by `python benchmarks/readme_table.py` from "
             "results/summaries/bench/*.csv; do not edit by hand -->", ""]  # fmt: skip
    lines += goal_table()
    lines += not_met_lines()
    lines += other_lines()
    lines += ["", *context_lines(), END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only check that README.md is current")
    args = ap.parse_args(argv)
    text = README.read_text()
    if BEGIN not in text or END not in text:
        print(f"README.md has no {BEGIN} ... {END} block. Fix: add the two markers where the "
              "table belongs.", file=sys.stderr)  # fmt: skip
        return 2
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = head + block() + tail
    if args.check:
        if new != text:
            print("README.md benchmark block is out of date: run python benchmarks/readme_table.py",
                  file=sys.stderr)  # fmt: skip
            return 1
        return 0
    README.write_text(new)
    print("README.md benchmark block rewritten")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
