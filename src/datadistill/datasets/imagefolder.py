"""A user's own images in class sub-folders: ``<root>/{train,test}/<class>/<image>``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from datadistill.datasets.base import DATASETS, DataFormatError, RawData
from datadistill.datasets.files import require
from datadistill.datasets.npz import Arrays, infer_info

EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


def _class_dirs(split_dir: Path) -> list[str]:
    """The sorted sub-folder names of ``split_dir``, hidden ones left out."""
    return sorted(d.name for d in split_dir.iterdir() if d.is_dir() and not d.name.startswith("."))


def _image_files(split_dir: Path, classes: list[str]) -> list[tuple[Path, int]]:
    """Every image under ``split_dir/<class>/``, sorted, with its class index."""
    unknown = sorted(set(_class_dirs(split_dir)) - set(classes))
    if unknown:
        raise DataFormatError(f"{split_dir}: class folders {unknown} do not exist in train")
    return [
        (path, label)
        for label, name in enumerate(classes)
        if (split_dir / name).is_dir()
        for path in sorted((split_dir / name).iterdir())
        if path.suffix.lower() in EXTENSIONS
    ]


def _check_no_empty_class(
    split_dir: Path, classes: list[str], files: list[tuple[Path, int]]
) -> None:
    """Refuse a class folder without images now, naming it, rather than fail later on its size."""
    present = {label for _, label in files}
    empty = [split_dir / name for label, name in enumerate(classes) if label not in present]
    if empty:
        listed = ", ".join(str(d) for d in empty)
        raise DataFormatError(
            f"{listed}: no images (png, jpg, ...); every class folder under {split_dir} needs at "
            "least one image, or remove the folder"
        )


def _read_image(path: Path, mode: str | None = None) -> np.ndarray:
    """The pixels of ``path`` in ``mode``; by default "L" if grey, else "RGB"."""
    try:
        with Image.open(path) as image:
            target = mode or ("L" if image.mode in GREY_MODES else "RGB")
            return np.asarray(image.convert(target))
    except (UnidentifiedImageError, OSError) as e:
        raise DataFormatError(f"{path}: not a readable image ({e})") from e


def read_split(files: list[tuple[Path, int]], mode: str, shape: tuple[int, ...]) -> Arrays:
    """Decode ``files`` in ``mode`` ("L" or "RGB"); every image must have ``shape`` (H, W[, C])."""
    images = []
    for path, _ in files:
        pixels = _read_image(path, mode)
        if pixels.shape != shape:
            raise DataFormatError(
                f"{path}: size {pixels.shape[1]}×{pixels.shape[0]}, but the first image is "
                f"{shape[1]}×{shape[0]}; all images must share one size"
            )
        images.append(pixels.reshape(shape[0], shape[1], -1))
    x = np.stack(images) if images else np.zeros((0, shape[0], shape[1], len(mode)), np.uint8)
    labels = np.array([label for _, label in files], dtype=np.int64)
    return Arrays(torch.from_numpy(x).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels))


@DATASETS.register("imagefolder")
def load_imagefolder(root: Path, download: bool) -> RawData:
    """Your own images: classes are the sorted sub-folder names of ``<root>/train``; grey or RGB
    follows the first image and every image is converted to it."""
    layout = "<root>/train/<class>/<image> and <root>/test/<class>/<image> (png, jpg, ...)"
    train_dir, test_dir = require("imagefolder", root, ["train", "test"], layout, download)
    classes = _class_dirs(train_dir)
    if len(classes) < 2:
        raise DataFormatError(
            f"{train_dir}: {len(classes)} class folder(s) {classes}; a dataset needs at least "
            f"2 classes, laid out as {layout}"
        )
    train_files = _image_files(train_dir, classes)
    _check_no_empty_class(train_dir, classes, train_files)
    first = _read_image(train_files[0][0])
    mode = "L" if first.ndim == 2 else "RGB"
    train = read_split(train_files, mode, first.shape)
    test = read_split(_image_files(test_dir, classes), mode, first.shape)
    info = infer_info("imagefolder", train, test, tuple(classes))
    return RawData(info, train.images, train.labels, test.images, test.labels)
