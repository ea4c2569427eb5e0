"""Activation maximisation: each objective rises, runs repeat exactly, the parser reads the string
forms and rejects bad ones, the regularisers act, and the network is left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

import datadistill as dd
from datadistill.inspect import LayerNotFoundError, TrainedModel
from datadistill.inspect.layers import activations
from datadistill.inspect.maximize import (
    Maximized,
    gram_similarity,
    maximize,
    random_transform,
    save_maximized,
    total_variation,
)
from datadistill.inspect.objectives import (
    Channel,
    DeepDream,
    Logit,
    Neuron,
    Objective,
    Probability,
    WeightedSum,
    parse_objective,
)
from datadistill.inspect.parametrization import FourierImage, PixelImage
from datadistill.models.factory import create_seeded_model

STEPS = 30


@pytest.fixture(scope="module")
def net(digits: dd.DataSplits) -> nn.Module:
    return create_seeded_model("convnet-w32", digits.info, seed=0).eval()


def run(
    net: nn.Module, objective: str | Objective, info: dd.DatasetInfo, steps: int = STEPS, **kwargs
) -> Maximized:
    """A short, quiet run."""
    return maximize(net, objective, info=info, steps=steps, progress=False, **kwargs)


# One table drives the "it goes up" test: a new objective kind is tested by adding a row.
RISING = [
    ("channel:features.8:12", "fourier"),
    ("channel:features.8:12", "pixel"),
    ("logit:3", "fourier"),
    ("probability:3", "pixel"),
    ("neuron:features.4:3,2,5", "fourier"),
    ("neuron:classifier:7", "pixel"),
    ("layer:features.4", "fourier"),
    ("channel:features.8:12+0.5*logit:3-0.2*probability:1", "fourier"),
]


@pytest.mark.parametrize(("objective", "param"), RISING)
def test_objective_rises(net: nn.Module, digits: dd.DataSplits, objective: str, param: str) -> None:
    result = run(net, objective, digits.info, param=param)
    assert len(result.history) == STEPS
    assert result.history[-1] > result.history[0]
    assert sum(result.values) / len(result.values) > result.history[0]
    assert result.images.shape == (1, *digits.info.shape)
    assert result.settings["objective"] == str(parse_objective(objective))


def test_same_seed_same_images(net: nn.Module, digits: dd.DataSplits) -> None:
    a = run(net, "channel:features.8:3", digits.info, batch=2, seed=1)
    b = run(net, "channel:features.8:3", digits.info, batch=2, seed=1)
    c = run(net, "channel:features.8:3", digits.info, batch=2, seed=2)
    assert torch.equal(a.images, b.images) and a.history == b.history
    assert not torch.allclose(a.images, c.images)


def test_global_random_state_untouched(net: nn.Module, digits: dd.DataSplits) -> None:
    before = torch.get_rng_state()
    run(net, "logit:1", digits.info, param="pixel", blur_every=5)
    assert torch.equal(before, torch.get_rng_state())


def test_model_left_as_it_was(digits: dd.DataSplits) -> None:
    model = create_seeded_model("convnet-w32", digits.info, seed=3).train()
    model.classifier.bias.requires_grad_(False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = {name: p.requires_grad for name, p in model.named_parameters()}
    run(model, "channel:features.8:1+layer:features.4", digits.info, batch=2, diversity=1.0)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert flags == {name: p.requires_grad for name, p in model.named_parameters()}
    assert all(p.grad is None for p in model.parameters())
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training


def test_trained_model_gives_its_info(net: nn.Module, digits: dd.DataSplits) -> None:
    trained = TrainedModel(net, "convnet-w32", digits.info)
    result = maximize(trained, "logit:2", steps=3, progress=False)
    assert result.settings["mean"] == digits.info.mean
    mean = torch.tensor(digits.info.mean).view(1, -1, 1, 1)
    std = torch.tensor(digits.info.std).view(1, -1, 1, 1)
    assert torch.allclose(result.images, (result.pixels - mean) / std)


PARSED = [
    ("channel:features.8:12", Channel("features.8", 12)),
    ("neuron:features.4:3,2,5", Neuron("features.4", 3, 2, 5)),
    ("neuron:features.4:3", Neuron("features.4", 3)),
    ("layer:features.4", DeepDream("features.4")),
    ("logit:3", Logit(3)),
    ("probability:3", Probability(3)),
    (
        "channel:features.8:12+0.5*logit:3",
        WeightedSum(((1.0, Channel("features.8", 12)), (0.5, Logit(3)))),
    ),
    (
        " layer:features.4 - 1e-2 * probability:7 ",
        WeightedSum(((1.0, DeepDream("features.4")), (-0.01, Probability(7)))),
    ),
    ("-logit:3", WeightedSum(((-1.0, Logit(3)),))),
]


@pytest.mark.parametrize(("text", "expected"), PARSED)
def test_parser_reads_the_forms(net: nn.Module, text: str, expected: Objective) -> None:
    parsed = parse_objective(text, net)
    assert parsed == expected
    assert parse_objective(str(parsed)) == parsed


def test_objectives_compose() -> None:
    combined = Channel("features.8", 12) + 0.5 * Logit(3) - Probability(1)
    assert combined == parse_objective("channel:features.8:12+0.5*logit:3-probability:1")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty objective"),
        ("channel:features.8", "use channel:LAYER:C"),
        ("channel:features.8:x", "non-negative integer"),
        ("channel:features.8:-1", "non-negative integer"),
        ("neuron:features.4:3,2", "C or C,Y,X"),
        ("logit:3:4", "use logit:CLASS"),
        ("logit:3 logit:4", "at character"),
        ("logit:3+", "at character"),
        ("0.5*", "at character"),
        ("banana:3", "unknown objective kind 'banana'"),
        ("layer:.x", "not a layer name"),
    ],
)
def test_parser_rejects_malformed(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        parse_objective(text)
    assert "\n" not in str(error.value)


def test_unknown_layer(net: nn.Module, digits: dd.DataSplits) -> None:
    with pytest.raises(LayerNotFoundError, match="no layer 'features.99'"):
        parse_objective("channel:features.99:1", net)
    with pytest.raises(LayerNotFoundError):
        run(net, Channel("nope", 0), digits.info)


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ("channel:features.8:32", "channel 32 is out of range"),
        ("logit:10", "class 10 is out of range"),
        ("probability:11", "class 11 is out of range"),
        ("neuron:features.4:3,6,0", "row 6 is out of range"),
        ("neuron:classifier:3,0,0", "flat output"),
    ],
)
def test_index_out_of_range(
    net: nn.Module, digits: dd.DataSplits, objective: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        run(net, objective, digits.info)
    assert all(p.requires_grad for p in net.parameters())
    assert all(not m._forward_hooks for m in net.modules())


def test_fourier_shape_and_range() -> None:
    torch.manual_seed(0)
    rgb = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.LazyLinear(5))
    rgb(torch.zeros(1, 3, 12, 9))
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.3)
    result = maximize(
        rgb, "channel:0:1", mean=mean, std=std, size=(12, 9), batch=3, steps=5, progress=False
    )
    assert result.pixels.shape == result.images.shape == (3, 3, 12, 9)
    assert result.pixels.min() >= 0 and result.pixels.max() <= 1
    assert result.settings["decorrelate"]
    g = torch.Generator().manual_seed(0)
    image = FourierImage((2, 1, 7, 10), g)
    assert image.pixels().shape == (2, 1, 7, 10)


def test_pixel_set_pixels_round_trip() -> None:
    image = PixelImage((1, 3, 5, 5), torch.Generator().manual_seed(0))
    target = torch.rand((1, 3, 5, 5), generator=torch.Generator().manual_seed(1)) * 0.8 + 0.1
    image.set_pixels(target)
    assert torch.allclose(image.pixels(), target, atol=1e-5)


def test_diversity_pushes_images_apart(net: nn.Module, digits: dd.DataSplits) -> None:
    def spread(diversity: float) -> tuple[float, float]:
        result = run(net, "channel:features.8:12", digits.info, batch=2, diversity=diversity)
        assert result.settings["diversity_layer"] == ("features.8" if diversity else None)
        distance = (result.pixels[0] - result.pixels[1]).abs().mean().item()
        return distance, gram_similarity(activations(net, "features.8", result.images)).item()

    (near, similar), (far, dissimilar) = spread(0.0), spread(1.0)
    assert far > 2 * near
    assert dissimilar < similar
    with pytest.raises(ValueError, match="batch >= 2"):
        run(net, "logit:1", digits.info, diversity=1.0)


def test_total_variation_smooths(net: nn.Module, digits: dd.DataSplits) -> None:
    rough = run(net, "neuron:features.4:3,2,5", digits.info, param="pixel")
    smooth = run(net, "neuron:features.4:3,2,5", digits.info, param="pixel", tv=1.0)
    assert total_variation(smooth.pixels) < total_variation(rough.pixels)


def test_blur_is_for_pixels(net: nn.Module, digits: dd.DataSplits) -> None:
    blurred = run(net, "logit:4", digits.info, param="pixel", blur_every=4, blur_sigma=1.0)
    plain = run(net, "logit:4", digits.info, param="pixel")
    assert total_variation(blurred.pixels) < total_variation(plain.pixels)
    with pytest.raises(ValueError, match="blur_every applies to param='pixel'"):
        run(net, "logit:4", digits.info, param="fourier", blur_every=4)


def test_random_transform_identity_and_shape() -> None:
    x = torch.rand((2, 3, 6, 8), generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    assert random_transform(x, g, 0, 0.0, 0.0) is x
    moved = random_transform(x, g, 1, 0.1, 10.0)
    assert moved.shape == x.shape and not torch.equal(moved, x)


def test_bad_settings(net: nn.Module, digits: dd.DataSplits) -> None:
    with pytest.raises(ValueError, match="param must be one of"):
        run(net, "logit:1", digits.info, param="wavelet")
    with pytest.raises(ValueError, match="scale must be in"):
        run(net, "logit:1", digits.info, scale=1.5)
    with pytest.raises(ValueError, match="give size="):
        maximize(net, "logit:1", steps=1, progress=False)


def test_save_maximized(net: nn.Module, digits: dd.DataSplits, tmp_path: Path) -> None:
    result = run(net, "channel:features.8:5", digits.info, batch=3, steps=5)
    path = save_maximized(result, tmp_path / "figs" / "max.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["max.png"]
    save_maximized(result, path, titles=["a", "b", "c"])
    with pytest.raises(ValueError, match="2 titles for 3 images"):
        save_maximized(result, path, titles=["a", "b"])
