"""The teaching generator of a GTN (Such et al. 2020): noise and a class label in, an image of the
dataset's normalised space out, with every layer weight-normalised (the paper found that
essential for stable meta-gradients).

Optional learned parts, all ordinary parameters of the module so that one file holds them:
a curriculum (one learned noise batch per inner step, the paper's best variant) and the learner's
inner learning rate and momentum. ``emit`` turns a generator into a ``SyntheticSet`` of any size.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.synset import SetFileError, SyntheticSet

FORMAT = "datadistill.gtn-generator"
_META_KEY = "datadistill"
SET_PREFIX = "generator."  # the generator's tensors among a set's extras


@dataclass
class GeneratorConfig:
    """What builds a generator: the dataset it draws for, its size, the per-channel output range
    (the real data's, in its normalised space), and its optional learned parts."""

    info: dict[str, Any]
    low: list[float]
    high: list[float]
    noise_dim: int = 32
    width: int = 32
    curriculum_steps: int = 0  # learned noise batches (0: fresh noise every step)
    batch_size: int = 32  # images per curriculum batch
    lr_init: float = 0.02
    momentum_init: float = 0.5
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # as JSON holds them (lists, not tuples): a loaded config equals the saved one
        self.info = json.loads(json.dumps(self.info))
        self.low, self.high = [float(v) for v in self.low], [float(v) for v in self.high]
        info = self.dataset
        h, w = info.size
        if h % 4 or w % 4:
            raise ValueError(f"the generator needs image sides divisible by 4, got {h}×{w}")
        if len(self.low) != info.channels or len(self.high) != info.channels:
            raise ValueError(f"low/high need one value per channel ({info.channels})")
        for name in ("noise_dim", "width", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.curriculum_steps < 0:
            raise ValueError(f"curriculum_steps must be >= 0, got {self.curriculum_steps}")
        if not (self.lr_init > 0 and 0 <= self.momentum_init < 1):
            raise ValueError("lr_init must be > 0 and momentum_init in [0, 1)")

    @property
    def dataset(self) -> DatasetInfo:
        return DatasetInfo.from_dict(self.info)


def _wn(layer: nn.Module) -> nn.Module:
    return weight_norm(layer)


class TeachingGenerator(nn.Module):
    """``forward(z, labels)``: images ``(B, C, H, W)`` for noise ``(B, noise_dim)`` and class
    indices ``(B,)``; two weight-normalised linear layers to a ``H/4 × W/4`` map, then two
    upsample-and-convolve stages, a tanh scaled into the data's per-channel range."""

    def __init__(self, config: GeneratorConfig, seed: int = 0) -> None:
        super().__init__()
        self.config = config
        info = config.dataset
        self.num_classes = info.num_classes
        self.shape = info.shape
        w, (h4, w4) = config.width, (info.size[0] // 4, info.size[1] // 4)
        self.base = (2 * w, h4, w4)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.fc1 = _wn(nn.Linear(config.noise_dim + info.num_classes, 4 * w))
            self.fc2 = _wn(nn.Linear(4 * w, 2 * w * h4 * w4))
            self.conv1 = _wn(nn.Conv2d(2 * w, w, 3, padding=1))
            self.conv2 = _wn(nn.Conv2d(w, info.channels, 3, padding=1))
            steps = config.curriculum_steps
            noise = torch.randn(steps, config.batch_size, config.noise_dim)
        self.noise = nn.Parameter(noise) if steps else None
        self.raw_lr = nn.Parameter(torch.tensor(math.log(math.expm1(config.lr_init))))
        m = config.momentum_init
        self.raw_momentum = nn.Parameter(torch.tensor(math.log(m + 1e-6) - math.log1p(-m)))
        low, high = torch.tensor(config.low), torch.tensor(config.high)
        self.register_buffer("mid", ((low + high) / 2).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("span", ((high - low) / 2).view(1, -1, 1, 1), persistent=False)

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        onehot = F.one_hot(labels, self.num_classes).to(z.dtype)
        h = F.leaky_relu(self.fc1(torch.cat([z, onehot], 1)), 0.2)
        h = F.leaky_relu(self.fc2(h), 0.2).view(len(z), *self.base)
        h = F.leaky_relu(self.conv1(F.interpolate(h, scale_factor=2.0)), 0.2)
        h = self.conv2(F.interpolate(h, scale_factor=2.0))
        return self.mid + self.span * torch.tanh(h)

    @property
    def inner_lr(self) -> torch.Tensor:
        """The learner's learning rate (softplus of a raw value: always positive)."""
        return F.softplus(self.raw_lr)

    @property
    def inner_momentum(self) -> torch.Tensor:
        """The learner's momentum (sigmoid of a raw value: in (0, 1))."""
        return torch.sigmoid(self.raw_momentum)

    def batch_labels(self, n: int) -> torch.Tensor:
        """The labels of an ``n``-image training batch: classes in turn, ``i mod K``."""
        return torch.arange(n, device=self.mid.device) % self.num_classes

    def curriculum(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The learned curriculum's batches in step order, concatenated (step ``k`` is rows
        ``k·B … (k+1)·B − 1``), with their labels; ``None`` without a curriculum."""
        if self.noise is None:
            return None
        steps, batch = self.noise.shape[:2]
        labels = self.batch_labels(batch).repeat(steps)
        with torch.no_grad():
            return self(self.noise.detach().reshape(steps * batch, -1), labels), labels

    def emit(self, ipc: int, seed: int = 0) -> SyntheticSet:
        """``ipc`` images per class, class-ordered. Without a curriculum the noise is a draw
        seeded by ``seed``; with one, class ``c`` takes the learned noise vectors labelled ``c``
        in step order (the ones the learners were taught with), then seeded draws if it needs
        more than the curriculum holds."""
        if ipc <= 0:
            raise ValueError(f"ipc must be a positive number of images per class, got {ipc}")
        k, nz = self.num_classes, self.config.noise_dim
        device = self.mid.device
        g = torch.Generator().manual_seed(seed)
        z = torch.randn(k, ipc, nz, generator=g).to(device)
        if self.noise is not None:
            flat = self.noise.detach().reshape(-1, nz)
            labels = self.batch_labels(self.noise.shape[1]).repeat(self.noise.shape[0])
            for c in range(k):
                mine = flat[labels == c][:ipc]
                z[c, : len(mine)] = mine
        labels = torch.arange(k, device=device).repeat_interleave(ipc)
        with torch.no_grad():
            images = self(z.reshape(k * ipc, nz), labels)
        out = SyntheticSet(images, labels, self.config.dataset, "gtn", seed=seed, ipc=ipc)
        out.meta["emit_seed"] = seed
        out.meta["gtn_inner_lr"] = float(self.inner_lr.detach())
        out.meta["gtn_inner_momentum"] = float(self.inner_momentum.detach())
        return out


def config_from(info: DatasetInfo, images: torch.Tensor, **settings: Any) -> GeneratorConfig:
    """A generator config whose output range is the per-channel [min, max] of ``images``."""
    flat = images.detach().transpose(0, 1).reshape(info.channels, -1).float()
    return GeneratorConfig(
        info.to_dict(), flat.min(1).values.tolist(), flat.max(1).values.tolist(), **settings
    )


def generator_state(gen: TeachingGenerator) -> dict[str, torch.Tensor]:
    """Its parameters, detached on the CPU, by name (the weight-norm parts included)."""
    return {k: v.detach().cpu().contiguous() for k, v in gen.state_dict().items()}


def save_generator(gen: TeachingGenerator, path: str | os.PathLike[str]) -> Path:
    """One safetensors file: the tensors, and the config as JSON in its metadata (atomically)."""
    from safetensors.torch import save_file

    doc = {"format": FORMAT, "config": asdict(gen.config)}
    metadata = {_META_KEY: json.dumps(doc)}
    tensors = generator_state(gen)
    return write_atomically(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))


def _build(
    config: dict[str, Any], tensors: dict[str, torch.Tensor], where: str
) -> TeachingGenerator:
    try:
        gen = TeachingGenerator(GeneratorConfig(**config))
        gen.load_state_dict(tensors)
    except (TypeError, ValueError, RuntimeError, KeyError) as e:
        msg = str(e).splitlines()[0]
        raise SetFileError(f"{where}: inconsistent generator ({type(e).__name__}: {msg})") from None
    return gen


def generator_of(synset: SyntheticSet) -> TeachingGenerator:
    """The generator a ``gtn`` set carries (its extras and ``meta["generator"]``)."""
    if "generator" not in synset.meta:
        raise SetFileError(f"a {synset.method!r} set holds no generator (not made by gtn)")
    n = len(SET_PREFIX)
    tensors = {k[n:]: v for k, v in synset.extras.items() if k.startswith(SET_PREFIX)}
    return _build(synset.meta["generator"], tensors, "set")


def load_generator(path: str | os.PathLike[str]) -> TeachingGenerator:
    """A generator from its own file (``save_generator``) or from a ``gtn`` set file."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise SetFileError(f"{path}: no such generator file")
    try:
        with safe_open(str(path), framework="pt") as f:
            doc = json.loads((f.metadata() or {}).get(_META_KEY, "{}"))
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:
        raise SetFileError(f"{path}: not a readable file ({type(e).__name__}: {e})") from None
    if isinstance(doc, dict) and doc.get("format") == FORMAT:
        return _build(doc.get("config", {}), tensors, str(path))
    try:
        return generator_of(SyntheticSet.load(path))
    except SetFileError as e:
        raise SetFileError(f"{path}: neither a generator nor a gtn set ({e})") from None
