"""Typed description of a dataset: what every model and method needs to know about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DatasetInfo:
    """Shape, classes and normalisation of an image dataset.

    ``mean``/``std`` are per channel, on pixel values scaled to [0, 1]; images held in memory are
    normalised with them. ``eval_augment`` is the evaluation augmentation the field's reference code
    uses for this dataset (``"dc"`` for MNIST, ``"none"`` elsewhere). ``flip`` says whether a
    horizontal flip preserves the class (not for digits or characters).
    """

    name: str
    channels: int
    size: tuple[int, int]
    num_classes: int
    class_names: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    eval_augment: str = "none"
    flip: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.class_names) != self.num_classes:
            raise ValueError(
                f"{self.name}: {len(self.class_names)} class names for {self.num_classes} classes"
            )
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError(f"{self.name}: mean/std must have one value per channel")

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.channels, *self.size)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetInfo:
        d = dict(d)
        for key in ("size", "class_names", "mean", "std"):
            d[key] = tuple(d[key])
        return cls(**d)
