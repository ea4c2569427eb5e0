"""The reference's MLP: flatten → 128 → relu → 128 → relu → classes."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import Size


class MLP(nn.Module):
    """Two hidden layers of 128 units on the flattened image."""

    def __init__(self, channels: int, num_classes: int, size: Size) -> None:
        super().__init__()
        self.fc_1 = nn.Linear(channels * size[0] * size[1], 128)
        self.fc_2 = nn.Linear(128, 128)
        self.fc_3 = nn.Linear(128, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The 128 hidden features that the last linear layer sees."""
        return F.relu(self.fc_2(F.relu(self.fc_1(x.flatten(1)))))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc_3(self.embed(x))


@MODELS.register("mlp")
def mlp(info: DatasetInfo) -> MLP:
    """The MLP for the dataset's shape."""
    return MLP(info.channels, info.num_classes, info.size)
