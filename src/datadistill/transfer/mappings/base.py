"""The interface of a mapping φ from the target domain (the student's images) into the source
domain (the teacher's), and its registry.

A mapping is a class with a dataclass ``Config``, built from ``(config, seed, source_info,
target_info)``. ``fit(source, target)`` learns what it must from the two domains' Big parts (a
no-op for fixed mappings); ``__call__`` maps normalised target images to normalised source-domain
images; ``teacher_set`` says what the teacher trains on (by default φ of the source's images:
the teacher learns the transformed domain); ``state_dict``/``load_state_dict`` carry its tensors
to and from a file. Adding a mapping is one new file with ``@MAPPINGS.register("name")`` plus one
import line in ``mappings/__init__.py``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import torch

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import TensorSet
from datadistill.registry import Registry
from datadistill.settings import make_config

FORMAT = "datadistill.mapping"
WEIGHTS = "mapping.safetensors"


@dataclasses.dataclass
class NoConfig:
    """For mappings without settings."""


def renormalise(x: torch.Tensor, frm: DatasetInfo, to: DatasetInfo) -> torch.Tensor:
    """Images normalised with ``frm``'s mean/std, normalised with ``to``'s instead."""
    if frm.mean == to.mean and frm.std == to.std:
        return x
    shape = (1, -1, 1, 1)
    mean_f, std_f = (
        torch.tensor(v, dtype=x.dtype, device=x.device).view(shape) for v in (frm.mean, frm.std)
    )
    mean_t, std_t = (
        torch.tensor(v, dtype=x.dtype, device=x.device).view(shape) for v in (to.mean, to.std)
    )
    return (x * std_f + mean_f - mean_t) / std_t


def to_pixels(x: torch.Tensor, info: DatasetInfo) -> torch.Tensor:
    """Images normalised with ``info``'s mean/std as pixels in [0, 1] (clipped), on their device."""
    mean = torch.tensor(info.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return (x * std + mean).clamp(0, 1)


def from_pixels(pixels: torch.Tensor, info: DatasetInfo) -> torch.Tensor:
    """Pixels in [0, 1] normalised with ``info``'s mean/std: the inverse of ``to_pixels``."""
    mean = torch.tensor(info.mean, dtype=pixels.dtype, device=pixels.device).view(1, -1, 1, 1)
    std = torch.tensor(info.std, dtype=pixels.dtype, device=pixels.device).view(1, -1, 1, 1)
    return (pixels - mean) / std


class Mapping(ABC):
    """φ: normalised target images ``(N, C, H, W)`` → normalised source-domain images."""

    Config: ClassVar[type] = NoConfig
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    trainable: ClassVar[bool] = False  # fit learns weights (worth caching)
    stochastic: ClassVar[bool] = False  # φ(x) draws randomness (from the generator handed in)
    family: ClassVar[str] = ""  # mappings of one family share their cached weights

    def __init__(
        self,
        config: Any = None,
        seed: int = 0,
        source_info: DatasetInfo | None = None,
        target_info: DatasetInfo | None = None,
    ) -> None:
        self.config = config if config is not None else self.Config()
        self.seed = seed
        self.target_info = target_info or source_info
        self.source_info = source_info or target_info
        if self.source_info is None:
            raise ValueError(f"mapping {self.name!r} needs the source or target DatasetInfo")
        self.check_domains()

    def check_domains(self) -> None:
        """Refuse a pair of domains this mapping cannot join (default: the same image shape)."""
        if self.source_info.shape != self.target_info.shape:
            raise ValueError(
                f"mapping {self.name!r} keeps the image shape, but the target "
                f"{self.target_info.name} is {self.target_info.shape} and the source "
                f"{self.source_info.name} is {self.source_info.shape}"
            )

    def fit(self, source: TensorSet, target: TensorSet, progress: bool = True) -> Mapping:
        """Learn from the source's and the target's Big parts; fixed mappings learn nothing."""
        return self

    @abstractmethod
    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """φ of one batch of normalised target images."""

    @torch.no_grad()
    def __call__(
        self, x: torch.Tensor, generator: torch.Generator | None = None, batch: int = 1024
    ) -> torch.Tensor:
        """φ(x) in batches; randomness (if any) from ``generator``, by default one seeded with
        the mapping's seed, so the same images and seed give the same result."""
        g = generator if generator is not None else torch.Generator().manual_seed(self.seed)
        out = [self.forward(x[i : i + batch], g) for i in range(0, len(x), batch)]
        return torch.cat(out) if out else x.new_zeros((0, *self.source_info.shape))

    def teacher_set(
        self, source: TensorSet, target: TensorSet, generator: torch.Generator | None = None
    ) -> TensorSet:
        """What the teacher learns from (and is tested on): φ of the source's images (as the
        target's normalisation has them, so φ reads them as it reads the student's)."""
        x = renormalise(source.images, self.source_info, self.target_info)
        return TensorSet(self(x, generator), source.labels, source.num_classes)

    def domain_info(self) -> DatasetInfo:
        """The teacher's domain: the source, named after the mapping when it changes images."""
        return dataclasses.replace(self.source_info, name=f"{self.source_info.name}+{self.name}")

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The tensors that define φ besides its settings and seed (none by default)."""
        return {}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if state:
            raise ValueError(f"mapping {self.name!r} has no weights, got {sorted(state)}")

    def describe(self) -> dict[str, Any]:
        """Name, settings, seed and domains: what, with the weights, makes this φ."""
        return {
            "mapping": self.name,
            "config": dataclasses.asdict(self.config),
            "seed": self.seed,
            "source": self.source_info.to_dict(),
            "target": self.target_info.to_dict(),
        }

    def key(self, *fingerprints: str) -> str:
        """A hash of ``describe()`` (under the family's name) and the given data fingerprints:
        the cache key of a trained mapping's weights."""
        what = {**self.describe(), "mapping": self.family or self.name}
        ident = json.dumps([what, *fingerprints], sort_keys=True, default=str)
        return hashlib.sha256(ident.encode()).hexdigest()[:16]


# Mappings register themselves in this package, which imports this module: loaded on first lookup.
MAPPINGS: Registry[type[Mapping]] = Registry("mapping", ("datadistill.transfer.mappings",))


def list_mappings(pattern: str = "*") -> list[str]:
    return MAPPINGS.names(pattern)


def create_mapping(
    name: str,
    config: dict[str, Any] | Any = None,
    seed: int = 0,
    source_info: DatasetInfo | None = None,
    target_info: DatasetInfo | None = None,
) -> Mapping:
    """The registered mapping ``name`` with ``config`` (a dict of settings or its ``Config``)."""
    cls = MAPPINGS.get(name)
    if not isinstance(config, cls.Config):
        config = make_config(cls.Config, config, where=f"mapping {name}")
    return cls(config, seed, source_info, target_info)


def save_mapping(mapping: Mapping, folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/mapping.safetensors`` (weights + JSON description) and ``mapping.json``."""
    from safetensors.torch import save_file

    folder = Path(folder)
    doc = {"format": FORMAT, **mapping.describe()}
    if getattr(mapping, "history", None):
        doc["history"] = mapping.history  # a trained mapping's loss per epoch
    state = {k: v.detach().cpu().contiguous() for k, v in mapping.state_dict().items()}
    path = write_atomically(
        folder / WEIGHTS,
        lambda tmp: save_file(state, str(tmp), metadata={FORMAT: json.dumps(doc)}),
    )
    write_atomically(folder / "mapping.json", lambda tmp: tmp.write_text(json.dumps(doc, indent=2)))
    return path


def load_mapping(path: str | os.PathLike[str]) -> Mapping:
    """A mapping saved by ``save_mapping`` (its folder or its ``.safetensors`` file)."""
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such mapping file")
    try:
        with safe_open(str(path), framework="pt") as f:
            doc = json.loads((f.metadata() or {})[FORMAT])
            state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as e:  # safetensors raises several types for damaged files
        raise ValueError(f"{path}: not a readable mapping file ({type(e).__name__}: {e})") from None
    try:
        mapping = create_mapping(
            doc["mapping"],
            doc["config"],
            doc["seed"],
            DatasetInfo.from_dict(doc["source"]),
            DatasetInfo.from_dict(doc["target"]),
        )
        mapping.load_state_dict(state)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: inconsistent mapping file ({type(e).__name__}: {e})") from None
    if "history" in doc:
        mapping.history = doc["history"]
    return mapping
