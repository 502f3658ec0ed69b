"""Study files: TOML -> a validated, frozen :class:`StudySpec`.

A study file says everything needed to rerun a study::

    [study]         name, description, regenerates (the paper figure/table)
    [problem]       dataset = "peaks"; [problem.data] options of ``load_dataset``;
                    [problem.network] fields of ``NetworkConfig``
    [training.optimizer | .stop | .init | .parallel]   fields of the solver's config dataclasses
    [strategies.<name>]   one table per strategy to compare, its options
    [space.<param>]       what varies: a range (low/high/log/int/steps), a choice (values)
                          or a fixed value (value), written into ``target``
                          (e.g. "optimizer.learning_rate")
    [design]        kind (grid | random | lhs | sobol | halton | tpe | sobol_indices | morris),
                    points (sobol_indices: N; morris: trajectories, levels), seeds (list or count)
    [metric]        name (val_acc | time_to_target), target accuracy, clock (wall | modelled),
                    budget (time-to-target horizon, seconds on the clock)
    [analysis]      global sensitivity analysis: missing-row policy, resamples, conf_level
                    (:mod:`sensitivity.gsa`)
    [run]           retries, heartbeat_interval, grace_period, storage URL, results_dir,
                    workers (default local worker processes of ``run``)

Every problem raises :class:`~sensitivity.errors.SpecError` naming the file, the key, the value
and a fix, before anything is written: the structure here (one small validator per section,
``"<file>: `<key>` <rule>; got <value>. Fix: <fix>"``), field names and values of the solver
sections in the solver adapter (:func:`sensitivity.bridge.check_spec`, run by ``run``), so that
reading a spec and its results imports no solver module.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sensitivity.errors import SpecError
from sensitivity.nested import freeze, thaw

__all__ = [
    "ParamSpec",
    "DesignSpec",
    "MetricSpec",
    "RunSpec",
    "AnalysisSpec",
    "StudySpec",
    "load_spec",
    "parse_spec",
    "TARGET_SECTIONS",
    "DESIGN_KINDS",
    "STRATEGIES",
]

TARGET_SECTIONS = ("data", "network", "optimizer", "stop", "init", "parallel", "strategy")
DESIGN_KINDS = ("grid", "random", "lhs", "sobol", "halton", "tpe", "sobol_indices", "morris")
STRATEGIES = ("random", "nested", "spline", "box")
METRICS = ("val_acc", "time_to_target")
CLOCKS = ("wall", "modelled")
DesignKind = Literal["grid", "random", "lhs", "sobol", "halton", "tpe", "sobol_indices", "morris"]
_SCALAR = (bool, int, float, str)


@dataclass(frozen=True)
class ParamSpec:
    """One searched dimension.

    ``kind`` is ``"range"`` (``low``..``high``, optional ``log``, ``int``; ``steps`` grid points
    for grid designs), ``"choice"`` (``values``) or ``"fixed"`` (``values`` holds the one value).
    The sampled value is written to every entry of ``targets`` ("section.field"). ``strategy``
    restricts the parameter to trials of one strategy (e.g. nested-iteration schedules).
    """

    name: str
    targets: tuple[str, ...]
    kind: Literal["range", "choice", "fixed"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False
    steps: int | None = None
    values: tuple[Any, ...] = ()
    strategy: str | None = None

    def grid(self) -> tuple[Any, ...]:
        """Grid values (all choices, or ``steps`` points spaced linearly / logarithmically)."""
        if self.kind != "range":
            return self.values
        assert self.low is not None and self.high is not None and self.steps is not None
        n = self.steps
        if n == 1:
            pts = [self.low]
        elif self.log:
            a, b = math.log(self.low), math.log(self.high)
            pts = [math.exp(a + (b - a) * i / (n - 1)) for i in range(n)]
        else:
            pts = [self.low + (self.high - self.low) * i / (n - 1) for i in range(n)]
        if self.integer:
            return tuple(dict.fromkeys(int(round(p)) for p in pts))
        pts[0], pts[-1] = self.low, self.high
        return tuple(float(p) for p in pts)

    def from_unit(self, u: float) -> Any:
        """Map ``u`` in [0, 1) onto the parameter (inverse CDF of a uniform / log-uniform law)."""
        u = min(max(u, 0.0), math.nextafter(1.0, 0.0))
        if self.kind != "range":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        if self.integer:
            lo, hi = int(self.low), int(self.high)
            if self.log:
                v = math.exp(math.log(lo) + u * (math.log(hi + 1) - math.log(lo)))
                return min(int(math.floor(v)), hi)
            return min(lo + int(u * (hi - lo + 1)), hi)
        if self.log:
            return math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)


@dataclass(frozen=True)
class DesignSpec:
    """How the space is covered: kind, number of points (``tpe``: total trials), seeds.

    ``sobol_indices``: ``points`` is SALib's base sample count ``N`` and ``second_order`` asks for
    S2; ``morris``: ``points`` is the number of trajectories over a ``levels``-level grid
    (:mod:`sensitivity.gsa_design`).
    """

    kind: DesignKind
    points: int | None
    seeds: tuple[int, ...]
    sampler_seed: int = 0
    second_order: bool = False
    levels: int = 4


@dataclass(frozen=True)
class AnalysisSpec:
    """Settings of the global sensitivity analysis (:mod:`sensitivity.gsa`).

    ``missing``: ``"refuse"`` (a design row without a finished trial stops the analysis, naming
    the rows) or ``"worst"`` (failed trials score the metric's worst value); ``resamples`` and
    ``conf_level``: SALib's bootstrap of the confidence intervals, seeded by ``seed``.
    """

    missing: Literal["refuse", "worst"] = "refuse"
    resamples: int = 1000
    conf_level: float = 0.95
    seed: int = 1


@dataclass(frozen=True)
class MetricSpec:
    """What a trial reports: final validation accuracy or time to ``target`` on ``clock``.

    ``budget`` (seconds on ``clock``) is the horizon of time to target: a run that has not
    reached ``target`` by then never does (see :mod:`sensitivity.records`); required for
    ``time_to_target`` (wall clock: defaults to ``training.stop.time_budget``).
    """

    name: Literal["val_acc", "time_to_target"]
    target: float | None
    clock: Literal["wall", "modelled"] = "wall"
    budget: float | None = None

    @property
    def direction(self) -> Literal["maximize", "minimize"]:
        return "maximize" if self.name == "val_acc" else "minimize"


@dataclass(frozen=True)
class RunSpec:
    """Execution settings: retries of failed trials, heartbeat for stale-worker detection."""

    retries: int = 2
    heartbeat_interval: float = 10.0
    grace_period: float = 60.0
    storage: str | None = None
    results_dir: str = "results"
    workers: int = 1


@dataclass(frozen=True)
class StudySpec:
    """A validated study file. Mappings are read-only; ``raw`` is the parsed TOML document."""

    name: str
    path: Path | None
    description: str
    regenerates: str
    dataset: str
    data: Mapping[str, Any]
    network: Mapping[str, Any]
    optimizer: Mapping[str, Any]
    stop: Mapping[str, Any]
    init: Mapping[str, Any]
    parallel: Mapping[str, Any] | None
    strategies: Mapping[str, Mapping[str, Any]]
    space: tuple[ParamSpec, ...]
    design: DesignSpec
    metric: MetricSpec
    run: RunSpec
    analysis: AnalysisSpec = field(default_factory=AnalysisSpec)
    raw: Mapping[str, Any] = field(repr=False, default_factory=dict)

    @property
    def results_path(self) -> Path:
        """Directory of the study's storage, records and exports: ``<results_dir>/<name>``."""
        return Path(self.run.results_dir) / self.name

    def with_run(self, **changes: Any) -> StudySpec:
        """A copy with run settings replaced (e.g. ``results_dir`` or ``storage`` from the CLI)."""
        return replace(self, run=replace(self.run, **changes))

    def params_for(self, strategy: str) -> tuple[ParamSpec, ...]:
        """Searched parameters that apply to trials of ``strategy``."""
        return tuple(p for p in self.space if p.strategy in (None, strategy))

    def section(self, name: str) -> Mapping[str, Any] | None:
        """Fixed options of a target section (``"strategy"`` is per strategy, so ``None``)."""
        return {
            "data": self.data,
            "network": self.network,
            "optimizer": self.optimizer,
            "stop": self.stop,
            "init": self.init,
            "parallel": self.parallel,
        }.get(name)


# --------------------------------------------------------------------------- parsing helpers
class _Ctx:
    """Carries the file name so every message starts with it."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, rule: str, value: Any, fix: str) -> SpecError:
        return SpecError(f"{self.source}: `{key}` {rule}; got {value!r}. Fix: {fix}")

    def table(self, doc: Mapping[str, Any], key: str, path: str, required: bool = False) -> dict:
        full = f"{path}.{key}" if path else key
        if key not in doc:
            if required:
                raise self.fail(full, "is required", None, f"add a [{full}] table")
            return {}
        value = doc[key]
        if not isinstance(value, dict):
            raise self.fail(full, "must be a table", value, f"write it as [{full}]")
        return value

    def no_unknown(self, doc: Mapping[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in doc:
            if key not in allowed:
                full = f"{path}.{key}" if path else key
                raise self.fail(
                    full, "is not a known key", doc[key], f"use one of: {', '.join(allowed)}"
                )

    def typed(self, doc: Mapping, key: str, path: str, types: tuple, default: Any, what: str):
        full = f"{path}.{key}" if path else key
        if key not in doc:
            return default
        value = doc[key]
        if isinstance(value, bool) and bool not in types:
            raise self.fail(full, f"must be {what}", value, f"write {full} = <{what}>")
        if not isinstance(value, types):
            raise self.fail(full, f"must be {what}", value, f"write {full} = <{what}>")
        return value


# --------------------------------------------------------------------------- sections
def _parse_space(ctx: _Ctx, doc: dict, strategies: tuple[str, ...]) -> tuple[ParamSpec, ...]:
    allowed = ("target", "low", "high", "log", "int", "steps", "values", "value", "strategy")
    params = []
    for name, table in doc.items():
        path = f"space.{name}"
        if not isinstance(table, dict):
            raise ctx.fail(
                path, "must be a table", table, f"write [{path}] with low/high or values"
            )
        if name in ("strategy", "seed") or not name.isidentifier():
            raise ctx.fail(path, "is a reserved or invalid name", name, "rename the parameter")
        ctx.no_unknown(table, allowed, path)
        target = table.get("target")
        targets = (target,) if isinstance(target, str) else target
        if (
            not isinstance(targets, list | tuple)
            or not targets
            or not all(isinstance(t, str) for t in targets)
        ):
            raise ctx.fail(
                f"{path}.target",
                'must be "section.field" or a list of them',
                target,
                'write target = "optimizer.learning_rate"',
            )
        for t in targets:
            sec, _, fld = t.partition(".")
            if sec not in TARGET_SECTIONS or not fld:
                raise ctx.fail(
                    f"{path}.target",
                    f"must start with one of {', '.join(TARGET_SECTIONS)} and name a field",
                    t,
                    'write e.g. target = "init.scale_hidden"',
                )
        strategy = table.get("strategy")
        if strategy is not None and strategy not in strategies:
            raise ctx.fail(
                f"{path}.strategy",
                "must name a strategy of this study",
                strategy,
                f"use one of: {', '.join(strategies)} or remove the key",
            )
        if any(t.startswith("strategy.") for t in targets) and strategy is None:
            if len(strategies) > 1:
                raise ctx.fail(
                    f"{path}.strategy",
                    "is required for a strategy option when several strategies are compared",
                    None,
                    'add strategy = "<name>"',
                )
            strategy = strategies[0]
        kinds = [k for k in ("low", "values", "value") if k in table]
        if len(kinds) != 1 or ("high" in table) != ("low" in table):
            raise ctx.fail(
                path,
                "must give exactly one of low+high (a range), values (a choice) or value (fixed)",
                sorted(table),
                "e.g. low = 1e-3, high = 1e-1, log = true",
            )
        log = ctx.typed(table, "log", path, (bool,), False, "true or false")
        integer = ctx.typed(table, "int", path, (bool,), False, "true or false")
        steps = ctx.typed(table, "steps", path, (int,), None, "a positive integer")
        if steps is not None and steps < 1:
            raise ctx.fail(f"{path}.steps", "must be >= 1", steps, "use steps = 3")
        if kinds[0] == "low":
            low, high = table["low"], table["high"]
            for key, v in (("low", low), ("high", high)):
                if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                    raise ctx.fail(f"{path}.{key}", "must be a finite number", v, "write a number")
            if integer and not (isinstance(low, int) and isinstance(high, int)):
                raise ctx.fail(
                    path, "with int = true needs integer bounds", (low, high), "use ints"
                )
            if not low < high:
                raise ctx.fail(
                    path,
                    "is an empty range: low must be < high",
                    (low, high),
                    "swap the bounds or use value = ... for a fixed value",
                )
            if log and low <= 0:
                raise ctx.fail(
                    f"{path}.low", "must be > 0 on a log scale", low, "use a positive low bound"
                )
            if integer and steps is not None and steps > high - low + 1:
                raise ctx.fail(
                    f"{path}.steps",
                    f"exceeds the {high - low + 1} integers in [low, high]",
                    steps,
                    f"use steps <= {high - low + 1}",
                )
            params.append(
                ParamSpec(
                    name,
                    tuple(targets),
                    "range",
                    float(low) if not integer else low,
                    float(high) if not integer else high,
                    log,
                    integer,
                    steps,
                    (),
                    strategy,
                )  # fmt: skip
            )
        else:
            values = table["values"] if kinds[0] == "values" else [table["value"]]
            if not isinstance(values, list) or not values:
                raise ctx.fail(
                    f"{path}.values", "must be a non-empty list", values, "write values = [a, b]"
                )
            if len({repr(v) for v in values}) != len(values):
                raise ctx.fail(f"{path}.values", "has duplicates", values, "list each value once")
            if steps is not None or log or integer:
                raise ctx.fail(
                    path, "steps/log/int apply to ranges only", sorted(table), "remove them"
                )
            kind = "choice" if kinds[0] == "values" else "fixed"
            params.append(
                ParamSpec(name, tuple(targets), kind, values=freeze(values), strategy=strategy)
            )
    seen: dict[tuple[str, str | None], str] = {}
    for p in params:
        for t in p.targets:
            for scope in {p.strategy, None} if p.strategy else {None}:
                other = seen.get((t, scope))
                if other is not None and other != p.name:
                    raise ctx.fail(
                        f"space.{p.name}.target",
                        f"writes the same option as space.{other}",
                        t,
                        "merge the two parameters or target different options",
                    )
            seen[(t, p.strategy)] = p.name
    return tuple(params)


def _parse_design(ctx: _Ctx, doc: dict, space: tuple[ParamSpec, ...]) -> DesignSpec:
    from sensitivity import gsa_design

    ctx.no_unknown(doc, ("kind", "points", "seeds", "sampler_seed") + gsa_design.KEYS, "design")
    kind = ctx.typed(doc, "kind", "design", (str,), "grid", "a string")
    if kind not in DESIGN_KINDS:
        raise ctx.fail(
            "design.kind", "is not a known design", kind, f"use {', '.join(DESIGN_KINDS)}"
        )
    points = ctx.typed(doc, "points", "design", (int,), None, "a positive integer")
    gsa_design.refuse_options(ctx, doc, kind)
    gsa_options: dict[str, Any] = {}
    if kind in gsa_design.GSA_KINDS:
        points, gsa_options = gsa_design.parse_design_options(ctx, doc, kind, space)
    elif kind == "grid":
        if points is not None:
            raise ctx.fail(
                "design.points",
                "is derived for a grid (product of the grids)",
                points,
                "remove it, or use kind = 'random' / 'lhs'",
            )
        for p in space:
            if p.kind == "range" and p.steps is None:
                raise ctx.fail(
                    f"space.{p.name}.steps",
                    "is required for a range in a grid design",
                    None,
                    "add steps = 3 (grid points) or give values = [...]",
                )
    elif points is None or points < 1:
        raise ctx.fail("design.points", "must be a positive integer", points, "add points = 8")
    seeds_raw = doc.get("seeds", 1)
    if isinstance(seeds_raw, bool):
        seeds_raw = None
    if isinstance(seeds_raw, int):
        if seeds_raw < 1:
            raise ctx.fail("design.seeds", "must be >= 1 when a count", seeds_raw, "use seeds = 3")
        seeds = tuple(range(seeds_raw))
    elif (
        isinstance(seeds_raw, list)
        and seeds_raw
        and all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds_raw)
    ):
        if len(set(seeds_raw)) != len(seeds_raw):
            raise ctx.fail("design.seeds", "has duplicates", seeds_raw, "list each seed once")
        seeds = tuple(seeds_raw)
    else:
        raise ctx.fail(
            "design.seeds",
            "must be a count or a non-empty list of non-negative integers",
            seeds_raw,
            "write seeds = 3 or seeds = [0, 1, 2]",
        )
    sampler_seed = ctx.typed(doc, "sampler_seed", "design", (int,), 0, "an integer")
    return DesignSpec(kind, points, seeds, sampler_seed, **gsa_options)


def _parse_metric(ctx: _Ctx, doc: dict, stop: Mapping[str, Any]) -> MetricSpec:
    ctx.no_unknown(doc, ("name", "target", "clock", "budget"), "metric")
    name = ctx.typed(doc, "name", "metric", (str,), "val_acc", "a string")
    if name not in METRICS:
        raise ctx.fail("metric.name", "is not a known metric", name, f"use {', '.join(METRICS)}")
    target = ctx.typed(doc, "target", "metric", (int, float), None, "a number in (0, 1]")
    if target is not None and not 0 < target <= 1:
        raise ctx.fail("metric.target", "must be an accuracy in (0, 1]", target, "use 0.9")
    if name == "time_to_target" and target is None:
        raise ctx.fail("metric.target", "is required for time_to_target", None, "add target = 0.9")
    clock = ctx.typed(doc, "clock", "metric", (str,), "wall", "a string")
    if clock not in CLOCKS:
        raise ctx.fail("metric.clock", "is not a known clock", clock, f"use {', '.join(CLOCKS)}")
    budget = ctx.typed(doc, "budget", "metric", (int, float), None, "a time in seconds")
    if budget is None and clock == "wall" and isinstance(stop.get("time_budget"), int | float):
        budget = stop["time_budget"]
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise ctx.fail("metric.budget", "must be a positive time in seconds", budget, "use 60")
    if name == "time_to_target" and budget is None:
        raise ctx.fail(
            "metric.budget",
            "is required for time_to_target (runs that miss the target are censored at it and "
            "score budget * (1 + shortfall))",
            None,
            f"add budget = <seconds of {clock} time>",
        )
    target_f = None if target is None else float(target)
    return MetricSpec(name, target_f, clock, None if budget is None else float(budget))


def _parse_run(ctx: _Ctx, doc: dict) -> RunSpec:
    ctx.no_unknown(
        doc,
        ("retries", "heartbeat_interval", "grace_period", "storage", "results_dir", "workers"),
        "run",
    )
    retries = ctx.typed(doc, "retries", "run", (int,), 2, "an integer >= 0")
    if retries < 0:
        raise ctx.fail("run.retries", "must be >= 0", retries, "use retries = 2")
    hb = ctx.typed(doc, "heartbeat_interval", "run", (int, float), 10.0, "seconds > 0")
    grace = ctx.typed(doc, "grace_period", "run", (int, float), 60.0, "seconds > 0")
    if hb <= 0:
        raise ctx.fail("run.heartbeat_interval", "must be > 0", hb, "use 10")
    if grace <= hb:
        raise ctx.fail(
            "run.grace_period",
            "must exceed heartbeat_interval",
            grace,
            f"use grace_period >= {3 * hb}",
        )
    storage = ctx.typed(doc, "storage", "run", (str,), None, "an Optuna storage URL")
    results_dir = ctx.typed(doc, "results_dir", "run", (str,), "results", "a directory")
    workers = ctx.typed(doc, "workers", "run", (int,), 1, "an integer >= 1")
    if workers < 1:
        raise ctx.fail("run.workers", "must be >= 1", workers, "use workers = 2")
    return RunSpec(retries, float(hb), float(grace), storage, results_dir, workers)


def parse_spec(
    doc: Mapping[str, Any], *, source: str = "<study>", path: Path | None = None
) -> StudySpec:
    """Validate a parsed TOML document and return a :class:`StudySpec`.

    Field names and values of the solver sections are checked by the solver adapter
    (:func:`sensitivity.bridge.check_spec`), not here, so reading a spec needs no solver.

    Raises:
        SpecError: naming ``source``, the key, the value and a fix.
    """
    ctx = _Ctx(source)
    doc = thaw(doc)
    ctx.no_unknown(
        doc,
        ("study", "problem", "training", "strategies", "space", "design", "metric", "run")
        + ("analysis",),
        "",
    )
    study = ctx.table(doc, "study", "")
    ctx.no_unknown(study, ("name", "description", "regenerates"), "study")
    default_name = path.stem if path is not None else Path(source).stem.strip("<>") or "study"
    name = ctx.typed(study, "name", "study", (str,), default_name, "a string")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ctx.fail(
            "study.name",
            "must be a safe folder name: letters, digits, `-` and `_` only (it names "
            "results/<name>/ and figures/<name>/)",
            name,
            f"set [study] name = \"{re.sub(r'[^A-Za-z0-9_-]+', '_', name).strip('_') or 'study'}\"",
        )
    description = ctx.typed(study, "description", "study", (str,), "", "a string")
    regenerates = ctx.typed(study, "regenerates", "study", (str,), "", "a string")

    problem = ctx.table(doc, "problem", "", required=True)
    ctx.no_unknown(problem, ("dataset", "data", "network"), "problem")
    dataset = ctx.typed(problem, "dataset", "problem", (str,), None, "a data-set name")
    if dataset is None:
        raise ctx.fail("problem.dataset", "is required", None, 'add dataset = "peaks"')
    data = ctx.table(problem, "data", "problem")
    network = ctx.table(problem, "network", "problem", required=True)

    training = ctx.table(doc, "training", "")
    ctx.no_unknown(training, ("optimizer", "stop", "init", "parallel"), "training")
    sections = {}
    for sec in ("optimizer", "stop", "init"):
        sections[sec] = ctx.table(training, sec, "training")
    parallel = ctx.table(training, "parallel", "training") if "parallel" in training else None

    strategies_doc = ctx.table(doc, "strategies", "", required=True)
    if not strategies_doc:
        raise ctx.fail(
            "strategies", "must name at least one strategy", {}, "add [strategies.random]"
        )
    for sname, opts in strategies_doc.items():
        if sname not in STRATEGIES:
            raise ctx.fail(
                f"strategies.{sname}",
                "is not a known strategy",
                sname,
                f"use one of: {', '.join(STRATEGIES)}",
            )
        if not isinstance(opts, dict):
            raise ctx.fail(f"strategies.{sname}", "must be a table of options", opts, "use [..]")
    strategies = tuple(strategies_doc)

    space = _parse_space(ctx, ctx.table(doc, "space", ""), strategies)
    for p in space:
        for t in p.targets:
            sec, _, fld = t.partition(".")
            if sec == "parallel" and parallel is None:
                raise ctx.fail(
                    f"space.{p.name}.target",
                    "varies a parallel option but the study has no [training.parallel]",
                    t,
                    "add a [training.parallel] table",
                )
            if sec == "init" and fld == "seed":
                raise ctx.fail(
                    f"space.{p.name}.target",
                    "is set by design.seeds",
                    t,
                    "list the seeds in [design] seeds = [...]",
                )
    design = _parse_design(ctx, ctx.table(doc, "design", ""), space)
    metric = _parse_metric(ctx, ctx.table(doc, "metric", ""), sections["stop"])
    run = _parse_run(ctx, ctx.table(doc, "run", ""))
    from sensitivity.gsa_design import parse_analysis

    analysis = parse_analysis(ctx, ctx.table(doc, "analysis", ""))
    return StudySpec(
        name=name,
        path=path,
        description=description,
        regenerates=regenerates,
        dataset=dataset,
        data=freeze(data),
        network=freeze(network),
        optimizer=freeze(sections["optimizer"]),
        stop=freeze(sections["stop"]),
        init=freeze(sections["init"]),
        parallel=None if parallel is None else freeze(parallel),
        strategies=freeze(strategies_doc),
        space=space,
        design=design,
        metric=metric,
        run=run,
        analysis=analysis,
        raw=freeze(doc),
    )


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a study file.

    Raises:
        SpecError: the file is missing, is not TOML, or fails validation.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(
            f"{p}: cannot read the study file ({err.strerror}). Fix: check the path."
        ) from None
    except UnicodeDecodeError as err:
        raise SpecError(
            f"{p}: not a text file (not UTF-8 at byte {err.start}). Fix: pass a TOML study "
            "file, e.g. studies/quickstart.toml."
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{p}: not valid TOML ({err}). Fix: correct the syntax.") from None
    return parse_spec(doc, source=str(p), path=p)
