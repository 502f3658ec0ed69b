"""The layer-parallel (MGRIT) paper figures of ``benchmarks/figures_mgrit.py`` under the same
entry point: training histories exact vs one-shot MGRIT, residual convergence vs iteration for
N = 32 ... 1024, modelled speed-up vs ranks.

``smoke`` runs the script's ``--quick`` data step into the smoke folders; ``committed`` and
``paper`` reuse the stored CSV files under ``results/summaries/mgrit/`` when all are present
(resumable: the data step takes minutes) and compute them at the script's full size otherwise.
The plots and ``figures/mgrit/INDEX.md`` are always redrawn from the CSV files.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from sensitivity.reproduce.base import REPO, Experiment, Paths, code_version, write_meta

NAME = "mgrit"
FILES = (
    "training_histories.csv",
    "residual_history.csv",
    "convergence_factors.csv",
    "speedup.csv",
    "timings.csv",
)
SIZES = {
    "smoke": "the script's --quick sizes: 100 points/class, 10 iterations, N = 32, 64, "
    "speed-up N = 64, 256 on P <= 8",
    "committed": "the script's full size (see paper); stored CSV files reused when present",
    "paper": "1000 points/class, 100 iterations, N = 32 ... 1024, speed-up N = 256, 1024, 4096 "
    "on P = 1 ... 256 (modelled), about 3 minutes",
}


def _module():
    spec = importlib.util.spec_from_file_location(
        "figures_mgrit", REPO / "benchmarks" / "figures_mgrit.py"
    )
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["figures_mgrit"] = mod  # its process pool pickles functions by module name
    spec.loader.exec_module(mod)
    return mod


def run(scale: str, paths: Paths) -> list[Path]:
    mod = _module()
    mod.DATA_DIR = paths.summary_dir(NAME).resolve()
    mod.FIG_DIR = paths.figure_dir(NAME).resolve()
    if not mod.DATA_DIR.is_relative_to(mod.ROOT):  # the script prints paths relative to ROOT
        mod.ROOT = Path(mod.DATA_DIR.anchor)
    have = all((mod.DATA_DIR / f).exists() for f in FILES)
    if scale == "smoke":
        mod.run_data(quick=True)
    elif not have:
        mod.run_data(quick=False)
    mod.run_plots()
    index = mod.FIG_DIR / "INDEX.md"
    note = (
        f"\n## Reproduction entry point\n\n`python -m sensitivity reproduce {NAME} --scale "
        f"{scale}` (scale **{scale}**: {SIZES[scale]}; paper size: {SIZES['paper']}); "
        f"code version `{code_version()}`.\n"
    )
    index.write_text(index.read_text(encoding="utf-8") + note, encoding="utf-8")
    meta = write_meta(mod.DATA_DIR, EXPERIMENT, scale, {"data_reused": have and scale != "smoke"})
    return [
        *(mod.DATA_DIR / f for f in FILES),
        meta,
        index,
        *sorted(mod.FIG_DIR.glob("*.png")),
        *sorted(mod.FIG_DIR.glob("*.pdf")),
    ]


EXPERIMENT = Experiment(
    name=NAME,
    title="Guenther et al. 2020: training histories exact vs one-shot MGRIT, residual "
    "convergence vs depth, speed-up vs ranks (benchmarks/figures_mgrit.py)",
    claims=("layer-parallel training matches serial training and gives speed-up",),
    studies=(),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
