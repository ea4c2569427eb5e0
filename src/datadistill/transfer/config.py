"""Settings of a cross-domain distillation run: the loss, the splits, the teacher, the student."""

from __future__ import annotations

from dataclasses import dataclass

from datadistill.settings import SettingError, at_least, positive


@dataclass
class KDConfig:
    """How a teacher trained on a large source set teaches a student on a small target set.

    ``lam`` is λ, the weight of the hard-label term (1: no teacher); ``temperature`` is T, which
    divides both networks' logits in the soft term, multiplied by T² (Hinton's; see ``loss``). ``big``
    and ``small`` are the sizes of the stratified, ``split_seed``-seeded parts of each training
    split (``big=None``: all images not in ``small``). Students and teachers train with the
    library's loop (SGD, momentum 0.9, weight decay 5e-4, learning rate ×0.1 at half time).

    The student's defaults (LeNet, 30 epochs, lr 0.02, batch 32, λ 0.5, T 4) were chosen among a
    few on held-out FashionMNIST-Big images (never the test split), 5 seeds, for a 1,000-image
    student with the identity teacher: at lr 0.03 one seed in five with the teacher stalled at
    69%; lr 0.01 trains the plain student less well. With T² on the soft term, small λ with large
    T can still diverge at this rate (λ 0.1 and T 4 did at lr 0.03; a smaller ``lr`` is stable).
    """

    lam: float = 0.5
    temperature: float = 4.0
    big: int | None = 59_000
    small: int = 1_000
    split_seed: int = 0
    student: str = "lenet"
    epochs: int = 30
    lr: float = 0.02
    batch_size: int = 32
    teacher: str = "lenet"
    teacher_epochs: int = 5
    teacher_lr: float = 0.01
    teacher_batch_size: int = 128
    teacher_seed: int = 0
    mapping_seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.lam <= 1.0:
            raise SettingError(f"lambda must be in [0, 1], got {self.lam}")
        positive(self, "temperature", "lr", "teacher_lr")
        at_least(self, 1, "big", "small", "epochs", "batch_size")
        at_least(self, 1, "teacher_epochs", "teacher_batch_size")
