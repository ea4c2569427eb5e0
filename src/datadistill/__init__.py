"""datadistill: dataset distillation, coreset selection and the field's evaluation protocol.

The flat API follows the data's path: ``load_dataset`` → ``distill`` → ``evaluate`` → ``save_grid``.
"""

__version__ = "0.1.0"

from datadistill import distillation, selection  # noqa: E402,F401  (register the methods)
from datadistill.datasets import DatasetInfo, DataSplits, list_datasets, load_dataset  # noqa: E402
from datadistill.evaluation import EvalConfig, Evaluation, evaluate  # noqa: E402
from datadistill.methods import METHODS, Method, distill, list_methods  # noqa: E402
from datadistill.models import create_model, list_models  # noqa: E402
from datadistill.report import save_grid  # noqa: E402
from datadistill.synset import SyntheticSet  # noqa: E402

__all__ = [
    "METHODS",
    "DataSplits",
    "DatasetInfo",
    "EvalConfig",
    "Evaluation",
    "Method",
    "SyntheticSet",
    "create_model",
    "distill",
    "evaluate",
    "list_datasets",
    "list_methods",
    "list_models",
    "load_dataset",
    "save_grid",
]
