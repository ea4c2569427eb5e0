"""Knowledge distillation across domains: a teacher trained on a large source set teaches a
student on a small target set through a mapping φ from the target's images into the teacher's
domain, with ``λ·CE(y, g(x)) + (1−λ)·CE(f(φ(x)), g(x))``.

``kd`` runs one experiment (splits, mapping, cached teacher, paired students with and without
the teacher); ``train_student`` trains one student; ``MAPPINGS`` holds the mappings φ.
"""

from datadistill.transfer.config import KDConfig
from datadistill.transfer.experiment import KDResult, kd, prepare
from datadistill.transfer.loss import kd_loss
from datadistill.transfer.mappings import (
    MAPPINGS,
    Mapping,
    create_mapping,
    list_mappings,
    load_mapping,
    save_mapping,
)
from datadistill.transfer.splits import split_big_small, split_indices
from datadistill.transfer.student import StudentRun, teacher_logits, test_scores, train_student
from datadistill.transfer.teacher import fitted_mapping, load_teacher, train_teacher

__all__ = [
    "KDConfig",
    "KDResult",
    "MAPPINGS",
    "Mapping",
    "StudentRun",
    "create_mapping",
    "fitted_mapping",
    "kd",
    "kd_loss",
    "list_mappings",
    "load_mapping",
    "load_teacher",
    "prepare",
    "save_mapping",
    "split_big_small",
    "split_indices",
    "teacher_logits",
    "test_scores",
    "train_student",
    "train_teacher",
]
