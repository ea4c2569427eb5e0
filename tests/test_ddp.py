"""One distillation across processes: ``torchrun -m datadistill distill`` with 2 CPU ranks (gloo)
makes the set one process makes, for DM and DC; only rank 0 writes files and logs.

Both methods are equal here: DM's loss is a sum of per-class terms under a per-sample network
(instance norm) and DC's per-class gradient matching uses batch-norm statistics and an inner
training that see every class on every rank (repeated, not split). DM with a batch-norm model is
not equal (its batch statistics would cover only a rank's classes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from tests.conftest import FAST_SETTINGS, distill_argv

TINY = {method: FAST_SETTINGS[method] for method in ("dm", "dc")}


def torchrun_distill(out: Path, method: str, *extra: str) -> subprocess.CompletedProcess:
    """``python -m torch.distributed.run --nproc_per_node 2 -m datadistill distill ...``."""
    sets = [f"--set={k}={v}" for k, v in TINY[method].items()]
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "datadistill",
        "distill",
        "--dataset=digits",
        f"--method={method}",
        "--ipc=2",
        f"--out={out}",
        *sets,
        *extra,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("method", ["dm", "dc"])
def test_two_ranks_make_the_single_process_set(
    tmp_path: Path, digits: dd.DataSplits, method: str
) -> None:
    out = tmp_path / "run"
    log = tmp_path / "log.jsonl"
    done = torchrun_distill(out, method, f"--sink=jsonl:{log}")
    assert done.returncode == 0, done.stderr[-6000:]
    assert done.stdout.count("saved ") == 1  # rank 0 alone reports and writes
    split = dd.SyntheticSet.load(out / "set.safetensors")
    single = dd.distill(digits, method, 2, TINY[method], progress=False)
    torch.testing.assert_close(split.images, single.images, rtol=0, atol=1e-5)
    assert split.meta["final_loss"] == pytest.approx(single.meta["final_loss"], rel=1e-5)
    steps = [json.loads(line)["step"] for line in log.read_text().splitlines()]
    assert steps == list(range(1, TINY[method]["iterations"] + 1))  # one writer: rank 0


def test_a_method_that_does_not_split_is_refused_under_torchrun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    code = main(distill_argv("random", 1, tmp_path))
    err = capsys.readouterr().err
    assert code == 2 and "does not split across processes" in err and err.count("\n") == 1
