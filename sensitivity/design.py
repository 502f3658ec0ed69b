"""Designs: which (strategy, seed, parameters) points a study trains.

Fixed designs (grid, random, lhs, sobol, halton) are a list of :class:`DesignPoint` computed from
the spec alone, so every worker and every rerun agrees on it. Hyperparameter points are shared by
all strategies and seeds (paired comparisons); parameters restricted to one strategy are drawn in
extra dimensions (sampled designs) or crossed with that strategy only (grid).

``tpe`` is adaptive: point ``i`` has strategy ``strategies[i % S]`` and seed
``seeds[(i // S) % n_seeds]``; its parameters come from Optuna's TPE sampler when it starts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import optuna.distributions as od

from sensitivity.nested import thaw
from sensitivity.spec import ParamSpec, StudySpec

__all__ = [
    "DesignPoint",
    "make_design",
    "design_total",
    "adaptive_slot",
    "distribution",
    "encode",
    "decode",
]

_SCALAR = (bool, int, float, str)


@dataclass(frozen=True)
class DesignPoint:
    """One trial of the design: its index, strategy, seed and parameter values."""

    index: int
    strategy: str
    seed: int
    params: Mapping[str, Any] = field(default_factory=dict)


def _needs_encoding(p: ParamSpec) -> bool:
    return not all(isinstance(v, _SCALAR) for v in p.values)


def encode(p: ParamSpec, value: Any) -> Any:
    """Value as stored in Optuna (lists / tables in a choice become JSON strings)."""
    if p.kind != "range" and _needs_encoding(p):
        return json.dumps(thaw(value))
    return value


def decode(p: ParamSpec, value: Any) -> Any:
    """Inverse of :func:`encode`."""
    if p.kind != "range" and _needs_encoding(p):
        return json.loads(value)
    return value


def distribution(p: ParamSpec) -> od.BaseDistribution:
    """Optuna distribution of a parameter (so its tools and importance evaluators work)."""
    if p.kind == "range":
        if p.integer:
            return od.IntDistribution(int(p.low), int(p.high), log=p.log)
        return od.FloatDistribution(float(p.low), float(p.high), log=p.log)
    return od.CategoricalDistribution([encode(p, v) for v in p.values])


def _unit_samples(kind: str, n: int, dim: int, seed: int) -> np.ndarray:
    """``(n, dim)`` points in [0, 1)^dim."""
    if dim == 0:
        return np.zeros((n, 0))
    from scipy.stats import qmc

    if kind == "random":
        return np.random.default_rng(seed).random((n, dim))
    if kind == "lhs":
        return qmc.LatinHypercube(d=dim, rng=np.random.default_rng(seed)).random(n)
    if kind == "sobol":
        return qmc.Sobol(d=dim, scramble=True, rng=np.random.default_rng(seed)).random(n)
    if kind == "halton":
        return qmc.Halton(d=dim, scramble=True, rng=np.random.default_rng(seed)).random(n)
    raise ValueError(kind)


def make_design(spec: StudySpec) -> list[DesignPoint]:
    """All points of a fixed design, ordered point -> seed -> strategy (balanced partial runs).

    Raises:
        ValueError: for ``tpe`` (adaptive; use :func:`adaptive_slot`).
    """
    d = spec.design
    if d.kind in ("sobol_indices", "morris"):  # SALib samples, one per strategy
        from sensitivity.gsa_design import make_gsa_design

        return make_gsa_design(spec)
    strategies = tuple(spec.strategies)
    shared = [p for p in spec.space if p.strategy is None]
    own = {s: [p for p in spec.space if p.strategy == s] for s in strategies}
    rows: list[tuple[str, int, dict[str, Any]]] = []
    if d.kind == "grid":
        shared_grid = list(itertools.product(*(p.grid() for p in shared)))
        own_grid = {s: list(itertools.product(*(p.grid() for p in own[s]))) for s in strategies}
        for values in shared_grid:
            base = {p.name: v for p, v in zip(shared, values, strict=True)}
            for seed in d.seeds:
                for s in strategies:
                    for extra in own_grid[s]:
                        params = dict(base)
                        params.update({p.name: v for p, v in zip(own[s], extra, strict=True)})
                        rows.append((s, seed, params))
    elif d.kind == "tpe":
        raise ValueError("a tpe design is adaptive; use adaptive_slot(spec, index)")
    else:
        dims = shared + [p for s in strategies for p in own[s]]
        assert d.points is not None
        u = _unit_samples(d.kind, d.points, len(dims), d.sampler_seed)
        for row in u:
            values = {
                p.name: _native(p.from_unit(float(x))) for p, x in zip(dims, row, strict=True)
            }
            for seed in d.seeds:
                for s in strategies:
                    rows.append(
                        (s, seed, {p.name: values[p.name] for p in spec.params_for(s)})
                    )  # fmt: skip
    return [DesignPoint(i, s, seed, params) for i, (s, seed, params) in enumerate(rows)]


def _native(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value


def design_total(spec: StudySpec) -> int:
    """Number of trials the design asks for."""
    if spec.design.kind == "tpe":
        assert spec.design.points is not None
        return spec.design.points
    return len(make_design(spec))


def adaptive_slot(spec: StudySpec, index: int) -> tuple[str, int]:
    """Strategy and seed of point ``index`` of an adaptive (tpe) design."""
    strategies = tuple(spec.strategies)
    s = strategies[index % len(strategies)]
    seed = spec.design.seeds[(index // len(strategies)) % len(spec.design.seeds)]
    return s, seed
