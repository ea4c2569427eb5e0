"""Saliency (Simonyan et al. 2014): the magnitude of the gradient of the class score (the logit)
with respect to each input value, |∂score/∂x|."""

from __future__ import annotations

import torch
from captum.attr import Saliency

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer, leaf


@EXPLAINERS.register("saliency")
class SaliencyExplainer(Explainer):
    """captum's ``Saliency``; no settings."""

    def attribute(self, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return Saliency(self.model).attribute(leaf(images), target=target, abs=True)
