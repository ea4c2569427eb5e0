"""Wall time of one evaluation by the protocol (MNIST random real images, ConvNet).

    python benchmarks/baselines.py                        # CPU timing figures
    python benchmarks/baselines.py --device cuda          # on a GPU

Two settings: 10 images with the DC augmentation and 100 images with DSA's, each 1000 epochs then
the whole test set, ``--runs`` models per setting. The random-real accuracy baseline that this
script also ran before is the grid ``benchmarks/grids/baselines.yaml`` (``datadistill run``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import datadistill as dd
from datadistill.evaluation import EvalConfig, ModelResult
from datadistill.report import append_record, make_record

# (ipc, augmentation, target seconds per model)
SETTINGS = ((1, "dc", 30.0), (10, "dsa", 110.0))


def timing(data: dd.DataSplits, ipc: int, augment: str, runs: int, batched: str) -> ModelResult:
    """Wall time of the protocol's evaluation (1000 epochs, then the whole test set) per model."""
    synset = dd.distill(data, "random", ipc, seed=0, progress=False)
    cfg = EvalConfig(runs=runs, augment=augment, epochs=1000, batched=batched)
    return dd.evaluate(synset, data, cfg).results["convnet"]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=2, help="models timed per setting")
    p.add_argument("--batched", default="auto")
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument(
        "--out", default=None, help="default benchmarks/results/baselines-<device>-timing.json"
    )
    args = p.parse_args()
    device = torch.device(args.device)
    out = Path(args.out or f"benchmarks/results/baselines-{device.type}-timing.json")
    mnist = dd.load_dataset("mnist", args.data_root, device=device)
    for ipc, augment, target in SETTINGS:
        result = timing(mnist, ipc, augment, args.runs, args.batched)
        row = make_record(
            "baselines-timing",
            "mnist",
            "random",
            ipc,
            result,
            device,
            target_seconds=target,
            batched=args.batched,
            test_images=len(mnist.test),
        )
        append_record(out, row)
        print(
            f"timing mnist {ipc * 10} images, {augment}: {result.seconds_per_run:.1f} s per model "
            f"(target {target} s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
