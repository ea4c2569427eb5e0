"""The Ray executor: cells as tasks on a local cluster, results back to the driver, one-line errors.

One local cluster (2 CPUs) serves the module; the tests that need ray skip when it is not
installed.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from datadistill.cli.main import main
from datadistill.experiments import Store
from datadistill.experiments.ray_executor import RayExecutor


def square(spec: dict[str, Any]) -> dict[str, Any]:
    """A trivial cell."""
    if spec["x"] < 0:
        raise ValueError(f"negative x: {spec['x']}")
    return {"y": spec["x"] ** 2}


@pytest.fixture(scope="module")
def executor() -> Iterator[RayExecutor]:
    pytest.importorskip("ray")
    with RayExecutor(num_cpus=2) as ex:
        yield ex


def test_map_yields_each_result_and_each_exception(executor: RayExecutor) -> None:
    outcomes = {s["x"]: r for s, r in executor.map(square, [{"x": 3}, {"x": -1}])}
    assert outcomes[3] == {"y": 9}
    assert isinstance(outcomes[-1], ValueError) and "negative x: -1" in str(outcomes[-1])


def test_a_two_cell_grid_runs_as_ray_tasks(executor: RayExecutor, tmp_path: Path) -> None:
    """``datadistill run --executor ray``: two cells on ``digits`` run as tasks (on the
    module's local cluster), the driver alone writes the store, and a rerun skips both."""
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "grid": {"dataset": "digits", "method": ["random", "dm"], "ipc": 1},
                "config": {"dm": {"iterations": 2, "batch_real": 8, "model": "mlp"}},
                "eval": {"models": ["mlp"], "runs": 1, "epochs": 2, "augment": "none"},
            }
        )
    )
    store = tmp_path / "runs.sqlite"
    run = ["run", str(grid), "--store", str(store), "--executor", "ray", "--quiet"]
    assert main(run) == 0
    with sqlite3.connect(store) as c:
        rows = c.execute("SELECT status FROM runs").fetchall()
    assert rows == [("done",), ("done",)]
    assert Store(store).done_keys() and main(run) == 0
    with sqlite3.connect(store) as c:
        assert c.execute("SELECT count(*) FROM runs").fetchone() == (2,)


def test_cuda_cell_on_a_cluster_without_gpu_is_refused(executor: RayExecutor) -> None:
    import ray

    if ray.cluster_resources().get("GPU", 0):
        pytest.skip("this cluster has a GPU")
    with pytest.raises(ValueError, match="no GPU"):
        list(executor.map(square, [{"x": 1, "device": "cuda"}]))


def test_unreachable_address_is_one_quick_line() -> None:
    pytest.importorskip("ray")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="no Ray cluster reachable at 127.0.0.1:1") as err:
        RayExecutor(address="127.0.0.1:1", connect_timeout_s=2)
    assert "\n" not in str(err.value) and time.perf_counter() - start < 5


def test_missing_ray_is_one_line_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as if not installed
    with pytest.raises(ImportError, match=r"pip install 'datadistill\[ray\]'") as err:
        RayExecutor()
    assert isinstance(err.value, ValueError)  # the command line's one-line error
