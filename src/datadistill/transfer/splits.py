"""A training split cut into ``big`` (the teacher's) and ``small`` (the student's), stratified
and seeded; the test split stays the dataset's."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import TensorSet


def _shares(counts: list[int], total: int) -> list[int]:
    """``total`` divided among classes in proportion to ``counts`` (largest remainders), never
    more than a class has."""
    n = sum(counts)
    exact = [total * c / n for c in counts]
    shares = [int(e) for e in exact]
    order = sorted(range(len(counts)), key=lambda c: exact[c] - shares[c], reverse=True)
    for c in order[: total - sum(shares)]:
        shares[c] += 1
    return [min(s, c) for s, c in zip(shares, counts, strict=True)]


def split_indices(
    labels: torch.Tensor, num_classes: int, big: int | None, small: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of the ``big`` and ``small`` parts of a split with ``labels``: disjoint, each
    stratified (class shares as in the whole split), drawn with ``seed``. ``big=None``: every
    image not in ``small``."""
    n = len(labels)
    if small < 1:
        raise ValueError(f"small must be >= 1, got {small}")
    if big is not None and big < 1:
        raise ValueError(f"big must be >= 1, got {big}")
    if small + (big or 0) > n:
        raise ValueError(f"big ({big}) + small ({small}) is more than the split's {n} images")
    labels = labels.cpu()
    g = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(labels == c).flatten() for c in range(num_classes)]
    per_class = [ix[torch.randperm(len(ix), generator=g)] for ix in per_class]
    counts = [len(ix) for ix in per_class]
    small_k = _shares(counts, small)
    rest = [cnt - k for cnt, k in zip(counts, small_k, strict=True)]
    big_k = rest if big is None else _shares(rest, big)
    small_ix = torch.cat([ix[:k] for ix, k in zip(per_class, small_k, strict=True)])
    big_ix = torch.cat([ix[s : s + k] for ix, s, k in zip(per_class, small_k, big_k, strict=True)])
    return torch.sort(big_ix).values, torch.sort(small_ix).values


def split_big_small(
    split: TensorSet, big: int | None = 59_000, small: int = 1_000, seed: int = 0
) -> tuple[TensorSet, TensorSet]:
    """``(big, small)`` parts of ``split`` (see ``split_indices``)."""
    big_ix, small_ix = split_indices(split.labels, split.num_classes, big, small, seed)
    device = split.labels.device
    return split.subset(big_ix.to(device)), split.subset(small_ix.to(device))
