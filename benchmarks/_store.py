"""Where benchmarks store their figures: one CSV per benchmark under ``results/summaries/bench/``.

Every row carries the run's context next to its figures: ``code_version`` (git commit, with
``+dirty`` for uncommitted changes), ``numpy``, the peer's version (``peer``, e.g.
``torch 2.13.0+cpu`` or ``none``), the thread settings (``threads``: what threadpoolctl set
for numpy's BLAS and what the peer uses), ``host_cpus`` and ``utc`` (when it ran). The README's
benchmark table is generated from these files by ``benchmarks/readme_table.py``.

Ratios are paired: within one repetition every variant runs once, in rotated order
(interleaved), and the ratio of that repetition's CPU times is one observation; the CSV gives
their median and a bootstrap 95 % interval (``scipy.stats.bootstrap``, percentile method).
"""

from __future__ import annotations

import csv
import datetime
import os
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "results" / "summaries" / "bench"

__all__ = [
    "BENCH_DIR",
    "code_version",
    "context",
    "limit_threads",
    "paired_times",
    "ratio_summary",
    "write_rows",
]


def code_version(root: Path = ROOT) -> str:
    """``git`` commit of ``root`` (short hash; ``+dirty`` with uncommitted changes outside
    ``results/``, ``figures/`` and ``README.md``)."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=root,
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        # Outputs (results/, figures/, the README's generated table) do not make the code dirty:
        # `make bench` rewrites them one benchmark after another.
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":!results", ":!figures", ":!README.md"],
                               cwd=root, capture_output=True, text=True).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def limit_threads(n: int, torch=None) -> str:
    """Limit numpy's BLAS (threadpoolctl, in this process) and ``torch`` to ``n`` threads;
    return the setting as text for the CSV."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=n)
    libs = sorted({f"{i['internal_api']}={i['num_threads']}" for i in threadpool_info()})
    note = f"numpy BLAS {','.join(libs) or 'none'} (threadpoolctl)"
    if torch is not None:
        torch.set_num_threads(n)
        try:
            torch.set_num_interop_threads(n)
        except RuntimeError:  # already set in this process
            pass
        intra, inter = torch.get_num_threads(), torch.get_num_interop_threads()
        note += f"; torch intra-op {intra}, inter-op {inter}"
    return note


def context(peer: str, threads: str) -> dict[str, str]:
    """The columns every row of a run shares."""
    return {
        "code_version": code_version(),
        "numpy": np.__version__,
        "peer": peer,
        "threads": threads,
        "host_cpus": str(os.cpu_count()),
        "utc": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def paired_times(
    variants: Mapping[str, Callable[[], object]], reps: int, warmup: int = 1
) -> dict[str, list[float]]:
    """CPU seconds (``time.process_time``) of every variant in each of ``reps`` rounds; the
    order within a round rotates so that no variant always runs first."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    out: dict[str, list[float]] = {name: [] for name in names}
    for r in range(reps):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            c0 = time.process_time()
            variants[name]()
            out[name].append(time.process_time() - c0)
    return out


def ratio_summary(num: Sequence[float], den: Sequence[float]) -> dict[str, float]:
    """Median of the paired ratios ``num_i / den_i`` with a bootstrap 95 % interval."""
    from scipy import stats

    r = np.asarray(num, float) / np.asarray(den, float)
    out = {"ratio": float(np.median(r)), "ratio_lo": float(r.min()), "ratio_hi": float(r.max()),
           "pairs": len(r)}  # fmt: skip
    if len(r) >= 3 and np.ptp(r) > 0:
        ci = stats.bootstrap((r,), np.median, confidence_level=0.95, method="percentile",
                             n_resamples=2000, random_state=0).confidence_interval  # fmt: skip
        out["ratio_lo"], out["ratio_hi"] = float(ci.low), float(ci.high)
    return out


def write_rows(name: str, rows: Iterable[Mapping[str, object]]) -> Path:
    """Write ``rows`` to ``results/summaries/bench/<name>.csv`` (replacing it), or under the
    folder ``$BENCH_OUT`` when set (smoke runs)."""
    rows = [dict(r) for r in rows]
    folder = Path(os.environ.get("BENCH_OUT") or BENCH_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    print(f"-> {path}")
    return path
