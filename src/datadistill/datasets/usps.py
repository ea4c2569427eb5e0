"""USPS handwritten digits: 16×16 grey images in libsvm text files, as torchvision fetches them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import read_bytes, require
from datadistill.datasets.info import DatasetInfo

SIDE = 16
FILES = {"train": "USPS/usps.bz2", "test": "USPS/usps.t.bz2"}

# The usual USPS values, of the training file (not available offline to recompute). The test
# file gives mean 0.2614, std 0.3087; normalisation follows the training split, so these stay.
INFO = DatasetInfo(
    name="usps",
    channels=1,
    size=(SIDE, SIDE),
    num_classes=10,
    class_names=tuple(str(i) for i in range(10)),
    mean=(0.2469,),
    std=(0.2989,),
    flip=False,
)


def read_libsvm(path: Path, features: int) -> tuple[np.ndarray, np.ndarray]:
    """A libsvm text file (``label index:value ...``, 1-based indices) as dense float32 rows and
    its labels as written; absent indices are zeros, as the format means."""
    try:
        text = read_bytes(path).decode("ascii")
    except UnicodeDecodeError as e:
        raise DataFormatError(f"{path}: not a libsvm text file ({e})") from e
    rows, labels = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            numbers = np.array(line.replace(":", " ").split(), dtype=np.float64)
            index = numbers[1::2].astype(np.int64)
            if len(numbers) % 2 == 0 or (index != numbers[1::2]).any():
                raise ValueError("expected 'label index:value ...'")
            if len(index) and (index.min() < 1 or index.max() > features):
                raise ValueError(f"feature index outside 1..{features}")
        except ValueError as e:
            raise DataFormatError(f"{path}, line {lineno}: not libsvm text ({e})") from e
        row = np.zeros(features, np.float32)
        row[index - 1] = numbers[2::2]
        rows.append(row)
        labels.append(int(numbers[0]))
    return np.stack(rows) if rows else np.zeros((0, features), np.float32), np.array(labels)


def read_usps(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """One USPS file: pixels in [-1, 1] mapped to [0, 1], labels 1..10 mapped to 0..9."""
    x, y = read_libsvm(path, SIDE * SIDE)
    if len(y) and (y.min() < 1 or y.max() > 10):
        raise DataFormatError(f"{path}: labels outside 1..10 ({y.min()}..{y.max()})")
    pixels = np.clip((x + 1.0) / 2.0, 0.0, 1.0).reshape(-1, 1, SIDE, SIDE)
    return torch.from_numpy(pixels), torch.from_numpy(y.astype(np.int64) - 1)


@DATASETS.register("usps")
def load_usps(root: Path, download: bool) -> RawData:
    """USPS: 7,291 train and 2,007 test digits scanned from envelopes."""

    def fetch() -> None:
        import torchvision.datasets

        for train in (True, False):
            torchvision.datasets.USPS(str(root / "USPS"), train=train, download=True)

    layout = "<root>/USPS/usps.bz2 (train) and <root>/USPS/usps.t.bz2 (test), libsvm text"
    train, test = require(INFO.name, root, list(FILES.values()), layout, download, fetch)
    x_train, y_train = read_usps(train)
    x_test, y_test = read_usps(test)
    return RawData(INFO, x_train, y_train, x_test, y_test)
