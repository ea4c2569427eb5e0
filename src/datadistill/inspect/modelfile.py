"""Trained networks as files: safetensors weights plus one JSON document (architecture, dataset
info with its normalisation, what it was trained on, test accuracy), beside a readable copy.

``train_model`` trains one network with the evaluation protocol's loop, on a dataset's whole
training split or on a set; ``save_model`` / ``load_model`` write and read it. Loading executes no
code. Every inspection tool takes such a file, a ``TrainedModel`` or any ``torch.nn.Module``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from torch import nn

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import DataSplits
from datadistill.synset import SyntheticSet, git_commit

FORMAT = "datadistill.model"
FORMAT_VERSION = 1
WEIGHTS = "model.safetensors"
FULL_DATA_EPOCHS = 5  # the protocol's 300 epochs are for a few images, not a whole training split


class ModelFileError(ValueError):
    """A model file that is missing, damaged, foreign or inconsistent with its architecture."""


@dataclass
class TrainedModel:
    """A network with what is needed to use it again: its registry name and dataset info."""

    model: nn.Module
    architecture: str
    info: DatasetInfo
    meta: dict[str, Any] = field(default_factory=dict)


def train_model(
    data: DataSplits,
    architecture: str = "convnet",
    *,
    synset: SyntheticSet | None = None,
    epochs: int | None = None,
    seed: int = 0,
    progress: bool = True,
) -> TrainedModel:
    """Train one ``architecture`` network with the protocol's loop on ``synset`` (by default the
    whole training split, for ``FULL_DATA_EPOCHS`` epochs) and test it on the test split."""
    from datadistill.evaluation import EvalConfig, evaluate
    from datadistill.evaluation.protocol import full_set

    trained_on = synset if synset is not None else full_set(data)
    if synset is None and epochs is None:
        epochs = FULL_DATA_EPOCHS
    cfg = EvalConfig(models=[architecture], runs=1, epochs=epochs, seed=seed)
    ev = evaluate(trained_on, data, cfg, progress=progress, keep_models=True)
    result = ev.results[architecture]
    meta = {
        "trained_on": "full training split" if synset is None else f"{synset.method} set",
        "train_images": int(trained_on.images.shape[0]),
        "epochs": result.epochs,
        "augment": result.augment,
        "seed": seed,
        "test_accuracy": round(result.accs[0], 3),
        "torch": torch.__version__,
        "commit": git_commit(),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    model = ev.models[architecture][0].eval()
    return TrainedModel(model, architecture, data.info, meta)


def save_model(trained: TrainedModel, folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/model.safetensors`` (weights + JSON metadata) and ``folder/model.json``
    (the same document, to read), each atomically; returns the weights' path."""
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": trained.architecture,
        "info": trained.info.to_dict(),
        "meta": trained.meta,
    }
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    metadata = {FORMAT: json.dumps(doc)}
    path = write_atomically(
        folder / WEIGHTS, lambda tmp: save_file(state, str(tmp), metadata=metadata)
    )
    write_atomically(folder / "model.json", lambda tmp: tmp.write_text(json.dumps(doc, indent=2)))
    return path


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> TrainedModel:
    """Read a model saved by ``save_model`` (its folder or its ``.safetensors`` file), in eval
    mode; any problem is a ``ModelFileError`` naming the file."""
    from safetensors import safe_open

    from datadistill.models import create_model

    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(FORMAT)
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises several types for damaged files
        raise ModelFileError(
            f"{path}: not a readable model file ({type(e).__name__}: {e})"
        ) from None
    try:
        doc = json.loads(raw) if raw is not None else None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ModelFileError(f"{path}: not a datadistill model file")
        if doc.get("format_version", 0) > FORMAT_VERSION:
            raise ModelFileError(f"{path}: written by a newer datadistill")
        info = DatasetInfo.from_dict(doc["info"])
        model = create_model(doc["architecture"], info)
        model.load_state_dict(state)
    except ModelFileError:
        raise
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{path}: inconsistent model file ({type(e).__name__}: {e})") from None
    return TrainedModel(model.to(device).eval(), doc["architecture"], info, doc.get("meta", {}))


def as_module(model: nn.Module | TrainedModel | str | os.PathLike[str]) -> nn.Module:
    """Any of the accepted forms of a network as an ``nn.Module`` in eval mode."""
    if isinstance(model, (str, os.PathLike)):
        model = load_model(model)
    if isinstance(model, TrainedModel):
        model = model.model
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected a model file, TrainedModel or nn.Module, got {type(model)}")
    return model.eval()
