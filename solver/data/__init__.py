"""Data sets of the solver: peaks, digits, Indian Pines and user arrays -> :class:`Dataset`.

``load_dataset(name, **options)`` dispatches by name to one loader and passes the options
on as keywords; unknown names or options raise :class:`~solver.errors.ConfigError` listing
the valid ones.

=================== ============================== =============================================
name                loader                         required options
=================== ============================== =============================================
``peaks``           :func:`load_peaks`             --
``peaks_reference`` :func:`load_peaks_reference`   ``directory``
``digits``          :func:`load_digits`            --
``indian_pines``    :func:`load_indian_pines`      ``cube_path``, ``gt_path``
``arrays``          :func:`load_arrays`            ``path``
=================== ============================== =============================================
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from solver.data.arrays import load_arrays
from solver.data.dataset import Dataset, check_size, check_width
from solver.data.digits import load_digits
from solver.data.indian_pines import load_indian_pines
from solver.data.peaks import load_peaks, load_peaks_reference, peaks_labels
from solver.errors import ConfigError

__all__ = [
    "Dataset",
    "LOADERS",
    "check_size",
    "check_width",
    "load_arrays",
    "load_dataset",
    "load_digits",
    "load_indian_pines",
    "load_peaks",
    "load_peaks_reference",
    "peaks_labels",
]

LOADERS: dict[str, Callable[..., Dataset]] = {
    "peaks": load_peaks,
    "peaks_reference": load_peaks_reference,
    "digits": load_digits,
    "indian_pines": load_indian_pines,
    "arrays": load_arrays,
}


def load_dataset(name: str, **options: object) -> Dataset:
    """Load data set ``name`` with the loader's keyword ``options`` (table in module docs).

    Raises:
        ConfigError: unknown ``name``, unknown option, or a required option missing.
        DataError: from the loader (missing or malformed files ...).
    """
    if name not in LOADERS:
        raise ConfigError(
            f"`dataset` must be one of {sorted(LOADERS)}; got {name!r}. "
            "Use 'arrays' with `path=` for your own .npz/.csv data."
        )
    loader = LOADERS[name]
    params = inspect.signature(loader).parameters
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ConfigError(
            f"data set {name!r} has no option(s) {unknown}; valid options: {sorted(params)}."
        )
    missing = [
        p
        for p, spec in params.items()
        if spec.default is inspect.Parameter.empty and p not in options
    ]
    if missing:
        raise ConfigError(
            f"data set {name!r} needs option(s) {missing}; got {sorted(options)}. "
            f"Add them, e.g. load_dataset({name!r}, {missing[0]}=...)."
        )
    return loader(**options)
