"""A user's own arrays in ``train.npz``/``test.npz``; also the reader of CIFAR-10's lossless npz."""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import require
from datadistill.datasets.info import DatasetInfo

STATS_CHUNK = 4096


@dataclass
class Arrays:
    """One split read from an npz file: images ``(N, C, H, W)``, labels, optional class names."""

    images: torch.Tensor
    labels: torch.Tensor
    class_names: tuple[str, ...] | None = None


def _check_images(path: Path, images: np.ndarray) -> np.ndarray:
    """``images`` as (N, H, W, C) with C in {1, 3}, uint8 or float32 in [0, 1]."""
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise DataFormatError(
            f"{path}: images have shape {images.shape}, expected (N, H, W) or (N, H, W, 1 or 3)"
        )
    if images.dtype == np.uint8:
        return images
    if images.dtype.kind != "f":
        raise DataFormatError(f"{path}: images are {images.dtype}, expected uint8 or float")
    if images.size and not (images.min() >= 0.0 and images.max() <= 1.0):
        raise DataFormatError(f"{path}: float images must lie in [0, 1]")
    return images.astype(np.float32)


def read_npz(path: Path) -> Arrays:
    """``images`` (N, H, W[, C]) and ``labels`` (N,) from an npz file, checked and channel-first.

    Pickled arrays are refused, so a data file cannot run code; zip members may be compressed
    (the lossless CIFAR-10 files use LZMA).
    """
    arrays: dict[str, np.ndarray] | None = None
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:
                arrays = {key: loaded[key] for key in loaded.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, lzma.LZMAError) as e:
        raise DataFormatError(f"{path}: not a readable .npz archive ({e})") from e
    if arrays is None:
        raise DataFormatError(f"{path}: a single array, expected an .npz archive")
    if "images" not in arrays or "labels" not in arrays:
        raise DataFormatError(
            f"{path}: expected arrays 'images' and 'labels', not {sorted(arrays)}"
        )
    images, labels = _check_images(path, arrays["images"]), arrays["labels"]
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(images):
        raise DataFormatError(
            f"{path}: labels are {labels.dtype} {labels.shape}, expected integers ({len(images)},)"
        )
    if len(labels) and labels.min() < 0:
        raise DataFormatError(f"{path}: negative labels")
    names = arrays.get("class_names")
    return Arrays(
        images=torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        labels=torch.from_numpy(labels.astype(np.int64)),
        class_names=None if names is None else tuple(str(n) for n in names.reshape(-1)),
    )


def channel_stats(images: torch.Tensor) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std of ``(N, C, H, W)`` images on the [0, 1] scale.

    Summed in float64 chunks, so a large uint8 set is never copied whole as floats. A constant
    channel gets std 1, so normalising it stays finite.
    """
    c = images.shape[1]
    total = torch.zeros(c, dtype=torch.float64)
    squares = torch.zeros(c, dtype=torch.float64)
    for chunk in images.split(STATS_CHUNK):
        v = chunk.double() / 255.0 if chunk.dtype == torch.uint8 else chunk.double()
        total += v.sum((0, 2, 3))
        squares += v.square().sum((0, 2, 3))
    n = max(images.numel() // c, 1)
    mean = total / n
    std = (squares / n - mean.square()).clamp_min(0).sqrt()
    std = torch.where(std > 0, std, torch.ones_like(std))
    return tuple(mean.tolist()), tuple(std.tolist())


def infer_info(
    name: str, train: Arrays, test: Arrays, class_names: tuple[str, ...] | None = None
) -> DatasetInfo:
    """The info of a user's dataset: shape and classes from the arrays, mean/std from train."""
    if len(train.labels) == 0:
        raise DataFormatError(f"{name}: the training split is empty")
    num_classes = int(torch.cat([train.labels, test.labels]).max()) + 1
    names = class_names or tuple(str(i) for i in range(num_classes))
    if len(names) < num_classes:
        raise DataFormatError(f"{name}: {len(names)} class names for labels 0..{num_classes - 1}")
    mean, std = channel_stats(train.images)
    return DatasetInfo(
        name=name,
        channels=train.images.shape[1],
        size=(train.images.shape[2], train.images.shape[3]),
        num_classes=len(names),
        class_names=names,
        mean=mean,
        std=std,
    )


@DATASETS.register("npz")
def load_npz(root: Path, download: bool) -> RawData:
    """Your own images: ``root`` is the folder holding ``train.npz`` and ``test.npz``."""
    layout = (
        "<root>/train.npz and <root>/test.npz, each with 'images' (N, H, W[, C]) uint8 or "
        "float in [0, 1] and 'labels' (N,) int; optional 'class_names'"
    )
    train_path, test_path = require("npz", root, ["train.npz", "test.npz"], layout, download)
    train, test = read_npz(train_path), read_npz(test_path)
    if train.images.shape[1:] != test.images.shape[1:]:
        raise DataFormatError(
            f"{test_path}: images of shape {tuple(test.images.shape[1:])}, "
            f"train has {tuple(train.images.shape[1:])}"
        )
    info = infer_info("npz", train, test, train.class_names)
    return RawData(info, train.images, train.labels, test.images, test.labels)
