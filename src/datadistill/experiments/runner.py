"""The driver: expand a grid, skip the cells the store has done, hand the rest to an executor,
and record each outcome as it arrives (only here is the store written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from datadistill.experiments.cell import run_cell
from datadistill.experiments.executors import Executor, LocalExecutor
from datadistill.experiments.grid import Grid
from datadistill.experiments.store import Store


@dataclass
class RunSummary:
    """What one ``run_grid`` call did."""

    total: int
    skipped: int
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def files_folder(store_path: str | Path) -> Path:
    """Where the cells of a store keep their sets, pictures and checkpoints: ``STORE.files/``."""
    p = Path(store_path).resolve()
    return p.with_name(p.name + ".files")


def run_grid(
    grid: Grid,
    store: Store,
    executor: Executor | None = None,
    *,
    device: str = "cpu",
    progress: bool = True,
) -> RunSummary:
    """Run every cell of ``grid`` not yet done in ``store``; returns what ran and what failed.

    A cell's files go to ``STORE.files/<key>/``, where an interrupted cell finds its checkpoint.
    The bar counts all cells (done ones included) and estimates the time left from this run's."""
    executor = executor or LocalExecutor()
    cells = grid.cells()
    done = store.done_keys()
    folder = files_folder(store.path)
    pending = [
        {**c, "out": str(folder / c["key"]), "device": device}
        for c in cells
        if c["key"] not in done
    ]
    summary = RunSummary(total=len(cells), skipped=len(cells) - len(pending))
    bar = tqdm(
        total=len(cells), initial=summary.skipped, desc=grid.name, unit="cell", disable=not progress
    )
    try:
        for spec, outcome in executor.map(run_cell, pending):
            _record(store, spec, outcome, summary)
            bar.set_postfix_str(f"{spec['method']} {spec['dataset']} ipc={spec['ipc']}")
            bar.update(1)
    finally:
        bar.close()
    return summary


def _record(
    store: Store, spec: dict[str, Any], outcome: dict[str, Any] | BaseException, summary: RunSummary
) -> None:
    if isinstance(outcome, BaseException):
        store.record_failure(spec, outcome)
        summary.failed[spec["key"]] = " ".join(str(outcome).split()) or type(outcome).__name__
    else:
        store.record(spec, outcome)
        summary.done.append(spec["key"])
