"""Trained networks as files: train with the protocol's loop, save, load back equal; the
``train`` command; damaged or foreign files are one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from datadistill.inspect import ModelFileError, as_module, load_model, save_model, train_model
from tests.conftest import distill_argv


@pytest.fixture(scope="module")
def trained(digits: dd.DataSplits) -> dd.TrainedModel:
    return train_model(digits, "convnet-w32", epochs=20, progress=False)


def test_a_saved_model_loads_back_equal(
    trained: dd.TrainedModel, digits: dd.DataSplits, tmp_path: Path
) -> None:
    path = save_model(trained, tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.architecture == "convnet-w32" and loaded.info == digits.info
    for (k, a), (_, b) in zip(
        trained.model.state_dict().items(), loaded.model.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), k
    x = digits.test.images[:16]
    assert torch.equal(trained.model(x), loaded.model(x)) and not loaded.model.training
    doc = json.loads((tmp_path / "model.json").read_text())
    assert doc["meta"]["test_accuracy"] > 50 and doc["info"]["mean"] == list(digits.info.mean)
    assert as_module(path) is not None and as_module(trained) is trained.model


def test_training_is_deterministic_under_a_seed(
    trained: dd.TrainedModel, digits: dd.DataSplits
) -> None:
    again = train_model(digits, "convnet-w32", epochs=20, progress=False)
    assert again.meta["test_accuracy"] == trained.meta["test_accuracy"]


def test_damaged_and_foreign_files_are_refused(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    with pytest.raises(ModelFileError, match="no such model file"):
        load_model(tmp_path / "none")
    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a readable model file"):
        load_model(tmp_path)
    save_file({"w": torch.zeros(1)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ModelFileError, match="not a datadistill model file"):
        load_model(tmp_path)


def test_train_command_on_a_dataset_and_on_a_set(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "m"
    argv = ["train", "--dataset", "digits", "--model", "convnet-w32", "--epochs", "2"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    assert load_model(out).meta["trained_on"] == "full training split"
    assert main([*argv, "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    synset = tmp_path / "s"
    distill = distill_argv("random", 2)
    assert main([*distill, "--out", str(synset)]) == 0
    on_set = ["train", "--set-file", str(synset / "set.safetensors"), "--model", "convnet-w32"]
    assert main([*on_set, "--epochs", "5", "--out", str(tmp_path / "ms")]) == 0
    meta = load_model(tmp_path / "ms").meta
    assert meta["train_images"] == 20 and meta["trained_on"] == "random set"
    capsys.readouterr()
    assert main(["train", "--model", "nope", "--dataset", "digits", "--out", str(tmp_path)]) == 2
    assert "unknown model" in capsys.readouterr().err
