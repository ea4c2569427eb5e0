"""Trajectory matching (``mtt``): TESLA's gradient against plain unrolling, the loss, the expert
cache, resume, the learned rate in evaluation, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from datadistill.datasets.augmentation import create_augmentation
from datadistill.distillation import experts as experts_module
from datadistill.distillation.experts import ExpertConfig, expert_folder, expert_trajectories
from datadistill.distillation.mtt import MTT, MTTConfig, trajectory_loss_and_grads
from datadistill.methods import METHODS
from datadistill.models import create_model, create_seeded_model
from datadistill.synset import SetFileError
from tests.conftest import FAST_SETTINGS, distill_argv

FAST = FAST_SETTINGS["mtt"]


@pytest.mark.parametrize("soft", [False, True])
def test_tesla_gradient_equals_unrolling(digits: dd.DataSplits, soft: bool) -> None:
    """Images, learned rate and soft labels: the same gradient in float64, over steps on
    different DSA-augmented mini-batches."""
    info = digits.info
    model = create_model("convnet-w32", info).double()
    nets = [create_seeded_model("convnet-w32", info, s, "cpu").double() for s in (0, 1)]
    start = {k: v.detach() for k, v in nets[0].named_parameters()}
    far = dict(nets[1].named_parameters())
    target = {k: 0.9 * v + 0.1 * far[k].detach() for k, v in start.items()}
    g = torch.Generator().manual_seed(0)
    images = torch.randn(20, *info.shape, generator=g, dtype=torch.float64).requires_grad_()
    labels = torch.arange(10).repeat_interleave(2)
    logits = torch.randn(20, 10, generator=g, dtype=torch.float64).requires_grad_()
    lr = torch.tensor(0.05, dtype=torch.float64, requires_grad=True)
    aug = create_augmentation("dsa", flip=False)
    steps = MTT(MTTConfig(syn_steps=5, batch_syn=8)).plan(20, g, aug)
    label_leaf = logits if soft else None

    def targets():
        return logits.softmax(1) if soft else labels

    a, b = (
        trajectory_loss_and_grads(
            model, start, target, images, targets, lr, steps, aug, gradient, label_leaf
        )
        for gradient in ("unroll", "tesla")
    )
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    assert len(a[1]) == len(b[1]) == (3 if soft else 2)
    for ga, gb in zip(a[1], b[1], strict=True):
        assert ga.abs().max() > 0
        torch.testing.assert_close(ga, gb, rtol=1e-9, atol=1e-12)


def _losses(digits: dd.DataSplits, settings: dict, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    seen: list[float] = []
    original = MTT.step

    def recording(self, *args):
        seen.append(original(self, *args))
        return seen[-1]

    monkeypatch.setattr(MTT, "step", recording)
    dd.distill(digits, "mtt", 1, settings, progress=False)
    return seen


@pytest.mark.parametrize("gradient", ["unroll", "tesla"])
def test_loss_falls_on_digits(
    digits: dd.DataSplits, monkeypatch: pytest.MonkeyPatch, gradient: str
) -> None:
    """One expert, start epoch 0, no augmentation, whole-set steps: the objective is the same
    function every iteration, and it falls."""
    settings = {
        **FAST,
        "experts": 1,
        "max_start_epoch": 0,
        "augment": "none",
        "iterations": 8,
        "lr_img": 10.0,
        "gradient": gradient,
    }
    losses = _losses(digits, settings, monkeypatch)
    assert len(losses) == 8
    assert losses[-1] < 0.9 * losses[0]


def test_experts_come_from_the_cache_and_extend_exactly(
    digits: dd.DataSplits, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cfg = ExpertConfig(model="convnet-w32", batch_size=128)
    short = expert_trajectories(digits, cfg, 2, 1, progress=False)
    assert [t["classifier.weight"].shape[0] for t in short] == [2, 2]
    longer = expert_trajectories(digits, cfg, 2, 2, progress=False)  # extended on disk
    at_once = expert_trajectories(digits, cfg, 2, 2, cache=False, progress=False)
    for a, b in zip(longer, at_once, strict=True):
        assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(longer[0]["classifier.weight"], longer[1]["classifier.weight"])

    def no_training(*args, **kwargs):
        raise AssertionError("trained again")

    monkeypatch.setattr(experts_module, "_train_expert", no_training)
    again = expert_trajectories(digits, cfg, 2, 1, progress=False)  # cut from the cache
    assert all(torch.equal(again[0][k], longer[0][k][:2]) for k in again[0])
    path = expert_folder(digits, cfg) / "expert-1.safetensors"
    path.write_bytes(b"not a safetensors file")
    with pytest.raises(SetFileError, match="expert-1.safetensors: not a readable expert"):
        expert_trajectories(digits, cfg, 2, 1, progress=False)


@pytest.mark.parametrize("gradient", ["unroll", "tesla"])
def test_resume_is_bit_for_bit(
    digits: dd.DataSplits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gradient: str
) -> None:
    """Given the cached experts (a run that trains its experts in the same call may differ from
    one that reads them in the last bit: see the README)."""
    settings = {**FAST, "iterations": 4, "checkpoint_every": 1, "gradient": gradient}
    settings["soft_labels"] = True
    cfg = MTTConfig(**settings)
    expert_trajectories(digits, cfg.experts_config(), cfg.experts, cfg.needed_epochs)
    plain = dd.distill(digits, "mtt", 1, settings, seed=3, progress=False)
    ckpt = tmp_path / "mtt.ckpt"
    original = METHODS.get("mtt").step
    calls = {"n": 0}

    def dies_after_two(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(MTT, "step", dies_after_two)
    with pytest.raises(KeyboardInterrupt):
        dd.distill(digits, "mtt", 1, settings, seed=3, progress=False, checkpoint=ckpt)
    monkeypatch.setattr(MTT, "step", original)
    resumed = dd.distill(digits, "mtt", 1, settings, seed=3, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, plain.images)
    assert torch.equal(resumed.labels, plain.labels) and plain.soft
    assert resumed.meta["learned_lr"] == plain.meta["learned_lr"] != 0.01


def test_the_learned_rate_trains_the_set(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "mtt", 1, FAST, progress=False)
    rate = s.meta["learned_lr"]
    assert dd.EvalConfig().resolved_lr(s) == rate != 0.01
    assert dd.EvalConfig(learned_lr=False).resolved_lr(s) == 0.01
    other = dd.distill(digits, "random", 1, progress=False)
    assert dd.EvalConfig(lr=0.02).resolved_lr(other) == 0.02


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (["syn_steps=0"], "syn_steps"),
        (["max_start_epoch=5", "trajectory_epochs=4"], "beyond the experts' trajectory_epochs=4"),
        (["gradient=checkpoint"], "gradient"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, setting: list[str], message: str
) -> None:
    sets = [a for s in setting for a in ("--set", s)]
    argv = [*distill_argv("mtt", 1), *sets]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("datadistill: error:")


def test_experts_command(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    argv = ["experts", "--dataset", "digits", "--experts", "1", "--epochs", "1"]
    assert main([*argv, "--model", "convnet-w32"]) == 0
    out = capsys.readouterr().out
    assert "1 experts of 1 epochs in" in out and str(tmp_path) in out
    assert main([*argv[:-1], "0"]) == 2
    assert "--epochs" in capsys.readouterr().err
