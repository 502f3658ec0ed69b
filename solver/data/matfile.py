"""Reading MATLAB ``.mat`` files and finding the one array a loader needs in them.

Files found in the wild name their arrays differently (``indian_pines_corrected``,
``Indian_pines_gt``, ``y`` ...). :func:`pick_array` resolves the array in this order:

1. an explicit ``key`` (must exist and have the expected number of dimensions);
2. the single array whose key matches one of ``known_keys`` (case-insensitive) and has the
   expected number of dimensions;
3. otherwise the single non-``__dunder__`` array of the expected number of dimensions.

Anything else (none, or several candidates) raises a DataError listing the keys found and
suggesting the loader's ``key`` option.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import scipy.io

from solver.data._io import require_file
from solver.errors import DataError

__all__ = ["read_mat", "pick_array"]


def read_mat(path: str | os.PathLike[str], what: str) -> dict[str, np.ndarray]:
    """Load a MATLAB v4/v5/v7 file as ``{key: ndarray}`` without the ``__dunder__`` entries.

    Raises:
        DataError: missing file, a v7.3 (HDF5) file, or a file scipy cannot parse.
    """
    p = require_file(path, what)
    try:
        raw = scipy.io.loadmat(p)
    except NotImplementedError as exc:  # scipy's message for v7.3 / HDF5 files
        raise DataError(
            f"{what} file {str(p)!r} is a MATLAB v7.3 (HDF5) file, which scipy cannot read. "
            "Re-save it in MATLAB with `save(name, var, '-v7')` or convert it with h5py."
        ) from exc
    except (scipy.io.matlab.MatReadError, ValueError, TypeError, OSError) as exc:
        raise DataError(
            f"{what} file {str(p)!r} is not a readable MATLAB .mat file: {exc}."
        ) from exc
    return {
        k: np.asarray(v) for k, v in raw.items() if not (k.startswith("__") and k.endswith("__"))
    }


def pick_array(
    arrays: dict[str, np.ndarray],
    *,
    path: str | os.PathLike[str],
    what: str,
    ndim: int,
    known_keys: Iterable[str],
    key: str | None,
    option: str,
) -> tuple[str, np.ndarray]:
    """Choose the ``ndim``-dimensional array of ``arrays`` (rules in the module docstring).

    Args:
        arrays: the file's arrays, from :func:`read_mat`.
        path, what: quoted in errors ("Indian Pines ground truth file '...'").
        ndim: required number of dimensions.
        known_keys: conventional names of the array, matched case-insensitively.
        key: explicit key from the user, or ``None``.
        option: name of the loader option that sets ``key`` (for the error message).

    Returns:
        ``(key, array)``.
    """
    found = ", ".join(f"{k!r} {v.shape}" for k, v in arrays.items()) or "none"
    where = f"{what} file {str(path)!r}"
    if key is not None:
        if key not in arrays:
            raise DataError(
                f"{where} has no array {key!r} (`{option}`); arrays found: {found}. "
                f"Pass one of those as `{option}=`."
            )
        if arrays[key].ndim != ndim:
            raise DataError(
                f"{where}: array {key!r} has shape {arrays[key].shape}, but a {ndim}-d array "
                f"is needed. Arrays found: {found}."
            )
        return key, arrays[key]
    right_dim = {k: v for k, v in arrays.items() if v.ndim == ndim}
    known = {k.lower() for k in known_keys}
    named = [k for k in right_dim if k.lower() in known]
    candidates = named if named else list(right_dim)
    if len(candidates) == 1:
        return candidates[0], right_dim[candidates[0]]
    problem = "several candidate arrays" if candidates else f"no {ndim}-d array"
    raise DataError(
        f"{where}: {problem} for the {what}; arrays found: {found}. "
        f"Name the array with `{option}=` (one of: {', '.join(repr(k) for k in arrays) or '-'})."
    )
