"""What every distillation method shares: its starting set, from noise or any selection method."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from datadistill.datasets.augmentation import Augmentation
from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS, Method
from datadistill.synset import SyntheticSet


@dataclass
class InitConfig:
    """``init``: ``noise`` (standard normal in the normalised space) or the name of any selection
    method (``random``, ``herding``, ``kcenter``, ``forgetting``, ``kmeans``, ...), run with its
    default settings and the distillation's seed."""

    init: str = "random"


class DistillationMethod(Method):
    """Base of methods that learn images; ``initial_set`` gives the images they start from."""

    kind: ClassVar[str] = "distillation"

    def initial_set(self, data: DataSplits, ipc: int, generator: torch.Generator) -> SyntheticSet:
        init = self.config.init
        if init == "noise":
            k = data.info.num_classes
            images = torch.randn(k * ipc, *data.info.shape, generator=generator).to(
                data.train.images.device
            )
            labels = torch.arange(k, device=data.train.labels.device).repeat_interleave(ipc)
            return SyntheticSet(images, labels, data.info, "noise")
        cls = METHODS.get(init)
        if cls.kind != "selection":
            raise ValueError(f"init={init!r} is not a selection method (or 'noise')")
        return cls().run(data, ipc, generator, progress=False)


def siamese_class_batches(
    data: DataSplits,
    images: torch.Tensor,
    ipc: int,
    classes: range,
    batch_real: int,
    aug: Augmentation,
    generator: torch.Generator,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Per class: ``batch_real`` real images and the class's ``ipc`` synthetic ones (``images`` is
    class-ordered), both augmented with one shared draw (DSA's siamese augmentation): one draw per
    image of the larger of the two, the smaller taking its first ones, as the reference does."""
    real, syn = [], []
    for c in classes:
        batch = data.train.sample(c, batch_real, generator)
        params = aug.sample(max(len(batch), ipc), generator)
        real.append(aug.apply(batch, params))
        syn.append(aug.apply(images[c * ipc : (c + 1) * ipc], params))
    return real, syn
