"""``herding``: greedily add the image that keeps the running mean of the selection closest to
the class mean in feature space (Welling 2009; the iCaRL/DC coreset baseline)."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS
from datadistill.selection.base import EmbeddingConfig, SelectionMethod, class_features


def herd(features: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (into ``features``) of ``k`` herded examples, in selection order."""
    mu = features.mean(0)
    running = torch.zeros_like(mu)
    taken = torch.zeros(len(features), dtype=torch.bool, device=features.device)
    chosen = []
    for step in range(1, k + 1):
        dist = ((running + features) / step - mu).square().sum(1)
        dist[taken] = float("inf")
        i = int(dist.argmin())
        chosen.append(i)
        taken[i] = True
        running += features[i]
    return torch.tensor(chosen, dtype=torch.long)


@METHODS.register("herding")
class Herding(SelectionMethod):
    Config = EmbeddingConfig
    summary = "greedy selection matching the class mean in feature space"
    stochastic = False

    def select(self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True):
        feats = class_features(data, self.config, progress)
        chosen = [data.train.indices_of(c)[herd(f, ipc).to(f.device)] for c, f in enumerate(feats)]
        return torch.cat(chosen), None
