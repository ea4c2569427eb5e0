"""``identity``: the same domain; the teacher is trained on the source's Big part as it is."""

from __future__ import annotations

import torch

from datadistill.datasets.info import DatasetInfo
from datadistill.transfer.mappings.base import MAPPINGS, Mapping, renormalise


@MAPPINGS.register("identity")
class Identity(Mapping):
    name = "identity"
    summary = "φ(x) = x: the teacher sees the student's images (same domain)"

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return renormalise(x, self.target_info, self.source_info)

    def domain_info(self) -> DatasetInfo:
        return self.source_info
