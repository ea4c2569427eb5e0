"""Shared fixtures: the embedded digits set, loaded once, and a fast evaluation config."""

from __future__ import annotations

import os

import pytest
import torch

import datadistill as dd


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    """One thread: as fast as two for these tiny models on a 2-core machine, and no thread
    oversubscription when another torch job shares the cores (subprocesses inherit it too)."""
    torch.set_num_threads(int(os.environ.get("DATADISTILL_TEST_THREADS", "1")))


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Trained embedders are cached under the user cache; tests use a fresh one of their own."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("OMP_NUM_THREADS", os.environ.get("DATADISTILL_TEST_THREADS", "1"))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def digits() -> dd.DataSplits:
    return dd.load_dataset("digits")


# Settings that keep each method's test run short; every other setting keeps its default.
FAST_SETTINGS: dict[str, dict] = {
    "best-of-random": {"candidates": 3, "epochs": 10, "val_images": 100},
    "gtn": {
        "iterations": 2,
        "learner": "convnet-w32",
        "inner_steps": 2,
        "batch_size": 20,
        "batch_real": 32,
        "width": 8,
        "noise_dim": 8,
    },
    "dm": {"iterations": 3, "batch_real": 16, "model": "convnet-w32"},
    "dc": {
        "iterations": 2,
        "batch_real": 16,
        "model": "convnet-w32",
        "outer_loop": 2,
        "inner_loop": 1,
    },
    "dsa": {
        "iterations": 2,
        "batch_real": 16,
        "model": "convnet-w32",
        "outer_loop": 2,
        "inner_loop": 1,
    },
    "dd": {"iterations": 3, "batch_real": 64, "model": "mlp", "eval_model": "mlp"},
    "sldd": {"iterations": 3, "batch_real": 64, "model": "mlp", "eval_model": "mlp"},
    "mtt": {
        "iterations": 3,
        "model": "convnet-w32",
        "experts": 2,
        "expert_epochs": 1,
        "max_start_epoch": 1,
        "syn_steps": 3,
        "lr_img": 10.0,
    },
    "forgetting": {"epochs": 2},
    "kip": {"iterations": 3, "batch_real": 200},
    "herding": {"embed_model": "convnet-w32"},
    "kcenter": {"embed_model": "convnet-w32"},
    "kmeans": {"n_init": 1},
    "kmeans-centroid": {"n_init": 1},
}


def distill_argv(method: str, ipc: int, out: object = None, dataset: str = "digits") -> list[str]:
    """The ``datadistill distill`` command line the CLI tests start from (``--out`` if given)."""
    argv = ["distill", "--dataset", dataset, "--method", method, "--ipc", str(ipc)]
    return argv + (["--out", str(out)] if out is not None else [])


@pytest.fixture
def fast_settings() -> dict[str, dict]:
    return FAST_SETTINGS


@pytest.fixture
def fast_eval() -> dd.EvalConfig:
    """A short protocol: small enough for tests, long enough to tell sets apart."""
    return dd.EvalConfig(models=["convnet-w32"], runs=2, epochs=60, augment="none")
