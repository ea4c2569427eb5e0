"""Start-up time of the command line: ``--help``, an argument error, ``list`` and ``list dm``,
each the median of several fresh processes, for a source tree (this one, or an older checkout).

    python benchmarks/startup.py [--src PATH --label before] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from datadistill.report.records import append_record
from datadistill.synset import git_commit

COMMANDS = [["--help"], ["distill", "--bogus"], ["list"], ["list", "dm"]]


def seconds(src: Path, argv: list[str], repeats: int) -> list[float]:
    """Wall time of ``python -m datadistill ARGV`` with ``src`` first on the path, per process."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "datadistill", *argv], env=env, capture_output=True, check=False
        )
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = Path(__file__).resolve().parents[1]
    p.add_argument("--src", type=Path, default=here / "src", help="the src/ folder to time")
    p.add_argument("--label", default="this commit")
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--out", default=str(here / "benchmarks/results/startup-cpu.json"))
    args = p.parse_args()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=args.src, capture_output=True, text=True
    ).stdout.strip()
    for argv in COMMANDS:
        times = seconds(args.src.resolve(), argv, args.repeats)
        row = {
            "benchmark": "startup",
            "command": f"datadistill {' '.join(argv)}",
            "label": args.label,
            "code_commit": commit,
            "median_s": round(statistics.median(times), 3),
            "runs_s": [round(t, 3) for t in times],
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "python": platform.python_version(),
            "commit": git_commit(),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        append_record(args.out, row)
        print(f"{args.label:<12} {row['command']:<28} {row['median_s']:.2f} s")


if __name__ == "__main__":
    main()
