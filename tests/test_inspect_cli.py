"""The inspection commands end to end on a small digits model: each writes its figure and a JSON
of what it did; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

import datadistill as dd
from datadistill.cli.main import main
from datadistill.inspect import save_model, train_model


@pytest.fixture(scope="module")
def models(digits: dd.DataSplits, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    root = tmp_path_factory.mktemp("models")
    full = train_model(digits, "convnet-w32", epochs=20, progress=False)
    few = dd.distill(digits, "random", 2, progress=False)
    small = train_model(digits, "convnet-w32", synset=few, epochs=50, progress=False)
    return str(save_model(full, root / "full").parent), str(save_model(small, root / "few").parent)


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_explain_writes_a_figure_and_its_record(
    models: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fig = tmp_path / "explain.png"
    argv = ["explain", models[0], "--method", "smoothgrad,gradcam", "--n", "3", "--out", str(fig)]
    code, _, err = run(capsys, *argv, "--set", "smoothgrad.samples=4")
    assert code == 0, err
    doc = json.loads(fig.with_suffix(".json").read_text())
    assert doc["methods"] == ["smoothgrad", "gradcam"] and len(doc["indices"]) == 3
    alone = Image.open(fig).size
    code, _, err = run(capsys, *argv, "--compare", models[1])
    assert code == 0, err
    doc = json.loads(fig.with_suffix(".json").read_text())
    assert set(doc["seconds_per_image"]) == {
        "smoothgrad (A)",
        "smoothgrad (B)",
        "gradcam (A)",
        "gradcam (B)",
    }
    assert Image.open(fig).size[0] > alone[0]  # two more columns


@pytest.mark.parametrize("kind", ["filters", "activations", "top", "tsne", "neighbours"])
def test_features_of_each_kind(
    models: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture, kind: str
) -> None:
    fig = tmp_path / f"{kind}.png"
    argv = ["features", models[0], "--kind", kind, "--layer", "features.4", "--channel", "2"]
    code, _, err = run(capsys, *argv, "--n", "60", "--k", "3", "--out", str(fig))
    assert code == 0, err
    assert Image.open(fig).size[0] > 100
    assert json.loads(fig.with_suffix(".json").read_text())["kind"] == kind


def test_maximize_writes_images_and_history(
    models: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fig = tmp_path / "max.png"
    argv = ["maximize", models[0], "--objective", "channel:features.8:1+0.5*logit:3"]
    code, _, err = run(capsys, *argv, "--steps", "8", "--batch", "2", "--out", str(fig))
    assert code == 0, err
    doc = json.loads(fig.with_suffix(".json").read_text())
    assert len(doc["history"]) == 8 and len(doc["final_values"]) == 2


def test_bad_input_is_one_line_and_exit_2(
    models: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = ["--out", str(tmp_path / "x.png")]
    cases = {
        "unknown explanation method": ["explain", models[0], "--method", "nope", *out],
        "trained on digits, not mnist": ["explain", models[0], "--dataset", "mnist", *out],
        "no such model file": ["explain", str(tmp_path / "none"), *out],
        "has no layer 'conv9'": ["features", models[0], "--kind", "top", "--layer", "conv9", *out],
        "needs --layer": ["features", models[0], "--kind", "activations", *out],
        "out of range": [
            "features",
            models[0],
            "--kind",
            "top",
            "--layer",
            "features.4",
            "--channel",
            "999",
            *out,
        ],
        "objective": ["maximize", models[0], "--objective", "channel:features.8", *out],
        "no setting(s) ['colour']": [
            "maximize",
            models[0],
            "--objective",
            "logit:1",
            "--set",
            "colour=1",
            *out,
        ],
        "no setting": ["explain", models[0], "--method", "saliency", "--set", "x=1", *out],
    }
    for message, argv in cases.items():
        code, _, err = run(capsys, *argv)
        lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n") if line.strip()]
        assert code == 2 and message in err and len(lines) == 1, (message, err)
    assert not (tmp_path / "x.png").exists()
