"""Proxy score against ground truth, one panel per proxy."""

from __future__ import annotations

import os
from pathlib import Path

from datadistill.atomic import save_figure
from datadistill.nas.search import NASResult


def plot_agreement(result: NASResult, path: str | os.PathLike[str]) -> Path:
    """A PNG of scatter panels (ground-truth validation accuracy on x, the proxy's on y), titled
    with Spearman's ρ and Kendall's τ; the proxy's top pick is ringed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    proxies = list(result.scores)
    cols = min(4, len(proxies))
    rows = -(-len(proxies) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.flat[len(proxies) :]:
        ax.axis("off")
    for ax, name in zip(axes.flat, proxies, strict=False):
        score = result.scores[name]
        agree = result.agreement[name]
        ax.scatter(result.truth, score, s=14, alpha=0.8)
        best = max(range(len(score)), key=lambda i: (score[i], -i))
        ax.scatter([result.truth[best]], [score[best]], s=80, facecolors="none", edgecolors="red")
        rho, tau = (
            f"{v:.2f}" if v is not None else "n/a" for v in (agree["spearman"], agree["kendall"])
        )
        ax.set_title(f"{name}\nρ={rho}  τ={tau}", fontsize=9)
        ax.set_xlabel("ground truth val. acc. (%)", fontsize=8)
        ax.set_ylabel("proxy val. acc. (%)", fontsize=8)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return save_figure(fig, path, dpi=110, tight=False)
