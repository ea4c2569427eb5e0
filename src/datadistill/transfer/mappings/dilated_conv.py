"""``dilated-conv``: a fixed random convolution with dilation 2 (3×3 taps, 5×5 reach, the image
size kept), seeded; its kernel is part of the saved mapping. The teacher learns the source's Big
images so transformed.

Each output channel's kernel is drawn from N(0, 1) over all input channels and scaled to unit
norm, so the transformed images keep about the scale of the normalised inputs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from datadistill.transfer.mappings.base import MAPPINGS, Mapping, renormalise

KERNEL, DILATION = 3, 2


@MAPPINGS.register("dilated-conv")
class DilatedConv(Mapping):
    name = "dilated-conv"
    summary = "φ(x) = a fixed seeded 3×3 convolution with dilation 2"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        c = self.target_info.channels
        g = torch.Generator().manual_seed(self.seed)
        w = torch.randn(c, c, KERNEL, KERNEL, generator=g)
        self.weight = w / w.flatten(1).norm(dim=1).view(-1, 1, 1, 1)

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        pad = DILATION * (KERNEL // 2)
        out = F.conv2d(x, self.weight.to(x), padding=pad, dilation=DILATION)
        return renormalise(out, self.target_info, self.source_info)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"weight": self.weight}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if set(state) != {"weight"} or state["weight"].shape != self.weight.shape:
            raise ValueError(f"dilated-conv expects one weight of shape {tuple(self.weight.shape)}")
        self.weight = state["weight"].float()
