"""Feature spaces for selection: raw pixels, or a ConvNet trained once on the training split.

The trained network is cached under the user cache directory, keyed by a hash of everything that
determines it (dataset, split, the training images' content, model, training settings, seed), so
herding, k-center and k-means share one training run across methods, IPCs and sessions, and two
datasets that only share a name and a size never share a network.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from datadistill.datasets.base import default_root
from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.evaluation.train import fit_split
from datadistill.models import create_seeded_model, forward_in_chunks


@dataclass(frozen=True)
class EmbedderConfig:
    """The network whose penultimate features define distances (DC's coreset baselines use a
    ConvNet trained on the whole training set)."""

    model: str = "convnet"
    epochs: int = 2
    lr: float = 0.01
    batch_size: int = 256
    seed: int = 0


FINGERPRINT_CHUNK = 1 << 24  # bytes hashed per step: a GPU split is copied over this much at a time


def cache_dir() -> Path:
    return default_root() / "embedders"


def fingerprint(split: TensorSet) -> str:
    """A hash of the exact content of ``split`` (images and labels, with their shapes and dtypes).

    Hashed in chunks of rows, so a split on a GPU is never copied to the host whole and one on the
    CPU is read in place."""
    h = hashlib.blake2b(digest_size=16)
    for t in (split.images, split.labels):
        h.update(f"{t.dtype}{tuple(t.shape)}".encode())
        row_bytes = max(math.prod(t.shape[1:]) * t.element_size(), 1)
        for chunk in t.detach().split(max(FINGERPRINT_CHUNK // row_bytes, 1)):
            h.update(chunk.cpu().contiguous().view(torch.uint8).numpy())
    return h.hexdigest()


def _key(data: DataSplits, cfg: EmbedderConfig) -> str:
    ident = {
        "dataset": data.info.name,
        "n_train": len(data.train),
        "content": fingerprint(data.train),
        "val_seed": data.val_seed,
        "zca": data.zca is not None,
        **asdict(cfg),
    }
    return hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]


def trained_embedder(
    data: DataSplits, cfg: EmbedderConfig, cache: bool = True, progress: bool = True
) -> nn.Module:
    """A network trained on ``data.train`` with ``cfg``, loaded from the cache when it is there.

    Training takes about a minute on a full dataset, so it shows a progress bar unless
    ``progress=False``."""
    from safetensors.torch import load_file, save_file

    device = data.train.images.device
    model = create_seeded_model(cfg.model, data.info, cfg.seed, device)
    path = cache_dir() / f"{data.info.name}-{cfg.model}-{_key(data, cfg)}.safetensors"
    if cache and path.is_file():
        try:
            model.load_state_dict(load_file(str(path), device=str(device)))
            return model.eval()
        except Exception:  # a damaged cache entry is retrained, never trusted
            path.unlink(missing_ok=True)
    desc = None
    if progress:
        desc = f"training the {cfg.model} embedder" + (" (cached for next runs)" if cache else "")
    fit_split(
        model,
        data.train,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        generator=torch.Generator().manual_seed(cfg.seed),
        progress=desc,
    )
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp)
        )
        tmp.replace(path)
    return model.eval()


def embed(model: nn.Module | None, images: torch.Tensor) -> torch.Tensor:
    """Features of ``images``: ``model.embed`` in chunks, or flattened pixels when ``model`` is None."""
    if model is None:
        return images.flatten(1)
    model.eval()
    return forward_in_chunks(model.embed, images)


def embedding_model(
    data: DataSplits, space: str, cfg: EmbedderConfig, progress: bool = True
) -> nn.Module | None:
    """``space`` is ``"convnet"`` (a trained network) or ``"pixels"`` (no network)."""
    if space == "pixels":
        return None
    if space == "convnet":
        return trained_embedder(data, cfg, progress=progress)
    raise ValueError(f"unknown embedding space {space!r}; use 'convnet' or 'pixels'")
