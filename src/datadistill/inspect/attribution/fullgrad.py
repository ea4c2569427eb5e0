"""FullGrad (Srinivas & Fleuret 2019), which captum lacks.

For a network built of affine layers (conv, linear, batch norm with running statistics) and
positively homogeneous ones (ReLU, pooling), the class score splits exactly into the
input-gradient term ∇ₓf · x plus one bias-gradient term (∂f/∂zₗ) · bₗ per layer l with output
zₗ and bias bₗ; ``fullgrad_completeness`` returns that decomposition. The map applies the paper's
post-processing ψ (absolute value, min-max scaling per map, bilinear upsampling to the image
size) to the input-gradient ⊙ input and to each spatial bias-gradient map, and sums them.

Layers with a bias: convolutions, linear layers and norm layers with an affine bias. A batch
norm in eval mode contributes its whole implicit bias β − γ·μ/√(σ² + ε), so completeness holds
for it; group, layer and instance norm (statistics of each input) contribute β, and for them the
decomposition is not exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.modules.batchnorm import _NormBase
from torch.nn.modules.conv import _ConvNd

from datadistill.inspect.attribution.base import (
    EXPLAINERS,
    Explainer,
    ModelLike,
    Target,
    frozen,
    prepare,
)

CHANNEL_BIAS = (_ConvNd, _NormBase, nn.GroupNorm)  # bias along dim 1
TRAILING_BIAS = (nn.Linear, nn.LayerNorm)  # bias along the last dims


def bias_of(module: nn.Module) -> torch.Tensor | None:
    """The bias that ``module`` adds to its output, as it acts now; None when it adds none."""
    if not isinstance(module, CHANNEL_BIAS + TRAILING_BIAS):
        return None
    bias = getattr(module, "bias", None)
    if isinstance(module, _NormBase) and module.running_mean is not None and not module.training:
        var = module.running_var + module.eps
        weight = module.weight if module.weight is not None else torch.ones_like(var)
        shift = bias if bias is not None else torch.zeros_like(var)
        return shift - weight * module.running_mean / var.sqrt()
    return bias if isinstance(bias, torch.Tensor) else None


def broadcast(module: nn.Module, bias: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """``bias`` shaped to add to ``output`` as the layer adds it."""
    if isinstance(module, CHANNEL_BIAS):
        return bias.view(1, -1, *[1] * (output.ndim - 2))
    return bias


@contextmanager
def recording_biased(model: nn.Module) -> Iterator[list[tuple[str, nn.Module, torch.Tensor]]]:
    """Inside the block, the output of every layer with a bias is recorded at each forward call
    (a copy is passed on, so that an in-place op downstream cannot overwrite it)."""
    records: list[tuple[str, nn.Module, torch.Tensor]] = []
    handles = []

    def hook_for(name: str):
        def hook(module: nn.Module, _inputs: object, output: torch.Tensor) -> torch.Tensor:
            records.append((name, module, output))
            return output.clone()

        return hook

    try:
        for name, module in model.named_modules():
            if bias_of(module) is not None:
                handles.append(module.register_forward_hook(hook_for(name)))
        yield records
    finally:
        for handle in handles:
            handle.remove()


@dataclass
class FullGradTerms:
    """The decomposition of each image's class score: ``input`` (∇ₓf · x, per image),
    ``biases`` (the bias-gradient terms' sum), ``layers`` (each layer's term), ``score`` (f(x)).
    ``input + biases`` equals ``score`` for a piecewise-linear network (see the module)."""

    input: torch.Tensor
    biases: torch.Tensor
    layers: dict[str, torch.Tensor]
    score: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.input + self.biases


def full_gradients(
    model: nn.Module, images: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, list[tuple[str, torch.Tensor]], torch.Tensor]:
    """∇ₓf, each bias-gradient map (∂f/∂zₗ) ⊙ bₗ (named by layer) and the score f of ``target``."""
    x = images.detach().requires_grad_(True)
    with torch.enable_grad(), recording_biased(model) as records:
        score = model(x).gather(1, target[:, None]).squeeze(1)
        outputs = [out for _, _, out in records]
        grads = torch.autograd.grad(score.sum(), [x, *outputs], allow_unused=True)
    terms = []
    for (name, module, out), grad in zip(records, grads[1:], strict=True):
        bias = broadcast(module, bias_of(module).detach(), out)
        g = torch.zeros_like(out) if grad is None else grad
        terms.append((name, g * bias))
    return grads[0], terms, score.detach()


def fullgrad_completeness(
    model: ModelLike, images: torch.Tensor, target: Target = None
) -> FullGradTerms:
    """FullGrad's decomposition of each image's class score (the logit of ``target``, by default
    the predicted class): input-gradient · input plus the bias-gradient terms."""
    module, x, t = prepare(model, images, target)
    with frozen(module):
        input_grad, terms, score = full_gradients(module, x, t)
    layers: dict[str, torch.Tensor] = {}
    for name, term in terms:
        layers[name] = layers.get(name, 0) + term.flatten(1).sum(1)
    biases = torch.stack(list(layers.values())).sum(0) if layers else torch.zeros_like(score)
    return FullGradTerms((input_grad * x).flatten(1).sum(1), biases, layers, score)


def postprocess(maps: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The paper's ψ: absolute value, then scaled to [0, 1] per image over all its values."""
    flat = maps.abs().flatten(1)
    flat = flat - flat.min(dim=1, keepdim=True).values
    flat = flat / (flat.max(dim=1, keepdim=True).values + eps)
    return flat.view_as(maps)


@EXPLAINERS.register("fullgrad")
class FullGradExplainer(Explainer):
    """The FullGrad saliency map, (N, 1, H, W); no settings."""

    def attribute(self, images: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        input_grad, terms, _ = full_gradients(self.model, images, target)
        cam = postprocess(input_grad * images).sum(1, keepdim=True)
        size = tuple(images.shape[-2:])
        for _, term in terms:
            if term.ndim == images.ndim:  # spatial maps only: linear layers have no layout
                up = F.interpolate(
                    postprocess(term), size=size, mode="bilinear", align_corners=True
                )
                cam = cam + up.sum(1, keepdim=True)
        return cam
