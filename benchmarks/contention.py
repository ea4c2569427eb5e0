"""Thread oversubscription: a slice of the test suite timed with 1 and 2 torch threads, on an
idle machine and beside another torch job (a 2-thread matmul loop), as two jobs sharing a
2-core machine would run.

    python benchmarks/contention.py [--tests tests/test_matching.py]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from datadistill.report.records import append_record
from datadistill.synset import git_commit

BUSY = (
    "import torch, time\ntorch.set_num_threads(2)\na = torch.randn(1024, 1024)\n"
    "end = time.time() + 3600\nwhile time.time() < end:\n    a @ a\n"
)


def timed_pytest(tests: str, threads: int) -> float:
    env = {**os.environ, "DATADISTILL_TEST_THREADS": str(threads)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", tests], env=env, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parents[1]
    p.add_argument("--tests", default="tests/test_matching.py")
    p.add_argument("--out", default=str(here / "benchmarks/results/contention-cpu.json"))
    args = p.parse_args()
    for busy in (False, True):
        neighbour = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
        try:
            time.sleep(3 if busy else 0)
            for threads in (1, 2):
                seconds = timed_pytest(args.tests, threads)
                append_record(
                    args.out,
                    {
                        "benchmark": "contention",
                        "tests": args.tests,
                        "threads": threads,
                        "neighbour": "2-thread torch matmul loop" if busy else None,
                        "seconds": round(seconds, 2),
                        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                        "commit": git_commit(),
                        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    },
                )
                print(f"busy={busy} threads={threads}: {seconds:.1f} s")
        finally:
            if neighbour is not None:
                neighbour.kill()
                neighbour.wait()


if __name__ == "__main__":
    main()
