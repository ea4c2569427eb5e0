"""``forgetting``: count forgetting events (correct → wrong between two presentations) per example
while training a network on the whole training split (Toneva et al. 2019); keep, per class, the
most (or least) forgotten. Examples never learned count as forgotten infinitely often."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.evaluation.train import fit_split
from datadistill.methods import METHODS
from datadistill.models import create_seeded_model, draw_seed
from datadistill.selection.base import SelectionMethod
from datadistill.settings import at_least, positive


@dataclass
class ForgettingConfig:
    model: str = "convnet"
    epochs: int = 3
    lr: float = 0.01
    batch_size: int = 256
    order: str = "most"

    def __post_init__(self) -> None:
        at_least(self, 1, "epochs", "batch_size")
        positive(self, "lr")
        if self.order not in ("most", "least"):
            raise ValueError(f"order must be 'most' or 'least', got {self.order!r}")


def forgetting_scores(
    data: DataSplits, cfg: ForgettingConfig, generator: torch.Generator
) -> torch.Tensor:
    """Forgetting events per training example (``inf`` for examples never classified correctly)."""
    n, device = len(data.train), data.train.images.device
    previous = torch.zeros(n, dtype=torch.bool, device=device)
    learned = torch.zeros(n, dtype=torch.bool, device=device)
    events = torch.zeros(n, device=device)

    def on_batch(ix: torch.Tensor, logits: torch.Tensor) -> None:
        correct = logits.argmax(1) == data.train.labels[ix]
        events[ix] += (previous[ix] & ~correct).float()
        previous[ix] = correct
        learned[ix] |= correct

    model = create_seeded_model(cfg.model, data.info, draw_seed(generator), device)
    fit_split(
        model,
        data.train,
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
        generator=generator,
        on_batch=on_batch,
    )
    return torch.where(learned, events, torch.full_like(events, float("inf")))


@METHODS.register("forgetting")
class Forgetting(SelectionMethod):
    Config = ForgettingConfig
    summary = "most (or least) forgotten examples while training on the full set"

    def select(self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True):
        scores = forgetting_scores(data, self.config, generator)
        sign = -1.0 if self.config.order == "most" else 1.0
        chosen = []
        for c in range(data.info.num_classes):
            ix = data.train.indices_of(c)
            s = scores[ix]
            tiebreak = torch.rand(len(ix), generator=generator).to(s.device)
            key = torch.where(torch.isinf(s), torch.full_like(s, 1e9), s)
            order = torch.argsort(sign * key * 2 + tiebreak)  # ties in score broken at random
            chosen.append(ix[order[:ipc]])
        chosen = torch.cat(chosen)
        return chosen, scores[chosen]
