"""Renderers: draw the frames of :mod:`sensitivity.plot_data` (matplotlib + seaborn).

Every function takes a tidy frame and returns a :class:`matplotlib.figure.Figure`; nothing here
computes a statistic. :func:`save` writes PNG and PDF without timestamps (same data, same
bytes). Importing this module does not choose a matplotlib backend (the ``figures`` command
selects Agg).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sensitivity.plot_data import label_of

__all__ = [
    "render_heatmap",
    "render_seed_spread",
    "render_ecdf",
    "render_runtime_accuracy",
    "render_importance",
    "render_variance_shares",
    "render_strategy_summary",
    "render_time_to_target",
    "EVALUATOR_NAMES",
    "save",
    "strategy_colors",
]


def strategy_colors(strategies: list[str]) -> dict[str, tuple]:
    """One fixed colour per strategy (same in every figure of a study)."""
    palette = sns.color_palette()
    return {s: palette[i % len(palette)] for i, s in enumerate(strategies)}


def _order(data: pd.DataFrame, order: list[str] | None) -> list[str]:
    present = list(dict.fromkeys(data["strategy"]))
    if order is None:
        return sorted(present)
    return [s for s in order if s in present] + sorted(s for s in present if s not in order)


EVALUATOR_NAMES = {"fanova": "fANOVA", "ped_anova": "PED-ANOVA", "mdi": "MDI"}
_RC = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9}


def _fmt(v: object) -> str:
    if isinstance(v, float | np.floating):
        return f"{v:.2g}" if (v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e3)) else f"{v:.3g}"
    return str(v)


def render_heatmap(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    metric_label: str = "validation accuracy",
    order: list[str] | None = None,
) -> Figure:
    """One heatmap panel per strategy of ``value`` over ``x`` (columns) by ``y`` (rows)."""
    strategies = _order(data, order)
    n = max(len(strategies), 1)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, n, figsize=(3.6 * n + 0.8, 3.4), squeeze=False,
                                 constrained_layout=True)  # fmt: skip
        vmin = float(np.nanmin(data["value"])) if len(data) else 0.0
        vmax = float(np.nanmax(data["value"])) if len(data) else 1.0
        for i, (ax, s) in enumerate(zip(axes[0], strategies, strict=False)):
            grid = data[data["strategy"] == s].pivot_table(index=y, columns=x, values="value")
            grid = grid.sort_index(ascending=False)
            annotate = grid.size <= 64 and grid.shape[1] <= 8
            sns.heatmap(
                grid, ax=ax, vmin=vmin, vmax=vmax, cmap="viridis", annot=annotate,
                fmt=".2f", cbar=i == n - 1, cbar_kws={"label": metric_label},
                xticklabels=[_fmt(v) for v in grid.columns],
                yticklabels=[_fmt(v) for v in grid.index],
            )  # fmt: skip
            ax.set_title(str(s))
            ax.set_xlabel(label_of(x))
            ax.set_ylabel(label_of(y) if i == 0 else "")
        fig.suptitle(f"Median {metric_label} over seeds")
    return fig


def render_seed_spread(
    data: pd.DataFrame,
    *,
    x: str,
    panel: str | None = None,
    metric_label: str = "validation accuracy",
    order: list[str] | None = None,
) -> Figure:
    """Box plot (quartiles) plus every seed as a dot, over ``x``, coloured by strategy; one
    panel per value of ``panel`` (so each box is exactly one configuration over seeds)."""
    hue_order = _order(data, order)
    colors = strategy_colors(hue_order)
    d = data.copy()
    d[x] = d[x].map(_fmt)
    xs = [_fmt(v) for v in sorted(data[x].dropna().unique())]
    panels = [None] if panel is None else sorted(data[panel].dropna().unique())
    n = len(panels)
    ncols = n if n <= 3 else 2
    nrows = -(-n // ncols)
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(nrows, ncols, squeeze=False, sharey=True, constrained_layout=True,
                                 figsize=(max(4.5, (0.9 * len(xs) + 0.8) * ncols + 1.2),
                                          3.0 * nrows + 0.6))  # fmt: skip
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        rng = np.random.default_rng(0)  # jitter of the dots, reproducible figures
        width = 0.8 / len(hue_order)
        for i, (ax, pv) in enumerate(zip(axes.flat, panels, strict=False)):
            sub = d if pv is None else d[d[panel] == pv]
            with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib's deprecated `vert`
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", PendingDeprecationWarning)
                sns.boxplot(sub, x=x, y="value", hue="strategy", order=xs, hue_order=hue_order,
                            palette=colors, ax=ax, fliersize=0, boxprops={"alpha": 0.45},
                            legend=i == 0)  # fmt: skip
            for k, strategy in enumerate(hue_order):
                g = sub[sub["strategy"] == strategy]
                pos = np.array([xs.index(v) for v in g[x]], dtype=float)
                pos += -0.4 + (k + 0.5) * width + rng.uniform(-0.3, 0.3, len(pos)) * width
                ax.scatter(pos, g["value"], s=12, color=colors[strategy], alpha=0.9, zorder=3,
                           linewidths=0)  # fmt: skip
            ax.set_xlabel(label_of(x) if i >= n - ncols else "")
            ax.set_ylabel(metric_label if i % ncols == 0 else "")
            if pv is not None:
                ax.set_title(f"{label_of(panel)} = {_fmt(pv)}")
        fig.suptitle(f"Final {metric_label} over seeds (boxes: quartiles, dots: seeds)")
    return fig


def render_ecdf(
    data: pd.DataFrame, *, metric_label: str = "validation accuracy", order: list[str] | None = None
) -> Figure:
    """Empirical CDF of the final metric, one step curve per strategy."""
    strategies = _order(data, order)
    colors = strategy_colors(strategies)
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(4.8, 3.6), constrained_layout=True)
        for s in strategies:
            g = data[data["strategy"] == s]
            ax.step(np.r_[g["value"].min(), g["value"]], np.r_[0.0, g["fraction"]], where="post",
                    label=f"{s} (n={len(g)})", color=colors[s])  # fmt: skip
        ax.set_xlabel(f"final {metric_label}")
        ax.set_ylabel("fraction of runs")
        ax.set_ylim(0, 1.02)
        ax.set_title(f"ECDF of the final {metric_label}")
        ax.legend(loc="upper left")
    return fig


def render_runtime_accuracy(
    panels: dict[str, pd.DataFrame],
    *,
    metric_label: str = "validation accuracy",
    order: list[str] | None = None,
) -> Figure:
    """Median (line) with its confidence band (``median_low..median_high``) and the quartiles
    (dotted) of the accuracy reached by time t; one panel per clock."""
    titles = {"wall": "wall time [s]", "modelled": "modelled parallel time [s]"}
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.6), squeeze=False,
                                 constrained_layout=True, sharey=True)  # fmt: skip
        for ax, (clock, data) in zip(axes[0], panels.items(), strict=True):
            strategies = _order(data, order)
            colors = strategy_colors(strategies)
            for s in strategies:
                g = data[data["strategy"] == s]
                c = colors[s]
                ax.plot(g["time"], g["median"], color=c, label=f"{s} (median, 95% CI)")
                ax.fill_between(g["time"], g["median_low"], g["median_high"], color=c,
                                alpha=0.3, lw=0)  # fmt: skip
                ax.plot(g["time"], g["q25"], color=c, lw=0.8, ls=":")
                ax.plot(g["time"], g["q75"], color=c, lw=0.8, ls=":")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xlabel(titles.get(clock, clock))
            ax.set_title(f"Accuracy vs {titles.get(clock, clock).split(' [')[0]}")
        axes[0][0].set_ylabel(metric_label)
        axes[0][0].legend(loc="lower right")
    return fig


def render_importance(data: pd.DataFrame, *, evaluator: str) -> Figure:
    """Horizontal bars of normalised parameter importance; the evaluator named in the title."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(4.8, 0.45 * max(len(data), 2) + 1.4),
                               constrained_layout=True)  # fmt: skip
        d = data.sort_values("importance")
        ax.barh([label_of(p) for p in d["param"]], d["importance"], color=sns.color_palette()[0])
        ax.set_xlabel(f"importance ({evaluator})")
        ax.set_title(
            f"Hyperparameter importance (Optuna {EVALUATOR_NAMES.get(evaluator, evaluator)})"
        )
        ax.set_xlim(0, max(1.0, float(d["importance"].max()) if len(d) else 1.0))
    return fig


def render_variance_shares(data: pd.DataFrame) -> Figure:
    """Horizontal bars of the main-effect variance shares (``factor, share``; factors cut into
    quantile bins are labelled with their bin count)."""
    with plt.rc_context(_RC):
        fig, ax = plt.subplots(figsize=(4.8, 0.45 * max(len(data), 2) + 1.4),
                               constrained_layout=True)  # fmt: skip
        d = data.iloc[::-1]
        binned = d["binned"] if "binned" in d else pd.Series(False, index=d.index)
        levels = d["levels"] if "levels" in d else binned
        labels = [
            label_of(f) + (f" ({n} quantile bins)" if b else "")
            for f, b, n in zip(d["factor"], binned, levels, strict=True)
        ]
        ax.barh(labels, d["share"], color=sns.color_palette()[2])
        ax.set_xlabel("share of variance of the final accuracy")
        ax.set_xlim(0, 1)
        ax.set_title("Seed vs hyperparameters: variance explained")
    return fig


def render_strategy_summary(
    summary: pd.DataFrame,
    time_to_target: pd.DataFrame,
    *,
    target: float | None,
    order: list[str] | None = None,
) -> Figure:
    """Per strategy with 95 % error bars: success rate (``success_low/high``), median final
    accuracy (``median_low/high``) and, when given, the Kaplan-Meier median time to target per
    clock (an ``inf`` median is written "not reached", an ``inf`` upper bound drawn as an
    open bar ending in an arrow)."""
    strategies = _order(summary, order)
    colors = strategy_colors(strategies)
    panels = ["success", "median"] if target is not None else ["median"]
    clocks = list(dict.fromkeys(time_to_target["clock"])) if len(time_to_target) else []
    panels += [f"time:{c}" for c in clocks]
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels) + 0.6, 3.4),
                                 squeeze=False, constrained_layout=True)  # fmt: skip
        for ax, panel in zip(axes[0], panels, strict=True):
            if panel.startswith("time:"):
                clock = panel.split(":")[1]
                d = time_to_target[time_to_target["clock"] == clock].set_index("strategy")
                col, lo, hi = "median", "median_low", "median_high"
                title = f"median time to {target:g} [s]\n({clock}, Kaplan-Meier)"
            else:
                d = summary.set_index("strategy")
                col, lo, hi = (("success_rate", "success_low", "success_high") if panel == "success"
                               else ("median", "median_low", "median_high"))  # fmt: skip
                title = (f"share of runs >= {target:g}\n(Wilson 95% CI)" if panel == "success"
                         else "median final accuracy\n(bootstrap 95% CI)")  # fmt: skip
            finite_top = [float(v) for v in d[[col, hi]].to_numpy().ravel() if np.isfinite(v)]
            top = max(finite_top, default=1.0)
            for i, s in enumerate(strategies):
                if s not in d.index:
                    continue
                v, a, b = float(d.at[s, col]), float(d.at[s, lo]), float(d.at[s, hi])
                if not np.isfinite(v):
                    ax.text(i, top * 0.5, "not\nreached", ha="center", va="center", fontsize=8)
                    continue
                open_top = not np.isfinite(b)  # upper bound "not reached": open bar + arrow
                b = top * 1.08 if open_top else b
                err = [[v - a if np.isfinite(a) else 0.0], [b - v]]
                ax.errorbar([i], [v], yerr=err, fmt="o", color=colors[s], capsize=0 if open_top
                            else 4)  # fmt: skip
                if open_top:
                    ax.plot([i], [b], marker="^", color=colors[s])
            ax.set_xticks(range(len(strategies)), strategies)
            ax.set_xlim(-0.6, len(strategies) - 0.4)
            ax.set_title(title)
            if not panel.startswith("time:"):
                ax.set_ylim(0, 1.02)
            else:
                ax.set_ylim(0, top * 1.15)
        fig.suptitle("All runs per strategy (failures included)")
    return fig


def render_time_to_target(
    curves: pd.DataFrame, *, target: float, order: list[str] | None = None
) -> Figure:
    """Kaplan-Meier curves (``time, survival, low, high`` per ``strategy`` and ``clock``): the
    share of runs not yet at the target as a step function with its 95 % band; one panel per
    clock, the 0.5 line marks the median."""
    titles = {"wall": "wall time [s]", "modelled": "modelled parallel time [s]"}
    clocks = list(dict.fromkeys(curves["clock"]))
    with plt.rc_context(_RC):
        fig, axes = plt.subplots(1, len(clocks), figsize=(4.6 * len(clocks), 3.6), squeeze=False,
                                 constrained_layout=True, sharey=True)  # fmt: skip
        for ax, clock in zip(axes[0], clocks, strict=True):
            data = curves[curves["clock"] == clock]
            strategies = _order(data, order)
            colors = strategy_colors(strategies)
            for s in strategies:
                g = data[data["strategy"] == s]
                t = g["time"].to_numpy(float)
                t = np.where(t > 0, t, np.nan)
                t[0] = t[1] / 2 if len(t) > 1 and np.isfinite(t[1]) else 1.0  # t = 0 on a log axis
                ax.step(t, g["survival"], where="post", color=colors[s], label=s)
                ax.fill_between(t, g["low"], g["high"], step="post", color=colors[s], alpha=0.25,
                                lw=0)  # fmt: skip
            ax.axhline(0.5, color="black", lw=0.8, ls="--")
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_ylim(0, 1.02)
            ax.set_xlabel(titles.get(clock, clock))
            ax.set_title(f"Runs not yet at {target:g} ({clock})")
        axes[0][0].set_ylabel("share of runs (Kaplan-Meier)")
        axes[0][0].legend(loc="lower left")
    return fig


def save(fig: Figure, directory: str | Path, name: str) -> list[Path]:
    """Write ``<name>.png`` (200 dpi) and ``<name>.pdf``; close the figure."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.png", out / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=200, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                    "Creator": None})  # fmt: skip
    plt.close(fig)
    return paths
