"""The generate commands end to end at tiny sizes with random weights: each writes its PNG and a
JSON of what it did; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from datadistill.cli.main import main


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_texture_stylize_invert_write_png_and_json(tmp_path: Path, capsys) -> None:
    small = ["--size", "32", "--steps", "2"]
    commands = {
        "texture": ["texture", "sample:brick", "--up-to", "pool2", "--optimizer", "adam"],
        "stylize": ["stylize", "sample:chelsea", "sample:gravel", "--alpha-beta", "1e-3"],
        "invert": ["invert", "sample:coffee", "--layer", "conv2_1"],
    }
    for name, argv in commands.items():
        out = tmp_path / f"{name}.png"
        code, stdout, err = run(capsys, *argv, *small, "--out", str(out))
        assert code == 0, err
        assert Image.open(out).size == (32, 32) and "wrote" in stdout
        doc = json.loads(out.with_suffix(".json").read_text())
        assert doc["settings"]["command"] == name and doc["settings"]["steps"] == 2
        assert doc["losses"]["total"] >= 0 and doc["seconds"] > 0
    doc = json.loads((tmp_path / "texture.json").read_text())
    assert doc["settings"]["layers"][-1] == "pool2" and doc["settings"]["optimizer"] == "adam"


def test_fast_style_train_and_apply(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "content"
    folder.mkdir()
    for name in ("a", "b"):
        Image.new("RGB", (40, 36), (10, 200, 30)).save(folder / f"{name}.png")
    model = tmp_path / "model"
    train = ["fast-style", "train", "--style", "sample:gravel", "--content", str(folder)]
    small = ["--size", "32", "--steps", "2", "--batch", "1", "--width", "4", "--blocks", "1"]
    code, _, err = run(capsys, *train, *small, "--upsampler", "transpose", "--out", str(model))
    assert code == 0, err
    doc = json.loads((model / "fast_style.json").read_text())
    assert doc["config"]["upsampler"] == "transpose" and doc["meta"]["content_images"] == 2
    code, _, err = run(
        capsys, "fast-style", "apply", str(model), "sample:chelsea", str(folder / "a.png"),
        "--out", str(tmp_path / "styled"),
    )  # fmt: skip
    assert code == 0, err
    assert Image.open(tmp_path / "styled" / "chelsea.png").size == (448, 300)  # 451 cropped to ×4
    assert Image.open(tmp_path / "styled" / "a.png").size == (40, 36)
    assert json.loads((tmp_path / "styled" / "a.json").read_text())["milliseconds"] > 0
    one = tmp_path / "one.png"
    code, _, err = run(capsys, "fast-style", "apply", str(model), "sample:coffee", "--size", "32",
                       "--out", str(one))  # fmt: skip
    assert code == 0 and Image.open(one).size == (32, 32), err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["texture", "{tmp}/missing.png"], "not found"),
        (["texture", "{tmp}/notes.png"], "not an image"),
        (["texture", "sample:nothing"], "unknown sample"),
        (["texture", "sample:brick", "--layers", "conv1_1,conv9_9"], "no layer 'conv9_9'"),
        (["invert", "sample:brick", "--layer", "fc7"], "no layer 'fc7'"),
        (["stylize", "sample:chelsea", "sample:brick", "--size", "8", "--style-layers", "pool4"],
         "too small"),
        (["texture", "sample:brick", "--weights", "nope"], "unknown weights"),
        (["texture", "sample:brick", "--weights", "hed", "--arch", "vgg19"], "VGG-16"),
        (["texture", "sample:brick", "--size", "0"], "does not fit"),
        (["fast-style", "apply", "{tmp}/nomodel", "sample:brick"], "no fast-style model"),
        (["fast-style", "train", "--style", "sample:brick", "--size", "30"], "multiple of 4"),
        (["fast-style", "train", "--style", "sample:brick", "--content", "{tmp}/empty"], "no image files"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys, argv: list[str], says: str
) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    (tmp_path / "empty").mkdir()
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    out = str(tmp_path / ("out" if argv[0] == "fast-style" else "out.png"))
    code, _, err = run(capsys, *argv, "--steps" if argv[1] != "apply" else "--size", "4",
                       "--out", out)  # fmt: skip
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("datadistill: error:") and says in err, err
