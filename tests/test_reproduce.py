"""`python -m sensitivity reproduce`: every experiment of PAPERS.md at the smoke scale (about a
minute in total), its tables, figures and INDEX.md, the listing and resumability."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sensitivity.cli import main
from sensitivity.errors import StudyError
from sensitivity.reproduce import EXPERIMENTS, reproduce
from sensitivity.reproduce.base import Paths
from sensitivity.reproduce.stats import describe, km_median, paired, wilson

EXPECTED = {
    "peaks_decision_regions": (["networks"], ["decision_regions"]),
    "nested_statistics": (
        ["summary", "top_bottom", "paired", "optimizer_effect", "trials"],
        ["accuracy_vs_time", "final_accuracy"],
    ),
    "nested_settings": (["summary", "effect", "trials"], ["settings"]),
    "init_scale_lr": (["summary", "cells", "seed_spread", "paired", "trials"],
                      ["seed_spread", "scale_spread"]),
    "spline_robustness": (
        ["summary", "by_knots_depth", "paired", "consistency_slopes", "trials"],
        ["robustness", "robustness_by_knots_depth", "step_size_consistency",
         "params_vs_accuracy"],
    ),
    "box_lsgd_regression": (["summary", "paired", "histories"], ["error_vs_iteration_and_time"]),
    "one_shot_tpe": (["summary", "one_shot_vs_exact", "trials"], ["runtime_to_accuracy"]),
    "nested_hyperspectral": (["summary", "paired", "trials"], ["accuracy_vs_time"]),
    "mgrit": ([], ["training_histories", "residual_convergence", "speedup"]),
}  # fmt: skip


def test_every_experiment_is_listed(capsys) -> None:
    assert set(EXPERIMENTS) == set(EXPECTED)
    assert main(["reproduce", "--list", "--scale", "smoke"]) == 0
    out = capsys.readouterr().out
    for name in EXPECTED:
        assert name in out
    with pytest.raises(StudyError, match="unknown experiment nope"):
        reproduce(["nope"], "smoke")
    with pytest.raises(StudyError, match="--scale"):
        reproduce(["mgrit"], "huge")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reproduce")
    assert main(["reproduce", "all", "--scale", "smoke", "--root", str(root)]) == 0
    return root


@pytest.mark.parametrize("name", list(EXPECTED))
def test_smoke_scale_writes_tables_figures_and_index(smoke: Path, name: str) -> None:
    paths = Paths.for_scale("smoke", smoke)
    tables, figures = EXPECTED[name]
    for t in tables:
        df = pd.read_csv(paths.summaries / name / f"{t}.csv")
        assert len(df) > 0 and df["code_version"].nunique() == 1
    assert (paths.summaries / name / "meta.json").exists()
    for f in figures:
        for ext in ("png", "pdf"):
            assert (paths.figures / name / f"{f}.{ext}").stat().st_size > 1000
    index = (paths.figures / name / "INDEX.md").read_text()
    assert f"python -m sensitivity reproduce {name} --scale smoke" in index
    assert "smoke" in index and "code version" in index


def test_nested_statistics_tables(smoke: Path) -> None:
    out = Paths.for_scale("smoke", smoke).summaries / "nested_statistics"
    s = pd.read_csv(out / "summary.csv")
    assert set(s["param_non_descent"]) == {"reset", "keep"}
    assert {"direct (L)", "direct (1.5L)"} <= set(s["variant"])
    assert s["variant"].str.startswith("nested").any()
    trials = pd.read_csv(out / "trials.csv")
    assert s["n"].sum() == len(trials) == 16  # failed runs are counted, none dropped
    assert (s["failures"] <= s["n"]).all()
    tb = pd.read_csv(out / "top_bottom.csv")
    assert set(tb["end"]) == {"top", "bottom"}


def test_reproduce_resumes_without_new_runs(smoke: Path) -> None:
    from sensitivity.results import load

    paths = Paths.for_scale("smoke", smoke)
    before = len(load(paths.storage / "nested_statistics").trials)
    reproduce(["nested_statistics", "peaks_decision_regions"], "smoke", root=smoke,
              log=lambda m: None)  # fmt: skip
    assert len(load(paths.storage / "nested_statistics").trials) == before


def test_statistics_helpers() -> None:
    lo, hi = wilson(0, 10)
    assert lo == 0 and 0.2 < hi < 0.35
    d = describe([0.9, 0.8, float("nan"), 0.85], [False, False, True, False])
    assert d["n"] == 4 and d["failures"] == 1 and d["median"] == pytest.approx(0.85)
    assert d["median_ci_low"] <= d["median"] <= d["median_ci_high"]
    p = paired([1.0, 2.0, 3.0, 4.0], [0.0, 1.5, 2.0, 3.0])
    assert p["pairs"] == 4 and p["share_better"] == 1.0 and p["median_diff"] == 1.0
    # Kaplan-Meier: 2 of 4 reach at t = 1 and 2; 2 censored at 10 -> median 2
    km = km_median([1.0, 2.0, float("nan"), float("nan")], [True, True, False, False], 10.0)
    assert km["km_median"] == 2.0 and km["reached"] == 2
    km = km_median([1.0, float("nan"), float("nan")], [True, False, False], [5.0, 5.0, 5.0])
    assert km["km_median"] == float("inf")  # only a third reach it: no median
