"""Fast style transfer (Johnson, Alahi & Fei-Fei 2016): an image-transformation network trained
for one style on content images, with the perceptual losses of ``generate.losses``; at use, one
forward pass per image.

The network is Johnson et al.'s (a 9×9 conv, two stride-2 downsamplings, residual blocks, two ×2
upsamplings, a 9×9 conv) with instance normalisation (Ulyanov et al. 2016) and reflection
padding; width, residual blocks and the upsampler (``transpose``: a stride-2 transposed
convolution, as in the paper; ``resize``: nearest-neighbour ×2 then a convolution, Odena et al.
2016) are settings. It maps ``(N, 3, H, W)`` RGB in [0, 1] to the same shape in [0, 1], for any
``H`` and ``W`` divisible by 4. Saved as safetensors plus a JSON of its settings and training.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from datadistill.atomic import write_atomically
from datadistill.generate.features import FeatureNet
from datadistill.generate.images import SAMPLES, as_image, describe, image_files, load_image
from datadistill.generate.losses import Perceptual
from datadistill.generate.optimize import feature_net_for, net_settings

UPSAMPLERS = ("transpose", "resize")
FORMAT = "datadistill.fast_style"
WEIGHTS_FILE = "fast_style.safetensors"
# Johnson et al.'s layers (relu1_2, relu2_2, relu3_3, relu4_3 of VGG-16)
STYLE_LAYERS = ("conv1_2", "conv2_2", "conv3_3", "conv4_3")
CONTENT_LAYERS = ("conv2_2",)
TEXTURE_SAMPLES = ("brick", "grass", "gravel")  # not content: the default content skips them


def _conv(cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride))


def _norm_relu(block: nn.Module, channels: int) -> nn.Sequential:
    return nn.Sequential(block, nn.InstanceNorm2d(channels, affine=True), nn.ReLU())


class Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            _norm_relu(_conv(channels, channels, 3), channels),
            _conv(channels, channels, 3),
            nn.InstanceNorm2d(channels, affine=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def upsampler(kind: str, cin: int, cout: int) -> nn.Module:
    """×2 upsampling: a 3×3 stride-2 transposed convolution, or nearest resize then a 3×3 conv."""
    if kind == "transpose":
        return nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)
    if kind == "resize":
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), _conv(cin, cout, 3))
    raise ValueError(f"upsampler must be one of {list(UPSAMPLERS)}, got {kind!r}")


class FastStyleNet(nn.Module):
    """Johnson et al.'s transformation network; ``meta`` holds what it was trained on."""

    def __init__(self, width: int = 16, blocks: int = 3, upsampler_kind: str = "resize") -> None:
        super().__init__()
        if width < 1 or blocks < 0:
            raise ValueError(f"width must be >= 1 and blocks >= 0, got {width} and {blocks}")
        self.config = {"width": width, "blocks": blocks, "upsampler": upsampler_kind}
        self.meta: dict[str, Any] = {}
        w = width
        self.body = nn.Sequential(
            _norm_relu(_conv(3, w, 9), w),
            _norm_relu(_conv(w, 2 * w, 3, stride=2), 2 * w),
            _norm_relu(_conv(2 * w, 4 * w, 3, stride=2), 4 * w),
            *(Residual(4 * w) for _ in range(blocks)),
            _norm_relu(upsampler(upsampler_kind, 4 * w, 2 * w), 2 * w),
            _norm_relu(upsampler(upsampler_kind, 2 * w, w), w),
            _conv(w, 3, 9),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected (N, 3, H, W) RGB images, got shape {tuple(x.shape)}")
        h, w = x.shape[-2:]
        if h % 4 or w % 4 or h < 4 or w < 4:
            raise ValueError(
                f"image size {h}×{w} does not fit: height and width must be "
                "positive multiples of 4 (two stride-2 downsamplings)"
            )
        return torch.sigmoid(self.body(x))  # Johnson's scaled tanh, as a sigmoid into [0, 1]


def content_pool(
    content: str | os.PathLike[str] | Sequence[str] | torch.Tensor, size: int
) -> list[torch.Tensor]:
    """Training images, each with its shorter side ``3/2 · size`` (for random ``size`` crops):
    a folder, a list of files/samples, or ``"samples"`` (the sample photographs); or a tensor
    ``(N, 3, H, W)`` in [0, 1] of images used as they are (a dataset's, e.g. for ``transfer``)."""
    if isinstance(content, torch.Tensor):
        if content.ndim != 4 or content.shape[1] != 3 or min(content.shape[-2:]) < size:
            raise ValueError(
                f"content images must be (N, 3, H, W) with H, W >= {size}, "
                f"got {tuple(content.shape)}"
            )
        return [img[None] for img in content.cpu()]
    if isinstance(content, (str, os.PathLike)):
        if str(content) == "samples":
            sources: list[Any] = [f"sample:{n}" for n in SAMPLES if n not in TEXTURE_SAMPLES]
        else:
            sources = image_files(content)
    else:
        sources = list(content)
    return [load_image(s, round(1.5 * size)) for s in sources]


def _batch(pool: list[torch.Tensor], batch: int, size: int, g: torch.Generator) -> torch.Tensor:
    """``batch`` random ``size`` crops, each flipped left-right at random."""
    crops = []
    for i in torch.randint(len(pool), (batch,), generator=g).tolist():
        img = pool[i]
        h, w = img.shape[-2:]
        top = int(torch.randint(h - size + 1, (1,), generator=g))
        left = int(torch.randint(w - size + 1, (1,), generator=g))
        crop = img[..., top : top + size, left : left + size]
        crops.append(crop.flip(-1) if bool(torch.rand((), generator=g) < 0.5) else crop)
    return torch.cat(crops)


def train_fast_style(
    style: torch.Tensor | str | os.PathLike[str],
    content: str | os.PathLike[str] | Sequence[str] | torch.Tensor = "samples",
    *,
    size: int = 128,
    style_size: int | None = None,
    steps: int = 300,
    batch: int = 2,
    lr: float = 1e-3,
    alpha_beta: float = 1e-2,
    content_layers: Sequence[str] = CONTENT_LAYERS,
    style_layers: Sequence[str] = STYLE_LAYERS,
    tv: float = 0.0,
    input_noise: float = 0.04,
    width: int = 16,
    blocks: int = 3,
    upsampler: str = "resize",
    weights: str = "random",
    arch: str | None = None,
    pooling: str = "max",
    net: FeatureNet | None = None,
    seed: int = 0,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> FastStyleNet:
    """A ``FastStyleNet`` trained with Adam for ``steps`` batches of random ``size`` crops of
    ``content``, whose inputs get Gaussian noise of std ``input_noise`` (robustness: the output
    should not hinge on pixel-level detail); the loss is ``alpha_beta · content + style``, the
    style image taken at ``style_size`` (default ``size``: Gram statistics are per position)."""
    from tqdm.auto import tqdm

    if size % 4 or size < 4:
        raise ValueError(f"size {size} does not fit: it must be a positive multiple of 4")
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got {steps} and {batch}")
    features = feature_net_for(net, weights, arch, pooling, device)
    target = as_image(style, style_size or size, device)
    loss_fn = Perceptual(
        features,
        style=target,
        style_layers=style_layers,
        content_layers=content_layers,
        alpha=alpha_beta,
        tv=tv,
    )
    pool = content_pool(content, size)
    with torch.random.fork_rng(devices=[]):  # seeded initialisation, global state untouched
        torch.manual_seed(seed)
        model = FastStyleNet(width, blocks, upsampler).to(device)
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    with tqdm(total=steps, desc=f"fast-style ({upsampler})", disable=not progress) as bar:
        for _ in range(steps):
            x = _batch(pool, batch, size, g)
            noisy = (x + input_noise * torch.randn(x.shape, generator=g)).clamp(0, 1).to(device)
            x = x.to(device)
            loss, parts = loss_fn(model(noisy), loss_fn.content_features(x))
            opt.zero_grad()
            loss.backward()
            opt.step()
            history.append(parts)
            bar.set_postfix(loss=f"{parts['total']:.4g}")
            bar.update()
    model.cpu().eval()
    model.meta = {
        "style": describe(style),
        "content": describe(content)
        if isinstance(content, (torch.Tensor, str, os.PathLike))
        else list(content),
        "content_images": len(pool),
        "size": size,
        "style_size": style_size or size,
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "alpha_beta": alpha_beta,
        "content_layers": list(content_layers),
        "style_layers": list(style_layers),
        "tv": tv,
        "input_noise": input_noise,
        "seed": seed,
        **net_settings(features, weights),
        "seconds": round(time.perf_counter() - start, 2),
        "final_losses": {k: sum(h[k] for h in history[-20:]) / len(history[-20:]) for k in parts},
        "loss_history": [round(h["total"], 4) for h in history],
    }
    return model


def save_fast_style(model: FastStyleNet, folder: str | os.PathLike[str]) -> Path:
    """``folder/fast_style.safetensors`` (weights + settings as metadata) and, beside it, the
    same document as ``fast_style.json``; returns the weights' path."""
    from safetensors.torch import save_file

    folder = Path(folder)
    doc = {"format": FORMAT, "format_version": 1, "config": model.config, "meta": model.meta}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    metadata = {FORMAT: json.dumps(doc, default=str)}
    path = write_atomically(
        folder / WEIGHTS_FILE, lambda tmp: save_file(state, str(tmp), metadata=metadata)
    )
    text = json.dumps(doc, indent=2, default=str)
    write_atomically(folder / "fast_style.json", lambda tmp: tmp.write_text(text))
    return path


def load_fast_style(path: str | os.PathLike[str]) -> FastStyleNet:
    """A network saved by ``save_fast_style`` (its folder or its ``.safetensors`` file), in eval
    mode with its parameters frozen; problems are one-line ``ValueError``/``OSError``s."""
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no fast-style model at {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            raw = (f.metadata() or {}).get(FORMAT)
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises several types for damaged files
        raise ValueError(f"{path}: not a readable model file ({type(e).__name__})") from None
    if raw is None:
        raise ValueError(f"{path}: not a datadistill fast-style model")
    doc = json.loads(raw)
    config = doc["config"]
    model = FastStyleNet(config["width"], config["blocks"], config["upsampler"])
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise ValueError(f"{path}: weights do not fit the settings {config}") from None
    model.meta = doc.get("meta", {})
    return model.eval().requires_grad_(False)


def stylize_fast(model: FastStyleNet, image: torch.Tensor) -> torch.Tensor:
    """One forward pass without gradients; ``image`` ``(N, 3, H, W)`` in [0, 1], any size: it is
    cropped to multiples of 4 first (bottom and right)."""
    h, w = image.shape[-2] // 4 * 4, image.shape[-1] // 4 * 4
    with torch.no_grad():
        return model(image[..., :h, :w])
