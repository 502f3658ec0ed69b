"""Hyperparameter-sensitivity study harness for layer-parallel training (Optuna + pandas).

Public API::

    spec = load_spec("studies/quickstart.toml")        # validated StudySpec (SpecError)
    res = load("results/quickstart")                  # StudyResults: .trials, .curves, .study
    export(res, "out/")                               # parquet + CSV
    from sensitivity import metrics                   # time_to_target, summarize, ...

Command line: ``python -m sensitivity run | worker | status | export | figures``.

Imports are lazy: ``import sensitivity`` (every worker process, ``--help``) loads neither pandas
nor optuna nor matplotlib; ``load``/``export``/``StudyResults`` import pandas on first use.
"""

from typing import Any

from sensitivity.errors import Interrupted, SpecError, StorageError, StudyError
from sensitivity.spec import StudySpec, load_spec, parse_spec

_LAZY = {"StudyResults": "sensitivity.results", "export": "sensitivity.results",
         "load": "sensitivity.results"}  # fmt: skip


def __getattr__(name: str) -> Any:
    """``StudyResults``, ``export``, ``load`` from :mod:`sensitivity.results` (pandas) on use."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sensitivity' has no attribute {name!r}")

__all__ = [
    "StudyError",
    "SpecError",
    "StorageError",
    "Interrupted",
    "StudySpec",
    "load_spec",
    "parse_spec",
    "StudyResults",
    "load",
    "export",
]
