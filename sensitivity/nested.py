"""Freezing and thawing nested study values (the one helper for TOML tables and lists).

A :class:`~sensitivity.spec.StudySpec` holds its tables frozen (read-only
``MappingProxyType``, lists as tuples) so it can be shared and hashed; JSON, the solver's
constructors and Optuna want plain values back.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["freeze", "thaw"]


def freeze(value: Any) -> Any:
    """Read-only copy: mappings -> ``MappingProxyType``, lists / tuples -> tuples, recursively."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any, *, sequence: type = list) -> Any:
    """Plain copy: mappings -> ``dict``, lists / tuples -> ``sequence`` (``list`` for JSON and
    TOML, ``tuple`` for hashable solver options), recursively."""
    if isinstance(value, Mapping):
        return {k: thaw(v, sequence=sequence) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return sequence(thaw(v, sequence=sequence) for v in value)
    return value
