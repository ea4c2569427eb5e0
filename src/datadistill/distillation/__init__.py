"""Dataset distillation methods; each file registers one method in ``datadistill.methods.METHODS``."""

from datadistill.distillation import dm  # noqa: F401  (registers the method)
from datadistill.distillation.base import DistillationMethod, InitConfig
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation

__all__ = ["DistillationMethod", "InitConfig", "IterativeConfig", "IterativeDistillation"]
