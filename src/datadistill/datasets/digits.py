"""scikit-learn's 8×8 handwritten digits: embedded in the package, no download, the Quick-start set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DATASETS, RawData
from datadistill.datasets.info import DatasetInfo

INFO = DatasetInfo(
    name="digits",
    channels=1,
    size=(8, 8),
    num_classes=10,
    class_names=tuple(str(i) for i in range(10)),
    mean=(0.3055,),
    std=(0.3773,),
    flip=False,
)
TEST_FRACTION = 1 / 3
SPLIT_SEED = 0


@DATASETS.register("digits")
def load_digits(root: Path, download: bool) -> RawData:
    """1,797 images; it has no official test split, so a fixed, stratified third is held out."""
    from sklearn.datasets import load_digits as sk_digits

    d = sk_digits()
    x = torch.from_numpy((d.images / 16.0).astype(np.float32)).unsqueeze(1)
    y = torch.from_numpy(d.target.astype(np.int64))
    g = torch.Generator().manual_seed(SPLIT_SEED)
    test = torch.zeros(len(y), dtype=torch.bool)
    for c in range(10):
        ix = torch.nonzero(y == c).flatten()
        ix = ix[torch.randperm(len(ix), generator=g)]
        test[ix[: round(len(ix) * TEST_FRACTION)]] = True
    return RawData(INFO, x[~test], y[~test], x[test], y[test])
