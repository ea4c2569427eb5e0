"""``random``: class-balanced random real images, the baseline every table starts from."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS
from datadistill.selection.base import SelectionMethod


@METHODS.register("random")
class RandomSelection(SelectionMethod):
    summary = "class-balanced random real images"

    def select(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> tuple[torch.Tensor, None]:
        chosen = []
        for c in range(data.info.num_classes):
            ix = data.train.indices_of(c)
            chosen.append(ix[torch.randperm(len(ix), generator=generator)[:ipc].to(ix.device)])
        return torch.cat(chosen), None
