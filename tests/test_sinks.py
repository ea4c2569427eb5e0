"""Log sinks: ``--log jsonl:FILE`` / ``tensorboard:DIR`` get the loss every iteration and the
validation accuracy when it is measured; a missing package or unknown sink is one line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import datadistill as dd
from datadistill.cli.main import main
from datadistill.report.sinks import OptionalDependencyError, logging_to, open_sink

TINY = {
    "iterations": 4,
    "batch_real": 8,
    "model": "convnet-w32",
    "eval_every": 2,
    "eval_model": "mlp",
    "eval_epochs": 2,
}


def test_jsonl_sink_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    log = tmp_path / "logs" / "dm.jsonl"
    sets = [a for k, v in TINY.items() for a in ("--set", f"{k}={v}")]
    argv = ["distill", "--dataset=digits", "--method=dm", "--ipc=1", f"--out={tmp_path / 'run'}"]
    assert main([*argv, *sets, "--log", f"jsonl:{log}"]) == 0
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4]
    assert all(isinstance(r["loss"], float) for r in rows)
    assert [r["step"] for r in rows if "val_accuracy" in r] == [2, 4]
    history = dd.SyntheticSet.load(tmp_path / "run" / "set.safetensors").meta["val_history"]
    assert [r["val_accuracy"] for r in rows if "val_accuracy" in r] == [a for _, a in history]


def test_tensorboard_sink_writes_event_files(tmp_path: Path, digits: dd.DataSplits) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with logging_to(open_sink(f"tensorboard:{tmp_path}")):
        dd.distill(digits, "dm", 1, TINY, progress=False)
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.step for e in events.Scalars("loss")] == [1, 2, 3, 4]
    assert [e.step for e in events.Scalars("val_accuracy")] == [2, 4]


def test_missing_tensorboard_and_unknown_sink_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(OptionalDependencyError, match="pip install tensorboard"):
        open_sink(f"tensorboard:{tmp_path}")
    argv = ["distill", "--dataset=digits", "--method=dm", "--ipc=1", f"--out={tmp_path / 'o'}"]
    for spec, message in [
        (f"tensorboard:{tmp_path}", "needs the tensorboard package"),
        ("wandb:x", "unknown log sink 'wandb'"),
    ]:
        assert main([*argv, "--set=iterations=1", "--log", spec]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
