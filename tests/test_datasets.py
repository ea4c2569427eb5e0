"""The file loaders, on tiny files written in each real format (and on the real data when present).

One table of cases (a dataset, a writer of tiny files in its format) drives the contract test;
adding a loader means adding a writer and a row.
"""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import pickle
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import torch
from PIL import Image

from datadistill.datasets import (
    DataFormatError,
    DataNotFoundError,
    DatasetInfo,
    TensorSet,
    load_dataset,
    resolve_root,
)
from datadistill.datasets.loading import validation_indices
from datadistill.datasets.npz import read_npz
from datadistill.datasets.usps import read_usps
from datadistill.registry import UnknownNameError

VAL_SIZE = 0.2
REAL = Path("/work/shared/data")


@dataclass
class Written:
    """What a writer put on disk, as the loader should return it: floats in [0, 1], NCHW."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def _labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` labels with every one of ``k`` classes equally often, shuffled."""
    return rng.permutation(np.arange(n) % k)


def _pixels(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, shape, dtype=np.uint8)


# ---- writers, one per format ---------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> None:
    """An IDX file of unsigned bytes, gzipped when ``path`` ends in ``.gz``."""
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def idx_writer(folder: str, gz: bool = True) -> Callable[[Path], Written]:
    def write(root: Path) -> Written:
        rng = np.random.default_rng(0)
        suffix = ".gz" if gz else ""
        arrays = []
        for prefix, n in (("train", 100), ("t10k", 30)):
            x, y = _pixels((n, 28, 28), rng), _labels(n, 10, rng)
            write_idx(root / folder / "raw" / f"{prefix}-images-idx3-ubyte{suffix}", x)
            write_idx(root / folder / "raw" / f"{prefix}-labels-idx1-ubyte{suffix}", y)
            arrays += [x[:, None] / 255.0, y]
        return Written(*arrays)

    return write


def write_usps(root: Path) -> Written:
    """libsvm lines ``label index:value``; pixel 1 is left out (libsvm's zero), so it reads 0.5."""
    rng = np.random.default_rng(0)
    arrays = []
    for name, n in (("usps.bz2", 100), ("usps.t.bz2", 30)):
        v, y = rng.uniform(-1, 1, (n, 256)).round(6), _labels(n, 10, rng)
        v[:, 0] = 0.0
        lines = [
            f"{label + 1} " + " ".join(f"{i + 1}:{p:.6f}" for i, p in enumerate(row) if i > 0)
            for label, row in zip(y, v, strict=True)
        ]
        (root / "USPS").mkdir(parents=True, exist_ok=True)
        (root / "USPS" / name).write_bytes(bz2.compress("\n".join(lines).encode()))
        arrays += [((v + 1) / 2).reshape(n, 1, 16, 16), y]
    return Written(*arrays)


def write_svhn(root: Path) -> Written:
    rng = np.random.default_rng(0)
    arrays = []
    for name, n in (("train_32x32.mat", 100), ("test_32x32.mat", 30)):
        x, y = _pixels((32, 32, 3, n), rng), _labels(n, 10, rng)
        (root / "SVHN").mkdir(parents=True, exist_ok=True)
        scipy.io.savemat(root / "SVHN" / name, {"X": x, "y": np.where(y == 0, 10, y)[:, None]})
        arrays += [x.transpose(3, 2, 0, 1) / 255.0, y]
    return Written(*arrays)


def _pickle(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(obj))


def write_cifar10_pickles(root: Path) -> Written:
    rng = np.random.default_rng(0)
    x, y = _pixels((100, 3072), rng), _labels(100, 10, rng)
    for i, (xb, yb) in enumerate(zip(np.split(x, 5), np.split(y, 5), strict=True), 1):
        _pickle(root / "cifar-10-batches-py" / f"data_batch_{i}", {"data": xb, "labels": list(yb)})
    xt, yt = _pixels((30, 3072), rng), _labels(30, 10, rng)
    _pickle(root / "cifar-10-batches-py" / "test_batch", {"data": xt, "labels": list(yt)})
    return Written(x.reshape(-1, 3, 32, 32) / 255.0, y, xt.reshape(-1, 3, 32, 32) / 255.0, yt)


def write_cifar100(root: Path) -> Written:
    rng = np.random.default_rng(0)
    arrays = []
    for name, n in (("train", 500), ("test", 100)):
        x, y = _pixels((n, 3072), rng), _labels(n, 100, rng)
        _pickle(root / "cifar-100-python" / name, {"data": x, "fine_labels": list(y)})
        arrays += [x.reshape(-1, 3, 32, 32) / 255.0, y]
    _pickle(root / "cifar-100-python" / "meta", {"fine_label_names": list(CIFAR100_NAMES)})
    return Written(*arrays)


def _npz_splits(
    root: Path, shape: tuple[int, ...], k: int, make: Callable, **extra: np.ndarray
) -> Written:
    """``train.npz``/``test.npz`` with images ``make((n, *shape), rng)``, HWC as users save them."""
    rng = np.random.default_rng(0)
    arrays = []
    for name, n in (("train", 10 * k), ("test", 3 * k)):
        x, y = make((n, *shape), rng), _labels(n, k, rng)
        root.mkdir(parents=True, exist_ok=True)
        np.savez(root / f"{name}.npz", images=x, labels=y, **extra)
        hwc = x if x.ndim == 4 else x[..., None]
        scale = 255.0 if x.dtype == np.uint8 else 1.0
        arrays += [hwc.transpose(0, 3, 1, 2) / scale, y]
    return Written(*arrays)


def write_cifar10_lossless(root: Path) -> Written:
    return _npz_splits(root / "cifar10-lossless", (32, 32, 3), 10, _pixels)


def write_npz_rgb(root: Path) -> Written:
    names = np.array(["ant", "bee", "cat", "dog"])
    return _npz_splits(root, (12, 10, 3), 4, _pixels, class_names=names)


def write_npz_grey_float(root: Path) -> Written:
    return _npz_splits(root, (8, 8), 5, lambda s, rng: rng.random(s, dtype=np.float32))


def imagefolder_writer(mode: str) -> Callable[[Path], Written]:
    """PNGs (lossless) in ``<split>/<class>/``; a stray text file that the loader must skip."""

    def write(root: Path) -> Written:
        rng = np.random.default_rng(0)
        shape = (7, 9, 3) if mode == "RGB" else (7, 9)
        arrays = []
        for split, per_class in (("train", 10), ("test", 3)):
            x = _pixels((3 * per_class, *shape), rng)
            y = np.repeat(np.arange(3), per_class)
            for i, (image, label) in enumerate(zip(x, y, strict=True)):
                folder = root / split / FOLDER_CLASSES[label]
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(image, mode).save(folder / f"{i:03d}.png")
            (root / split / "ant" / "notes.txt").write_text("not an image")
            arrays += [x.reshape(len(x), 7, 9, -1).transpose(0, 3, 1, 2) / 255.0, y]
        return Written(*arrays)

    return write


FOLDER_CLASSES = ("ant", "bee", "cat")


@dataclass(frozen=True)
class Case:
    id: str
    dataset: str
    write: Callable[[Path], Written]
    shape: tuple[int, int, int]
    num_classes: int = 10
    class_names: tuple[str, ...] | None = None
    inferred: bool = False  # mean/std computed from the training images


CIFAR100_NAMES = tuple(f"class{i}" for i in range(100))
CASES = [
    Case("mnist", "mnist", idx_writer("MNIST"), (1, 28, 28)),
    Case("mnist-uncompressed", "mnist", idx_writer("MNIST", gz=False), (1, 28, 28)),
    Case("fashion-mnist", "fashion-mnist", idx_writer("FashionMNIST"), (1, 28, 28)),
    Case("kmnist", "kmnist", idx_writer("KMNIST"), (1, 28, 28)),
    Case("usps", "usps", write_usps, (1, 16, 16)),
    Case("svhn", "svhn", write_svhn, (3, 32, 32)),
    Case("cifar10-pickles", "cifar10", write_cifar10_pickles, (3, 32, 32)),
    Case("cifar10-lossless", "cifar10", write_cifar10_lossless, (3, 32, 32)),
    Case("cifar100", "cifar100", write_cifar100, (3, 32, 32), 100, CIFAR100_NAMES),
    Case("npz-rgb", "npz", write_npz_rgb, (3, 12, 10), 4, ("ant", "bee", "cat", "dog"), True),
    Case("npz-grey-float", "npz", write_npz_grey_float, (1, 8, 8), 5, inferred=True),
    Case(
        "imagefolder-rgb",
        "imagefolder",
        imagefolder_writer("RGB"),
        (3, 7, 9),
        3,
        FOLDER_CLASSES,
        True,
    ),
    Case(
        "imagefolder-grey",
        "imagefolder",
        imagefolder_writer("L"),
        (1, 7, 9),
        3,
        FOLDER_CLASSES,
        True,
    ),
]
CASE = {case.id: case for case in CASES}


# ---- helpers -------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
    }


@contextmanager
def read_only(root: Path) -> Iterator[None]:
    """``root`` made read-only; afterwards, nothing under it may have changed (root ignores
    permissions, so the snapshot is what catches a write there)."""
    before = _snapshot(root)
    paths = [root, *root.rglob("*")]
    modes = {p: p.stat().st_mode for p in paths}
    for p in reversed(paths):
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    assert _snapshot(root) == before, "the loader wrote under its data root"


def assert_split(split: TensorSet, info: DatasetInfo, x: np.ndarray, y: np.ndarray) -> None:
    """``split`` holds exactly the images ``x`` (in [0, 1]) normalised with the info's mean/std."""
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    expected = torch.from_numpy(x).float()
    torch.testing.assert_close(split.images * std + mean, expected, atol=1e-5, rtol=0)
    assert torch.equal(split.labels, torch.from_numpy(y).long())


def _rows(split: TensorSet) -> set[bytes]:
    return {row.tobytes() for row in split.images.flatten(1).numpy().round(4)}


# ---- the contract, for every format --------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_loader_contract(case: Case, tmp_path: Path) -> None:
    """Shapes, classes, exact pixels and labels, normalisation and a stratified, disjoint
    validation split; loaded from a read-only root."""
    written = case.write(tmp_path)
    with read_only(tmp_path):
        splits = load_dataset(case.dataset, tmp_path, val_size=VAL_SIZE, val_seed=0)
    info = splits.info
    assert info.shape == case.shape
    assert info.num_classes == case.num_classes == len(info.class_names)
    if case.class_names:
        assert info.class_names == case.class_names

    y_train = torch.from_numpy(written.y_train)
    val_ix = validation_indices(y_train, info.num_classes, VAL_SIZE, 0).numpy()
    keep = np.ones(len(y_train), dtype=bool)
    keep[val_ix] = False
    assert_split(splits.train, info, written.x_train[keep], written.y_train[keep])
    assert_split(splits.val, info, written.x_train[val_ix], written.y_train[val_ix])
    assert_split(splits.test, info, written.x_test, written.y_test)
    assert not _rows(splits.train) & _rows(splits.val)
    per_class = torch.bincount(y_train, minlength=info.num_classes).tolist()
    assert splits.val.class_counts() == [round(VAL_SIZE * n) for n in per_class]

    if case.inferred:
        seen = torch.cat([splits.train.images, splits.val.images])
        std, mean = torch.std_mean(seen, (0, 2, 3), correction=0)
        torch.testing.assert_close(mean, torch.zeros(info.channels), atol=1e-4, rtol=0)
        torch.testing.assert_close(std, torch.ones(info.channels), atol=1e-4, rtol=0)


def test_validation_split_is_fixed_by_its_seed(tmp_path: Path) -> None:
    write_npz_rgb(tmp_path)
    a, b, c = (load_dataset("npz", tmp_path, val_size=VAL_SIZE, val_seed=s) for s in (0, 0, 1))
    assert torch.equal(a.val.images, b.val.images) and torch.equal(a.train.images, b.train.images)
    assert not torch.equal(a.val.images, c.val.images)


# ---- errors --------------------------------------------------------------------------------

MISSING = [
    ("mnist", "MNIST/raw/train-images-idx3-ubyte.gz", "{train,t10k}"),
    ("fashion-mnist", "FashionMNIST/raw/t10k-labels-idx1-ubyte.gz", "FashionMNIST/raw/"),
    ("kmnist", "KMNIST/raw/train-labels-idx1-ubyte.gz", "KMNIST/raw/"),
    ("usps", "USPS/usps.bz2", "usps.t.bz2"),
    ("svhn", "SVHN/train_32x32.mat", "test_32x32.mat"),
    ("cifar10", "cifar-10-batches-py/data_batch_1", "cifar10-lossless/train.npz"),
    ("cifar100", "cifar-100-python/train", "cifar-100-python/{train,test}"),
    ("npz", "train.npz", "'images' (N, H, W[, C])"),
    ("imagefolder", "train", "<root>/train/<class>/<image>"),
]


@pytest.mark.parametrize("name, file, layout", MISSING, ids=[m[0] for m in MISSING])
def test_missing_files_are_named_with_the_layout(
    name: str, file: str, layout: str, tmp_path: Path
) -> None:
    with pytest.raises(DataNotFoundError) as err:
        load_dataset(name, tmp_path)
    message = str(err.value)
    assert file in message and str(tmp_path) in message
    assert "Expected layout" in message and layout in message


def test_usps_without_its_train_file_names_only_that_file(tmp_path: Path) -> None:
    """The offline situation: only ``usps.t.bz2`` is available."""
    write_usps(tmp_path)
    (tmp_path / "USPS" / "usps.bz2").unlink()
    with pytest.raises(DataNotFoundError) as err:
        load_dataset("usps", tmp_path)
    listed = str(err.value).split("Expected layout")[0]
    assert "USPS/usps.bz2" in listed and "usps.t.bz2" not in listed


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _npz_train(**arrays: np.ndarray) -> Callable[[Path], None]:
    return lambda root: np.savez(root / "train.npz", **arrays)


def _write(relative: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / relative).write_bytes(data)


def _svhn_flat_x(root: Path) -> None:
    scipy.io.savemat(root / "SVHN/test_32x32.mat", {"X": np.zeros((32, 32, 3)), "y": np.ones(1)})


def _resize_one_image(root: Path) -> None:
    Image.new("RGB", (5, 5)).save(root / "train" / "bee" / "odd.png")


def _unknown_test_class(root: Path) -> None:
    (root / "test" / "eel").mkdir()


def _empty_train_class(root: Path) -> None:
    """A class folder holding only a stray non-image: refused now, not later at ``ipc``."""
    (root / "train" / "dog").mkdir()
    (root / "train" / "dog" / "notes.txt").write_text("not an image")


def _one_class_folder(root: Path) -> None:
    for split in ("train", "test"):
        for name in FOLDER_CLASSES[1:]:
            for path in (root / split / name).iterdir():
                path.unlink()
            (root / split / name).rmdir()


def _one_class_npz(root: Path) -> None:
    for name in ("train", "test"):
        np.savez(root / f"{name}.npz", images=RGB_4, labels=LABELS_4)


RGB_4 = np.zeros((4, 12, 10, 3), np.uint8)
LABELS_4 = np.zeros(4, np.int64)
CORRUPT = {
    "idx-gz-truncated": (
        "mnist",
        lambda r: _truncate(r / "MNIST/raw/train-images-idx3-ubyte.gz"),
        "truncated",
    ),
    "idx-truncated": (
        "mnist-uncompressed",
        lambda r: _truncate(r / "MNIST/raw/t10k-images-idx3-ubyte"),
        "bytes",
    ),
    "idx-bad-magic": (
        "mnist",
        _write("MNIST/raw/train-labels-idx1-ubyte.gz", gzip.compress(b"\x08\x03")),
        "IDX",
    ),
    "libsvm-bad-value": (
        "usps",
        _write("USPS/usps.t.bz2", bz2.compress(b"3 1:0.5 2:oops\n")),
        "line 1",
    ),
    "mat-wrong-shape": ("svhn", _svhn_flat_x, "X is"),
    "pickle-junk": (
        "cifar10-pickles",
        _write("cifar-10-batches-py/test_batch", b"junk"),
        "CIFAR pickle",
    ),
    "npz-truncated": (
        "cifar10-lossless",
        lambda r: _truncate(r / "cifar10-lossless/test.npz"),
        "npz",
    ),
    "npz-channels-first": (
        "npz-rgb",
        _npz_train(images=RGB_4.transpose(0, 3, 1, 2), labels=LABELS_4),
        "(N, H, W)",
    ),
    "npz-label-count": ("npz-rgb", _npz_train(images=RGB_4, labels=LABELS_4[:3]), "labels"),
    "npz-no-labels": ("npz-rgb", _npz_train(images=RGB_4), "'images' and 'labels'"),
    "npz-float-range": (
        "npz-grey-float",
        _npz_train(images=np.full((4, 8, 8), 2.0), labels=LABELS_4),
        "[0, 1]",
    ),
    "npz-not-a-zip": ("npz-rgb", _write("test.npz", b"not a zip"), "not a readable .npz"),
    "image-size-mismatch": ("imagefolder-rgb", _resize_one_image, "odd.png"),
    "image-unknown-test-class": ("imagefolder-rgb", _unknown_test_class, "'eel'"),
    "image-empty-class": ("imagefolder-rgb", _empty_train_class, "/train/dog: no images"),
    "image-one-class": (
        "imagefolder-rgb",
        _one_class_folder,
        "/train: 1 class folder(s) ['ant']; a dataset needs at least 2 classes",
    ),
    "npz-one-class": ("npz-rgb", _one_class_npz, "npz: 1 class(es); a dataset needs at least 2"),
}


@pytest.mark.parametrize("case_id, corrupt, message", CORRUPT.values(), ids=list(CORRUPT))
def test_corrupt_files_raise_a_format_error(
    case_id: str, corrupt: Callable[[Path], object], message: str, tmp_path: Path
) -> None:
    case = CASE[case_id]
    case.write(tmp_path)
    corrupt(tmp_path)
    with pytest.raises(DataFormatError) as err:
        load_dataset(case.dataset, tmp_path)
    assert message in str(err.value)


def test_unknown_dataset_name(tmp_path: Path) -> None:
    with pytest.raises(UnknownNameError, match="known: .*mnist"):
        load_dataset("mnits", tmp_path)


# ---- downloads (torchvision replaced by a fake: the tests stay offline) ---------------------

DOWNLOADS = [
    ("mnist", "MNIST", ""),
    ("fashion-mnist", "FashionMNIST", ""),
    ("kmnist", "KMNIST", ""),
    ("usps", "USPS", "USPS"),
    ("svhn", "SVHN", "SVHN"),
    ("cifar10-pickles", "CIFAR10", ""),
    ("cifar100", "CIFAR100", ""),
]


@pytest.mark.parametrize("case_id, tv_class, folder", DOWNLOADS, ids=[d[1] for d in DOWNLOADS])
def test_download_uses_torchvision_then_decodes(
    case_id: str, tv_class: str, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision.datasets

    case, calls, written = CASE[case_id], [], []

    def fake(root: str, **kwargs: object) -> None:
        calls.append((Path(root), kwargs))
        written.append(case.write(tmp_path))

    monkeypatch.setattr(torchvision.datasets, tv_class, fake)
    splits = load_dataset(case.dataset, tmp_path, download=True)
    assert calls and all(root == tmp_path / folder and kw["download"] for root, kw in calls)
    assert splits.test.labels.tolist() == written[-1].y_test.tolist()


@pytest.mark.parametrize("case_id, tv_class, folder", DOWNLOADS, ids=[d[1] for d in DOWNLOADS])
def test_failed_download_raises_not_found_with_the_cause(
    case_id: str, tv_class: str, folder: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision.datasets

    def offline(*args: object, **kwargs: object) -> None:
        raise OSError("network is unreachable")

    monkeypatch.setattr(torchvision.datasets, tv_class, offline)
    with pytest.raises(DataNotFoundError, match="download failed.*unreachable") as err:
        load_dataset(CASE[case_id].dataset, tmp_path, download=True)
    assert isinstance(err.value.__cause__, OSError)


# ---- the data root -------------------------------------------------------------------------


def test_root_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit root, then ``$DATADISTILL_DATA``, then the user cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("DATADISTILL_DATA", raising=False)
    assert resolve_root(None) == tmp_path / "cache" / "datadistill"
    monkeypatch.setenv("DATADISTILL_DATA", str(tmp_path / "env"))
    assert resolve_root(None) == tmp_path / "env"
    assert resolve_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_load_dataset_reads_the_resolved_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three roots with different image sizes: the size loaded tells which root was read."""
    roots = {"explicit": 6, "env": 5, "cache/datadistill": 4}
    for folder, side in roots.items():
        _npz_splits(tmp_path / folder, (side, side), 2, _pixels)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DATADISTILL_DATA", str(tmp_path / "env"))
    assert load_dataset("npz", tmp_path / "explicit").info.size == (6, 6)
    assert load_dataset("npz").info.size == (5, 5)
    monkeypatch.delenv("DATADISTILL_DATA")
    assert load_dataset("npz").info.size == (4, 4)


def test_load_dataset_records_the_resolved_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative root is recorded absolute (a saved set must find its data from anywhere), and
    moving the splits to a device keeps it with every other field."""
    write_npz_rgb(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    splits = load_dataset("npz", "data", val_seed=3)
    assert splits.root == (tmp_path / "data").resolve() and splits.root.is_absolute()
    moved = splits.to("cpu")
    assert (moved.root, moved.val_seed, moved.info) == (splits.root, 3, splits.info)
    monkeypatch.setenv("DATADISTILL_DATA", "data")
    assert load_dataset("npz").root == splits.root


def test_flip_overrides_the_loaders_guess(tmp_path: Path) -> None:
    """``npz`` guesses that flips keep the class; characters or digits need ``flip=False``."""
    write_npz_rgb(tmp_path)
    guessed = load_dataset("npz", tmp_path)
    assert guessed.info.flip
    assert load_dataset("npz", tmp_path, flip=True).info == guessed.info
    off = load_dataset("npz", tmp_path, flip=False)
    assert off.info == dataclasses.replace(guessed.info, flip=False)
    assert torch.equal(off.train.images, guessed.train.images)
    assert load_dataset("digits", flip=True).info.flip


# ---- the real data, when this machine has it -----------------------------------------------

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
USPS_TEST_COUNTS = [359, 264, 198, 166, 200, 160, 170, 147, 166, 177]


def _real(path: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not (REAL / path).exists(), reason=f"no {REAL / path}")


@_real("MNIST/raw")
def test_real_mnist() -> None:
    splits = load_dataset("mnist", REAL)
    seen = torch.cat([splits.train.labels, splits.val.labels])
    assert torch.bincount(seen).tolist() == MNIST_TRAIN_COUNTS
    assert splits.test.class_counts() == MNIST_TEST_COUNTS


@_real("cifar10-lossless/test.npz")
def test_real_cifar10_lossless_test_file() -> None:
    test = read_npz(REAL / "cifar10-lossless/test.npz")
    assert test.images.shape == (10000, 3, 32, 32) and test.images.dtype == torch.uint8
    assert torch.bincount(test.labels).tolist() == [1000] * 10


@_real("USPS/usps.t.bz2")
def test_real_usps_test_file_and_missing_train_file() -> None:
    x, y = read_usps(REAL / "USPS/usps.t.bz2")
    assert x.shape == (2007, 1, 16, 16) and x.min() >= 0 and x.max() <= 1
    assert torch.bincount(y).tolist() == USPS_TEST_COUNTS
    if not (REAL / "USPS/usps.bz2").exists():
        with pytest.raises(DataNotFoundError, match="usps.bz2"):
            load_dataset("usps", REAL)


def test_load_for_set_loads_the_data_a_saved_set_was_made_from(tmp_path: Path) -> None:
    """ZCA with its regulariser, the validation seed and the flip setting come back from the
    set file, so a saved set is evaluated on exactly its own splits."""
    import datadistill as dd
    from datadistill.datasets import load_for_set

    data = dd.load_dataset("digits", zca=True, zca_reg=0.2, val_seed=3, flip=True)
    synset = dd.distill(data, "random", 1, progress=False)
    back = load_for_set(dd.SyntheticSet.load(synset.save(tmp_path / "s.safetensors")))
    assert back.zca is not None and back.zca.reg == pytest.approx(0.2)
    assert back.info.flip and back.val_seed == 3
    torch.testing.assert_close(back.val.images, data.val.images)
