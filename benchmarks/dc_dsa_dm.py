"""Matching methods: accuracy at a stated iteration budget, seconds per iteration, peak memory.

    python benchmarks/dc_dsa_dm.py --data-root ../shared/data --method dm --ipc 10 --iterations 1000

(DM only for now; DC and DSA join as they land.) One distillation (seed 0), then the evaluation
protocol's runs on the set; the record carries the iterations used and the time per iteration.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.evaluation import EvalConfig
from datadistill.report import append_record, make_record

SOURCE = "Zhao & Bilen 2023 (DM), Table 1 (20,000 iterations)"
PUBLISHED = {
    ("mnist", "dm", 1): 89.7,
    ("mnist", "dm", 10): 97.5,
    ("mnist", "dm", 50): 98.6,
    ("cifar10", "dm", 1): 26.0,
    ("cifar10", "dm", 10): 48.9,
    ("cifar10", "dm", 50): 63.0,
}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--method", default="dm")
    p.add_argument("--ipc", type=int, default=10)
    p.add_argument("--iterations", type=int, default=1000)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    device = torch.device(args.device)
    out = Path(args.out or f"benchmarks/results/dc_dsa_dm-{device.type}.json")
    data = dd.load_dataset(args.dataset, args.data_root, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    synset = dd.distill(data, args.method, args.ipc, {"iterations": args.iterations}, seed=0)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**20 if device.type == "cuda" else None
    result = dd.evaluate(synset, data, EvalConfig(runs=args.runs)).results["convnet"]
    pub = PUBLISHED.get((args.dataset, args.method, args.ipc))
    row = make_record(
        "dc_dsa_dm",
        args.dataset,
        args.method,
        args.ipc,
        result,
        device,
        iterations=args.iterations,
        seconds_per_iteration=round(seconds / args.iterations, 4),
        peak_mem_mb=None if peak is None else round(peak, 1),
        published={"acc_mean": pub, "acc_std": None, "source": SOURCE} if pub else None,
    )
    append_record(out, row)
    print(
        f"{args.dataset} {args.method} ipc={args.ipc} after {args.iterations} iterations: "
        f"{result.mean:.2f} ± {result.std:.2f} ({seconds / args.iterations:.3f} s/iteration)"
    )


if __name__ == "__main__":
    main()
