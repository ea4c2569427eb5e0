"""Contract tests every set-making method must pass; a new method is tested by its registration."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.registry import UnknownNameError
from datadistill.synset import SyntheticSet
from tests.conftest import FAST_SETTINGS

METHODS = dd.list_methods()


def make(data: dd.DataSplits, method: str, ipc: int, seed: int = 0) -> SyntheticSet:
    return dd.distill(data, method, ipc, FAST_SETTINGS.get(method), seed=seed, progress=False)


@pytest.mark.parametrize("method", METHODS)
def test_shapes_and_class_balance(digits: dd.DataSplits, method: str) -> None:
    s = make(digits, method, 2)
    assert s.images.shape == (20, *digits.info.shape)
    classes = s.extras.get("support_labels", s.hard_labels)  # label solving may relabel
    assert torch.bincount(classes, minlength=10).tolist() == [2] * 10
    assert s.method == method and s.ipc == 2 and s.info == digits.info


@pytest.mark.parametrize("method", METHODS)
def test_same_seed_same_set_other_seed_other_set(digits: dd.DataSplits, method: str) -> None:
    a, b, c = (
        make(digits, method, 2, seed=5),
        make(digits, method, 2, seed=5),
        make(digits, method, 2, seed=6),
    )
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    assert torch.equal(a.images, c.images) != dd.METHODS.get(method).stochastic


@pytest.mark.parametrize("method", METHODS)
def test_save_load_round_trip(tmp_path: Path, digits: dd.DataSplits, method: str) -> None:
    s = make(digits, method, 1)
    back = SyntheticSet.load(s.save(tmp_path / "set.safetensors"))
    assert torch.equal(back.images, s.images) and torch.equal(back.labels, s.labels)
    assert back.method == method and back.config == s.config
    assert back.meta["torch"] == torch.__version__
    assert (back.lrs is None) == (s.lrs is None)
    if s.lrs is not None:
        assert torch.equal(back.lrs, s.lrs)
    assert back.extras.keys() == s.extras.keys()
    assert all(torch.equal(back.extras[k], v) for k, v in s.extras.items())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ipc", [0, -1, 10_000])
def test_bad_ipc_is_a_clear_error(digits: dd.DataSplits, method: str, ipc: int) -> None:
    with pytest.raises(ValueError, match="ipc"):
        dd.distill(digits, method, ipc, progress=False)


def test_unknown_method_and_setting(digits: dd.DataSplits) -> None:
    with pytest.raises(UnknownNameError, match="random"):
        dd.distill(digits, "no-such-method", 1)
    with pytest.raises(ValueError, match="unknown setting"):
        dd.distill(digits, "random", 1, {"no_such_setting": 1})


def test_random_selection_records_real_training_images(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "random", 3, progress=False)
    ix = s.extras["indices"]
    assert torch.equal(s.images, digits.train.images[ix])
    assert torch.equal(s.labels, digits.train.labels[ix])
    assert len(set(ix.tolist())) == len(ix)
