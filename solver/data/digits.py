"""scikit-learn's 8x8 hand-written digits (1797 images, 10 classes, 64 features; offline).

Features are the 64 pixel intensities ``p in {0..16}`` scaled to ``x = p / 16 in [0, 1]``.
With ``standardize=True`` each pixel is then shifted and scaled by the *training* set's mean
and standard deviation, ``x' = (x - m_train) / s_train`` (``s_train = 1`` for pixels that are
constant in the training set), so no validation statistic leaks into training.
"""

from __future__ import annotations

import numpy as np

from solver.data.dataset import Dataset
from solver.data.normalize import fit_normalization
from solver.data.split import split_sizes, stratified_split

__all__ = ["load_digits"]


def load_digits(
    *,
    n_val: int | float = 0.2,
    n_train: int | float | None = None,
    seed: int = 0,
    standardize: bool = False,
) -> Dataset:
    """Load the digits as a seeded, stratified train/validation split.

    Args:
        n_val: validation size, a count (int) or a fraction of the 1797 images (float).
        n_train: training size likewise; ``None`` takes all remaining images.
        seed: seed of the split.
        standardize: standardise each pixel with training-set statistics after ``/16``.

    Returns:
        Dataset with ``n_features = 64``, ``n_classes = 10``.
    """
    from sklearn.datasets import load_digits as _sk_load_digits  # heavy import, on demand

    bunch = _sk_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64) / 16.0
    y = np.asarray(bunch.target, dtype=np.int64)
    source = "sklearn.datasets.load_digits"
    nt, nv = split_sizes(y.size, n_train, n_val, source=source)
    tr, va = stratified_split(y, n_train=nt, n_val=nv, seed=seed, source=source)
    X_train, X_val = X[tr], X[va]
    meta: dict[str, object] = {
        "source": source,
        "seed": seed,
        "n_train": nt,
        "n_val": nv,
        "scaling": "pixel/16",
        "standardize": bool(standardize),
    }
    if standardize:
        norm = fit_normalization(X_train, "standard")
        X_train, X_val = norm.apply(X_train), norm.apply(X_val)
        meta["normalization_fitted_on"] = "training set"
    return Dataset(
        name="digits",
        X_train=X_train,
        y_train=y[tr],
        X_val=X_val,
        y_val=y[va],
        n_classes=10,
        meta=meta,
    )
