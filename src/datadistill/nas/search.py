"""Rank candidate architectures by brief training on proxies and compare with the ground truth.

Every candidate starts from the same initial weights (seeded by its index) under every proxy and
under the ground truth, so only the training data and the budget differ. Scores are validation
accuracies (never test). Each (candidate, proxy) result is appended to ``cells.jsonl`` in the
output folder as it finishes, so an interrupted search resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.evaluation.train import accuracy
from datadistill.nas.proxies import ProxyData, parse_proxy, real_proxy
from datadistill.nas.ranking import ground_truth_ranks, rank_agreement
from datadistill.nas.space import SPACES, Candidate, candidate_name
from datadistill.settings import at_least, positive


@dataclass
class NASConfig:
    """Budgets: proxies train ``proxy_steps`` SGD steps, the ground truth ``truth_steps`` steps on
    the real training split (longer); ``ipc`` sizes the random and teaching-network proxies."""

    proxy_steps: int = 100
    truth_steps: int = 600
    batch_size: int = 64
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    ipc: int = 10
    val_images: int = 2000  # 0: the whole validation split
    top: int = 5

    def __post_init__(self) -> None:
        at_least(self, 1, "proxy_steps", "truth_steps", "batch_size", "ipc", "top")
        at_least(self, 0, "val_images", "momentum", "weight_decay")
        positive(self, "lr")
        if self.truth_steps <= self.proxy_steps:
            raise ValueError(
                f"truth_steps ({self.truth_steps}) must exceed proxy_steps ({self.proxy_steps})"
            )


def train_steps(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    config: NASConfig,
    generator: torch.Generator,
    ordered_batch: int = 0,
) -> nn.Module:
    """``steps`` SGD steps on batches drawn by passes over a fresh permutation of the data, or,
    with ``ordered_batch``, on its consecutive batches of that size in order, cycling (a
    teaching network's curriculum)."""
    opt = torch.optim.SGD(
        model.parameters(),
        lr=config.lr,
        momentum=config.momentum,
        weight_decay=config.weight_decay,
    )
    batch = min(config.batch_size, len(images))
    model.train()
    order = torch.empty(0, dtype=torch.long)
    for step in range(steps):
        if ordered_batch:
            start = step * ordered_batch % len(images)
            ix = torch.arange(start, start + ordered_batch)
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(images[ix]), labels[ix]).backward()
            opt.step()
            continue
        if len(order) < batch:
            order = torch.cat([order, torch.randperm(len(images), generator=generator)])
        ix, order = order[:batch], order[batch:]
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(images[ix]), labels[ix]).backward()
        opt.step()
    return model


@dataclass
class NASResult:
    """Per-candidate scores (``truth`` and one column per proxy), seconds, and the agreement."""

    space: str
    candidates: list[Candidate]
    truth: list[float]
    scores: dict[str, list[float]]
    seconds: dict[str, list[float]]
    agreement: dict[str, dict[str, Any]]
    config: dict[str, Any]
    dataset: str
    seed: int

    def to_dict(self) -> dict[str, Any]:
        ranks = ground_truth_ranks(self.truth)
        rows = [
            {
                "name": candidate_name(c),
                "candidate": c,
                "truth": self.truth[i],
                "truth_rank": ranks[i],
                **{p: s[i] for p, s in self.scores.items()},
            }
            for i, c in enumerate(self.candidates)
        ]
        cost = {p: sum(s) / len(s) for p, s in self.seconds.items()}
        return {
            "space": self.space,
            "dataset": self.dataset,
            "seed": self.seed,
            "config": self.config,
            "agreement": self.agreement,
            "seconds_per_candidate": cost,
            "candidates": rows,
        }

    def table(self) -> str:
        cost = self.to_dict()["seconds_per_candidate"]
        best = f"top{self.config['top']}_best_truth_rank"
        head = ("proxy", "spearman", "kendall", "top1", f"best{self.config['top']}", "s/cand")
        lines = ["{:<24} {:>8} {:>8} {:>5} {:>5} {:>7}".format(*head)]
        for p, a in self.agreement.items():
            lines.append(
                f"{p:<24} {_fmt(a['spearman']):>8} {_fmt(a['kendall']):>8} {a['top1_truth_rank']:>5} "
                f"{a[best]:>5} {cost[p]:>7.2f}"
            )
        lines.append(f"{'truth':<24} {'':>8} {'':>8} {'':>5} {'':>5} {cost['truth']:>7.2f}")
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


class _Cache:
    """Results by key in a JSON-lines file: appended as each finishes, read back on a rerun."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.done: dict[str, dict[str, float]] = {}
        if path is not None and path.exists():
            for line in path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a killed run: computed again
                self.done[row["key"]] = row

    def add(self, key: str, score: float, seconds: float) -> None:
        self.done[key] = {"key": key, "score": score, "seconds": seconds}
        if self.path is not None:
            with self.path.open("a") as f:
                f.write(json.dumps(self.done[key]) + "\n")


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def search(
    data: DataSplits,
    proxies: list[str],
    *,
    space: str = "convnet",
    candidates: int = 30,
    config: NASConfig | None = None,
    seed: int = 0,
    out: str | Path | None = None,
    progress: bool = True,
) -> NASResult:
    """Score ``candidates`` architectures sampled from ``space`` under each proxy and the ground
    truth; ``out``: a folder for the resumable per-cell results (``cells.jsonl``)."""
    config = config or NASConfig()
    if not proxies:
        raise ValueError("give at least one proxy (set:FILE, gtn:FILE, random, real)")
    search_space = SPACES.get(space)
    pool = search_space.sample(candidates, seed)
    if candidates < 2:
        raise ValueError("rank correlations need at least 2 candidates")
    prepared = [parse_proxy(p, data, config.ipc, seed) for p in proxies]
    names = [p.name for p in prepared]
    if len(set(names)) != len(names):
        raise ValueError(f"proxies repeat a name: {names}")
    val = data.val if config.val_images == 0 else _subset(data.val, config.val_images, seed)
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
    cache = _Cache(None if out is None else Path(out) / "cells.jsonl")
    budget = dataclasses.asdict(config)
    truth_data = real_proxy("", data, config.ipc, seed)
    runs: list[tuple[str, ProxyData, int]] = [(p.name, p, config.proxy_steps) for p in prepared]
    runs.append(("truth", truth_data, config.truth_steps))
    scores: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    seconds: dict[str, list[float]] = {name: [] for name, _, _ in runs}
    bar = tqdm(total=len(pool) * len(runs), desc="nas", unit="run", disable=not progress)
    with bar:
        for index, candidate in enumerate(pool):
            for name, proxy, steps in runs:
                key = _key(
                    data.info.name,
                    data.val_seed,
                    space,
                    candidate,
                    seed,
                    proxy.identity,
                    steps,
                    budget,
                )
                if key not in cache.done:
                    start = time.perf_counter()
                    score = _train_and_score(
                        search_space, candidate, index, seed, proxy, steps, config, data, val
                    )
                    cache.add(key, score, time.perf_counter() - start)
                scores[name].append(cache.done[key]["score"])
                seconds[name].append(cache.done[key]["seconds"])
                bar.update()
    truth = scores.pop("truth")
    agreement = {p: rank_agreement(s, truth, config.top) for p, s in scores.items()}
    return NASResult(space, pool, truth, scores, seconds, agreement, budget, data.info.name, seed)


def _subset(split: TensorSet, n: int, seed: int) -> TensorSet:
    if n >= len(split):
        return split
    ix = torch.randperm(len(split), generator=torch.Generator().manual_seed(seed))[:n]
    return TensorSet(split.images[ix], split.labels[ix], split.num_classes)


def _train_and_score(
    search_space: Any,
    candidate: Candidate,
    index: int,
    seed: int,
    proxy: ProxyData,
    steps: int,
    config: NASConfig,
    data: DataSplits,
    val: TensorSet,
) -> float:
    """One candidate, its fixed initial weights, trained on one proxy; validation accuracy."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed * 100_003 + index)
        model = search_space.build(candidate, data.info)
    generator = torch.Generator().manual_seed(seed * 100_003 + index)
    images = proxy.images.to(data.train.images.device)
    model.to(images.device)
    labels = proxy.labels.to(images.device)
    train_steps(model, images, labels, steps, config, generator, proxy.ordered_batch)
    return accuracy(model, val)
