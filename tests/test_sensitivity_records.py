"""The trial record contract: curve columns, the one time-to-target rule, the censored score,
and analysis imports without the solver (issue 8, defects 1 and 4)."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sensitivity import metrics, records
from sensitivity.design import DesignPoint
from sensitivity.objective import run_trial
from sensitivity.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]


def test_curve_columns_are_the_solver_history_columns() -> None:
    from solver.train import HISTORY_COLUMNS

    assert records.CURVE_COLUMNS == tuple(HISTORY_COLUMNS)


def test_reading_results_and_plots_imports_no_solver_module() -> None:
    code = (
        "import sys, sensitivity.results, sensitivity.plots, sensitivity.metrics, "
        "sensitivity.plot_data, sensitivity.records\n"
        "print(sorted(m for m in sys.modules if m == 'solver' or m.startswith('solver.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout


def test_time_to_target_first_hit_within_budget() -> None:
    acc = [0.2, np.nan, 0.85, 0.95]
    wall = [1.0, 2.0, 3.0, 4.0]
    modelled = [0.5, 1.0, 1.5, 2.0]
    t = records.time_to_target(acc, wall, modelled, target=0.8)
    assert t.reached and (t.wall, t.modelled) == (3.0, 1.5) and t.best_acc == 0.95
    # the budget is on the metric's clock: a hit at 1.5 modelled seconds is within 1.5 ...
    assert records.time_to_target(acc, wall, modelled, target=0.8, clock="modelled",
                                  budget=1.5).reached  # fmt: skip
    # ... but a hit at 3 wall seconds is after a 2.5 s budget: never reached, best 0.2 so far
    late = records.time_to_target(acc, wall, modelled, target=0.8, budget=2.5)
    assert not late.reached and math.isnan(late.wall) and late.best_acc == 0.2
    none = records.time_to_target([None, None], wall[:2], modelled[:2], target=0.8)
    assert not none.reached and math.isnan(none.best_acc)


def test_censored_score_is_budget_plus_shortfall() -> None:
    miss = records.TimeToTarget(False, math.nan, math.nan, best_acc=0.45)
    assert records.time_to_target_score(miss, target=0.9, budget=10.0, clock="wall") == 15.0
    lost = records.time_to_target_score(miss, target=0.9, budget=10.0, clock="wall",
                                         diverged=True)  # fmt: skip
    assert lost == 20.0
    over = records.TimeToTarget(False, math.nan, math.nan, best_acc=0.95)  # hit after budget
    assert records.time_to_target_score(over, target=0.9, budget=10.0, clock="wall") == 10.0
    hit = records.TimeToTarget(True, 9.5, 2.0, best_acc=0.95)
    assert records.time_to_target_score(hit, target=0.9, budget=10.0, clock="modelled") == 2.0


def _spec(budget: float = 0.1):
    return parse_spec(
        {
            "problem": {"dataset": "peaks", "data": {"n_train_per_class": 5, "n_val_per_class": 2},
                        "network": {"width": 5, "n_layers": 2}},
            "strategies": {"random": {}},
            "space": {"lr": {"target": "optimizer.learning_rate", "low": 1e-3, "high": 1.0}},
            "design": {"kind": "random", "points": 4},
            "metric": {"name": "time_to_target", "target": 0.75, "budget": budget},
        }
    )  # fmt: skip


def _fake_train(duration: float, accs: list[float], status: str):
    """A ``solver.train`` stand-in: evaluations evenly spread over ``duration`` seconds."""
    times = np.linspace(duration / len(accs), duration, len(accs))

    def train(network, data, **_):
        rows = [{"iteration": i, "wall_time": t, "modelled_time": t / 2, "val_acc": a}
                for i, (t, a) in enumerate(zip(times, accs, strict=True))]  # fmt: skip
        return SimpleNamespace(history=rows, final={"val_acc": accs[-1]}, status=status,
                               message="", wall_time=duration, modelled_time=duration / 2,
                               n_params=10, config=network)  # fmt: skip

    return train


def test_defect1_censored_runs_never_score_below_successes() -> None:
    """Issue 8 defect 1: a run that never reached the target was scored by its own (short)
    duration, so failing fast beat succeeding slowly under a minimising sampler."""
    spec = _spec(budget=0.1)
    point = DesignPoint(0, "random", 0, {"lr": 0.01})
    runs = [
        (0.035, [0.2, 0.3], "diverged"),  # fails fast
        (0.040, [0.5, 0.7], "converged"),  # stops early, close to the target
        (0.062, [0.5, 0.8], "max_iterations"),  # slow success
        (0.020, [0.76, 0.8], "max_iterations"),  # fast success
    ]
    out = [run_trial(spec, point, train=_fake_train(*r)) for r in runs]
    censored = [o.value for o in out if not o.record["reached_target"]]
    success = [o.value for o in out if o.record["reached_target"]]
    assert len(censored) == 2 and len(success) == 2
    assert min(censored) >= max(success)
    assert success == [0.062, 0.010]  # time to target (wall clock)
    shortfall = (0.75 - 0.7) / 0.75
    assert censored == [pytest.approx(0.2), pytest.approx(0.1 * (1 + shortfall))]


def test_defect4_one_time_to_target_rule_everywhere() -> None:
    """Issue 8 defect 4: the record (NaN), metrics.time_to_target (last time of the run) and the
    objective (own duration) censored the same run three different ways."""
    spec = _spec(budget=5.0)
    point = DesignPoint(0, "random", 0, {"lr": 0.01})
    accs = {0: [0.2, 0.8, 0.9], 1: [0.2, 0.3, 0.4]}
    curves, rows = [], []
    for trial, a in accs.items():
        o = run_trial(spec, point, train=_fake_train(3.0, a, "max_iterations"))
        c = pd.DataFrame(o.curve).assign(trial=trial, strategy="random", seed=0)
        curves.append(c)
        rows.append({"trial": trial, **o.record})
    tab = metrics.time_to_target(pd.concat(curves), 0.75, budget=5.0).set_index("trial")
    trials = pd.DataFrame(rows).set_index("trial")
    times, reached = records.event_times(trials, clock="wall", budget=5.0)
    assert list(reached) == [True, False] == list(tab["reached"])
    assert list(trials["reached_target"]) == [True, False]
    assert times[0] == tab.loc[0, "time"] == trials.loc[0, "time_to_target_wall"] == 2.0
    # the censored run: never reaches, censored at the budget by every path
    assert times[1] == tab.loc[1, "time"] == records.horizon(5.0) == 5.0
    assert math.isnan(trials.loc[1, "time_to_target_wall"])


def test_time_to_target_needs_a_budget() -> None:
    from sensitivity.errors import SpecError

    doc = {
        "problem": {"dataset": "peaks", "network": {"width": 5, "n_layers": 2}},
        "strategies": {"random": {}},
        "metric": {"name": "time_to_target", "target": 0.75, "clock": "modelled"},
    }
    with pytest.raises(SpecError, match="metric.budget"):
        parse_spec(doc)
    doc["metric"] = {"name": "time_to_target", "target": 0.75}
    doc["training"] = {"stop": {"time_budget": 30.0}}
    assert parse_spec(doc).metric.budget == 30.0  # wall clock: the training's time budget


def test_importing_plots_leaves_the_matplotlib_backend_alone() -> None:
    import os

    code = "import matplotlib, sensitivity.plots; print(matplotlib.get_backend())"
    env = dict(os.environ, MPLBACKEND="svg")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, env=env)  # fmt: skip
    assert out.stdout.strip().lower() == "svg"


def test_only_the_final_depth_network_reaches_the_target() -> None:
    """Nested iteration: a coarse level at the target does not count; the final depth does."""
    acc = [0.9, 0.5, 0.85]
    t = [1.0, 2.0, 3.0]
    hit = records.time_to_target(acc, t, t, target=0.8, n_layers=[4, 16, 16])
    assert hit.reached and hit.wall == 3.0 and hit.row == 2 and hit.best_acc == 0.85
    assert records.time_to_target(acc, t, t, target=0.8).wall == 1.0  # without depths
