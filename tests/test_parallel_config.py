"""ParallelConfig composes an MGRITConfig; flat options; the loop/strategies/train import order."""

import ast
import dataclasses
from pathlib import Path

import pytest

from solver.errors import ConfigError
from solver.mgrit import REFERENCE_MGRIT, MGRITConfig, ParallelConfig, reference_mgrit

ROOT = Path(__file__).resolve().parents[1]


def test_reference_defaults_are_explicit_and_composed():
    par = ParallelConfig()
    assert par.mgrit is REFERENCE_MGRIT
    assert (par.mgrit.coarsening_factor, par.mgrit.min_coarse_size, par.mgrit.max_levels) == (
        2, 10, 10,
    )  # fmt: skip
    assert (par.mgrit.nrelax_fine, par.mgrit.nrelax, par.mgrit.abs_tol) == (0, 1, 1e-10)
    assert reference_mgrit(min_coarse_size=2).min_coarse_size == 2
    with pytest.raises(ConfigError, match="use one of"):
        reference_mgrit(tolerance=1e-3)
    with pytest.raises(ConfigError, match="`mgrit` must be an MGRITConfig"):
        ParallelConfig(mgrit={"max_levels": 2})


def test_from_options_splits_one_flat_table():
    par = ParallelConfig.from_options({"max_levels": 3, "one_shot": True, "tolerance": 1e-8})
    assert par == ParallelConfig(mgrit=reference_mgrit(max_levels=3, abs_tol=1e-8), one_shot=True)
    assert set(ParallelConfig.option_names()) >= {f.name for f in dataclasses.fields(MGRITConfig)}
    with pytest.raises(ConfigError, match="unknown parallel option"):
        ParallelConfig.from_options(levels=3)
    with pytest.raises(ConfigError, match="not both"):
        ParallelConfig.from_options(tolerance=1e-8, abs_tol=1e-9)


def test_one_shot_solves_fix_the_cycle_count():
    par = ParallelConfig(one_shot=True, fwd_iterations=1, bwd_iterations=3, warmup_steps=1)
    fwd = par.solve_config("forward", 4)
    assert (fwd.max_iterations, fwd.abs_tol, fwd.rel_tol) == (1, 0.0, 0.0)
    assert par.solve_config("adjoint", 0).max_iterations == 10
    assert par.solve_config("forward", None) is par.mgrit  # scores: to tolerance


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_no_train_strategies_import_cycle():
    """``solver.loop`` <- ``solver.strategies`` <- ``solver.train``: neither the loop nor any
    strategy module imports ``solver.train``."""
    files = [ROOT / "solver" / "loop.py", *sorted((ROOT / "solver" / "strategies").glob("*.py"))]
    for path in files:
        assert "solver.train" not in _imports(path), path
    assert not any(m.startswith("solver.strategies") for m in _imports(files[0]))
