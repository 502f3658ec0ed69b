"""The README's benchmark block is generated from results/summaries/bench/*.csv and current."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

readme_table = pytest.importorskip("readme_table")


def test_every_goal_has_its_stored_figure():
    block = readme_table.block()
    assert "not measured" not in block
    for goal in readme_table.GOALS:
        row = readme_table._find(goal.source, **goal.where)
        assert row is not None and row.get("code_version") and row.get("ratio"), goal.figure


def test_readme_block_is_current():
    assert readme_table.main(["--check"]) == 0, "run: python benchmarks/readme_table.py"
