"""The CIFAR network of the DD paper (Wang et al. 2018): the cuda-convnet "AlexNet-style" model,
two 5×5 conv layers of 64 with overlapping 3×3 pooling and local response norm, then 384-192-fc.
"""

from __future__ import annotations

from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS
from datadistill.models.layers import Size, check_fits, conv_out


def _pool(size: Size) -> Size:
    """Spatial size after the overlapping 3×3, stride-2, padding-1 pooling."""
    return conv_out(size, 3, padding=1, stride=2)


class AlexCifarNet(nn.Module):
    """conv 64 → relu → pool → LRN → conv 64 → relu → LRN → pool → fc 384 → fc 192 → fc."""

    def __init__(self, channels: int, num_classes: int, size: Size) -> None:
        super().__init__()
        hw = _pool(_pool(size))
        check_fits("alexcifarnet", size, hw)
        self.features = nn.Sequential(
            nn.Conv2d(channels, 64, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
            nn.LocalResponseNorm(4, alpha=0.001 / 9.0, beta=0.75, k=1.0),
            nn.Conv2d(64, 64, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.LocalResponseNorm(4, alpha=0.001 / 9.0, beta=0.75, k=1.0),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        self.fc_1 = nn.Linear(64 * hw[0] * hw[1], 384)
        self.fc_2 = nn.Linear(384, 192)
        self.fc_3 = nn.Linear(192, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The 192 features that the last linear layer sees."""
        x = self.features(x).flatten(1)
        return self.fc_2(self.fc_1(x).relu()).relu()

    def forward(self, x: Tensor) -> Tensor:
        return self.fc_3(self.embed(x))


@MODELS.register("alexcifarnet")
def alexcifarnet(info: DatasetInfo) -> AlexCifarNet:
    """The DD paper's CIFAR network for the dataset's shape."""
    return AlexCifarNet(info.channels, info.num_classes, info.size)
