"""Report figures: accuracy against images per class, one line per method (matplotlib, PNG)."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

from datadistill.atomic import save_figure
from datadistill.report.summary import Summary


def plot_accuracy_vs_ipc(
    summaries: list[Summary], path: str | os.PathLike[str], title: str
) -> Path:
    """Mean ± std accuracy against ipc (log scale), one line per method, the full training
    split (ipc 0) as a dashed line; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines: dict[str, list[Summary]] = defaultdict(list)
    for s in summaries:
        lines[s.method].append(s)
    full = [s for s in lines.pop("full", []) if s.ipc == 0]
    summaries = [s for items in lines.values() for s in items]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for s in full:
        ax.axhline(s.mean, color="gray", linestyle="--", label="full training set")
    for method, items in sorted(lines.items()):
        items.sort(key=lambda s: s.ipc)
        ax.errorbar(
            [s.ipc for s in items],
            [s.mean for s in items],
            yerr=[s.std for s in items],
            marker="o",
            capsize=3,
            label=method,
        )
    ipcs = sorted({s.ipc for s in summaries})
    if len(ipcs) > 1:
        ax.set_xscale("log")
        ax.minorticks_off()
    ax.set_xticks(ipcs, [str(i) for i in ipcs])
    ax.set_xlabel("images per class")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path, dpi=110)
