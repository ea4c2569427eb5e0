"""Filters, activations, top images, penultimate features, t-SNE and neighbours, on tiny models and
the digits set; every figure must be a PNG that PIL reads, written without leftovers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch import nn

import datadistill as dd
from datadistill.inspect.features import (
    embed_features,
    first_layer_filters,
    neighbours,
    top_images,
    tsne,
)
from datadistill.inspect.figures import (
    save_activations,
    save_filters,
    save_neighbours,
    save_top_images,
    save_tsne,
)
from datadistill.inspect.layers import LayerNotFoundError, activations


@pytest.fixture(scope="module")
def convnet(digits: dd.DataSplits) -> nn.Module:
    torch.manual_seed(0)
    return dd.create_model("convnet-w32", digits.info).eval()


def assert_png(path: Path) -> None:
    """``path`` is a readable PNG and no temporary file is left beside it."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] > 10 and image.size[1] > 10
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def brightness_net() -> nn.Sequential:
    """A 1×1 conv whose channel 0 is the pixel value and channel 1 its negative."""
    conv = nn.Conv2d(1, 2, kernel_size=1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, -1.0]).view(2, 1, 1, 1))
        conv.bias.zero_()
    return nn.Sequential(conv, nn.Flatten(), nn.Linear(2 * 8 * 8, 3))


def test_filters_and_their_figure(convnet: nn.Module, tmp_path: Path) -> None:
    filters = first_layer_filters(convnet)
    assert filters.shape == convnet.features[0].weight.shape
    assert_png(save_filters(convnet, tmp_path / "filters.png"))
    assert_png(save_filters(convnet, tmp_path / "conv2.png", layer="features.4"))
    rgb = nn.Sequential(nn.Conv2d(3, 5, 3), nn.Flatten())
    assert first_layer_filters(rgb).shape == (5, 3, 3, 3)
    assert_png(save_filters(rgb, tmp_path / "rgb" / "filters.png"))
    with pytest.raises(ValueError, match="not a Conv2d"):
        save_filters(convnet, tmp_path / "x.png", layer="classifier")
    with pytest.raises(LayerNotFoundError):
        first_layer_filters(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))


def test_activations_of_a_named_layer(
    convnet: nn.Module, digits: dd.DataSplits, tmp_path: Path
) -> None:
    image = digits.train.images[0]
    assert activations(convnet, "features.4", image[None]).shape[1] == 32
    path = save_activations(convnet, image, "features.4", tmp_path / "act.png", info=digits.info)
    assert_png(path)
    assert_png(save_activations(convnet, image, "classifier", tmp_path / "logits.png"))


def test_top_images_are_the_brightest_first(tmp_path: Path) -> None:
    torch.manual_seed(0)
    images = (
        torch.rand(40, 1, 8, 8) + torch.linspace(-1, 1, 40).view(-1, 1, 1, 1)[torch.randperm(40)]
    )
    brightness = images.mean(dim=(1, 2, 3))
    net = brightness_net()
    indices, scores = top_images(net, "0", 0, images, k=5, batch=7)
    assert indices.tolist() == brightness.argsort(descending=True)[:5].tolist()
    assert torch.allclose(scores, brightness[indices], atol=1e-5)
    darkest, _ = top_images(net, "0", 1, images, k=3)
    assert darkest.tolist() == brightness.argsort()[:3].tolist()
    unit, _ = top_images(net, "2", 0, images, k=40)
    assert sorted(unit.tolist()) == list(range(40))
    labels = torch.arange(40) % 3
    assert_png(save_top_images(net, "0", 0, images, tmp_path / "top.png", k=4, labels=labels))


def test_embed_features_shape(convnet: nn.Module, digits: dd.DataSplits) -> None:
    images = digits.train.images[:20]
    assert embed_features(convnet, images, batch=8).shape == (20, 32)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 10))
    features = embed_features(net, images, batch=6)
    assert features.shape == (20, 16)
    assert torch.allclose(features, net[:3](images).detach())
    assert not net[3]._forward_pre_hooks


def test_tsne_is_seeded(convnet: nn.Module, digits: dd.DataSplits, tmp_path: Path) -> None:
    features = embed_features(convnet, digits.train.images[:60])
    first = tsne(features, seed=3)
    assert first.shape == (60, 2)
    assert torch.equal(first, tsne(features, seed=3))
    assert tsne(features[:5], perplexity=30).shape == (5, 2)
    path = save_tsne(
        convnet,
        digits.train.images[:150],
        digits.train.labels[:150],
        tmp_path / "tsne.png",
        info=digits.info,
        max_points=80,
    )
    assert_png(path)


def test_a_pool_image_is_its_own_nearest_neighbour(
    convnet: nn.Module, digits: dd.DataSplits, tmp_path: Path
) -> None:
    pool = digits.train.images[:100]
    found = neighbours(convnet, pool[[7, 42]], pool, k=4)
    assert found["feature"].shape == found["pixel"].shape == (2, 4)
    assert found["feature"][:, 0].tolist() == [7, 42]
    assert found["pixel"][:, 0].tolist() == [7, 42]
    path = save_neighbours(
        convnet,
        digits.test.images[:3],
        pool,
        tmp_path / "nn.png",
        k=3,
        info=digits.info,
        pool_labels=digits.train.labels[:100],
    )
    assert_png(path)


def test_clear_errors(convnet: nn.Module, digits: dd.DataSplits, tmp_path: Path) -> None:
    images = digits.train.images[:10]
    with pytest.raises(LayerNotFoundError, match="no layer 'features.99'"):
        top_images(convnet, "features.99", 0, images)
    with pytest.raises(LayerNotFoundError):
        save_activations(convnet, images[0], "nope", tmp_path / "a.png")
    for channel in (32, -1):
        with pytest.raises(ValueError, match="out of range") as err:
            top_images(convnet, "features.0", channel, images)
        assert "\n" not in str(err.value)
    wrong = [
        ("channels", lambda: embed_features(convnet, torch.rand(10, 3, 8, 8))),
        (r"\(N, C, H, W\)", lambda: embed_features(convnet, torch.rand(10, 64))),
        ("do not fit", lambda: top_images(convnet, "classifier", 0, torch.rand(2, 1, 16, 16))),
    ]
    for message, call in wrong:
        with pytest.raises(ValueError, match=message) as err:
            call()
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="one image"):
        save_activations(convnet, images[:2], "features.0", tmp_path / "b.png")
    assert not list(tmp_path.iterdir())
