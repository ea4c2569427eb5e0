"""The distillation loss: ``λ·CE(y, g(x)) + (1−λ)·CE(f(φ(x)), g(x))``, f the teacher, g the student.

Temperature convention (Hinton et al. 2015): in the soft term both networks are
``softmax(logits / T)`` and the term is multiplied by T², so its gradients keep their size as T
grows; the hard term uses the student's own prediction ``softmax(logits)`` (T = 1), which is
also what the student is tested with. At T = 1 this is exactly the formula above with both
networks at T; λ = 1 is plain cross-entropy training at every T. (Measured on digits and
FashionMNIST: dividing the hard term's logits by T too, without T², only slows learning and
softens the student's test predictions as T grows.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def kd_loss(
    student_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    lam: float,
    temperature: float = 1.0,
) -> torch.Tensor:
    """The batch mean of ``λ·CE(y, softmax(s)) + (1−λ)·T²·CE(softmax(t/T), softmax(s/T))``;
    ``teacher_logits`` (t) may be ``None`` only when ``lam == 1``."""
    hard = F.cross_entropy(student_logits, labels)
    if lam == 1.0:
        return hard
    if teacher_logits is None:
        raise ValueError(f"lambda={lam} needs the teacher's logits (only lambda=1 trains without)")
    t = temperature
    soft = F.cross_entropy(student_logits / t, F.softmax(teacher_logits / t, dim=1))
    return lam * hard + (1.0 - lam) * t * t * soft
