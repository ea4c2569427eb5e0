"""Matching methods (DM, DC, DSA): they learn, resume bit-for-bit, and their pieces agree with
the reference formulations."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import datadistill as dd
from datadistill.distillation.dc import class_gradients
from datadistill.distillation.losses import DISTANCES
from datadistill.methods import METHODS
from datadistill.synset import SetFileError

FAST = {"batch_real": 32, "model": "convnet-w32", "checkpoint_every": 2}
MATCHING = ["dm", "dc", "dsa"]
BUDGET = {"dm": 60, "dc": 30, "dsa": 30}


@pytest.mark.parametrize("method", MATCHING)
def test_beats_random_at_ipc1(digits: dd.DataSplits, method: str) -> None:
    cfg = dd.EvalConfig(models=["convnet-w32"], runs=2, epochs=100, augment="none")
    learned = dd.distill(
        digits, method, 1, {**FAST, "iterations": BUDGET[method]}, seed=0, progress=False
    )
    rnd = dd.distill(digits, "random", 1, seed=0, progress=False)
    acc = dd.evaluate(learned, digits, cfg, progress=False).results["convnet-w32"].mean
    acc_rnd = dd.evaluate(rnd, digits, cfg, progress=False).results["convnet-w32"].mean
    assert acc > acc_rnd + 5, (acc, acc_rnd)


def test_vmapped_class_gradients_equal_the_per_class_loop() -> None:
    info = dd.DatasetInfo("t", 1, (8, 8), 3, ("a", "b", "c"), (0.0,), (1.0,))
    torch.manual_seed(0)
    net = dd.create_model("convnet-w32", info)
    x = torch.randn(3, 5, 1, 8, 8, requires_grad=True)
    y = torch.arange(3).view(3, 1).expand(3, 5)
    looped = class_gradients(net, x, y, batched=False, keep_graph=True)
    vmapped = class_gradients(net, x, y, batched=True, keep_graph=True)
    for name, g in looped.items():
        assert torch.allclose(g, vmapped[name], atol=1e-5), name
    reference = torch.autograd.grad(F.cross_entropy(net(x[1]), y[1]), list(net.parameters()))
    assert torch.allclose(looped["classifier.weight"][1], reference[-2], atol=1e-6)
    (gx_loop,) = torch.autograd.grad(sum(g.square().sum() for g in looped.values()), x)
    (gx_vmap,) = torch.autograd.grad(sum(g.square().sum() for g in vmapped.values()), x)
    assert torch.allclose(gx_loop, gx_vmap, atol=1e-4)


def _reference_distance_wb(gwr: torch.Tensor, gws: torch.Tensor) -> torch.Tensor:
    """The DC code's per-layer distance, written as it is there."""
    shape = gwr.shape
    if len(shape) == 4:
        gwr, gws = gwr.reshape(shape[0], -1), gws.reshape(shape[0], -1)
    elif len(shape) == 1:
        return torch.tensor(0.0)
    return torch.sum(
        1
        - torch.sum(gwr * gws, dim=-1) / (torch.norm(gwr, dim=-1) * torch.norm(gws, dim=-1) + 1e-6)
    )


def test_layerwise_distance_matches_the_reference_and_others_are_zero_at_equality() -> None:
    g = torch.Generator().manual_seed(0)
    shapes = {"conv.weight": (4, 2, 3, 3), "conv.bias": (4,), "fc.weight": (3, 8)}
    real = {n: torch.randn(2, *s, generator=g) for n, s in shapes.items()}
    syn = {n: torch.randn(2, *s, generator=g) for n, s in shapes.items()}
    expected = sum(_reference_distance_wb(real[n][c], syn[n][c]) for n in shapes for c in range(2))
    assert torch.allclose(DISTANCES.get("layerwise")(real, syn), expected, atol=1e-5)
    for name in ("layerwise", "mse", "cos"):
        assert float(DISTANCES.get(name)(real, real)) == pytest.approx(0.0, abs=1e-4)
        assert float(DISTANCES.get(name)(real, syn)) > 0


def test_dc_follows_the_papers_loops_and_trains_with_batch_norm(digits: dd.DataSplits) -> None:
    cfg = METHODS.get("dc").Config()
    assert [cfg.loops(i) for i in (1, 10, 50)] == [(1, 1), (10, 50), (50, 10)]
    assert (cfg.lr_img, cfg.momentum, cfg.iterations, METHODS.get("dsa").Config().augment) == (
        0.1,
        0.5,
        1000,
        "dsa",
    )
    s = dd.distill(
        digits, "dc", 2, {"iterations": 1, "batch_real": 16, "model": "convnet-bn"}, progress=False
    )
    assert s.images.shape == (20, 1, 8, 8) and torch.isfinite(s.images).all()


def test_dm_starts_from_its_init_and_moves(digits: dd.DataSplits) -> None:
    start = dd.distill(digits, "random", 1, seed=2, progress=False)
    dm = dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, seed=2, progress=False)
    assert torch.equal(dm.labels, start.labels)
    assert not torch.allclose(dm.images, start.images)


def test_class_chunks_give_the_same_step(digits: dd.DataSplits) -> None:
    whole = dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, seed=1, progress=False)
    chunked = dd.distill(
        digits, "dm", 1, {**FAST, "iterations": 2, "class_chunk": 3}, seed=1, progress=False
    )
    assert torch.allclose(whole.images, chunked.images, atol=1e-5)


@pytest.mark.parametrize("method", MATCHING)
def test_interrupted_run_resumes_identical(
    digits: dd.DataSplits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    loops = {"outer_loop": 2, "inner_loop": 2}
    settings = {**FAST, "iterations": 6} if method == "dm" else {**FAST, "iterations": 4, **loops}
    plain = dd.distill(digits, method, 2, settings, seed=4, progress=False)
    ckpt = tmp_path / f"{method}.ckpt"
    cls = METHODS.get(method)
    original = cls.step
    calls = {"n": 0}

    def dies_after_two(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(cls, "step", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        dd.distill(digits, method, 2, settings, seed=4, progress=False, checkpoint=ckpt)
    monkeypatch.setattr(cls, "step", original)
    assert ckpt.is_file()
    resumed = dd.distill(digits, method, 2, settings, seed=4, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, plain.images)


def test_finished_run_continues_to_more_iterations(digits: dd.DataSplits, tmp_path: Path) -> None:
    settings = {**FAST, "checkpoint_every": 2}
    straight = dd.distill(digits, "dm", 1, {**settings, "iterations": 4}, seed=3, progress=False)
    ckpt = tmp_path / "dm.ckpt"
    dd.distill(
        digits, "dm", 1, {**settings, "iterations": 2}, seed=3, progress=False, checkpoint=ckpt
    )
    longer = dd.distill(
        digits, "dm", 1, {**settings, "iterations": 4}, seed=3, progress=False, checkpoint=ckpt
    )
    assert torch.equal(longer.images, straight.images)


def test_run_ending_between_checkpoints_saves_its_last_iteration(
    digits: dd.DataSplits, tmp_path: Path
) -> None:
    settings = {**FAST, "checkpoint_every": 2}
    ckpt = tmp_path / "dm.ckpt"
    first = dd.distill(
        digits, "dm", 1, {**settings, "iterations": 3}, seed=3, progress=False, checkpoint=ckpt
    )
    assert torch.load(ckpt, weights_only=True)["iteration"] == 3
    again = dd.distill(
        digits, "dm", 1, {**settings, "iterations": 3}, seed=3, progress=False, checkpoint=ckpt
    )
    assert torch.equal(again.images, first.images)


def test_checkpoint_of_another_run_or_damaged_is_refused(
    digits: dd.DataSplits, tmp_path: Path
) -> None:
    ckpt = tmp_path / "dm.ckpt"
    dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, progress=False, checkpoint=ckpt)
    lr = METHODS.get("dm").Config().lr_img
    with pytest.raises(SetFileError, match=f"different run \\(lr_img: {lr} there, 0.5 here\\)"):
        dd.distill(
            digits,
            "dm",
            1,
            {**FAST, "iterations": 2, "lr_img": 0.5},
            progress=False,
            checkpoint=ckpt,
        )
    with pytest.raises(SetFileError, match="ipc: 1 there, 2 here"):
        dd.distill(digits, "dm", 2, {**FAST, "iterations": 2}, progress=False, checkpoint=ckpt)
    ckpt.write_bytes(b"garbage")
    with pytest.raises(SetFileError, match="not a readable checkpoint"):
        dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, progress=False, checkpoint=ckpt)


def test_validation_tracking_keeps_the_best_and_resumes_it(
    digits: dd.DataSplits, tmp_path: Path
) -> None:
    settings = {
        **FAST,
        "iterations": 6,
        "eval_every": 2,
        "eval_model": "convnet-w32",
        "eval_epochs": 5,
    }
    last = dd.distill(digits, "dm", 1, settings, seed=0, progress=False)
    best = dd.distill(digits, "dm", 1, {**settings, "keep": "best"}, seed=0, progress=False)
    history = last.meta["val_history"]
    assert [h[0] for h in history] == [2, 4, 6] and all(0 <= h[1] <= 100 for h in history)
    assert best.meta["val_history"] == history
    best_it = max(history, key=lambda h: h[1])[0]
    again = dd.distill(digits, "dm", 1, {**settings, "iterations": best_it}, seed=0, progress=False)
    assert torch.equal(best.images, again.images)
    with pytest.raises(ValueError, match="eval_every"):
        dd.distill(digits, "dm", 1, {**FAST, "keep": "best"}, progress=False)
    ckpt = tmp_path / "c.ckpt"
    first = dd.distill(
        digits, "dm", 1, {**settings, "keep": "best"}, seed=0, progress=False, checkpoint=ckpt
    )
    resumed = dd.distill(
        digits, "dm", 1, {**settings, "keep": "best"}, seed=0, progress=False, checkpoint=ckpt
    )
    assert torch.equal(first.images, resumed.images) and resumed.meta["val_history"] == history


def test_chunked_real_gradients_equal_one_pass() -> None:
    info = dd.DatasetInfo("t", 1, (8, 8), 2, ("a", "b"), (0.0,), (1.0,))
    torch.manual_seed(0)
    net = dd.create_model("convnet-w32", info)
    x = torch.randn(2, 10, 1, 8, 8)
    y = torch.arange(2).view(2, 1).expand(2, 10)
    whole = class_gradients(net, x, y, batched=False, keep_graph=False, chunk=0)
    chunked = class_gradients(net, x, y, batched=False, keep_graph=False, chunk=3)
    for name, g in whole.items():
        assert torch.allclose(g, chunked[name], atol=1e-6), name


@pytest.mark.parametrize("speedup", [{"channels_last": True}, {"compile": True}])
@pytest.mark.parametrize("method", ["dm", "dc"])
def test_speedups_learn_the_same(
    digits: dd.DataSplits, fast_settings: dict, method: str, speedup: dict
) -> None:
    settings = {**fast_settings[method], "iterations": 2}
    plain = dd.distill(digits, method, 1, settings, seed=0, progress=False)
    fast = dd.distill(digits, method, 1, {**settings, **speedup}, seed=0, progress=False)
    torch.testing.assert_close(fast.images, plain.images, rtol=1e-4, atol=1e-4)
    assert fast.images.is_contiguous()  # saved sets are plain NCHW whatever the run's layout


@pytest.mark.parametrize("method", ["dm", "dc"])
def test_bf16_stays_close(digits: dd.DataSplits, fast_settings: dict, method: str) -> None:
    settings = {**fast_settings[method], "iterations": 1}
    plain = dd.distill(digits, method, 1, settings, seed=0, progress=False)
    bf16 = dd.distill(digits, method, 1, {**settings, "amp": "bf16"}, progress=False)
    assert bf16.images.dtype == torch.float32 and torch.isfinite(bf16.images).all()
    assert 0 < (bf16.images - plain.images).abs().max() < 0.5 * plain.images.abs().max()
    with pytest.raises(ValueError, match="amp"):
        dd.distill(digits, method, 1, {**settings, "amp": "fp8"}, progress=False)


@pytest.mark.parametrize("method", ["dm", "dsa"])
def test_more_images_per_class_than_real_ones_per_batch(digits: dd.DataSplits, method: str) -> None:
    """ipc > batch_real: the siamese augmentation draws one parameter set per image of the larger
    side (it used to fail with a shape error)."""
    settings = {**FAST, "iterations": 1, "batch_real": 2}
    synset = dd.distill(digits, method, 3, settings, progress=False)
    assert synset.images.shape[0] == 30 and torch.isfinite(synset.images).all()
