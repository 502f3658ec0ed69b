"""The summary tables of a study: computed once here, exported as CSV and drawn by the figures.

=====================  ===========================================================================
table (CSV)            rows
=====================  ===========================================================================
``summary``            per strategy: runs, diverged, failed, success rate at the target (Wilson
                       95 % CI), median final accuracy with diverged / failed runs as 0
                       (bootstrap 95 % CI), quartiles, worst (:func:`metrics.summarize`)
``paired``             per strategy vs the first strategy on the same (parameters, seed): median
                       difference (bootstrap 95 % CI), share better / worse, Wilcoxon p
                       (:func:`metrics.paired_comparison`)
``variance_shares``    ``factor, share, levels, binned, bin_edges`` + ``residual``
                       (:func:`metrics.variance_shares`, ``VARIANCE_BINS`` quantile bins)
``time_to_target``     per strategy and clock: Kaplan-Meier median time to the target with its
                       95 % CI, runs, runs that reached it (:func:`metrics.time_to_target_summary`)
``time_to_target_      per strategy and clock: the Kaplan-Meier curve (share of runs not yet at
curve``                the target) with its 95 % band (:func:`metrics.time_to_target_curves`)
=====================  ===========================================================================

Every table carries the column ``code_version`` (git commit of the analysis code,
``+dirty`` when ``sensitivity/`` had uncommitted changes).
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from sensitivity import metrics

__all__ = ["TABLES", "study_tables", "code_version"]

TABLES = ("summary", "paired", "variance_shares", "time_to_target", "time_to_target_curve")


@cache
def code_version() -> str:
    """Git commit of this checkout (``+dirty`` if ``sensitivity/`` differs from it), or
    ``unknown`` outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False).stdout.strip()  # fmt: skip
        dirty = subprocess.run(["git", "-C", str(root), "diff", "--quiet", "HEAD", "--",
                                "sensitivity"], capture_output=True, timeout=5,
                               check=False).returncode  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if not head:
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _strategy_order(results: Any) -> list[str]:
    present = list(dict.fromkeys(results.trials["strategy"].dropna()))
    if results.spec is None:
        return present
    spec_order = [s for s in results.spec.strategies if s in present]
    return spec_order + [s for s in present if s not in spec_order]


def _ordered(df: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    if "strategy" not in df or df.empty:
        return df
    rank = {s: i for i, s in enumerate(order)}
    key = df["strategy"].map(lambda s: rank.get(s, len(rank)))
    return df.assign(_k=key).sort_values("_k", kind="stable").drop(columns="_k")


def study_tables(results: Any) -> dict[str, pd.DataFrame]:
    """The summary tables of :data:`TABLES` from a study's counted, finished trials.

    Args:
        results: :class:`~sensitivity.results.StudyResults`.

    Returns:
        ``{name: frame}``; ``paired`` is empty with one strategy, ``time_to_target`` without a
        metric target.
    """
    trials = results.trials
    done = trials[trials["counted"] & trials["state"].isin(["COMPLETE", "FAIL"]).fillna(False)]
    order = _strategy_order(results)
    metric = results.spec.metric if results.spec is not None else None
    target = metric.target if metric is not None else None
    out: dict[str, pd.DataFrame] = {}
    out["summary"] = _ordered(metrics.summarize(done, target=target, by=["strategy"]), order)
    baseline = order[0] if order else None
    out["paired"] = _ordered(metrics.paired_comparison(done, baseline=baseline), order)
    out["variance_shares"] = metrics.variance_shares(done)
    parts, curves = [], []
    if target is not None and len(done):
        for clock in ("wall", "modelled"):
            budget = metric.budget if clock == metric.clock else None  # type: ignore[union-attr]
            parts.append(metrics.time_to_target_summary(done, clock=clock, budget=budget))
            curves.append(metrics.time_to_target_curves(done, clock=clock, budget=budget))
    ttt = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["strategy", "clock", "budget", "n", "reached", "median", "median_low",
                 "median_high"])  # fmt: skip
    if len(ttt):
        ttt.insert(1, "target", target)
    out["time_to_target"] = _ordered(ttt, order)
    out["time_to_target_curve"] = _ordered(
        pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(
            columns=["strategy", "clock", "time", "survival", "low", "high"]),
        order,
    )  # fmt: skip
    version = code_version()
    return {k: v.reset_index(drop=True).assign(code_version=version) for k, v in out.items()}
