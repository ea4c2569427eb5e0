"""Hardening of the command line: one writer per output folder, no silent replacement or
divergence, every bad input one line and exit 2, and a start-up that imports no more than needed."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from datadistill.cli.main import main
from datadistill.cli.outdir import claimed
from datadistill.distillation.iterative import IterativeConfig, IterativeDistillation
from datadistill.methods import METHODS
from datadistill.synset import SyntheticSet
from tests.conftest import distill_argv

DM_FAST = ["--set", "batch_real=8", "--set", "model=convnet-w32"]


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str) -> bool:
    lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]  # a cleared progress bar
    lines = [line for line in lines if line.strip()]
    return code == 2 and len(lines) == 1 and "Traceback" not in err


def distill_random(out: Path, *extra: str) -> list[str]:
    return [
        *distill_argv("random", 1, out),
        *extra,
    ]


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".lock"}


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    with claimed(out, resume=False, overwrite=False):
        code, _, err = run(capsys, *distill_random(out, "--seed", "2"))
        assert one_line_error(code, err) and "in use by another datadistill run" in err
        assert not (out / "set.safetensors").exists()
    code, _, err = run(capsys, *distill_random(out))
    assert code == 0, err  # the lock went with its holder


def test_a_lock_held_by_another_process_is_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "run"
    out.mkdir()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
            "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, str(os.getpid()).encode());"
            "print('locked', flush=True); time.sleep(60)",
            str(out / ".lock"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, _, err = run(capsys, *distill_random(out))
        assert one_line_error(code, err) and f"pid {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()


def test_an_existing_set_is_replaced_only_with_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert run(capsys, *distill_random(tmp_path, "--seed", "1"))[0] == 0
    before = files(tmp_path)
    code, _, err = run(capsys, *distill_random(tmp_path, "--seed", "2"))
    assert one_line_error(code, err) and "--overwrite" in err
    assert files(tmp_path) == before
    code, _, err = run(capsys, *distill_random(tmp_path, "--seed", "2", "--overwrite"))
    assert code == 0, err
    assert SyntheticSet.load(tmp_path / "set.safetensors").seed == 2


@dataclass
class _NanConfig(IterativeConfig):
    iterations: int = 6
    checkpoint_every: int = 1


class _NanAt3(IterativeDistillation):
    """A toy objective whose loss turns NaN at iteration 3 (0-based)."""

    Config = _NanConfig

    def loss(self, data, images, labels, ipc, generator):
        scale = float("nan") if self.iteration == 3 else 1.0
        return images.square().mean() * scale


@pytest.fixture
def nan_method():
    METHODS.register("nan-at-3")(_NanAt3)
    yield "nan-at-3"
    METHODS.remove("nan-at-3")


def test_a_diverging_run_stops_at_once_and_keeps_the_last_good_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture, nan_method: str
) -> None:
    argv = ["distill", "--dataset", "digits", "--method", nan_method, "--ipc", "1"]
    code, _, err = run(capsys, *argv, "--out", str(tmp_path))
    assert one_line_error(code, err)
    assert "diverged at iteration 4" in err and "lr_img" in err and "iteration 3" in err
    assert not (tmp_path / "set.safetensors").exists()
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert state["iteration"] == 3 and torch.isfinite(state["images"]).all()


def test_images_leaving_the_data_range_stop_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [
        *distill_argv("dm", 1, tmp_path),
    ]
    code, _, err = run(capsys, *argv, *DM_FAST, "--set", "iterations=5", "--set", "lr_img=1e12")
    assert one_line_error(code, err) and "diverged at iteration 1" in err
    assert "divergence_range" in err and not (tmp_path / "set.safetensors").exists()


def _metadata_list_set(made: Path, tmp: Path) -> Path:
    from safetensors.torch import load_file, save_file

    path = tmp / "list-meta.safetensors"
    save_file(load_file(str(made)), str(path), metadata={"datadistill": "[1, 2]"})
    return path


BAD_SETTINGS = {
    "iterations=1.5": "iterations: expected an integer",
    "iterations=[1,2]": "iterations: expected an integer",
    "iterations=abc": "iterations: expected an integer, got 'abc'",
    "iterations=0": "iterations must be >= 1",
    "iterations=-5": "iterations must be >= 1",
    "checkpoint_every=0": "checkpoint_every must be >= 1",
    "lr_img=nan": "lr_img: expected a finite number",
    "compile=maybe": "compile: expected true or false",
}


@pytest.mark.parametrize("setting", sorted(BAD_SETTINGS))
def test_bad_settings_are_refused_before_any_work_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture, setting: str
) -> None:
    argv = [
        *distill_argv("dm", 1, tmp_path / "o"),
    ]
    code, _, err = run(capsys, *argv, "--set", setting)
    assert one_line_error(code, err) and BAD_SETTINGS[setting] in err
    assert not (tmp_path / "o").exists()


def test_former_tracebacks_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    made = tmp_path / "made"
    assert run(capsys, *distill_random(made))[0] == 0
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    cases = {
        "is a file": distill_random(a_file),
        "metadata is not a JSON object": [
            "show",
            str(_metadata_list_set(made / "set.safetensors", tmp_path)),
            "--out",
            str(tmp_path / "g.png"),
        ],
        "nothing to continue": distill_random(tmp_path / "fresh", "--resume"),
        "ipc must be a positive": distill_random(tmp_path / "x", "--set", "ipc=0"),
    }
    for message, argv in cases.items():
        code, _, err = run(capsys, *argv)
        assert one_line_error(code, err) and message in err, (message, err)
    assert a_file.read_text() == "x"


def test_yaml_unknown_keys_and_syntax_errors_name_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = str(tmp_path / "o")
    cases = {
        "dataset: digits\nmethod: random\nipc: 1\nipcs: 2\n": "unknown key(s) ['ipcs']",
        "dataset: digits\nmethod: dm\nipc: 1\nconfig:\n  iteration: 3\n": (
            "(config:): unknown setting(s) ['iteration']"
        ),
        "dataset: digits\nmethod: random\nipc: 1\neval:\n  run: 3\n": "(eval:): unknown setting(s) ['run']",
        "dataset: digits\nmethod: random\n  ipc: 1\n": ":3:",
    }
    for i, (text, message) in enumerate(cases.items()):
        path = tmp_path / f"exp{i}.yaml"
        path.write_text(text)
        code, _, err = run(capsys, "distill", "--config", str(path), "--out", out)
        assert one_line_error(code, err) and str(path) in err and message in err, err


def test_broken_pipe_is_one_line_not_a_traceback() -> None:
    script = f"{sys.executable} -m datadistill list | head -1; echo rc=${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1] in ("rc=0", "rc=2")  # 0 when all fitted the pipe


def test_help_and_argument_errors_do_not_import_torch() -> None:
    probe = (
        "import sys\nfrom datadistill.cli.main import main\n"
        "for argv in (['--help'], ['distill', '--bogus']):\n"
        "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
        "print('torch' in sys.modules, 'torchvision' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False False"


def _image_folder(root: Path, classes: int = 2, per_class: int = 6) -> Path:
    g = np.random.default_rng(0)
    for split in ("train", "test"):
        for c in range(classes):
            folder = root / split / f"class{c}"
            folder.mkdir(parents=True)
            for i in range(per_class):
                pixels = g.integers(0, 255, (8, 8), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{i}.png")
    return root


def test_image_folder_flip_setting_and_evaluate_finds_the_recorded_root(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATADISTILL_DATA", raising=False)
    root = _image_folder(tmp_path / "chars")
    out = tmp_path / "o"
    code, _, err = run(
        capsys,
        *["distill", "--dataset", "imagefolder", "--method", "random", "--ipc", "2"],
        *["--data-root", str(root), "--set", "flip=false", "--out", str(out)],
    )
    assert code == 0, err
    synset = SyntheticSet.load(out / "set.safetensors")
    assert synset.info.flip is False and synset.meta["data_root"] == str(root.resolve())
    code, stdout, err = run(
        capsys,
        "evaluate",
        str(out / "set.safetensors"),
        "--runs",
        "1",
        "--epochs",
        "2",
        "--models",
        "convnet-w32",
    )
    assert code == 0, err
    assert "using the data root recorded with the set" in err and "convnet-w32" in stdout


def test_evaluate_refuses_another_dataset_before_loading_it(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    made = tmp_path / "made"
    assert run(capsys, *distill_random(made))[0] == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [
        "evaluate",
        str(made / "set.safetensors"),
        "--dataset",
        "mnist",
        "--data-root",
        str(empty),
    ]
    code, _, err = run(capsys, *argv)
    assert one_line_error(code, err) and "made from digits, not mnist" in err


def test_list_explains_datasets_and_models(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "list", "imagefolder")
    assert code == 0 and "imagefolder (dataset)" in out and "train" in out
    code, out, _ = run(capsys, "list", "resnet18")
    assert code == 0 and "resnet18 (model)" in out
    code, out, _ = run(capsys, "list", "datasets")
    assert "mnist  MNIST handwritten digits" in out


def test_distill_compare_random(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    argv = distill_random(tmp_path, "--evaluate", "--compare", "random")
    code, _, err = run(capsys, *argv, "--runs", "1", "--epochs", "2", "--models", "convnet-w32")
    assert code == 0, err
    doc = json.loads((tmp_path / "eval.json").read_text())
    assert "random" in doc["relative"]
