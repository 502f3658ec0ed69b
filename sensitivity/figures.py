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
) -> list[FigureInfo]:
    """Write robustness heatmap, seed box+strip plot, ECDF, runtime-to-accuracy curves and
    parameter importance (those the data allow) plus ``INDEX.md`` into ``out_dir``."""
    out = Path(out_dir)
    trials = results.trials
    done = trials[trials["counted"] & trials["state"].eq("COMPLETE").fillna(False)]
    made: list[FigureInfo] = []
    x, y = plot_data.default_axes(done)

    def add(name: str, caption: str, fig) -> None:
        made.append(FigureInfo(name, caption, tuple(plots.save(fig, out, name))))

    if x is not None and y is not None:
        data = plot_data.heatmap_data(done, x=x, y=y)
        add(
            "robustness_heatmap",
            f"Median final validation accuracy over seeds on {plot_data.label_of(x)} x "
            f"{plot_data.label_of(y)}, one panel per strategy (diverged runs count as 0).",
            plots.render_heatmap(data, x=x, y=y),
        )
    if x is not None:
        add(
            "seed_spread",
            f"Final validation accuracy of every seed (dots) and its quartiles (boxes) over "
            f"{plot_data.label_of(x)}, per strategy.",
            plots.render_seed_spread(plot_data.seed_spread_data(done, x=x), x=x),
        )
    if len(done):
        add(
            "accuracy_ecdf",
            "Empirical CDF of the final validation accuracy over all runs, per strategy.",
            plots.render_ecdf(plot_data.ecdf_data(done)),
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
            plots.render_runtime_accuracy(panels),
        )
    imp = metrics.importance(results.study, evaluator=evaluator)  # type: ignore[arg-type]
    if len(imp):
        add(
            "param_importance",
            f"Optuna parameter importance of the study metric ({evaluator} evaluator).",
            plots.render_importance(imp, evaluator=evaluator),
        )
    _write_index(out, results, made, command)
    return made


def _write_index(out: Path, results: StudyResults, made: list[FigureInfo], command: str) -> None:
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
    out.mkdir(parents=True, exist_ok=True)
    (out / "INDEX.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
