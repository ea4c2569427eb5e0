"""k-nearest-neighbour classification with a small set as the memory (DD paper's k-NN baselines):
scikit-learn's classifier on flattened normalised pixels, scored like the protocol (percent)."""

from __future__ import annotations

from datadistill.datasets.tensorset import DataSplits
from datadistill.evaluation.protocol import check_compatible
from datadistill.synset import SyntheticSet

METRICS = {"l1": 1, "l2": 2}


def knn_accuracy(
    synset: SyntheticSet, data: DataSplits, k: int = 1, metric: str = "l2", split: str = "test"
) -> float:
    """Accuracy (percent) of k-NN over the set's images on ``data.test`` (or ``data.val``)."""
    from sklearn.neighbors import KNeighborsClassifier

    if metric not in METRICS:
        raise ValueError(f"unknown k-NN metric {metric!r}; use one of {sorted(METRICS)}")
    if not 1 <= k <= len(synset.images):
        raise ValueError(f"k={k} must be between 1 and the set size ({len(synset.images)})")
    check_compatible(synset, data)
    target = data.test if split == "test" else data.val
    clf = KNeighborsClassifier(n_neighbors=k, p=METRICS[metric])
    clf.fit(synset.images.flatten(1).cpu().numpy(), synset.hard_labels.cpu().numpy())
    predicted = clf.predict(target.images.flatten(1).cpu().numpy())
    return 100.0 * float((predicted == target.labels.cpu().numpy()).mean())


def knn_table(
    synset: SyntheticSet,
    data: DataSplits,
    ks: tuple[int, ...] = (1, 3),
    metrics: tuple[str, ...] = ("l1", "l2"),
) -> dict[str, float]:
    """``{"k=1 l2": acc, ...}`` for every k (up to the set size) and metric."""
    return {
        f"k={k} {m}": knn_accuracy(synset, data, k, m)
        for k in ks
        if k <= len(synset.images)
        for m in metrics
    }
