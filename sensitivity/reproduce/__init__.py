"""Every experiment of PAPERS.md ("Experiments the toolkit must be able to regenerate") by one
entry point:
``python -m sensitivity reproduce --list | NAME ... | all --scale smoke|committed|paper``.

Each experiment writes tables to ``results/summaries/<name>/`` and figures (PNG + PDF) with an
``INDEX.md`` to ``figures/<name>/`` (``smoke``: under ``results/reproduce-smoke/``). Runs are
resumable: studies keep their finished trials, scripts skip finished runs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from sensitivity.errors import Interrupted, SpecError, StudyError
from sensitivity.reproduce import (
    box_regression,
    hyperspectral,
    init_scale,
    mgrit_figures,
    nested_settings,
    nested_stats,
    one_shot,
    peaks_regions,
    spline_robust,
)
from sensitivity.reproduce.base import SCALES, Experiment, Paths, check_scale

__all__ = ["EXPERIMENTS", "SCALES", "Experiment", "Paths", "reproduce", "describe_all"]

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e
    for e in (
        peaks_regions.EXPERIMENT,
        nested_stats.EXPERIMENT,
        nested_settings.EXPERIMENT,
        init_scale.EXPERIMENT,
        spline_robust.EXPERIMENT,
        box_regression.EXPERIMENT,
        one_shot.EXPERIMENT,
        hyperspectral.EXPERIMENT,
        mgrit_figures.EXPERIMENT,
    )
}


def describe_all(scale: str = "committed") -> str:
    """The ``--list`` text: name, what it regenerates, the size of ``scale``."""
    lines = []
    for e in EXPERIMENTS.values():
        lines.append(f"{e.name}\n    {e.title}\n    {scale}: {e.sizes.get(scale, '')}")
    return "\n".join(lines)


def reproduce(
    names: Sequence[str], scale: str, *, root: Path | None = None, log=print
) -> dict[str, list[Path]]:
    """Run the named experiments (``["all"]`` = every one) at ``scale``.

    Raises:
        SpecError: unknown name or scale (nothing run).
        StudyError: after running the others, the names of the experiments that failed.
    """
    check_scale(scale)
    chosen = list(EXPERIMENTS) if list(names) == ["all"] else list(names)
    unknown = [n for n in chosen if n not in EXPERIMENTS]
    if unknown or not chosen:
        raise SpecError(
            f"unknown experiment {', '.join(unknown) or '(none given)'}; use one of: "
            f"{', '.join(EXPERIMENTS)} or all (list them with --list)."
        )
    paths = Paths.for_scale(scale, root)
    done: dict[str, list[Path]] = {}
    errors = []
    for name in chosen:
        start = time.perf_counter()
        log(f"reproduce {name} --scale {scale} ...")
        try:
            done[name] = EXPERIMENTS[name].run(scale, paths)
        except Interrupted:
            raise  # a signal ends the whole command (the running trial was re-queued)
        except (StudyError, ValueError, OSError) as err:
            errors.append(f"{name}: {err}")
            log(f"reproduce {name}: FAILED: {err}")
            continue
        log(f"reproduce {name}: {len(done[name])} files in {time.perf_counter() - start:.0f} s")
    if errors:
        raise StudyError("; ".join(errors))
    return done
