"""Matching methods (DC, DSA, DM): seconds per iteration, peak memory, FLOPs and the floor.

    python benchmarks/dc_dsa_dm.py --data-root ../shared/data           # s/iteration and floor
    python benchmarks/dc_dsa_dm.py --device cuda --configs dc:1,dc:10,dm:10 \
        --set amp=bf16 channels_last=true                               # GPU speed-ups

For each ``--configs`` pair (default DC at IPC 1 and DM at IPC 10) on MNIST (256 real images per
class): seconds per outer iteration, peak memory (``peak_memory.py``), the FLOPs of one iteration
(torch's FlopCounterMode), the achieved FLOP/s and the floor (FLOPs ÷ the measured matmul rate).
Accuracy at a stated budget, which this script also ran before, is the grids
``benchmarks/grids/dc.yaml`` and ``dsa-dm.yaml`` (``datadistill run``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from peak_memory import PeakMemory

import datadistill as dd
from datadistill.report import append_record, make_record
from datadistill.report.published import DM_TABLE1
from datadistill.report.published import PUBLISHED as REGISTRY

# DM's published means by (dataset, "dm", ipc), from the library's registry (cifar10_queue.py).
SOURCE = DM_TABLE1
PUBLISHED = {(d, m, ipc): p.mean for (d, m, ipc, _), p in REGISTRY.items() if p.source == SOURCE}


TIMING_TARGETS = {("dc", 1): 6.0, ("dm", 10): 2.5}  # seconds per iteration, foundation of issue 5
REFERENCE_SECONDS = {("dc", 1): 10.0, ("dm", 10): 4.2}  # the reference code on this kind of machine


def timing(
    data: dd.DataSplits,
    device: torch.device,
    out: Path,
    iterations: int,
    configs: str,
    settings: dict[str, str],
) -> None:
    """Time each ``method:ipc`` pair of ``configs`` and append one record per pair to ``out``."""
    from cpu_floor import matmul_gflops
    from torch.utils.flop_counter import FlopCounterMode

    rate = matmul_gflops()
    eager = {k: v for k, v in settings.items() if k != "compile"}  # the same maths, countable
    for method, ipc in ((m, int(i)) for m, i in (c.split(":") for c in configs.split(","))):
        with FlopCounterMode(display=False) as counter:
            dd.distill(data, method, ipc, {**eager, "iterations": 1}, seed=0, progress=False)
        flops = counter.get_total_flops()
        # One untimed iteration first: it compiles (compile=true) and warms the caches.
        dd.distill(data, method, ipc, {**settings, "iterations": 1}, seed=0, progress=False)
        with PeakMemory(device) as peak:
            start = time.perf_counter()
            dd.distill(
                data, method, ipc, {**settings, "iterations": iterations}, seed=0, progress=False
            )
            per_it = (time.perf_counter() - start) / iterations
        row = make_record(
            "dc_dsa_dm-timing",
            data.info.name,
            method,
            ipc,
            None,
            device,
            iterations=iterations,
            seconds_per_iteration=round(per_it, 3),
            peak_mem_mb=peak.mb,
            tflop_per_iteration=round(flops / 1e12, 4),
            achieved_gflops=round(flops / per_it / 1e9, 1),
            matmul_gflops=round(rate, 1),
            floor_seconds=round(flops / rate / 1e9, 3),
            target_seconds=TIMING_TARGETS.get((method, ipc)),
            reference_seconds=REFERENCE_SECONDS.get((method, ipc)),
            settings=settings,
        )
        append_record(out, row)
        print(
            f"{method} ipc={ipc}: {per_it:.2f} s/iteration, {flops / 1e12:.3f} TFLOP, "
            f"{flops / per_it / 1e9:.0f} GFLOP/s (matmul {rate:.0f}); floor {flops / rate / 1e9:.2f} s",
            flush=True,
        )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--iterations", type=int, default=3, help="timed iterations per pair")
    p.add_argument(
        "--configs", default="dc:1,dm:10", help="method:ipc pairs, e.g. dc:1,dc:10,dm:10"
    )
    p.add_argument("--set", nargs="*", default=[], help="method settings, key=value")
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--out", default=None, help="default benchmarks/results/dc_dsa_dm-timing-<device>.json"
    )
    args = p.parse_args()
    settings = dict(kv.split("=", 1) for kv in args.set)
    device = torch.device(args.device)
    data = dd.load_dataset(args.dataset, args.data_root, device=device)
    out = Path(args.out or f"benchmarks/results/dc_dsa_dm-timing-{device.type}.json")
    timing(data, device, out, args.iterations, args.configs, settings)


if __name__ == "__main__":
    main()
