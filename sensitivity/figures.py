"""Build every figure of a study from its stored results, and ``INDEX.md`` saying how.

``build_figures`` never trains: it reads :class:`~sensitivity.results.StudyResults` only. The
summary figures and the tables in ``INDEX.md`` are drawn from the frames of
:func:`sensitivity.tables.study_tables` -- the same tables ``sensitivity export`` writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity import metrics, plot_data, plots
from sensitivity.results import StudyResults
from sensitivity.tables import code_version, study_tables

__all__ = ["FigureInfo", "build_figures"]


@dataclass(frozen=True)
class FigureInfo:
    """One written figure: file stem, what it shows, the files."""

    name: str
    caption: str
    paths: tuple[Path, ...]


def _chance(trials: pd.DataFrame) -> float:
    """Chance-level accuracy ``1 / n_classes`` from the records (0 when unknown)."""
    n = pd.to_numeric(trials.get("n_classes", pd.Series(dtype=float)), errors="coerce").dropna()
    return 1.0 / float(n.median()) if len(n) and n.median() > 0 else 0.0


def build_figures(
    results: StudyResults,
    out_dir: str | Path,
    *,
    command: str,
    evaluator: str = "fanova",
    base_samples: int | None = None,
) -> list[FigureInfo]:
    """Write robustness heatmap, seed box+strip plot, ECDF, strategy summary with intervals,
    runtime-to-accuracy curves, variance shares and parameter importance (those the data allow),
    the global sensitivity indices (:mod:`sensitivity.gsa`; ``base_samples``: Sobol' prefix
    design) plus ``INDEX.md`` into ``out_dir``."""
    out = Path(out_dir)
    trials = results.trials
    tables = study_tables(results)
    # every finished design point: complete, diverged and failed (the last two at accuracy 0)
    done = trials[trials["counted"] & trials["state"].isin(["COMPLETE", "FAIL"]).fillna(False)]
    made: list[FigureInfo] = []
    x, y = plot_data.default_axes(done)
    order = list(results.spec.strategies) if results.spec is not None else None
    target = results.spec.metric.target if results.spec is not None else None

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
            f"{plot_data.label_of(x)}, per strategy (diverged and failed runs at 0)"
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
            "Empirical CDF of the final validation accuracy over all runs, per strategy "
            "(diverged and failed runs at 0).",
            plots.render_ecdf(plot_data.ecdf_data(done), order=order),
        )
    if len(tables["summary"]):
        add(
            "strategy_summary",
            "Per strategy, all runs (diverged/failed count as failures and as accuracy 0): "
            + (
                f"share of runs with final accuracy >= {target:g} (Wilson 95% CI), "
                if target
                else ""
            )
            + "median final accuracy (bootstrap 95% CI)"
            + (
                ", Kaplan-Meier median time to the target (95% CI; runs that never reach it are "
                "censored; 'not reached' when the median run never arrives, arrow: upper bound not "
                "reached)."
                if len(tables["time_to_target"])
                else "."
            ),  # fmt: skip
            plots.render_strategy_summary(
                tables["summary"], tables["time_to_target"], target=target, order=order
            ),  # fmt: skip
        )
    if len(tables["time_to_target_curve"]):
        add(
            "time_to_target",
            f"Share of runs that have not reached {target:g} validation accuracy by a given wall "
            "time (left) and modelled parallel time (right), per strategy: Kaplan-Meier curve "
            "with 95% log-log band; runs that never reach the target (diverged and failed ones "
            "included) are censored at the horizon and keep the curve above 0; the dashed line "
            "marks the median.",
            plots.render_time_to_target(
                tables["time_to_target_curve"], target=target, order=order
            ),  # fmt: skip
        )
    if len(results.curves):
        chance = _chance(trials)
        panels = {
            clock: plot_data.runtime_accuracy_data(
                results.curves, clock=clock, chance=chance, trials=trials
            )
            for clock in ("wall", "modelled")
        }
        add(
            "runtime_to_accuracy",
            "Validation accuracy reached by a given wall time (left) and modelled parallel time "
            "(right), over all runs: each run is a step function (chance level "
            f"{chance:.3g} before its first evaluation, its last evaluation carried forward "
            "after it ends); median (line) with bootstrap 95% CI (band) and quartiles (dotted).",
            plots.render_runtime_accuracy(panels, order=order),
        )
    shares = tables["variance_shares"]
    if len(done) > 1:
        add(
            "variance_shares",
            "Share of the variance of the final validation accuracy (diverged = 0) explained by "
            "each factor's main effect (seed vs strategy vs each hyperparameter; LMG split of "
            f"the additive model's R^2; numeric factors with > {metrics.VARIANCE_BINS} values in "
            f"{metrics.VARIANCE_BINS} quantile bins); residual = interactions + noise.",
            plots.render_variance_shares(shares),
        )
    imp = metrics.importance(results.study, evaluator=evaluator)  # type: ignore[arg-type]
    if len(imp):
        add(
            "param_importance",
            f"Optuna parameter importance of the study metric ({plots.EVALUATOR_NAMES[evaluator]}"
            " evaluator, complete trials); a second view beside the variance shares.",
            plots.render_importance(imp, evaluator=evaluator),
        )
    index = _index_tables(tables, target)
    refused = _global_indices(
        results, out, order, add_made=made.append, tables=index, base_samples=base_samples
    )
    _write_index(out, results, made, command, index)
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


def _cell(v) -> str:
    if isinstance(v, float | np.floating):
        if math.isinf(v):
            return "not reached"
        return "" if math.isnan(v) else f"{v:.3g}"
    return str(v)


def _ci(df: pd.DataFrame, col: str, lo: str, hi: str) -> pd.Series:
    """``value [low, high]`` text per row."""
    return pd.Series([f"{_cell(a)} [{_cell(b)}, {_cell(c)}]"
                      for a, b, c in zip(df[col], df[lo], df[hi], strict=True)],
                     index=df.index, dtype=object)  # fmt: skip


def _md_table(df: pd.DataFrame) -> list[str]:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        lines.append("| " + " | ".join(_cell(v) for v in row.tolist()) + " |")
    return lines


def _index_tables(tables: dict[str, pd.DataFrame], target: float | None) -> list[str]:
    """The exported tables as Markdown, intervals as ``estimate [low, high]``."""
    s = tables["summary"]
    if not len(s):
        return []
    view = pd.DataFrame({"strategy": s["strategy"], "runs": s["n"], "diverged": s["diverged"],
                         "failed": s["failed"]})  # fmt: skip
    if target is not None:
        view[f"success rate (acc >= {target:g}) [Wilson 95% CI]"] = _ci(
            s, "success_rate", "success_low", "success_high"
        )
    view["median accuracy [bootstrap 95% CI]"] = _ci(s, "median", "median_low", "median_high")
    view["IQR"] = [f"{_cell(a)} - {_cell(b)}" for a, b in zip(s["q25"], s["q75"], strict=True)]
    view["worst"] = s["worst"]
    lines = ["", "## Final validation accuracy per strategy (`summary.csv`)", "",
             "All runs over seeds and parameters; diverged and failed runs count as accuracy 0 "
             f"and as failures. Bootstrap: {metrics.BOOTSTRAP_RESAMPLES} resamples, seed "
             f"{metrics.BOOTSTRAP_SEED}, percentile intervals.", ""]  # fmt: skip
    lines += _md_table(view)
    t = tables["time_to_target"]
    if len(t):
        tv = pd.DataFrame({"strategy": t["strategy"], "clock": t["clock"], "runs": t["n"],
                           "reached": t["reached"]})  # fmt: skip
        tv["median time to target [s] [95% CI]"] = _ci(t, "median", "median_low", "median_high")
        lines += ["", f"## Time to {target:g} validation accuracy, Kaplan-Meier "
                  "(`time_to_target.csv`)", "",
                  "Runs that never reach the target (diverged and failed ones included) are "
                  "right-censored at the horizon; 'not reached' = the survival curve never drops "
                  "to 0.5. CI: log-log pointwise band at 0.5.", ""]  # fmt: skip
        lines += _md_table(tv)
    p = tables["paired"]
    if len(p):
        pv = pd.DataFrame({"strategy": p["strategy"], "baseline": p["baseline"],
                           "pairs": p["pairs"]})  # fmt: skip
        pv["median difference [bootstrap 95% CI]"] = _ci(
            p, "median_difference", "median_low", "median_high"
        )
        pv["share better"] = p["share_better"]
        pv["share worse"] = p["share_worse"]
        pv["Wilcoxon p"] = p["wilcoxon_p"]
        lines += ["", "## Paired differences of the final accuracy (`paired.csv`)", "",
                  "Same seed and parameters; diverged = 0; Wilcoxon signed-rank test, two-sided.",
                  ""]  # fmt: skip
        lines += _md_table(pv)
    v = tables["variance_shares"]
    vv = v[["factor", "share", "levels"]].copy()
    vv["quantile bins"] = ["yes" if b else "" for b in v["binned"]]
    lines += ["", "## Variance of the final accuracy explained by each factor "
              "(`variance_shares.csv`)", "",
              f"Main effects, LMG split of R^2; numeric factors with more than "
              f"{metrics.VARIANCE_BINS} values cut into {metrics.VARIANCE_BINS} quantile bins; "
              "residual = interactions + noise.", ""]  # fmt: skip
    lines += _md_table(vv)
    return lines


def _write_index(
    out: Path, results: StudyResults, made: list[FigureInfo], command: str, tables: list[str]
) -> None:
    name = results.spec.name if results.spec else results.study.study_name
    lines = [f"# Figures of study `{name}`", ""]
    if results.spec is not None and results.spec.regenerates:
        lines += [f"Regenerates: {results.spec.regenerates}", ""]
    t = results.trials
    n_done = int((t["counted"] & t["state"].eq("COMPLETE")).sum())
    n_failed = int((t["counted"] & t["state"].eq("FAIL")).sum())
    lines += [
        f"Made from stored results only ({n_done} complete and {n_failed} failed design points) "
        "by:",
        "",
        "```",
        command,
        "```",
        "",
        f"Analysis code version: `{code_version()}`.",
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
