"""Evaluation: the one training loop and the field's protocol (runs, architectures, mean ± std)."""

from datadistill.evaluation.config import EvalConfig
from datadistill.evaluation.knn import knn_accuracy, knn_table
from datadistill.evaluation.krr import krr_accuracy
from datadistill.evaluation.protocol import (
    DatasetMismatchError,
    Evaluation,
    ModelResult,
    check_compatible,
    compare_to,
    evaluate,
    full_set,
    run_seeds,
)
from datadistill.evaluation.train import accuracy, fit, fit_as_distilled, fit_batched

__all__ = [
    "krr_accuracy",
    "DatasetMismatchError",
    "EvalConfig",
    "Evaluation",
    "ModelResult",
    "accuracy",
    "check_compatible",
    "compare_to",
    "evaluate",
    "fit",
    "fit_as_distilled",
    "fit_batched",
    "full_set",
    "knn_accuracy",
    "knn_table",
    "run_seeds",
]
