"""How well a proxy's scores rank candidates against the ground truth."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from scipy import stats


def ground_truth_ranks(truth: Sequence[float]) -> list[int]:
    """Rank of each candidate by ground truth, 1 for the best (ties share the better rank)."""
    ranks = stats.rankdata([-t for t in truth], method="min")
    return [int(r) for r in ranks]


def rank_agreement(proxy: Sequence[float], truth: Sequence[float], top: int = 5) -> dict[str, Any]:
    """Spearman's ρ and Kendall's τ between ``proxy`` and ``truth`` (``None`` where one side is
    constant), and the ground-truth ranks of the proxy's top-1 and top-``top`` picks (1 = the
    truly best candidate)."""
    if len(proxy) != len(truth) or len(proxy) < 2:
        raise ValueError("rank agreement needs two equal-length score lists of >= 2 candidates")
    rho = stats.spearmanr(proxy, truth).statistic
    tau = stats.kendalltau(proxy, truth).statistic
    gt = ground_truth_ranks(truth)
    order = sorted(range(len(proxy)), key=lambda i: (-proxy[i], i))
    picks = [gt[i] for i in order[:top]]
    return {
        "spearman": None if math.isnan(rho) else float(rho),
        "kendall": None if math.isnan(tau) else float(tau),
        "top1_truth_rank": picks[0],
        f"top{top}_truth_ranks": picks,
        f"top{top}_best_truth_rank": min(picks),
    }
