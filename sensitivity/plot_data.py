"""Pure-data step of every figure: tidy frames in, the exact numbers a plot shows out.

Renderers (:mod:`sensitivity.plots`) only draw these frames, so the numbers can be tested and
exported without matplotlib.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from sensitivity import metrics
from sensitivity.records import counted as _counted
from sensitivity.records import param_columns, time_column

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


def _metric_values(df: pd.DataFrame, metric: str) -> pd.Series:
    """Accuracy with diverged / failed runs at 0 (:func:`sensitivity.metrics.accuracy`)."""
    return metrics.accuracy(df, metric)


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


def _step_values(t: np.ndarray, a: np.ndarray, grid: np.ndarray, chance: float) -> np.ndarray:
    """One run's accuracy at the ``grid`` times: the last finite evaluation at a time
    ``<= grid`` (carried forward after the run ends), ``chance`` before the first one."""
    ok = np.isfinite(t) & np.isfinite(a)
    t, a = t[ok], a[ok]
    order = np.argsort(t, kind="stable")
    t, a = t[order], a[order]
    if len(t) == 0:  # never evaluated (e.g. diverged at once): chance level throughout
        return np.full(len(grid), chance)
    idx = np.searchsorted(t, grid, side="right") - 1
    return np.where(idx >= 0, a[np.clip(idx, 0, None)], chance)


def runtime_accuracy_data(
    curves: pd.DataFrame,
    *,
    clock: Literal["wall", "modelled"] = "wall",
    n_points: int = 60,
    metric: str = "val_acc",
    chance: float = 0.0,
    trials: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Accuracy reached by time ``t`` over all runs, per strategy: median, IQR, median CI.

    Each run is a step function of ``t``: ``chance`` (the chance level ``1 / n_classes``)
    before its first evaluation, then its last evaluated ``metric`` (rows without an
    evaluation are skipped), carried forward after the run ended; so every run counts at every
    ``t``. With ``trials``, counted runs without any curve (failed before the first iteration)
    count at ``chance`` throughout. The time grid is log-spaced from the earliest to the latest
    evaluation time over all runs; the median's interval is the bootstrap percentile interval of
    :mod:`sensitivity.metrics` at every grid time.

    Returns:
        ``strategy, time, median, q25, q75, median_low, median_high, n_runs``.
    """
    cols = ["strategy", "time", "median", "q25", "q75", "median_low", "median_high", "n_runs"]
    tcol = time_column(clock)
    ok = np.isfinite(curves[metric]) & np.isfinite(curves[tcol]) & (curves[tcol] > 0)
    if not ok.any():
        return pd.DataFrame(columns=cols)
    t_min, t_max = float(curves.loc[ok, tcol].min()), float(curves.loc[ok, tcol].max())
    grid = np.geomspace(t_min, t_max, n_points) if t_max > t_min else np.array([t_max])
    missing: dict[str, int] = {}
    if trials is not None:
        done = _counted(trials)
        absent = done[~done["trial"].isin(curves["trial"])]
        missing = absent.groupby("strategy").size().to_dict()
    out = []
    strategies = list(dict.fromkeys(list(curves["strategy"]) + list(missing)))
    for s in sorted(strategies):
        g = curves[curves["strategy"] == s]
        runs = [
            _step_values(run[tcol].to_numpy(float, na_value=np.nan),
                         run[metric].to_numpy(float, na_value=np.nan), grid, chance)
            for _, run in g.groupby("trial")
        ]  # fmt: skip
        runs += [np.full(len(grid), chance)] * int(missing.get(s, 0))
        m = np.vstack(runs)
        q25, med, q75 = np.percentile(m, [25, 50, 75], axis=0)
        lo, hi = _median_band(m)
        out.append(pd.DataFrame({"strategy": s, "time": grid, "median": med, "q25": q25,
                                 "q75": q75, "median_low": lo, "median_high": hi,
                                 "n_runs": len(m)}))  # fmt: skip
    return pd.concat(out, ignore_index=True)[cols]


def _median_band(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bootstrap percentile interval of the median over runs (axis 0) at every column."""
    if m.shape[0] < 2:
        return np.full(m.shape[1], np.nan), np.full(m.shape[1], np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # constant columns (all at chance) are degenerate
        res = stats.bootstrap(
            (m,), np.median, axis=0, n_resamples=metrics.BOOTSTRAP_RESAMPLES,
            confidence_level=metrics.CONFIDENCE, method="percentile", batch=100,
            rng=np.random.default_rng(metrics.BOOTSTRAP_SEED),
        )  # fmt: skip
    return res.confidence_interval.low, res.confidence_interval.high


def default_axes(trials: pd.DataFrame) -> tuple[str | None, str | None]:
    """The two searched parameters a heatmap shows: the first two with several values."""
    cols = [c for c in param_columns(trials) if _counted(trials)[c].nunique() > 1]
    return (cols[0] if cols else None, cols[1] if len(cols) > 1 else None)
