"""Coreset selection methods; each file registers one method in ``datadistill.methods.METHODS``."""

from datadistill.selection import (  # noqa: F401  (each import registers a method)
    best_of_random,
    class_mean,
    forgetting,
    herding,
    kcenter,
    kmeans,
    random,
)
from datadistill.selection.base import EmbeddingConfig, SelectionMethod, class_features

__all__ = ["EmbeddingConfig", "SelectionMethod", "class_features"]
