"""Settings of the evaluation protocol; the defaults are the field's (DC/DSA/DM reference code)."""

from __future__ import annotations

from dataclasses import dataclass, field

from datadistill.datasets.info import DatasetInfo
from datadistill.settings import at_least, one_of, positive
from datadistill.synset import SyntheticSet


@dataclass
class EvalConfig:
    """How fresh models are trained on a small set and tested.

    ``epochs=None`` means 300, or 1000 with augmentation; ``augment="auto"`` takes the dataset's
    reference choice (``dc`` for MNIST, ``none`` elsewhere). The learning rate drops ×0.1 at half
    time with a fresh optimiser, as the reference code does.
    """

    models: list[str] = field(default_factory=list)  # empty: see resolved_models
    runs: int = 5
    epochs: int | None = None
    lr: float = 0.01
    learned_lr: bool = True  # train a set that carries a learned rate (MTT) at that rate
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 256
    augment: str = "auto"
    dsa_strategy: str = "color_crop_cutout_flip_scale_rotate"
    test_batch_size: int = 0  # 0: small chunks on a CPU (cache-friendly), 2048 on a GPU
    seed: int = 0
    split: str = "test"
    # how the runs train: "auto" (together on a GPU, one by one on a CPU), "yes" (vmapped),
    # "no", or "grouped" (ConvNets as one network of grouped convolutions; measured slower than
    # one by one on this project's 2-core CPU, kept for CPUs where one run leaves cores idle)
    batched: str = "auto"
    # "bf16": train and test under bfloat16 autocast (weights and optimiser stay float32); on a
    # CPU it pays with compile (see README, benchmarks/vs_reference.py), alone it saves little
    amp: str = "none"
    # train and test through one torch.compile graph per architecture (models.compiled), which
    # fuses the memory-bound layers; compiling costs seconds once per process and architecture
    # and needs a C++ compiler. Applies to the SGD protocol's runs trained one by one
    compile: bool = False
    # "ce": cross-entropy on the set's labels as they are; "ce-hard": on each image's argmax
    # class; "mse": regression of the centred label vectors (kernel sets are fitted so). "auto":
    # "ce-hard" for kernel methods' sets (KIP, LS), the best of the three for ConvNets and MLPs
    # on KIP images (benchmarks/results/kernel-transfer-cpu.json), "ce" for every other set
    loss: str = "auto"

    def resolved_lr(self, synset: SyntheticSet) -> float:
        """The set's learned learning rate (MTT's ``meta["learned_lr"]``) when it carries one and
        ``learned_lr`` is on, else ``lr``."""
        learned = synset.meta.get("learned_lr")
        return float(learned) if self.learned_lr and learned is not None else self.lr

    def resolved_augment(self, info: DatasetInfo) -> str:
        return info.eval_augment if self.augment == "auto" else self.augment

    def resolved_models(self, synset: SyntheticSet) -> list[str]:
        """``models``, or by default the architecture a set with learned rates was distilled
        for (it is trained as distilled), else the dataset's (``textcnn`` for text) or
        ``convnet``."""
        if self.models:
            return list(self.models)
        default = str(synset.info.extra.get("model", "convnet"))
        if synset.lrs is not None:
            return [str(synset.config.get("model", default))]
        return [default]

    def resolved_loss(self, synset: SyntheticSet) -> str:
        if self.loss != "auto":
            return self.loss
        return "ce-hard" if synset.meta.get("label_offset") is not None else "ce"

    def resolved_epochs(self, info: DatasetInfo) -> int:
        if self.epochs is not None:
            return self.epochs
        return 300 if self.resolved_augment(info) == "none" else 1000

    def __post_init__(self) -> None:
        at_least(self, 1, "runs", "batch_size")
        at_least(self, 0, "epochs", "test_batch_size", "momentum", "weight_decay")
        positive(self, "lr")
        one_of(self, "loss", ("auto", "ce", "ce-hard", "mse"))
        one_of(self, "amp", ("none", "bf16"))
        if self.split not in ("test", "val"):
            raise ValueError(f"split must be 'test' or 'val', got {self.split!r}")
        if self.batched not in ("auto", "yes", "no", "grouped"):
            raise ValueError(f"batched must be auto, yes, no or grouped, got {self.batched!r}")
        if self.compile and self.batched in ("yes", "grouped"):
            raise ValueError(f"compile trains the runs one by one; batched={self.batched} cannot")
