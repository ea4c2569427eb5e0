"""Experiments as grids: grid files expanded into cells, run by an executor, recorded in one
SQLite results store that the report reads."""

from datadistill.experiments.cell import run_cell
from datadistill.experiments.executors import EXECUTORS, Executor, LocalExecutor, create_executor
from datadistill.experiments.grid import Grid, GridError, cell_key, expand, load_grid, parse_grid
from datadistill.experiments.runner import RunSummary, files_folder, run_grid
from datadistill.experiments.store import SCHEMA_VERSION, Store, StoreError

__all__ = [
    "EXECUTORS",
    "SCHEMA_VERSION",
    "Executor",
    "Grid",
    "GridError",
    "LocalExecutor",
    "RunSummary",
    "Store",
    "StoreError",
    "cell_key",
    "create_executor",
    "expand",
    "files_folder",
    "load_grid",
    "parse_grid",
    "run_cell",
    "run_grid",
]
