"""MNIST, Fashion-MNIST and KMNIST: 28×28 grey images in IDX files, torchvision's folder layout."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import read_bytes, require
from datadistill.datasets.info import DatasetInfo

IDX_UBYTE = 0x08
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
DIGITS = tuple(str(i) for i in range(10))

MNIST_INFO = DatasetInfo(
    name="mnist",
    channels=1,
    size=(28, 28),
    num_classes=10,
    class_names=DIGITS,
    mean=(0.1307,),
    std=(0.3081,),
    eval_augment="dc",
    flip=False,
)
FASHION_INFO = DatasetInfo(
    name="fashion-mnist",
    channels=1,
    size=(28, 28),
    num_classes=10,
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    mean=(0.2861,),
    std=(0.3530,),
    flip=False,
)
KMNIST_INFO = DatasetInfo(
    name="kmnist",
    channels=1,
    size=(28, 28),
    num_classes=10,
    class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    mean=(0.1918,),
    std=(0.3483,),
    flip=False,
)


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (``.gz`` or not) as an array shaped by its header.

    The magic number, the header and the exact byte count are checked, so a truncated or foreign
    file fails here with its name rather than as a reshape error later.
    """
    data = read_bytes(path)
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != IDX_UBYTE or data[3] == 0:
        raise DataFormatError(f"{path}: not an IDX file of unsigned bytes (magic {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{path}: IDX header truncated ({len(data)} bytes)")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = header + math.prod(dims)
    if len(data) != expected:
        raise DataFormatError(
            f"{path}: {len(data)} bytes, but its IDX header {dims} needs {expected} (truncated?)"
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


def _read_split(
    images_path: Path, labels_path: Path, info: DatasetInfo
) -> tuple[torch.Tensor, torch.Tensor]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.shape[1:] != info.size:
        h, w = info.size
        raise DataFormatError(
            f"{images_path}: images of shape {images.shape}, expected (N, {h}, {w})"
        )
    if labels.shape != images.shape[:1]:
        raise DataFormatError(
            f"{labels_path}: labels of shape {labels.shape} for {images.shape[0]} images"
        )
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


def load_idx_dataset(root: Path, download: bool, folder: str, info: DatasetInfo) -> RawData:
    """The loader of the three: ``<root>/<folder>/raw/*-ubyte[.gz]``, fetched by torchvision's class
    of the same name as ``folder`` (which downloads all four files at once)."""

    def fetch() -> None:
        import torchvision.datasets

        getattr(torchvision.datasets, folder)(str(root), train=True, download=True)

    layout = f"<root>/{folder}/raw/{{train,t10k}}-{{images-idx3,labels-idx1}}-ubyte[.gz]"
    files = [f"{folder}/raw/{f}" for f in FILES]
    train_x, train_y, test_x, test_y = require(info.name, root, files, layout, download, fetch)
    x_train, y_train = _read_split(train_x, train_y, info)
    x_test, y_test = _read_split(test_x, test_y, info)
    return RawData(info, x_train, y_train, x_test, y_test)


@DATASETS.register("mnist")
def load_mnist(root: Path, download: bool) -> RawData:
    """MNIST handwritten digits: 60,000 train and 10,000 test images."""
    return load_idx_dataset(root, download, "MNIST", MNIST_INFO)


@DATASETS.register("fashion-mnist")
def load_fashion_mnist(root: Path, download: bool) -> RawData:
    """Fashion-MNIST: Zalando clothing photos in MNIST's format (60,000 / 10,000)."""
    return load_idx_dataset(root, download, "FashionMNIST", FASHION_INFO)


@DATASETS.register("kmnist")
def load_kmnist(root: Path, download: bool) -> RawData:
    """Kuzushiji-MNIST: cursive Japanese characters in MNIST's format (60,000 / 10,000)."""
    return load_idx_dataset(root, download, "KMNIST", KMNIST_INFO)
