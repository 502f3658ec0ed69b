"""End to end: TOML -> storage -> DataFrames -> figure files; idempotent reruns; divergence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
from test_sensitivity_common import write_study

from sensitivity.cli import main
from sensitivity.records import CURVE_COLUMNS
from sensitivity.results import TRIAL_COLUMNS, export, load


def test_six_trial_study_end_to_end(tmp_path: Path, capsys) -> None:
    study = write_study(tmp_path)
    assert main(["run", str(study), "--quiet"]) == 0
    rdir = tmp_path / "results" / "tiny"
    assert (rdir / "journal.log").exists()
    resolved = json.loads((rdir / "resolved.json").read_text())
    assert resolved["design_total"] == 6
    assert resolved["runs"][0]["argv"][:2] == ["sensitivity", "run"]
    assert {"python", "numpy", "optuna"} <= set(resolved["runs"][0]["versions"])

    res = load(rdir)
    t = res.trials
    assert list(t.columns) == list(TRIAL_COLUMNS) + ["param_learning_rate", "param_init_scale"]
    assert len(t) == 6 and t["counted"].all()
    assert sorted(t["design_index"].tolist()) == list(range(6))
    assert (t["state"] == "COMPLETE").all() and (t["status"] == "complete").all()
    assert t["val_acc"].dtype == "float64" and t["n_params"].dtype == "Int64"
    assert t["strategy"].dtype == "string" and t["reached_target"].dtype == "boolean"
    assert set(t["param_learning_rate"]) == {0.001, 0.01, 0.1}
    assert ((t["val_acc"] >= 0) & (t["val_acc"] <= 1)).all()
    assert (t["value"] == t["val_acc"]).all()
    # reached_target agrees with the curve and time_to_target is the first hit
    c = res.curves
    assert list(c.columns) == ["trial", "strategy", "seed", "param_learning_rate",
                               "param_init_scale", *CURVE_COLUMNS]  # fmt: skip
    assert c.groupby("trial").size().eq(16).all()  # iterations 0..15
    for _, row in t.iterrows():
        curve = c[c["trial"] == row["trial"]]
        hits = curve[curve["val_acc"] >= 0.3]
        assert bool(row["reached_target"]) == (len(hits) > 0)
        if len(hits):
            assert row["time_to_target_wall"] == hits.iloc[0]["wall_time"]

    paths = export(res, tmp_path / "export")
    back = pd.read_parquet(tmp_path / "export" / "trials.parquet")
    assert len(paths) == 9 and back.drop(columns="code_version").shape == t.shape
    assert back["code_version"].nunique() == 1
    assert pd.read_csv(tmp_path / "export" / "curves.csv").shape == (len(c), c.shape[1] + 1)
    summary = pd.read_csv(tmp_path / "export" / "summary.csv")
    assert summary["n"].tolist() == [6] and summary["code_version"].notna().all()
    ttt = pd.read_csv(tmp_path / "export" / "time_to_target.csv")
    assert ttt["clock"].tolist() == ["wall", "modelled"]
    assert (ttt["reached"] == int(t["reached_target"].sum())).all()

    figdir = tmp_path / "figs"
    assert main(["figures", str(study), "--out", str(figdir)]) == 0
    names = ("robustness_heatmap", "seed_spread", "accuracy_ecdf", "strategy_summary",
             "time_to_target", "runtime_to_accuracy", "variance_shares",
             "param_importance")  # fmt: skip
    for name in names:
        for ext in ("png", "pdf"):
            f = figdir / f"{name}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
    index = (figdir / "INDEX.md").read_text()
    assert "python -m sensitivity figures" in index and "robustness_heatmap.png" in index
    # INDEX shows the exported summary (one implementation), with its interval
    s = summary.iloc[0]
    assert f"{s['median']:.3g} [{s['median_low']:.3g}, {s['median_high']:.3g}]" in index
    # same data, same bytes: no timestamps in the figure files
    again = tmp_path / "figs2"
    assert main(["figures", str(study), "--out", str(again)]) == 0
    for name in names:
        for ext in ("png", "pdf"):
            f = f"{name}.{ext}"
            assert (figdir / f).read_bytes() == (again / f).read_bytes(), f

    # Optuna's own tools read the storage
    optuna_cli = Path(sys.executable).parent / "optuna"
    proc = subprocess.run(
        [str(optuna_cli), "trials", "--storage", str(rdir / "journal.log"), "--storage-class",
         "JournalFileBackend", "--study-name", "tiny", "-f", "json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert len(listed) == 6 and {"learning_rate", "init_scale", "seed", "strategy"} == set(
        listed[0]["params"]
    )

    # a second run is idempotent: no new trials
    assert main(["run", str(study), "--quiet"]) == 0
    assert len(load(rdir).trials) == 6
    capsys.readouterr()
    assert main(["status", str(study)]) == 0
    out = capsys.readouterr().out
    assert "6/6 done, 0 running, 0 waiting" in out
    assert "learning_rate: 0.001: 2/2, 0.01: 2/2, 0.1: 2/2" in out
    assert "init_scale: 0.01: 3/3, 1: 3/3" in out


def test_diverging_trials_are_recorded_not_fatal(tmp_path: Path) -> None:
    study = write_study(
        tmp_path, name="div", optimizer="sgd", activation="relu", learning_rates="[0.01, 1e8]",
        scales="[10.0]", iterations=20,
    )  # fmt: skip
    assert main(["run", str(study), "--quiet"]) == 0
    t = load(tmp_path / "results" / "div").trials.set_index("param_learning_rate")
    assert t.loc[1e8, "status"] == "diverged"
    assert t.loc[1e8, "solver_status"] == "diverged"
    assert t.loc[1e8, "state"] == "COMPLETE"  # data, queryable; the study went on
    assert t.loc[1e8, "value"] == 0.0  # worst accuracy for the optimiser's view
    assert "non-finite" in t.loc[1e8, "reason"]
    assert t.loc[0.01, "status"] == "complete"


def test_tpe_design_fills_slots_without_duplicates(tmp_path: Path) -> None:
    study = write_study(tmp_path, name="tpe", seeds=2)
    text = study.read_text().replace('kind = "grid"', 'kind = "tpe"\npoints = 5')
    text = text.replace("values = [0.001, 0.01, 0.1]", "low = 0.001\nhigh = 0.1\nlog = true")
    study.write_text(text)
    assert main(["run", str(study), "--quiet"]) == 0
    assert main(["run", str(study), "--quiet"]) == 0  # complete: nothing more to do
    t = load(tmp_path / "results" / "tpe").trials.sort_values("design_index")
    assert t["design_index"].tolist() == [0, 1, 2, 3, 4]
    assert t["seed"].tolist() == [0, 1, 0, 1, 0]  # one strategy: seeds cycle
    assert t["param_learning_rate"].between(0.001, 0.1).all()
    assert (t["state"] == "COMPLETE").all()


def test_lhs_study_exports_bounded_variance_shares(tmp_path: Path) -> None:
    study = write_study(tmp_path, name="lhs", iterations=5)
    text = study.read_text().replace('kind = "grid"', 'kind = "lhs"\npoints = 12')
    text = text.replace("values = [0.001, 0.01, 0.1]", "low = 0.001\nhigh = 0.1\nlog = true")
    study.write_text(text.replace("values = [0.01, 1.0]", "low = 0.01\nhigh = 1.0\nlog = true"))
    assert main(["run", str(study), "--quiet"]) == 0
    assert main(["export", str(study), "--out", str(tmp_path / "x"), "--format", "csv"]) == 0
    v = pd.read_csv(tmp_path / "x" / "variance_shares.csv").set_index("factor")
    assert v["share"].between(0, 1).all() and v["share"].drop("residual").sum() <= 1 + 1e-12
    assert v.loc["param_learning_rate", "binned"] and v.loc["param_learning_rate", "levels"] == 5


def test_worker_needs_an_existing_study(tmp_path: Path, capsys) -> None:
    study = write_study(tmp_path, name="nostudy")
    assert main(["worker", str(study), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "no study 'nostudy'" in err and "sensitivity run" in err
    assert not (tmp_path / "results").exists()  # nothing left behind (was an empty journal)


def test_any_optuna_storage_url(tmp_path: Path) -> None:
    study = write_study(tmp_path, name="url", learning_rates="[0.01]")
    url = f"sqlite:///{(tmp_path / 'url.db').as_posix()}"
    assert main(["run", str(study), "--storage", url, "--quiet"]) == 0
    assert (tmp_path / "url.db").exists()
    assert not (tmp_path / "results" / "url" / "journal.log").exists()
    res = load(study, storage=url)
    assert len(res.trials) == 2 and (res.trials["state"] == "COMPLETE").all()
    assert len(res.curves) == 2 * 16
    assert len(load(tmp_path / "results" / "url").trials) == 2  # URL found in resolved.json


def test_progress_line_counts_and_eta() -> None:
    from sensitivity.progress import format_progress

    c = {"total": 40, "done": 10, "running": 2, "failed_trials": 1, "remaining": 30}
    line = format_progress(c, elapsed=20.0, done_since_start=5, width=8)
    assert line.startswith("[##------] 10/40 done | 2 running | 1 failed | 30 remaining")
    assert line.endswith("0:20 | ETA 2:00")  # 4 s per trial since start x 30 remaining
    assert format_progress(c | {"remaining": 0}, elapsed=1, done_since_start=0).endswith("0:00")


def test_time_to_target_study_scores_censored_trials_above_successes(tmp_path: Path) -> None:
    """Issue 8 "done when": on a time-to-target study with failures, every censored trial's
    stored value is >= every successful trial's."""
    study = write_study(tmp_path, name="ttt", learning_rates="[1e-4, 0.01, 0.1]")
    text = study.read_text().replace(
        'name = "val_acc"\ntarget = 0.3', 'name = "time_to_target"\ntarget = 0.4\nbudget = 30.0'
    )
    study.write_text(text)
    assert main(["run", str(study), "--quiet"]) == 0
    t = load(tmp_path / "results" / "ttt").trials
    hit, miss = t[t["reached_target"]], t[~t["reached_target"]]
    assert len(hit) and len(miss), t[["param_learning_rate", "val_acc", "reached_target"]]
    assert miss["value"].min() >= 30.0 >= hit["value"].max()
    assert (hit["value"] == hit["time_to_target_wall"]).all()
