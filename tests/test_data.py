"""Tests of :mod:`solver.data`: the Dataset contract, splits and every loader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import given, settings
from hypothesis import strategies as st

from solver.data import (
    Dataset,
    check_width,
    load_arrays,
    load_dataset,
    load_digits,
    load_indian_pines,
    load_peaks,
    load_peaks_reference,
    peaks_labels,
)
from solver.data._io import read_index_file
from solver.data.indian_pines import labelled_pixels, read_ground_truth
from solver.data.peaks import peaks_function, peaks_grid, peaks_thresholds
from solver.data.split import resolve_size, split_sizes, stratified_split
from solver.errors import ConfigError, DataError

# ----------------------------------------------------------------------------- Dataset


def _tiny(**changes: object) -> Dataset:
    fields: dict[str, object] = {
        "name": "tiny",
        "X_train": np.arange(8.0).reshape(4, 2),
        "y_train": np.array([0, 1, 2, 1]),
        "X_val": np.ones((2, 2)),
        "y_val": np.array([2, 0]),
        "n_classes": 3,
        "meta": {"source": "tiny.npz"},
    }
    fields.update(changes)
    return Dataset(**fields)  # type: ignore[arg-type]


def test_dataset_properties_dtypes_and_immutability() -> None:
    ds = _tiny()
    assert (ds.n_features, ds.n_train, ds.n_val, ds.n_classes) == (2, 4, 2, 3)
    assert ds.X_train.dtype == np.float64 and ds.y_train.dtype == np.int64
    with pytest.raises(ValueError, match="read-only"):
        ds.X_train[0, 0] = 5.0
    with pytest.raises(TypeError):
        ds.meta["seed"] = 1  # type: ignore[index]
    assert repr(ds) == "Dataset(name='tiny', n_train=4, n_val=2, n_features=2, n_classes=3)"
    assert ds == ds and ds != _tiny() and len({ds, ds}) == 1


def test_dataset_copies_caller_arrays() -> None:
    X = np.zeros((3, 2))
    ds = _tiny(X_train=X, y_train=np.array([0, 1, 2]))
    X[0, 0] = 7.0
    assert ds.X_train[0, 0] == 0.0 and X.flags.writeable


def test_dataset_allows_empty_validation_set() -> None:
    ds = _tiny(X_val=np.zeros((0, 2)), y_val=np.zeros(0, dtype=np.int64))
    assert ds.n_val == 0


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"y_train": np.array([0, 1, 2])}, r"tiny\.npz.*`y_train` must have shape \(4,\)"),
        ({"X_train": np.arange(4.0)}, r"`X_train` must be a 2-d array"),
        ({"X_val": np.ones((2, 3))}, r"`X_val` has 3 features but `X_train` has 2"),
        ({"X_train": np.array([[0, 1], [2, np.nan], [0, 0], [1, 1.0]])}, r"row 1, column 1"),
        ({"y_val": np.array([3, 0])}, r"labels must lie in \[0, 3\).*first is 3 at index 0"),
        ({"y_val": np.array([-1, 0])}, r"labels must lie in \[0, 3\)"),
        ({"y_train": np.array([0.0, 1.0, 2.0, 1.0])}, r"`y_train` must hold integer"),
        ({"n_classes": 1}, r"`n_classes` must be >= 2"),
        ({"X_train": np.zeros((0, 2)), "y_train": np.zeros(0, np.int64)}, r"no samples"),
    ],
)
def test_dataset_rejects_bad_arrays(changes: dict[str, object], pattern: str) -> None:
    with pytest.raises(DataError, match=pattern):
        _tiny(**changes)


def test_check_width() -> None:
    ds = _tiny()
    check_width(ds, 3)
    with pytest.raises(ConfigError, match=r"`width` must be >= the number of classes.*width=2"):
        check_width(ds, 2)


# ----------------------------------------------------------------------------- splits


@pytest.mark.parametrize(
    ("value", "expected"), [(10, 10), (0, 0), (0.25, 25), (0.005, 0), (0.006, 1)]
)
def test_resolve_size_counts_and_fractions(value: float, expected: int) -> None:
    assert resolve_size(value, 100, option="n_val") == expected


@pytest.mark.parametrize("value", [-1, 1.0, 1.5, 0.0, True, "10"])
def test_resolve_size_rejects(value: object) -> None:
    with pytest.raises(ConfigError, match="`n_val`"):
        resolve_size(value, 100, option="n_val")  # type: ignore[arg-type]


def test_split_sizes_rest_and_overflow() -> None:
    assert split_sizes(100, None, 0.2, source="s") == (80, 20)
    with pytest.raises(DataError, match=r"s: the split asks for .* 101 samples but only 100"):
        split_sizes(100, 90, 11, source="s")
    with pytest.raises(DataError, match="n_train=0"):
        split_sizes(10, None, 10, source="s")


def test_stratified_split_is_proportional_and_seeded() -> None:
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    tr, va = stratified_split(y, n_train=50, n_val=20, seed=3, source="s")
    assert np.array_equal(np.bincount(y[va]), [2, 4, 6, 8])
    assert np.array_equal(np.bincount(y[tr]), [5, 10, 15, 20])
    tr2, va2 = stratified_split(y, n_train=50, n_val=20, seed=3, source="s")
    assert np.array_equal(tr, tr2) and np.array_equal(va, va2)
    tr3, _ = stratified_split(y, n_train=50, n_val=20, seed=4, source="s")
    assert not np.array_equal(tr, tr3)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(2, 30), min_size=2, max_size=6),
    val_frac=st.floats(0.0, 1.0),
    train_frac=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31),
)
def test_stratified_split_properties(
    counts: list[int], val_frac: float, train_frac: float, seed: int
) -> None:
    y = np.repeat(np.arange(len(counts)), counts)
    n = y.size
    n_val = int(val_frac * (n - len(counts)))
    n_train = max(1, int(train_frac * (n - n_val)))
    tr, va = stratified_split(y, n_train=n_train, n_val=n_val, seed=seed, source="s")
    assert tr.size == n_train and va.size == n_val
    assert np.intersect1d(tr, va).size == 0
    assert np.unique(tr).size == tr.size and np.unique(va).size == va.size
    for idx, size in ((tr, n_train), (va, n_val)):
        if size >= len(counts):
            assert np.unique(y[idx]).size == len(counts)  # every class represented


def test_stratified_split_too_few_samples() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 2])
    with pytest.raises(DataError, match=r"too few samples of a class.*class 2: 1"):
        stratified_split(y, n_train=3, n_val=3, seed=0, source="file.npz")


# ----------------------------------------------------------------------------- peaks


def test_peaks_labels_match_authors_points(shared_reference: Path) -> None:
    ref = load_peaks_reference(shared_reference)
    assert (ref.n_train, ref.n_val, ref.n_features, ref.n_classes) == (5000, 200, 2, 5)
    assert np.array_equal(np.bincount(ref.y_train), [1000] * 5)
    assert np.array_equal(peaks_labels(ref.X_train), ref.y_train)
    assert np.array_equal(peaks_labels(ref.X_val), ref.y_val)


def test_peaks_thresholds_equally_spaced_and_extremes() -> None:
    grid = peaks_grid(256)
    f = peaks_function(grid[:, 0], grid[:, 1])
    t = peaks_thresholds(256)
    step = (f.max() - f.min()) / 5
    np.testing.assert_allclose(np.diff(np.r_[f.min(), t, f.max()]), step, rtol=1e-12)
    labels = peaks_labels(grid)
    assert labels[np.argmin(f)] == 0 and labels[np.argmax(f)] == 4
    # class k holds exactly the values in [t_k, t_{k+1})
    for k in range(5):
        vals = f[labels == k]
        assert k == 0 or vals.min() >= t[k - 1]
        assert k == 4 or vals.max() < t[k]


def test_load_peaks_draws_grid_points_per_class() -> None:
    ds = load_peaks(n_train_per_class=30, n_val_per_class=4, seed=1)
    assert (ds.n_train, ds.n_val, ds.n_classes) == (150, 20, 5)
    assert np.array_equal(ds.y_train, np.repeat(np.arange(5), 30))
    assert np.array_equal(peaks_labels(ds.X_train), ds.y_train)
    assert np.array_equal(peaks_labels(ds.X_val), ds.y_val)
    on_grid = (ds.X_train + 3.0) / 6.0 * 255.0
    np.testing.assert_allclose(on_grid, np.round(on_grid), atol=1e-9)
    again = load_peaks(n_train_per_class=30, n_val_per_class=4, seed=1)
    other = load_peaks(n_train_per_class=30, n_val_per_class=4, seed=2)
    assert np.array_equal(ds.X_train, again.X_train)
    assert not np.array_equal(ds.X_train, other.X_train)
    assert ds.meta["seed"] == 1 and ds.meta["grid_size"] == 256


def test_load_peaks_errors() -> None:
    with pytest.raises(ConfigError, match="`grid_size` must be an integer >= 2"):
        load_peaks(grid_size=1)
    with pytest.raises(ConfigError, match="`n_train_per_class` must be an integer >= 1"):
        load_peaks(n_train_per_class=0)
    with pytest.raises(ConfigError, match=r"`seed` must be an integer >= 0; got '1'"):
        load_peaks(seed="1")  # type: ignore[arg-type]
    with pytest.raises(DataError, match="class 1 has no grid point"):
        load_peaks(grid_size=2)


def _write_peaks_reference(directory: Path, labels_train: str) -> None:
    (directory / "peaks_features_training.dat").write_text("0.1 0.2\n-1.0 2.0\n")
    (directory / "peaks_features_validation.dat").write_text("0.5 0.5\n")
    (directory / "peaks_labels_training.dat").write_text(labels_train)
    (directory / "peaks_labels_validation.dat").write_text("0 0 1 0 0\n")


def test_load_peaks_reference_reads_format(tmp_path: Path) -> None:
    _write_peaks_reference(tmp_path, "1 0 0 0 0\n0 0 0 0 1\n")
    ds = load_peaks_reference(tmp_path)
    assert ds.y_train.tolist() == [0, 4] and ds.y_val.tolist() == [2]
    np.testing.assert_array_equal(ds.X_train, [[0.1, 0.2], [-1.0, 2.0]])


@pytest.mark.parametrize(
    ("labels", "pattern"),
    [
        ("1 0 0 0 0\n0 1 1 0 0\n", r"line 2 is not one-hot"),
        ("1 0 0 0 0\n0 0.5 0 0 0\n", r"line 2 is not one-hot"),
        ("1 0 0 0\n0 1 0 0\n", r"must have 5 one-hot columns"),
        ("1 0 0 0 0\n", r"has 2 lines but peaks_labels_training.dat has 1"),
        ("1 0 0 0 0\n0 x 0 0 0\n", r"peaks_labels_training.dat.*not a numeric table"),
    ],
)
def test_load_peaks_reference_rejects(tmp_path: Path, labels: str, pattern: str) -> None:
    _write_peaks_reference(tmp_path, labels)
    with pytest.raises(DataError, match=pattern):
        load_peaks_reference(tmp_path)


def test_load_peaks_reference_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"peaks_features_training.dat' does not exist"):
        load_peaks_reference(tmp_path)


# ----------------------------------------------------------------------------- digits


def test_digits_split_and_scaling() -> None:
    ds = load_digits(n_val=0.2, seed=0)
    assert (ds.n_features, ds.n_classes, ds.n_train + ds.n_val) == (64, 10, 1797)
    assert ds.n_val == round(0.2 * 1797)
    assert ds.X_train.min() == 0.0 and ds.X_train.max() == 1.0
    assert np.array_equal(np.unique(ds.y_val), np.arange(10))
    assert np.array_equal(ds.X_val, load_digits(n_val=0.2, seed=0).X_val)


def test_digits_standardize_uses_training_statistics() -> None:
    raw = load_digits(n_val=300, seed=5)
    std = load_digits(n_val=300, seed=5, standardize=True)
    mean, sd = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    np.testing.assert_allclose(std.X_val, (raw.X_val - mean) / sd, atol=1e-12)
    np.testing.assert_allclose(std.X_train.mean(axis=0), 0.0, atol=1e-12)
    varying = raw.X_train.std(axis=0) > 0
    np.testing.assert_allclose(std.X_train.std(axis=0)[varying], 1.0, rtol=1e-12)


# ----------------------------------------------------------------------------- Indian Pines

H, W, B = 10, 12, 5


def _cube_and_gt() -> tuple[np.ndarray, np.ndarray]:
    i, j, b = np.meshgrid(np.arange(H), np.arange(W), np.arange(B), indexing="ij")
    cube = (1000.0 * b + 10.0 * i + j + 0.5 * b * i).astype(np.float64)
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 4, size=(H, W)).astype(np.uint8)  # labels 1..3, 0 = unlabelled
    return cube, gt


def _write_pines(tmp_path: Path, cube_key: str = "indian_pines", gt_key: str = "indian_pines_gt"):
    cube, gt = _cube_and_gt()
    scipy.io.savemat(tmp_path / "cube.mat", {cube_key: cube})
    scipy.io.savemat(tmp_path / "gt.mat", {gt_key: gt})
    return tmp_path / "cube.mat", tmp_path / "gt.mat", cube, gt


def _column_major_labelled(cube: np.ndarray, gt: np.ndarray):
    pixels, labels = [], []
    for j in range(gt.shape[1]):
        for i in range(gt.shape[0]):
            if gt[i, j] > 0:
                pixels.append(cube[i, j])
                labels.append(gt[i, j] - 1)
    return np.array(pixels), np.array(labels)


def _write_ids(path: Path, ids: list[int]) -> Path:
    path.write_text("".join(f"{k:6d}\n" for k in ids))
    return path


def test_indian_pines_order_labels_and_index_split(tmp_path: Path) -> None:
    cube_p, gt_p, cube, gt = _write_pines(tmp_path)
    X_all, y_all = _column_major_labelled(cube, gt)
    ids_tr, ids_va = [5, 1, 17, 3, 40], [2, 9]
    ds = load_indian_pines(
        cube_p,
        gt_p,
        normalization="none",
        train_index_file=_write_ids(tmp_path / "tr.dat", ids_tr),
        val_index_file=_write_ids(tmp_path / "va.dat", ids_va),
    )
    assert (ds.n_features, ds.n_classes) == (B, 3)
    np.testing.assert_array_equal(ds.X_train, X_all[np.array(ids_tr) - 1])
    np.testing.assert_array_equal(ds.y_train, y_all[np.array(ids_tr) - 1])
    np.testing.assert_array_equal(ds.X_val, X_all[np.array(ids_va) - 1])
    assert ds.meta["n_labelled"] == y_all.size == int((gt > 0).sum())
    assert ds.meta["class_counts"] == tuple(np.bincount(y_all))
    assert ds.meta["split"] == "index files" and ds.meta["normalization"] == "none"


@pytest.mark.parametrize("method", ["minmax", "standard"])
def test_indian_pines_per_band_normalisation(tmp_path: Path, method: str) -> None:
    cube_p, gt_p, cube, gt = _write_pines(tmp_path)
    ds = load_indian_pines(cube_p, gt_p, normalization=method, n_val=10, seed=0)
    flat = cube.reshape(-1, B)
    if method == "minmax":
        shift, scale = flat.min(axis=0), flat.max(axis=0) - flat.min(axis=0)
    else:
        shift, scale = flat.mean(axis=0), flat.std(axis=0)
    raw = load_indian_pines(cube_p, gt_p, normalization="none", n_val=10, seed=0)
    np.testing.assert_allclose(ds.X_train, (raw.X_train - shift) / scale, atol=1e-12)
    assert ds.meta["normalization"] == method


def test_indian_pines_stratified_split(tmp_path: Path) -> None:
    cube_p, gt_p, _, gt = _write_pines(tmp_path)
    ds = load_indian_pines(cube_p, gt_p, n_train=40, n_val=0.25, seed=2)
    n = int((gt > 0).sum())
    assert (ds.n_train, ds.n_val) == (40, round(0.25 * n))
    assert np.array_equal(np.unique(ds.y_val), [0, 1, 2])
    rows = {tuple(r) for r in ds.X_train} & {tuple(r) for r in ds.X_val}
    assert not rows  # disjoint pixels (every synthetic pixel is distinct)
    again = load_indian_pines(cube_p, gt_p, n_train=40, n_val=0.25, seed=2)
    assert np.array_equal(ds.X_train, again.X_train)


@pytest.mark.parametrize(
    ("cube_key", "gt_key"),
    [("Indian_pines_corrected", "Indian_pines_gt"), ("whatever", "y"), ("cube", "labels_x")],
)
def test_indian_pines_key_variants(tmp_path: Path, cube_key: str, gt_key: str) -> None:
    cube_p, gt_p, _, gt = _write_pines(tmp_path, cube_key, gt_key)
    ds = load_indian_pines(cube_p, gt_p, n_val=10)
    assert ds.n_train + ds.n_val == int((gt > 0).sum())


def test_indian_pines_ambiguous_and_explicit_keys(tmp_path: Path) -> None:
    cube, gt = _cube_and_gt()
    scipy.io.savemat(tmp_path / "c.mat", {"a": cube, "b": cube + 1.0})
    scipy.io.savemat(tmp_path / "g.mat", {"labels_2": gt})
    with pytest.raises(DataError, match=r"several candidate arrays.*'a' \(10, 12, 5\).*cube_key="):
        load_indian_pines(tmp_path / "c.mat", tmp_path / "g.mat")
    ds = load_indian_pines(tmp_path / "c.mat", tmp_path / "g.mat", cube_key="b", n_val=10)
    assert ds.X_train.shape[1] == B
    with pytest.raises(DataError, match=r"has no array 'nope' \(`gt_key`\).*'labels_2'"):
        load_indian_pines(tmp_path / "c.mat", tmp_path / "g.mat", cube_key="a", gt_key="nope")
    with pytest.raises(DataError, match=r"no 3-d array.*`cube_key=`"):
        load_indian_pines(tmp_path / "g.mat", tmp_path / "g.mat")


@pytest.mark.parametrize(
    ("ids_tr", "ids_va", "pattern"),
    [
        ([1, 2, 0], [3], r"tr\.dat.*must lie in \[1, \d+\].*first is 0"),
        ([1, 2], [3, 10**6], r"va\.dat.*must lie in \[1, \d+\]"),
        ([1, 2, 2], [3], r"index 2 appears 2 times"),
        ([1, 2, 3], [3], r"share 1 samples.*index 3"),
    ],
)
def test_indian_pines_bad_index_files(
    tmp_path: Path, ids_tr: list[int], ids_va: list[int], pattern: str
) -> None:
    cube_p, gt_p, _, _ = _write_pines(tmp_path)
    with pytest.raises(DataError, match=pattern):
        load_indian_pines(
            cube_p,
            gt_p,
            train_index_file=_write_ids(tmp_path / "tr.dat", ids_tr),
            val_index_file=_write_ids(tmp_path / "va.dat", ids_va),
        )


def test_indian_pines_bad_inputs(tmp_path: Path) -> None:
    cube_p, gt_p, cube, gt = _write_pines(tmp_path)
    ids = _write_ids(tmp_path / "ids.dat", [1])
    with pytest.raises(ConfigError, match="must be given together"):
        load_indian_pines(cube_p, gt_p, train_index_file=ids)
    with pytest.raises(ConfigError, match="cannot be combined with index files"):
        load_indian_pines(cube_p, gt_p, train_index_file=ids, val_index_file=ids, n_val=3)
    with pytest.raises(ConfigError, match="`normalization` must be one of"):
        load_indian_pines(cube_p, gt_p, normalization="zscore")  # type: ignore[arg-type]
    with pytest.raises(DataError, match=r"missing\.mat' does not exist"):
        load_indian_pines(tmp_path / "missing.mat", gt_p)
    scipy.io.savemat(tmp_path / "small_gt.mat", {"gt": gt[:, :-1]})
    with pytest.raises(DataError, match=r"is 10x12 pixels but ground truth .* is 10x11"):
        load_indian_pines(cube_p, tmp_path / "small_gt.mat")
    scipy.io.savemat(tmp_path / "frac_gt.mat", {"gt": gt + 0.5})
    with pytest.raises(DataError, match="must hold integer labels >= 0"):
        load_indian_pines(cube_p, tmp_path / "frac_gt.mat")
    bad = cube.copy()
    bad[1, 2, 3] = np.nan
    scipy.io.savemat(tmp_path / "nan.mat", {"indian_pines": bad})
    with pytest.raises(DataError, match=r"nan\.mat.*NaN or infinite \(first at index \(1, 2, 3\)"):
        load_indian_pines(tmp_path / "nan.mat", gt_p)
    (tmp_path / "junk.mat").write_bytes(b"not a mat file" * 20)
    with pytest.raises(DataError, match=r"junk\.mat' is not a readable MATLAB"):
        load_indian_pines(tmp_path / "junk.mat", gt_p)
    one = np.zeros((H, W), np.uint8)
    one[0, 0] = one[2, 2] = one[3, 3] = 1
    one[1, 1] = 2
    scipy.io.savemat(tmp_path / "one.mat", {"gt": one})
    with pytest.raises(DataError, match=r"one\.mat.*too few samples of a class.*class 1: 1"):
        load_indian_pines(cube_p, tmp_path / "one.mat", n_train=2, n_val=2)


def test_indian_pines_reference_ground_truth(shared_reference: Path) -> None:
    gt = read_ground_truth(shared_reference / "Indian_pines_gt.mat")
    assert gt.shape == (145, 145)
    labels = gt.ravel(order="F")[labelled_pixels(gt)]
    expected = [46, 1428, 830, 237, 483, 730, 28, 478, 20, 972, 2455, 593, 205, 1265, 386, 93]
    assert np.bincount(labels)[1:].tolist() == expected
    tr = read_index_file(shared_reference / "indianpines_id_training.dat", "t", n_items=10249)
    va = read_index_file(shared_reference / "indianpines_id_validation.dat", "v", n_items=10249)
    assert (tr.size, va.size, np.intersect1d(tr, va).size) == (4000, 2000, 0)


def test_indian_pines_reference_split_end_to_end(shared_reference: Path, tmp_path: Path) -> None:
    gt = read_ground_truth(shared_reference / "Indian_pines_gt.mat")
    cube = np.random.default_rng(0).random((145, 145, 3))
    scipy.io.savemat(tmp_path / "cube.mat", {"indian_pines": cube})
    ds = load_indian_pines(
        tmp_path / "cube.mat",
        shared_reference / "Indian_pines_gt.mat",
        normalization="none",
        train_index_file=shared_reference / "indianpines_id_training.dat",
        val_index_file=shared_reference / "indianpines_id_validation.dat",
    )
    assert (ds.n_train, ds.n_val, ds.n_classes, ds.n_features) == (4000, 2000, 16, 3)
    first = int(np.loadtxt(shared_reference / "indianpines_id_training.dat")[0]) - 1
    p = labelled_pixels(gt)[first]
    i, j = p % 145, p // 145
    np.testing.assert_array_equal(ds.X_train[0], cube[i, j])
    assert ds.y_train[0] == gt[i, j] - 1


# ----------------------------------------------------------------------------- user arrays


def test_arrays_npz_with_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {
        "X_train": rng.random((6, 3)),
        "y_train": np.array([0, 1, 2, 0, 1, 2]),
        "X_val": rng.random((2, 3)),
        "y_val": np.array([[2], [0]]),  # column vectors from MATLAB are accepted
    }
    np.savez(tmp_path / "d.npz", **arrays)
    ds = load_arrays(tmp_path / "d.npz")
    np.testing.assert_array_equal(ds.X_val, arrays["X_val"])
    assert ds.y_val.tolist() == [2, 0] and ds.n_classes == 3 and ds.meta["split"] == "file"
    with pytest.raises(ConfigError, match="has its own X_train/X_val split"):
        load_arrays(tmp_path / "d.npz", n_val=0.5)


def test_arrays_npz_x_y_split_and_relabel(tmp_path: Path) -> None:
    X = np.arange(40.0).reshape(20, 2)
    y = np.repeat([3, 7], 10)
    np.savez(tmp_path / "xy.npz", X=X, y=y)
    ds = load_arrays(tmp_path / "xy.npz", n_val=0.2, seed=1, relabel=True)
    assert (ds.n_train, ds.n_val, ds.n_classes) == (16, 4, 2)
    assert ds.meta["label_values"] == (3, 7)
    for Xs, ys in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val)):
        np.testing.assert_array_equal(np.array([3, 7])[ys], y[(Xs[:, 0] / 2).astype(int)])
    with pytest.raises(DataError, match=r"xy\.npz.*labels must lie in \[0, 5\)"):
        load_arrays(tmp_path / "xy.npz", n_classes=5)


def test_arrays_csv_with_and_without_header(tmp_path: Path) -> None:
    rows = "".join(f"{k}.5,{-k},{k % 2}\n" for k in range(10))
    (tmp_path / "h.csv").write_text("a,b,label\n" + rows)
    (tmp_path / "n.csv").write_text(rows)
    a = load_arrays(tmp_path / "h.csv", n_val=4, seed=0)
    b = load_arrays(tmp_path / "n.csv", n_val=4, seed=0)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert (a.n_features, a.n_train, a.n_val, a.n_classes) == (2, 6, 4, 2)
    np.testing.assert_array_equal(a.y_train, a.X_train[:, 0].astype(int) % 2)


@pytest.mark.parametrize(
    ("name", "content", "pattern"),
    [
        ("nan.csv", "1,2,0\nnan,1,1\n3,3,0\n4,4,1\n", r"nan\.csv.*NaN or infinite"),
        ("frac.csv", "1,2,0\n2,1,1.5\n3,3,0\n4,4,1\n", r"frac\.csv.*integer class labels"),
        ("one.csv", "1\n2\n", r"one\.csv.*needs at least 2 columns"),
        ("few.csv", "1,2,0\n2,1,0\n3,3,0\n4,4,1\n", r"few\.csv: too few samples of a class"),
        (
            "neg.csv",
            "1,2,0\n2,1,-1\n3,3,0\n4,4,-1\n",
            r"neg\.csv': labels must be >= 0.*relabel=True",
        ),
        ("bad.txt", "1,2,0\n", r"must end in \.npz or \.csv"),
    ],
)
def test_arrays_csv_rejects(tmp_path: Path, name: str, content: str, pattern: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises((DataError, ConfigError), match=pattern):
        load_arrays(tmp_path / name, n_val=2)


def test_arrays_npz_rejects(tmp_path: Path) -> None:
    np.savez(tmp_path / "mix.npz", X=np.zeros((4, 2)), y=np.zeros(4), X_val=np.zeros((1, 2)))
    with pytest.raises(DataError, match=r"mix\.npz.*X_train, y_train, X_val, y_val or X, y"):
        load_arrays(tmp_path / "mix.npz")
    np.savez(tmp_path / "len.npz", X=np.zeros((4, 2)), y=np.zeros(3))
    with pytest.raises(DataError, match=r"`X` has 4 rows but `y` has 3 labels"):
        load_arrays(tmp_path / "len.npz")
    np.savez(tmp_path / "onehot.npz", X=np.zeros((4, 2)), y=np.eye(4))
    with pytest.raises(DataError, match=r"`y` must be a 1-d label vector"):
        load_arrays(tmp_path / "onehot.npz")
    with pytest.raises(DataError, match=r"absent\.npz' does not exist"):
        load_arrays(tmp_path / "absent.npz")


# ----------------------------------------------------------------------------- dispatch


def test_load_dataset_dispatch_and_errors(tmp_path: Path) -> None:
    ds = load_dataset("peaks", n_train_per_class=5, n_val_per_class=2, seed=3)
    assert np.array_equal(
        ds.X_train, load_peaks(n_train_per_class=5, n_val_per_class=2, seed=3).X_train
    )
    with pytest.raises(ConfigError, match=r"`dataset` must be one of \['arrays', 'digits'"):
        load_dataset("mnist")
    with pytest.raises(ConfigError, match=r"no option\(s\) \['n_train'\]; valid options: .*seed"):
        load_dataset("peaks", n_train=5)
    with pytest.raises(ConfigError, match=r"'arrays' needs option\(s\) \['path'\]"):
        load_dataset("arrays")
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("indian_pines", cube_path=tmp_path / "c.mat", gt_path=tmp_path / "g.mat")
