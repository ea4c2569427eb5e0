"""The evaluation protocol: N seeded runs × several architectures → per-run accuracy, mean ± std."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from datadistill.datasets.augmentation import create_augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.evaluation.config import EvalConfig
from datadistill.evaluation.grouped import groupable
from datadistill.evaluation.train import (
    accuracy,
    fit,
    fit_as_distilled,
    fit_batched,
    fit_grouped,
)
from datadistill.models import create_seeded_model, has_batchnorm
from datadistill.models.compiled import compiled
from datadistill.synset import SetFileError, SyntheticSet


class DatasetMismatchError(ValueError):
    """A set evaluated against a dataset it was not made from."""


@dataclass
class ModelResult:
    """Accuracies (percent) of one architecture over the protocol's runs."""

    model: str
    accs: list[float]
    seconds_per_run: float
    epochs: int
    augment: str

    @property
    def mean(self) -> float:
        return float(np.mean(self.accs))

    @property
    def std(self) -> float:
        return float(np.std(self.accs))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mean": self.mean, "std": self.std}


@dataclass
class Evaluation:
    """The outcome of ``evaluate``: one ``ModelResult`` per architecture, plus the config used."""

    results: dict[str, ModelResult]
    config: EvalConfig
    n_images: int
    relative: dict[str, dict[str, float]] = field(default_factory=dict)
    references: dict[str, dict[str, ModelResult]] = field(default_factory=dict)
    models: dict[str, list[torch.nn.Module]] = field(default_factory=dict)  # with keep_models

    def table(self) -> str:
        lines = [f"{'model':<16} {'accuracy (%)':>16} {'runs':>5} {'s/run':>8}"]
        for r in self.results.values():
            lines.append(
                f"{r.model:<16} {r.mean:>8.2f} ± {r.std:<5.2f} {len(r.accs):>5} {r.seconds_per_run:>8.1f}"
            )
        for name, refs in self.references.items():
            for r in refs.values():
                label = f"{r.model} [{name}]"
                lines.append(
                    f"{label:<16} {r.mean:>8.2f} ± {r.std:<5.2f} {len(r.accs):>5} "
                    f"{r.seconds_per_run:>8.1f}"
                )
        for name, rel in self.relative.items():
            cells = ", ".join(f"{m}: {v:.3f}" for m, v in rel.items())
            lines.append(f"relative to {name}: {cells}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": asdict(self.config),
            "n_images": self.n_images,
            "results": {k: v.to_dict() for k, v in self.results.items()},
            "relative": self.relative,
            "references": {
                k: {m: r.to_dict() for m, r in v.items()} for k, v in self.references.items()
            },
        }


def run_seeds(seed: int, runs: int) -> list[int]:
    """The per-run seeds derived from one base seed (the same for every architecture)."""
    g = torch.Generator().manual_seed(seed)
    return torch.randint(2**31 - 1, (runs,), generator=g).tolist()


def check_compatible(synset: SyntheticSet, data: DataSplits) -> None:
    """Refuse to evaluate a set against a dataset with another shape, class count or whitening."""
    a, b = synset.info, data.info
    if (a.name, a.shape, a.num_classes) != (b.name, b.shape, b.num_classes):
        raise DatasetMismatchError(
            f"set was made from {a.name} {a.shape} with {a.num_classes} classes, "
            f"but the dataset is {b.name} {b.shape} with {b.num_classes} classes"
        )
    if (synset.zca is None) != (data.zca is None):
        state = "ZCA-whitened" if synset.zca is not None else "not whitened"
        raise DatasetMismatchError(f"set is {state} but the dataset is not loaded the same way")


def _use_batched(
    cfg: EvalConfig, model: torch.nn.Module, device: torch.device, distilled: bool
) -> bool:
    if distilled or has_batchnorm(model) or cfg.compile:
        return False
    if cfg.batched == "auto":
        return device.type == "cuda"
    return cfg.batched == "yes"


def evaluate(
    synset: SyntheticSet,
    data: DataSplits,
    config: EvalConfig | None = None,
    *,
    progress: bool = True,
    keep_models: bool = False,
) -> Evaluation:
    """Train ``config.runs`` fresh models per architecture on ``synset`` and test each once
    (``keep_models``: the trained networks are kept in ``Evaluation.models``).

    A set with learned learning rates (``synset.lrs``) is trained as it was distilled; any other
    set with the field's SGD protocol. Scores are on ``data.test`` (or ``data.val`` when
    ``config.split == "val"``, which is what methods use for their own choices).
    """
    cfg = config or EvalConfig()
    check_compatible(synset, data)
    device = data.train.images.device
    synset = synset.to(device)
    target = data.test if cfg.split == "test" else data.val
    augment = cfg.resolved_augment(data.info)
    epochs = cfg.resolved_epochs(data.info)
    aug_kwargs = {"strategy": cfg.dsa_strategy} if augment == "dsa" else {}
    aug = create_augmentation(augment, flip=data.info.flip, **aug_kwargs)
    seeds = run_seeds(cfg.seed, cfg.runs)
    distilled = synset.lrs is not None
    names = cfg.resolved_models(synset)
    tied = synset.initialisation
    owner = synset.config.get("model")
    if tied and owner and names != [owner]:
        raise DatasetMismatchError(
            f"this set is tied to one initialisation of {owner!r}; "
            f"it cannot train {', '.join(names)}"
        )
    scheme = synset.meta.get("weight_init", "default") if distilled else "default"
    loss = cfg.resolved_loss(synset)
    if loss == "ce-hard" and synset.soft:
        synset = dataclasses.replace(synset, labels=synset.hard_labels)
    loss = "ce" if loss == "ce-hard" else loss
    if loss == "mse":  # regression targets: label vectors, centred as the set was fitted
        labels = synset.labels if synset.soft else F.one_hot(synset.labels, data.info.num_classes)
        offset = float(synset.meta.get("label_offset", 0.0))
        synset = dataclasses.replace(synset, labels=labels.float() - offset)
    results: dict[str, ModelResult] = {}
    kept: dict[str, list[torch.nn.Module]] = {}
    total = len(names) * cfg.runs * (1 if distilled else epochs)
    bar = tqdm(total=total, desc="evaluate", disable=not progress, leave=False)
    for name in names:
        start = time.perf_counter()
        models = [create_seeded_model(name, data.info, s, device, scheme) for s in seeds]
        gens = [torch.Generator().manual_seed(s) for s in seeds]
        train_kw = dict(
            loss=loss,
            epochs=epochs,
            lr=cfg.resolved_lr(synset),
            momentum=cfg.momentum,
            weight_decay=cfg.weight_decay,
            batch_size=cfg.batch_size,
            augmentation=aug,
            tick=bar.update if not distilled else None,
        )
        amp = torch.autocast(  # no weight cache: the weights change within this one context
            device.type, dtype=torch.bfloat16, enabled=cfg.amp == "bf16", cache_enabled=False
        )
        with amp:  # parameters and optimiser state stay float32; only the ops run in bf16
            if distilled:
                steps = int(
                    synset.meta.get("steps") or synset.config.get("steps") or len(synset.lrs)
                )
                for m in models:
                    fit_as_distilled(m, synset.images, synset.labels, synset.lrs, steps, tied)
                    bar.update(1)
            elif cfg.batched == "grouped":
                if not groupable(models[0]) or loss != "ce":
                    raise ValueError(
                        f"batched=grouped trains ConvNets without batch norm on cross-entropy; "
                        f"{name} with loss {loss} cannot"
                    )
                fit_grouped(models, synset.images, synset.labels, generators=gens, **train_kw)
            elif _use_batched(cfg, models[0], device, distilled):
                fit_batched(models, synset.images, synset.labels, generators=gens, **train_kw)
            else:
                for m, g in zip(models, gens, strict=True):
                    forward = compiled(m) if cfg.compile else None
                    fit(m, synset.images, synset.labels, generator=g, forward=forward, **train_kw)
            accs = [
                accuracy(m, target, cfg.test_batch_size, compiled(m) if cfg.compile else None)
                for m in models
            ]
        elapsed = time.perf_counter() - start
        results[name] = ModelResult(name, accs, elapsed / cfg.runs, epochs, augment)
        if keep_models:
            kept[name] = models
    bar.close()
    return Evaluation(results, cfg, int(synset.images.shape[0]), models=kept)


def compare_to(
    evaluation: Evaluation,
    synset: SyntheticSet,
    data: DataSplits,
    references: tuple[str, ...] = ("random",),
    progress: bool = True,
) -> Evaluation:
    """Score ``synset`` relative to references trained on the same protocol: ``random`` (random
    real images, as many per class as the set has) and ``full`` (the whole training split; costly).
    Adds, per architecture, our mean accuracy ÷ the reference's to ``evaluation.relative``."""
    from datadistill.methods import distill

    for ref in references:
        if ref == "random":
            ipc = max(1, -(-len(synset.images) // data.info.num_classes))
            ref_set = distill(data, "random", ipc, seed=evaluation.config.seed, progress=False)
        elif ref == "full":
            ref_set = full_set(data)
        else:
            raise ValueError(f"unknown reference {ref!r}; use 'random' or 'full'")
        results = evaluate(ref_set, data, evaluation.config, progress=progress).results
        evaluation.references[ref] = results
        evaluation.relative[ref] = {
            m: r.mean / max(results[m].mean, 1e-9) for m, r in evaluation.results.items()
        }
    return evaluation


def full_set(data: DataSplits) -> SyntheticSet:
    """The whole training split as a 'set', for the full-data reference on the same protocol."""
    return SyntheticSet(
        data.train.images, data.train.labels, data.info, method="full", zca=data.zca
    )


__all__ = [
    "DatasetMismatchError",
    "Evaluation",
    "ModelResult",
    "SetFileError",
    "check_compatible",
    "compare_to",
    "evaluate",
    "full_set",
    "run_seeds",
]
