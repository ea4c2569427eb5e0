"""``best-of-random``: draw many random class-balanced subsets, score each by training a network on
it and testing on the **validation** split, keep the best 20% and return the best (the DD paper's
"optimized real" baseline)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from datadistill.datasets.tensorset import DataSplits
from datadistill.evaluation.config import EvalConfig
from datadistill.evaluation.protocol import evaluate
from datadistill.methods import METHODS
from datadistill.models import draw_seed
from datadistill.selection.base import SelectionMethod
from datadistill.selection.random import RandomSelection
from datadistill.settings import at_least, positive


@dataclass
class BestOfRandomConfig:
    candidates: int = 20
    keep_fraction: float = 0.2
    model: str = "convnet"
    epochs: int = 100
    val_images: int = 1000

    def __post_init__(self) -> None:
        at_least(self, 1, "candidates", "epochs", "val_images")
        positive(self, "keep_fraction")


@METHODS.register("best-of-random")
class BestOfRandom(SelectionMethod):
    Config = BestOfRandomConfig
    summary = "best of many random subsets, scored on the validation split"

    def select(self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True):
        cfg = self.config
        val_ix = torch.randperm(len(data.val), generator=generator)[: cfg.val_images]
        scoring = dataclasses.replace(data, val=data.val.subset(val_ix.to(data.val.labels.device)))
        picker = RandomSelection()
        subsets, scores = [], []
        for _ in tqdm(
            range(cfg.candidates), desc="best-of-random", disable=not progress, leave=False
        ):
            indices, _ = picker.select(data, ipc, generator)
            synset = picker.run_from_indices(data, indices)
            seed = draw_seed(generator)
            ev = evaluate(
                synset,
                scoring,
                EvalConfig(
                    models=[cfg.model],
                    runs=1,
                    epochs=cfg.epochs,
                    augment="none",
                    split="val",
                    seed=seed,
                ),
                progress=False,
            )
            subsets.append(indices)
            scores.append(ev.results[cfg.model].accs[0])
        scores_t = torch.tensor(scores)
        keep = torch.argsort(scores_t, descending=True)[
            : max(1, round(cfg.keep_fraction * cfg.candidates))
        ]
        best = int(keep[0])
        return subsets[best], scores_t[keep]
