"""Integrated gradients (Sundararajan et al. 2017): (x − baseline) times the gradient averaged
along the straight path from the baseline to x; the map sums to score(x) − score(baseline)."""

from __future__ import annotations

import torch
from captum.attr import IntegratedGradients

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer


@EXPLAINERS.register("integrated-gradients")
class IntegratedGradientsExplainer(Explainer):
    """captum's ``IntegratedGradients`` on the class score (the logit)."""

    def attribute(
        self,
        images: torch.Tensor,
        target: torch.Tensor,
        *,
        baseline: float | torch.Tensor = 0.0,
        steps: int = 50,
    ) -> torch.Tensor:
        """``baseline``: the path's start, a number or a tensor that broadcasts to the images
        (0 is the dataset's mean colour for normalised images); ``steps``: points on the path."""
        if isinstance(baseline, torch.Tensor):
            baseline = baseline.to(images.device, images.dtype).expand_as(images)
        ig = IntegratedGradients(self.model)
        return ig.attribute(images, baselines=baseline, target=target, n_steps=steps)
