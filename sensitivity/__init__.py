"""Hyperparameter-sensitivity study harness for layer-parallel training (Optuna + pandas).

Public API::

    spec = load_spec("studies/quickstart.toml")        # validated StudySpec (SpecError)
    res = load("results/quickstart")                  # StudyResults: .trials, .curves, .study
    export(res, "out/")                               # parquet + CSV
    from sensitivity import metrics                   # time_to_target, summarize, ...

Command line: ``python -m sensitivity run | worker | status | export | figures``.
"""

from sensitivity.errors import Interrupted, SpecError, StorageError, StudyError
from sensitivity.results import StudyResults, export, load
from sensitivity.spec import StudySpec, load_spec, parse_spec

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
