"""Layer partition over ranks: every index owned once, whole coarse intervals, clear errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from solver.errors import ConfigError, ParallelError
from solver.parallel import LayerLayout, MirroredLayout


@given(n_layers=st.integers(1, 300), cf=st.integers(1, 9), data=st.data())
def test_partition_covers_every_index_once_in_whole_intervals(n_layers, cf, data):
    n_intervals = -(-n_layers // cf)
    n_ranks = data.draw(st.integers(1, n_intervals))
    layout = LayerLayout(n_layers, n_ranks, cf)
    owned = [list(layout.owned(r)) for r in range(n_ranks)]
    flat = [t for block in owned for t in block]
    assert flat == list(range(n_layers + 1))  # contiguous, ascending, each index exactly once
    for r, block in enumerate(owned):
        assert block, "every rank owns at least one fine index"
        assert block[0] % cf == 0, "blocks start at a fine C-point"
        sizes = -(-n_layers // cf)
        assert len(block) >= 1 and len(block) <= (sizes // n_ranks + 1) * cf + 1
        for t in block:
            assert layout.owner(t) == r


def test_balanced_blocks_of_intervals():
    layout = LayerLayout(96, 4, 4)
    assert [layout.bounds(r) for r in range(4)] == [(0, 24), (24, 48), (48, 72), (72, 97)]


def test_more_ranks_than_intervals_is_an_error_with_a_fix():
    with pytest.raises(ParallelError, match=r"more ranks than coarse intervals.*at most 8 ranks"):
        LayerLayout(32, 9, 4)


def test_bad_arguments():
    with pytest.raises(ConfigError, match="`n_layers` must be an integer >= 1; got 0"):
        LayerLayout(0, 1, 2)
    with pytest.raises(ConfigError, match="`coarsening_factor`"):
        LayerLayout(8, 1, 0)
    with pytest.raises(ParallelError, match="`rank` must be in"):
        LayerLayout(8, 2, 2).bounds(2)


@given(n_layers=st.integers(2, 200), cf=st.integers(2, 6), data=st.data())
def test_mirrored_layout_keeps_every_layer_on_its_rank(n_layers, cf, data):
    base = LayerLayout(n_layers, data.draw(st.integers(1, -(-n_layers // cf))), cf)
    mirrored = MirroredLayout(base)
    seen = []
    for r in range(base.n_ranks):
        lo, hi = mirrored.bounds(r)
        seen.extend(range(lo, hi))
        for a in range(lo, hi):
            assert mirrored.owner(a) == r == base.owner(n_layers - a)
    assert sorted(seen) == list(range(n_layers + 1))
