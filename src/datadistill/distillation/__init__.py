"""Dataset distillation methods; each file registers one method in ``datadistill.methods.METHODS``."""

from datadistill.distillation import dc, dd, dm, gtn, kip, ls, mtt  # noqa: F401  (each registers its methods)
from datadistill.distillation.base import DistillationMethod, InitConfig
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation

__all__ = ["DistillationMethod", "InitConfig", "IterativeConfig", "IterativeDistillation"]
