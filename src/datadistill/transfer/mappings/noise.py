"""``noise``: additive Gaussian noise of variance 1/10 on pixel values (in [0, 1]), not clipped.

The teacher learns from the source's Big images with noise; the student sees clean images and
the teacher their noisy copies φ(x). Each call draws fresh noise from the generator handed in
(by default one seeded with the mapping's seed, so φ is repeatable).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from datadistill.settings import at_least
from datadistill.transfer.mappings.base import MAPPINGS, Mapping, renormalise


@dataclass
class NoiseConfig:
    """``variance`` of the noise on pixel values in [0, 1] (0.1: N(0, 0.1) as specified)."""

    variance: float = 0.1

    def __post_init__(self) -> None:
        at_least(self, 0.0, "variance")


@MAPPINGS.register("noise")
class Noise(Mapping):
    Config = NoiseConfig
    name = "noise"
    summary = "φ(x) = x + N(0, 0.1) on pixel values: the teacher learned noisy images"
    stochastic = True

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        # noise of std σ on pixels is σ / std_c in the normalised space of channel c
        std = torch.tensor(self.target_info.std, dtype=x.dtype).view(1, -1, 1, 1)
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        noisy = x + noise * (self.config.variance**0.5 / std.to(x.device))
        return renormalise(noisy, self.target_info, self.source_info)
