"""AlexNet as in DatasetCondensation: conv layers of 128-192-256-192-192, three max-pools, fc."""

from __future__ import annotations

from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import Size, check_fits, conv_out, halve


class AlexNet(nn.Module):
    """The reference's small-image AlexNet; the first conv pads by 4 for one-channel images."""

    def __init__(self, channels: int, num_classes: int, size: Size) -> None:
        super().__init__()
        padding = 4 if channels == 1 else 2
        hw = halve(halve(halve(conv_out(size, 5, padding))))
        check_fits("alexnet", size, hw)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 128, kernel_size=5, padding=padding),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(128, 192, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
            nn.Conv2d(192, 256, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(256, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.Conv2d(192, 192, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=2, stride=2),
        )
        self.fc = nn.Linear(192 * hw[0] * hw[1], num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The flattened features that the classifier sees."""
        return self.features(x).flatten(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.embed(x))


@MODELS.register("alexnet")
def alexnet(info: DatasetInfo) -> AlexNet:
    """AlexNet for the dataset's shape."""
    return AlexNet(info.channels, info.num_classes, info.size)
