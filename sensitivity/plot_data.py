"""Pure-data step of every figure: tidy frames in, the exact numbers a plot shows out.

Renderers (:mod:`sensitivity.plots`) only draw these frames, so the numbers can be tested and
exported without matplotlib.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from sensitivity.results import param_columns

__all__ = [
    "heatmap_data",
    "seed_spread_data",
    "ecdf_data",
    "runtime_accuracy_data",
    "label_of",
]


def label_of(column: str) -> str:
    """Readable axis label of a column (``param_learning_rate`` -> ``learning rate``)."""
    name = column.removeprefix("param_").replace("_", " ")
    return {"val acc": "validation accuracy", "train acc": "training accuracy"}.get(name, name)


def _counted(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[trials["counted"]] if "counted" in trials else trials


def _metric_values(df: pd.DataFrame, metric: str) -> pd.Series:
    """Metric with diverged / failed runs at 0 accuracy (they are part of robustness)."""
    v = df[metric].astype("float64")
    if metric in ("val_acc", "train_acc"):
        bad = ~df["status"].eq("complete").fillna(False)
        v = v.where(~bad & np.isfinite(v), 0.0)
    return v


def heatmap_data(
    trials: pd.DataFrame,
    *,
    x: str,
    y: str,
    metric: str = "val_acc",
    agg: Literal["median", "mean", "min"] = "median",
    bins: int | None = None,
) -> pd.DataFrame:
    """Metric aggregated over seeds on the ``x`` by ``y`` grid, per strategy.

    With ``bins`` (sampled designs), a numeric axis with more than ``bins`` distinct values is
    cut into ``bins`` equal bins (log-spaced for positive values), labelled by the bins'
    geometric or arithmetic centres. Returns ``strategy, <x>, <y>, value, n``; diverged/failed
    runs count as accuracy 0.
    """
    df = _counted(trials)
    df = df[df[x].notna() & df[y].notna()]
    work = df[["strategy", x, y]].assign(value=_metric_values(df, metric).to_numpy())
    if bins is not None:
        for c in (x, y):
            work[c] = _binned(work[c], bins)
    g = work.groupby(["strategy", x, y], sort=True)["value"]
    out = g.agg(agg).rename("value").to_frame()
    out["n"] = g.size()
    return out.reset_index()


def _binned(col: pd.Series, bins: int) -> pd.Series:
    values = pd.to_numeric(col, errors="coerce")
    if col.nunique() <= bins or values.isna().any():
        return col
    v = values.to_numpy(float)
    k = max(bins, 2)
    log = bool((v > 0).all())
    lo, hi = (np.log(v.min()), np.log(v.max())) if log else (v.min(), v.max())
    edges = np.linspace(lo, hi, k + 1)
    idx = np.clip(np.searchsorted(edges, np.log(v) if log else v, side="right") - 1, 0, k - 1)
    centres = (edges[:-1] + edges[1:]) / 2
    centres = np.exp(centres) if log else centres
    return pd.Series(centres[idx], index=col.index)


def seed_spread_data(
    trials: pd.DataFrame,
    *,
    x: str,
    panel: str | None = None,
    metric: str = "val_acc",
    bins: int | None = None,
) -> pd.DataFrame:
    """One row per counted trial: ``strategy, <x>, [<panel>,] seed, value`` (box + strip
    plots); ``bins`` as in :func:`heatmap_data`."""
    df = _counted(trials)
    df = df[df[x].notna()]
    cols = [x] if panel is None else [x, panel]
    out = {"strategy": df["strategy"].to_numpy()}
    for c in cols:
        out[c] = (_binned(df[c], bins) if bins is not None else df[c]).to_numpy()
    out["seed"] = df["seed"].to_numpy()
    out["value"] = _metric_values(df, metric).to_numpy()
    return pd.DataFrame(out)


def ecdf_data(trials: pd.DataFrame, *, metric: str = "val_acc") -> pd.DataFrame:
    """Empirical CDF per strategy: ``strategy, value, fraction`` (fraction of runs <= value)."""
    df = _counted(trials)
    parts = []
    for s, g in df.assign(value=_metric_values(df, metric)).groupby("strategy", sort=True):
        v = np.sort(g["value"].to_numpy(float))
        parts.append(
            pd.DataFrame({"strategy": s, "value": v, "fraction": np.arange(1, len(v) + 1) / len(v)})
        )
    if not parts:
        return pd.DataFrame({"strategy": [], "value": [], "fraction": []})
    return pd.concat(parts, ignore_index=True)


def runtime_accuracy_data(
    curves: pd.DataFrame,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    n_points: int = 60,
    metric: str = "val_acc",
) -> pd.DataFrame:
    """Median and IQR over runs of the accuracy reached by time ``t``, per strategy.

    Each run's accuracy at ``t`` is its last evaluated ``metric`` at a time <= ``t`` (NaN rows
    between evaluations are skipped; a run that ended keeps its final value). The time grid is
    log-spaced from the earliest to the latest evaluation over all runs.

    Returns ``strategy, time, median, q25, q75, n_runs``.
    """
    tcol = "wall_time" if clock == "wall" else "modelled_time"
    df = curves[np.isfinite(curves[metric]) & np.isfinite(curves[tcol]) & (curves[tcol] > 0)]
    if df.empty:
        return pd.DataFrame(columns=["strategy", "time", "median", "q25", "q75", "n_runs"])
    t_min, t_max = float(df[tcol].min()), float(df[tcol].max())
    grid = np.geomspace(t_min, t_max, n_points) if t_max > t_min else np.array([t_max])
    out = []
    for s, g in df.groupby("strategy", sort=True):
        runs = []
        for _, run in g.groupby("trial"):
            run = run.sort_values(tcol)
            t = run[tcol].to_numpy(float)
            a = run[metric].to_numpy(float)
            idx = np.searchsorted(t, grid, side="right") - 1
            runs.append(np.where(idx >= 0, a[np.clip(idx, 0, None)], np.nan))
        m = np.vstack(runs)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns before any start
            q25, med, q75 = np.nanpercentile(m, [25, 50, 75], axis=0)
        n = np.isfinite(m).sum(axis=0)
        out.append(
            pd.DataFrame(
                {"strategy": s, "time": grid, "median": med, "q25": q25, "q75": q75, "n_runs": n}
            )  # fmt: skip
        )
    return pd.concat(out, ignore_index=True)


def default_axes(trials: pd.DataFrame) -> tuple[str | None, str | None]:
    """The two searched parameters a heatmap shows: the first two with several values."""
    cols = [c for c in param_columns(trials) if _counted(trials)[c].nunique() > 1]
    return (cols[0] if cols else None, cols[1] if len(cols) > 1 else None)
