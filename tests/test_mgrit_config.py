"""MGRITConfig validation and the level hierarchy."""

from __future__ import annotations

import pytest

from solver.errors import ConfigError
from solver.mgrit import LevelGrid, MGRITConfig


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"max_levels": 0}, r"`max_levels` must be an integer >= 1; got 0"),
        ({"coarsening_factor": 1}, r"`coarsening_factor` must be an integer >= 2; got 1"),
        ({"coarsening_factor_fine": 1}, r"`coarsening_factor_fine` must be an integer >= 2"),
        ({"nrelax": -1}, r"`nrelax` must be an integer >= 0; got -1"),
        ({"cycle": "W"}, r"`cycle` must be 'V' or 'F'; got 'W'"),
        ({"norm": "l3"}, r"`norm` must be 'l1', 'l2' or 'inf'"),
        ({"c_weight": 0.0}, r"`c_weight` must lie in \(0, 2\]; got 0.0"),
        ({"abs_tol": -1e-3}, r"`abs_tol` must be a finite number >= 0"),
        ({"rel_tol": float("nan")}, r"`rel_tol` must be a finite number >= 0"),
        ({"max_iterations": 2.5}, r"`max_iterations` must be an integer >= 0"),
    ],
)
def test_invalid_settings_are_named(kwargs, pattern):
    with pytest.raises(ConfigError, match=pattern):
        MGRITConfig(**kwargs)


def test_hierarchy_respects_max_levels_and_min_coarse_size():
    grid = LevelGrid.build(30, MGRITConfig(coarsening_factor=2, min_coarse_size=10))
    assert grid.strides == (1, 2)  # 30 -> 15 intervals; 8 would be below 10
    grid = LevelGrid.build(64, MGRITConfig(coarsening_factor_fine=4, coarsening_factor=2))
    assert grid.strides == (1, 4, 8, 16, 32)  # coarsest keeps 2 intervals
    assert LevelGrid.build(64, MGRITConfig(max_levels=3)).strides == (1, 2, 4)
    assert LevelGrid.build(64, MGRITConfig(max_levels=1)).n_levels == 1


def test_level_points_with_a_short_last_interval():
    grid = LevelGrid.build(10, MGRITConfig(coarsening_factor=4, max_levels=2))
    assert grid.points(1, 0, 11) == [0, 4, 8, 10]
    assert grid.pred(1, 10) == 8 and grid.succ(1, 8) == 10
    assert grid.is_c(0, 10) and grid.is_c(0, 8) and not grid.is_c(0, 9)
    assert [t for t in grid.points(1, 0, 11) if grid.is_c(1, t)] == [0]  # coarsest: all F
