"""What every reproduction experiment shares: scales, output folders, provenance, INDEX.md.

An experiment writes its tables to ``<summaries>/<name>/`` (CSV, each with a ``code_version``
column, plus ``meta.json``) and its figures (PNG + PDF) with an ``INDEX.md`` to
``<figures>/<name>/``. Scales:

* ``smoke``: seconds to a minute; run by the test suite; default output under
  ``results/reproduce-smoke/`` (never over the committed files);
* ``committed``: what fits in the machine budget today; output ``results/summaries/`` and
  ``figures/`` (the committed files);
* ``paper``: the documented full size of the study file (same output folders).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from sensitivity.errors import SpecError

__all__ = [
    "SCALES",
    "REPO",
    "Paths",
    "Experiment",
    "code_version",
    "write_table",
    "write_meta",
    "save_figure",
    "write_index",
]

SCALES: tuple[str, ...] = ("smoke", "committed", "paper")
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Paths:
    """Output roots: tables under ``summaries/<name>``, figures under ``figures/<name>``, study
    storages (large, not in git) under ``storage/<name>``."""

    summaries: Path
    figures: Path
    storage: Path

    @classmethod
    def for_scale(cls, scale: str, root: Path | None = None) -> Paths:
        root = REPO if root is None else Path(root)
        if scale == "smoke":
            base = root / "results" / "reproduce-smoke"
            return cls(base / "summaries", base / "figures", base / "studies")
        return cls(
            root / "results" / "summaries",
            root / "figures",
            root / "results" / f"reproduce-{scale}",
        )

    def summary_dir(self, name: str) -> Path:
        path = self.summaries / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def figure_dir(self, name: str) -> Path:
        path = self.figures / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@dataclass(frozen=True)
class Experiment:
    """One experiment of PAPERS.md.

    Attributes:
        name: folder name under ``results/summaries/`` and ``figures/``.
        title: what it regenerates (paper and figure/table).
        claims: the claims of docs/reproduction.md it tests.
        studies: study files in ``studies/`` it derives its runs from (may be empty).
        paper_size: the documented full size (``scale="paper"``) in words.
        sizes: per scale, the size actually run, in words.
        run: ``run(scale, paths) -> list of written files``.
    """

    name: str
    title: str
    claims: tuple[str, ...]
    studies: tuple[str, ...]
    paper_size: str
    sizes: dict[str, str]
    run: Callable[[str, Paths], list[Path]] = field(repr=False)


def code_version() -> str:
    """Git commit of the code that made a table (:func:`sensitivity.tables.code_version`)."""
    from sensitivity.tables import code_version as version

    return version()


def write_table(df: pd.DataFrame, directory: Path, name: str) -> Path:
    """``<directory>/<name>.csv`` with a trailing ``code_version`` column."""
    out = df.copy()
    out["code_version"] = code_version()
    path = Path(directory) / f"{name}.csv"
    out.to_csv(path, index=False, float_format="%.6g")
    return path


def write_meta(directory: Path, experiment: Experiment, scale: str, extra: dict | None = None):
    """``meta.json``: experiment, scale, sizes, code version, time, command."""
    meta = {
        "experiment": experiment.name,
        "title": experiment.title,
        "scale": scale,
        "size_run": experiment.sizes.get(scale, ""),
        "paper_size": experiment.paper_size,
        "code_version": code_version(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": f"python -m sensitivity reproduce {experiment.name} --scale {scale}",
        **(extra or {}),
    }
    path = Path(directory) / "meta.json"
    path.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def save_figure(fig, directory: Path, name: str) -> list[Path]:
    """PNG (200 dpi) and PDF of ``fig``; the figure is closed."""
    import matplotlib.pyplot as plt

    paths = []
    for ext in ("png", "pdf"):
        path = Path(directory) / f"{name}.{ext}"
        fig.savefig(path, dpi=200 if ext == "png" else None, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def _md(df: pd.DataFrame, digits: int = 3) -> list[str]:
    def cell(v):
        if isinstance(v, float):
            return "" if pd.isna(v) else f"{v:.{digits}g}"
        return str(v)

    lines = ["| " + " | ".join(str(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return lines


def write_index(
    directory: Path,
    experiment: Experiment,
    scale: str,
    figures: Sequence[tuple[str, str]],
    *,
    tables: Iterable[tuple[str, pd.DataFrame]] = (),
    notes: Sequence[str] = (),
    summaries: Path | None = None,
) -> Path:
    """``INDEX.md``: command, scale run and paper size, code version, figures, key tables."""
    lines = [
        f"# {experiment.name}",
        "",
        f"Regenerates: {experiment.title}",
        "",
        "Command (resumable; finished runs are kept):",
        "",
        "```",
        f"python -m sensitivity reproduce {experiment.name} --scale {scale}",
        "```",
        "",
        f"* scale run here: **{scale}** -- {experiment.sizes.get(scale, '')}",
        f"* documented paper size (`--scale paper`): {experiment.paper_size}",
        f"* code version: `{code_version()}`",
    ]
    if experiment.studies:
        lines.append("* study files: " + ", ".join(f"`studies/{s}`" for s in experiment.studies))
    if summaries is not None:
        lines.append(f"* tables: `{_rel(summaries)}/`")
    lines += ["", "| file | shows |", "|---|---|"]
    for name, shows in figures:
        lines.append(f"| [{name}.png]({name}.png), [{name}.pdf]({name}.pdf) | {shows} |")
    for text in notes:
        lines += ["", text]
    for title, df in tables:
        lines += ["", f"## {title}", "", *_md(df)]
    path = Path(directory) / "INDEX.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def check_scale(scale: str) -> str:
    if scale not in SCALES:
        raise SpecError(
            f"`--scale` must be one of {', '.join(SCALES)}; got {scale!r}. Use e.g. --scale smoke."
        )
    return scale
