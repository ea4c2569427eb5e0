"""R ConvNets trained as one network of grouped convolutions: the CPU's way of training a
protocol's runs together.

Run ``r``'s channels are the ``r``-th slice of every layer: convolutions get ``groups=R``, the
group norms ``R`` times their groups (so each still normalises within its own run), and the
classifier is one batched matrix product. The input stacks each run's own batch along the
channels, so every run sees the batches and augmentations that ``fit`` would draw for it, and
the summed loss has each run's gradient on its own slice: the same arithmetic as R ``fit`` calls
(up to the order of floating-point sums), in one pass per chunk instead of R.
"""

from __future__ import annotations

import torch
from torch import nn

from datadistill.models.convnet import ConvNet


def groupable(model: nn.Module) -> bool:
    """ConvNets whose layers all have a grouped form (no batch norm: its statistics would mix)."""
    if type(model) is not ConvNet:
        return False
    allowed = (
        nn.Conv2d,
        nn.GroupNorm,
        nn.ReLU,
        nn.LeakyReLU,
        nn.Sigmoid,
        nn.AvgPool2d,
        nn.MaxPool2d,
    )
    return all(isinstance(layer, allowed) for layer in model.features)


class GroupedConvNet(nn.Module):
    """``len(models)`` ConvNets of one architecture as one network (see the module docstring)."""

    def __init__(self, models: list[ConvNet]) -> None:
        super().__init__()
        r = len(models)
        self.runs = r
        layers: list[nn.Module] = []
        for parts in zip(*(m.features for m in models), strict=True):
            first = parts[0]
            if isinstance(first, nn.Conv2d):
                conv = nn.Conv2d(
                    first.in_channels * r,
                    first.out_channels * r,
                    first.kernel_size,
                    first.stride,
                    first.padding,
                    groups=r,
                    bias=first.bias is not None,
                )
                conv.weight.data.copy_(torch.cat([p.weight.data for p in parts]))
                if first.bias is not None:
                    conv.bias.data.copy_(torch.cat([p.bias.data for p in parts]))
                layers.append(conv)
            elif isinstance(first, nn.GroupNorm):
                norm = nn.GroupNorm(first.num_groups * r, first.num_channels * r, first.eps)
                norm.weight.data.copy_(torch.cat([p.weight.data for p in parts]))
                norm.bias.data.copy_(torch.cat([p.bias.data for p in parts]))
                layers.append(norm)
            else:  # activations and pooling act per channel
                layers.append(first)
        self.features = nn.Sequential(*layers)
        self.weight = nn.Parameter(torch.stack([m.classifier.weight.data for m in models]))
        self.bias = nn.Parameter(torch.stack([m.classifier.bias.data for m in models]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: (N, R·C, H, W), run r's images in channels r·C … (r+1)·C − 1; returns the
        logits (N, R, classes)."""
        h = self.features(x)
        h = h.reshape(h.shape[0], self.runs, -1)
        return torch.einsum("nrf,rkf->nrk", h, self.weight) + self.bias

    def write_back(self, models: list[ConvNet]) -> None:
        """Copy each run's slice back into its own model."""
        r = self.runs
        with torch.no_grad():
            grouped = [m for m in self.features if isinstance(m, (nn.Conv2d, nn.GroupNorm))]
            for i, model in enumerate(models):
                own = [m for m in model.features if isinstance(m, (nn.Conv2d, nn.GroupNorm))]
                for g, m in zip(grouped, own, strict=True):
                    m.weight.copy_(g.weight.chunk(r)[i])
                    if m.bias is not None:
                        m.bias.copy_(g.bias.chunk(r)[i])
                model.classifier.weight.copy_(self.weight[i])
                model.classifier.bias.copy_(self.bias[i])
