"""Summary statistics of the reproduction tables (scipy; no hand-written estimators).

* :func:`describe`: n, failures with a Wilson 95 % interval, mean / median with bootstrap
  95 % intervals (percentile method, 2000 resamples, fixed seed), std, min, max;
* :func:`paired`: paired differences with the Wilcoxon signed-rank test and a bootstrap
  interval of the median difference;
* :func:`km_median`: Kaplan-Meier median time to target with right censoring at the horizon
  (runs that never reach the target stay in the risk set until they end).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

__all__ = ["describe", "paired", "unpaired", "km_median", "wilson", "bootstrap_ci"]

CONFIDENCE = 0.95


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson score 95 % interval of a proportion ``k / n`` (NaN for ``n = 0``)."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(k), int(n)).proportion_ci(CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap_ci(values, statistic=np.median) -> tuple[float, float]:
    """Percentile bootstrap 95 % interval of ``statistic`` (NaN for fewer than 3 values or a
    constant sample, whose interval is the value itself)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    res = stats.bootstrap(
        (x,),
        statistic,
        confidence_level=CONFIDENCE,
        n_resamples=2000,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def describe(values, failed) -> dict:
    """Summary of one group. ``values``: final metric per run (NaN for failed runs);
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
    (NaN when all differences are 0 or fewer than 2 pairs)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    lo, hi = bootstrap_ci(d, np.median)
    p = math.nan
    if len(d) >= 2 and np.any(d != 0):
        p = float(stats.wilcoxon(d, zero_method="wilcox").pvalue)
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
        return {
            "n_a": len(a),
            "n_b": len(b),
            "median_diff": math.nan,
            "prob_superiority": math.nan,
            "mannwhitney_p": math.nan,
        }
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    return {
        "n_a": len(a),
        "n_b": len(b),
        "median_diff": float(np.median(a) - np.median(b)),
        "prob_superiority": float(res.statistic / (len(a) * len(b))),
        "mannwhitney_p": float(res.pvalue),
    }


def km_median(times, reached, censor) -> dict:
    """Kaplan-Meier estimate of the time to target: median (NaN when fewer than half reach
    it) and the estimated share reached by the last time. A run that does not reach the
    target is right-censored at ``censor`` (a scalar horizon or one time per run: the time the
    run ended), so it stays in the risk set until then."""
    t = np.asarray(times, dtype=float)
    r = np.asarray(reached, dtype=bool) & np.isfinite(t)
    c = np.broadcast_to(np.asarray(censor, dtype=float), t.shape)
    n = len(t)
    if n == 0:
        return {"runs": 0, "reached": 0, "km_median": math.nan, "share_reached": math.nan}
    if not r.any():
        return {"runs": n, "reached": 0, "km_median": math.nan, "share_reached": 0.0}
    cens = c[~r]
    data = stats.CensoredData(uncensored=t[r], right=cens)
    cdf = stats.ecdf(data).cdf
    q, p = cdf.quantiles, cdf.probabilities
    hit = np.nonzero(p >= 0.5)[0]
    return {
        "runs": n,
        "reached": int(r.sum()),
        "km_median": float(q[hit[0]]) if len(hit) else math.nan,
        "share_reached": float(p[-1]),
    }
