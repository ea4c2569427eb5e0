"""``kcenter``: k-center greedy (Sener & Savarese 2018) per class in feature space: start from the
image nearest the class mean, then repeatedly add the image farthest from everything chosen."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS
from datadistill.selection.base import EmbeddingConfig, SelectionMethod, class_features


def kcenter_greedy(features: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of ``k`` centres chosen greedily to minimise the largest distance to a centre."""
    first = int(torch.cdist(features, features.mean(0, keepdim=True)).argmin())
    chosen = [first]
    nearest = torch.cdist(features, features[first : first + 1]).squeeze(1)
    for _ in range(k - 1):
        i = int(nearest.argmax())
        chosen.append(i)
        nearest = torch.minimum(nearest, torch.cdist(features, features[i : i + 1]).squeeze(1))
    return torch.tensor(chosen, dtype=torch.long)


@METHODS.register("kcenter")
class KCenter(SelectionMethod):
    Config = EmbeddingConfig
    summary = "k-center greedy coverage of each class in feature space"
    stochastic = False

    def select(self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True):
        feats = class_features(data, self.config, progress)
        chosen = [
            data.train.indices_of(c)[kcenter_greedy(f, ipc).to(f.device)]
            for c, f in enumerate(feats)
        ]
        return torch.cat(chosen), None
