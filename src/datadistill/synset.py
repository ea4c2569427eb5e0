"""The synthetic-set file: images, labels, learned rates and everything needed to reuse them.

One ``.safetensors`` file holds the tensors; its metadata holds one JSON document (dataset info,
method, full config, seed, versions, timings). Loading executes no code, checks what it reads, and
saving goes through a temporary file and an atomic rename, so an interrupted save never damages an
existing set.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from datadistill.atomic import write_atomically
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.zca import ZCA

FORMAT = "datadistill.synset"
FORMAT_VERSION = 1
_META_KEY = "datadistill"


class SetFileError(ValueError):
    """A set file that cannot be used: missing, truncated, corrupt, foreign or inconsistent."""


@dataclass
class SyntheticSet:
    """A distilled or selected set in the normalised (and, if ``zca``, whitened) image space.

    ``labels`` are class indices ``(M,)`` or soft targets ``(M, K)`` (distributions, or SLDD's
    learned label vectors, which may leave the simplex). ``lrs`` are learned per-step learning
    rates; when present the set is evaluated the way it was distilled (see
    ``datadistill.evaluation``). ``extras`` holds method-specific tensors (the source indices of
    a selection, scores, a fixed initialisation).
    """

    images: torch.Tensor
    labels: torch.Tensor
    info: DatasetInfo
    method: str
    config: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    ipc: int | None = None
    lrs: torch.Tensor | None = None
    zca: ZCA | None = None
    extras: dict[str, torch.Tensor] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    @property
    def soft(self) -> bool:
        return self.labels.ndim == 2

    @property
    def initialisation(self) -> dict[str, torch.Tensor] | None:
        """The parameters θ0 a fixed-initialisation set is tied to (its ``init.*`` extras)."""
        prefix = "init."
        tied = {k[len(prefix) :]: v for k, v in self.extras.items() if k.startswith(prefix)}
        return tied or None

    @property
    def hard_labels(self) -> torch.Tensor:
        return self.labels.argmax(1) if self.soft else self.labels

    def validate(self) -> None:
        """Raise ``SetFileError`` unless shapes, dtypes and label ranges agree with ``info``."""
        info, x, y = self.info, self.images, self.labels
        if x.ndim != 4 or tuple(x.shape[1:]) != info.shape:
            raise SetFileError(
                f"images have shape {tuple(x.shape)}, expected (M, {info.shape}) for {info.name}"
            )
        if not x.is_floating_point():
            raise SetFileError(f"images must be floating point, got {x.dtype}")
        if y.ndim == 1:
            if y.dtype != torch.int64 or y.shape[0] != x.shape[0]:
                raise SetFileError(f"hard labels must be int64 of shape ({x.shape[0]},)")
            if len(y) and (int(y.min()) < 0 or int(y.max()) >= info.num_classes):
                raise SetFileError(f"labels outside 0..{info.num_classes - 1}")
        elif y.ndim == 2:
            if y.shape != (x.shape[0], info.num_classes) or not y.is_floating_point():
                raise SetFileError(
                    f"soft labels must be float of shape ({x.shape[0]}, {info.num_classes})"
                )
        else:
            raise SetFileError(f"labels must be (M,) or (M, K), got shape {tuple(y.shape)}")
        if not torch.isfinite(x).all():
            raise SetFileError("images contain NaN or infinite values")
        if self.lrs is not None and (self.lrs.ndim != 1 or not self.lrs.is_floating_point()):
            raise SetFileError("lrs must be a 1-D float tensor")

    def to(self, device: torch.device | str) -> SyntheticSet:
        moved = {k: v.to(device) for k, v in self.extras.items()}
        lrs = None if self.lrs is None else self.lrs.to(device)
        return SyntheticSet(
            self.images.to(device),
            self.labels.to(device),
            self.info,
            self.method,
            self.config,
            self.seed,
            self.ipc,
            lrs,
            self.zca,
            moved,
            self.meta,
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (temporary file in the same folder, then rename)."""
        from safetensors.torch import save_file

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"images": self.images, "labels": self.labels}
        if self.lrs is not None:
            tensors["lrs"] = self.lrs
        if self.zca is not None:
            tensors["zca.mean"], tensors["zca.matrix"] = self.zca.mean, self.zca.matrix
        tensors.update({f"extras.{k}": v for k, v in self.extras.items()})
        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "info": self.info.to_dict(),
            "method": self.method,
            "config": self.config,
            "seed": self.seed,
            "ipc": self.ipc,
            "zca_reg": None if self.zca is None else self.zca.reg,
            "meta": self.meta,
        }
        metadata = {_META_KEY: json.dumps(doc)}
        return write_atomically(path, lambda tmp: save_file(tensors, str(tmp), metadata=metadata))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SyntheticSet:
        """Read and validate a set file; any problem is a ``SetFileError`` naming the file."""
        from safetensors import safe_open

        path = Path(path)
        if not path.is_file():
            raise SetFileError(f"{path}: no such set file")
        try:
            with safe_open(str(path), framework="pt") as f:
                raw_meta = (f.metadata() or {}).get(_META_KEY)
                tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
        except Exception as e:  # safetensors raises several types for damaged files
            raise SetFileError(
                f"{path}: not a readable set file ({type(e).__name__}: {e})"
            ) from None
        if raw_meta is None:
            raise SetFileError(
                f"{path}: a safetensors file, but not a datadistill set (no metadata)"
            )
        try:
            doc = json.loads(raw_meta)
            if not isinstance(doc, dict):
                raise SetFileError(f"{path}: metadata is not a JSON object; not a datadistill set")
            if doc.get("format") != FORMAT:
                raise SetFileError(f"{path}: foreign format {doc.get('format')!r}")
            if doc.get("format_version", 0) > FORMAT_VERSION:
                raise SetFileError(
                    f"{path}: written by a newer datadistill (format {doc['format_version']})"
                )
            zca = None
            if "zca.matrix" in tensors:
                zca = ZCA(tensors["zca.mean"], tensors["zca.matrix"], float(doc["zca_reg"]))
            return cls(
                images=tensors["images"],
                labels=tensors["labels"],
                info=DatasetInfo.from_dict(doc["info"]),
                method=doc["method"],
                config=doc.get("config", {}),
                seed=int(doc.get("seed", 0)),
                ipc=doc.get("ipc"),
                lrs=tensors.get("lrs"),
                zca=zca,
                extras={k[7:]: v for k, v in tensors.items() if k.startswith("extras.")},
                meta=doc.get("meta", {}),
            )
        except SetFileError as e:
            if str(e).startswith(str(path)):
                raise
            raise SetFileError(f"{path}: {e}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise SetFileError(f"{path}: inconsistent set file ({type(e).__name__}: {e})") from None


@functools.cache
def git_commit() -> str | None:
    """The commit of the datadistill checkout in use (``$DATADISTILL_COMMIT`` where the code runs
    from a copy without ``.git``, e.g. on a remote GPU machine), with ``-dirty`` appended when the
    tracked code (package and benchmark scripts) differs from it; for provenance only. Read once
    per process, so a long run is stamped with the code it started with even if HEAD moves."""
    if os.environ.get("DATADISTILL_COMMIT"):
        return os.environ["DATADISTILL_COMMIT"]
    here = Path(__file__).parent

    def git(*args: str) -> str:
        run = subprocess.run(
            ["git", *args], cwd=here, capture_output=True, text=True, timeout=5, check=True
        )
        return run.stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        code = (":(top)src", ":(top)benchmarks/*.py")  # not results, which benchmarks append to
        changed = git("status", "--porcelain", "--untracked-files=no", "--", *code)
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if commit and changed else commit or None
