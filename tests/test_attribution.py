"""Attribution maps on tiny models whose answers are known by hand, and every registered method
on a ConvNet for digits (so that a new method is tested by registering it)."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from torch import nn

import datadistill as dd
from datadistill.inspect import LayerNotFoundError, TrainedModel, activations
from datadistill.inspect.attribution import (
    EXPLAINERS,
    explain,
    fullgrad_completeness,
    save_explanations,
)
from datadistill.inspect.attribution.figure import BAR, CELL, DPI
from datadistill.inspect.layers import last_conv, last_conv_block
from datadistill.registry import UnknownNameError


def linear_model(channels: int = 1, size: int = 4, classes: int = 3) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(channels * size * size, classes))


def top_left_model() -> nn.Sequential:
    """8×8 images: class 0 scores the sum of the top-left 4×4 quadrant, class 1 a constant 8."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    with torch.no_grad():
        model[1].weight.zero_()
        model[1].weight[0].view(8, 8)[:4, :4] = 1.0
        model[1].bias.copy_(torch.tensor([0.0, 8.0]))
    return model


def gap_cam_model(channels: int = 1) -> nn.Sequential:
    """conv → ReLU → conv → global average pool → linear: Grad-CAM's weights are w[c] / (h·w)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(channels, 3, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(3, 2, 3, padding=1),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(2, 4),
    )


def relu_net(batch_norm: bool = False) -> nn.Sequential:
    """A ReLU network with biases everywhere (and, optionally, an eval-mode batch norm)."""
    torch.manual_seed(0)
    norm = [nn.BatchNorm2d(4)] if batch_norm else []
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        *norm,
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(4 * 2 * 2, 10),
    )
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))  # no zero biases or unit scales
        if batch_norm:
            model[1].running_mean.copy_(torch.randn(4))
            model[1].running_var.copy_(torch.rand(4) + 0.5)
    return model.eval()


@pytest.fixture(scope="module")
def convnet(digits: dd.DataSplits) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(0)
    return dd.create_model("convnet-w32", digits.info), digits.train.images[:3]


def test_saliency_of_a_linear_model_is_the_weight_magnitude() -> None:
    model = linear_model()
    x = torch.randn(2, 1, 4, 4)
    w = model[1].weight.detach()
    out = explain(model, x, "saliency", target=torch.tensor([2, 0]))
    assert torch.allclose(out[0], w[2].abs().view(1, 4, 4))
    assert torch.allclose(out[1], w[0].abs().view(1, 4, 4))
    predicted = model(x).argmax(1)
    out = explain(model, x, "saliency")  # target None: each image's predicted class
    assert torch.allclose(out, w[predicted].abs().view(2, 1, 4, 4))


@pytest.mark.parametrize("baseline", [0.0, 0.5])
def test_integrated_gradients_of_a_linear_model(baseline: float) -> None:
    model = linear_model(channels=2)
    x = torch.randn(2, 2, 4, 4)
    w = model[1].weight.detach()
    out = explain(model, x, "integrated-gradients", target=1, baseline=baseline, steps=8)
    assert torch.allclose(out, (x - baseline) * w[1].view(1, 2, 4, 4), atol=1e-5)
    tensor_baseline = torch.full((1, 2, 4, 4), baseline)
    same = explain(model, x, "integrated-gradients", target=1, baseline=tensor_baseline, steps=8)
    assert torch.allclose(same, out, atol=1e-6)


def test_occlusion_sees_only_the_quadrant_the_model_looks_at() -> None:
    model = top_left_model()
    x = torch.ones(1, 1, 8, 8)  # class 0 scores 16 against 8: p(0) ≈ 1
    drop = explain(model, x, "occlusion", target=0, window=4, stride=4)[0, 0]
    assert (drop[:4, :4] > 0.99).all()  # hiding the quadrant: p(0) falls to σ(−8)
    drop[:4, :4] = 0
    assert drop.abs().max() < 1e-6
    small = explain(model, x, "occlusion", target=0, window=2, stride=2)[0, 0]
    assert (small[:4, :4] > 0).all() and small[4:].abs().max() < 1e-6


def test_occlusion_top_gives_the_winning_class_per_position() -> None:
    model = top_left_model()
    x = torch.ones(1, 1, 8, 8)
    top = explain(model, x, "occlusion-top", window=4, stride=4)[0, 0]
    expected = torch.zeros(8, 8)
    expected[:4, :4] = 1  # with the quadrant hidden, the constant class 1 wins
    assert torch.equal(top, expected)
    prob = explain(model, x, "occlusion-top", window=4, stride=4, value="probability")[0, 0]
    assert torch.allclose(prob, torch.full((8, 8), float(torch.sigmoid(torch.tensor(8.0)))))
    centred = explain(model, x, "occlusion-top", window=4, stride=1)[0, 0]
    assert centred[0, 0] == 1 and centred[7, 7] == 0
    with pytest.raises(ValueError, match="value"):
        explain(model, x, "occlusion-top", value="colour")


def test_gradcam_is_the_weighted_last_conv_map() -> None:
    model = gap_cam_model()
    x = torch.randn(2, 1, 8, 8)
    assert last_conv(model) == "2"
    out = explain(model, x, "gradcam", target=3)
    maps = activations(model, "2", x)  # (2, 2, 8, 8)
    weights = model[5].weight[3].detach() / 64  # the score's gradient, averaged over 8×8
    cam = torch.relu((weights.view(1, 2, 1, 1) * maps).sum(1, keepdim=True))
    assert torch.allclose(out, cam, atol=1e-6)
    assert torch.allclose(explain(model, x, "gradcam", target=3, layer="2"), out)


def test_gradcam_named_layer_shape_and_errors() -> None:
    model = gap_cam_model(channels=3)
    x = torch.randn(2, 3, 8, 8)
    first = explain(model, x, "gradcam", layer="0")
    assert first.shape == x.shape and torch.equal(first[:, 0], first[:, 2])
    pooled = explain(model, x, "gradcam", layer="3")  # a 1×1 map, upsampled
    assert pooled.shape == x.shape
    with pytest.raises(LayerNotFoundError, match="no layer 'features.9'; its layers: 0, 1"):
        explain(model, x, "gradcam", layer="features.9")
    with pytest.raises(ValueError, match="Grad-CAM needs a layer"):
        explain(model, x, "gradcam", layer="5")


@pytest.mark.parametrize("batch_norm", [False, True])
def test_fullgrad_completeness(batch_norm: bool) -> None:
    model = relu_net(batch_norm)
    x = torch.randn(4, 1, 8, 8)
    terms = fullgrad_completeness(model, x, target=torch.tensor([0, 3, 7, 9]))
    score = model(x)[torch.arange(4), torch.tensor([0, 3, 7, 9])].detach()
    assert torch.allclose(terms.score, score)
    assert torch.allclose(terms.total, score, atol=1e-4)
    assert terms.biases.abs().min() > 1e-3  # the bias terms matter here
    assert set(terms.layers) == ({"0", "1", "4", "7"} if batch_norm else {"0", "3", "6"})
    fullgrad_map = explain(model, x, "fullgrad")
    assert fullgrad_map.shape == x.shape and (fullgrad_map >= 0).all()


def test_smoothgrad_is_deterministic_under_a_seed() -> None:
    model = relu_net()
    x = torch.randn(2, 1, 8, 8)
    state = torch.get_rng_state()
    a = explain(model, x, "smoothgrad", samples=8, seed=1)
    b = explain(model, x, "smoothgrad", samples=8, seed=1)
    c = explain(model, x, "smoothgrad", samples=8, seed=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's random state is untouched
    plain = explain(model, x, "smoothgrad", samples=8, sigma=0.0)
    assert torch.allclose(plain, explain(model, x, "saliency"))


def module_state(model: nn.Module) -> tuple[dict, list[bool], int]:
    hooks = sum(
        len(m._forward_hooks)
        + len(m._forward_pre_hooks)
        + len(m._backward_hooks)
        + len(m._backward_pre_hooks)
        for m in model.modules()
    )
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, [p.requires_grad for p in model.parameters()], hooks


@pytest.mark.parametrize("method", EXPLAINERS.names())
def test_every_method_on_a_convnet(
    method: str, convnet: tuple[nn.Module, torch.Tensor], digits: dd.DataSplits
) -> None:
    model, x = convnet
    model.features[0].bias.requires_grad_(False)  # a mixed set of flags, to be restored
    before = module_state(model)
    out = explain(TrainedModel(model, "convnet-w32", digits.info), x, method)
    after = module_state(model)
    assert out.shape == x.shape and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert after[1] == before[1] and after[2] == before[2] == 0
    assert all(torch.equal(before[0][k], v) for k, v in after[0].items())
    assert all(p.grad is None for p in model.parameters())
    assert not x.requires_grad and not model.training


def test_clear_errors(convnet: tuple[nn.Module, torch.Tensor]) -> None:
    model, x = convnet
    with pytest.raises(UnknownNameError, match="unknown explanation method 'gradcan'.*gradcam"):
        explain(model, x, "gradcan")
    with pytest.raises(ValueError, match="smoothgrad has no setting sampels.*samples=25"):
        explain(model, x, "smoothgrad", sampels=4)
    with pytest.raises(ValueError, match="saliency has no setting steps; its settings: none"):
        explain(model, x, "saliency", steps=4)
    with pytest.raises(ValueError, match="non-empty \\(N, C, H, W\\)"):
        explain(model, x[0], "saliency")
    with pytest.raises(ValueError, match=r"images of shape \(3, 1, 16, 16\) do not fit this model"):
        explain(model, torch.zeros(3, 1, 16, 16), "saliency")
    with pytest.raises(ValueError, match=r"images of shape \(3, 3, 8, 8\) do not fit"):
        explain(model, torch.zeros(3, 3, 8, 8), "saliency")
    with pytest.raises(ValueError, match=r"target classes must lie in \[0, 10\)"):
        explain(model, x, "saliency", target=10)
    with pytest.raises(ValueError, match=r"a \(3,\) tensor"):
        explain(model, x, "saliency", target=torch.tensor([1, 2]))


def test_save_explanations_writes_a_png_of_fixed_size(tmp_path, digits: dd.DataSplits) -> None:
    model = relu_net()
    x = digits.train.images[:3]
    maps = {m: explain(model, x, m) for m in ("saliency", "gradcam")}
    sizes = {}
    for n, k in [(1, 1), (3, 1), (3, 2)]:
        chosen = dict(list(maps.items())[:k])
        rows = {name: m[:n] for name, m in chosen.items()}
        titles = [f"class {int(c)}" for c in digits.train.labels[:n]]
        path = save_explanations(x[:n], rows, tmp_path / f"fig{n}{k}.png", digits.info, titles)
        with Image.open(path) as im:
            sizes[n, k] = im.size
        assert sizes[n, k] == (round(CELL * (1 + k) * DPI), round((CELL * n + BAR) * DPI))
    assert sizes[3, 2][0] > sizes[3, 1][0] and sizes[3, 1][1] > sizes[1, 1][1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig11.png", "fig31.png", "fig32.png"]
    with pytest.raises(ValueError, match="map 'saliency' has shape"):
        save_explanations(x, {"saliency": maps["saliency"][:2]}, tmp_path / "bad.png")


def test_gradcam_default_is_the_last_conv_block_so_instance_norm_keeps_a_map(
    digits: dd.DataSplits,
) -> None:
    model = dd.create_model("convnet-w32", digits.info)
    assert last_conv_block(model) == "features.10"  # the ReLU after conv features.8 and its norm
    x = digits.test.images[:4]
    at_conv = explain(model, x, "gradcam", layer="features.8")
    default = explain(model, x, "gradcam")
    assert at_conv.abs().max() < 1e-6 < default.abs().max()  # the norm zeroes the conv's weights
