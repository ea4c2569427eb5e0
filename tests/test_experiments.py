"""Grid files, cell keys, the results store and `datadistill run/results`: skipping done cells,
resuming a killed cell, surviving a killed writer, refusing bad input with one line."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from datadistill.cli.main import main
from datadistill.experiments import (
    EXECUTORS,
    GridError,
    LocalExecutor,
    Store,
    StoreError,
    files_folder,
    parse_grid,
)

ROOT = Path(__file__).resolve().parents[1]
FAST_EVAL = {"models": ["mlp"], "runs": 1, "epochs": 2, "augment": "none"}


def _grid(tmp_path: Path, name: str = "grid.yaml", **doc: object) -> Path:
    base = {"grid": {"dataset": "digits", "method": ["random"], "ipc": [1, 2]}, "eval": FAST_EVAL}
    path = tmp_path / name
    path.write_text(yaml.safe_dump({**base, **doc}))
    return path


def _rows(store: Path) -> list[tuple]:
    with sqlite3.connect(store) as c:
        return c.execute("SELECT key, status FROM runs ORDER BY key").fetchall()


def test_grid_expands_and_keys_follow_settings() -> None:
    doc = {
        "grid": {"dataset": ["digits"], "method": ["random", "dm"], "ipc": [1, 2], "seed": [0, 1]},
        "config": {"dm": {"iterations": 3}},
        "eval": FAST_EVAL,
    }
    cells = parse_grid(doc).cells()
    assert len(cells) == 8 and len({c["key"] for c in cells}) == 8
    assert {c["config"]["iterations"] for c in cells if c["method"] == "dm"} == {3}
    # a default written out is the same cell; a changed setting is a new one
    spelled = {**doc, "config": {"dm": {"iterations": 3, "lr_img": 1.0}}}
    assert [c["key"] for c in parse_grid(spelled).cells()] == [c["key"] for c in cells]
    changed = {**doc, "config": {"dm": {"iterations": 4}}}
    same = {c["key"] for c in parse_grid(changed).cells()} & {c["key"] for c in cells}
    assert same == {c["key"] for c in cells if c["method"] == "random"}
    # a cell's seed seeds its evaluation networks too, unless the eval block gives a seed
    assert all(c["eval"]["seed"] == c["seed"] for c in cells)
    fixed = parse_grid({**doc, "eval": {**FAST_EVAL, "seed": 7}}).cells()
    assert {c["eval"]["seed"] for c in fixed} == {7}
    other_eval = {**doc, "eval": {**FAST_EVAL, "epochs": 3}}
    assert not {c["key"] for c in parse_grid(other_eval).cells()} & {c["key"] for c in cells}
    new_version = {c["key"] for c in parse_grid(doc).cells(version="9.9")}
    assert not new_version & {c["key"] for c in cells}
    compared = parse_grid(
        {**doc, "grid": {**doc["grid"], "method": "dm"}, "compare": ["random", "full"]}
    )
    extra = [c for c in compared.cells() if c["key"] not in {c["key"] for c in cells}]
    assert [(c["method"], c["ipc"]) for c in extra] == [("full", 0)]  # random cells: the same keys


def test_run_records_cells_and_skips_done_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    grid, store = _grid(tmp_path), tmp_path / "results.sqlite"
    assert main(["run", str(grid), "--store", str(store), "--quiet"]) == 0
    first = _rows(store)
    assert len(first) == 2 and {s for _, s in first} == {"done"}
    assert "2 cells, 0 already done, 2 run now" in capsys.readouterr().out
    assert main(["run", str(grid), "--store", str(store), "--quiet"]) == 0
    assert "2 already done, 0 run now" in capsys.readouterr().out
    assert _rows(store) == first
    with Store(store) as s:
        row = s.rows({"ipc": "2"})[0]
        assert row["version"] and row["git_commit"] is not None and row["device"].startswith("cpu")
        assert Path(s.files()[row["key"]]["set"]).is_file()
    assert main(["results", str(store), "--where", "ipc=1"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["dataset", "method", "ipc"] and len(table) == 2
    report = tmp_path / "report"
    assert main(["report", str(store), "--out", str(report), "--format", "markdown"]) == 0
    text = (report / "report.md").read_text()
    assert "| digits | random | 1 | mlp |" in text and "| digits | random | 2 | mlp |" in text


def _wait_for(predicate, timeout: float, proc: subprocess.Popen) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"subprocess ended early: {proc.stderr.read()}")
        if time.monotonic() > end:
            proc.kill()
            raise AssertionError("timed out waiting for the subprocess")
        time.sleep(0.02)


def test_killed_cell_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    dm = {"iterations": 30, "checkpoint_every": 3, "batch_real": 8, "model": "convnet-w32"}
    grid = _grid(tmp_path, grid={"dataset": "digits", "method": "dm", "ipc": 1}, config={"dm": dm})
    store = tmp_path / "results.sqlite"
    cmd = [sys.executable, "-m", "datadistill", "run", str(grid), "--store", str(store), "--quiet"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    folder = files_folder(store)
    _wait_for(lambda: any(folder.glob("*/checkpoint.pt")), 60, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not store.exists() or _rows(store) == []
    assert main(["run", str(grid), "--store", str(store), "--quiet"]) == 0
    with Store(store) as s:
        rows = s.rows()
    assert len({r["key"] for r in rows}) == 1 and rows[0]["status"] == "done"
    assert rows[0]["resumed"] == 1
    assert not any(folder.glob("*/checkpoint.pt"))


WRITER = """
import sys
from datadistill.experiments.store import Store
store = Store(sys.argv[1])
i = 0
while True:
    spec = {"key": f"k{i}", "dataset": "digits", "method": "random", "ipc": 1, "seed": i}
    results = [{"model": f"m{j}", "accs": [50.0, 51.0], "mean": 50.5, "std": 0.5}
               for j in range(200)]
    store.record(spec, {"results": results, "files": {"set": "s", "grid": "g"}})
    print(i, flush=True)
    i += 1
"""


def test_store_survives_a_writer_killed_mid_write(tmp_path: Path) -> None:
    store = tmp_path / "results.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    for _ in range(5):  # a few cells recorded, then killed while writing more
        assert proc.stdout.readline(), proc.stderr.read()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(store) as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = c.execute(
            "SELECT runs.key, COUNT(results.model) FROM runs LEFT JOIN results "
            "ON results.run_id = runs.id GROUP BY runs.id"
        ).fetchall()
        assert c.execute("SELECT COUNT(*) FROM files").fetchone()[0] == 2 * len(counts)
    assert len(counts) >= 5 and {n for _, n in counts} == {200}  # whole cells only
    with Store(store) as s:
        assert len(s.done_keys()) == len(counts)


def _fails(argv: list[str], capsys: pytest.CaptureFixture, *words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("datadistill: error:"), err
    for word in words:
        assert word in err, err


def test_bad_input_is_one_line_and_the_store_keeps_its_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    store = tmp_path / "results.sqlite"
    grid = _grid(tmp_path, grid={"dataset": "digits", "method": "random", "ipc": 1})
    assert main(["run", str(grid), "--store", str(store), "--quiet"]) == 0
    capsys.readouterr()
    before = _rows(store)
    assert len(before) == 1
    run = ["--store", str(store), "--quiet"]
    _fails(["run", str(_grid(tmp_path, "a.yaml", sweep=[1])), *run], capsys, "sweep")
    empty = _grid(tmp_path, "b.yaml", grid={})
    _fails(["run", str(empty), *run], capsys, "grid:")
    empty_axis = _grid(tmp_path, "c.yaml", grid={"dataset": "digits", "method": [], "ipc": 1})
    _fails(["run", str(empty_axis), *run], capsys, "method", "empty")
    bad_axis = _grid(tmp_path, "d.yaml", grid={"dataset": "digits", "method": "x", "ipc": 1})
    _fails(["run", str(bad_axis), *run], capsys, "'x'")
    bad_setting = _grid(tmp_path, "e.yaml", config={"random": {"nope": 1}})
    _fails(["run", str(bad_setting), *run], capsys, "nope")
    _fails(["run", str(grid), *run, "--executor", "nope"], capsys, "executor", "local")
    assert _rows(store) == before

    text = tmp_path / "notes.sqlite"
    text.write_text("not a database\n")
    _fails(["run", str(grid), "--store", str(text), "--quiet"], capsys, "not an SQLite")
    _fails(["results", str(text)], capsys, "not an SQLite")
    assert text.read_text() == "not a database\n"

    with sqlite3.connect(store) as c:
        c.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    c.close()
    size = store.stat().st_size
    _fails(["run", str(grid), *run], capsys, "schema 99", "newer")
    _fails(["report", str(store), "--out", str(tmp_path / "r")], capsys, "newer")
    assert store.stat().st_size == size
    with sqlite3.connect(store) as c:
        assert c.execute("SELECT key, status FROM runs ORDER BY key").fetchall() == before
    c.close()
    _fails(["results", str(tmp_path / "missing.sqlite")], capsys, "not found")


def test_executor_registry_and_contract() -> None:
    assert "local" in EXECUTORS.names()
    outcomes = list(LocalExecutor().map(_square_or_fail, [{"x": 2}, {"x": -1}]))
    assert outcomes[0] == ({"x": 2}, {"y": 4})
    assert isinstance(outcomes[1][1], ValueError)
    with pytest.raises(ValueError, match="address"):
        LocalExecutor(address="host:1")
    with pytest.raises(GridError, match="not run"):
        parse_grid(
            {"grid": {"dataset": "digits", "method": "random", "ipc": 1}, "config": {"dm": {}}}
        )
    with pytest.raises(StoreError):
        Store(Path(__file__).parent)  # a folder


def _square_or_fail(spec: dict) -> dict:
    if spec["x"] < 0:
        raise ValueError("negative")
    return json.loads(json.dumps({"y": spec["x"] ** 2}))
