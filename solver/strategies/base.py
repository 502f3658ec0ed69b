"""Strategy interface and registry.

A strategy decides where training starts and how the levels are arranged::

    class Strategy(Protocol):
        name: str
        def validate(self, config: NetworkConfig) -> object: ...   # raise ConfigError early
        def run(self, ctx: TrainingContext, config: NetworkConfig) -> TrainResult: ...

``ctx`` (see :class:`solver.loop.TrainingContext`) carries the data, the optimiser, stop and
initialisation settings, the propagation (serial or MGRIT) per depth, and the history that every
level appends to. Strategies are frozen dataclasses registered by name with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Protocol

from solver.errors import ConfigError

__all__ = ["Strategy", "register", "make_strategy", "resolve_strategy", "strategy_names"]


class Strategy(Protocol):
    name: str

    def validate(self, config: Any) -> object: ...

    def run(self, ctx: Any, config: Any) -> Any: ...


_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make ``cls`` available to :func:`make_strategy` under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def strategy_names() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def make_strategy(name: str, **options: Any) -> Strategy:
    """Build the strategy ``name`` with ``options`` (its dataclass fields)."""
    if name not in _REGISTRY:
        raise ConfigError(
            f"unknown strategy {name!r}; choose one of {', '.join(strategy_names())}."
        )
    cls = _REGISTRY[name]
    valid = {f.name for f in fields(cls)}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ConfigError(
            f"strategy {name!r} has no option(s) {', '.join(unknown)}; valid options: "
            f"{', '.join(sorted(valid)) or '(none)'}."
        )
    return cls(**options)


def resolve_strategy(strategy: Strategy | str | Mapping[str, Any]) -> Strategy:
    """The one place strategy names are resolved: a strategy object is returned as it is, a
    name or a mapping ``{"name": ..., **options}`` goes through :func:`make_strategy`."""
    if hasattr(strategy, "run"):
        return strategy  # type: ignore[return-value]
    if isinstance(strategy, str):
        return make_strategy(strategy)
    if isinstance(strategy, Mapping):
        options = dict(strategy)
        name = options.pop("name", None)
        if name is None:
            raise ConfigError(
                "a strategy given as a dict needs a `name` key (random, nested, spline, box); "
                f"got {strategy!r}."
            )
        return make_strategy(name, **options)
    raise ConfigError(
        f"`strategy` must be a name, a dict with `name`, or a strategy object; got {strategy!r}."
    )
