"""The :class:`Dataset` container shared by every loader, and :func:`check_width`.

A data set is two labelled sample matrices, samples as rows::

    X_train (n_train, n_features) float64     y_train (n_train,) int64 in [0, n_classes)
    X_val   (n_val,   n_features) float64     y_val   (n_val,)   int64 in [0, n_classes)

plus ``meta``, the recipe that rebuilds it (seed, sizes, normalisation, source files ...).
The arrays are copied on construction and made read-only, so a frozen ``Dataset`` really is
immutable and can be shared between trainers and ranks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from solver.errors import ConfigError, DataError

__all__ = ["Dataset", "check_width"]


@dataclass(frozen=True, eq=False)
class Dataset:
    """Training and validation samples of one classification problem.

    Attributes:
        name: short name of the data set (``"peaks"``, ``"digits"``, ...).
        X_train: ``(n_train, n_features)`` float64 features.
        y_train: ``(n_train,)`` int64 labels in ``[0, n_classes)``.
        X_val: ``(n_val, n_features)`` float64 features (``n_val`` may be 0).
        y_val: ``(n_val,)`` int64 labels in ``[0, n_classes)``.
        n_classes: number of classes ``C >= 2``.
        meta: how the set was built; ``meta["source"]``, when present, is quoted in errors.

    Equality and hashing are by identity (``eq=False``): arrays have no single truth value.

    Raises:
        DataError: inconsistent shapes, non-finite features, non-integer or out-of-range labels.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    n_classes: int
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = _where(self.name, self.meta)
        if not isinstance(self.n_classes, int | np.integer) or isinstance(self.n_classes, bool):
            raise DataError(
                f"{where}: `n_classes` must be an integer >= 2; got {self.n_classes!r}."
            )
        if self.n_classes < 2:
            raise DataError(
                f"{where}: `n_classes` must be >= 2 for a classification problem; "
                f"got {self.n_classes}. Check the labels of the source."
            )
        X_train = _features(self.X_train, "X_train", where)
        X_val = _features(self.X_val, "X_val", where)
        if X_train.shape[0] == 0:
            raise DataError(f"{where}: `X_train` has no samples; a training set needs at least 1.")
        if X_val.shape[1] != X_train.shape[1]:
            raise DataError(
                f"{where}: `X_val` has {X_val.shape[1]} features but `X_train` has "
                f"{X_train.shape[1]}; both sets must have the same columns."
            )
        y_train = _labels(self.y_train, "y_train", X_train.shape[0], int(self.n_classes), where)
        y_val = _labels(self.y_val, "y_val", X_val.shape[0], int(self.n_classes), where)
        object.__setattr__(self, "n_classes", int(self.n_classes))
        object.__setattr__(self, "X_train", X_train)
        object.__setattr__(self, "X_val", X_val)
        object.__setattr__(self, "y_train", y_train)
        object.__setattr__(self, "y_val", y_val)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, n_train={self.n_train}, n_val={self.n_val}, "
            f"n_features={self.n_features}, n_classes={self.n_classes})"
        )

    @property
    def n_features(self) -> int:
        """Number of feature columns ``d``."""
        return int(self.X_train.shape[1])

    @property
    def n_train(self) -> int:
        """Number of training samples."""
        return int(self.X_train.shape[0])

    @property
    def n_val(self) -> int:
        """Number of validation samples (may be 0)."""
        return int(self.X_val.shape[0])


def check_width(dataset: Dataset, width: int) -> None:
    """Check that a network of ``width`` channels can carry ``dataset``'s classes.

    The classifier reads ``n_classes`` scores from the ``width`` channels of the last layer,
    so ``width >= n_classes`` is required.

    Raises:
        ConfigError: when ``width < dataset.n_classes``.
    """
    if width < dataset.n_classes:
        raise ConfigError(
            f"`width` must be >= the number of classes of data set {dataset.name!r} "
            f"({dataset.n_classes}); got width={width}. Use width >= {dataset.n_classes}."
        )


def check_size(dataset: Dataset, *, per_class: int = 2) -> None:
    """Check that ``dataset`` can be trained on: at least ``per_class * n_classes`` training
    samples and one validation sample (a 3-sample set trains nothing meaningful).

    Raises:
        DataError: names the data set, its sizes and the fix.
    """
    need = per_class * dataset.n_classes
    if dataset.n_train < need or dataset.n_val < 1:
        raise DataError(
            f"{_where(dataset.name, dataset.meta)} has {dataset.n_train} training and "
            f"{dataset.n_val} validation samples for {dataset.n_classes} classes; training needs "
            f"at least {per_class} per class ({need}) and one validation sample. Fix: use more "
            "samples (e.g. n_train_per_class = 200 for peaks)."
        )


def _where(name: str, meta: Mapping[str, object]) -> str:
    source = meta.get("source") if isinstance(meta, Mapping) else None
    return f"data set {name!r}" + (f" (from {source})" if source else "")


def _features(X: object, attr: str, where: str) -> np.ndarray:
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise DataError(
            f"{where}: `{attr}` must be a 2-d array (samples as rows); got shape {arr.shape}. "
            "Reshape to (n_samples, n_features)."
        )
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise DataError(f"{where}: `{attr}` must be numeric; got dtype {arr.dtype}.")
    arr = np.array(arr, dtype=np.float64, order="C", copy=True)
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataError(
            f"{where}: `{attr}` must be finite; {int(bad.sum())} entries are NaN/inf, "
            f"the first at row {row}, column {col} ({arr[row, col]}). Clean or drop those samples."
        )
    arr.flags.writeable = False
    return arr


def _labels(y: object, attr: str, n_rows: int, n_classes: int, where: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n_rows:
        raise DataError(
            f"{where}: `{attr}` must have shape ({n_rows},) to match the features; "
            f"got shape {arr.shape}."
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise DataError(
            f"{where}: `{attr}` must hold integer class labels; got dtype {arr.dtype}. "
            "Convert the labels to integers 0..n_classes-1."
        )
    arr = np.array(arr, dtype=np.int64, copy=True)
    out = (arr < 0) | (arr >= n_classes)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise DataError(
            f"{where}: `{attr}` labels must lie in [0, {n_classes}); "
            f"{int(out.sum())} do not, the first is {arr[i]} at index {i}. "
            "Labels are 0-based; shift 1-based labels by -1."
        )
    arr.flags.writeable = False
    return arr
