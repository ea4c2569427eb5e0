"""The losses that every generator here shares, as Gatys et al. define them.

- Gram matrix of a layer's ``C`` feature maps over its ``M = H·W`` positions: ``F Fᵀ / M``.
- Style loss: ``Σ_l w_l · Σ (G_l − A_l)² / (4 C_l²)`` (the paper's ``1 / (4 N² M²)`` with the
  ``1/M`` already inside each Gram matrix), ``w_l = 1 / |layers|``.
- Content loss: ``½ Σ (F − P)²`` at the content layer(s).
- ``Perceptual``: ``α · content + β · style (+ tv · total variation)`` for one network and fixed
  targets, the objective of texture synthesis (content weight 0), style transfer, feature
  inversion (style weight 0) and the fast-style network's training.

Every loss is summed per image and averaged over the batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from datadistill.generate.features import FeatureNet, check_layers


def gram(features: torch.Tensor) -> torch.Tensor:
    """``(N, C, H, W)`` → ``(N, C, C)``: channel correlations averaged over the positions."""
    n, c, h, w = features.shape
    f = features.reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


def gram_parameters(net: FeatureNet, layers: Sequence[str]) -> int:
    """Distinct numbers the Gram matrices of ``layers`` hold (each symmetric: ``C (C + 1) / 2``)."""
    return sum(net.channels(n) * (net.channels(n) + 1) // 2 for n in layers)


def style_loss(grams: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
    """Gatys et al.'s style loss between two sets of Gram matrices (equal weights per layer)."""
    per_layer = [
        (g - targets[n]).square().sum(dim=(1, 2)) / (4 * g.shape[1] ** 2) for n, g in grams.items()
    ]
    return torch.stack(per_layer).mean(0).mean()


def content_loss(
    features: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]
) -> torch.Tensor:
    """``½ Σ (F − P)²`` summed over the content layers, averaged over the batch."""
    per_layer = [0.5 * (f - targets[n]).square().flatten(1).sum(1) for n, f in features.items()]
    return torch.stack(per_layer).sum(0).mean()


def tv_loss(images: torch.Tensor) -> torch.Tensor:
    """Total variation: summed squared differences of neighbouring pixels, per image."""
    dh = (images[..., 1:, :] - images[..., :-1, :]).square().flatten(1).sum(1)
    dw = (images[..., :, 1:] - images[..., :, :-1]).square().flatten(1).sum(1)
    return (dh + dw).mean()


class Perceptual:
    """``α · content + β · style + tv · TV`` of images against fixed targets on ``net``.

    ``style`` is one image (its Gram matrices are the targets for every image in a batch);
    ``content`` is a batch whose features are the targets, or ``None`` to give them per call
    (as the fast-style training does)."""

    def __init__(
        self,
        net: FeatureNet,
        *,
        style: torch.Tensor | None = None,
        style_layers: Sequence[str] = (),
        content: torch.Tensor | None = None,
        content_layers: Sequence[str] = (),
        alpha: float = 1.0,
        beta: float = 1.0,
        tv: float = 0.0,
    ) -> None:
        for layers in (style_layers, content_layers):
            if layers:
                check_layers(layers, net.arch)
        if style is not None and not style_layers:
            raise ValueError("a style image needs at least one style layer")
        self.net, self.alpha, self.beta, self.tv = net, alpha, beta, tv
        self.style_layers, self.content_layers = list(style_layers), list(content_layers)
        self.layers = list(dict.fromkeys([*self.style_layers, *self.content_layers]))
        self.style_targets: dict[str, torch.Tensor] = {}
        if style is not None:
            with torch.no_grad():
                feats = net(style, self.style_layers)
            self.style_targets = {n: gram(f) for n, f in feats.items()}
        self.content_targets = None if content is None else self.content_features(content)

    def content_features(self, content: torch.Tensor) -> dict[str, torch.Tensor]:
        with torch.no_grad():
            return self.net(content, self.content_layers)

    def __call__(
        self, images: torch.Tensor, content_targets: dict[str, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The total loss (a tensor, for ``backward``) and its parts as numbers."""
        feats = self.net(images, self.layers)
        total = images.new_zeros(())
        parts: dict[str, float] = {}
        if self.style_targets:
            s = style_loss({n: gram(feats[n]) for n in self.style_layers}, self.style_targets)
            total = total + self.beta * s
            parts["style"] = float(s.detach())
        targets = content_targets if content_targets is not None else self.content_targets
        if self.content_layers and targets is not None:
            c = content_loss({n: feats[n] for n in self.content_layers}, targets)
            total = total + self.alpha * c
            parts["content"] = float(c.detach())
        if self.tv:
            t = tv_loss(images)
            total = total + self.tv * t
            parts["tv"] = float(t.detach())
        parts["total"] = float(total.detach())
        return total, parts
