"""Derived metrics on the tidy frames of :mod:`sensitivity.results`.

* :func:`time_to_target` -- per trial, first time the validation accuracy reaches a target
  within the budget; runs that do not are censored at the horizon (the rule of
  :mod:`sensitivity.records`).
* :func:`summarize` -- per configuration (strategy x parameters, over seeds): n, success rate,
  median, quartiles, IQR, mean, std and the worst case.
* :func:`paired_differences` -- per seed and parameter point, a strategy minus a baseline.
* :func:`variance_shares` -- share of the metric's variance explained by each factor's main
  effect (seed, strategy, each parameter): ``SS_between(f) / SS_total``.
* :func:`importance` -- Optuna parameter importance with an explicitly chosen evaluator.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import optuna
import pandas as pd

from sensitivity import records
from sensitivity.results import param_columns

__all__ = [
    "time_to_target",
    "summarize",
    "paired_differences",
    "variance_shares",
    "importance",
    "config_columns",
    "EVALUATORS",
]

EVALUATORS = ("fanova", "mdi", "ped_anova")


def config_columns(df: pd.DataFrame) -> list[str]:
    """Columns that define a configuration: ``strategy`` and every ``param_*`` column."""
    return ["strategy"] + param_columns(df)


def _keys(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Group keys with NaN (parameters of other strategies) replaced by a label."""
    out = df[columns].copy()
    for c in columns:
        out[c] = out[c].astype(object).where(out[c].notna(), "n/a")
    return out


def time_to_target(
    curves: pd.DataFrame,
    target: float,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    budget: float | None = None,
) -> pd.DataFrame:
    """Time to ``target`` of every trial in ``curves`` (:func:`sensitivity.records.time_to_target`).

    Same rule as the stored records: reached at the first evaluation with ``val_acc >= target``
    at a time ``<= budget`` on ``clock``; otherwise censored at the horizon (``budget``, or
    ``inf`` without one) -- the run never reaches the target.

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


def summarize(
    trials: pd.DataFrame,
    *,
    metric: str = "val_acc",
    target: float | None = None,
    higher_is_better: bool = True,
) -> pd.DataFrame:
    """Robustness summary per configuration over seeds (counted trials only).

    Diverged and failed trials count with metric NaN: they lower the success rate and are the
    worst case. ``success`` means status complete and (if ``target``) metric at the target.

    Returns:
        ``strategy, param_*, n, failures, success_rate, median, q25, q75, iqr, mean, std, worst``.
    """
    df = trials[trials["counted"]] if "counted" in trials else trials
    cols = config_columns(df)
    keys = _keys(df, cols)
    values = df[metric].astype("float64")
    ok = df["status"].eq("complete").fillna(False).to_numpy(bool).copy()
    if target is not None:
        hit = values >= target if higher_is_better else values <= target
        ok = ok & hit.fillna(False).to_numpy(bool)
    work = keys.assign(_v=values.to_numpy(), _ok=ok, _bad=~df["status"].eq("complete").to_numpy())
    out = []
    for key, g in work.groupby(cols, sort=True, dropna=False):
        v = g["_v"].to_numpy(float)
        finite = v[np.isfinite(v)]
        bad_worst = -np.inf if higher_is_better else np.inf
        worst = bad_worst if g["_bad"].any() or len(finite) < len(v) else (
            finite.min() if higher_is_better else finite.max())  # fmt: skip
        q25, med, q75 = np.percentile(finite, [25, 50, 75]) if len(finite) else (np.nan,) * 3
        out.append(
            dict(zip(cols, key if isinstance(key, tuple) else (key,), strict=True))
            | {
                "n": len(v),
                "failures": int(g["_bad"].sum()),
                "success_rate": float(g["_ok"].mean()),
                "median": med,
                "q25": q25,
                "q75": q75,
                "iqr": q75 - q25,
                "mean": finite.mean() if len(finite) else np.nan,
                "std": finite.std(ddof=1) if len(finite) > 1 else np.nan,
                "worst": worst,
            }
        )
    return pd.DataFrame(out)


def paired_differences(
    trials: pd.DataFrame, *, metric: str = "val_acc", baseline: str = "random"
) -> pd.DataFrame:
    """Per seed and shared parameter point: ``metric[strategy] - metric[baseline]``.

    Pairs are matched on ``seed`` and the parameters both strategies share (columns with a
    value for the baseline). Returns ``seed, param_*, strategy, value, baseline, difference``.
    """
    df = trials[trials["counted"]] if "counted" in trials else trials
    base = df[df["strategy"] == baseline]
    shared = [c for c in param_columns(df) if base[c].notna().all() and len(base)]
    on = ["seed"] + shared
    left = df[df["strategy"] != baseline][on + ["strategy", metric]]
    right = base[on + [metric]].rename(columns={metric: "baseline"})
    merged = left.merge(right, on=on, how="inner").rename(columns={metric: "value"})
    merged["difference"] = merged["value"] - merged["baseline"]
    return merged.reset_index(drop=True)


def variance_shares(
    trials: pd.DataFrame, *, metric: str = "val_acc", factors: list[str] | None = None
) -> pd.DataFrame:
    """Main-effect share of the metric's variance for each factor.

    ``share(f) = sum_g n_g (mean_g - mean)^2 / sum_i (x_i - mean)^2`` over the groups ``g`` of
    factor ``f``; ``residual = 1 - sum of shares`` (interactions and noise; it can be negative
    for unbalanced designs). Non-finite metric values (diverged runs) are left out.

    Returns:
        ``factor, share`` sorted by share, with a final ``residual`` row.
    """
    df = trials[trials["counted"]] if "counted" in trials else trials
    df = df[np.isfinite(df[metric].astype("float64"))]
    factors = factors or ["seed", "strategy"] + param_columns(df)
    x = df[metric].astype("float64").to_numpy()
    total = float(((x - x.mean()) ** 2).sum()) if len(x) else 0.0
    rows = []
    for f in factors:
        key = _keys(df, [f])[f]
        if total == 0.0 or key.nunique() < 2:
            rows.append({"factor": f, "share": 0.0})
            continue
        g = pd.DataFrame({"k": key.to_numpy(), "x": x}).groupby("k")["x"]
        ss = float((g.count() * (g.mean() - x.mean()) ** 2).sum())
        rows.append({"factor": f, "share": ss / total})
    out = pd.DataFrame(rows).sort_values("share", ascending=False, ignore_index=True)
    residual = 1.0 - float(out["share"].sum()) if total else 0.0
    return pd.concat([out, pd.DataFrame([{"factor": "residual", "share": residual}])],
                     ignore_index=True)  # fmt: skip


def importance(
    study: optuna.Study,
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
