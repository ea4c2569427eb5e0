"""Grad-CAM (Selvaraju et al. 2017): a layer's channels weighted by the spatial mean of the class
score's gradient, summed and rectified; a coarse map, upsampled to the image size."""

from __future__ import annotations

import torch
from captum.attr import LayerAttribution, LayerGradCam

from datadistill.inspect.attribution.base import EXPLAINERS, Explainer
from datadistill.inspect.layers import last_conv_block, layer_of


@EXPLAINERS.register("gradcam")
class GradCamExplainer(Explainer):
    """captum's ``LayerGradCam``; returns a (N, 1, H, W) map."""

    def attribute(
        self,
        images: torch.Tensor,
        target: torch.Tensor,
        *,
        layer: str | None = None,
        relu: bool = True,
    ) -> torch.Tensor:
        """``layer``: the name of a layer with (N, C, h, w) output, by default the activation
        after the last 2-D convolution (``last_conv_block``; at an instance-normed convolution
        itself the map is zero); an unknown name raises ``LayerNotFoundError`` listing them;
        ``relu``: keep only the positive evidence, as the paper does."""
        name = last_conv_block(self.model) if layer is None else layer
        cam = LayerGradCam(self.model, layer_of(self.model, name))
        maps = cam.attribute(images, target=target, relu_attributions=relu)
        if maps.ndim != 4:
            raise ValueError(
                f"Grad-CAM needs a layer with (N, C, h, w) output; {name!r} gives a "
                f"{maps.ndim}-D map"
            )
        return LayerAttribution.interpolate(maps, tuple(images.shape[-2:]), "bilinear")
