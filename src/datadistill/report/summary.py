"""The numbers a report shows, computed from a results store's rows (no PyTorch needed).

A group is (dataset, method, ipc, evaluation model); its accuracy pools every run of every seed
(mean ± std over all of them). Relative scores divide by random real images at the same ipc (the
``random`` cells) and by the whole training split (the ``full`` cell, ipc 0), evaluated on the
same model.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from datadistill.report.published import Published, published

Group = tuple[str, str, int, str]  # dataset, method, ipc, model


@dataclass
class Summary:
    dataset: str
    method: str
    ipc: int
    model: str
    accs: list[float]
    seeds: int
    published: Published | None = None
    vs_random: float | None = None
    vs_full: float | None = None

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accs)

    @property
    def std(self) -> float:
        return statistics.pstdev(self.accs) if len(self.accs) > 1 else 0.0


def summarize(rows: list[dict[str, Any]]) -> list[Summary]:
    """One ``Summary`` per group of done runs, sorted by dataset, model, method, ipc."""
    ours: dict[Group, list[float]] = defaultdict(list)
    seeds: dict[Group, set[int]] = defaultdict(set)
    for r in rows:
        if r["status"] != "done" or r["model"] is None:
            continue
        group = (r["dataset"], r["method"], r["ipc"], r["model"])
        ours[group] += r["accs"]
        seeds[group].add(r["seed"])
    out = []
    for group, accs in ours.items():
        dataset, method, ipc, model = group
        s = Summary(dataset, method, ipc, model, accs, len(seeds[group]))
        s.published = published(dataset, method, ipc, model)
        random = ours.get((dataset, "random", ipc, model)) if ipc else None
        full = ours.get((dataset, "full", 0, model))
        s.vs_random = s.mean / statistics.fmean(random) if random else None
        s.vs_full = s.mean / statistics.fmean(full) if full else None
        out.append(s)
    return sorted(out, key=lambda s: (s.dataset, s.model, s.method, s.ipc))


def fmt(mean: float | None, std: float | None = None) -> str:
    if mean is None:
        return "–"
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f}"


def accuracy_rows(summaries: list[Summary]) -> tuple[list[str], list[list[str]]]:
    """The main table: ours beside the published number, and relative to random and full."""
    header = [
        "dataset",
        "method",
        "ipc",
        "model",
        "ours (%)",
        "seeds × runs",
        "published (%)",
        "ours − published",
        "÷ random",
        "÷ full",
    ]
    rows = []
    for s in summaries:
        pub = s.published
        gap = "–" if pub is None else f"{s.mean - pub.mean:+.2f}"
        rows.append(
            [
                s.dataset,
                s.method,
                ipc_text(s.ipc),
                s.model,
                fmt(s.mean, s.std),
                f"{s.seeds} × {len(s.accs) // max(s.seeds, 1)}",
                "–" if pub is None else fmt(pub.mean, pub.std),
                gap,
                "–" if s.vs_random is None else f"{s.vs_random:.3f}",
                "–" if s.vs_full is None else f"{s.vs_full:.3f}",
            ]
        )
    return header, rows


def cross_architecture(summaries: list[Summary]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Per dataset evaluated on more than one model: rows (method, ipc), one column per model."""
    by_dataset: dict[str, list[Summary]] = defaultdict(list)
    for s in summaries:
        by_dataset[s.dataset].append(s)
    out = {}
    for dataset, items in by_dataset.items():
        models = sorted({s.model for s in items})
        if len(models) < 2:
            continue
        cells = {(s.method, s.ipc, s.model): fmt(s.mean, s.std) for s in items}
        keys = sorted({(s.method, s.ipc) for s in items})
        rows = [
            [m, ipc_text(i), *(cells.get((m, i, model), "–") for model in models)] for m, i in keys
        ]
        out[dataset] = (["method", "ipc", *models], rows)
    return out


def ipc_text(ipc: int) -> str:
    """ipc 0 is the full training split."""
    return str(ipc) if ipc else "all"


def sources(summaries: list[Summary]) -> list[str]:
    return sorted({s.published.source for s in summaries if s.published})
