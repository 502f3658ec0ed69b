"""The peaks classification problem (MATLAB's ``peaks`` surface cut into five level bands).

    f(x, y) = 3 (1-x)^2 exp(-x^2 - (y+1)^2)
              - 10 (x/5 - x^3 - y^5) exp(-x^2 - y^2)
              - 1/3 exp(-(x+1)^2 - y^2)

evaluated on the uniform ``G x G`` grid ``np.linspace(-3, 3, G)`` in x and in y (G = 256). With
``f_min, f_max`` the extreme grid values, the thresholds are

    t_k = f_min + k (f_max - f_min) / 5,    k = 1..4,

and a point's class is the number of thresholds at or below its value:

    class(x, y) = #{k : t_k <= f(x, y)}   in {0, ..., 4}

so class 0 is the lowest band (the grid minimum is class 0, the grid maximum class 4) and a
value exactly on ``t_k`` goes to the upper band ``k``. This labels 100% of the authors'
reference points identically; no 256-grid value lies within 1e-5 of a threshold, so the tie
rule never decides a grid point. Features are ``(x, y)`` in that column order.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from solver.data._io import read_text_matrix
from solver.data.dataset import Dataset
from solver.data.split import check_seed
from solver.errors import ConfigError, DataError

__all__ = [
    "N_PEAKS_CLASSES",
    "peaks_function",
    "peaks_grid",
    "peaks_thresholds",
    "peaks_labels",
    "load_peaks",
    "load_peaks_reference",
]

N_PEAKS_CLASSES = 5
_DOMAIN = (-3.0, 3.0)
_REFERENCE_FILES = {
    "X_train": "peaks_features_training.dat",
    "y_train": "peaks_labels_training.dat",
    "X_val": "peaks_features_validation.dat",
    "y_val": "peaks_labels_validation.dat",
}


def peaks_function(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """MATLAB's peaks surface ``f(x, y)`` (formula in the module docstring), elementwise."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return (
        3.0 * (1.0 - x) ** 2 * np.exp(-(x**2) - (y + 1.0) ** 2)
        - 10.0 * (x / 5.0 - x**3 - y**5) * np.exp(-(x**2) - y**2)
        - np.exp(-((x + 1.0) ** 2) - y**2) / 3.0
    )


def peaks_grid(grid_size: int = 256) -> np.ndarray:
    """Grid points ``(G*G, 2)``; row ``i*G + j`` is ``(x_i, y_j)``, axis ``linspace(-3, 3, G)``."""
    _check_grid_size(grid_size)
    axis = np.linspace(*_DOMAIN, grid_size)
    gx, gy = np.meshgrid(axis, axis, indexing="ij")
    return np.column_stack([gx.ravel(), gy.ravel()])


@functools.lru_cache(maxsize=8)
def _grid_thresholds(grid_size: int) -> tuple[float, ...]:
    grid = peaks_grid(grid_size)
    f = peaks_function(grid[:, 0], grid[:, 1])
    lo, hi = float(f.min()), float(f.max())
    return tuple(lo + k * (hi - lo) / N_PEAKS_CLASSES for k in range(1, N_PEAKS_CLASSES))


def peaks_thresholds(grid_size: int = 256) -> np.ndarray:
    """The four thresholds ``t_1 < ... < t_4`` (shape ``(4,)``) of the ``grid_size`` grid."""
    _check_grid_size(grid_size)
    return np.array(_grid_thresholds(grid_size))


def peaks_labels(points: np.ndarray, grid_size: int = 256) -> np.ndarray:
    """Class of arbitrary points: ``#{k : t_k <= f(x, y)}`` with the grid's thresholds.

    Args:
        points: ``(n, 2)`` array of ``(x, y)``; points outside ``[-3, 3]^2`` are labelled by
            the same rule (values beyond the grid's range fall in class 0 or 4).
        grid_size: grid that fixes the thresholds.

    Returns:
        ``(n,)`` int64 labels in ``{0, ..., 4}``.
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise DataError(f"peaks points must have shape (n, 2) of (x, y); got {pts.shape}.")
    f = peaks_function(pts[:, 0], pts[:, 1])
    return np.searchsorted(peaks_thresholds(grid_size), f, side="right").astype(np.int64)


def load_peaks(
    *,
    n_train_per_class: int = 1000,
    n_val_per_class: int = 40,
    seed: int = 0,
    grid_size: int = 256,
) -> Dataset:
    """Draw the peaks training and validation sets from the grid.

    For each class ``c = 0..4`` (in that order) ``n_train_per_class`` grid points of class
    ``c`` are drawn with replacement, then ``n_val_per_class`` more, all from one
    ``numpy.random.default_rng(seed)``. Samples are ordered by class, as in the authors'
    files; the two sets are drawn independently, so they may share points (as theirs do).

    Returns:
        Dataset with ``X_train (5*n_train_per_class, 2)``, ``X_val (5*n_val_per_class, 2)``.

    Raises:
        ConfigError: non-positive sizes or ``grid_size < 2``.
        DataError: a class has no grid point (grids much coarser than 256).
    """
    for option, value, low in (
        ("n_train_per_class", n_train_per_class, 1),
        ("n_val_per_class", n_val_per_class, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise ConfigError(f"`{option}` must be an integer >= {low}; got {value!r}.")
    grid = peaks_grid(grid_size)
    labels = peaks_labels(grid, grid_size)
    rng = np.random.default_rng(check_seed(seed))
    members = []
    for c in range(N_PEAKS_CLASSES):
        idx = np.flatnonzero(labels == c)
        if idx.size == 0:
            raise DataError(
                f"peaks grid of size {grid_size}: class {c} has no grid point, so no sample "
                "can be drawn. Use a finer grid (the reference uses grid_size=256)."
            )
        members.append(idx)
    train = [rng.choice(idx, size=n_train_per_class, replace=True) for idx in members]
    val = [rng.choice(idx, size=n_val_per_class, replace=True) for idx in members]
    train_idx, val_idx = np.concatenate(train), np.concatenate(val)
    return Dataset(
        name="peaks",
        X_train=grid[train_idx],
        y_train=labels[train_idx],
        X_val=grid[val_idx],
        y_val=labels[val_idx],
        n_classes=N_PEAKS_CLASSES,
        meta={
            "source": f"peaks grid {grid_size}x{grid_size} on [-3,3]^2",
            "seed": seed,
            "grid_size": grid_size,
            "n_train_per_class": n_train_per_class,
            "n_val_per_class": n_val_per_class,
            "thresholds": tuple(_grid_thresholds(grid_size)),
            "sampling": "with replacement, per class, train then validation",
        },
    )


def load_peaks_reference(directory: str | os.PathLike[str]) -> Dataset:
    """Read the authors' peaks files from ``directory`` as a Dataset.

    Files: ``peaks_features_{training,validation}.dat`` ("x y" per line) and
    ``peaks_labels_{training,validation}.dat`` (one one-hot row of 5 per line).

    Raises:
        DataError: a file is missing or malformed, a label row is not one-hot, or the
            features and labels files have different numbers of lines.
    """
    base = Path(directory).expanduser()
    arrays: dict[str, np.ndarray] = {}
    for key, fname in _REFERENCE_FILES.items():
        path = base / fname
        if key.startswith("X"):
            arrays[key] = read_text_matrix(path, "peaks features", n_cols=2)
        else:
            arrays[key] = _one_hot_to_labels(read_text_matrix(path, "peaks labels"), path)
    for part in ("train", "val"):
        X, y = arrays[f"X_{part}"], arrays[f"y_{part}"]
        if X.shape[0] != y.shape[0]:
            raise DataError(
                f"peaks reference in {str(base)!r}: {_REFERENCE_FILES[f'X_{part}']} has "
                f"{X.shape[0]} lines but {_REFERENCE_FILES[f'y_{part}']} has {y.shape[0]}; "
                "features and labels must correspond line by line."
            )
    return Dataset(
        name="peaks_reference",
        n_classes=N_PEAKS_CLASSES,
        meta={"source": str(base), "files": dict(_REFERENCE_FILES)},
        **arrays,
    )


def _one_hot_to_labels(onehot: np.ndarray, path: Path) -> np.ndarray:
    """``(n, 5)`` one-hot rows -> ``(n,)`` int64 class indices; rejects anything else."""
    if onehot.shape[1] != N_PEAKS_CLASSES:
        raise DataError(
            f"peaks labels file {str(path)!r} must have {N_PEAKS_CLASSES} one-hot columns "
            f"per line; got {onehot.shape[1]}."
        )
    binary = np.isin(onehot, (0.0, 1.0)).all(axis=1)
    bad = ~binary | (onehot.sum(axis=1) != 1.0)
    if bad.any():
        line = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"peaks labels file {str(path)!r}: line {line + 1} is not one-hot "
            f"({onehot[line].tolist()}); each line needs exactly one 1 and zeros elsewhere."
        )
    return onehot.argmax(axis=1).astype(np.int64)


def _check_grid_size(grid_size: int) -> None:
    if isinstance(grid_size, bool) or not isinstance(grid_size, int | np.integer) or grid_size < 2:
        raise ConfigError(f"`grid_size` must be an integer >= 2; got {grid_size!r}.")
