"""The one place that knows the solver's API: config dataclasses, strategies, data, ``train``.

Study sections map onto the solver's frozen configuration dataclasses field by field
(``[training.optimizer]`` -> ``OptimizerConfig(**table)``); the dataclass's own validation error is
re-raised as a :class:`~sensitivity.errors.SpecError` naming the study file and key.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from collections.abc import Mapping
from typing import Any

from sensitivity.design import DesignPoint
from sensitivity.errors import SpecError
from sensitivity.nested import thaw
from sensitivity.spec import StudySpec
from solver.config import NetworkConfig
from solver.data import load_dataset
from solver.init import InitConfig
from solver.mgrit import ParallelConfig
from solver.optim import OptimizerConfig
from solver.stopping import StopConfig
from solver.strategies import make_strategy
from solver.train import train

__all__ = [
    "CONFIG_CLASSES",
    "field_names",
    "config_class",
    "check_fields",
    "TrialConfigs",
    "build_trial",
    "load_data",
    "train_function",
    "build_data_options",
    "check_spec",
]

CONFIG_CLASSES: dict[str, type] = {
    "network": NetworkConfig,
    "optimizer": OptimizerConfig,
    "stop": StopConfig,
    "init": InitConfig,
    "parallel": ParallelConfig,
}
_SECTION_KEY = {
    "network": "problem.network",
    "optimizer": "training.optimizer",
    "stop": "training.stop",
    "init": "training.init",
    "parallel": "training.parallel",
    "data": "problem.data",
}


def config_class(section: str) -> type:
    """The solver dataclass behind a study section (``network, optimizer, stop, init,
    parallel``)."""
    return CONFIG_CLASSES[section]


def field_names(section: str) -> tuple[str, ...]:
    """Field names of the solver dataclass behind ``section``.

    A class with ``option_names()``/``from_options()`` (``ParallelConfig``, which composes an
    ``MGRITConfig``) takes one flat table: its option names are the study keys."""
    cls = config_class(section)
    if hasattr(cls, "option_names"):
        return tuple(cls.option_names())
    return tuple(f.name for f in dataclasses.fields(cls))


def _fail(spec: StudySpec, key: str, rule: str, value: Any, fix: str) -> SpecError:
    return SpecError(f"{spec.path or spec.name}: `{key}` {rule}; got {value!r}. Fix: {fix}")


def check_fields(spec: StudySpec) -> None:
    """Every key of the solver sections and every ``space.<p>.target`` names a field of the
    solver's configuration dataclass.

    Raises:
        SpecError: naming the file, the key and the valid fields.
    """
    for section in CONFIG_CLASSES:
        table = spec.section(section)
        if table is None:
            continue
        names = field_names(section)
        for key in table:
            if key not in names:
                raise _fail(spec, f"{_SECTION_KEY[section]}.{key}",
                            f"is not a field of the solver's {section} configuration",
                            table[key], f"use one of: {', '.join(names)}")  # fmt: skip
    for p in spec.space:
        for t in p.targets:
            sec, _, fld = t.partition(".")
            if sec in CONFIG_CLASSES and fld not in field_names(sec):
                names = field_names(sec)
                raise _fail(spec, f"space.{p.name}.target",
                            f"is not a field of the solver's {sec} configuration", t,
                            f"use one of: {', '.join(f'{sec}.{n}' for n in names)}")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TrialConfigs:
    """Everything ``solver.train`` needs for one design point."""

    network: Any
    optimizer: Any
    stop: Any
    init: Any
    parallel: Any | None
    strategy: Any
    data_options: Mapping[str, Any]


def _overrides(spec: StudySpec, point: DesignPoint) -> dict[str, dict[str, tuple[str, Any]]]:
    """section -> field -> (study key that set it, value)."""
    out: dict[str, dict[str, tuple[str, Any]]] = {}
    for p in spec.params_for(point.strategy):
        value = point.params[p.name]
        for t in p.targets:
            sec, _, fld = t.partition(".")
            out.setdefault(sec, {})[fld] = (f"space.{p.name}", value)
    return out


def _construct(spec: StudySpec, section: str, fixed: Mapping, over: dict, extra: dict) -> Any:
    cls = config_class(section)
    kwargs = {**extra, **{k: thaw(v) for k, v in fixed.items()}}
    kwargs.update({k: thaw(v) for k, (_, v) in over.items()})
    try:
        return cls.from_options(kwargs) if hasattr(cls, "from_options") else cls(**kwargs)
    except (ValueError, TypeError) as err:
        keys = ", ".join(
            [f"`{_SECTION_KEY[section]}`"] + sorted({f"`{key}`" for key, _ in over.values()})
        )
        raise SpecError(
            f"{spec.path or spec.name}: {keys}: the solver rejects {cls.__name__}"
            f"({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}): {err} "
            "Fix: change the value in the study file."
        ) from None


def _strategy_error(spec: StudySpec, name: str, options: dict, over: dict, err: Exception):
    keys = ", ".join([f"`strategies.{name}`"] + sorted({f"`{k}`" for k, _ in over.values()}))
    return SpecError(
        f"{spec.path or spec.name}: {keys}: the solver rejects strategy {name!r} with options "
        f"{options!r}: {err} Fix: change the options in the study file."
    )


def _make_strategy(spec: StudySpec, name: str, options: dict[str, Any], over: dict) -> Any:
    try:
        return make_strategy(name, **{k: thaw(v, sequence=tuple) for k, v in options.items()})
    except (ValueError, TypeError) as err:
        raise _strategy_error(spec, name, options, over, err) from None


def _check_strategy(
    spec: StudySpec, name: str, strategy: Any, network: Any, options: dict, over: dict
) -> None:
    """Ask the strategy to check itself against the network (e.g. an impossible schedule)."""
    try:
        strategy.validate(network)
    except (ValueError, TypeError) as err:
        raise _strategy_error(spec, name, options, over, err) from None


def build_trial(
    spec: StudySpec, point: DesignPoint, *, n_features: int, n_classes: int
) -> TrialConfigs:
    """Solver configuration objects of one design point.

    Raises:
        SpecError: a solver dataclass rejects the combination (names file and keys).
    """
    over = _overrides(spec, point)
    network = _construct(
        spec, "network", spec.network, over.get("network", {}),
        {"n_features": n_features, "n_classes": n_classes},
    )  # fmt: skip
    optimizer = _construct(spec, "optimizer", spec.optimizer, over.get("optimizer", {}), {})
    stop = _construct(spec, "stop", spec.stop, over.get("stop", {}), {})
    init = _construct(spec, "init", spec.init, over.get("init", {}), {"seed": point.seed})
    parallel = None
    if spec.parallel is not None:
        parallel = _construct(spec, "parallel", spec.parallel, over.get("parallel", {}), {})
    options = {k: thaw(v) for k, v in spec.strategies[point.strategy].items()}
    options.update({k: v for k, (_, v) in over.get("strategy", {}).items()})
    strategy = _make_strategy(spec, point.strategy, options, over.get("strategy", {}))
    _check_strategy(spec, point.strategy, strategy, network, options, over.get("strategy", {}))
    return TrialConfigs(
        network, optimizer, stop, init, parallel, strategy, build_data_options(spec, point)
    )


def build_data_options(spec: StudySpec, point: DesignPoint) -> dict[str, Any]:
    """Options of ``load_dataset`` for ``point``: ``[problem.data]`` plus ``data.*`` parameters."""
    options = {k: thaw(v) for k, v in spec.data.items()}
    options.update({k: v for k, (_, v) in _overrides(spec, point).get("data", {}).items()})
    return options


_DATA_CACHE: dict[tuple[str, str], Any] = {}


def load_data(spec: StudySpec, options: Mapping[str, Any]) -> Any:
    """``solver.data.load_dataset(spec.dataset, **options)``, cached per process."""
    key = (spec.dataset, repr(sorted(options.items())))
    if key not in _DATA_CACHE:
        try:
            _DATA_CACHE[key] = load_dataset(spec.dataset, **options)
        except (ValueError, TypeError) as err:
            raise SpecError(
                f"{spec.path or spec.name}: `problem.dataset`/`problem.data`: "
                f"load_dataset({spec.dataset!r}, {options!r}) failed: {err} "
                "Fix: correct the data set name or its options."
            ) from None
    return _DATA_CACHE[key]


def train_function() -> Any:
    """``solver.train.train``.

    ``SENSITIVITY_TRAIN=module:function`` replaces it with a function of the same signature
    (tests and benchmarks: e.g. a slowed-down or instrumented training).
    """
    hook = os.environ.get("SENSITIVITY_TRAIN", "").strip()
    if hook:
        mod, _, name = hook.partition(":")
        try:
            return getattr(importlib.import_module(mod), name)
        except (ImportError, AttributeError, ValueError) as err:
            raise SpecError(
                f"SENSITIVITY_TRAIN={hook!r}: {err}. Fix: set it to module:function on "
                f"PYTHONPATH, or unset it to use solver.train."
            ) from None
    return train


def check_spec(spec: StudySpec, points: list[DesignPoint]) -> None:
    """Check the solver field names, load the data once and build the configs of every design
    point (nothing is written).

    Raises:
        SpecError: a key is not a solver field, or the data set or any point's configuration is
            rejected by the solver.
    """
    check_fields(spec)
    seen: set[str] = set()
    for point in points:
        data = load_data(spec, build_data_options(spec, point))
        key = repr((point.strategy, sorted(point.params.items())))
        if key in seen:
            continue
        seen.add(key)
        configs = build_trial(spec, point, n_features=data.n_features, n_classes=data.n_classes)
        _check_size_and_memory(spec, data, configs)


def _check_size_and_memory(spec: StudySpec, data: Any, configs: TrialConfigs) -> None:
    """Refuse a data set too small to train on, or a network whose estimated memory exceeds
    what this machine has (every trial would fail), before anything is written."""
    from solver.data import check_size
    from solver.memory import check_memory

    net, opt = configs.network, configs.optimizer
    try:
        check_size(data)
        check_memory(
            net.n_layers, net.width, getattr(opt, "batch_size", None) or data.n_train,
            lbfgs_memory=getattr(opt, "memory", 10) if getattr(opt, "name", "") == "lbfgs" else 0,
        )  # fmt: skip
    except ValueError as err:
        raise SpecError(
            f"{spec.path or spec.name}: {' '.join(str(err).split())} (in the study file: "
            "[problem.data], [problem.network] n_layers/width or [training.optimizer] batch_size)"
        ) from None
