"""``class-mean``: the average image of each class ("average real" in the DD paper). With
``ipc > 1`` each class is split into ``ipc`` random equal parts and each part averaged."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS, Method
from datadistill.synset import SyntheticSet


@METHODS.register("class-mean")
class ClassMean(Method):
    kind = "selection"
    summary = "average image of each class (of ipc random parts of it)"

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        images, labels = [], []
        for c in range(data.info.num_classes):
            ix = data.train.indices_of(c)
            if ipc > 1:
                ix = ix[torch.randperm(len(ix), generator=generator).to(ix.device)]
            images += [data.train.images[part].mean(0) for part in ix.tensor_split(ipc)]
            labels += [c] * ipc
        return SyntheticSet(
            torch.stack(images),
            torch.tensor(labels, device=data.train.labels.device),
            data.info,
            "class-mean",
        )
