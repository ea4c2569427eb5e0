"""Coreset selection methods; each file registers one method in ``datadistill.methods.METHODS``."""

from datadistill.selection import random  # noqa: F401
from datadistill.selection.base import SelectionMethod

__all__ = ["SelectionMethod"]
