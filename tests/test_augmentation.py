"""Augmentations: replayable parameters, siamese use, shape and gradient, no global RNG use."""

from __future__ import annotations

import pytest
import torch

from datadistill.datasets.augmentation import DSA, create_augmentation

NAMES = ["none", "dc", "dsa"]


@pytest.mark.parametrize("name", NAMES)
def test_replay_gives_identical_output_and_keeps_shape(name: str) -> None:
    aug = create_augmentation(name)
    x = torch.randn(6, 3, 16, 16)
    for i in range(10):
        params = aug.sample(6, torch.Generator().manual_seed(i))
        out = aug.apply(x, params)
        assert out.shape == x.shape
        assert torch.equal(out, aug.apply(x, params))


@pytest.mark.parametrize("name", NAMES)
def test_global_rng_untouched(name: str) -> None:
    aug = create_augmentation(name)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    aug.apply(
        torch.randn(4, 1, 8, 8, generator=torch.Generator()), aug.sample(4, torch.Generator())
    )
    assert torch.equal(before, torch.random.get_rng_state())


@pytest.mark.parametrize("op", ["color", "crop", "cutout", "flip", "scale", "rotate"])
def test_dsa_each_op_is_differentiable_and_siamese(op: str) -> None:
    aug = DSA(strategy=op)
    real = torch.randn(8, 3, 16, 16, requires_grad=True)
    params = aug.sample(8, torch.Generator().manual_seed(0))
    out = aug.apply(real, params)
    out.square().sum().backward()
    assert real.grad is not None and torch.isfinite(real.grad).all()
    syn = real.detach()[:3].clone()
    assert torch.allclose(aug.apply(syn, params), out.detach()[:3], atol=1e-6)


def test_dsa_changes_images_and_flip_can_be_dropped() -> None:
    aug = create_augmentation("dsa", flip=False)
    assert "flip" not in aug.ops
    x = torch.randn(8, 1, 16, 16)
    changed = [
        not torch.allclose(aug.apply(x, aug.sample(8, torch.Generator().manual_seed(i))), x)
        for i in range(5)
    ]
    assert any(changed)


def test_unknown_ops_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown DSA"):
        DSA(strategy="color_warp")
    with pytest.raises(ValueError, match="unknown DC"):
        create_augmentation("dc", strategy="crop_blur")


def test_dc_crop_is_an_integer_shift() -> None:
    aug = create_augmentation("dc", strategy="crop")
    x = torch.zeros(1, 1, 8, 8)
    x[0, 0, 4, 4] = 1.0
    params = aug.sample(1, torch.Generator().manual_seed(0))
    out = aug.apply(x, params)
    dy, dx = params["shift"][0].tolist()
    assert out[0, 0, 4 + dy, 4 + dx] == pytest.approx(1.0, abs=1e-5)
    filled = 8 * (abs(dx) + abs(dy)) - abs(dx * dy)  # pixels shifted in from outside
    assert out.sum() == pytest.approx(1.0 + x.mean().item() * filled, abs=1e-4)
