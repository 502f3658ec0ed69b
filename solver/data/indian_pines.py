"""Indian Pines hyperspectral pixels (AVIRIS, user-supplied ``.mat`` files).

Inputs: a cube ``(H, W, B)`` (145 x 145 x 220 uncorrected or x 200 corrected) and a ground
truth ``(H, W)`` of integer labels, 0 = unlabelled. The samples are the labelled pixels taken
in column-major (MATLAB) order,

    p = i + H j   (pixel (i, j)),   keep p where gt[i, j] > 0,   label = gt[i, j] - 1,

so sample ``s`` is the ``s``-th labelled pixel of ``gt(:)`` in MATLAB; this is the list the
authors' 1-based index files refer to. Features are the ``B`` band values of the pixel,
normalised per band with statistics over *all* ``H*W`` pixels of the cube (independent of the
split, so every split sees the same features): ``"none"``, ``"minmax"`` or ``"standard"``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from solver.data._io import check_finite, read_index_file
from solver.data.dataset import Dataset
from solver.data.matfile import pick_array, read_mat
from solver.data.normalize import NormalizationMethod, fit_normalization
from solver.data.split import split_sizes, stratified_split
from solver.errors import ConfigError, DataError

__all__ = [
    "CUBE_KEYS",
    "GT_KEYS",
    "read_cube",
    "read_ground_truth",
    "labelled_pixels",
    "load_indian_pines",
]

CUBE_KEYS = ("indian_pines_corrected", "indian_pines", "x", "data", "cube", "image", "img")
GT_KEYS = ("indian_pines_gt", "y", "gt", "labels", "label", "ground_truth", "groundtruth")


def read_cube(path: str | os.PathLike[str], *, cube_key: str | None = None) -> np.ndarray:
    """Read the ``(H, W, B)`` cube as float64; raise DataError on NaN/inf or a missing array."""
    key, cube = pick_array(
        read_mat(path, "Indian Pines cube"),
        path=path,
        what="Indian Pines cube",
        ndim=3,
        known_keys=CUBE_KEYS,
        key=cube_key,
        option="cube_key",
    )
    if not np.issubdtype(cube.dtype, np.number):
        raise DataError(
            f"Indian Pines cube file {str(path)!r}: array {key!r} is not numeric ({cube.dtype})."
        )
    cube = cube.astype(np.float64)
    check_finite(cube, f"Indian Pines cube file {str(path)!r}, array {key!r}")
    return cube


def read_ground_truth(path: str | os.PathLike[str], *, gt_key: str | None = None) -> np.ndarray:
    """Read the ``(H, W)`` ground truth as int64 labels ``>= 0`` (0 = unlabelled).

    Raises:
        DataError: missing/ambiguous array, non-integer or negative labels.
    """
    where = f"Indian Pines ground truth file {str(path)!r}"
    key, gt = pick_array(
        read_mat(path, "Indian Pines ground truth"),
        path=path,
        what="Indian Pines ground truth",
        ndim=2,
        known_keys=GT_KEYS,
        key=gt_key,
        option="gt_key",
    )
    if not np.issubdtype(gt.dtype, np.number):
        raise DataError(f"{where}: array {key!r} is not numeric ({gt.dtype}).")
    gtf = gt.astype(np.float64)
    check_finite(gtf, f"{where}, array {key!r}")
    bad = (gtf != np.round(gtf)) | (gtf < 0)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{where}: array {key!r} must hold integer labels >= 0 (0 = unlabelled); "
            f"{int(bad.sum())} entries do not, e.g. {gtf[first]} at {first}."
        )
    return gtf.astype(np.int64)


def labelled_pixels(gt: np.ndarray) -> np.ndarray:
    """Column-major flat indices ``p = i + H j`` of the labelled pixels, in MATLAB order.

    Args:
        gt: ``(H, W)`` labels, 0 = unlabelled.

    Returns:
        ``(n,)`` int64, increasing; ``gt.ravel(order="F")[p]`` are the (1-based) labels.
    """
    return np.flatnonzero(np.asarray(gt).ravel(order="F") > 0).astype(np.int64)


def load_indian_pines(
    cube_path: str | os.PathLike[str],
    gt_path: str | os.PathLike[str],
    *,
    cube_key: str | None = None,
    gt_key: str | None = None,
    normalization: NormalizationMethod = "minmax",
    n_train: int | float | None = None,
    n_val: int | float | None = None,
    seed: int = 0,
    train_index_file: str | os.PathLike[str] | None = None,
    val_index_file: str | os.PathLike[str] | None = None,
) -> Dataset:
    """Build the Indian Pines data set from the user's cube and ground truth.

    Split, one of:

    * index files (``train_index_file`` and ``val_index_file``, both): 1-based positions in
      the labelled-pixel list, one per line, as in the authors' ``indianpines_id_*.dat``;
      samples keep the files' order. ``n_train``/``n_val`` must then be left unset.
    * seeded stratified split: ``n_val`` (count or fraction, default 0.2) and ``n_train``
      (default: the rest), see :mod:`solver.data.split`.

    Returns:
        Dataset with ``n_features = B`` and ``n_classes = max(gt)`` (labels ``gt - 1``).

    Raises:
        ConfigError: unknown normalisation, half an index-file pair, or sizes mixed with files.
        DataError: missing/malformed files, shape mismatch between cube and ground truth,
            indices out of range, repeated or shared by both sets, classes too small to split.
    """
    fit_normalization(np.zeros((1, 1)), normalization)  # validate the option before any I/O
    use_files = train_index_file is not None or val_index_file is not None
    if use_files and (train_index_file is None or val_index_file is None):
        raise ConfigError(
            "`train_index_file` and `val_index_file` must be given together; got "
            f"train_index_file={train_index_file!r}, val_index_file={val_index_file!r}."
        )
    if use_files and (n_train is not None or n_val is not None):
        raise ConfigError(
            "`n_train`/`n_val` cannot be combined with index files (the files fix the split); "
            f"got n_train={n_train!r}, n_val={n_val!r}. Drop them or drop the index files."
        )
    cube = read_cube(cube_path, cube_key=cube_key)
    gt = read_ground_truth(gt_path, gt_key=gt_key)
    if cube.shape[:2] != gt.shape:
        raise DataError(
            f"Indian Pines: cube {str(cube_path)!r} is {cube.shape[0]}x{cube.shape[1]} pixels "
            f"but ground truth {str(gt_path)!r} is {gt.shape[0]}x{gt.shape[1]}; "
            "they must describe the same image."
        )
    height, width, n_bands = cube.shape
    pixels = cube.reshape(height * width, n_bands, order="F")  # row p = i + H j
    norm = fit_normalization(pixels, normalization)
    where = labelled_pixels(gt)
    if where.size == 0:
        raise DataError(
            f"Indian Pines ground truth {str(gt_path)!r} has no labelled pixel (all 0)."
        )
    X = norm.apply(pixels[where])
    y = gt.ravel(order="F")[where] - 1
    n_classes = int(y.max()) + 1
    meta: dict[str, object] = {
        "source": f"{cube_path} + {gt_path}",
        "cube_file": str(cube_path),
        "gt_file": str(gt_path),
        "image_shape": (height, width),
        "n_bands": n_bands,
        "n_labelled": int(where.size),
        "class_counts": tuple(int(c) for c in np.bincount(y, minlength=n_classes)),
        "pixel_order": "column-major (MATLAB), label 0 removed",
        "normalization": normalization,
        "normalization_scope": "per band, over all pixels of the cube",
    }
    if use_files:
        tr = read_index_file(train_index_file, "Indian Pines training index", n_items=y.size)
        va = read_index_file(val_index_file, "Indian Pines validation index", n_items=y.size)
        shared = np.intersect1d(tr, va)
        if shared.size:
            raise DataError(
                f"Indian Pines index files {str(train_index_file)!r} and "
                f"{str(val_index_file)!r} share {shared.size} samples (e.g. 1-based index "
                f"{int(shared[0]) + 1}); training and validation must be disjoint."
            )
        meta |= {
            "split": "index files",
            "train_index_file": str(Path(train_index_file)),
            "val_index_file": str(Path(val_index_file)),
        }
    else:
        source = f"Indian Pines ground truth {str(gt_path)!r}"
        nt, nv = split_sizes(y.size, n_train, 0.2 if n_val is None else n_val, source=source)
        tr, va = stratified_split(y, n_train=nt, n_val=nv, seed=seed, source=source)
        meta |= {"split": "stratified", "seed": seed}
    meta |= {"n_train": int(tr.size), "n_val": int(va.size)}
    return Dataset(
        name="indian_pines",
        X_train=X[tr],
        y_train=y[tr],
        X_val=X[va],
        y_val=y[va],
        n_classes=n_classes,
        meta=meta,
    )
