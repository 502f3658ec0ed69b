"""Seeded stratified train/validation splits of a labelled sample list.

Sizes follow scikit-learn's convention: an ``int`` is a number of samples, a ``float`` in
``(0, 1)`` a fraction of all samples (rounded to the nearest integer). Each class ``c`` with
``n_c`` samples receives

    v_c ~ n_val * n_c / n,     t_c ~ n_train * n_c / n        (largest-remainder rounding)

so that ``sum v_c = n_val`` and ``sum t_c = n_train`` exactly; every present class gets at
least one sample of a set whenever that set has room for one sample per class.
"""

from __future__ import annotations

import numbers

import numpy as np

from solver.errors import ConfigError, DataError

__all__ = ["check_seed", "resolve_size", "split_sizes", "stratified_split"]


def check_seed(seed: object) -> int:
    """Return ``seed`` as an int; raise ConfigError unless it is an integer >= 0."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ConfigError(f"`seed` must be an integer >= 0; got {seed!r}.")
    return int(seed)


def resolve_size(value: int | float, n_total: int, *, option: str) -> int:
    """Turn a count (``int >= 0``) or fraction (``float`` in ``(0, 1)``) into a count.

    Raises:
        ConfigError: for negative counts, fractions outside ``(0, 1)`` or other types.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(
            f"`{option}` must be an int (number of samples) or a float in (0, 1) "
            f"(fraction); got {value!r}."
        )
    if isinstance(value, numbers.Integral):
        if value < 0:
            raise ConfigError(f"`{option}` must be >= 0 samples; got {value}.")
        return int(value)
    if not 0.0 < float(value) < 1.0:
        raise ConfigError(
            f"`{option}` as a fraction must lie in (0, 1); got {value}. "
            "Pass an int for a number of samples."
        )
    return int(round(float(value) * n_total))


def split_sizes(
    n_total: int,
    n_train: int | float | None,
    n_val: int | float,
    *,
    source: str,
) -> tuple[int, int]:
    """Resolve ``(n_train, n_val)`` for ``n_total`` samples; ``n_train=None`` takes the rest.

    Raises:
        ConfigError: malformed sizes (see :func:`resolve_size`).
        DataError: the source has fewer than ``n_train + n_val`` samples or ``n_train == 0``.
    """
    nv = resolve_size(n_val, n_total, option="n_val")
    nt = n_total - nv if n_train is None else resolve_size(n_train, n_total, option="n_train")
    if nt + nv > n_total:
        raise DataError(
            f"{source}: the split asks for n_train={nt} + n_val={nv} = {nt + nv} samples but "
            f"only {n_total} are available. Lower `n_train`/`n_val`."
        )
    if nt < 1:
        raise DataError(
            f"{source}: the split leaves n_train={nt} training samples (of {n_total}); "
            "a training set needs at least 1. Lower `n_val`."
        )
    return nt, nv


def stratified_split(
    y: np.ndarray,
    *,
    n_train: int,
    n_val: int,
    seed: int,
    source: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw disjoint training and validation index sets, stratified by class.

    Args:
        y: ``(n,)`` integer labels.
        n_train, n_val: exact set sizes (counts; see :func:`split_sizes`).
        seed: seed of the ``numpy.random.Generator`` that permutes each class.
        source: file or data set name quoted in errors.

    Returns:
        ``(train_idx, val_idx)``: sorted int64 indices into ``y``, disjoint.

    Raises:
        DataError: a class has too few samples to appear in both sets.
    """
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    n_total = int(counts.sum())
    if n_train + n_val > n_total:
        raise DataError(
            f"{source}: the split asks for {n_train + n_val} samples but only {n_total} exist."
        )
    lo_val = 1 if n_val >= classes.size else 0
    lo_train = 1 if n_train >= classes.size else 0
    short = counts < lo_val + lo_train
    if short.any():
        bad = ", ".join(
            f"class {c}: {k}" for c, k in zip(classes[short], counts[short], strict=True)
        )
        raise DataError(
            f"{source}: too few samples of a class for a stratified split with n_train={n_train}, "
            f"n_val={n_val}: every class needs >= {lo_val + lo_train} samples; got {bad}. "
            "Lower `n_train`/`n_val`, drop that class, or supply the split yourself."
        )
    v = _apportion(n_val, counts, np.full_like(counts, lo_val), counts - lo_train)
    t = _apportion(n_train, counts, np.full_like(counts, lo_train), counts - v)
    rng = np.random.default_rng(check_seed(seed))
    train, val = [], []
    for c, vc, tc in zip(classes, v, t, strict=True):
        perm = rng.permutation(np.flatnonzero(y == c))
        val.append(perm[:vc])
        train.append(perm[vc : vc + tc])
    train_idx = np.sort(np.concatenate(train)).astype(np.int64)
    val_idx = np.sort(np.concatenate(val)).astype(np.int64)
    return train_idx, val_idx


def _apportion(total: int, weights: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integers ``k`` with ``sum k = total``, ``lo <= k <= hi``, ``k ~ total * w / sum w``.

    Largest-remainder rounding; assumes ``sum lo <= total <= sum hi`` (callers guarantee it).
    """
    quota = total * weights / weights.sum()
    k = np.clip(np.floor(quota).astype(np.int64), lo, hi)
    while (diff := total - int(k.sum())) != 0:
        gap = quota - k
        if diff > 0:
            i = int(np.argmax(np.where(k < hi, gap, -np.inf)))
            k[i] += 1
        else:
            i = int(np.argmin(np.where(k > lo, gap, np.inf)))
            k[i] -= 1
    return k
