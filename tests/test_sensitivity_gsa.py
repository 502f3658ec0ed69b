"""Global sensitivity analysis (issue 13): Sobol' and Morris designs, SALib indices, given-data
indices, seeds as noise, order safety -- on analytic functions with known indices, run through
the whole harness (study file -> design -> bridge -> run_trial -> journal storage -> results ->
:mod:`sensitivity.gsa`) with :mod:`sensitivity.analytic` standing in for ``solver.train``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sensitivity import analytic, gsa
from sensitivity.design import make_design
from sensitivity.gsa_design import design_table, factors, to_unit, unit_sample
from sensitivity.results import load
from sensitivity.runner import work
from sensitivity.session import prepare
from sensitivity.spec import load_spec
from tests.test_sensitivity_common import cli

TARGETS = ("init.scale_open", "init.scale_hidden", "init.scale_class", "network.gamma_tik",
           "network.gamma_ddt", "network.gamma_class")  # fmt: skip

STUDY = """
[study]
name = "{name}"

[problem]
dataset = "peaks"
[problem.data]
n_train_per_class = 5
n_val_per_class = 5
grid_size = 16
[problem.network]
width = 5
n_layers = 2

[strategies.random]

{space}
[design]
{design}
seeds = {seeds}

[metric]
name = "val_acc"

[analysis]
missing = "{missing}"
resamples = 500
{analysis}

[run]
results_dir = "{results}"
retries = 0
heartbeat_interval = 5.0
grace_period = 60.0
"""


def write(tmp: Path, name: str, n_factors: int, design: str, *, seeds: int = 1,
          missing: str = "refuse", analysis: str = "") -> Path:  # fmt: skip
    """A study over ``n_factors`` inputs x1.. in [0, 1], each written to one solver option."""
    space = "".join(
        f'[space.x{i + 1}]\ntarget = "{TARGETS[i]}"\nlow = 0.0\nhigh = 1.0\n\n'
        for i in range(n_factors)
    )
    path = tmp / f"{name}.toml"
    path.write_text(
        STUDY.format(
            name=name,
            space=space,
            design=design,
            seeds=seeds,
            missing=missing,
            analysis=analysis,
            results=(tmp / "results").as_posix(),
        )  # fmt: skip
    )
    return path


def inputs(n: int, a: float, b: float) -> list[analytic.Input]:
    return [analytic.Input(TARGETS[i], 0.0, 1.0, a, b) for i in range(n)]


def run(path: Path, train, **kw):
    spec = load_spec(path)
    h = prepare(spec, argv=["pytest"])
    work(h, train=train, **kw)
    return spec, load(spec)


ISHIGAMI = analytic.as_train(analytic.ishigami, inputs(3, -math.pi, math.pi))


@pytest.fixture(scope="module")
def ishigami(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ishigami")
    path = write(tmp, "ishigami", 3, 'kind = "sobol_indices"\nN = 128')
    spec, res = run(path, ISHIGAMI)
    return path, spec, res


# --------------------------------------------------------------------------- designs
def test_sobol_design_rows_per_strategy_and_order(tmp_path: Path) -> None:
    path = write(tmp_path, "d", 3, 'kind = "sobol_indices"\nN = 8\nsecond_order = true', seeds=2)
    spec = load_spec(path)
    points = make_design(spec)
    assert len(points) == 8 * (2 * 3 + 2) * 2  # N (2D + 2) rows x seeds
    assert [p.seed for p in points[:4]] == [0, 1, 0, 1]  # row -> seed
    assert points[0].params == points[1].params
    table = design_table(spec)
    u = unit_sample(spec, "random")
    for p in points[::7]:
        row = table.loc[p.index]
        assert row["seed"] == p.seed
        assert np.allclose([p.params[f"x{i}"] for i in (1, 2, 3)], u[row["row"]])
    assert [p.params for p in make_design(load_spec(path))] == [p.params for p in points]


def test_strategy_only_factor_and_log_and_choice_binning(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        write(tmp_path, "s", 1, 'kind = "morris"\ntrajectories = 4\nlevels = 4').read_text()
        .replace("[strategies.random]", "[strategies.random]\n[strategies.nested]\nlayers = [1, 2]")
        + '\n[space.lr]\ntarget = "optimizer.learning_rate"\nlow = 1e-3\nhigh = 1e-1\nlog = true\n'
        '[space.tol]\ntarget = "strategy.level_tolerance"\nstrategy = "nested"\nlow = 0.5\n'
        'high = 1.0\n[space.mom]\ntarget = "optimizer.momentum"\nvalues = [0.0, 0.5, 0.9]\n'
    )  # fmt: skip
    spec = load_spec(path)
    assert [p.name for p in factors(spec, "random")] == ["x1", "lr", "mom"]
    assert [p.name for p in factors(spec, "nested")] == ["x1", "lr", "tol", "mom"]
    points = make_design(spec)
    by = {s: [p for p in points if p.strategy == s] for s in ("random", "nested")}
    assert len(by["random"]) == 4 * (3 + 1) and len(by["nested"]) == 4 * (4 + 1)
    lr = sorted({round(p.params["lr"], 12) for p in points})
    assert np.allclose(lr, [1e-3, 10 ** (-3 + 2 / 3), 10 ** (-3 + 4 / 3), 1e-1])  # log levels
    assert {p.params["mom"] for p in points} <= {0.0, 0.5, 0.9}
    assert "tol" not in by["random"][0].params
    lr_spec = next(p for p in spec.space if p.name == "lr")
    assert to_unit(lr_spec, 1e-2) == pytest.approx(0.5)
    mom = next(p for p in spec.space if p.name == "mom")
    assert [to_unit(mom, v) for v in (0.0, 0.5, 0.9)] == pytest.approx([1 / 6, 0.5, 5 / 6])


# --------------------------------------------------------------------------- Sobol'
def test_ishigami_indices_within_salib_intervals(ishigami) -> None:
    _, spec, res = ishigami
    result = gsa.analyze(res.trials, spec)
    t = result.indices.set_index("factor")
    for i, name in enumerate(("x1", "x2", "x3")):
        for key, truth in (("S1", analytic.ISHIGAMI_S1[i]), ("ST", analytic.ISHIGAMI_ST[i])):
            value, conf = t.at[name, key], t.at[name, f"{key}_conf"]
            assert abs(value - truth) <= conf, (name, key, value, conf, truth)
            assert conf < 0.25  # the intervals are informative, not vacuous


def test_sobol_g_function_indices(tmp_path: Path) -> None:
    """Sobol' G function, a = (0, 1, 9): the 6 analytic indices lie inside SALib's 95 %
    intervals. (Checked with SALib alone over sampler seeds 0-39 at N = 64: all 6 inside for
    39 of 40 seeds; with a = 4.5 for a factor its small ST is under-covered at this N.)"""
    a = (0.0, 1.0, 9.0)
    train = analytic.as_train(lambda x: analytic.sobol_g(x, a), inputs(3, 0.0, 1.0))
    spec, res = run(write(tmp_path, "g", 3, 'kind = "sobol_indices"\nN = 64'), train)
    s1, st = analytic.sobol_g_indices(a)
    t = gsa.analyze(res.trials, spec).indices
    assert np.all(np.abs(t["S1"] - s1) <= t["S1_conf"]), (t, s1)
    assert np.all(np.abs(t["ST"] - st) <= t["ST_conf"]), (t, st)
    assert t["ST"].iloc[0] - t["ST_conf"].iloc[0] > t["ST"].iloc[1:].max()  # x1 dominates


def test_seed_noise_share(tmp_path: Path) -> None:
    """y = x1 + 2 x2 + 0.3 N(0, 1) per seed: share of seed noise = 0.09 / (5/12 + 0.09)."""
    train = analytic.as_train(lambda x: analytic.linear(x, (1, 2)), inputs(2, 0, 1), noise=0.3)
    spec, res = run(write(tmp_path, "n", 2, 'kind = "sobol_indices"\nN = 32', seeds=3), train)
    result = gsa.analyze(res.trials, spec)
    n = result.seed_noise.iloc[0]
    truth = 0.09 / (5 / 12 + 0.09)
    assert n["n_seeds"] == 3 and n["seed_share_low"] <= truth <= n["seed_share_high"], n
    assert n["seed_share_high"] - n["seed_share_low"] < 0.15
    # the indices describe the seed-mean response: S1 of x2 ~ 4 / 5 of its variance
    t = result.indices.set_index("factor")
    assert t.at["x2", "S1"] > t.at["x1", "S1"]


# --------------------------------------------------------------------------- order safety
def test_indices_do_not_depend_on_the_order_trials_finished(ishigami) -> None:
    _, spec, res = ishigami
    ref = gsa.analyze(res.trials, spec).indices
    shuffled = res.trials.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pd.testing.assert_frame_equal(gsa.analyze(shuffled, spec).indices, ref)


def test_missing_rows_are_refused_naming_them(ishigami, tmp_path: Path) -> None:
    path, spec, res = ishigami
    trials = res.trials[~res.trials["design_index"].isin([5, 17])]
    with pytest.raises(gsa.AnalysisError) as info:
        gsa.analyze(trials, spec)
    msg = str(info.value)
    assert "2 of 640 rows are missing (0 failed, 2 not run): design_index 5, 17" in msg
    assert "Fix:" in msg
    # the same through the CLI: the trial table is still written, the indices are refused
    out = tmp_path / "export"
    proc = cli("export", str(path), "--out", str(out), "--format", "csv")
    assert proc.returncode == 0, proc.stderr  # complete study: exports
    assert (out / "sobol_indices.csv").exists()


def test_failed_trials_refused_or_scored_worst(tmp_path: Path) -> None:
    base = analytic.as_train(lambda x: analytic.linear(x, (1, 1)), inputs(2, 0, 1))

    def train(network, data, **configs):
        if configs["init"].scale_open > 0.9:  # a solver exception: FAIL trial
            raise FloatingPointError("boom")
        return base(network, data, **configs)

    path = write(tmp_path, "f", 2, 'kind = "sobol_indices"\nN = 16')
    spec, res = run(path, train)
    failed = res.trials[res.trials["state"] == "FAIL"]
    assert len(failed)
    with pytest.raises(gsa.AnalysisError, match=rf"{len(failed)} failed, 0 not run.*missing = "):
        gsa.analyze(res.trials, spec)
    proc = cli("export", str(path), "--out", str(tmp_path / "x"), "--format", "csv")
    assert proc.returncode == 1 and "design_index" in proc.stderr
    assert (tmp_path / "x" / "trials.csv").exists()  # nothing stored is lost
    worst = load_spec(write(tmp_path, "f", 2, 'kind = "sobol_indices"\nN = 16', missing="worst"))
    result = gsa.analyze(res.trials, worst)
    assert sorted(result.filled["design_index"]) == sorted(failed["design_index"].astype(int))
    assert (result.filled["filled_with"] == 0.0).all()  # accuracy: worst value 0


# --------------------------------------------------------------------------- Morris
def test_morris_finds_inactive_factors(tmp_path: Path) -> None:
    c = (1.0, 2.0, 0.0, 0.0)
    train = analytic.as_train(lambda x: analytic.linear(x, c) + x[:, 0] * x[:, 1],
                              inputs(4, 0, 1))  # fmt: skip
    path = write(tmp_path, "m", 4, 'kind = "morris"\ntrajectories = 10\nlevels = 4')
    spec, res = run(path, train)
    t = gsa.analyze(res.trials, spec).indices.set_index("factor")
    assert t.loc[["x3", "x4"], ["mu_star", "mu_star_conf", "sigma"]].to_numpy().max() < 1e-12
    assert (t.loc[["x1", "x2"], "mu_star"] - t.loc[["x1", "x2"], "mu_star_conf"] > 0.5).all()
    assert t.at["x1", "sigma"] > 0  # the x1 x2 interaction
    proc = cli("export", str(path), "--out", str(tmp_path / "e"), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    csv = pd.read_csv(tmp_path / "e" / "morris.csv")
    assert list(csv.columns[:5]) == ["strategy", "factor", "mu_star", "mu_star_conf", "sigma"]
    # recompute with SALib directly from the exported trial table in design order
    from SALib.analyze import morris

    trials = pd.read_csv(tmp_path / "e" / "trials.csv").sort_values("design_index")
    X = trials[[f"param_x{i}" for i in range(1, 5)]].to_numpy()
    problem = {"num_vars": 4, "names": ["x1", "x2", "x3", "x4"], "bounds": [[0, 1]] * 4}
    direct = morris.analyze(problem, X, trials["value"].to_numpy(), num_resamples=500,
                            num_levels=4, seed=1)  # fmt: skip
    assert np.allclose(direct["mu_star"], csv["mu_star"]) and np.allclose(
        direct["sigma"], csv["sigma"]
    )


# --------------------------------------------------------------------------- export + recompute
def test_export_recomputes_with_salib_in_design_order(ishigami, tmp_path: Path) -> None:
    path, spec, res = ishigami
    out = tmp_path / "export"
    proc = cli("export", str(path), "--out", str(out), "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    csv = pd.read_csv(out / "sobol_indices.csv")
    assert list(csv.columns) == ["strategy", "factor", "S1", "S1_conf", "ST", "ST_conf", "N"]
    from SALib.analyze import sobol

    trials = pd.read_csv(out / "trials.csv")
    y = trials[trials["counted"]].sort_values("design_index")["value"].to_numpy()
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}
    direct = sobol.analyze(problem, y, calc_second_order=False, num_resamples=500, seed=1)
    for key in ("S1", "S1_conf", "ST", "ST_conf"):
        assert np.allclose(direct[key], csv[key], rtol=1e-12, atol=1e-12), key


def test_second_order_columns(tmp_path: Path) -> None:
    spec, res = run(write(tmp_path, "s2", 3, 'kind = "sobol_indices"\nN = 32\nsecond_order = true'),
                    ISHIGAMI)  # fmt: skip
    t = gsa.analyze(res.trials, spec).indices.set_index("factor")
    assert {"S2_x3", "S2_x3_conf"} <= set(t.columns)
    assert t.at["x1", "S2_x3"] > t.at["x1", "S2_x2"]  # Ishigami: x1 interacts with x3 only


# --------------------------------------------------------------------------- given data
def test_given_data_delta_on_lhs_design(tmp_path: Path) -> None:
    train = analytic.as_train(lambda x: analytic.linear(x, (2, 1, 0)), inputs(3, 0, 1),
                              noise=0.3)  # fmt: skip
    spec, res = run(write(tmp_path, "l", 3, 'kind = "lhs"\npoints = 200', seeds=2), train)
    result = gsa.analyze(res.trials, spec)
    assert result.method == "delta" and result.stem == "delta_indices"
    t = result.indices.set_index("factor")
    assert (t["n_points"] == 200).all()
    # S1 of the seed-mean response: 4 : 1 : 0 of Var f = 5/12, plus noise 0.09 / 2 unexplained
    s1 = np.array([4, 1, 0]) / 12 / (5 / 12 + 0.045)
    assert np.all(np.abs(t["S1"].to_numpy() - s1) <= t["S1_conf"].to_numpy() + 0.05), t
    assert t.at["x1", "delta"] - t.at["x1", "delta_conf"] > t.at["x3", "delta"] + t.at[
        "x3", "delta_conf"]  # fmt: skip
    n = result.seed_noise.iloc[0]
    assert n["seed_share_low"] <= 0.09 / (5 / 12 + 0.09) <= n["seed_share_high"], n


def test_given_data_needs_enough_points(tmp_path: Path) -> None:
    spec, res = run(write(tmp_path, "few", 2, 'kind = "random"\npoints = 6'),
                    analytic.as_train(lambda x: x[:, 0], inputs(2, 0, 1)))  # fmt: skip
    with pytest.raises(gsa.AnalysisError, match="need >= 20 stored parameter points; got 6"):
        gsa.analyze(res.trials, spec)


# --------------------------------------------------------------------------- figures
def test_figures_named_after_the_method(ishigami, tmp_path: Path) -> None:
    from sensitivity import gsa_plots

    _, spec, res = ishigami
    made = gsa_plots.build(gsa.analyze(res.trials, spec), tmp_path, conf=0.95)
    assert [m[0] for m in made] == ["sobol_indices"]
    assert (tmp_path / "sobol_indices.png").stat().st_size > 1000
    assert (tmp_path / "sobol_indices.pdf").exists()


def test_build_figures_draws_morris_and_indexes_tables(tmp_path: Path) -> None:
    from sensitivity.figures import build_figures

    train = analytic.as_train(lambda x: analytic.linear(x, (1, 0)), inputs(2, 0, 1), noise=0.1)
    path = write(tmp_path, "mf", 2, 'kind = "morris"\ntrajectories = 6', seeds=2)
    spec, res = run(path, train)
    made = build_figures(res, tmp_path / "fig", command="test", evaluator="mdi")
    assert "morris" in [f.name for f in made]
    assert (tmp_path / "fig" / "morris.png").stat().st_size > 1000
    index = (tmp_path / "fig" / "INDEX.md").read_text()
    assert "morris.csv" in index and "seed_noise.csv" in index
    # a study with a missing row: everything else is drawn, then the analysis is refused
    trials = res.trials[res.trials["design_index"] != 3]
    from sensitivity.results import StudyResults

    partial = StudyResults(res.spec, res.study, trials, res.curves)
    with pytest.raises(gsa.AnalysisError, match="design_index 3"):
        build_figures(partial, tmp_path / "fig2", command="test", evaluator="mdi")
    assert "not computed" in (tmp_path / "fig2" / "INDEX.md").read_text()


def test_total_index_differences_against_the_baseline() -> None:
    indices = pd.DataFrame(
        {"strategy": ["random", "random", "nested", "nested", "nested"],
         "factor": ["lr", "scale", "lr", "scale", "tol"],
         "ST": [0.8, 0.3, 0.2, 0.28, 0.1], "ST_conf": [0.3, 0.1, 0.4, 0.1, 0.05]}
    )  # fmt: skip
    d = gsa.index_differences(indices, "random").set_index("factor")
    assert list(d.index) == ["lr", "scale"]  # the nested-only factor has no baseline
    assert d.at["lr", "diff"] == pytest.approx(-0.6) and d.at["lr", "diff_conf"] == pytest.approx(
        0.5
    )
    assert bool(d.at["lr", "lower"]) and not bool(d.at["scale", "lower"])


def test_prefix_design_of_an_unfinished_sobol_study(ishigami) -> None:
    """The first 64 (D + 2) rows of the N = 128 design are SALib's N = 64 Sobol' sample: with
    the later rows missing, the N = 64 analysis runs and equals SALib's on that sample."""
    from SALib.analyze import sobol
    from SALib.sample import sobol as sobol_sample

    _, spec, res = ishigami
    table = design_table(spec)
    early = table.loc[table["row"] < 64 * 5, "design_index"]
    trials = res.trials[res.trials["design_index"].isin(early)]
    with pytest.raises(gsa.AnalysisError, match="320 not run"):
        gsa.analyze(trials, spec)
    got = gsa.analyze(trials, spec, base_samples=64).indices
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[0, 1]] * 3}
    x = sobol_sample.sample(problem, 64, calc_second_order=False, seed=0)
    y = analytic.ishigami(-math.pi + 2 * math.pi * x)
    direct = sobol.analyze(problem, y, calc_second_order=False, num_resamples=500, seed=1)
    assert np.allclose(got["ST"], direct["ST"]) and np.allclose(got["S1_conf"], direct["S1_conf"])
    assert (got["N"] == 64).all()
    for bad in (48, 256):
        with pytest.raises(gsa.AnalysisError, match="power of 2 between 2 and the design's N"):
            gsa.analyze(res.trials, spec, base_samples=bad)


def test_reproduction_section_quotes_the_committed_sobol_tables() -> None:
    """docs/reproduction.md's Sobol' table and seed shares agree with the committed CSVs."""
    repo = Path(__file__).resolve().parents[1]
    text = (repo / "docs" / "reproduction.md").read_text()
    text = text[text.index("## Nested iteration and Sobol' indices") :]
    out = repo / "results" / "summaries" / "sobol_nested"
    idx = pd.read_csv(out / "sobol_indices.csv").set_index(["strategy", "factor"])
    diff = pd.read_csv(out / "sobol_differences.csv").set_index("factor")
    names = {"learning rate": "learning_rate", "initial scale": "init_scale",
             "regularisation γ": "regularization",
             "level tolerance": "level_tolerance"}  # fmt: skip
    rows = [line for line in text.splitlines() if line.split("|")[1:2] and
            line.split("|")[1].strip() in names]  # fmt: skip
    assert len(rows) == 4
    for line in rows:
        cells = [c.strip() for c in line.strip("|").split("|")]
        factor = names[cells[0]]
        quoted = {"ST random": cells[1], "ST nested": cells[2], "diff": cells[3],
                  "S1 random": cells[4], "S1 nested": cells[5]}  # fmt: skip
        for key, cell in quoted.items():
            if cell == "—":
                continue
            value, conf = (float(x.replace("−", "-")) for x in cell.split(" ± "))
            if key == "diff":
                expect = diff.loc[factor, ["diff", "diff_conf"]]
            else:
                s = key.split()[1]
                expect = idx.loc[(s, factor), [key.split()[0], f"{key.split()[0]}_conf"]]
            assert (value, conf) == pytest.approx(tuple(expect), abs=6e-4), (factor, key)
    noise = pd.read_csv(out / "seed_noise.csv").set_index("strategy")
    for s in ("random", "nested"):
        v, lo, hi = noise.loc[s, ["seed_share", "seed_share_low", "seed_share_high"]] * 100
        assert f"{v:.1f} % [{lo:.1f}, {hi:.1f}]" in text, s
        m, mlo, mhi = noise.loc[s, ["var_mean", "var_mean_low", "var_mean_high"]]
        assert f"{m:.4f} [{mlo:.4f}, {mhi:.4f}]" in text, s
