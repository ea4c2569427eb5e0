"""LeNet as in DatasetCondensation: two 5×5 conv layers with max-pooling, then three linear layers.

Its unpadded second convolution needs images of at least 12×12 (one channel) or 16×16 (three).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import Size, check_fits, conv_out, halve


class LeNet(nn.Module):
    """conv 6 → relu → maxpool → conv 16 → relu → maxpool → fc 120 → fc 84 → fc classes."""

    def __init__(self, channels: int, num_classes: int, size: Size) -> None:
        super().__init__()
        padding = 2 if channels == 1 else 0
        hw = halve(conv_out(halve(conv_out(size, 5, padding)), 5))
        check_fits("lenet", size, hw)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 6, kernel_size=5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc_1 = nn.Linear(16 * hw[0] * hw[1], 120)
        self.fc_2 = nn.Linear(120, 84)
        self.fc_3 = nn.Linear(84, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The 84 features that the last linear layer sees."""
        x = self.features(x).flatten(1)
        return F.relu(self.fc_2(F.relu(self.fc_1(x))))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc_3(self.embed(x))


@MODELS.register("lenet")
def lenet(info: DatasetInfo) -> LeNet:
    """LeNet for the dataset's shape."""
    return LeNet(info.channels, info.num_classes, info.size)
