"""Study files: validation messages (bad-study corpus), designs, and every file in studies/."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_sensitivity_common import REPO, cli, write_study

from sensitivity import bridge
from sensitivity.design import adaptive_slot, design_total, make_design
from sensitivity.errors import SpecError
from sensitivity.session import validation_points
from sensitivity.spec import ParamSpec, load_spec, parse_spec

BAD = sorted((Path(__file__).parent / "bad_studies").glob("*.toml"))
STUDIES = sorted((REPO / "studies").glob("*.toml"))


def _validate(path: Path) -> None:
    spec = load_spec(path)
    bridge.check_spec(spec, validation_points(spec))


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_study_message(path: Path) -> None:
    expect = path.read_text().splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(SpecError) as info:
        _validate(path)
    message = str(info.value)
    assert message.startswith(str(path)), message  # names the file
    assert re.search(expect, message), f"{message!r} does not match {expect!r}"
    assert "Fix:" in message or "not valid TOML" in message


def test_bad_study_cli_one_line_no_write(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    text = (Path(__file__).parent / "bad_studies" / "width_below_classes.toml").read_text()
    bad.write_text(text + f'\n[run]\nresults_dir = "{(tmp_path / "res").as_posix()}"\n')
    proc = cli("run", str(bad))
    assert proc.returncode == 2  # bad input
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "width" in proc.stderr
    assert not (tmp_path / "res").exists()  # nothing written before validation passed


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    proc = cli("status", str(tmp_path / "nope.toml"))
    assert proc.returncode == 2 and "cannot read the study file" in proc.stderr
    assert cli("frobnicate").returncode == 2


@pytest.mark.parametrize("path", STUDIES, ids=[p.stem for p in STUDIES])
def test_every_study_file_validates(path: Path) -> None:
    text = path.read_text()
    assert text.startswith("#"), "each study names the figure/table it regenerates in a header"
    spec = load_spec(path)
    assert spec.regenerates
    bridge.check_spec(spec, validation_points(spec))
    assert design_total(spec) >= 1


def test_spec_and_its_parsing_import_no_solver_module() -> None:
    """spec (TOML -> StudySpec) is one module with no import of the solver or the bridge; the
    import graph spec <- design <- bridge has no cycle."""
    code = (
        "import sys, sensitivity.spec, sensitivity.design\n"
        "spec = sensitivity.spec.load_spec('studies/quickstart.toml')\n"
        "print(sorted(m for m in sys.modules if m.startswith(('solver', 'sensitivity.bridge'))))"
    )
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                         check=True)  # fmt: skip
    assert out.stdout.strip() == "[]", out.stdout


def test_grid_design_crosses_strategies_seeds_and_own_params(tmp_path: Path) -> None:
    doc = load_spec(write_study(tmp_path, seeds=2)).raw
    doc = {k: dict(v) if hasattr(v, "items") else v for k, v in doc.items()}
    doc["strategies"] = {"random": {}, "nested": {}}
    doc["space"] = dict(doc["space"]) | {
        "levels": {"target": "strategy.levels", "strategy": "nested", "values": [2, 3]}
    }
    spec = parse_spec(doc, source="mem.toml")
    points = make_design(spec)
    # 3 lr x 2 scales x 2 seeds x (random + nested x 2 levels)
    assert len(points) == 3 * 2 * 2 * 3
    assert [p.index for p in points] == list(range(len(points)))
    assert all(("levels" in p.params) == (p.strategy == "nested") for p in points)
    keys = [(p.strategy, p.seed, tuple(sorted(p.params.items()))) for p in points]
    assert len(set(keys)) == len(keys)  # no duplicate points


@pytest.mark.parametrize("kind", ["random", "lhs", "sobol", "halton"])
def test_sampled_designs_pair_strategies_and_stay_in_bounds(tmp_path: Path, kind: str) -> None:
    doc = {
        "problem": {"dataset": "peaks", "network": {"width": 5, "n_layers": 4}},
        "strategies": {"random": {}, "nested": {}},
        "space": {
            "lr": {"target": "optimizer.learning_rate", "low": 1e-4, "high": 1e-1, "log": True},
            "depth": {"target": "network.n_layers", "low": 2, "high": 9, "int": True},
            "act": {"target": "network.activation", "values": ["tanh", "relu"]},
        },
        "design": {"kind": kind, "points": 8, "seeds": [3, 5]},
    }
    spec = parse_spec(doc, source="mem.toml")
    points = make_design(spec)
    assert len(points) == 8 * 2 * 2 == design_total(spec)
    for p in points:
        assert 1e-4 <= p.params["lr"] <= 1e-1
        assert isinstance(p.params["depth"], int) and 2 <= p.params["depth"] <= 9
        assert p.params["act"] in ("tanh", "relu")
    by_key: dict = {}
    for p in points:
        by_key.setdefault((p.seed, tuple(sorted(p.params.items()))), set()).add(p.strategy)
    assert all(v == {"random", "nested"} for v in by_key.values())  # paired comparisons
    assert make_design(spec) == points  # deterministic: every worker agrees


def test_lhs_is_stratified(tmp_path: Path) -> None:
    doc = {
        "problem": {"dataset": "peaks", "network": {"width": 5, "n_layers": 4}},
        "strategies": {"random": {}},
        "space": {"x": {"target": "optimizer.learning_rate", "low": 0.0, "high": 1.0}},
        "design": {"kind": "lhs", "points": 10},
    }
    xs = sorted(p.params["x"] for p in make_design(parse_spec(doc)))
    assert [math.floor(x * 10) for x in xs] == list(range(10))


def test_tpe_slots_cycle_strategies_then_seeds() -> None:
    doc = {
        "problem": {"dataset": "peaks", "network": {"width": 5, "n_layers": 4}},
        "strategies": {"random": {}, "nested": {}},
        "space": {"lr": {"target": "optimizer.learning_rate", "low": 1e-3, "high": 1.0}},
        "design": {"kind": "tpe", "points": 6, "seeds": 3},
        "metric": {"name": "time_to_target", "target": 0.8, "clock": "modelled", "budget": 60},
    }
    spec = parse_spec(doc)
    assert design_total(spec) == 6
    assert [adaptive_slot(spec, i) for i in range(4)] == [
        ("random", 0), ("nested", 0), ("random", 1), ("nested", 1)
    ]  # fmt: skip
    assert spec.metric.direction == "minimize"


@given(
    low=st.floats(1e-6, 1e2),
    ratio=st.floats(1.01, 1e4),
    u=st.floats(0.0, 1.0),
    log=st.booleans(),
)
def test_from_unit_stays_in_range(low: float, ratio: float, u: float, log: bool) -> None:
    p = ParamSpec("x", ("optimizer.learning_rate",), "range", low, low * ratio, log, False, 5)
    v = p.from_unit(u)
    assert low * (1 - 1e-12) <= v <= low * ratio * (1 + 1e-12)
    g = p.grid()
    assert len(g) == 5 and g[0] == low and g[-1] == low * ratio
    assert all(a < b for a, b in zip(g, g[1:], strict=False))
