"""``style``: φ(x) = a fast style-transfer network (``generate.fast_style``, Johnson et al. 2016)
trained for one style image on the source's Big images; the teacher learns the stylised Big
images and reads the student's images stylised the same way.

The one stylisation of the project: the network, its perceptual losses and its training are
``generate``'s; this file only fits it to a dataset's images (at their own size, which must be a
multiple of 4) and moves between pixels and the datasets' normalisation. Grey images are
stylised as RGB (the channel repeated) and brought back to grey (the channel mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from datadistill.datasets.tensorset import TensorSet
from datadistill.settings import at_least, one_of, positive
from datadistill.transfer.mappings.base import MAPPINGS, Mapping, from_pixels, to_pixels

STYLE_LAYERS = "conv1_2,conv2_2,conv3_3"  # a 32-pixel image has no room for conv4_3's pools


@dataclass
class StyleConfig:
    """The style image (a file or ``sample:NAME``) and the fast-style network's training:
    ``alpha_beta`` weighs content against style, ``steps`` Adam batches of ``batch`` images
    drawn from ``pool_images`` of the source's Big images; ``weights`` of the VGG loss network
    (``random`` works offline; see ``generate``)."""

    style: str = "sample:gravel"
    style_size: int = 64
    alpha_beta: float = 1e-2  # 1e-3 left CIFAR-10 images unrecognisable (gravel everywhere)
    steps: int = 400
    batch: int = 16
    lr: float = 1e-3
    pool_images: int = 5000
    width: int = 16
    blocks: int = 3
    upsampler: str = "resize"
    weights: str = "random"
    style_layers: str = STYLE_LAYERS
    content_layer: str = "conv2_2"

    def __post_init__(self) -> None:
        at_least(self, 1, "style_size", "steps", "batch", "pool_images", "width")
        at_least(self, 0, "blocks")
        positive(self, "alpha_beta", "lr")
        one_of(self, "upsampler", ("transpose", "resize"))


@MAPPINGS.register("style")
class Style(Mapping):
    Config = StyleConfig
    name = "style"
    summary = "φ(x) = a fast style-transfer network (one style image) trained on the source"
    trainable = True

    def __init__(self, *args, **kwargs) -> None:
        from datadistill.generate.fast_style import FastStyleNet

        super().__init__(*args, **kwargs)
        cfg = self.config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.net = FastStyleNet(cfg.width, cfg.blocks, cfg.upsampler).eval()
        self.history: list[float] = []

    def check_domains(self) -> None:
        super().check_domains()
        h, w = self.target_info.shape[1:]
        if h % 4 or w % 4 or self.target_info.channels not in (1, 3):
            raise ValueError(
                f"the style mapping needs 1 or 3 channels and a size divisible by 4, "
                f"got {self.target_info.name} {self.target_info.shape}"
            )

    def fit(self, source: TensorSet, target: TensorSet, progress: bool = True) -> Style:
        from datadistill.generate.fast_style import train_fast_style

        cfg = self.config
        g = torch.Generator().manual_seed(self.seed)
        pick = torch.randperm(len(source), generator=g)[: cfg.pool_images]
        content = to_pixels(source.images[pick.to(source.images.device)], self.source_info)
        content = content.expand(-1, 3, -1, -1)
        self.net = train_fast_style(
            cfg.style,
            content,
            size=min(self.source_info.shape[1:]),
            steps=cfg.steps,
            batch=cfg.batch,
            lr=cfg.lr,
            alpha_beta=cfg.alpha_beta,
            content_layers=(cfg.content_layer,),
            style_layers=tuple(cfg.style_layers.split(",")),
            width=cfg.width,
            blocks=cfg.blocks,
            upsampler=cfg.upsampler,
            weights=cfg.weights,
            style_size=cfg.style_size,
            seed=self.seed,
            progress=progress,
        ).requires_grad_(False)
        self.history = self.net.meta["loss_history"]
        return self

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        out = self.net.to(x.device)(to_pixels(x, self.target_info).expand(-1, 3, -1, -1))
        if self.source_info.channels == 1:
            out = out.mean(1, keepdim=True)
        return from_pixels(out, self.source_info)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.net.state_dict())

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        try:
            self.net.load_state_dict(state)
        except RuntimeError:
            raise ValueError("the style network's weights do not fit its settings") from None
        self.net.eval().requires_grad_(False)
