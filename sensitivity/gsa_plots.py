"""Figures of the global sensitivity indices (:mod:`sensitivity.gsa`), named after the method.

* ``sobol_indices`` -- per strategy, bars of S1 and ST per factor with their confidence
  intervals (error bars), and the seed-noise share of the total variance as its own bar;
* ``morris`` -- per strategy, mu* against sigma per factor, mu* with its interval;
* ``delta_indices`` -- per strategy, bars of delta and S1 with their intervals, and the seed
  share.

Pure renderers of the exported tables (``matplotlib.figure.Figure``, no pyplot state and no
backend switch); :func:`build` writes PNG + PDF and returns (name, caption, paths).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sensitivity.gsa import GSAResult

__all__ = ["render_bars", "render_morris", "build", "markdown_tables"]

_BARS = {"sobol": (("S1", "first order S1"), ("ST", "total ST")),
         "delta": (("delta", "delta (moment-independent)"), ("S1", "first order S1"))}  # fmt: skip


def _strategies(df: pd.DataFrame, order: list[str] | None) -> list[str]:
    present = list(dict.fromkeys(df["strategy"]))
    return [s for s in (order or present) if s in present]


def render_bars(result: GSAResult, order: list[str] | None = None) -> Figure:
    """One panel per strategy: two bars per factor (S1/ST or delta/S1) with intervals
    (value +- conf), plus a grey bar for the seed share with its bootstrap interval."""
    df, noise = result.indices, result.seed_noise.set_index("strategy")
    strategies = _strategies(df, order)
    fig = Figure(figsize=(4.2 * len(strategies) + 0.6, 3.8), layout="constrained")
    axes = fig.subplots(1, len(strategies), sharey=True, squeeze=False)[0]
    (k1, l1), (k2, l2) = _BARS[result.method]
    for ax, s in zip(axes, strategies, strict=True):
        g = df[df["strategy"] == s]
        x = np.arange(len(g))
        w = 0.38
        for off, key, label, color in ((-w / 2, k1, l1, "C0"), (w / 2, k2, l2, "C1")):
            ax.bar(x + off, g[key], w, yerr=g[f"{key}_conf"], capsize=3, color=color,
                   label=label)  # fmt: skip
        labels = list(g["factor"])
        if s in noise.index and np.isfinite(noise.at[s, "seed_share"]):
            v = noise.at[s, "seed_share"]
            err = [[v - noise.at[s, "seed_share_low"]], [noise.at[s, "seed_share_high"] - v]]
            ax.bar([len(g)], [v], w, yerr=err, capsize=3, color="0.6",
                   label="seed noise share of total variance")  # fmt: skip
            labels.append("seed")
        ax.set_xticks(np.arange(len(labels)), labels, rotation=30, ha="right")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(s)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("index")
    axes[0].legend(loc="upper right", fontsize=8)
    return fig


def render_morris(result: GSAResult, order: list[str] | None = None) -> Figure:
    """One panel per strategy: mu* (x, with its interval) against sigma (y), one labelled point
    per factor; points near the diagonal sigma = mu* interact or act non-linearly."""
    df = result.indices
    strategies = _strategies(df, order)
    fig = Figure(figsize=(4.2 * len(strategies) + 0.6, 3.8), layout="constrained")
    axes = fig.subplots(1, len(strategies), sharex=True, sharey=True, squeeze=False)[0]
    top = float(np.nanmax(np.r_[df["mu_star"] + df["mu_star_conf"], df["sigma"], 1e-12]))
    for ax, s in zip(axes, strategies, strict=True):
        g = df[df["strategy"] == s]
        ax.errorbar(g["mu_star"], g["sigma"], xerr=g["mu_star_conf"], fmt="o", capsize=3)
        for _, r in g.iterrows():
            ax.annotate(r["factor"], (r["mu_star"], r["sigma"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)  # fmt: skip
        ax.plot([0, top * 1.1], [0, top * 1.1], color="0.6", lw=0.8, ls="--")
        ax.set_xlim(0, top * 1.15)
        ax.set_ylim(0, top * 1.15)
        ax.set_title(s)
        ax.set_xlabel("mu* (mean |elementary effect|)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("sigma (std of elementary effects)")
    return fig


_CAPTIONS = {
    "sobol": "Sobol' indices of the seed-mean response per strategy (SALib): first order S1 and "
    "total ST per factor with {conf:.0%} bootstrap intervals (error bars), and the share of the "
    "total variance that is seed noise (grey, percentile bootstrap over design rows).",
    "morris": "Morris screening per strategy (SALib): mu* (mean absolute elementary effect of "
    "the seed-mean response per unit of the normalised factor range, {conf:.0%} bootstrap "
    "interval) against sigma; dashed: sigma = mu*.",
    "delta": "Given-data indices per strategy (SALib delta method on the stored points' "
    "seed-mean response): delta and first order S1 per factor with {conf:.0%} bootstrap "
    "intervals, and the seed-noise share of the total variance (grey).",
}


def build(result: GSAResult, out_dir: str | Path, *, conf: float, order: list[str] | None = None
          ) -> list[tuple[str, str, list[Path]]]:  # fmt: skip
    """Write the method's figure (``<stem>.png`` + ``.pdf``) into ``out_dir``."""
    from sensitivity.plots import save

    fig = render_morris(result, order) if result.method == "morris" else render_bars(result, order)
    return [
        (result.stem, _CAPTIONS[result.method].format(conf=conf), save(fig, out_dir, result.stem))
    ]


def markdown_tables(result: GSAResult) -> list[str]:
    """The index table and the seed-noise table as Markdown lines (for ``INDEX.md``)."""
    from sensitivity.figures import _md_table

    title = {"sobol": "Sobol' indices (seed-mean response)", "morris": "Morris screening",
             "delta": "Given-data indices (delta method)"}[result.method]  # fmt: skip
    lines = ["", f"## {title} -- `{result.stem}.csv`", ""]
    lines += _md_table(result.indices)
    lines += ["", "## Seed noise: share of the total variance -- `seed_noise.csv`", ""]
    lines += _md_table(result.seed_noise)
    if len(result.filled):
        lines += ["", f"{len(result.filled)} failed design rows scored at the metric's worst value "
                  "([analysis] missing = \"worst\"), listed in `filled_rows.csv`."]  # fmt: skip
    return lines
