"""Build every figure of a study from its stored results, and ``INDEX.md`` saying how.

``build_figures`` never trains: it reads :class:`~sensitivity.results.StudyResults` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sensitivity import metrics, plot_data, plots
from sensitivity.results import StudyResults

__all__ = ["FigureInfo", "build_figures"]


@dataclass(frozen=True)
class FigureInfo:
    """One written figure: file stem, what it shows, the files."""

    name: str
    caption: str
    paths: tuple[Path, ...]


def build_figures(
    results: StudyResults,
    out_dir: str | Path,
    *,
    command: str,
    evaluator: str = "fanova",
    base_samples: int | None = None,
) -> list[FigureInfo]:
    """Write robustness heatmap, seed box+strip plot, ECDF, runtime-to-accuracy curves and
    parameter importance (those the data allow), the global sensitivity indices
    (:mod:`sensitivity.gsa`; ``base_samples``: Sobol' prefix design) plus ``INDEX.md`` into
    ``out_dir``."""
    out = Path(out_dir)
    trials = results.trials
    done = trials[trials["counted"] & trials["state"].eq("COMPLETE").fillna(False)]
    made: list[FigureInfo] = []
    x, y = plot_data.default_axes(done)
    order = list(results.spec.strategies) if results.spec is not None else None

    def add(name: str, caption: str, fig) -> None:
        made.append(FigureInfo(name, caption, tuple(plots.save(fig, out, name))))

    sampled = results.spec is None or results.spec.design.kind != "grid"
    bins = 5 if sampled else None
    binned = (
        " Sampled design: axes cut into 5 (log) bins, labelled by bin centre." if sampled else ""
    )
    if x is not None and y is not None:
        data = plot_data.heatmap_data(done, x=x, y=y, bins=bins)
        add(
            "robustness_heatmap",
            f"Median final validation accuracy over seeds on {plot_data.label_of(x)} x "
            f"{plot_data.label_of(y)}, one panel per strategy (diverged runs count as 0)." + binned,
            plots.render_heatmap(data, x=x, y=y, order=order),
        )
    if x is not None:
        add(
            "seed_spread",
            f"Final validation accuracy of every seed (dots) and its quartiles (boxes) over "
            f"{plot_data.label_of(x)}, per strategy"
            + (f", one panel per {plot_data.label_of(y)}." if y is not None else ".")
            + binned,
            plots.render_seed_spread(
                plot_data.seed_spread_data(done, x=x, panel=y, bins=bins),
                x=x,
                panel=y,
                order=order,
            ),  # fmt: skip
        )
    if len(done):
        add(
            "accuracy_ecdf",
            "Empirical CDF of the final validation accuracy over all runs, per strategy.",
            plots.render_ecdf(plot_data.ecdf_data(done), order=order),
        )
    if len(results.curves):
        panels = {
            clock: plot_data.runtime_accuracy_data(results.curves, clock=clock)
            for clock in ("wall", "modelled")
        }
        add(
            "runtime_to_accuracy",
            "Validation accuracy reached by a given wall time (left) and modelled parallel time "
            "(right): median (line) and interquartile range (band) over seeds and parameters.",
            plots.render_runtime_accuracy(panels, order=order),
        )
    shares = metrics.variance_shares(done)
    if len(done) > 1:
        add(
            "variance_shares",
            "Share of the variance of the final validation accuracy explained by each factor's "
            "main effect (seed vs strategy vs each hyperparameter); residual = interactions.",
            plots.render_variance_shares(shares),
        )
    imp = metrics.importance(results.study, evaluator=evaluator)  # type: ignore[arg-type]
    if len(imp):
        add(
            "param_importance",
            f"Optuna parameter importance of the study metric ({evaluator} evaluator).",
            plots.render_importance(imp, evaluator=evaluator),
        )
    tables = _summary_tables(results, done, shares)
    refused = _global_indices(
        results, out, order, add_made=made.append, tables=tables, base_samples=base_samples
    )
    _write_index(out, results, made, command, tables)
    if refused is not None:
        raise refused
    return made


def _global_indices(
    results: StudyResults, out: Path, order, *, add_made, tables: list[str], base_samples=None
):
    """Sobol' / Morris / given-data indices figure and tables (:mod:`sensitivity.gsa`).
    Returns the refusal of a sobol_indices / morris study with missing rows (raised by the
    caller once everything else is written); a given-data analysis that cannot run is noted."""
    from sensitivity import gsa, gsa_plots

    spec = results.spec
    if not gsa.applies(spec):
        return None
    try:
        result = gsa.analyze(results.trials, spec, base_samples=base_samples)
    except gsa.AnalysisError as err:
        tables += ["", f"Global sensitivity indices not computed: {err}"]
        return err if spec.design.kind in ("sobol_indices", "morris") else None
    for name, caption, paths in gsa_plots.build(
        result, out, conf=spec.analysis.conf_level, order=order
    ):
        add_made(FigureInfo(name, caption, tuple(paths)))
    tables += gsa_plots.markdown_tables(result)
    return None


def _md_table(df) -> list[str]:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row.tolist()]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _summary_tables(results: StudyResults, done, shares) -> list[str]:
    """Per-strategy robustness, paired differences and variance shares as Markdown."""
    import numpy as np
    import pandas as pd

    if not len(done):
        return []
    target = results.spec.metric.target if results.spec is not None else None
    counted = results.trials[results.trials["counted"]]
    rows = []
    for s, g in counted.groupby("strategy", sort=False):
        v = g["val_acc"].where(g["status"].eq("complete"), np.nan).to_numpy(float)
        fin = v[np.isfinite(v)]
        q25, med, q75 = np.percentile(fin, [25, 50, 75]) if len(fin) else (np.nan,) * 3
        row = {"strategy": s, "runs": len(v), "diverged/failed": int((~np.isfinite(v)).sum()),
               "median": med, "IQR": q75 - q25, "worst": float(np.nanmin(v)) if len(fin) else
               np.nan}  # fmt: skip
        if target is not None:
            row[f"share >= {target:g}"] = float(np.mean(np.nan_to_num(v) >= target))
            ttt = g["time_to_target_wall"].to_numpy(float)
            row["median time to target [s] (reached)"] = (
                float(np.nanmedian(ttt)) if np.isfinite(ttt).any() else np.nan
            )
        rows.append(row)
    lines = ["", "## Final validation accuracy per strategy (over seeds and parameters)", ""]
    lines += _md_table(pd.DataFrame(rows))
    strategies = list(dict.fromkeys(counted["strategy"]))
    if len(strategies) > 1:
        base = strategies[0]
        d = metrics.paired_differences(counted, baseline=base)
        if len(d):
            agg = d.groupby("strategy")["difference"].agg(
                pairs="count", median="median", mean="mean", min="min", max="max"
            )
            agg["share better"] = d.groupby("strategy")["difference"].apply(
                lambda x: (x > 0).mean()
            )
            lines += ["", f"## Paired differences vs `{base}` (same seed and parameters)", ""]
            lines += _md_table(agg.reset_index())
    lines += ["", "## Variance of the final accuracy explained by each factor (main effects)", ""]
    lines += _md_table(shares)
    return lines


def _write_index(
    out: Path, results: StudyResults, made: list[FigureInfo], command: str, tables: list[str]
) -> None:
    name = results.spec.name if results.spec else results.study.study_name
    lines = [f"# Figures of study `{name}`", ""]
    if results.spec is not None and results.spec.regenerates:
        lines += [f"Regenerates: {results.spec.regenerates}", ""]
    n_done = int((results.trials["counted"] & results.trials["state"].eq("COMPLETE")).sum())
    lines += [
        f"Made from stored results only ({n_done} complete design points) by:",
        "",
        "```",
        command,
        "```",
        "",
        "| file | shows |",
        "|---|---|",
    ]
    for f in made:
        files = ", ".join(f"[{p.name}]({p.name})" for p in f.paths)
        lines.append(f"| {files} | {f.caption} |")
    lines += tables
    out.mkdir(parents=True, exist_ok=True)
    (out / "INDEX.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
