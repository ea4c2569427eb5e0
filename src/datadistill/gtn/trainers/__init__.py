"""GTN trainers; each file registers one in ``TRAINERS``."""

from datadistill.gtn.trainers import bptt, ift, matching  # noqa: F401  (each registers its trainer)
from datadistill.gtn.trainers.base import TRAINERS, Trainer

__all__ = ["TRAINERS", "Trainer"]
