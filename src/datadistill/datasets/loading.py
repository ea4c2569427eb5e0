"""``load_dataset``: raw loader → normalised in-memory tensors → seeded validation split → optional ZCA."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from datadistill.datasets.base import DATASETS, DataFormatError, RawData, resolve_root
from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.datasets.zca import ZCA

if TYPE_CHECKING:
    from datadistill.synset import SyntheticSet


def _to_float(x: torch.Tensor) -> torch.Tensor:
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()


def _check(raw: RawData) -> None:
    """Refuse what no method can use: fewer than 2 classes, shapes or labels that do not fit."""
    info = raw.info
    if info.num_classes < 2:
        raise DataFormatError(
            f"{info.name}: {info.num_classes} class(es); a dataset needs at least 2 classes"
        )
    for split, x, y in (("train", raw.x_train, raw.y_train), ("test", raw.x_test, raw.y_test)):
        if x.ndim != 4 or tuple(x.shape[1:]) != info.shape:
            raise DataFormatError(
                f"{info.name}: {split} images have shape {tuple(x.shape)}, expected (N, {info.shape})"
            )
        if y.shape != (x.shape[0],):
            raise DataFormatError(f"{info.name}: {split} has {x.shape[0]} images, {y.shape} labels")
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= info.num_classes):
            raise DataFormatError(f"{info.name}: {split} labels outside 0..{info.num_classes - 1}")


def validation_indices(
    labels: torch.Tensor, num_classes: int, size: float | int, seed: int
) -> torch.Tensor:
    """A stratified, seeded validation subset: ``size`` is a fraction or a total count."""
    counts = torch.bincount(labels, minlength=num_classes)
    g = torch.Generator().manual_seed(seed)
    chosen = []
    for c in range(num_classes):
        ix = torch.nonzero(labels == c).flatten()
        k = (
            round(float(size) * len(ix))
            if isinstance(size, float)
            else round(size * int(counts[c]) / len(labels))
        )
        k = min(k, len(ix) - 1)
        chosen.append(ix[torch.randperm(len(ix), generator=g)[:k]])
    return torch.sort(torch.cat(chosen)).values


def load_dataset(
    name: str,
    root: str | os.PathLike[str] | None = None,
    *,
    val_size: float | int = 0.1,
    val_seed: int = 0,
    zca: bool = False,
    zca_reg: float = 0.1,
    download: bool = False,
    device: str | torch.device = "cpu",
    flip: bool | None = None,
) -> DataSplits:
    """Load ``name`` as normalised tensors with a fixed validation split carved from train.

    ``root`` falls back to ``$DATADISTILL_DATA`` and then the user cache; the root is only read
    (downloads, when asked for, go there too). ``val_size`` is a fraction of the training set or a
    number of images; the split is stratified and fixed by ``val_seed``. The result's ``root`` is
    the resolved data root, so a saved set can find its data again.

    ``flip`` says whether a horizontal flip keeps an image's class; DSA/DM augmentation and the
    evaluation's augmentation read it from ``info.flip``. ``None`` keeps the loader's value (true
    for CIFAR, false for the MNIST family, USPS and SVHN); ``npz`` and ``imagefolder`` assume true,
    which is wrong for digits or characters: pass ``flip=False`` there.
    """
    loader = DATASETS.get(name)
    data_root = resolve_root(root)
    raw = loader(data_root, download)
    return splits_from_raw(
        raw,
        data_root,
        val_size=val_size,
        val_seed=val_seed,
        zca=zca,
        zca_reg=zca_reg,
        device=device,
        flip=flip,
    )


def load_for_set(
    synset: SyntheticSet,
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    device: str | torch.device = "cpu",
) -> DataSplits:
    """The splits ``synset`` was made from, loaded with the settings it stores: ZCA and its
    regulariser, the validation seed, whether flips keep classes, and for a text corpus its
    embedding settings. A saved set is evaluated or trained on exactly its own data."""
    if synset.info.extra.get("modality") == "text":
        from datadistill.text import text_of_set

        return text_of_set(synset, root, download=download, device=device).splits
    return load_dataset(
        synset.info.name,
        root,
        download=download,
        device=device,
        zca=synset.zca is not None,
        zca_reg=synset.zca.reg if synset.zca else 0.1,
        val_seed=int(synset.meta.get("val_seed", 0)),
        flip=synset.info.flip,
    )


def splits_from_raw(
    raw: RawData,
    data_root: Path,
    *,
    val_size: float | int = 0.1,
    val_seed: int = 0,
    zca: bool = False,
    zca_reg: float = 0.1,
    device: str | torch.device = "cpu",
    flip: bool | None = None,
) -> DataSplits:
    """A loader's ``RawData`` checked, normalised and split as ``load_dataset`` does."""
    _check(raw)
    info = raw.info if flip is None else dataclasses.replace(raw.info, flip=flip)
    mean = torch.tensor(info.mean).view(1, -1, 1, 1)
    std = torch.tensor(info.std).view(1, -1, 1, 1)
    x_train = (_to_float(raw.x_train) - mean) / std
    x_test = (_to_float(raw.x_test) - mean) / std
    y_train, y_test = raw.y_train.long(), raw.y_test.long()

    val_ix = validation_indices(y_train, info.num_classes, val_size, val_seed)
    keep = torch.ones(len(y_train), dtype=torch.bool)
    keep[val_ix] = False
    transform = None
    if zca:
        transform = ZCA.fit(x_train[keep], zca_reg)
        x_train, x_test = transform(x_train), transform(x_test)
    splits = DataSplits(
        info=info,
        train=TensorSet(x_train[keep], y_train[keep], info.num_classes),
        val=TensorSet(x_train[val_ix], y_train[val_ix], info.num_classes),
        test=TensorSet(x_test, y_test, info.num_classes),
        zca=transform,
        val_seed=val_seed,
        root=data_root.resolve(),
    )
    return splits.to(device)
