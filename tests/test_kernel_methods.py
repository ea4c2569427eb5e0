"""KIP and label solving: they lower their loss and beat random images under kernel ridge
regression on digits; LS satisfies its normal equations; sets carry their kernel; bad input is
one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from datadistill.distillation.kip import KIPConfig, centred
from datadistill.distillation.ls import normal_equations
from datadistill.evaluation import krr_accuracy
from datadistill.kernels import krr_predict, make_kernel
from tests.conftest import distill_argv


def krr_loss(synset: dd.SyntheticSet, data: dd.DataSplits, kernel) -> float:
    y = synset.labels.double() - synset.meta["label_offset"]
    x_t, y_t = data.train.images[:400], centred(data.train.labels[:400], 10)
    pred = krr_predict(kernel, synset.images, y, x_t, reg=1e-6)
    return float(0.5 * (pred - y_t).square().sum(1).mean())


def with_kernel_of(synset: dd.SyntheticSet, other: dd.SyntheticSet) -> dd.SyntheticSet:
    """``synset`` scored with ``other``'s kernel (its hard labels as one-hot)."""
    synset.meta.update(kernel=other.meta["kernel"], label_offset=0.0)
    return synset


def test_kip_lowers_its_loss_and_beats_random_images(digits: dd.DataSplits) -> None:
    start = dd.distill(digits, "kip", 1, {"iterations": 0 + 1, "lr_img": 1e-9}, progress=False)
    kip = dd.distill(digits, "kip", 1, {"iterations": 40, "batch_real": 500}, progress=False)
    kernel = make_kernel("fc-ntk")
    assert krr_loss(kip, digits, kernel) < 0.8 * krr_loss(start, digits, kernel)
    random = with_kernel_of(dd.distill(digits, "random", 1, progress=False), kip)
    assert krr_accuracy(kip, digits) > krr_accuracy(random, digits) + 10
    assert kip.soft and (kip.labels.argmax(1) == torch.arange(10)).float().mean() >= 0.8


def test_kip_fixed_labels_stay_one_hot(digits: dd.DataSplits) -> None:
    kip = dd.distill(digits, "kip", 1, {"iterations": 3, "learn_labels": False}, progress=False)
    assert torch.equal(kip.labels, torch.eye(10)[kip.hard_labels])


def test_label_solving_satisfies_its_normal_equations(digits: dd.DataSplits) -> None:
    ls = dd.distill(digits, "ls", 2, progress=False)
    kernel = make_kernel("fc-ntk")
    ata, aty = normal_equations(kernel, ls.images, digits, 1e-6, 500)
    y = ls.labels.double() - 0.1
    mu = 1e-6 * torch.trace(ata) / len(y)
    residual = (ata + mu * torch.eye(len(y), dtype=ata.dtype)) @ y - aty
    assert residual.abs().max() < 1e-3 * aty.abs().max()
    random = with_kernel_of(dd.distill(digits, "random", 2, progress=False), ls)
    assert krr_accuracy(ls, digits) > krr_accuracy(random, digits)
    assert torch.equal(ls.extras["indices"], random.extras["indices"])  # the same real images


def test_sets_carry_their_kernel_and_evaluate_reports_krr_apart(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [
        *distill_argv("ls", 1, tmp_path),
    ]
    assert main([*argv, "--set", "kernel=conv-ntk", "--set", "depth=2"]) == 0
    synset = dd.SyntheticSet.load(tmp_path / "set.safetensors")
    assert synset.meta["kernel"]["name"] == "conv-ntk"
    assert synset.meta["kernel"]["settings"]["depth"] == 2
    capsys.readouterr()
    code = main(["evaluate", str(tmp_path / "set.safetensors"), "--runs", "1", "--epochs", "3"])
    out = capsys.readouterr().out
    assert code == 0 and "kernel ridge regression (conv-ntk), not a network" in out


@pytest.mark.parametrize(
    "setting,message",
    [
        ("kernel=nope", "unknown kernel 'nope'"),
        ("reg=-1", "reg must be >= 0"),
        ("depth=0", "depth"),
    ],
)
def test_bad_kernel_settings_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, setting: str, message: str
) -> None:
    argv = [
        *distill_argv("kip", 1, tmp_path),
    ]
    assert main([*argv, "--set", setting]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_kip_config_defaults_are_the_papers() -> None:
    cfg = KIPConfig()
    assert (cfg.kernel, cfg.reg, cfg.lr_img, cfg.learn_labels) == ("fc-ntk", 1e-6, 0.01, True)


def test_kernel_sets_train_networks_on_argmax_classes_by_default(digits: dd.DataSplits) -> None:
    from datadistill.evaluation.train import _loss

    ls = dd.distill(digits, "ls", 1, progress=False)
    cfg = dd.EvalConfig()
    assert cfg.resolved_loss(ls) == "ce-hard"
    assert cfg.resolved_loss(dd.distill(digits, "random", 1, progress=False)) == "ce"
    assert dd.EvalConfig(loss="ce").resolved_loss(ls) == "ce"
    logits, targets = torch.tensor([[1.0, 2.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    assert float(_loss(logits, targets, "mse")) == pytest.approx((0.5 * 5 + 0.5 * 2) / 2)
    for loss in ("auto", "ce", "mse"):
        cfg = dd.EvalConfig(models=["convnet-w32"], runs=1, epochs=30, loss=loss)
        assert 0 <= dd.evaluate(ls, digits, cfg).results["convnet-w32"].accs[0] <= 100
