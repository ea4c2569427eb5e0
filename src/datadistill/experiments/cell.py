"""One cell of a grid: distill, save the set and its picture, evaluate; return JSON-able results.

``run_cell`` is top-level and takes and returns plain dicts, so any executor can ship it to
another process or machine. It never touches the results store (only the driver writes there).
A ``full`` cell evaluates the whole training split (the reference).
Its files live in ``spec["out"]``; an interrupted cell resumes from the checkpoint there (the
iterative methods), or from its saved set when only the evaluation was left.
"""

from __future__ import annotations

import functools
import platform
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from datadistill.experiments.grid import FULL


def run_cell(spec: dict[str, Any]) -> dict[str, Any]:
    """Distill and evaluate the cell ``spec`` (from ``expand``, with ``out`` and ``device``)."""
    import torch

    import datadistill as dd
    from datadistill.evaluation import full_set
    from datadistill.settings import make_config
    from datadistill.synset import git_commit

    started = _now()
    out = Path(spec["out"])
    out.mkdir(parents=True, exist_ok=True)
    set_path, grid_path, checkpoint = (
        out / "set.safetensors",
        out / "grid.png",
        out / "checkpoint.pt",
    )
    device = spec.get("device") or "cpu"
    data = _data(
        spec["dataset"], spec.get("data_root"), device, bool(spec.get("zca")), spec.get("flip")
    )
    resumed = checkpoint.is_file() or set_path.is_file()
    files = {"set": str(set_path), "grid": str(grid_path)}
    start = time.perf_counter()
    if spec["method"] == FULL:  # the reference: the whole training split, nothing to save
        synset, files = full_set(data), {}
    elif set_path.is_file():  # a run killed during its evaluation: the set is whole (atomic save)
        synset = dd.SyntheticSet.load(set_path)
    else:
        synset = dd.distill(
            data,
            spec["method"],
            spec["ipc"],
            spec["config"],
            seed=spec.get("seed", 0),
            progress=False,
            checkpoint=checkpoint,
        )
        synset.meta["cell"] = spec["key"]
        synset.save(set_path)
    if files:
        dd.save_grid(synset, grid_path)
    checkpoint.unlink(missing_ok=True)  # the set is saved; its checkpoint is no longer needed
    distill_seconds = time.perf_counter() - start
    start = time.perf_counter()
    cfg = make_config(dd.EvalConfig, spec["eval"])
    ev = dd.evaluate(synset, data, cfg, progress=False)
    return {
        "key": spec["key"],
        "results": [r.to_dict() for r in ev.results.values()],
        "files": files,
        "started": started,
        "finished": _now(),
        "distill_seconds": round(distill_seconds, 3),
        "eval_seconds": round(time.perf_counter() - start, 3),
        "resumed": resumed,
        "device": _device_name(device),
        "host": platform.node(),
        "version": spec.get("version"),
        "torch": torch.__version__,
        "git_commit": git_commit(),
    }


@functools.lru_cache(maxsize=2)
def _data(name: str, root: str | None, device: str, zca: bool, flip: bool | None) -> Any:
    """The dataset, loaded once per process for the cells that share it."""
    import datadistill as dd

    return dd.load_dataset(name, root, device=device, zca=zca, flip=flip)


def _device_name(device: str) -> str:
    from datadistill.report.records import device_name

    return device_name(device)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
