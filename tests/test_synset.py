"""The set file: round trip, atomic writes, and clear errors on damaged or foreign files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import datadistill as dd
from datadistill.datasets import ZCA
from datadistill.synset import SetFileError, SyntheticSet


def _set(info: dd.DatasetInfo, soft: bool = False) -> SyntheticSet:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, *info.shape, generator=g)
    y = torch.softmax(torch.randn(20, 10, generator=g), 1) if soft else torch.arange(20) % 10
    return SyntheticSet(
        x,
        y,
        info,
        "test",
        config={"lr": 0.1, "steps": 2},
        seed=3,
        ipc=2,
        lrs=torch.tensor([0.02, 0.01]),
        extras={"indices": torch.arange(20)},
        meta={"seconds": 1.5},
    )


@pytest.mark.parametrize("soft", [False, True])
def test_round_trip_is_equal(tmp_path: Path, digits: dd.DataSplits, soft: bool) -> None:
    s = _set(digits.info, soft)
    s.zca = ZCA.fit(digits.train.images[:200], 0.1)
    back = SyntheticSet.load(s.save(tmp_path / "a" / "set.safetensors"))
    assert torch.equal(back.images, s.images) and torch.equal(back.labels, s.labels)
    assert torch.equal(back.lrs, s.lrs) and torch.equal(back.extras["indices"], s.extras["indices"])
    assert torch.equal(back.zca.matrix, s.zca.matrix) and back.zca.reg == 0.1
    assert back.info == s.info and back.config == s.config and back.seed == 3 and back.ipc == 2
    assert back.meta == s.meta and back.soft == soft


def test_damaged_files_give_set_file_error(tmp_path: Path, digits: dd.DataSplits) -> None:
    path = _set(digits.info).save(tmp_path / "set.safetensors")
    data = path.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(data[: len(data) // 2])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00\x01not a set file at all" * 10)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(foreign))
    for bad in (truncated, garbage, foreign, tmp_path / "absent.safetensors"):
        with pytest.raises(SetFileError, match=bad.name):
            SyntheticSet.load(bad)


def test_inconsistent_contents_are_rejected(digits: dd.DataSplits) -> None:
    info = digits.info
    with pytest.raises(SetFileError, match="shape"):
        SyntheticSet(torch.zeros(2, 3, 8, 8), torch.zeros(2, dtype=torch.long), info, "x")
    with pytest.raises(SetFileError, match="outside"):
        SyntheticSet(torch.zeros(2, 1, 8, 8), torch.tensor([0, 10]), info, "x")
    with pytest.raises(SetFileError, match="NaN"):
        SyntheticSet(torch.full((1, 1, 8, 8), float("nan")), torch.tensor([0]), info, "x")


def test_failed_save_keeps_the_existing_file(
    tmp_path: Path, digits: dd.DataSplits, monkeypatch
) -> None:
    good = _set(digits.info)
    path = good.save(tmp_path / "set.safetensors")
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("safetensors.torch.save_file", boom)
    with pytest.raises(OSError):
        _set(digits.info, soft=True).save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["set.safetensors"]


def test_grid_png_has_one_row_per_class(tmp_path: Path, digits: dd.DataSplits) -> None:
    from PIL import Image

    wide = dd.save_grid(dd.distill(digits, "random", 12, progress=False), tmp_path / "g12.png")
    narrow = dd.save_grid(dd.distill(digits, "random", 2, progress=False), tmp_path / "g2.png")
    (w12, h12), (w2, h2) = Image.open(wide).size, Image.open(narrow).size
    assert w12 > w2 and abs(h12 - h2) <= 2  # more images per class: wider rows, same number of rows
    strip = dd.save_grid(dd.distill(digits, "random", 1, progress=False), tmp_path / "g1.png")
    w1, h1 = Image.open(strip).size
    assert w1 > 3 * h1  # one image per class: a single row, each class named under its image
    s = dd.distill(digits, "random", 3, progress=False)
    assert dd.report.to_pixels(s).min() >= 0 and dd.report.to_pixels(s).max() <= 1
    assert torch.equal(dd.report.to_pixels(s), dd.report.to_pixels(s, "clip"))


def test_grid_scales_unconstrained_images_and_writes_soft_labels(
    tmp_path: Path, digits: dd.DataSplits
) -> None:
    s = _set(digits.info, soft=True)
    s.images = s.images * 50  # far outside the data range, as DD's learned images are
    pixels = dd.report.to_pixels(s)
    flat = pixels.flatten(1)
    assert torch.allclose(flat.amin(1), torch.zeros(len(s.images)))
    assert torch.allclose(flat.amax(1), torch.ones(len(s.images)))
    assert dd.report.to_pixels(s, "clip").eq(0).float().mean() > 0.3
    assert dd.save_grid(s, tmp_path / "soft.png").stat().st_size > 0
    with pytest.raises(ValueError, match="scale"):
        dd.report.to_pixels(s, "log")
