"""Every registered model × a few dataset shapes; the torch.func, seeding and error contracts."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from datadistill.datasets.info import DatasetInfo
from datadistill.models import (
    ConvNetConfig,
    batched_forward,
    create_model,
    has_batchnorm,
    list_models,
    stack_models,
)
from datadistill.models.convnet import VARIANTS
from datadistill.registry import UnknownNameError


def make_info(channels: int, size: int, num_classes: int = 10) -> DatasetInfo:
    return DatasetInfo(
        name=f"test-{channels}x{size}x{size}",
        channels=channels,
        size=(size, size),
        num_classes=num_classes,
        class_names=tuple(str(i) for i in range(num_classes)),
        mean=(0.5,) * channels,
        std=(0.25,) * channels,
    )


SHAPES = {
    "1x8x8": make_info(1, 8),
    "1x28x28": make_info(1, 28),
    "3x32x32": make_info(3, 32, num_classes=100),
}
TOO_SMALL = {("lenet", "1x8x8")}
BATCH = 2


def on_meta(name: str, info: DatasetInfo, **kwargs: Any) -> nn.Module:
    """The model's structure only: building on the meta device allocates and initialises nothing."""
    with torch.device("meta"):
        return create_model(name, info, **kwargs)


def classifier(model: nn.Module) -> nn.Linear:
    """The last linear layer: the one that ``embed`` feeds."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list_models())
def test_model(name: str, shape: str) -> None:
    info = SHAPES[shape]
    if (name, shape) in TOO_SMALL:
        with pytest.raises(ValueError, match="too small"):
            create_model(name, info)
        return
    torch.manual_seed(0)
    model = create_model(name, info)
    assert not any(getattr(m, "inplace", False) for m in model.modules())
    x = torch.randn(BATCH, *info.shape)
    out = model(x)
    assert out.shape == (BATCH, info.num_classes)
    F.cross_entropy(out, torch.arange(BATCH)).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    with torch.no_grad():
        features = model.embed(x)
        fc = classifier(model)
        assert features.shape == (BATCH, fc.in_features)
        torch.testing.assert_close(fc(features), model(x))


@pytest.mark.parametrize(
    ("name", "shape", "features"),
    [
        ("convnet", "1x28x28", 128 * 4 * 4),
        ("convnet", "3x32x32", 128 * 4 * 4),
        ("convnet", "1x8x8", 128),
        ("convnet-d4", "1x8x8", 128),
        ("convnet-d2", "3x32x32", 128 * 8 * 8),
        ("lenet", "1x28x28", 16 * 5 * 5),
        ("lenet", "3x32x32", 16 * 5 * 5),
        ("alexnet", "1x28x28", 192 * 4 * 4),
        ("alexnet", "3x32x32", 192 * 4 * 4),
        ("alexcifarnet", "3x32x32", 64 * 8 * 8),
        ("alexcifarnet", "1x28x28", 64 * 7 * 7),
        ("vgg11", "1x28x28", 512),
        ("vgg11", "1x8x8", 512),
        ("resnet18", "1x28x28", 512),
        ("resnet18-ap", "1x28x28", 512 * 3 * 3),
        ("resnet18-ap", "3x32x32", 512 * 4 * 4),
        ("mlp", "1x28x28", 28 * 28),
    ],
)
def test_feature_sizes_match_the_reference(name: str, shape: str, features: int) -> None:
    """The flattened input of the first linear layer, worked out by hand from the reference."""
    model = on_meta(name, SHAPES[shape])
    first = next(m for m in model.modules() if isinstance(m, nn.Linear))
    assert first.in_features == features


def test_mnist_convnet_pads_the_first_conv_by_3() -> None:
    convs = [m for m in on_meta("convnet", SHAPES["1x28x28"]).modules() if isinstance(m, nn.Conv2d)]
    assert [c.padding for c in convs] == [(3, 3), (1, 1), (1, 1)]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_convnet_variants_follow_their_config(name: str) -> None:
    config = VARIANTS[name]
    model = on_meta(name, SHAPES["1x8x8"])
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == config.depth
    assert {c.out_channels for c in convs} == {config.width}
    assert has_batchnorm(model) == (config.norm == "batch")


def test_convnet_overrides() -> None:
    info = SHAPES["1x8x8"]
    deep = on_meta("convnet", info, depth=4)
    assert sum(isinstance(m, nn.Conv2d) for m in deep.modules()) == 4
    narrow_bn = on_meta("convnet-bn", info, width=32, act="sigmoid")
    assert {m.num_features for m in narrow_bn.modules() if isinstance(m, nn.BatchNorm2d)} == {32}
    assert any(isinstance(m, nn.Sigmoid) for m in narrow_bn.modules())
    groups = [
        m.num_groups for m in on_meta("convnet-ln", info).modules() if isinstance(m, nn.GroupNorm)
    ]
    assert groups == [1, 1, 1]
    assert ConvNetConfig().norm == "instance"


WITHOUT_BATCHNORM = [n for n in list_models() if not has_batchnorm(on_meta(n, SHAPES["1x28x28"]))]


@pytest.mark.parametrize("name", WITHOUT_BATCHNORM)
def test_vmap_matches_one_by_one(name: str) -> None:
    info = make_info(3, 16)
    torch.manual_seed(0)
    models = [create_model(name, info) for _ in range(3)]
    params, buffers = stack_models(models)
    base = copy.deepcopy(models[0]).to("meta")
    x = torch.randn(3, BATCH, *info.shape)
    out = batched_forward(base, params, buffers, x)
    with torch.no_grad():
        expected = torch.stack([m(xi) for m, xi in zip(models, x, strict=True)])
    torch.testing.assert_close(out.detach(), expected, atol=1e-5, rtol=1e-5)
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params.values())


def test_has_batchnorm() -> None:
    info = SHAPES["1x8x8"]
    assert has_batchnorm(on_meta("convnet-bn", info))
    assert has_batchnorm(on_meta("resnet18-ap", info))
    assert not has_batchnorm(on_meta("convnet", info))
    assert not has_batchnorm(on_meta("resnet18-in", info))


@pytest.mark.parametrize("name", list_models())
def test_construction_follows_the_global_seed(name: str) -> None:
    info = SHAPES["1x28x28"]
    torch.manual_seed(0)
    first = create_model(name, info).state_dict()
    second = create_model(name, info).state_dict()
    torch.manual_seed(0)
    again = create_model(name, info).state_dict()
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    weights = [k for k in first if k.endswith("weight") and first[k].numel() > 1]
    assert any(not torch.equal(first[k], second[k]) for k in weights)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(UnknownNameError, match="convnet-bn"):
        create_model("convnet-xl", SHAPES["1x8x8"])


@pytest.mark.parametrize(
    ("name", "info"),
    [("lenet", make_info(3, 8)), ("alexnet", make_info(3, 4)), ("resnet18-ap", make_info(3, 4))],
)
def test_too_small_images_raise_value_error(name: str, info: DatasetInfo) -> None:
    with pytest.raises(ValueError, match="too small"):
        create_model(name, info)


def test_bad_settings_raise() -> None:
    info = SHAPES["1x8x8"]
    with pytest.raises(ValueError, match="instance"):
        create_model("convnet", info, norm="weird")
    with pytest.raises(ValueError, match="depth"):
        create_model("convnet", info, depth=0)
    with pytest.raises(TypeError):
        create_model("convnet", info, heads=4)


def test_compiled_matches_eager_and_is_shared_by_fresh_networks() -> None:
    from datadistill.models.compiled import compiled

    info = make_info(1, 8)
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    y = torch.arange(6)
    for seed in range(3):
        torch.manual_seed(seed)
        net = create_model("convnet-w32", info)
        params = list(net.parameters())
        # The first network compiles; later ones of the same architecture must reuse the graphs.
        stance = "default" if seed == 0 else "fail_on_recompile"
        with torch.compiler.set_stance(stance):
            out = compiled(net)(x)
            embedded = compiled(net, "embed")(x)
            got = torch.autograd.grad(F.cross_entropy(out, y), params)
        torch.testing.assert_close(out, net(x), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(embedded, net.embed(x), rtol=1e-4, atol=1e-5)
        want = torch.autograd.grad(F.cross_entropy(net(x), y), params)
        for g, w in zip(got, want, strict=True):
            torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-5)


def test_compiled_follows_train_and_eval_modes() -> None:
    from datadistill.models.compiled import compiled

    torch.manual_seed(0)
    net = create_model("convnet-w32", make_info(1, 8), norm="batch")
    x = torch.randn(6, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    fn = compiled(net)
    with torch.no_grad():
        net.train()  # batch statistics
        torch.testing.assert_close(fn(x), net(x), rtol=1e-4, atol=1e-5)
        net.eval()  # running statistics: a different function of x
        torch.testing.assert_close(fn(x), net(x), rtol=1e-4, atol=1e-5)


def test_compiled_without_a_cpp_compiler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from datadistill.models import compiled as module

    monkeypatch.setattr(module.shutil, "which", lambda name: None)
    monkeypatch.setattr(module, "_GRAPHS", {})  # as in a process that has compiled nothing yet
    with pytest.raises(ValueError, match="compiler"):
        module.compiled(create_model("convnet-w32", make_info(1, 8)))
