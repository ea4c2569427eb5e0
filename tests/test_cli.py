"""The command line: the main jobs end to end, and every kind of bad input as one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from datadistill.cli.main import main
from datadistill.synset import SyntheticSet
from tests.conftest import distill_argv

FAST = ["--runs", "1", "--epochs", "3", "--models", "convnet-w32"]


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    assert main(distill_argv("random", 2, out)) == 0
    return out


def test_list_shows_every_kind(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in ("digits", "cifar10", "convnet", "resnet18", "random", "herding"):
        assert name in out


def test_distill_writes_set_grid_and_resolved_config(made: Path) -> None:
    s = SyntheticSet.load(made / "set.safetensors")
    assert s.images.shape == (20, 1, 8, 8) and s.method == "random"
    assert (made / "grid.png").stat().st_size > 1000
    assert "method: random" in (made / "config.yaml").read_text()


def test_config_file_and_set_overrides(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = tmp_path / "exp.yaml"
    cfg.write_text("dataset: digits\nmethod: kmeans\nipc: 1\nseed: 4\nconfig:\n  n_init: 1\n")
    code, _, err = run(
        capsys, "distill", "--config", str(cfg), "--set", "max_iter=5", "--out", str(tmp_path / "o")
    )
    assert code == 0, err
    s = SyntheticSet.load(tmp_path / "o" / "set.safetensors")
    assert (
        s.method == "kmeans"
        and s.seed == 4
        and s.config["n_init"] == 1
        and s.config["max_iter"] == 5
    )


def test_evaluate_show_knn_and_compare(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    results = tmp_path / "r.json"
    code, out, err = run(
        capsys,
        "evaluate",
        str(made / "set.safetensors"),
        *FAST,
        "--knn",
        "--compare",
        "random",
        "--out",
        str(results),
    )
    assert code == 0, err
    doc = json.loads(results.read_text())
    assert len(doc["results"]["convnet-w32"]["accs"]) == 1
    assert "k=1 l2" in doc["knn"] and "random" in doc["relative"]
    assert "convnet-w32" in out
    code, _, _ = run(
        capsys, "show", str(made / "set.safetensors"), "--out", str(tmp_path / "g.png")
    )
    assert code == 0 and (tmp_path / "g.png").exists()


def _tiny_npz_dataset(root: Path, size: int = 12) -> Path:
    g = np.random.default_rng(0)
    for split in ("train", "test"):
        np.savez(
            root / f"{split}.npz",
            images=g.integers(0, 255, (40, size, size), dtype=np.uint8),
            labels=np.arange(40) % 4,
        )
    return root


def bad_inputs(made: Path, tmp: Path) -> dict[str, tuple[list[str], str]]:
    good = str(made / "set.safetensors")
    truncated = tmp / "truncated.safetensors"
    truncated.write_bytes((made / "set.safetensors").read_bytes()[:100])
    foreign = tmp / "foreign.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(foreign))
    other = _tiny_npz_dataset(tmp)
    d = ["distill", "--out", str(made), "--overwrite"]  # past the guard of the saved set
    return {
        "unknown dataset": (
            [*d, "--dataset", "nope", "--method", "random", "--ipc", "1"],
            "unknown dataset",
        ),
        "unknown method": (
            [*d, "--dataset", "digits", "--method", "nope", "--ipc", "1"],
            "unknown method",
        ),
        "unknown model": (["evaluate", good, "--models", "nope"], "unknown model"),
        "ipc zero": ([*d, "--dataset", "digits", "--method", "random", "--ipc", "0"], "ipc"),
        "ipc too large": (
            [*d, "--dataset", "digits", "--method", "random", "--ipc", "500"],
            "larger than",
        ),
        "data missing": (
            [
                *d,
                "--dataset",
                "mnist",
                "--method",
                "random",
                "--ipc",
                "1",
                "--data-root",
                str(tmp / "empty"),
            ],
            "train-images-idx3-ubyte",
        ),
        "missing set": (["evaluate", str(tmp / "absent.safetensors")], "no such set file"),
        "truncated set": (["evaluate", str(truncated)], "truncated.safetensors"),
        "foreign set": (
            ["show", str(foreign), "--out", str(tmp / "x.png")],
            "not a datadistill set",
        ),
        "wrong dataset": (
            ["evaluate", good, "--dataset", "npz", "--data-root", str(other)],
            "set was made from digits",
        ),
        "bad --set": (
            [*d, "--dataset", "digits", "--method", "random", "--ipc", "1", "--set", "oops"],
            "key=value",
        ),
        "unknown setting": (
            [*d, "--dataset", "digits", "--method", "random", "--ipc", "1", "--set", "x=1"],
            "unknown setting",
        ),
        "missing config file": ([*d, "--config", str(tmp / "none.yaml")], "config file not found"),
    }


CASES = [
    "unknown dataset",
    "unknown method",
    "unknown model",
    "ipc zero",
    "ipc too large",
    "data missing",
    "missing set",
    "truncated set",
    "foreign set",
    "wrong dataset",
    "bad --set",
    "unknown setting",
    "missing config file",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_exit_2_and_saved_work_intact(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture, case: str
) -> None:
    before = {p.name: p.read_bytes() for p in made.iterdir()}
    argv, message = bad_inputs(made, tmp_path)[case]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in made.iterdir()} == before


def test_console_script_entry_point_runs() -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "datadistill", "list", "methods"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "random" in out.stdout


def test_iterative_method_checkpoints_and_resume_is_explicit(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [
        *distill_argv("dm", 1, tmp_path),
        "--set",
        "iterations=2",
        "--set",
        "checkpoint_every=1",
        "--set",
        "batch_real=8",
        "--set",
        "model=convnet-w32",
    ]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert (tmp_path / "checkpoint.pt").is_file()
    first = SyntheticSet.load(tmp_path / "set.safetensors")
    code, _, err = run(capsys, *argv)
    assert code == 2 and "--resume" in err
    code, _, err = run(capsys, *argv, "--resume")
    assert code == 0, err
    assert torch.equal(SyntheticSet.load(tmp_path / "set.safetensors").images, first.images)


def test_dd_set_evaluates_on_its_own_model_and_refuses_another(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "dd"
    settings = ["model=mlp", "eval_model=mlp", "iterations=3", "batch_real=64", "net_init=fixed"]
    code, _, _ = run(
        capsys,
        "distill",
        "--dataset",
        "digits",
        "--method",
        "dd",
        "--ipc",
        "1",
        *(x for kv in settings for x in ("--set", kv)),
        "--out",
        str(out),
    )
    assert code == 0
    code, stdout, _ = run(capsys, "evaluate", str(out / "set.safetensors"), "--runs", "1")
    assert code == 0 and "mlp" in stdout
    code, _, stderr = run(
        capsys, "evaluate", str(out / "set.safetensors"), "--models", "convnet", "--runs", "1"
    )
    assert code == 2 and "tied to one initialisation" in stderr and len(stderr.splitlines()) == 1


def test_list_a_method_shows_its_settings(capsys: pytest.CaptureFixture) -> None:
    code, out, _ = run(capsys, "list", "dm")
    assert code == 0
    assert "iterations = 20000" in out and "compile = false" in out and "init = random" in out
    code, _, err = run(capsys, "list", "nosuch")
    assert code == 2 and "unknown name 'nosuch'" in err


def test_eval_flags_name_the_config_fields() -> None:
    """``--amp`` and ``--compile`` reach ``EvalConfig`` under the same names; absent, neither is
    set (the YAML's or the default's value stands)."""
    from datadistill.cli.main import _eval_overrides, build_parser

    parser = build_parser()
    args = parser.parse_args(["evaluate", "set.safetensors", "--amp", "bf16", "--compile"])
    assert _eval_overrides(args) == {"amp": "bf16", "compile": True}
    assert _eval_overrides(parser.parse_args(["evaluate", "set.safetensors"])) == {}
