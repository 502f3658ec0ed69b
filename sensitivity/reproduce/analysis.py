"""Shared analysis of study results for the reproduction experiments (tables, curve bands, plots).

Failure rule (every table): a run *fails* when it diverged or raised (status not
``complete``) or ends with validation accuracy below :data:`FAIL_ACCURACY` (0.5: on peaks the
ln 5 saddle keeps the accuracy near 0.2-0.4). Failed runs count in ``n`` and ``failures``;
their accuracy (NaN for diverged runs) is left out of the location statistics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sensitivity.reproduce.stats import describe, km_median

__all__ = [
    "FAIL_ACCURACY",
    "failed",
    "first_hit",
    "last_time",
    "group_summary",
    "top_bottom",
    "curve_band",
    "box_dot",
]

FAIL_ACCURACY = 0.5


def failed(trials: pd.DataFrame, column: str = "val_acc") -> pd.Series:
    """Boolean per trial: not complete, or final ``column`` below :data:`FAIL_ACCURACY`."""
    acc = pd.to_numeric(trials[column], errors="coerce")
    return (trials["status"] != "complete") | ~(acc >= FAIL_ACCURACY)


def first_hit(curves: pd.DataFrame, target: float, clock: str) -> pd.Series:
    """Per trial: ``clock`` (e.g. ``cost``, ``wall_time``) at the first row with
    ``val_acc >= target`` (NaN when never reached)."""
    hit = curves[curves["val_acc"] >= target]
    first = hit.sort_values("iteration").groupby("trial")[clock].first()
    return first.reindex(curves["trial"].unique())


def last_time(curves: pd.DataFrame, clock: str) -> pd.Series:
    """Per trial: ``clock`` at its last history row (where a run without a hit is censored)."""
    return curves.sort_values("iteration").groupby("trial")[clock].last()


def group_summary(
    trials: pd.DataFrame,
    by: Sequence[str],
    *,
    value: str = "val_acc",
    hits: dict[str, pd.Series] | None = None,
    ends: dict[str, pd.Series] | None = None,
) -> pd.DataFrame:
    """One row per group: :func:`describe` of ``value`` (failures per :func:`failed`) and, for
    each clock in ``hits`` (trial -> time of first hit), the Kaplan-Meier median time to target;
    a run that never hits is censored at ``ends[clock]`` (trial -> its last time)."""
    rows = []
    fails = failed(trials, value)
    for key, g in trials.groupby(list(by), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        vals = pd.to_numeric(g[value], errors="coerce").where(g["status"] == "complete")
        row = dict(zip(by, key, strict=True))
        row.update(describe(vals.to_numpy(), fails[g.index].to_numpy()))
        for clock, series in (hits or {}).items():
            t = series.reindex(g["trial"]).to_numpy(dtype=float)
            end = (ends or {}).get(clock)
            cens = np.inf if end is None else end.reindex(g["trial"]).to_numpy(dtype=float)
            km = km_median(t, np.isfinite(t), cens)
            row[f"reached_{clock}"] = km["reached"]
            row[f"km_median_{clock}"] = km["km_median"]
            row[f"km_low_{clock}"] = km["km_low"]
            row[f"km_high_{clock}"] = km["km_high"]
        rows.append(row)
    return pd.DataFrame(rows)


def top_bottom(
    trials: pd.DataFrame, by: Sequence[str], config: Sequence[str], k: int = 5
) -> pd.DataFrame:
    """Per group of ``by``: the ``k`` best and ``k`` worst configurations (``config`` columns)
    by mean final validation accuracy over seeds (failed runs count with their accuracy,
    diverged runs as 0)."""
    d = trials.copy()
    d["acc0"] = pd.to_numeric(d["val_acc"], errors="coerce").fillna(0.0)
    rows = []
    for key, g in d.groupby(list(by), dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        cells = (
            g.groupby(list(config), dropna=False)["acc0"]
            .agg(["mean", "min", "count"])
            .reset_index()
            .sort_values("mean", ascending=False)
        )
        for end, part in (("top", cells.head(k)), ("bottom", cells.tail(k).iloc[::-1])):
            for rank, (_, c) in enumerate(part.iterrows(), start=1):
                row = dict(zip(by, key, strict=True))
                row.update({"end": end, "rank": rank})
                row.update({col: c[col] for col in config})
                row.update(
                    {"mean_val_acc": c["mean"], "min_val_acc": c["min"], "seeds": int(c["count"])}
                )
                rows.append(row)
    return pd.DataFrame(rows)


def curve_band(
    curves: pd.DataFrame, trial_ids: Sequence[int], clock: str, grid: np.ndarray
) -> pd.DataFrame:
    """Validation accuracy of each trial as a step function of ``clock`` (last evaluated value;
    0.2 before the first evaluation), on ``grid``: median and quartiles over trials."""
    sub = curves[curves["trial"].isin(trial_ids)].dropna(subset=["val_acc"])
    vals = []
    for _, c in sub.groupby("trial"):
        c = c.sort_values(clock)
        idx = np.searchsorted(c[clock].to_numpy(), grid, side="right") - 1
        acc = c["val_acc"].to_numpy()
        vals.append(np.where(idx >= 0, acc[np.clip(idx, 0, None)], 0.2))
    if not vals:
        return pd.DataFrame({clock: grid, "median": np.nan, "q25": np.nan, "q75": np.nan})
    v = np.array(vals)
    return pd.DataFrame(
        {
            clock: grid,
            "median": np.median(v, 0),
            "q25": np.quantile(v, 0.25, 0),
            "q75": np.quantile(v, 0.75, 0),
        }
    )


def box_dot(ax, groups: dict[str, np.ndarray], *, colors: Sequence | None = None) -> None:
    """Box plot (quartiles, whiskers 1.5 IQR, no fliers) plus every value as a jittered dot."""
    labels = list(groups)
    data = [np.asarray(groups[k], dtype=float) for k in labels]
    data_f = [d[np.isfinite(d)] for d in data]
    ax.boxplot(
        [d if len(d) else [np.nan] for d in data_f],
        showfliers=False,
        widths=0.6,
        medianprops={"color": "k"},
    )
    ax.set_xticks(range(1, len(labels) + 1), labels)
    rng = np.random.default_rng(0)
    for i, d in enumerate(data_f, start=1):
        color = colors[i - 1] if colors is not None else f"C{(i - 1) % 10}"
        ax.scatter(
            i + rng.uniform(-0.18, 0.18, len(d)),
            d,
            s=10,
            alpha=0.8,
            color=color,
            zorder=3,
            linewidths=0,
        )
