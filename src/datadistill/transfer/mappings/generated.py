"""``generated-mnist``: the VAE turns every target image into a source-domain image, a new dataset
("GeneratedMNIST" for FashionMNIST → MNIST: 60,000 train, 10,000 test, cut into Big/Small the
same way as the target, so its Big part is φ of the target's Big part). The teacher learns
GeneratedMNIST-Big; the student FashionMNIST-Small; φ is the same VAE (``vae``'s network and
settings, trained once for both)."""

from __future__ import annotations

import dataclasses

import torch

from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.transfer.mappings.base import MAPPINGS
from datadistill.transfer.mappings.vae import VAE


@MAPPINGS.register("generated-mnist")
class GeneratedMNIST(VAE):
    name = "generated-mnist"
    summary = "φ = the vae; the teacher learned φ of the target's Big part (GeneratedMNIST)"

    def teacher_set(
        self, source: TensorSet, target: TensorSet, generator: torch.Generator | None = None
    ) -> TensorSet:
        """φ of the target's images with their labels: the generated dataset."""
        return TensorSet(self(target.images), target.labels, target.num_classes)

    def domain_info(self) -> DatasetInfo:
        return dataclasses.replace(self.source_info, name=f"generated-{self.source_info.name}")
