"""Expert trajectories for trajectory matching (MTT, Cazenavette et al. 2022): networks trained on
the real training split with plain SGD (no momentum, no weight decay, as the reference's
``buffer.py``), their parameters saved after every epoch.

Each expert is one safetensors file ``expert-<i>.safetensors`` holding, per parameter, a tensor
``(epochs + 1, *shape)`` (epoch 0 is the initialisation) in a folder under the user cache keyed by a
hash of everything that determines the trajectories except their length: dataset, the training
split's content (``fingerprint``), ZCA, model, learning rate, batch size, augmentation, seed.
Epoch ``e`` of expert ``i`` draws its batches and augmentations from a generator seeded by
``(seed, i, e)``, so a trajectory continued to more epochs equals one trained that long at once:
a cached expert is reused by any run that needs at most its epochs, and extended otherwise.
Experts are written one by one (atomically), so an interrupted training resumes at the next one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from datadistill.datasets.augmentation import create_augmentation
from datadistill.datasets.base import default_root
from datadistill.datasets.tensorset import DataSplits
from datadistill.evaluation.train import fit
from datadistill.models import create_seeded_model
from datadistill.selection.embedding import fingerprint
from datadistill.settings import at_least, positive
from datadistill.synset import SetFileError

# One trajectory: per parameter name a tensor (epochs + 1, *shape).
Trajectory = dict[str, torch.Tensor]


@dataclass(frozen=True)
class ExpertConfig:
    """How experts are trained (the reference: lr 0.01, batch 256, DSA, momentum 0)."""

    model: str = "convnet"
    lr: float = 0.01
    batch_size: int = 256
    augment: str = "dsa"
    seed: int = 0

    def __post_init__(self) -> None:
        positive(self, "lr")
        at_least(self, 1, "batch_size")


def cache_dir() -> Path:
    return default_root() / "experts"


def expert_folder(data: DataSplits, cfg: ExpertConfig) -> Path:
    """The cache folder of ``cfg``'s experts on ``data.train``."""
    ident = {
        "dataset": data.info.name,
        "n_train": len(data.train),
        "content": fingerprint(data.train),
        "val_seed": data.val_seed,
        "zca": data.zca is not None,
        "flip": data.info.flip,
        **asdict(cfg),
    }
    key = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / f"{data.info.name}-{cfg.model}-{key}"


def load_trajectory(path: Path, epochs: int | None = None) -> Trajectory:
    """An expert file, cut to its first ``epochs + 1`` entries; a damaged file is a clear error."""
    from safetensors.torch import load_file

    try:
        traj = load_file(str(path))
        lengths = {v.shape[0] for v in traj.values()}
        if len(lengths) != 1:
            raise ValueError("its parameters disagree on the number of epochs")
    except Exception as e:
        raise SetFileError(
            f"{path}: not a readable expert trajectory ({type(e).__name__}: {e}); delete it to "
            "train that expert again"
        ) from None
    return traj if epochs is None else {k: v[: epochs + 1] for k, v in traj.items()}


def trajectory_epochs(traj: Trajectory) -> int:
    return next(iter(traj.values())).shape[0] - 1


def _train_expert(
    data: DataSplits, cfg: ExpertConfig, index: int, epochs: int, start: Trajectory | None
) -> Trajectory:
    """Expert ``index`` trained to ``epochs`` epochs, continuing ``start`` when given."""
    device = data.train.images.device
    net = create_seeded_model(cfg.model, data.info, cfg.seed * 100_003 + index, device)
    aug = create_augmentation(cfg.augment, flip=data.info.flip)
    names = [n for n, _ in net.named_parameters()]
    if start is not None:
        done = trajectory_epochs(start)
        with torch.no_grad():
            for n, p in net.named_parameters():
                p.copy_(start[n][done])
        saved = {n: list(start[n].unbind(0)) for n in names}
    else:
        done = 0
        saved = {n: [p.detach().cpu().clone()] for n, p in net.named_parameters()}
    for epoch in range(done, epochs):
        seed = (cfg.seed * 100_003 + index) * 100_003 + epoch
        fit(
            net,
            data.train.images,
            data.train.labels,
            epochs=1,
            lr=cfg.lr,
            momentum=0.0,
            weight_decay=0.0,
            batch_size=cfg.batch_size,
            generator=torch.Generator().manual_seed(seed),
            augmentation=aug,
            lr_decay=False,
        )
        for n, p in net.named_parameters():
            saved[n].append(p.detach().cpu().clone())
    return {n: torch.stack(saved[n]) for n in names}


def expert_trajectories(
    data: DataSplits,
    cfg: ExpertConfig,
    experts: int,
    epochs: int,
    *,
    cache: bool = True,
    progress: bool = True,
) -> list[Trajectory]:
    """``experts`` trajectories of ``epochs`` epochs each (``epochs + 1`` parameter sets), from the
    cache where they are there (longer ones are cut, shorter ones extended), trained otherwise.

    Only the first ``epochs + 1`` entries are returned (held in memory); the files keep all."""
    from safetensors.torch import save_file

    if experts < 1 or epochs < 1:
        raise ValueError(f"experts and epochs must be at least 1, got {experts} and {epochs}")
    folder = expert_folder(data, cfg)
    device = data.train.images.device
    out = []
    bar = tqdm(range(experts), desc=f"experts ({folder.name})", disable=not progress, leave=False)
    for i in bar:
        path = folder / f"expert-{i}.safetensors"
        traj = load_trajectory(path) if cache and path.is_file() else None
        if traj is None or trajectory_epochs(traj) < epochs:
            traj = _train_expert(data, cfg, i, epochs, traj)
            if cache:
                folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.tmp")
                save_file({k: v.contiguous() for k, v in traj.items()}, str(tmp))
                tmp.replace(path)
                meta = folder / "settings.json"
                meta.write_text(json.dumps({"dataset": data.info.name, **asdict(cfg)}, indent=1))
        # fresh allocations: read and just-trained trajectories then sit at the same alignment,
        # so vectorised sums over them round alike and a run is the same whether it trained
        # its experts or read them (bit-for-bit resume)
        out.append({k: v[: epochs + 1].to(device).clone() for k, v in traj.items()})
    return out
