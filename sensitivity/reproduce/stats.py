"""Summary statistics of the reproduction tables: thin adapters over :mod:`sensitivity.metrics`
(the project's one implementation of intervals and censoring) for arrays instead of trials.

* :func:`describe`: n, failures with a Wilson 95 % interval, median with its bootstrap 95 %
  interval (:func:`metrics.median_interval`), mean with a bootstrap 95 % interval, std, min,
  max;
* :func:`paired`: paired differences with the Wilcoxon signed-rank test and the bootstrap
  interval of the median difference (conventions of :func:`metrics.paired_comparison`);
* :func:`unpaired`: Mann-Whitney U for two independent samples;
* :func:`km_median`: Kaplan-Meier median time to target with its 95 % interval
  (:func:`metrics.kaplan_meier_median`); runs that never reach the target are censored when
  they end, ``inf`` = the curve never drops to one half.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from sensitivity.metrics import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    CONFIDENCE,
    kaplan_meier_median,
    median_interval,
    wilcoxon_p,
    wilson_interval,
)

__all__ = ["describe", "paired", "unpaired", "km_median", "wilson", "bootstrap_ci"]

wilson = wilson_interval


def bootstrap_ci(values, statistic=np.median) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over the finite ``values`` (the settings
    of :mod:`sensitivity.metrics`); the median uses :func:`metrics.median_interval`."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if statistic is np.median:
        return median_interval(x)
    if len(x) < 2:
        return math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    res = stats.bootstrap((x,), statistic, confidence_level=CONFIDENCE,
                          n_resamples=BOOTSTRAP_RESAMPLES, method="percentile",
                          rng=np.random.default_rng(BOOTSTRAP_SEED))  # fmt: skip
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def describe(values, failed) -> dict:
    """Summary of one group. ``values``: final metric per run (NaN for diverged runs);
    ``failed``: boolean per run. Failed runs count in ``n`` and ``failures``; the location
    statistics are over the runs with a finite value."""
    v = np.asarray(values, dtype=float)
    f = np.asarray(failed, dtype=bool)
    ok = v[np.isfinite(v)]
    lo, hi = wilson(int(f.sum()), len(f))
    mlo, mhi = bootstrap_ci(ok, np.median)
    alo, ahi = bootstrap_ci(ok, np.mean)
    return {
        "n": len(v),
        "failures": int(f.sum()),
        "failure_rate": f.mean() if len(f) else math.nan,
        "failure_ci_low": lo,
        "failure_ci_high": hi,
        "mean": ok.mean() if len(ok) else math.nan,
        "mean_ci_low": alo,
        "mean_ci_high": ahi,
        "median": np.median(ok) if len(ok) else math.nan,
        "median_ci_low": mlo,
        "median_ci_high": mhi,
        "std": ok.std(ddof=1) if len(ok) > 1 else math.nan,
        "min": ok.min() if len(ok) else math.nan,
        "max": ok.max() if len(ok) else math.nan,
    }


def paired(a, b) -> dict:
    """Paired comparison ``a - b`` (same seed and configuration): pairs, median difference
    with its bootstrap interval, share of pairs with ``a > b``, Wilcoxon two-sided p-value
    (1 when all differences are 0, NaN with fewer than 2 pairs)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    lo, hi = median_interval(d)
    p = wilcoxon_p(d)
    return {
        "pairs": int(len(d)),
        "median_diff": float(np.median(d)) if len(d) else math.nan,
        "median_diff_ci_low": lo,
        "median_diff_ci_high": hi,
        "share_better": float(np.mean(d > 0)) if len(d) else math.nan,
        "wilcoxon_p": p,
    }


def unpaired(a, b) -> dict:
    """Two independent samples: difference of medians, probability of superiority
    ``P(a > b) + P(a = b) / 2`` and the two-sided Mann-Whitney U p-value."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) == 0 or len(b) == 0:
        return {"n_a": len(a), "n_b": len(b), "median_diff": math.nan,
                "prob_superiority": math.nan, "mannwhitney_p": math.nan}  # fmt: skip
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {"n_a": len(a), "n_b": len(b), "median_diff": float(np.median(a) - np.median(b)),
            "prob_superiority": float(res.statistic / (len(a) * len(b))),
            "mannwhitney_p": float(res.pvalue)}  # fmt: skip


def km_median(times, reached, censor) -> dict:
    """Kaplan-Meier median time to target with its 95 % interval (``inf``: fewer than half
    reach it). A run that does not reach the target is right-censored at ``censor`` (a scalar
    horizon or one time per run: when the run ended), so it stays in the risk set until then."""
    t = np.asarray(times, dtype=float)
    r = np.asarray(reached, dtype=bool) & np.isfinite(t)
    c = np.broadcast_to(np.asarray(censor, dtype=float), t.shape)
    med, lo, hi = kaplan_meier_median(np.where(r, t, c), r)
    return {"runs": len(t), "reached": int(r.sum()), "km_median": med, "km_low": lo,
            "km_high": hi}  # fmt: skip
