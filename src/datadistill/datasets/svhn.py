"""SVHN: 32×32 colour crops of house numbers, in the official MATLAB files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import require
from datadistill.datasets.info import DatasetInfo

SPLITS = {"train": "train_32x32.mat", "test": "test_32x32.mat"}
INFO = DatasetInfo(
    name="svhn",
    channels=3,
    size=(32, 32),
    num_classes=10,
    class_names=tuple(str(i) for i in range(10)),
    mean=(0.4377, 0.4438, 0.4728),
    std=(0.1980, 0.2010, 0.1970),
    flip=False,
)


def read_svhn_mat(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """``X`` (32, 32, 3, N) uint8 as (N, 3, 32, 32); ``y`` with 10 for the digit 0, mapped to 0."""
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except Exception as e:  # scipy raises several unrelated types for a corrupt file
        raise DataFormatError(f"{path}: not a readable MATLAB file ({e})") from e
    if "X" not in mat or "y" not in mat:
        raise DataFormatError(f"{path}: expected variables 'X' and 'y', found {sorted(mat)}")
    x, y = mat["X"], mat["y"].reshape(-1)
    if x.ndim != 4 or x.shape[:3] != (32, 32, 3) or x.dtype != np.uint8:
        raise DataFormatError(f"{path}: X is {x.dtype} {x.shape}, expected uint8 (32, 32, 3, N)")
    if y.shape != (x.shape[3],):
        raise DataFormatError(f"{path}: {y.size} labels for {x.shape[3]} images")
    images = torch.from_numpy(np.ascontiguousarray(x.transpose(3, 2, 0, 1)))
    labels = torch.from_numpy(np.where(y == 10, 0, y).astype(np.int64))
    return images, labels


@DATASETS.register("svhn")
def load_svhn(root: Path, download: bool) -> RawData:
    """SVHN cropped digits: 73,257 train and 26,032 test images (the 'extra' split is not used)."""

    def fetch() -> None:
        import torchvision.datasets

        for split in SPLITS:
            torchvision.datasets.SVHN(str(root / "SVHN"), split=split, download=True)

    layout = "<root>/SVHN/train_32x32.mat and <root>/SVHN/test_32x32.mat (official .mat files)"
    files = [f"SVHN/{f}" for f in SPLITS.values()]
    train, test = require(INFO.name, root, files, layout, download, fetch)
    x_train, y_train = read_svhn_mat(train)
    x_test, y_test = read_svhn_mat(test)
    return RawData(INFO, x_train, y_train, x_test, y_test)
