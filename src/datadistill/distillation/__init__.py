"""Dataset distillation methods; each file registers one method in ``datadistill.methods.METHODS``."""

from datadistill.distillation.base import DistillationMethod, InitConfig

__all__ = ["DistillationMethod", "InitConfig"]
