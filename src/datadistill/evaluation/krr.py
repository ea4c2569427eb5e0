"""A kernel method's own score: kernel ridge regression on a set, tested on a split. Kept apart
from the finite-network protocol, since published KIP figures mix the two."""

from __future__ import annotations

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.synset import SyntheticSet


def krr_accuracy(
    synset: SyntheticSet, data: DataSplits, split: str = "test", chunk: int = 1000
) -> float:
    """Percent of ``split`` images whose KRR prediction (the set's kernel and regulariser, its
    labels re-centred) has its largest entry at the true class."""
    from datadistill.kernels import krr_predict, make_kernel

    record = synset.meta.get("kernel")
    if not record:
        raise ValueError("this set carries no kernel (made by kip or ls): no KRR accuracy")
    settings = dict(record["settings"])
    if "info" in settings:
        settings["info"] = data.info
    kernel = make_kernel(record["name"], **settings)
    target = data.test if split == "test" else data.val
    labels = synset.labels
    y = (labels.double() if synset.soft else torch.nn.functional.one_hot(labels).double()) - float(
        synset.meta.get("label_offset", 0.0)
    )
    correct = 0
    with torch.no_grad():
        for i in range(0, len(target), chunk):
            x = target.images[i : i + chunk]
            pred = krr_predict(kernel, synset.images, y, x, reg=float(record["reg"]))
            correct += int((pred.argmax(1) == target.labels[i : i + chunk]).sum())
    return 100.0 * correct / max(len(target), 1)
