"""``datadistill kd`` end to end on digits, and bad input as one line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import datadistill as dd
from datadistill.cli.main import main
from datadistill.inspect import save_model, train_model

QUICK = [
    "--target", "digits", "--student", "mlp", "--teacher-model", "mlp", "--small", "50",
    "--epochs", "3", "--teacher-epochs", "2", "--seeds", "2", "--set", "big=none",
]  # fmt: skip


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _npz(folder: Path, size: int, classes: int) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 60), ("test", 30)):
        np.savez(
            folder / f"{split}.npz",
            images=rng.integers(0, 255, (n, size, size), dtype=np.uint8),
            labels=np.arange(n) % classes,
        )
    return folder


def test_kd_writes_curves_pictures_and_record(tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    code, stdout, err = run(
        capsys, "kd", *QUICK, "--mapping", "dilated-conv", "--lambda", "0.3", "--out", str(out)
    )
    assert code == 0, err
    doc = json.loads((out / "kd.json").read_text())
    assert doc["config"]["lambda"] == 0.3 and doc["mapping"]["mapping"] == "dilated-conv"
    assert len(doc["with_teacher"]) == len(doc["without_teacher"]) == 2
    assert all(len(r["test_acc"]) == len(r["test_ce"]) == 3 for r in doc["with_teacher"])
    assert {"acc_diff_mean", "ce_diff_std"} <= set(doc["summary"])
    for name in ("curves.png", "mapping.png", "mapping/mapping.safetensors", "teacher/model.json"):
        assert (out / name).is_file(), name
    assert "with teacher" in stdout
    code, _, err = run(capsys, "kd", *QUICK, "--out", str(out))
    assert code == 2 and "--overwrite" in err


def test_kd_takes_a_teacher_file(tmp_path: Path, capsys, digits: dd.DataSplits) -> None:
    teacher = save_model(train_model(digits, "mlp", epochs=2, progress=False), tmp_path / "t")
    out = tmp_path / "run"
    code, _, err = run(capsys, "kd", *QUICK, "--teacher", str(teacher.parent), "--out", str(out))
    assert code == 0, err
    assert json.loads((out / "kd.json").read_text())["teacher"]["meta"]["file"]


@pytest.mark.parametrize(
    "case", ["unknown mapping", "different class counts", "teacher of another size", "lambda"]
)
def test_bad_input_is_one_line_and_exit_2(case: str, tmp_path: Path, capsys) -> None:
    argv = ["kd", *QUICK, "--out", str(tmp_path / "out")]
    if case == "unknown mapping":
        argv += ["--mapping", "warp"]
    elif case == "different class counts":
        argv += ["--source", "npz", "--data-root", str(_npz(tmp_path / "npz", 8, 3))]
    elif case == "teacher of another size":
        other = dd.load_dataset("npz", _npz(tmp_path / "npz", 12, 10), val_size=0)
        path = save_model(train_model(other, "mlp", epochs=1, progress=False), tmp_path / "m")
        argv += ["--teacher", str(path)]
    else:
        argv += ["--lambda", "1.5"]
    code, _, err = run(capsys, *argv)
    expected = {
        "unknown mapping": "unknown mapping 'warp'",
        "different class counts": "classes",
        "teacher of another size": "(1, 12, 12)",
        "lambda": "lambda must be in [0, 1]",
    }[case]
    assert code == 2
    assert err.count("\n") == 1 and expected in err, err
