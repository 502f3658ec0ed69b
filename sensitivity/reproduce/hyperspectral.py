"""Nested vs direct training on a hyperspectral or image data set: Indian Pines when the user
supplies the cube, otherwise the scikit-learn 8 x 8 digits (said so in the INDEX.md).

Indian Pines is not shipped (PAPERS.md): put the 220-band cube at
``data/indian_pines/Indian_pines.mat`` and the ground truth at
``data/indian_pines/Indian_pines_gt.mat`` (or the environment variables
``INDIAN_PINES_CUBE`` / ``INDIAN_PINES_GT``). The runs derive from
``studies/nested_vs_direct.toml`` (same variants and both optimiser variants, a smaller grid);
tables and figures as in :mod:`sensitivity.reproduce.nested_stats`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sensitivity.reproduce.base import REPO, Experiment, Paths
from sensitivity.reproduce.nested_stats import analyse
from sensitivity.reproduce.studies import derive, run_study

NAME = "nested_hyperspectral"
STUDY = "nested_vs_direct.toml"
CUBE = REPO / "data" / "indian_pines" / "Indian_pines.mat"
GT = REPO / "data" / "indian_pines" / "Indian_pines_gt.mat"


def cube_paths() -> tuple[Path, Path] | None:
    """(cube, ground truth) when the user supplied both, else None."""
    cube = Path(os.environ.get("INDIAN_PINES_CUBE", CUBE))
    gt = Path(os.environ.get("INDIAN_PINES_GT", GT))
    return (cube, gt) if cube.exists() and gt.exists() else None


def _grid(scale: str, layers: list[int], iters: int, budget: list[int], seeds: int) -> dict:
    return {
        "strategies": {"nested": {"layers": layers, "level_iterations": iters}},
        "training": {"stop": {"max_iterations": iters, "eval_every": max(1, iters // 10)}},
        "space": {
            "budget": {"values": budget},
            "gamma_tik": {"values": [1e-5]},
            "scale_hidden": {"values": [1e-3, 1.0]},
            "scale_class": {"values": [1e-1]},
            "interpolation": {"values": ["linear"]},
            "level_tolerance": {"values": [0.9]},
        },
        "design": {"seeds": seeds},
    }


def overrides(scale: str) -> tuple[dict, str]:
    found = cube_paths()
    small = scale == "smoke"
    if found is not None:
        cube, gt = found
        iters = 5 if small else 100
        over = _grid(scale, [14, 28], iters, [iters, iters * 3 // 2], 1 if small else 3)
        over["problem"] = {
            "dataset": "indian_pines",
            "data": {
                "cube_path": str(cube),
                "gt_path": str(gt),
                "n_train": 400 if small else 4000,
                "n_val": 200 if small else 2000,
                "seed": 0,
                "n_train_per_class": None,
                "n_val_per_class": None,
            },
            "network": {"width": 32, "n_layers": 28, "t_final": 20.0},
        }
        return over, f"Indian Pines from `{cube}` and `{gt}`."
    iters = 4 if small else 40
    over = _grid(
        scale, [4, 8] if small else [8, 16], iters, [iters, iters * 3 // 2], 1 if small else 2
    )
    over["problem"] = {
        "dataset": "digits",
        "data": {
            "n_train": 200 if small else None,
            "n_val": 0.2,
            "seed": 0,
            "n_train_per_class": None,
            "n_val_per_class": None,
        },
        "network": {"width": 16, "n_layers": 8 if small else 16},
    }
    over["metric"] = {"target": 0.3 if small else 0.9}
    note = (
        f"Indian Pines cube not found at `{CUBE.relative_to(REPO)}` (ground truth "
        f"`{GT.relative_to(REPO)}`; or set INDIAN_PINES_CUBE / INDIAN_PINES_GT): this run "
        "uses the scikit-learn 8 x 8 digits instead."
    )
    return over, note


SIZES = {
    "smoke": "digits (200 training images), 4 -> 8 layers, 4 iterations per level; or Indian "
    "Pines 400/200 pixels, 5 iterations",
    "committed": "digits (all 1797 images, 20 % validation), width 16, 8 -> 16 layers, 40 "
    "iterations per level, 2 seeds: 32 runs; or Indian Pines 4000/2000 pixels, width 32, "
    "14 -> 28 layers, T = 20, 100 iterations",
    "paper": "as committed (the papers' Indian Pines set-up needs width 220: not run here)",
}


def run(scale: str, paths: Paths) -> list[Path]:
    over, note = overrides(scale)
    print(f"{NAME}: {note}", flush=True)
    study = derive(STUDY, over, NAME, paths)
    return analyse(run_study(study), NAME, EXPERIMENT, scale, paths, notes=(note,))


EXPERIMENT = Experiment(
    name=NAME,
    title="Cyr/Guenther/Schroder 2019 on a second data set: nested vs direct training on "
    "Indian Pines (user-supplied cube) or, without it, the 8 x 8 digits",
    claims=("nested iteration reduces run time for equivalent accuracy",),
    studies=(STUDY,),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
