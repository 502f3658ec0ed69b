"""Global-sensitivity designs: SALib's Sobol' (Saltelli) and Morris samples as study designs.

``[design] kind = "sobol_indices"`` draws SALib's Sobol' sample (``SALib.sample.sobol``,
scrambled, seeded by ``sampler_seed``) of ``N`` base samples over the D searched factors of each
strategy: ``N (D + 2)`` rows, or ``N (2D + 2)`` with ``second_order = true``.
``kind = "morris"`` draws ``trajectories`` Morris trajectories (``SALib.sample.morris``) on a
``levels``-level grid: ``trajectories (D + 1)`` rows. Every row is trained once per seed of
``[design] seeds``; the analysis (:mod:`sensitivity.gsa`) uses the seed-mean response.

Factors live in the unit cube: SALib samples ``u`` in [0, 1]^D and each parameter maps its
coordinate with :meth:`~sensitivity.spec.ParamSpec.from_unit` (uniform, or log-uniform for
``log = true``: the index then refers to the log-scaled factor). Integer ranges and choices are
*binned*: ``u`` in [k/K, (k+1)/K) gives the k-th of K values (SALib's advice for discrete inputs:
sample a continuous variable and discretise it; the index is that of the binned variable, i.e. of
the discrete factor with equal probability per value). A parameter written to several targets
is one factor (SALib's groups). The strategy is not a factor: SALib cannot take an unordered
categorical without an order its estimators would read into it, so every strategy gets its own
sample over its own factors (a strategy-only parameter is a factor of that strategy only) and is
analysed on its own. Strategies with the same factors share the same rows (paired).

Design order: row ``r`` of every strategy for every seed, then row ``r + 1``
(``row -> seed -> strategy``); :func:`design_table` maps every ``design_index`` to its
(strategy, row, seed), which is what the analysis uses -- never the order trials finished in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sensitivity.spec import AnalysisSpec, ParamSpec, StudySpec

__all__ = [
    "GSA_KINDS",
    "KEYS",
    "factors",
    "salib_problem",
    "unit_sample",
    "make_gsa_design",
    "design_table",
    "to_unit",
    "parse_design_options",
    "refuse_options",
    "parse_analysis",
]

GSA_KINDS = ("sobol_indices", "morris")
KEYS = ("N", "second_order", "trajectories", "levels")
_OWN_KEYS = {"sobol_indices": ("N", "second_order"), "morris": ("trajectories", "levels")}


# --------------------------------------------------------------------------- factors and samples
def factors(spec: StudySpec, strategy: str) -> tuple[ParamSpec, ...]:
    """Searched parameters (ranges and choices, not fixed values) of ``strategy``'s trials."""
    return tuple(p for p in spec.params_for(strategy) if p.kind != "fixed")


def salib_problem(params: tuple[ParamSpec, ...]) -> dict[str, Any]:
    """SALib problem over the unit cube: ``num_vars`` D, ``names``, ``bounds`` [[0, 1]] * D."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [[0.0, 1.0]] * len(params),
    }


def unit_sample(spec: StudySpec, strategy: str) -> np.ndarray:
    """SALib's sample of ``strategy``'s factors in the unit cube, shape ``(rows, D)``.

    ``rows = N (D + 2)`` (Sobol', ``N (2D + 2)`` with second order) or
    ``trajectories (D + 1)`` (Morris).
    """
    d = spec.design
    problem = salib_problem(factors(spec, strategy))
    assert d.points is not None
    if d.kind == "sobol_indices":
        from SALib.sample import sobol

        return sobol.sample(
            problem, d.points, calc_second_order=d.second_order, scramble=True,
            seed=d.sampler_seed,
        )  # fmt: skip
    if d.kind == "morris":
        from SALib.sample import morris

        return morris.sample(problem, d.points, num_levels=d.levels, seed=d.sampler_seed)
    raise ValueError(f"not a global-sensitivity design: {d.kind!r}")


def make_gsa_design(spec: StudySpec) -> list:
    """Design points of a ``sobol_indices`` / ``morris`` study, ordered row -> seed -> strategy."""
    from sensitivity.design import DesignPoint, _native

    strategies = tuple(spec.strategies)
    samples = {s: unit_sample(spec, s) for s in strategies}
    fixed = {s: [p for p in spec.params_for(s) if p.kind == "fixed"] for s in strategies}
    points: list[DesignPoint] = []
    for r in range(max(len(u) for u in samples.values())):
        for seed in spec.design.seeds:
            for s in strategies:
                if r >= len(samples[s]):
                    continue
                params = {
                    p.name: _native(p.from_unit(float(x)))
                    for p, x in zip(factors(spec, s), samples[s][r], strict=True)
                }
                params.update({p.name: p.values[0] for p in fixed[s]})
                points.append(DesignPoint(len(points), s, seed, params))
    return points


def design_table(spec: StudySpec) -> pd.DataFrame:
    """One row per design index: ``design_index, strategy, row, seed, u_<factor>...``.

    ``row`` is the row of the strategy's SALib sample, ``u_<factor>`` its unit coordinates
    (NaN for factors of other strategies). Built from the spec alone, like the design.
    """
    strategies = tuple(spec.strategies)
    samples = {s: unit_sample(spec, s) for s in strategies}
    names = list(dict.fromkeys(p.name for s in strategies for p in factors(spec, s)))
    rows = []
    for r in range(max(len(u) for u in samples.values())):
        for seed in spec.design.seeds:
            for s in strategies:
                if r >= len(samples[s]):
                    continue
                u = dict(zip([p.name for p in factors(spec, s)], samples[s][r], strict=True))
                rows.append(
                    {"design_index": len(rows), "strategy": s, "row": r, "seed": seed}
                    | {f"u_{n}": float(u.get(n, math.nan)) for n in names}
                )
    return pd.DataFrame(rows, columns=["design_index", "strategy", "row", "seed"]
                        + [f"u_{n}" for n in names])  # fmt: skip


def to_unit(p: ParamSpec, value: Any) -> float:
    """Coordinate in [0, 1] of a stored value (inverse of ``from_unit``; binned values give the
    centre of their bin). Used by the given-data analysis of stored trials of any design."""
    if p.kind != "range":
        from sensitivity.design import encode

        for k, v in enumerate(p.values):
            stored = encode(p, v)
            same = stored == value or (
                isinstance(stored, int | float) and isinstance(value, int | float)
                and math.isclose(float(stored), float(value), rel_tol=1e-12)
            )  # fmt: skip
            if same:
                return (k + 0.5) / len(p.values)
        raise ValueError(f"{value!r} is not a value of parameter {p.name!r}: {p.values!r}")
    lo, hi, x = float(p.low), float(p.high), float(value)  # type: ignore[arg-type]
    if p.integer:
        a, b = (x, x + 1.0)
        if p.log:
            return (0.5 * (math.log(a) + math.log(b)) - math.log(lo)) / (
                math.log(hi + 1) - math.log(lo)
            )
        return (x - lo + 0.5) / (hi - lo + 1)
    if p.log:
        return (math.log(x) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return (x - lo) / (hi - lo)


# --------------------------------------------------------------------------- study-file sections
def refuse_options(ctx: Any, doc: Mapping[str, Any], kind: str) -> None:
    """``N``/``second_order`` only with sobol_indices, ``trajectories``/``levels`` with morris."""
    for key in KEYS:
        if key in doc and key not in _OWN_KEYS.get(kind, ()):
            owner = "sobol_indices" if key in _OWN_KEYS["sobol_indices"] else "morris"
            raise ctx.fail(
                f"design.{key}",
                f"applies to kind = {owner!r} only, not {kind!r}",
                doc[key],
                f"remove it, or use kind = {owner!r}",
            )


def parse_design_options(
    ctx: Any, doc: Mapping[str, Any], kind: str, space: tuple[ParamSpec, ...]
) -> tuple[int, dict[str, Any]]:
    """Validate ``[design]`` of a sobol_indices / morris study: ``(points, DesignSpec options)``."""
    if "points" in doc:
        key = "N" if kind == "sobol_indices" else "trajectories"
        raise ctx.fail(
            "design.points",
            f"is not used by kind = {kind!r} (its size is `{key}`)",
            doc["points"],
            f"write {key} = {64 if key == 'N' else 10} instead",
        )
    if not any(p.kind != "fixed" for p in space):
        raise ctx.fail(
            "space",
            f"has no searched parameter for a {kind} design",
            [p.name for p in space],
            "add a range (low/high) or a choice (values) under [space.<name>]",
        )
    if kind == "sobol_indices":
        n = ctx.typed(doc, "N", "design", (int,), None, "a power of 2")
        if n is None or n < 2 or n & (n - 1):
            raise ctx.fail(
                "design.N",
                "must be a power of 2 >= 2 (SALib's Sobol' sample keeps its balance properties "
                "only then)",
                n,
                "use N = 64 (rows = N (D + 2) per strategy and seed)",
            )
        second = ctx.typed(doc, "second_order", "design", (bool,), False, "true or false")
        return n, {"second_order": second}
    traj = ctx.typed(doc, "trajectories", "design", (int,), None, "an integer >= 2")
    if traj is None or traj < 2:
        raise ctx.fail(
            "design.trajectories",
            "must be an integer >= 2 (Morris needs several elementary effects per factor)",
            traj,
            "use trajectories = 10 (rows = trajectories (D + 1) per strategy and seed)",
        )
    levels = ctx.typed(doc, "levels", "design", (int,), 4, "an even integer >= 2")
    if levels < 2 or levels % 2:
        raise ctx.fail(
            "design.levels",
            "must be an even integer >= 2 (Morris steps of levels / (2 (levels - 1)))",
            levels,
            "use levels = 4",
        )
    return traj, {"levels": levels}


def parse_analysis(ctx: Any, doc: Mapping[str, Any]) -> AnalysisSpec:
    """Validate ``[analysis]``: ``missing``, ``resamples``, ``conf_level``, ``seed``."""
    ctx.no_unknown(doc, ("missing", "resamples", "conf_level", "seed"), "analysis")
    missing = ctx.typed(doc, "missing", "analysis", (str,), "refuse", "a string")
    if missing not in ("refuse", "worst"):
        raise ctx.fail(
            "analysis.missing",
            "is not a known policy for failed trials",
            missing,
            'use "refuse" (stop naming the rows) or "worst" (failed = worst metric value)',
        )
    resamples = ctx.typed(doc, "resamples", "analysis", (int,), 1000, "an integer >= 10")
    if resamples < 10:
        raise ctx.fail("analysis.resamples", "must be >= 10", resamples, "use resamples = 1000")
    conf = ctx.typed(doc, "conf_level", "analysis", (float,), 0.95, "a number in (0, 1)")
    if not 0 < conf < 1:
        raise ctx.fail("analysis.conf_level", "must lie in (0, 1)", conf, "use conf_level = 0.95")
    seed = ctx.typed(doc, "seed", "analysis", (int,), 1, "an integer >= 1")
    if seed < 1:
        raise ctx.fail(
            "analysis.seed",
            "must be >= 1 (SALib's Sobol' and delta analyses treat 0 as 'no seed', so their "
            "intervals would change from run to run)",
            seed,
            "use seed = 1",
        )
    return AnalysisSpec(missing, resamples, float(conf), seed)
