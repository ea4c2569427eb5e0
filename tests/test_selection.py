"""Coreset selection: what each method picks, the embedding cache, k-NN, and init of distillation."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.datasets import TensorSet
from datadistill.distillation import DistillationMethod, InitConfig
from datadistill.evaluation import knn_accuracy, knn_table
from datadistill.evaluation.train import fit_split
from datadistill.models import create_seeded_model
from datadistill.selection.embedding import (
    EmbedderConfig,
    cache_dir,
    fingerprint,
    trained_embedder,
)
from datadistill.selection.herding import herd
from datadistill.selection.kcenter import kcenter_greedy

MNIST_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_herding_tracks_the_mean_better_than_any_single_point() -> None:
    g = torch.Generator().manual_seed(0)
    f = torch.randn(200, 5, generator=g)
    first = herd(f, 1)
    assert int(first) == int(((f - f.mean(0)).norm(dim=1)).argmin())
    chosen = herd(f, 10)
    assert len(set(chosen.tolist())) == 10
    herded_gap = (f[chosen].mean(0) - f.mean(0)).norm()
    random_gap = torch.stack(
        [(f[torch.randperm(200, generator=g)[:10]].mean(0) - f.mean(0)).norm() for _ in range(50)]
    )
    assert herded_gap < random_gap.quantile(0.05)


def test_kcenter_covers_clusters() -> None:
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = torch.cat(
        [c + 0.1 * torch.randn(30, 2, generator=torch.Generator().manual_seed(1)) for c in centres]
    )
    chosen = kcenter_greedy(points, 3)
    assert sorted((chosen // 30).tolist()) == [0, 1, 2]


def test_embedder_is_trained_once_and_cached(digits: dd.DataSplits) -> None:
    settings = {"embed_model": "convnet-d1", "embed_epochs": 1}
    before = set(cache_dir().glob("*.safetensors")) if cache_dir().exists() else set()
    a = dd.distill(digits, "herding", 1, settings, progress=False)
    added = set(cache_dir().glob("*.safetensors")) - before
    assert len(added) == 1
    b = dd.distill(digits, "kcenter", 1, settings, progress=False)  # same embedder, from the cache
    assert set(cache_dir().glob("*.safetensors")) - before == added
    assert torch.equal(a.images, b.images)  # both start at the image nearest the class mean
    path = added.pop()
    path.write_bytes(b"damaged")
    c = dd.distill(digits, "herding", 1, settings, progress=False)
    assert torch.equal(a.images, c.images)


TINY_EMBEDDER = EmbedderConfig(model="convnet-d1", epochs=1)


def _with_train(data: dd.DataSplits, images: torch.Tensor, labels: torch.Tensor) -> dd.DataSplits:
    return dataclasses.replace(data, train=TensorSet(images, labels, data.info.num_classes))


def _weights(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_embedder_cache_tells_datasets_of_one_name_and_size_apart(
    digits: dd.DataSplits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two folders of the same size loaded under one name must not share a trained network;
    the same content (another copy of it) must."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    images, labels = digits.train.images, digits.train.labels
    copy = _with_train(digits, images.clone(), labels.clone())
    other = _with_train(digits, images.roll(1, dims=-1), labels)
    relabelled = _with_train(digits, images, labels.roll(1))
    assert fingerprint(copy.train) == fingerprint(digits.train)
    assert len({fingerprint(d.train) for d in (digits, other, relabelled)}) == 3

    first = trained_embedder(digits, TINY_EMBEDDER, progress=False)
    assert len(list(cache_dir().glob("*.safetensors"))) == 1
    again = trained_embedder(copy, TINY_EMBEDDER, progress=False)
    assert len(list(cache_dir().glob("*.safetensors"))) == 1
    assert torch.equal(_weights(first), _weights(again))
    separate = trained_embedder(other, TINY_EMBEDDER, progress=False)
    assert len(list(cache_dir().glob("*.safetensors"))) == 2
    assert not torch.equal(_weights(first), _weights(separate))


def test_embedder_training_shows_a_progress_bar(
    digits: dd.DataSplits,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Training the embedder draws a bar on stderr; loading it from the cache, or
    ``progress=False``, draws none."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    description = "training the convnet-d1 embedder (cached for next runs)"
    trained_embedder(digits, TINY_EMBEDDER)
    assert description in capsys.readouterr().err
    trained_embedder(digits, TINY_EMBEDDER)
    assert "embedder" not in capsys.readouterr().err
    trained_embedder(digits, TINY_EMBEDDER, cache=False, progress=False)
    assert "embedder" not in capsys.readouterr().err


def test_fit_split_progress_bar_leaves_the_result_unchanged(
    digits: dd.DataSplits, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[int] = []
    models = []
    for progress in (None, "training for the test"):
        model = create_seeded_model("convnet-d1", digits.info, 0, "cpu")
        fit_split(
            model,
            digits.train,
            epochs=2,
            lr=0.01,
            batch_size=256,
            generator=torch.Generator().manual_seed(0),
            on_batch=lambda ix, logits: seen.append(len(ix)),
            progress=progress,
        )
        models.append(model)
    assert torch.equal(_weights(models[0]), _weights(models[1]))
    assert seen[: len(seen) // 2] == seen[len(seen) // 2 :]  # on_batch still sees every batch
    assert "training for the test" in capsys.readouterr().err


def test_pixel_embedding_and_unknown_space(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "herding", 1, {"embedding": "pixels"}, progress=False)
    assert s.images.shape[0] == 10
    with pytest.raises(ValueError, match="embedding"):
        dd.distill(digits, "herding", 1, {"embedding": "wavelets"}, progress=False)


def test_kmeans_centroid_is_the_cluster_mean_and_class_mean_the_class_mean(
    digits: dd.DataSplits,
) -> None:
    cm = dd.distill(digits, "class-mean", 1, progress=False)
    km = dd.distill(digits, "kmeans-centroid", 1, {"n_init": 1}, progress=False)
    for c in range(10):
        mean = digits.train.images[digits.train.indices_of(c)].mean(0)
        assert torch.allclose(cm.images[c], mean, atol=1e-6)
        assert torch.allclose(km.images[c], mean, atol=1e-6)
    km3 = dd.distill(digits, "kmeans-centroid", 3, {"n_init": 1}, progress=False)
    assert km3.extras["cluster_sizes"].sum() == len(digits.train)


def test_forgetting_order_most_and_least_differ(digits: dd.DataSplits) -> None:
    most = dd.distill(digits, "forgetting", 2, {"epochs": 2}, progress=False)
    least = dd.distill(digits, "forgetting", 2, {"epochs": 2, "order": "least"}, progress=False)
    assert not torch.equal(most.images, least.images)
    for c in range(10):
        in_class_most = most.extras["scores"][most.labels == c]
        in_class_least = least.extras["scores"][least.labels == c]
        assert in_class_most.min() >= in_class_least.max()
    with pytest.raises(ValueError, match="order"):
        dd.distill(digits, "forgetting", 2, {"order": "sideways"})


def test_best_of_random_scores_candidates_on_validation(digits: dd.DataSplits) -> None:
    s = dd.distill(
        digits,
        "best-of-random",
        1,
        {"candidates": 5, "epochs": 10, "val_images": 100},
        progress=False,
    )
    scores = s.extras["scores"]
    assert len(scores) == 1 and 0 <= float(scores[0]) <= 100  # best 20% of 5 candidates
    s10 = dd.distill(
        digits,
        "best-of-random",
        1,
        {"candidates": 10, "epochs": 10, "val_images": 100},
        progress=False,
    )
    assert len(s10.extras["scores"]) == 2 and s10.extras["scores"][0] >= s10.extras["scores"][1]


def test_knn_memorises_its_own_points_and_rejects_bad_arguments(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "random", 5, progress=False)
    table = knn_table(s, digits)
    assert set(table) == {"k=1 l1", "k=1 l2", "k=3 l1", "k=3 l2"}
    assert all(0 < v <= 100 for v in table.values())
    whole = dd.evaluation.full_set(digits)
    assert knn_accuracy(whole, digits, k=1) > knn_accuracy(s, digits, k=1)
    with pytest.raises(ValueError, match="metric"):
        knn_accuracy(s, digits, metric="cosine")
    with pytest.raises(ValueError, match="k="):
        knn_accuracy(s, digits, k=1000)


@dataclass
class _Init(InitConfig):
    pass


class InitOnly(DistillationMethod):
    """The trivial distillation: return the starting set untouched."""

    Config = _Init

    def run(self, data, ipc, generator, progress=True):
        return self.initial_set(data, ipc, generator)


@pytest.fixture
def init_only():
    dd.METHODS.register("init-only")(InitOnly)
    yield "init-only"
    dd.METHODS.remove("init-only")


@pytest.mark.parametrize(
    "init", ["random", "herding", "kcenter", "forgetting", "kmeans", "class-mean"]
)
def test_distillation_starts_from_any_selection(
    digits: dd.DataSplits, init_only: str, init: str
) -> None:
    started = dd.distill(digits, init_only, 2, {"init": init}, seed=3, progress=False)
    selected = dd.distill(digits, init, 2, seed=3, progress=False)
    assert torch.equal(started.images, selected.images)
    assert torch.equal(started.labels, selected.labels)


def test_noise_init_and_bad_init(digits: dd.DataSplits, init_only: str) -> None:
    s = dd.distill(digits, init_only, 2, {"init": "noise"}, progress=False)
    assert s.images.shape == (20, 1, 8, 8) and abs(float(s.images.std()) - 1) < 0.2
    with pytest.raises(ValueError, match="not a selection"):
        dd.distill(digits, init_only, 2, {"init": "init-only"}, progress=False)


@pytest.mark.skipif(not (MNIST_ROOT / "MNIST").is_dir(), reason="needs ../shared/data/MNIST")
def test_herding_and_kcenter_beat_random_at_ipc1_on_an_mnist_slice() -> None:
    full = dd.load_dataset("mnist", MNIST_ROOT)
    g = torch.Generator().manual_seed(0)
    train_ix = torch.randperm(len(full.train), generator=g)[:3000]
    test_ix = torch.randperm(len(full.test), generator=g)[:2000]
    data = dd.DataSplits(
        full.info,
        full.train.subset(train_ix),
        full.val.subset(torch.arange(200)),
        full.test.subset(test_ix),
    )
    cfg = dd.EvalConfig(models=["convnet-w32"], runs=3, epochs=100, augment="none")
    settings = {"embed_model": "convnet-w32", "embed_epochs": 3}
    acc = {
        m: dd.evaluate(
            dd.distill(data, m, 1, settings if m != "random" else None, seed=0, progress=False),
            data,
            cfg,
            progress=False,
        )
        .results["convnet-w32"]
        .mean
        for m in ("random", "herding", "kcenter")
    }
    assert acc["herding"] > acc["random"] and acc["kcenter"] > acc["random"], acc
