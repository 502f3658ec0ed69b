"""Small file-reading helpers that turn every I/O failure into a :class:`DataError`."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from solver.errors import DataError

__all__ = ["require_file", "read_text_matrix", "read_index_file", "check_finite"]


def require_file(path: str | os.PathLike[str], what: str) -> Path:
    """Return ``path`` as a :class:`Path`; raise DataError naming ``what`` if it is no file."""
    p = Path(path).expanduser()
    if not p.is_file():
        hint = " (it is a directory)" if p.is_dir() else ""
        raise DataError(
            f"{what} file {str(p)!r} does not exist{hint}. Check the path or pass the right file."
        )
    return p


def read_text_matrix(
    path: str | os.PathLike[str],
    what: str,
    *,
    n_cols: int | None = None,
    delimiter: str | None = None,
    skip_header: bool = False,
) -> np.ndarray:
    """Read a whitespace- or ``delimiter``-separated numeric table as a 2-d float64 array.

    Returns:
        ``(n_rows, n_cols)`` array; a one-column file gives ``(n_rows, 1)``.

    Raises:
        DataError: missing file, unparsable entries, ragged rows, no rows, wrong column count,
            NaN/inf entries.
    """
    p = require_file(path, what)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked below
            arr = np.loadtxt(
                p, dtype=np.float64, delimiter=delimiter, skiprows=int(skip_header), ndmin=2
            )
    except ValueError as exc:
        raise DataError(
            f"{what} file {str(p)!r} is not a numeric table: {exc}. "
            "Expect one sample per line, numbers separated by "
            f"{'whitespace' if delimiter is None else repr(delimiter)}."
        ) from exc
    if arr.shape[0] == 0:
        raise DataError(f"{what} file {str(p)!r} has no data rows; it must hold at least one.")
    if n_cols is not None and arr.shape[1] != n_cols:
        raise DataError(
            f"{what} file {str(p)!r} must have {n_cols} columns per line; got {arr.shape[1]}."
        )
    check_finite(arr, f"{what} file {str(p)!r}")
    return arr


def read_index_file(path: str | os.PathLike[str], what: str, *, n_items: int) -> np.ndarray:
    """Read 1-based indices (one or more per line) and return them 0-based.

    Returns:
        ``(k,)`` int64 indices in ``[0, n_items)``, in file order.

    Raises:
        DataError: non-integer values, indices outside ``[1, n_items]`` or repeated indices.
    """
    raw = read_text_matrix(path, what).ravel()
    where = f"{what} file {str(Path(path))!r}"
    if not np.all(raw == np.round(raw)):
        i = int(np.flatnonzero(raw != np.round(raw))[0])
        raise DataError(f"{where}: indices must be integers; entry {i} is {raw[i]}.")
    idx = raw.astype(np.int64)
    out = (idx < 1) | (idx > n_items)
    if out.any():
        i = int(np.flatnonzero(out)[0])
        raise DataError(
            f"{where}: 1-based indices must lie in [1, {n_items}] (the number of labelled "
            f"samples); {int(out.sum())} do not, the first is {idx[i]} at entry {i}. "
            "Check that the index file belongs to this ground truth."
        )
    uniq, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        raise DataError(
            f"{where}: index {int(uniq[counts > 1][0])} appears {int(counts.max())} times; "
            "each sample may be listed once."
        )
    return idx - 1


def check_finite(arr: np.ndarray, where: str) -> None:
    """Raise DataError naming ``where`` and the first offending entry if ``arr`` has NaN/inf."""
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{where}: {int(bad.sum())} entries are NaN or infinite (first at index {first}); "
            "clean the data first."
        )
