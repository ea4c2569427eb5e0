"""SmoothGrad (Smilkov et al. 2017): saliency averaged over noisy copies of each image, which
removes much of the gradient's pixel-level noise."""

from __future__ import annotations

import torch
from captum.attr import NoiseTunnel, Saliency

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer


@EXPLAINERS.register("smoothgrad")
class SmoothGradExplainer(Explainer):
    """captum's ``NoiseTunnel`` over ``Saliency`` (mean of |∂score/∂x| over noisy copies)."""

    def attribute(
        self,
        images: torch.Tensor,
        target: torch.Tensor,
        *,
        samples: int = 25,
        sigma: float | None = None,
        seed: int = 0,
    ) -> torch.Tensor:
        """``samples`` noisy copies per image with Gaussian noise of std ``sigma`` (default: a
        quarter of each image's own value range, (max − min) / 4), drawn from a generator
        seeded with ``seed``, so the same call gives the same map; the caller's random state is
        left as it was."""
        if samples < 1:
            raise ValueError(f"samples must be at least 1, got {samples}")
        tunnel = NoiseTunnel(Saliency(self.model))
        devices = [images.device] if images.device.type == "cuda" else []
        maps = []
        with torch.random.fork_rng(devices=devices):  # captum draws from the global generator
            torch.manual_seed(seed)
            for image, cls in zip(images, target, strict=True):
                std = float(image.max() - image.min()) / 4 if sigma is None else float(sigma)
                maps.append(
                    tunnel.attribute(
                        image[None],
                        nt_type="smoothgrad",
                        nt_samples=samples,
                        stdevs=std,
                        target=int(cls),
                        abs=True,
                    )
                )
        return torch.cat(maps)
