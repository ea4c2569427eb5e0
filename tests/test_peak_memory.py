"""The benchmarks' peak-memory probe: it sees an allocation made inside its block and resets
between blocks (CPU: the process's peak resident set)."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from peak_memory import PeakMemory  # noqa: E402

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs"
)


def test_cpu_peak_sees_the_block_and_resets() -> None:
    cpu = torch.device("cpu")
    with PeakMemory(cpu) as big:
        x = torch.ones(64, 2**20)  # 256 MiB, touched
        del x
    with PeakMemory(cpu) as small:
        torch.ones(4, 2**20)
    assert big.mb is not None and small.mb is not None
    assert big.mb - small.mb > 200
