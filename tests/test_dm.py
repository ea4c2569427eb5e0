"""Distribution matching: it learns, resumes bit-for-bit, bounds memory by class chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.distillation.dm import DM
from datadistill.synset import SetFileError

FAST = {"batch_real": 32, "model": "convnet-w32", "checkpoint_every": 2}


def test_dm_beats_random_at_ipc1(digits: dd.DataSplits) -> None:
    cfg = dd.EvalConfig(models=["convnet-w32"], runs=2, epochs=100, augment="none")
    dm = dd.distill(digits, "dm", 1, {**FAST, "iterations": 60}, seed=0, progress=False)
    rnd = dd.distill(digits, "random", 1, seed=0, progress=False)
    acc_dm = dd.evaluate(dm, digits, cfg, progress=False).results["convnet-w32"].mean
    acc_rnd = dd.evaluate(rnd, digits, cfg, progress=False).results["convnet-w32"].mean
    assert acc_dm > acc_rnd + 5, (acc_dm, acc_rnd)


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


def test_interrupted_run_resumes_identical(
    digits: dd.DataSplits, tmp_path: Path, monkeypatch
) -> None:
    settings = {**FAST, "iterations": 6}
    plain = dd.distill(digits, "dm", 1, settings, seed=4, progress=False)
    ckpt = tmp_path / "dm.ckpt"
    calls = {"n": 0}
    original = DM.loss

    def dies_after_three(self, *args):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(DM, "loss", dies_after_three)
    with pytest.raises(KeyboardInterrupt):
        dd.distill(digits, "dm", 1, settings, seed=4, progress=False, checkpoint=ckpt)
    monkeypatch.setattr(DM, "loss", original)
    assert ckpt.is_file()
    resumed = dd.distill(digits, "dm", 1, settings, seed=4, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, plain.images)


def test_checkpoint_of_another_run_or_damaged_is_refused(
    digits: dd.DataSplits, tmp_path: Path
) -> None:
    ckpt = tmp_path / "dm.ckpt"
    dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, progress=False, checkpoint=ckpt)
    with pytest.raises(SetFileError, match="different run"):
        dd.distill(
            digits,
            "dm",
            1,
            {**FAST, "iterations": 2, "lr_img": 0.5},
            progress=False,
            checkpoint=ckpt,
        )
    ckpt.write_bytes(b"garbage")
    with pytest.raises(SetFileError, match="not a readable checkpoint"):
        dd.distill(digits, "dm", 1, {**FAST, "iterations": 2}, progress=False, checkpoint=ckpt)
