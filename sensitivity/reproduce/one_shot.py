"""Exact vs one-shot MGRIT training over the initial scale (TPE): does layer-parallel one-shot
training reach the accuracy of exact (serial-equivalent) training, and how fast on the
modelled parallel clock?

Study: ``studies/one_shot_tpe.toml`` (resized per scale), one rank (MGRIT is emulated serially;
the modelled time is the critical path of the layer-parallel run). Tables
(``results/summaries/one_shot_tpe/``): ``summary.csv`` per one-shot flag x MGRIT iterations per
step: runs, failures (Wilson 95 %), final validation accuracy (median with bootstrap 95 %,
min, max), Kaplan-Meier median modelled and wall time to the study's target; ``trials.csv``.
Figures: the harness figures of the study (``python -m sensitivity figures``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sensitivity.reproduce.analysis import failed, first_hit, group_summary, last_time
from sensitivity.reproduce.base import Experiment, Paths, write_index, write_meta, write_table
from sensitivity.reproduce.stats import unpaired
from sensitivity.reproduce.studies import derive, run_study

NAME = "one_shot_tpe"
STUDY = "one_shot_tpe.toml"
OVERRIDES = {
    "smoke": {
        "problem": {
            "data": {"n_train_per_class": 15, "n_val_per_class": 10, "grid_size": 64},
            "network": {"n_layers": 8},
        },
        "training": {"stop": {"max_iterations": 4, "eval_every": 1}},
        "design": {"points": 4, "seeds": 1},
        "metric": {"target": 0.3},
    },
    "committed": {
        "problem": {"data": {"n_train_per_class": 50}},
        "training": {"stop": {"max_iterations": 60}},
        "design": {"points": 24, "seeds": 2},
        "metric": {"target": 0.8, "budget": 60.0},
    },
    "paper": {},
}
SIZES = {
    "smoke": "15 points/class, N = 8, 4 iterations, 4 TPE trials",
    "committed": "50 points/class, N = 32, 60 L-BFGS iterations, 24 TPE trials over 2 seeds, "
    "target 0.8 within 60 s of modelled time",
    "paper": "the study file: 1000 points/class, N = 32, 300 iterations, 60 TPE trials over "
    "3 seeds",
}


def run(scale: str, paths: Paths) -> list[Path]:
    from sensitivity.figures import build_figures

    study = derive(STUDY, OVERRIDES[scale], NAME, paths)
    res = run_study(study)
    t = res.counted().copy()
    t["failed"] = failed(t)
    t["mode"] = (
        t["param_one_shot"]
        .map({True: "one-shot", False: "exact"})
        .fillna(t["param_one_shot"].astype(str))
    )
    target = float(res.spec.metric.target)
    hits = {c: first_hit(res.curves, target, c) for c in ("modelled_time", "wall_time")}
    ends = {c: last_time(res.curves, c) for c in ("modelled_time", "wall_time")}
    summary = group_summary(t, ["mode", "param_iterations"], hits=hits, ends=ends)
    acc = pd.to_numeric(t["val_acc"], errors="coerce")
    compare = pd.DataFrame(
        [
            {
                "a": "one-shot",
                "b": "exact",
                **unpaired(acc[t["mode"] == "one-shot"], acc[t["mode"] == "exact"]),
            }
        ]
    )
    out = paths.summary_dir(NAME)
    figdir = paths.figure_dir(NAME)
    written = [
        write_table(summary, out, "summary"),
        write_table(compare, out, "one_shot_vs_exact"),
        write_table(
            t[
                [
                    "trial",
                    "seed",
                    "mode",
                    "param_iterations",
                    "param_init_scale",
                    "status",
                    "val_acc",
                    "failed",
                    "wall_time",
                    "modelled_time",
                    "value",
                ]
            ],
            out,
            "trials",
        ),
        write_meta(out, EXPERIMENT, scale, {"target_accuracy": target, "runs": len(t)}),
    ]
    made = build_figures(
        res, figdir, command=f"python -m sensitivity reproduce {NAME} --scale {scale}"
    )
    written += [p for info in made for p in info.paths]
    harness_index = (figdir / "INDEX.md").read_text(encoding="utf-8")
    rows = [
        (p.stem, "harness figure (see the study's figure index below)")
        for p in sorted(figdir.glob("*.png"))
    ]
    written.append(
        write_index(
            figdir,
            EXPERIMENT,
            scale,
            rows,
            tables=[
                (
                    "Final accuracy and time to target per mode",
                    summary[
                        [
                            "mode",
                            "param_iterations",
                            "n",
                            "failures",
                            "median",
                            "median_ci_low",
                            "median_ci_high",
                            "min",
                            "max",
                            "reached_modelled_time",
                            "km_median_modelled_time",
                            "km_median_wall_time",
                        ]
                    ],
                ),
                ("One-shot vs exact (unpaired: TPE draws the points)", compare),
            ],
            notes=[
                f"Target {target:g}; times: Kaplan-Meier median, runs censored at their end.",
                "## Harness figure index\n\n" + harness_index.split("\n", 1)[1],
            ],
            summaries=out,
        )
    )
    return written


EXPERIMENT = Experiment(
    name=NAME,
    title="Guenther et al. 2020: exact vs one-shot MGRIT training (1 or 2 MGRIT iterations "
    "per step) over the initial scale, accuracy and time to target (TPE)",
    claims=("layer-parallel training matches serial training and gives speed-up",),
    studies=(STUDY,),
    paper_size=SIZES["paper"],
    sizes=SIZES,
    run=run,
)
