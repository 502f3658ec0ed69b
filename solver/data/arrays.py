"""User-supplied arrays: ``.npz`` archives and ``.csv`` tables -> :class:`Dataset`.

``.npz``: either the four arrays ``X_train (n, d)``, ``y_train (n,)``, ``X_val (m, d)``,
``y_val (m,)`` (the split is the file's), or ``X (n, d)`` and ``y (n,)`` that are split here
with a seeded stratified split.

``.csv``: one sample per line, features then the label in the last column; an optional
header line (detected when its fields are not all numbers); split like ``X, y``.

Labels must be integers. By default they are used as they are (0-based, ``n_classes`` =
largest label + 1 unless given); ``relabel=True`` maps the sorted distinct values to
``0..C-1`` (e.g. 1-based labels or codes like 3, 7, 9) and records them in ``meta``.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from solver.data._io import check_finite, read_text_matrix, require_file
from solver.data.dataset import Dataset
from solver.data.split import split_sizes, stratified_split
from solver.errors import ConfigError, DataError

__all__ = ["load_arrays"]

_SPLIT_KEYS = ("X_train", "y_train", "X_val", "y_val")


def load_arrays(
    path: str | os.PathLike[str],
    *,
    n_val: int | float | None = None,
    n_train: int | float | None = None,
    seed: int = 0,
    n_classes: int | None = None,
    relabel: bool = False,
    header: bool | None = None,
    delimiter: str = ",",
) -> Dataset:
    """Load a ``.npz`` or ``.csv`` file as a Dataset (formats in the module docstring).

    Args:
        path: the file; its suffix selects the format.
        n_val, n_train: split sizes (count or fraction; default ``n_val=0.2``, ``n_train`` the
            rest) when the file has no split of its own; must stay unset otherwise.
        seed: seed of the stratified split.
        n_classes: number of classes; default largest (re)label + 1.
        relabel: map the distinct label values to ``0..C-1``.
        header, delimiter: ``.csv`` only; ``header=None`` detects a header line.

    Raises:
        ConfigError: unsupported suffix, sizes given for a file that has its own split.
        DataError: missing file/arrays, non-integer labels, bad shapes, NaN, too few samples.
    """
    p = require_file(path, "arrays")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        parts = _read_npz(p)
    elif suffix == ".csv":
        parts = _read_csv(p, header=header, delimiter=delimiter)
    else:
        raise ConfigError(
            f"`path` {str(p)!r}: arrays files must end in .npz or .csv; got {p.suffix!r}. "
            "Save the arrays with numpy.savez or as a CSV table."
        )
    source = str(p)
    meta: dict[str, object] = {"source": source, "format": suffix[1:]}
    if "X" in parts:
        X, y = parts["X"], _integer_labels(parts["y"], "y", source)
        _check_rows(X, y, "X", "y", source)
        nt, nv = split_sizes(y.shape[0], n_train, 0.2 if n_val is None else n_val, source=source)
        tr, va = stratified_split(y, n_train=nt, n_val=nv, seed=seed, source=source)
        arrays = {"X_train": X[tr], "y_train": y[tr], "X_val": X[va], "y_val": y[va]}
        meta |= {"split": "stratified", "seed": seed, "n_train": nt, "n_val": nv}
    else:
        if n_train is not None or n_val is not None:
            raise ConfigError(
                f"`n_train`/`n_val` cannot be used with {source!r}: it has its own "
                f"X_train/X_val split. Drop them, or store X and y instead."
            )
        arrays = {k: parts[k] for k in _SPLIT_KEYS}
        for part in ("train", "val"):
            arrays[f"y_{part}"] = _integer_labels(arrays[f"y_{part}"], f"y_{part}", source)
            _check_rows(arrays[f"X_{part}"], arrays[f"y_{part}"], f"X_{part}", f"y_{part}", source)
        meta |= {"split": "file"}
    if not relabel:
        for k in ("y_train", "y_val"):
            if arrays[k].size and arrays[k].min() < 0:
                raise DataError(
                    f"arrays file {source!r}: labels must be >= 0 (0-based classes); "
                    f"`{k}` has {int(arrays[k].min())}. Pass relabel=True to map the "
                    "distinct label values to 0..C-1."
                )
    else:
        values = np.unique(np.concatenate([arrays["y_train"], arrays["y_val"]]))
        for k in ("y_train", "y_val"):
            arrays[k] = np.searchsorted(values, arrays[k]).astype(np.int64)
        meta["label_values"] = tuple(int(v) for v in values)
    if n_classes is None:
        n_classes = int(max(arrays["y_train"].max(initial=0), arrays["y_val"].max(initial=0))) + 1
    return Dataset(name="arrays", n_classes=n_classes, meta=meta, **arrays)


def _read_npz(p: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(p, allow_pickle=False) as archive:
            data = {k: np.asarray(archive[k]) for k in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise DataError(f"arrays file {str(p)!r} is not a readable .npz archive: {exc}.") from exc
    keys = set(data)
    if set(_SPLIT_KEYS) <= keys:
        return {k: data[k] for k in _SPLIT_KEYS}
    if {"X", "y"} <= keys and not keys & set(_SPLIT_KEYS):
        return {"X": data["X"], "y": data["y"]}
    raise DataError(
        f"arrays file {str(p)!r} must contain either X_train, y_train, X_val, y_val or "
        f"X, y (not a mix); it contains {sorted(keys)}. Re-save it with those names."
    )


def _read_csv(p: Path, *, header: bool | None, delimiter: str) -> dict[str, np.ndarray]:
    if header is None:
        header = _has_header(p, delimiter)
    table = read_text_matrix(p, "arrays CSV", delimiter=delimiter, skip_header=header)
    if table.shape[1] < 2:
        raise DataError(
            f"arrays CSV file {str(p)!r} needs at least 2 columns (features, then the label); "
            f"got {table.shape[1]}. Check `delimiter` (now {delimiter!r})."
        )
    return {"X": table[:, :-1], "y": table[:, -1]}


def _has_header(p: Path, delimiter: str) -> bool:
    """True when the first non-empty line has a field that is not a number."""
    with p.open() as fh:
        for line in fh:
            if line.strip():
                try:
                    [float(field) for field in line.split(delimiter)]
                except ValueError:
                    return True
                return False
    return False


def _integer_labels(y: np.ndarray, name: str, source: str) -> np.ndarray:
    """``(n,)`` or ``(n, 1)`` integral labels -> ``(n,)`` int64; DataError otherwise."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DataError(
            f"arrays file {source!r}: `{name}` must be a 1-d label vector; got shape {y.shape}. "
            "Store class indices, not one-hot rows."
        )
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise DataError(f"arrays file {source!r}: `{name}` must be numeric; got {y.dtype}.")
    if np.issubdtype(y.dtype, np.floating):
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(
                f"arrays file {source!r}: `{name}` must hold integer class labels; "
                f"entry {i} is {y[i]}."
            )
    return y.astype(np.int64)


def _check_rows(X: np.ndarray, y: np.ndarray, xname: str, yname: str, source: str) -> None:
    if X.ndim != 2:
        raise DataError(
            f"arrays file {source!r}: `{xname}` must be 2-d (samples as rows); got shape "
            f"{X.shape}. Reshape to (n_samples, n_features)."
        )
    if X.shape[0] != y.shape[0]:
        raise DataError(
            f"arrays file {source!r}: `{xname}` has {X.shape[0]} rows but `{yname}` has "
            f"{y.shape[0]} labels; they must match one to one."
        )
    if not np.issubdtype(X.dtype, np.number):
        raise DataError(f"arrays file {source!r}: `{xname}` must be numeric; got {X.dtype}.")
    check_finite(X, f"arrays file {source!r}, `{xname}`")
