"""datadistill: dataset distillation, coreset selection and the field's evaluation protocol.

The flat API follows the data's path: ``load_dataset`` → ``distill`` → ``evaluate`` → ``save_grid``.
Its names are imported on first use, so ``import datadistill`` (and the command line's ``--help``)
does not pay for importing PyTorch until something needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = {
    "METHODS": "datadistill.methods",
    "Method": "datadistill.methods",
    "distill": "datadistill.methods",
    "list_methods": "datadistill.methods",
    "DataSplits": "datadistill.datasets",
    "DatasetInfo": "datadistill.datasets",
    "list_datasets": "datadistill.datasets",
    "load_dataset": "datadistill.datasets",
    "EvalConfig": "datadistill.evaluation",
    "Evaluation": "datadistill.evaluation",
    "evaluate": "datadistill.evaluation",
    "create_model": "datadistill.models",
    "list_models": "datadistill.models",
    "save_grid": "datadistill.report",
    "SyntheticSet": "datadistill.synset",
    "TrainedModel": "datadistill.inspect",
    "train_model": "datadistill.inspect",
    "save_model": "datadistill.inspect",
    "load_model": "datadistill.inspect",
    "explain": "datadistill.inspect",
    "maximize": "datadistill.inspect",
    "texture": "datadistill.generate",
    "stylize": "datadistill.generate",
    "invert": "datadistill.generate",
    "train_fast_style": "datadistill.generate",
    "load_fast_style": "datadistill.generate",
    "save_fast_style": "datadistill.generate",
    "create_feature_net": "datadistill.generate",
    "ExpertConfig": "datadistill.distillation.experts",
    "expert_trajectories": "datadistill.distillation.experts",
    "expert_folder": "datadistill.distillation.experts",
    "MTTConfig": "datadistill.distillation.mtt",
    "load_text": "datadistill.text",
    "TextConfig": "datadistill.text",
    "decode_text": "datadistill.text",
    "transfer": "datadistill.transfer",
    "kd": "datadistill.transfer",
    "load_grid": "datadistill.experiments",
    "run_grid": "datadistill.experiments",
    "run_cell": "datadistill.experiments",
    "Store": "datadistill.experiments",
    "EXECUTORS": "datadistill.experiments",
    "write_report": "datadistill.report.experiments",
    "RayExecutor": "datadistill.experiments.ray_executor",
    "open_sink": "datadistill.report.sinks",
    "logging_to": "datadistill.report.sinks",
    "nas": "datadistill.nas",
    "gtn": "datadistill.gtn",
    "load_generator": "datadistill.gtn",
    "train_generator": "datadistill.gtn",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name not in _API:
        raise AttributeError(f"module 'datadistill' has no attribute {name!r}")
    module = importlib.import_module(_API[name])
    value = module if _API[name] == f"{__name__}.{name}" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_API])
