"""``kd``: one experiment end to end. Load the target (and source), cut each training split into
Big and Small, fit the mapping, train (or load) the teacher on its domain's Big part, then train
students on the target's Small part with the teacher and without it (λ = 1) under the same seeds,
and write the curves, the pictures and a JSON record when given a folder."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from datadistill.atomic import write_atomically
from datadistill.datasets.loading import load_dataset
from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.evaluation.protocol import run_seeds
from datadistill.inspect.modelfile import TrainedModel, save_model
from datadistill.synset import git_commit
from datadistill.transfer.config import KDConfig
from datadistill.transfer.mappings.base import Mapping, create_mapping, save_mapping
from datadistill.transfer.splits import split_big_small
from datadistill.transfer.student import (
    StudentRun,
    as_config,
    teacher_logits,
    test_scores,
    train_student,
)
from datadistill.transfer.teacher import fitted_mapping, load_teacher, train_teacher

STUDENT_STREAM = 1  # φ of the student's images draws from seed + this (the teacher's Big: seed)


def _mean_std(values: list[float]) -> tuple[float, float]:
    t = torch.tensor(values, dtype=torch.float64)
    std = float(t.std()) if len(values) > 1 else 0.0
    return float(t.mean()), std


@dataclass
class Prepared:
    """Everything students need: the target's Small part and test split, the fitted mapping,
    the teacher, and its logits on φ of the Small images (shared by all students)."""

    target: DataSplits
    source: DataSplits
    small: TensorSet
    mapping: Mapping
    teacher: TrainedModel
    logits: torch.Tensor
    teacher_scores: dict[str, float]


@dataclass
class KDResult:
    """An experiment's students with and without the teacher (paired by seed), the teacher's
    accuracies and what made them."""

    target: str
    source: str
    mapping: Mapping
    teacher: TrainedModel
    config: KDConfig
    with_teacher: list[StudentRun]
    without_teacher: list[StudentRun]
    teacher_scores: dict[str, float] = field(default_factory=dict)
    prepared: Prepared | None = field(default=None, repr=False)  # data, φ, teacher, logits

    def summary(self) -> dict[str, Any]:
        """Final test accuracy and cross-entropy, mean ± std over seeds, with and without the
        teacher, and the paired differences (with − without) with their std."""
        out: dict[str, Any] = {"seeds": len(self.with_teacher)}
        for measure in ("acc", "ce"):
            w = [getattr(r, f"final_{measure}") for r in self.with_teacher]
            wo = [getattr(r, f"final_{measure}") for r in self.without_teacher]
            diff = [a - b for a, b in zip(w, wo, strict=True)]
            for tag, values in (("with", w), ("without", wo), ("diff", diff)):
                mean, std = _mean_std(values)
                out[f"{measure}_{tag}_mean"] = round(mean, 4)
                out[f"{measure}_{tag}_std"] = round(std, 4)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "source": self.source,
            "mapping": self.mapping.describe(),
            "mapping_history": getattr(self.mapping, "history", None) or None,
            "config": {("lambda" if k == "lam" else k): v for k, v in vars(self.config).items()},
            "teacher": {
                "architecture": self.teacher.architecture,
                "domain": self.teacher.info.name,
                **self.teacher_scores,
                "meta": self.teacher.meta,
            },
            "summary": self.summary(),
            "with_teacher": [r.to_dict() for r in self.with_teacher],
            "without_teacher": [r.to_dict() for r in self.without_teacher],
            "torch": torch.__version__,
            "commit": git_commit(),
            "machine": f"{platform.machine()} {platform.processor()}".strip(),
            "threads": torch.get_num_threads(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }


def _data(
    name: str | DataSplits, root: str | os.PathLike[str] | None, device: str | torch.device
) -> DataSplits:
    """A dataset by name with all of its training split (no validation part: every choice here
    is fixed in advance, none is made on held-out data), or splits as given."""
    if isinstance(name, DataSplits):
        return name
    return load_dataset(name, root, val_size=0, device=device)


def prepare(
    target: str | DataSplits,
    source: str | DataSplits | None = None,
    mapping: str | Mapping = "identity",
    *,
    config: KDConfig | dict[str, Any] | None = None,
    mapping_config: dict[str, Any] | None = None,
    teacher: str | os.PathLike[str] | TrainedModel | None = None,
    data_root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    cache: bool = True,
    progress: bool = True,
) -> Prepared:
    """Data, splits, mapping and teacher of an experiment (see ``kd``)."""
    cfg = as_config(config)
    tgt = _data(target, data_root, device)
    src = tgt if source is None or source == tgt.info.name else _data(source, data_root, device)
    if src.info.num_classes != tgt.info.num_classes:
        raise ValueError(
            f"the source {src.info.name} has {src.info.num_classes} classes and the target "
            f"{tgt.info.name} {tgt.info.num_classes}: a teacher needs the student's classes"
        )
    if isinstance(mapping, Mapping):
        phi = mapping
    else:
        phi = create_mapping(mapping, mapping_config, cfg.mapping_seed, src.info, tgt.info)
    t_big, t_small = split_big_small(tgt.train, cfg.big, cfg.small, cfg.split_seed)
    s_big = (
        t_big if src is tgt else split_big_small(src.train, cfg.big, cfg.small, cfg.split_seed)[0]
    )
    phi = fitted_mapping(phi, s_big, t_big, cache=cache, progress=progress)
    domain = phi.domain_info()
    stream = torch.Generator().manual_seed(phi.seed + STUDENT_STREAM)
    domain_test = phi.teacher_set(src.test, tgt.test, stream)
    if isinstance(teacher, TrainedModel):
        trained = teacher
    elif teacher is not None:
        trained = load_teacher(teacher, domain, device)
    else:
        trained = train_teacher(
            phi.teacher_set(s_big, t_big),
            domain_test,
            domain,
            cfg,
            cache=cache,
            progress=progress,
        )
    mapped_test = phi(tgt.test.images, stream)
    scores = {
        "acc_own_test": round(test_scores(trained.model, domain_test)[0], 3),
        "acc_mapped_target_test": round(
            test_scores(
                trained.model, TensorSet(mapped_test, tgt.test.labels, tgt.test.num_classes)
            )[0],
            3,
        ),
    }
    logits = teacher_logits(trained.model, t_small.images, phi, stream)
    scores["acc_mapped_small"] = round(
        100.0 * float((logits.argmax(1) == t_small.labels).float().mean()), 3
    )
    return Prepared(tgt, src, t_small, phi, trained, logits, scores)


def kd(
    target: str | DataSplits,
    source: str | DataSplits | None = None,
    mapping: str | Mapping = "identity",
    *,
    config: KDConfig | dict[str, Any] | None = None,
    mapping_config: dict[str, Any] | None = None,
    seeds: int = 5,
    seed: int = 0,
    teacher: str | os.PathLike[str] | TrainedModel | None = None,
    data_root: str | os.PathLike[str] | None = None,
    device: str | torch.device = "cpu",
    out: str | os.PathLike[str] | None = None,
    cache: bool = True,
    progress: bool = True,
) -> KDResult:
    """Students on the target's Small part with the teacher (``config.lam``) and without it
    (λ = 1), ``seeds`` of each under the seeds ``run_seeds(seed, seeds)`` (paired).

    ``source`` defaults to the target (identity, noise, dilated-conv); the vae and
    generated-mnist mappings take another (``source="mnist"``, ``target="fashion-mnist"``).
    ``teacher``: a model file of the teacher's domain to use instead of training one. Teachers
    and trained mappings are cached (``cache=False``: trained afresh, not stored). ``out``: a
    folder for ``kd.json``, ``curves.png``, ``mapping.png`` (x beside φ(x)), the latent map of a
    2-d VAE, and the mapping's and the teacher's files."""
    from tqdm.auto import tqdm

    cfg = as_config(config)
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}")
    prep = prepare(
        target,
        source,
        mapping,
        config=cfg,
        mapping_config=mapping_config,
        teacher=teacher,
        data_root=data_root,
        device=device,
        cache=cache,
        progress=progress,
    )
    info, test = prep.target.info, prep.target.test
    plain = as_config(cfg, lam=1.0)
    with_t, without_t = [], []
    for s in tqdm(run_seeds(seed, seeds), desc="students", leave=False, disable=not progress):
        with_t.append(train_student(prep.small, test, info, config=cfg, seed=s, logits=prep.logits))
        without_t.append(train_student(prep.small, test, info, config=plain, seed=s))
    result = KDResult(
        prep.target.info.name,
        prep.source.info.name,
        prep.mapping,
        prep.teacher,
        cfg,
        with_t,
        without_t,
        prep.teacher_scores,
        prep,
    )
    if out is not None:
        write_outputs(result, prep, out)
    return result


def write_outputs(result: KDResult, prep: Prepared, out: str | os.PathLike[str]) -> Path:
    """``kd.json``, the curves, the mapping examples (and latent map), the mapping and teacher
    files, in ``out``; returns the JSON's path."""
    from datadistill.transfer import figures

    out = Path(out)
    save_mapping(result.mapping, out / "mapping")
    save_model(result.teacher, out / "teacher")
    figures.save_curves(result, out / "curves.png")
    figures.save_mapping_examples(
        result.mapping,
        prep.small,
        out / "mapping.png",
        generator=torch.Generator().manual_seed(result.mapping.seed + STUDENT_STREAM),
    )
    if getattr(result.mapping.config, "latent_dim", None) == 2:
        figures.save_latent_map(result.mapping, out / "latent-map.png")
    text = json.dumps(result.to_dict(), indent=1, default=str)
    return write_atomically(out / "kd.json", lambda tmp: tmp.write_text(text))
