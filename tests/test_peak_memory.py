"""The benchmarks' peak-memory probe: it sees an allocation made inside its block and resets
between blocks (CPU: the process's peak resident set)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc/self/clear_refs"
)

# Measured in a fresh process: in the test runner's own process, memory freed by earlier tests
# can be reused by the block's allocation without raising the resident set (seen once in CI).
PROBE = """
import json, sys
import torch
sys.path.insert(0, sys.argv[1])
from peak_memory import PeakMemory
cpu = torch.device("cpu")
with PeakMemory(cpu) as big:
    x = torch.ones(64, 2**20)  # 256 MiB, touched
    del x
with PeakMemory(cpu) as small:
    torch.ones(4, 2**20)
print(json.dumps([big.mb, small.mb]))
"""


def test_cpu_peak_sees_the_block_and_resets() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(BENCHMARKS)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    big, small = json.loads(run.stdout.strip().splitlines()[-1])
    assert big is not None and small is not None
    assert big - small > 200
