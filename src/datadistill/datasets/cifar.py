"""CIFAR-10 and CIFAR-100: 32×32 colour images from the official pickles (or lossless npz)."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import require
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.npz import read_npz

CIFAR10_DIR = "cifar-10-batches-py"
CIFAR10_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR10_LOSSLESS = ("cifar10-lossless/train.npz", "cifar10-lossless/test.npz")
CIFAR100_DIR = "cifar-100-python"

CIFAR10_INFO = DatasetInfo(
    name="cifar10",
    channels=3,
    size=(32, 32),
    num_classes=10,
    class_names=(
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
    mean=(0.4914, 0.4822, 0.4465),
    std=(0.2023, 0.1994, 0.2010),
)
CIFAR100_INFO = DatasetInfo(
    name="cifar100",
    channels=3,
    size=(32, 32),
    num_classes=100,
    class_names=tuple(str(i) for i in range(100)),
    mean=(0.5071, 0.4866, 0.4409),
    std=(0.2673, 0.2564, 0.2762),
)


def _unpickle(path: Path) -> dict[str, Any]:
    """One of the official pickles (Python 2 strings decoded as latin-1, as torchvision does)."""
    data = path.read_bytes()
    try:
        obj = pickle.loads(data, encoding="latin1")
    except Exception as e:  # unpickling arbitrary bytes fails with many unrelated types
        raise DataFormatError(f"{path}: not a readable CIFAR pickle ({e})") from e
    if not isinstance(obj, dict):
        raise DataFormatError(f"{path}: a pickled {type(obj).__name__}, expected a dict")
    return obj


def read_cifar_batches(paths: list[Path], label_key: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Concatenate CIFAR pickles: ``data`` (N, 3072) uint8 rows as (N, 3, 32, 32), and labels."""
    images, labels = [], []
    for path in paths:
        batch = _unpickle(path)
        if "data" not in batch or label_key not in batch:
            raise DataFormatError(f"{path}: expected keys 'data' and {label_key!r}")
        x, y = np.asarray(batch["data"]), np.asarray(batch[label_key])
        if x.dtype != np.uint8 or x.shape[1:] != (3 * 32 * 32,) or y.shape != x.shape[:1]:
            raise DataFormatError(
                f"{path}: data {x.dtype} {x.shape} with {y.shape} labels, "
                "expected uint8 (N, 3072) and (N,)"
            )
        images.append(x.reshape(-1, 3, 32, 32))
        labels.append(y.astype(np.int64))
    return torch.from_numpy(np.concatenate(images)), torch.from_numpy(np.concatenate(labels))


def _download(cls_name: str, root: Path) -> None:
    import torchvision.datasets

    getattr(torchvision.datasets, cls_name)(str(root), train=True, download=True)


@DATASETS.register("cifar10")
def load_cifar10(root: Path, download: bool) -> RawData:
    """CIFAR-10: 50,000 train and 10,000 test images; the official pickles are read when present,
    else the exact-pixel npz copy, else (with ``download``) torchvision fetches the pickles."""
    files = [f"{CIFAR10_DIR}/{f}" for f in [*CIFAR10_TRAIN, "test_batch"]]
    pickled = all((root / f).exists() for f in files)
    if not pickled and all((root / f).exists() for f in CIFAR10_LOSSLESS):
        train, test = (read_npz(root / f) for f in CIFAR10_LOSSLESS)
        return RawData(CIFAR10_INFO, train.images, train.labels, test.images, test.labels)
    layout = (
        f"<root>/{CIFAR10_DIR}/{{data_batch_1..5,test_batch}} (official pickles), "
        f"or <root>/{CIFAR10_LOSSLESS[0]} and <root>/{CIFAR10_LOSSLESS[1]}"
    )
    paths = require("cifar10", root, files, layout, download, lambda: _download("CIFAR10", root))
    x_train, y_train = read_cifar_batches(paths[:-1], "labels")
    x_test, y_test = read_cifar_batches(paths[-1:], "labels")
    return RawData(CIFAR10_INFO, x_train, y_train, x_test, y_test)


@DATASETS.register("cifar100")
def load_cifar100(root: Path, download: bool) -> RawData:
    """CIFAR-100 with its fine labels (50,000 / 10,000); class names from ``meta`` if present."""
    layout = f"<root>/{CIFAR100_DIR}/{{train,test}} (official pickles; 'meta' optional)"
    files = [f"{CIFAR100_DIR}/train", f"{CIFAR100_DIR}/test"]
    train, test = require(
        "cifar100", root, files, layout, download, lambda: _download("CIFAR100", root)
    )
    x_train, y_train = read_cifar_batches([train], "fine_labels")
    x_test, y_test = read_cifar_batches([test], "fine_labels")
    info = CIFAR100_INFO
    meta = root / CIFAR100_DIR / "meta"
    if meta.exists():
        names = tuple(str(n) for n in _unpickle(meta).get("fine_label_names", ()))
        if len(names) != info.num_classes:
            raise DataFormatError(f"{meta}: {len(names)} fine_label_names, expected 100")
        info = dataclasses.replace(info, class_names=names)
    return RawData(info, x_train, y_train, x_test, y_test)
