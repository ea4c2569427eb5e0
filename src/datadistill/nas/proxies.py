"""The data a candidate is trained on: a proxy (a set file, a teaching network's images, a random
real subset, real data) or the ground truth (the real training split, a longer budget).

A proxy is written ``KIND`` or ``KIND:FILE`` (``set:runs/dm.pt``, ``gtn:runs/gen.safetensors``,
``random``, ``real``); each kind is one function in ``PROXY_KINDS``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.registry import Registry
from datadistill.synset import SyntheticSet


@dataclass
class ProxyData:
    """Training images and hard labels, and what identifies them for the results cache."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    identity: str
    ordered_batch: int = 0  # > 0: consecutive batches of this size in order (a curriculum)


ProxyKind = Callable[[str, DataSplits, int, int], ProxyData]
PROXY_KINDS: Registry[ProxyKind] = Registry("proxy kind")


def _file_hash(path: str) -> str:
    if not Path(path).is_file():
        raise ValueError(f"proxy file {path} does not exist")
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _from_set(name: str, synset: SyntheticSet, data: DataSplits, identity: str) -> ProxyData:
    if synset.info.shape != data.info.shape or synset.info.num_classes != data.info.num_classes:
        raise ValueError(f"proxy {name}: its images do not match {data.info.name}")
    if (synset.zca is None) != (data.zca is None):
        raise ValueError(f"proxy {name}: one of the set and the dataset is ZCA-whitened")
    return ProxyData(name, synset.images.detach(), synset.hard_labels, identity)


@PROXY_KINDS.register("set")
def set_proxy(arg: str, data: DataSplits, ipc: int, seed: int) -> ProxyData:
    """A saved set (any method's) as it is."""
    if not arg:
        raise ValueError("the set proxy needs a file: set:PATH")
    return _from_set(f"set:{Path(arg).name}", SyntheticSet.load(arg), data, _file_hash(arg))


@PROXY_KINDS.register("gtn")
def gtn_proxy(arg: str, data: DataSplits, ipc: int, seed: int) -> ProxyData:
    """A trained teaching network's data as its learners saw it: its learned curriculum, batch
    by batch in step order; without one, ``ipc`` emitted images per class."""
    if not arg:
        raise ValueError("the gtn proxy needs a generator file: gtn:PATH")
    from datadistill.gtn import load_generator

    gen = load_generator(arg)
    name, digest = f"gtn:{Path(arg).stem}", _file_hash(arg)
    taught = gen.curriculum()
    if taught is None:
        synset = gen.emit(ipc, seed=seed)
        return _from_set(name, synset, data, f"{digest}-ipc{ipc}-seed{seed}")
    images, labels = taught
    if tuple(images.shape[1:]) != data.info.shape:
        raise ValueError(f"proxy {name}: its images do not match {data.info.name}")
    batch = gen.config.batch_size
    return ProxyData(name, images, labels, f"{digest}-curriculum", ordered_batch=batch)


@PROXY_KINDS.register("random")
def random_proxy(arg: str, data: DataSplits, ipc: int, seed: int) -> ProxyData:
    """``ipc`` random real training images per class."""
    g = torch.Generator().manual_seed(seed)
    labels = data.train.labels
    index = torch.cat(
        [
            (labels == c)
            .nonzero()
            .flatten()[torch.randperm(int((labels == c).sum()), generator=g)[:ipc]]
            for c in range(data.info.num_classes)
        ]
    )
    return ProxyData("random", data.train.images[index], labels[index], f"ipc{ipc}-seed{seed}")


@PROXY_KINDS.register("real")
def real_proxy(arg: str, data: DataSplits, ipc: int, seed: int) -> ProxyData:
    """The whole real training split (trained for as many steps as the other proxies)."""
    return ProxyData("real", data.train.images, data.train.labels, "train")


def parse_proxy(spec: str, data: DataSplits, ipc: int, seed: int) -> ProxyData:
    kind, _, arg = spec.partition(":")
    return PROXY_KINDS.get(kind)(arg, data, ipc, seed)
