"""Global sensitivity indices of a study, computed by SALib from the stored trials.

Three analyses, one per kind of design (all per strategy: the strategy is a categorical SALib
cannot take, see :mod:`sensitivity.gsa_design`):

* ``sobol_indices`` designs -- Sobol' first-order and total indices (``SALib.analyze.sobol``,
  Saltelli/Jansen estimators) of the seed-mean response
  ``ybar(x_r) = mean_s y(x_r, seed_s)``; ``S1_i = V[E(ybar | x_i)] / V(ybar)``,
  ``ST_i = E[V(ybar | x_~i)] / V(ybar)``; second-order ``S2_ij`` on request.
* ``morris`` designs -- Morris elementary effects (``SALib.analyze.morris``) of ``ybar``:
  ``mu*_i = mean |EE_i|``, ``sigma_i = std EE_i`` with ``EE_i = (ybar(x + D e_i) - ybar(x)) / D``
  in unit-cube coordinates (log-scaled factors: per unit of the log range).
* any other sampled design (random, lhs, sobol, halton, tpe) -- *given-data* indices by SALib's
  delta method (``SALib.analyze.delta``, Plischke et al. 2013): the moment-independent
  ``delta_i = 1/2 E_{x_i} int |f_Y(y) - f_{Y|x_i}(y)| dy`` and the first-order ``S1_i`` from the
  same sample, on the seed-mean response of each stored parameter point. Delta is chosen over
  RBD-FAST, PAWN and HDMR because (1) the accuracy response is far from Gaussian -- diverged
  runs sit at 0 next to a mode near the trained accuracy -- and delta measures the shift of the
  whole output distribution, not only of its variance; (2) it gives S1 from the same points, so
  it reads like a Sobol' index; (3) SALib gives bootstrap confidence intervals for both (its PAWN
  gives none) and (4) it works with the few dozen points a study has (HDMR needs >= 300 and a
  meta-model fit). It assumes the points are a sample of independent uniform (log-uniform)
  factors: true for random / lhs / sobol / halton designs, only approximately for tpe (whose
  points cluster where the sampler found good values).

**Seeds as noise.** Every row is run for each seed. Beside the indices of ``ybar`` the analysis
reports the share of the response's total variance that is seed noise,
``seed_share = mean_r s^2_r / s^2``, ``s^2_r`` the variance over seeds at row r (ddof 1) and
``s^2`` the variance over all (row, seed) runs (ddof 1), with a percentile bootstrap interval
over rows (``scipy.stats.bootstrap``).

**Order safety.** Every output is mapped to its design row by ``design_index`` through
:func:`sensitivity.gsa_design.design_table`; a row without a finished trial stops the analysis
with an :class:`AnalysisError` naming the missing design indices, unless ``[analysis] missing =
"worst"``: then *failed* trials (solver exception after the retries) score the metric's worst
value (accuracy 0; time to target: the largest value stored in the study). Rows not yet run are
refused under either policy. Diverged runs are data already (their stored value is the metric's
worst value, see :mod:`sensitivity.objective`).

Confidence intervals: SALib's bootstrap with ``[analysis] resamples`` resamples at
``conf_level`` (default 1000, 0.95), seeded with ``[analysis] seed``; ``*_conf`` is the half
width (the interval is value +- conf).
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sensitivity.errors import StudyError
from sensitivity.gsa_design import design_table, factors, salib_problem, to_unit
from sensitivity.spec import StudySpec

__all__ = [
    "AnalysisError",
    "GSAResult",
    "METHOD_FILES",
    "analyze",
    "response_matrix",
    "seed_noise",
    "sobol_indices",
    "morris_indices",
    "delta_indices",
    "export_indices",
    "index_differences",
    "applies",
]

#: file stem of each method's table (``<stem>.csv``) and figure (``<stem>.png``)
METHOD_FILES = {"sobol": "sobol_indices", "morris": "morris", "delta": "delta_indices"}
_MIN_GIVEN_POINTS = 20


class AnalysisError(StudyError):
    """The stored trials do not allow the analysis (missing rows, too few points, grid)."""


@dataclass(frozen=True)
class GSAResult:
    """Indices of every strategy (``indices``), the seed-noise share (``seed_noise``) and the
    design rows a missing-trial policy filled in (``filled``)."""

    method: str
    indices: pd.DataFrame
    seed_noise: pd.DataFrame
    filled: pd.DataFrame

    @property
    def stem(self) -> str:
        """File stem named after the method: sobol_indices, morris or delta_indices."""
        return METHOD_FILES[self.method]


# --------------------------------------------------------------------------- responses
def _worst(trials: pd.DataFrame, spec: StudySpec) -> float:
    """Worst value of the metric: accuracy 0; minimised metrics: the largest stored value."""
    if spec.metric.direction == "maximize":
        return 0.0
    v = pd.to_numeric(trials["value"], errors="coerce").to_numpy(float)
    v = v[np.isfinite(v)]
    if not len(v):
        raise AnalysisError(
            f"{spec.name}: no finished trial gives a worst value of {spec.metric.name} for "
            "[analysis] missing = 'worst'. Fix: run the study first."
        )
    return float(v.max())


def _finished_values(trials: pd.DataFrame) -> pd.DataFrame:
    """Counted trials by design index: ``value`` (NaN unless COMPLETE) and ``state``."""
    t = trials[trials["counted"].astype(bool) & trials["design_index"].notna()]
    out = pd.DataFrame(
        {
            "design_index": t["design_index"].astype("int64").to_numpy(),
            "state": t["state"].astype(str).to_numpy(),
            "value": pd.to_numeric(t["value"], errors="coerce").to_numpy(float),
        }
    )
    out.loc[out["state"] != "COMPLETE", "value"] = np.nan
    return out.drop_duplicates("design_index", keep="last").set_index("design_index")


def _policy(
    spec: StudySpec, rows: pd.DataFrame, got: pd.DataFrame, trials: pd.DataFrame, what: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Values of ``rows`` (a slice of the design table) by design index, after the policy."""
    idx = rows["design_index"].to_numpy()
    values = got["value"].reindex(idx).to_numpy(float)
    state = got["state"].reindex(idx).fillna("not run").to_numpy(object)
    failed = (state == "FAIL") | ((state == "COMPLETE") & ~np.isfinite(values))
    unrun = ~np.isfinite(values) & ~failed
    policy = spec.analysis.missing
    if unrun.any() or (failed.any() and policy != "worst"):
        bad = idx[unrun | (failed if policy != "worst" else np.zeros_like(failed))]
        shown = ", ".join(str(int(i)) for i in bad[:20]) + (" ..." if len(bad) > 20 else "")
        fix = "`sensitivity run` the study to completion"
        if failed.any() and policy != "worst":
            fix += ', or set [analysis] missing = "worst" to score failed trials at the worst value'
        raise AnalysisError(
            f"{spec.name}: the {what} needs a finished trial for every design row, in design "
            f"order; {len(bad)} of {len(idx)} rows are missing ({int(failed.sum())} failed, "
            f"{int(unrun.sum())} not run): design_index {shown}. Fix: {fix}."
        )
    filled = rows.loc[failed, ["design_index", "strategy", "row", "seed"]].copy()
    if failed.any():
        values = values.copy()
        values[failed] = _worst(trials, spec)
        filled["filled_with"] = values[failed]
    return values, filled


def response_matrix(
    trials: pd.DataFrame,
    spec: StudySpec,
    strategy: str,
    *,
    table: pd.DataFrame | None = None,
    n_rows: int | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Outputs of ``strategy``'s design rows by seed: ``Y`` of shape ``(rows, n_seeds)`` with
    ``Y[r, k]`` the value of SALib row ``r`` and seed ``seeds[k]``, mapped by ``design_index``
    (never by finishing order), and the rows filled by the missing-trial policy. ``n_rows``:
    only the first rows of the strategy's sample (a prefix design, see :func:`sobol_indices`).

    Raises:
        AnalysisError: a row has no finished trial (naming the design indices).
    """
    table = design_table(spec) if table is None else table
    rows = table[table["strategy"] == strategy].sort_values(["row", "seed"])
    if n_rows is not None:
        rows = rows[rows["row"] < n_rows]
    got = _finished_values(trials)
    what = f"{spec.design.kind} analysis of strategy {strategy!r}"
    values, filled = _policy(spec, rows, got, trials, what)
    seeds = list(spec.design.seeds)
    n_rows = int(rows["row"].max()) + 1
    Y = np.full((n_rows, len(seeds)), np.nan)
    Y[rows["row"].to_numpy(), [seeds.index(s) for s in rows["seed"]]] = values
    return Y, filled


def seed_noise(Y: np.ndarray, spec: StudySpec) -> dict[str, float]:
    """Share of the total variance that is seed noise, ``mean_r s^2_r / s^2`` (``Y``: rows x
    seeds), and ``var_mean``, the variance of the seed-mean response ``V(ybar)`` that the
    indices divide, each with a percentile bootstrap interval over rows (``_low``, ``_high``).
    Shares are NaN with fewer than 2 seeds."""
    from scipy import stats

    Y = np.asarray(Y, float)
    n_rows, n_seeds = Y.shape
    a = spec.analysis

    def interval(statistic) -> tuple[float, float]:
        if not math.isfinite(statistic(np.arange(n_rows))):
            return math.nan, math.nan
        res = stats.bootstrap(
            (np.arange(n_rows),), statistic, vectorized=False, n_resamples=a.resamples,
            confidence_level=a.conf_level, method="percentile",
            rng=np.random.default_rng(a.seed),
        )  # fmt: skip
        return float(res.confidence_interval.low), float(res.confidence_interval.high)

    def var_mean(ix: np.ndarray) -> float:
        return float(np.var(Y[np.asarray(ix, int)].mean(axis=1), ddof=1))

    def share(ix: np.ndarray) -> float:
        sub = Y[np.asarray(ix, int)]
        total = np.var(sub, ddof=1)
        return float(np.mean(np.var(sub, axis=1, ddof=1)) / total) if total > 0 else math.nan

    out: dict[str, float] = {"n_points": n_rows, "n_seeds": n_seeds}
    if n_rows < 2:
        return out | dict.fromkeys(_NOISE_COLUMNS, math.nan)
    vm_low, vm_high = interval(var_mean)
    out |= {"var_mean": var_mean(np.arange(n_rows)), "var_mean_low": vm_low,
            "var_mean_high": vm_high}  # fmt: skip
    if n_seeds < 2:
        return out | dict.fromkeys(_NOISE_COLUMNS[3:], math.nan)
    low, high = interval(share)
    return out | {"var_total": float(np.var(Y, ddof=1)),
                  "var_seed": float(np.mean(np.var(Y, axis=1, ddof=1))),
                  "seed_share": share(np.arange(n_rows)), "seed_share_low": low,
                  "seed_share_high": high}  # fmt: skip


_NOISE_COLUMNS = ("var_mean", "var_mean_low", "var_mean_high", "var_total", "var_seed",
                  "seed_share", "seed_share_low", "seed_share_high")  # fmt: skip


# --------------------------------------------------------------------------- the three methods
def sobol_indices(
    trials: pd.DataFrame, spec: StudySpec, *, base_samples: int | None = None
) -> GSAResult:
    """Sobol' S1, ST (and S2) of every strategy's seed-mean response (``SALib.analyze.sobol``).

    ``base_samples`` (a power of 2 below the design's ``N``) analyses the prefix design: the
    first ``base_samples (D + 2)`` rows of each strategy's sample are exactly SALib's Sobol'
    sample with that ``N`` (the scrambled Sobol' sequence is extensible and SALib lays the rows
    out per base sample), so a study that has not finished can be analysed at the largest
    power of 2 it has completed. Default: the design's ``N``.

    Raises:
        AnalysisError: missing rows, or ``base_samples`` not a power of 2 <= N.
    """
    from SALib.analyze import sobol

    n_base = spec.design.points if base_samples is None else base_samples
    assert spec.design.points is not None and n_base is not None
    if n_base < 2 or n_base & (n_base - 1) or n_base > spec.design.points:
        raise AnalysisError(
            f"{spec.name}: base_samples must be a power of 2 between 2 and the design's "
            f"N = {spec.design.points}; got {n_base}. Fix: use e.g. {spec.design.points // 2}."
        )
    table = design_table(spec)
    parts, noise, filled = [], [], []
    for s in spec.strategies:
        params = factors(spec, s)
        per_base = 2 * len(params) + 2 if spec.design.second_order else len(params) + 2
        Y, f = response_matrix(trials, spec, s, table=table, n_rows=n_base * per_base)
        names = [p.name for p in params]
        a = spec.analysis
        res = sobol.analyze(
            salib_problem(params), Y.mean(axis=1), calc_second_order=spec.design.second_order,
            num_resamples=a.resamples, conf_level=a.conf_level, seed=a.seed,
        )  # fmt: skip
        frame = pd.DataFrame(
            {"strategy": s, "factor": names, "S1": res["S1"], "S1_conf": res["S1_conf"],
             "ST": res["ST"], "ST_conf": res["ST_conf"], "N": n_base}
        )  # fmt: skip
        if spec.design.second_order:
            for j, other in enumerate(names):
                frame[f"S2_{other}"] = res["S2"][:, j]
                frame[f"S2_{other}_conf"] = res["S2_conf"][:, j]
        parts.append(frame)
        noise.append({"strategy": s} | seed_noise(Y, spec))
        filled.append(f)
    return GSAResult("sobol", _concat(parts), pd.DataFrame(noise), _concat(filled))


def morris_indices(trials: pd.DataFrame, spec: StudySpec) -> GSAResult:
    """Morris mu*, its interval, sigma (and mu) of every strategy (``SALib.analyze.morris``)."""
    from SALib.analyze import morris

    from sensitivity.gsa_design import unit_sample

    table = design_table(spec)
    parts, noise, filled = [], [], []
    for s in spec.strategies:
        Y, f = response_matrix(trials, spec, s, table=table)
        params = factors(spec, s)
        a = spec.analysis
        res = morris.analyze(
            salib_problem(params), unit_sample(spec, s), Y.mean(axis=1),
            num_resamples=a.resamples, conf_level=a.conf_level, num_levels=spec.design.levels,
            seed=a.seed,
        )  # fmt: skip
        parts.append(
            pd.DataFrame(
                {
                    "strategy": s,
                    "factor": [p.name for p in params],
                    "mu_star": np.asarray(res["mu_star"], float),
                    "mu_star_conf": np.asarray(res["mu_star_conf"], float),
                    "sigma": np.asarray(res["sigma"], float),
                    "mu": np.asarray(res["mu"], float),
                }
            )  # fmt: skip
        )
        noise.append({"strategy": s} | seed_noise(Y, spec))
        filled.append(f)
    return GSAResult("morris", _concat(parts), pd.DataFrame(noise), _concat(filled))


def delta_indices(trials: pd.DataFrame, spec: StudySpec) -> GSAResult:
    """Given-data delta and S1 indices (``SALib.analyze.delta``) of every strategy's stored
    parameter points (seed-mean response), for random / lhs / sobol / halton / tpe designs.

    Raises:
        AnalysisError: a grid design, or fewer than 20 points of a strategy.
    """
    from SALib.analyze import delta

    if spec.design.kind == "grid":
        raise AnalysisError(
            f"{spec.name}: given-data indices need sampled points; a grid design has "
            f"{spec.design.kind} levels only. Fix: use the main-effect variance shares, or a "
            "random / lhs / sobol design."
        )
    got = trials[trials["counted"].astype(bool) & trials["design_index"].notna()].copy()
    parts, noise, filled = [], [], []
    for s in spec.strategies:
        params = factors(spec, s)
        mine = got[got["strategy"].astype(str) == s].copy()
        mine["row"] = 0
        values, f = _policy(
            spec,
            mine.assign(design_index=mine["design_index"].astype("int64")),
            _finished_values(trials), trials, f"given-data analysis of strategy {s!r}",
        )  # fmt: skip
        mine["y"] = values
        cols = [f"param_{p.name}" for p in params]
        X = np.array(
            [[to_unit(p, v) for p, v in zip(params, r, strict=True)] for r in
             mine[cols].itertuples(index=False)], float,
        ).reshape(len(mine), len(params))  # fmt: skip
        mine["_key"] = [tuple(np.round(r, 12)) for r in X]
        grouped = mine.groupby("_key", sort=True)
        point_x = np.array(list(grouped.groups.keys()), float).reshape(-1, len(params))
        point_y = grouped["y"].mean().to_numpy(float)
        if len(point_y) < _MIN_GIVEN_POINTS:
            raise AnalysisError(
                f"{spec.name}: given-data indices of strategy {s!r} need >= "
                f"{_MIN_GIVEN_POINTS} stored parameter points; got {len(point_y)}. Fix: run "
                "more points (design.points) or wait for the study to finish."
            )
        a = spec.analysis
        with contextlib.redirect_stdout(io.StringIO()):  # SALib 1.6 prints bin notices
            res = delta.analyze(
                salib_problem(params), point_x, point_y, num_resamples=a.resamples,
                conf_level=a.conf_level, seed=a.seed,
            )  # fmt: skip
        key = "delta_raw" if "delta_raw" in res else "delta"  # SALib 1.6 / 1.5
        parts.append(
            pd.DataFrame(
                {
                    "strategy": s,
                    "factor": [p.name for p in params],
                    "delta": np.asarray(res[key], float),
                    "delta_conf": np.asarray(res[f"{key}_conf"], float),
                    "S1": np.asarray(res["S1"], float),
                    "S1_conf": np.asarray(res["S1_conf"], float),
                    "n_points": len(point_y),
                }
            )  # fmt: skip
        )
        counts = grouped.size()
        k = int(counts.min())
        if k >= 2:  # replicated points (random/lhs/qmc designs cross every point with seeds)
            Y = np.vstack([g["y"].to_numpy(float)[:k] for _, g in grouped])
            noise.append({"strategy": s} | seed_noise(Y, spec))
        else:
            noise.append({"strategy": s} | seed_noise(point_y[:, None], spec))
        filled.append(f)
    return GSAResult("delta", _concat(parts), pd.DataFrame(noise), _concat(filled))


def index_differences(indices: pd.DataFrame, baseline: str, key: str = "ST") -> pd.DataFrame:
    """``key`` index of every other strategy minus the baseline's, per shared factor:
    ``diff = I_s - I_baseline`` with half width ``diff_conf = sqrt(conf_s^2 + conf_b^2)``
    (SALib's intervals are normal half widths; the two estimates are treated as independent,
    which is conservative when they are positively correlated -- strategies share the
    Sobol' points of their shared factors), and
    ``lower = diff + diff_conf < 0`` (the index drops, at that confidence)."""
    base = indices[indices["strategy"] == baseline].set_index("factor")
    rows = []
    for s, g in indices[indices["strategy"] != baseline].groupby("strategy", sort=False):
        for _, r in g.iterrows():
            if r["factor"] not in base.index:
                continue
            b = base.loc[r["factor"]]
            d, c = r[key] - b[key], math.hypot(r[f"{key}_conf"], b[f"{key}_conf"])
            rows.append({"strategy": s, "baseline": baseline, "factor": r["factor"],
                         key: r[key], f"{key}_conf": r[f"{key}_conf"],
                         f"{key}_baseline": b[key], f"{key}_baseline_conf": b[f"{key}_conf"],
                         "diff": d, "diff_conf": c, "lower": bool(d + c < 0)})  # fmt: skip
    return pd.DataFrame(rows)


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def analyze(trials: pd.DataFrame, spec: StudySpec, *, base_samples: int | None = None) -> GSAResult:
    """The study's global sensitivity analysis: Sobol' (sobol_indices, optionally on the
    prefix design of ``base_samples``), Morris (morris) or given-data delta (any other sampled
    design).

    Raises:
        AnalysisError: missing design rows (see the module docstring), a grid design, too few
        points, ``base_samples`` with a design other than sobol_indices.
    """
    if base_samples is not None and spec.design.kind != "sobol_indices":
        raise AnalysisError(
            f"{spec.name}: base_samples applies to sobol_indices designs only, not "
            f"{spec.design.kind}. Fix: leave it out."
        )
    if spec.design.kind == "sobol_indices":
        return sobol_indices(trials, spec, base_samples=base_samples)
    if spec.design.kind == "morris":
        return morris_indices(trials, spec)
    return delta_indices(trials, spec)


def export_indices(result: GSAResult, out_dir: str | Path) -> list[Path]:
    """Write ``<method>.csv`` (sobol_indices / morris / delta_indices), ``seed_noise.csv``,
    for Sobol' with several strategies ``sobol_differences.csv`` (total indices against the
    first strategy, :func:`index_differences`) and, when the missing-trial policy filled rows,
    ``filled_rows.csv``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{result.stem}.csv", out / "seed_noise.csv"]
    result.indices.to_csv(paths[0], index=False)
    result.seed_noise.to_csv(paths[1], index=False)
    strategies = list(dict.fromkeys(result.indices["strategy"]))
    if result.method == "sobol" and len(strategies) > 1:
        paths.append(out / "sobol_differences.csv")
        index_differences(result.indices, strategies[0]).to_csv(paths[-1], index=False)
    if len(result.filled):
        paths.append(out / "filled_rows.csv")
        result.filled.to_csv(paths[-1], index=False)
    return paths


def applies(spec: StudySpec | None) -> bool:
    """Whether a study has a global sensitivity analysis (every design except grid)."""
    return spec is not None and spec.design.kind != "grid"
