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
and a fix, before anything is written. Field names of the solver sections are checked against the
solver dataclasses; their values are checked by constructing them (:mod:`sensitivity.bridge`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sensitivity.errors import SpecError

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


def parse_spec(
    doc: Mapping[str, Any], *, source: str = "<study>", path: Path | None = None
) -> StudySpec:
    """Validate a parsed TOML document and return a :class:`StudySpec`.

    Raises:
        SpecError: naming ``source``, the key, the value and a fix.
    """
    from sensitivity.parse import parse_document

    return parse_document(doc, source=source, path=path)


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
