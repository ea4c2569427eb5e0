"""Dataset distillation methods; each file registers one method in ``datadistill.methods.METHODS``."""
