"""Statistics of a study's trials, failures included, each with its 95 % interval.

Input of every table function: the trials frame of :func:`sensitivity.load` (``res.trials``);
only ``counted`` trials (one per design point) take part, and diverged and failed ones count.

========================  ==============================================  =====================
statistic                 failures / censoring                            95 % interval
========================  ==============================================  =====================
success rate              success = status complete and final accuracy    Wilson score
                          ``>= target``; diverged / failed runs fail
median final accuracy     diverged / failed runs count as accuracy 0      bootstrap percentile
median time to target     Kaplan-Meier; a run that never reaches the      KM log-log band at
                          target is right-censored at the horizon         0.5 (Brookmeyer-
                          (:mod:`sensitivity.records`); "not reached"     Crowley); ``inf`` =
                          (``inf``) when the survival stays above 0.5     not reached
paired median difference  same (parameters, seed); diverged = 0           bootstrap percentile;
                                                                          Wilcoxon signed-rank p
variance share            continuous parameters cut into quantile bins    (point estimate)
========================  ==============================================  =====================

Bootstrap intervals use :data:`BOOTSTRAP_RESAMPLES` resamples with the fixed seed
:data:`BOOTSTRAP_SEED` (reproducible tables), percentile method.

Functions:

* :func:`summarize` -- per strategy / configuration: n, failures, success rate (Wilson), median
  final accuracy (bootstrap), quartiles, worst.
* :func:`time_to_target_summary` -- per strategy: Kaplan-Meier median time to target and CI;
  :func:`time_to_target_curves` the Kaplan-Meier curves with their bands.
* :func:`paired_differences` / :func:`paired_comparison` -- strategy minus baseline on the same
  (parameters, seed): per pair, and summarised (median + bootstrap CI, share better, Wilcoxon).
* :func:`variance_shares` -- main-effect shares of the accuracy variance (LMG decomposition of
  the additive model's R^2) on every design; ``residual`` = interactions + noise.
* :func:`importance` -- Optuna parameter importance with an explicitly chosen evaluator.
* :func:`time_to_target` -- time to a (new) target from the curves, by the records' rule.
* Building blocks: :func:`accuracy`, :func:`wilson_interval`, :func:`median_interval`,
  :func:`kaplan_meier`, :func:`kaplan_meier_median`.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from sensitivity import records
from sensitivity.records import counted, param_columns

__all__ = [
    "CONFIDENCE",
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_SEED",
    "VARIANCE_BINS",
    "EVALUATORS",
    "accuracy",
    "wilson_interval",
    "median_interval",
    "kaplan_meier",
    "kaplan_meier_median",
    "summarize",
    "time_to_target_summary",
    "time_to_target_curves",
    "time_to_target",
    "paired_differences",
    "paired_comparison",
    "wilcoxon_p",
    "variance_shares",
    "importance",
    "config_columns",
]

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
VARIANCE_BINS = 5
EVALUATORS = ("fanova", "mdi", "ped_anova")
_ACCURACIES = ("val_acc", "train_acc")


def config_columns(df: pd.DataFrame) -> list[str]:
    """Columns that define a configuration: ``strategy`` and every ``param_*`` column."""
    return ["strategy"] + param_columns(df)


def _keys(df: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Group keys with NaN (parameters of other strategies) replaced by the label ``n/a``."""
    out = df[list(columns)].copy()
    for c in columns:
        out[c] = out[c].astype(object).where(out[c].notna(), "n/a")
    return out


def _groups(df: pd.DataFrame, by: Sequence[str]):
    """``(key dict, sub-frame)`` per group of ``by`` in order of first appearance."""
    df = df.reset_index(drop=True)
    keys = _keys(df, by)
    for key, part in keys.groupby(list(by), sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(by, key, strict=True)), df.loc[part.index]


def accuracy(trials: pd.DataFrame, metric: str = "val_acc") -> pd.Series:
    """Final accuracy per trial with diverged / failed (non-complete or non-finite) runs at 0.

    Raises:
        ValueError: ``metric`` is not an accuracy column (times: :func:`time_to_target_summary`).
    """
    if metric not in _ACCURACIES:
        raise ValueError(
            f"metric must be one of {', '.join(_ACCURACIES)} (failures count as accuracy 0); "
            f"got {metric!r}. Fix: summarise times with time_to_target_summary"
        )
    v = pd.to_numeric(trials[metric], errors="coerce").astype("float64")
    ok = trials["status"].eq("complete").fillna(False).to_numpy(bool) & np.isfinite(v.to_numpy())
    return v.where(ok, 0.0)


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """Wilson score interval (:data:`CONFIDENCE`) of a proportion ``successes / n``
    (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``); NaN for ``n = 0``."""
    if n == 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(CONFIDENCE, method="wilson")
    return float(ci.low), float(ci.high)


def _bootstrap(x: np.ndarray, statistic) -> tuple[float, float]:
    x = np.asarray(x, dtype="float64")
    if len(x) < 2:
        return math.nan, math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate samples (all equal) give equal bounds
        res = stats.bootstrap(
            (x,), statistic, n_resamples=BOOTSTRAP_RESAMPLES, confidence_level=CONFIDENCE,
            method="percentile", rng=np.random.default_rng(BOOTSTRAP_SEED),
        )  # fmt: skip
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def median_interval(x: Sequence[float]) -> tuple[float, float]:
    """Bootstrap percentile interval (:data:`CONFIDENCE`, :data:`BOOTSTRAP_RESAMPLES`
    resamples, seed :data:`BOOTSTRAP_SEED`) of the median of ``x``, shape ``(n,)``; NaN for
    ``n < 2``."""
    return _bootstrap(np.asarray(x, dtype="float64"), np.median)


def kaplan_meier(time: Sequence[float], reached: Sequence[bool]) -> pd.DataFrame:
    """Kaplan-Meier estimate of the share of runs not yet at the target, with its band.

    Args:
        time: shape ``(n,)``: time to target of runs that reached it, the censoring time (horizon,
            may be ``inf``) of the others (:func:`sensitivity.records.event_times`).
        reached: shape ``(n,)``: the run reached the target (an event).

    Returns:
        ``time, survival, low, high``: the step function ``S(t)`` (``scipy.stats.ecdf`` on
        ``CensoredData``; value from ``time`` on, first row ``t = 0, S = 1``) and its pointwise
        :data:`CONFIDENCE` log-log band (``S`` itself where the band is undefined, at 0 and 1).
        Censoring times beyond the last event (``inf``) do not change ``S`` and are moved to
        the last observed time. No events: one row ``S = 1``.
    """
    t = np.asarray(time, dtype="float64")
    ev = np.asarray(reached, dtype=bool)
    cols = ["time", "survival", "low", "high"]
    if len(t) == 0:
        return pd.DataFrame(columns=cols)
    if not ev.any():
        return pd.DataFrame([[0.0, 1.0, 1.0, 1.0]], columns=cols)
    finite = t[np.isfinite(t)]
    t = np.where(np.isfinite(t), t, finite.max())
    res = stats.ecdf(stats.CensoredData(uncensored=t[ev], right=t[~ev]))
    s = res.sf.probabilities
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # band undefined where S is 0 or 1
        ci = res.sf.confidence_interval(CONFIDENCE, method="log-log")
    lo = np.where(np.isfinite(ci.low.probabilities), ci.low.probabilities, s)
    hi = np.where(np.isfinite(ci.high.probabilities), ci.high.probabilities, s)
    return pd.DataFrame({"time": np.r_[0.0, res.sf.quantiles], "survival": np.r_[1.0, s],
                         "low": np.r_[1.0, lo], "high": np.r_[1.0, hi]})  # fmt: skip


def kaplan_meier_median(
    time: Sequence[float], reached: Sequence[bool]
) -> tuple[float, float, float]:
    """Kaplan-Meier median time to target and its :data:`CONFIDENCE` interval.

    Args:
        time, reached: as in :func:`kaplan_meier`, shape ``(n,)`` each.

    Returns:
        ``(median, low, high)``: ``median = min{t : S(t) <= 0.5}`` of the KM survival ``S``
        (:func:`kaplan_meier`); ``low`` / ``high`` the same crossing of the pointwise log-log
        confidence band (Brookmeyer-Crowley). ``inf`` where the curve never drops to 0.5
        ("not reached"); NaN for no runs.
    """
    km = kaplan_meier(time, reached)
    if km.empty:
        return math.nan, math.nan, math.nan

    def crossing(curve: pd.Series) -> float:
        at = np.flatnonzero(curve.to_numpy() <= 0.5)
        return float(km["time"].iloc[at[0]]) if len(at) else math.inf

    return crossing(km["survival"]), crossing(km["low"]), crossing(km["high"])


def time_to_target_curves(
    trials: pd.DataFrame,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    budget: float | None = None,
    by: Sequence[str] = ("strategy",),
) -> pd.DataFrame:
    """Kaplan-Meier curves of the share of runs not yet at the study's target, per group
    (same data and censoring as :func:`time_to_target_summary`).

    Returns:
        ``<by>..., clock, time, survival, low, high`` (:func:`kaplan_meier` per group).
    """
    parts = []
    for key, g in _groups(counted(trials), list(by)):
        t, ev = records.event_times(g, clock=clock, budget=budget)
        km = kaplan_meier(t, ev)
        for k, v in reversed(key.items()):
            km.insert(0, k, v)
        km.insert(len(key), "clock", clock)
        parts.append(km)
    cols = list(by) + ["clock", "time", "survival", "low", "high"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def summarize(
    trials: pd.DataFrame,
    *,
    metric: str = "val_acc",
    target: float | None = None,
    by: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Robustness of the final accuracy per group, failures included.

    Args:
        trials: ``res.trials`` (counted rows are used).
        metric: ``val_acc`` or ``train_acc``; diverged / failed runs count as accuracy 0.
        target: success means status complete and ``metric >= target`` (``None``: complete).
        by: grouping columns (default: per configuration, ``strategy`` + every ``param_*``;
            ``["strategy"]`` for one row per strategy).

    Returns:
        ``<by>..., n, diverged, failed, successes, success_rate, success_low, success_high``
        (Wilson) ``, median, median_low, median_high`` (bootstrap) ``, q25, q75, worst``.
    """
    df = counted(trials)
    by = list(by) if by is not None else config_columns(df)
    acc = accuracy(df, metric)
    complete = df["status"].eq("complete").fillna(False)
    ok = complete & (acc >= target if target is not None else True)
    work = df.assign(_acc=acc, _ok=ok.to_numpy(bool))
    rows = []
    for key, g in _groups(work, by):
        v = g["_acc"].to_numpy(float)
        k = int(g["_ok"].sum())
        s_lo, s_hi = wilson_interval(k, len(v))
        m_lo, m_hi = median_interval(v)
        q25, med, q75 = np.percentile(v, [25, 50, 75])
        rows.append(
            key
            | {
                "n": len(v),
                "diverged": int(g["status"].eq("diverged").sum()),
                "failed": int(g["status"].eq("failed").sum()),
                "successes": k,
                "success_rate": k / len(v),
                "success_low": s_lo,
                "success_high": s_hi,
                "median": float(med),
                "median_low": m_lo,
                "median_high": m_hi,
                "q25": float(q25),
                "q75": float(q75),
                "worst": float(v.min()),
            }
        )
    cols = by + [
        "n", "diverged", "failed", "successes", "success_rate", "success_low", "success_high",
        "median", "median_low", "median_high", "q25", "q75", "worst",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def time_to_target_summary(
    trials: pd.DataFrame,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    budget: float | None = None,
    by: Sequence[str] = ("strategy",),
) -> pd.DataFrame:
    """Kaplan-Meier median time to the study's target per group, failures as never.

    Uses the stored ``reached_target`` / ``time_to_target_<clock>`` (the records' rule); runs
    that did not reach the target (diverged and failed ones included) are censored at the
    horizon (``budget``, or after the last event without one).

    Returns:
        ``<by>..., clock, budget, n, reached, median, median_low, median_high``; ``inf`` =
        not reached (the survival never drops to 0.5).
    """
    df = counted(trials)
    by = list(by)
    rows = []
    for key, g in _groups(df, by):
        t, ev = records.event_times(g, clock=clock, budget=budget)
        med, lo, hi = kaplan_meier_median(t, ev)
        rows.append(key | {"clock": clock, "budget": math.nan if budget is None else budget,
                           "n": len(g), "reached": int(ev.sum()), "median": med,
                           "median_low": lo, "median_high": hi})  # fmt: skip
    cols = by + ["clock", "budget", "n", "reached", "median", "median_low", "median_high"]
    return pd.DataFrame(rows, columns=cols)


def time_to_target(
    curves: pd.DataFrame,
    target: float,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    budget: float | None = None,
) -> pd.DataFrame:
    """Time to ``target`` of every trial in ``curves`` (:func:`sensitivity.records.time_to_target`).

    Same rule as the stored records: reached at the first evaluation of the final-depth network
    with ``val_acc >= target`` at a time ``<= budget`` on ``clock``; otherwise censored at the
    horizon (``budget``, or ``inf`` without one) -- the run never reaches the target.

    Returns:
        One row per trial: ``trial, strategy, seed, param_*``, ``reached`` (bool), ``time``
        (time at the target, or the horizon when censored), ``censored`` (= not reached).
    """
    keys = ["trial", "strategy", "seed"] + param_columns(curves)
    rows = []
    for trial, g in curves.groupby("trial", sort=True):
        g = g.sort_values("iteration")
        ttt = records.time_to_target(
            g["val_acc"].to_numpy(float, na_value=np.nan),
            g["wall_time"].to_numpy(float, na_value=np.nan),
            g["modelled_time"].to_numpy(float, na_value=np.nan),
            n_layers=g["n_layers"].to_numpy(float, na_value=np.nan) if "n_layers" in g else None,
            target=target,
            clock=clock,
            budget=budget,
        )
        row = {k: g.iloc[0][k] for k in keys}
        row["trial"] = trial
        time = ttt.time(clock) if ttt.reached else records.horizon(budget)
        row.update(reached=ttt.reached, time=time, censored=not ttt.reached)
        rows.append(row)
    return pd.DataFrame(rows, columns=keys + ["reached", "time", "censored"])


def _baseline(df: pd.DataFrame, baseline: str | None) -> str | None:
    strategies = list(dict.fromkeys(df["strategy"]))
    if baseline is None:
        return strategies[0] if strategies else None
    if baseline not in strategies:
        raise ValueError(f"baseline {baseline!r} is not a strategy of the trials ({strategies})")
    return baseline


def paired_differences(
    trials: pd.DataFrame, *, metric: str = "val_acc", baseline: str | None = None
) -> pd.DataFrame:
    """Per seed and shared parameter point: ``metric[strategy] - metric[baseline]``.

    Pairs are matched on ``seed`` and the parameters the baseline has (its non-NaN ``param_*``
    columns); diverged / failed runs count as accuracy 0, so every pair counts. ``baseline``
    defaults to the first strategy of the trials.

    Returns:
        ``seed, param_*, strategy, value, baseline, difference``.
    """
    df = counted(trials)
    df = df.assign(_v=accuracy(df, metric))
    base_name = _baseline(df, baseline)
    base = df[df["strategy"] == base_name]
    shared = [c for c in param_columns(df) if len(base) and base[c].notna().all()]
    on = ["seed"] + shared
    left = df[df["strategy"] != base_name][on + ["strategy", "_v"]]
    right = base[on + ["_v"]].rename(columns={"_v": "baseline"})
    merged = left.merge(right, on=on, how="inner").rename(columns={"_v": "value"})
    merged["difference"] = merged["value"] - merged["baseline"]
    return merged.reset_index(drop=True)


def wilcoxon_p(differences: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired ``differences`` (shape ``(pairs,)``),
    zero differences dropped; 1 when every difference is 0, NaN with fewer than 2 pairs."""
    x = np.asarray(differences, dtype=float)
    if len(x) < 2:
        return math.nan
    if not np.any(x != 0):
        return 1.0
    return float(stats.wilcoxon(x, zero_method="wilcox").pvalue)


def paired_comparison(
    trials: pd.DataFrame, *, metric: str = "val_acc", baseline: str | None = None
) -> pd.DataFrame:
    """Each strategy against ``baseline`` on the same (parameters, seed), failures as 0.

    Returns:
        One row per other strategy: ``strategy, baseline, pairs, median_difference,
        median_low, median_high`` (bootstrap CI of the median difference) ``, mean_difference,
        share_better, share_worse`` (fractions of pairs with difference > 0 / < 0)
        ``, wilcoxon_p`` (two-sided Wilcoxon signed-rank test, zero differences dropped;
        1 when all differences are zero, NaN with fewer than 2 pairs).
    """
    d = paired_differences(trials, metric=metric, baseline=baseline)
    base_name = _baseline(counted(trials), baseline)
    rows = []
    for s, g in d.groupby("strategy", sort=False):
        x = g["difference"].to_numpy(float)
        lo, hi = median_interval(x)
        p = wilcoxon_p(x)
        rows.append({"strategy": s, "baseline": base_name, "pairs": len(x),
                     "median_difference": float(np.median(x)), "median_low": lo,
                     "median_high": hi, "mean_difference": float(x.mean()),
                     "share_better": float((x > 0).mean()), "share_worse": float((x < 0).mean()),
                     "wilcoxon_p": p})  # fmt: skip
    cols = ["strategy", "baseline", "pairs", "median_difference", "median_low", "median_high",
            "mean_difference", "share_better", "share_worse", "wilcoxon_p"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def _levels(col: pd.Series, bins: int) -> tuple[pd.Series, bool, str]:
    """Factor levels of a column: a numeric parameter (``param_*``) with more than ``bins``
    distinct values -> quantile bins (``pd.qcut``); ``seed`` and ``strategy`` stay categorical.
    Returns (levels, binned, bin edges as text)."""
    values = pd.to_numeric(col, errors="coerce")
    numeric = values.notna().sum() == col.notna().sum()
    if str(col.name).startswith("param_") and col.nunique(dropna=True) > bins and numeric:
        cut, edges = pd.qcut(values, bins, retbins=True, duplicates="drop")
        codes = pd.Series(cut.cat.codes, index=col.index).where(values.notna(), -1)
        return codes.astype(object), True, " ".join(f"{e:.4g}" for e in edges)
    return col.astype(object).where(col.notna(), "n/a"), False, ""


def _r2(y: np.ndarray, blocks: list[np.ndarray]) -> float:
    """R^2 of the least-squares fit of ``y`` on an intercept and the one-hot ``blocks``."""
    x = np.column_stack([np.ones(len(y))] + blocks)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    total = float(((y - y.mean()) ** 2).sum())
    return 1.0 - float(resid @ resid) / total


def variance_shares(
    trials: pd.DataFrame,
    *,
    metric: str = "val_acc",
    factors: list[str] | None = None,
    bins: int = VARIANCE_BINS,
) -> pd.DataFrame:
    """Main-effect share of the accuracy variance per factor, on any design.

    Factors (default ``seed, strategy`` and every ``param_*``) are categorical; a numeric
    parameter with more than ``bins`` distinct values (sampled designs) is cut into ``bins``
    quantile bins.
    The additive main-effects model ``y ~ 1 + sum_f onehot(f)`` explains ``R^2`` of the variance;
    it is split among the factors by the LMG / Shapley rule: ``share(f)`` is the increase of
    ``R^2`` from adding ``f``, averaged over all orders of the factors. Hence every share is in
    ``[0, 1]``, shares sum to ``R^2 <= 1``, ``residual = 1 - R^2 >= 0`` (interactions and noise);
    on a balanced grid the share is the classical ``SS_between(f) / SS_total``. Diverged / failed
    runs count as accuracy 0.

    Returns:
        ``factor, share, levels, binned, bin_edges`` (quantile edges of binned factors) sorted by
        share, then a ``residual`` row.
    """
    df = counted(trials)
    y = accuracy(df, metric).to_numpy(float)
    factors = factors or ["seed", "strategy"] + param_columns(df)
    info, blocks = [], []
    for f in factors:
        lv, binned, edges = _levels(df[f], bins)
        dummies = pd.get_dummies(lv.astype(str), drop_first=True).to_numpy(float)
        info.append({"factor": f, "levels": int(lv.nunique()), "binned": binned,
                     "bin_edges": edges})  # fmt: skip
        blocks.append(dummies)
    k = len(factors)
    shares = np.zeros(k)
    if len(y) > 1 and float(np.var(y)) > 0 and k:
        r2 = {(): 0.0}
        for size in range(1, k + 1):
            for sub in itertools.combinations(range(k), size):
                r2[sub] = _r2(y, [blocks[i] for i in sub])
        for i in range(k):
            others = [j for j in range(k) if j != i]
            for size in range(k):
                w = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                for sub in itertools.combinations(others, size):
                    shares[i] += w * (r2[tuple(sorted(sub + (i,)))] - r2[sub])
        shares = np.clip(shares, 0.0, 1.0)
        total = float(np.clip(r2[tuple(range(k))], 0.0, 1.0))
    else:
        total = 0.0
    out = pd.DataFrame(info).assign(share=shares)
    out = out[["factor", "share", "levels", "binned", "bin_edges"]]
    out = out.sort_values("share", ascending=False, kind="stable", ignore_index=True)
    resid = {"factor": "residual", "share": max(0.0, 1.0 - total) if len(y) > 1 else 0.0,
             "levels": len(y), "binned": False, "bin_edges": ""}  # fmt: skip
    return pd.concat([out, pd.DataFrame([resid])], ignore_index=True)


def importance(
    study,
    *,
    evaluator: Literal["fanova", "mdi", "ped_anova"],
    params: list[str] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Optuna parameter importance over complete trials, with the evaluator named explicitly.

    ``fanova`` (functional ANOVA on a random forest), ``mdi`` (mean decrease in impurity) or
    ``ped_anova``. Only parameters present in every complete trial take part (Optuna's rule);
    ``strategy`` and ``seed`` are parameters too.

    Returns:
        ``param, importance`` (normalised to sum 1), most important first.
    """
    import optuna
    from optuna import importance as oi

    if evaluator == "fanova":
        ev = oi.FanovaImportanceEvaluator(seed=seed)
    elif evaluator == "mdi":
        ev = oi.MeanDecreaseImpurityImportanceEvaluator(seed=seed)
    elif evaluator == "ped_anova":
        ev = oi.PedAnovaImportanceEvaluator()
    else:
        raise ValueError(f"`evaluator` must be one of {', '.join(EVALUATORS)}; got {evaluator!r}")
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if len(complete) < 2:
        return pd.DataFrame({"param": pd.Series(dtype="string"), "importance": []})
    scores = oi.get_param_importances(study, evaluator=ev, params=params)
    return pd.DataFrame({"param": list(scores), "importance": list(scores.values())})
