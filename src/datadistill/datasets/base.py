"""The loader contract: every dataset is one function ``(root, download) -> RawData`` in a registry."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from datadistill.datasets.info import DatasetInfo
from datadistill.registry import Registry


class DataNotFoundError(FileNotFoundError):
    """The files of a dataset are not under the data root (and were not, or could not be, downloaded)."""

    def __str__(self) -> str:
        return str(self.args[0])


class DataFormatError(ValueError):
    """A dataset file exists but is not in the format expected (truncated, corrupt, wrong shape)."""


@dataclass
class RawData:
    """What a loader returns: images as uint8 (or float in [0, 1]) ``(N, C, H, W)`` and labels."""

    info: DatasetInfo
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


Loader = Callable[[Path, bool], RawData]
DATASETS: Registry[Loader] = Registry("dataset")


def default_root() -> Path:
    """The user cache directory used when neither ``--data-root`` nor ``DATADISTILL_DATA`` is set."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "datadistill"


def resolve_root(root: str | os.PathLike[str] | None) -> Path:
    """``root`` if given, then the environment variable ``DATADISTILL_DATA``, then the user cache."""
    if root is not None:
        return Path(root).expanduser()
    env = os.environ.get("DATADISTILL_DATA")
    return Path(env).expanduser() if env else default_root()


def missing(
    name: str, root: Path, files: list[str], layout: str, download_hint: bool
) -> DataNotFoundError:
    """The one clear error for absent data: which files, where, and the layout expected."""
    hint = " (or pass --download / download=True to fetch them)" if download_hint else ""
    listed = ", ".join(files)
    return DataNotFoundError(
        f"{name}: files not found under {root}: {listed}. Expected layout: {layout}{hint}"
    )
