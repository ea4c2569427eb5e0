"""Grid files: YAML that names experiments with the keys the CLI and API use, expanded into cells.

A cell is one (dataset, method, ipc, seed, ...) combination with its method settings resolved in
full and one evaluation block; its key is a hash of those settings and the code version, so a
changed setting (or a new release) is a new cell and a rerun finds the done ones by key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# What a grid axis may vary (the CLI's top-level keys, less the data location).
AXES: dict[str, type] = {
    "dataset": str,
    "method": str,
    "ipc": int,
    "seed": int,
    "zca": bool,
    "flip": bool,
}
REQUIRED = ("dataset", "method", "ipc")
DEFAULTS: dict[str, Any] = {"seed": 0, "zca": False, "flip": None}
TOP_LEVEL = ("name", "grid", "config", "eval", "compare", "data_root")
REFERENCES = ("random", "full")
FULL = "full"  # the reference cell of a dataset: the whole training split, ipc 0
HASHED = ("dataset", "method", "ipc", "seed", "zca", "flip", "config", "eval", "version")


class GridError(ValueError):
    """A grid file that cannot be expanded: unknown keys, an empty axis, bad settings."""


@dataclass
class Grid:
    """A parsed grid file: its axes, per-method settings, one evaluation block, and the
    references to compare with: ``random`` (random real images at each ipc, added to the
    methods) and ``full`` (one cell per dataset trained on the whole training split)."""

    name: str
    axes: dict[str, list[Any]]
    config: dict[str, dict[str, Any]] = field(default_factory=dict)
    eval: dict[str, Any] = field(default_factory=dict)
    compare: list[str] = field(default_factory=list)
    data_root: str | None = None
    source: str = ""

    def cells(self, version: str | None = None) -> list[dict[str, Any]]:
        """Every combination of the axes as a cell spec (settings resolved, key attached), then
        the references of ``compare``."""
        return expand(self, version)


def load_grid(path: str | Path) -> Grid:
    """Read and check a grid file; errors name the file and the offending key."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"grid file not found: {p}")
    try:
        doc = yaml.safe_load(p.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark else str(p)
        raise GridError(f"{where}: YAML syntax error: {getattr(e, 'problem', e)}") from None
    return parse_grid(doc, str(p))


def parse_grid(doc: Any, source: str = "grid") -> Grid:
    """A grid from its YAML document (a mapping with ``grid:`` and optional sections)."""
    if not isinstance(doc, dict):
        raise GridError(f"{source}: expected a mapping with a 'grid:' section")
    unknown = sorted(set(doc) - set(TOP_LEVEL))
    if unknown:
        raise GridError(f"{source}: unknown key(s) {unknown}; known: {', '.join(TOP_LEVEL)}")
    axes_doc = doc.get("grid")
    if not isinstance(axes_doc, dict) or not axes_doc:
        raise GridError(f"{source}: 'grid:' must map at least dataset, method and ipc to values")
    bad = sorted(set(axes_doc) - set(AXES))
    if bad:
        raise GridError(f"{source}: unknown grid key(s) {bad}; known: {', '.join(AXES)}")
    missing = [k for k in REQUIRED if k not in axes_doc]
    if missing:
        raise GridError(f"{source}: 'grid:' lacks {', '.join(missing)}")
    axes = {k: _axis(source, k, v) for k, v in axes_doc.items()}
    config = doc.get("config") or {}
    if not isinstance(config, dict) or not all(isinstance(v, dict) for v in config.values()):
        raise GridError(f"{source}: 'config:' must map method names to their settings")
    compare = doc.get("compare") or []
    compare = [compare] if isinstance(compare, str) else list(compare)
    if any(c not in REFERENCES for c in compare):
        raise GridError(f"{source}: 'compare:' takes {' and '.join(REFERENCES)}, got {compare}")
    stray = sorted(set(config) - set(axes["method"]) - ({"random"} & set(compare)))
    if stray:
        raise GridError(f"{source}: 'config:' names method(s) {stray} that the grid does not run")
    eval_doc = doc.get("eval") or {}
    if not isinstance(eval_doc, dict):
        raise GridError(f"{source}: 'eval:' must hold a mapping of evaluation settings")
    name = str(doc.get("name") or Path(source).stem)
    root = doc.get("data_root")
    return Grid(name, axes, config, eval_doc, compare, None if root is None else str(root), source)


def _axis(source: str, key: str, value: Any) -> list[Any]:
    values = value if isinstance(value, list) else [value]
    if not values:
        raise GridError(f"{source}: grid axis '{key}' is empty; give at least one value")
    from datadistill.settings import coerce

    try:
        typed = [coerce(key, v, AXES[key]) for v in values]
    except ValueError as e:
        raise GridError(f"{source}: grid axis '{key}': {e}") from None
    if key == "ipc" and any(v < 1 for v in typed):
        raise GridError(f"{source}: ipc must be positive images per class, got {typed}")
    if len(set(map(str, typed))) != len(typed):
        raise GridError(f"{source}: grid axis '{key}' repeats a value: {values}")
    return typed


def expand(grid: Grid, version: str | None = None) -> list[dict[str, Any]]:
    """The cells of ``grid``: axes crossed in file order; method settings made in full (so a
    default written out is the same cell as one left out), the evaluation block likewise."""
    from datadistill.datasets import DATASETS
    from datadistill.datasets.text import method_defaults
    from datadistill.evaluation import EvalConfig
    from datadistill.methods import METHODS
    from datadistill.models import MODELS
    from datadistill.settings import make_config

    version = version or _version()
    where = grid.source
    eval_cfg = make_config(EvalConfig, grid.eval, f"{where} (eval:)")
    for model in eval_cfg.models:
        MODELS.get(model)
    eval_values = dataclasses.asdict(eval_cfg)
    axes = dict(grid.axes)
    if "random" in grid.compare and "random" not in axes["method"]:
        axes["method"] = [*axes["method"], "random"]
    keys = list(axes)
    cells = []
    for combo in itertools.product(*(axes[k] for k in keys)):
        cell = {**DEFAULTS, **dict(zip(keys, combo, strict=True))}
        DATASETS.get(cell["dataset"])
        cls = METHODS.get(cell["method"]).Config
        values = {**method_defaults(cell["dataset"], cls), **grid.config.get(cell["method"], {})}
        cfg = make_config(cls, values, f"{where} (config: {cell['method']})")
        cells.append(
            _finish(grid, {**cell, "config": dataclasses.asdict(cfg)}, eval_values, version)
        )
    if FULL in grid.compare:
        data_keys = {(c["dataset"], c["zca"], c["flip"]) for c in cells}
        for dataset, zca, flip in sorted(data_keys, key=str):
            full = {**DEFAULTS, "dataset": dataset, "method": FULL, "ipc": 0, "zca": zca}
            cells.append(_finish(grid, {**full, "flip": flip, "config": {}}, eval_values, version))
    return cells


def _finish(grid: Grid, cell: dict[str, Any], eval_values: dict[str, Any], version: str) -> dict:
    """Attach the evaluation block (seeded by the cell's seed unless ``eval:`` gives one, so the
    seeds of a grid vary the networks as well as the set) and the key."""
    if "seed" not in grid.eval:
        eval_values = {**eval_values, "seed": cell["seed"]}
    cell.update(eval=eval_values, version=version)
    cell["key"] = cell_key(cell)
    return {**cell, "grid": grid.name, "data_root": grid.data_root}


def cell_key(cell: dict[str, Any]) -> str:
    """The hash of a cell's settings and code version (not where its data lives or runs)."""
    settings = {k: cell.get(k) for k in HASHED}
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _version() -> str:
    from datadistill import __version__

    return __version__
