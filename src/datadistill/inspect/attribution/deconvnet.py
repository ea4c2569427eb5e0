"""Deconvnet (Zeiler & Fergus 2014): the input gradient with each ReLU applied to the gradient
on the way back, whatever the sign of the ReLU's forward input."""

from __future__ import annotations

import warnings

import torch
from captum.attr import Deconvolution

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer, leaf


@EXPLAINERS.register("deconvnet")
class DeconvnetExplainer(Explainer):
    """captum's ``Deconvolution`` (needs the ReLUs as ``nn.ReLU`` modules); no settings."""

    def attribute(self, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        with warnings.catch_warnings():  # captum announces its temporary ReLU hooks
            warnings.filterwarnings("ignore", message="Setting backward hooks on ReLU")
            return Deconvolution(self.model).attribute(leaf(images), target=target)
