"""Guided backpropagation (Springenberg et al. 2015): the input gradient with only the positive
gradients let back through each ReLU, where the ReLU's input is positive too."""

from __future__ import annotations

import warnings

import torch
from captum.attr import GuidedBackprop

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer, leaf


@EXPLAINERS.register("guided-backprop")
class GuidedBackpropExplainer(Explainer):
    """captum's ``GuidedBackprop`` (needs the ReLUs as ``nn.ReLU`` modules); no settings."""

    def attribute(self, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with warnings.catch_warnings():  # captum announces its temporary ReLU hooks
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            return GuidedBackprop(self.model).attribute(leaf(images), target=target)
