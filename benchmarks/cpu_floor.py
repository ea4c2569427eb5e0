"""The arithmetic floor of an evaluation on this machine: FLOPs (counted by torch's
FlopCounterMode) of the protocol's training steps and test pass ÷ the measured fp32 matmul rate.

    python benchmarks/cpu_floor.py [--data-root ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

import datadistill as dd
from datadistill.report.records import device_name
from datadistill.synset import git_commit


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def flops(info: dd.DatasetInfo, batch: int, train: bool) -> int:
    model = dd.create_model("convnet", info)
    x = torch.randn(batch, *info.shape)
    y = torch.randint(info.num_classes, (batch,))
    with FlopCounterMode(display=False) as counter:
        if train:
            F.cross_entropy(model(x), y).backward()
        else:
            with torch.no_grad():
                model(x)
    return counter.get_total_flops()


def eval_flops(info: dd.DatasetInfo, images: int, epochs: int, test: int) -> int:
    """FLOPs of ``epochs`` full-batch training steps on ``images`` and one pass over ``test``."""
    return flops(info, images, train=True) * epochs + flops(info, 1000, train=False) * test // 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", default="benchmarks/results/cpu-floor.json")
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    rate = matmul_gflops()
    rows = []
    for images, epochs in ((10, 1000), (100, 1000)):
        train = flops(data.info, images, train=True) * epochs
        total = eval_flops(data.info, images, epochs, len(data.test))
        test = total - train
        rows.append(
            {
                "benchmark": "cpu-floor",
                "dataset": "mnist",
                "eval_model": "convnet",
                "images": images,
                "eval_epochs": epochs,
                "train_tflop": round(train / 1e12, 3),
                "test_tflop": round(test / 1e12, 3),
                "matmul_gflops": round(rate, 1),
                "floor_seconds": round(total / rate / 1e9, 1),
                "device": device_name("cpu"),
                "torch": torch.__version__,
                "commit": git_commit(),
            }
        )
        print(
            f"{images} images × {epochs} epochs + test: {total / 1e12:.2f} TFLOP; matmul {rate:.0f} GFLOP/s; "
            f"floor {total / rate / 1e9:.1f} s"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{args.out}.tmp"
    Path(tmp).write_text(json.dumps(rows, indent=1))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
