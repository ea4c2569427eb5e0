"""``kmeans`` and ``kmeans-centroid``: k-means per class (scikit-learn). ``kmeans`` keeps the real
image nearest each centroid; ``kmeans-centroid`` keeps the mean image of each cluster (the DD
paper's k-means baseline; with ``embedding="pixels"`` that is the centroid itself)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from datadistill.datasets.tensorset import DataSplits
from datadistill.methods import METHODS, Method
from datadistill.models import draw_seed
from datadistill.selection.base import EmbeddingConfig, SelectionMethod, class_features
from datadistill.settings import at_least
from datadistill.synset import SyntheticSet


@dataclass
class KMeansConfig(EmbeddingConfig):
    embedding: str = "pixels"
    n_init: int = 3
    max_iter: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        at_least(self, 1, "n_init", "max_iter")


def cluster(
    features: torch.Tensor, k: int, cfg: KMeansConfig, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cluster labels of each row and the centroids, from scikit-learn's KMeans."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=cfg.n_init, max_iter=cfg.max_iter, random_state=seed)
    labels = km.fit_predict(features.detach().cpu().double().numpy())
    return torch.from_numpy(labels).long(), torch.from_numpy(km.cluster_centers_).float()


@METHODS.register("kmeans")
class KMeansNearest(SelectionMethod):
    Config = KMeansConfig
    summary = "per-class k-means; the real image nearest each centroid"

    def select(self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True):
        chosen = []
        for c, f in enumerate(class_features(data, self.config, progress)):
            seed = draw_seed(generator)
            _, centres = cluster(f, ipc, self.config, seed)
            nearest = torch.cdist(centres.to(f.device), f.float()).argmin(1)
            chosen.append(data.train.indices_of(c)[nearest])
        return torch.cat(chosen), None


@METHODS.register("kmeans-centroid")
class KMeansCentroid(Method):
    Config = KMeansConfig
    kind = "selection"
    summary = "per-class k-means; the mean image of each cluster (not real images)"

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        images, labels, sizes = [], [], []
        for c, f in enumerate(class_features(data, self.config, progress)):
            seed = draw_seed(generator)
            assign, _ = cluster(f, ipc, self.config, seed)
            members = data.train.images[data.train.indices_of(c)]
            assign = assign.to(members.device)
            for j in range(ipc):
                images.append(members[assign == j].mean(0))
                sizes.append(int((assign == j).sum()))
            labels += [c] * ipc
        return SyntheticSet(
            torch.stack(images),
            torch.tensor(labels, device=data.train.labels.device),
            data.info,
            "kmeans-centroid",
            extras={"cluster_sizes": torch.tensor(sizes)},
        )
