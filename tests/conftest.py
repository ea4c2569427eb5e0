"""Shared fixtures: the embedded digits set, loaded once, and a fast evaluation config."""

from __future__ import annotations

import pytest
import torch

import datadistill as dd


@pytest.fixture(autouse=True)
def _two_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def digits() -> dd.DataSplits:
    return dd.load_dataset("digits")


@pytest.fixture
def fast_eval() -> dd.EvalConfig:
    """A short protocol: small enough for tests, long enough to tell sets apart."""
    return dd.EvalConfig(models=["convnet-w32"], runs=2, epochs=60, augment="none")
