"""Benchmark records with one set of keys, so results compare across benchmarks and machines."""

from __future__ import annotations

import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from datadistill.evaluation.protocol import ModelResult
from datadistill.synset import git_commit

KEYS = (
    "benchmark",
    "dataset",
    "method",
    "ipc",
    "eval_model",
    "eval_epochs",
    "augment",
    "iterations",
    "acc_mean",
    "acc_std",
    "n_runs",
    "accs",
    "eval_seconds",
    "seconds_per_iteration",
    "peak_mem_mb",
    "device",
    "torch",
    "commit",
    "date",
    "published",
)


def device_name(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def make_record(
    benchmark: str,
    dataset: str,
    method: str,
    ipc: int,
    result: ModelResult | None,
    device: torch.device | str,
    *,
    iterations: int | None = None,
    seconds_per_iteration: float | None = None,
    peak_mem_mb: float | None = None,
    published: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One row: the common keys (``None`` where a key does not apply) plus benchmark-specific ones."""
    row: dict[str, Any] = dict.fromkeys(KEYS)
    row.update(
        benchmark=benchmark,
        dataset=dataset,
        method=method,
        ipc=ipc,
        iterations=iterations,
        seconds_per_iteration=seconds_per_iteration,
        peak_mem_mb=peak_mem_mb,
        device=device_name(device),
        torch=torch.__version__,
        commit=git_commit(),
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        published=published,
    )
    if result is not None:
        row.update(
            eval_model=result.model,
            eval_epochs=result.epochs,
            augment=result.augment,
            acc_mean=round(result.mean, 3),
            acc_std=round(result.std, 3),
            n_runs=len(result.accs),
            accs=[round(a, 3) for a in result.accs],
            eval_seconds=round(result.seconds_per_run, 3),
        )
    row.update(extra)
    return row


def append_record(path: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """Add ``row`` to the JSON list in ``path`` (atomically), so a long benchmark saves as it goes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = json.loads(path.read_text()) if path.exists() else []
    rows.append(row)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)
