"""Text models on embedded sentences ``(N, 1, length, dim)``: a distilled sentence is then just a
learnable ``length × dim`` matrix. (Any other ``(C, H, W)`` input is read as H positions of C·W
features.)

``textcnn``: Kim 2014's CNN for sentence classification (filter widths 3, 4, 5, 100 maps each,
ReLU, max-over-time pooling, a linear classifier; no dropout, so unrolled training and matching
see one deterministic network). ``textgru``: a one-layer GRU read to the end of the (padded) sentence,
whose final state feeds a linear classifier.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models.factory import MODELS


class TextCNN(nn.Module):
    def __init__(
        self,
        dim: int,
        length: int,
        num_classes: int,
        widths: tuple[int, ...] = (3, 4, 5),
        maps: int = 100,
    ) -> None:
        super().__init__()
        widths = tuple(w for w in widths if w <= length) or (length,)
        self.convs = nn.ModuleList(nn.Conv1d(dim, maps, w) for w in widths)
        self.fc = nn.Linear(maps * len(widths), num_classes)

    def embed(self, x: Tensor) -> Tensor:
        """The pooled features ``(N, maps × widths)`` that the classifier sees."""
        h = _positions(x).transpose(1, 2)  # (N, dim, length)
        return torch.cat([F.relu(conv(h)).amax(2) for conv in self.convs], 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.embed(x))


class GRUNet(nn.Module):
    """A GRU cell unrolled over the positions (written out, so that double backward, ``vmap`` and
    ``functional_call`` all work as on any other model)."""

    def __init__(self, dim: int, num_classes: int, hidden: int = 64) -> None:
        super().__init__()
        self.hidden = hidden
        self.inp = nn.Linear(dim, 3 * hidden)
        self.rec = nn.Linear(hidden, 3 * hidden)
        self.fc = nn.Linear(hidden, num_classes)

    def embed(self, x: Tensor) -> Tensor:
        x = _positions(x)  # (N, length, dim)
        gx = self.inp(x)  # all positions at once
        h = x.new_zeros(x.shape[0], self.hidden)
        for t in range(x.shape[1]):
            xr, xz, xn = gx[:, t].chunk(3, 1)
            hr, hz, hn = self.rec(h).chunk(3, 1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            h = (1 - z) * torch.tanh(xn + r * hn) + z * h
        return h

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.embed(x))


def _text_shape(info: DatasetInfo) -> tuple[int, int]:
    """(length, dim): a (C, H, W) input reads as H positions of C·W features (an image as a
    sequence of rows), so the text models also run on any dataset of the zoo."""
    return info.size[0], info.channels * info.size[1]


def _positions(x: Tensor) -> Tensor:
    """``(N, C, L, D)`` → ``(N, L, C·D)``; for a sentence (C = 1) just the matrix."""
    n, c, length, d = x.shape
    return x.squeeze(1) if c == 1 else x.transpose(1, 2).reshape(n, length, c * d)


@MODELS.register("textcnn")
def textcnn(info: DatasetInfo, maps: int = 100) -> TextCNN:
    """Kim 2014's sentence CNN: widths 3, 4, 5 with ``maps`` feature maps each."""
    length, dim = _text_shape(info)
    return TextCNN(dim, length, info.num_classes, maps=maps)


@MODELS.register("textgru")
def textgru(info: DatasetInfo, hidden: int = 64) -> GRUNet:
    """A one-layer GRU (``hidden`` units) reading the sentence; its last state is classified."""
    _, dim = _text_shape(info)
    return GRUNet(dim, info.num_classes, hidden)
