"""Random-real baseline (ConvNet, the DC paper's protocol) and the wall time of one evaluation.

    python benchmarks/baselines.py --data-root ../shared/data                 # MNIST + FashionMNIST
    python benchmarks/baselines.py --datasets cifar10 --device cuda           # on a GPU
    python benchmarks/baselines.py --timing-only                              # CPU timing figures

Each protocol run draws its own random subset (seed = run index) and trains one fresh ConvNet on
it, as the DC paper's random baseline does. Rows are appended to the JSON file as they finish.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.evaluation import EvalConfig, ModelResult
from datadistill.report import append_record, make_record

# DC paper (Zhao et al. 2021, Table 1), random real images, ConvNet: mean ± std (percent).
PUBLISHED = {
    ("mnist", 1): (64.9, 3.5),
    ("mnist", 10): (95.1, 0.9),
    ("mnist", 50): (97.9, 0.2),
    ("fashion-mnist", 1): (51.4, 3.8),
    ("fashion-mnist", 10): (73.8, 0.7),
    ("fashion-mnist", 50): (82.5, 0.7),
    ("cifar10", 1): (14.5, 2.0),
    ("cifar10", 10): (26.0, 1.2),
    ("cifar10", 50): (43.4, 1.0),
}
SOURCE = "Zhao, Mopuri, Bilen 2021 (DC), Table 1, random"


def random_baseline(data: dd.DataSplits, ipc: int, runs: int, model: str) -> ModelResult:
    """``runs`` independent (subset, network) pairs; returns their accuracies as one result."""
    accs, seconds = [], 0.0
    for run in range(runs):
        synset = dd.distill(data, "random", ipc, seed=run, progress=False)
        ev = dd.evaluate(synset, data, EvalConfig(models=[model], runs=1, seed=run))
        r = ev.results[model]
        accs += r.accs
        seconds += r.seconds_per_run
        print(
            f"  {data.info.name} ipc={ipc} run {run}: {r.accs[0]:.2f}%  ({r.seconds_per_run:.1f} s)",
            flush=True,
        )
    return ModelResult(model, accs, seconds / runs, r.epochs, r.augment)


def timing(data: dd.DataSplits, ipc: int, augment: str, runs: int, batched: str) -> ModelResult:
    """Wall time of the protocol's evaluation (1000 epochs, then the whole test set) per model."""
    synset = dd.distill(data, "random", ipc, seed=0, progress=False)
    cfg = EvalConfig(runs=runs, augment=augment, epochs=1000, batched=batched)
    return dd.evaluate(synset, data, cfg).results["convnet"]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--datasets", default="mnist,fashion-mnist")
    p.add_argument("--ipcs", default="1,10,50")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--model", default="convnet")
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default=None, help="default benchmarks/results/baselines-<device>.json")
    p.add_argument("--timing-only", action="store_true", help="only the two evaluation timings")
    p.add_argument("--skip-timing", action="store_true")
    p.add_argument("--timing-runs", type=int, default=2)
    p.add_argument("--batched", default="auto")
    args = p.parse_args()
    device = torch.device(args.device)
    out = Path(args.out or f"benchmarks/results/baselines-{device.type}.json")

    if not args.timing_only:
        for name in args.datasets.split(","):
            data = dd.load_dataset(name, args.data_root, device=device)
            for ipc in map(int, args.ipcs.split(",")):
                start = time.perf_counter()
                result = random_baseline(data, ipc, args.runs, args.model)
                pub = PUBLISHED.get((name, ipc))
                published = (
                    {"acc_mean": pub[0], "acc_std": pub[1], "source": SOURCE} if pub else None
                )
                row = make_record(
                    "baselines",
                    name,
                    "random",
                    ipc,
                    result,
                    device,
                    published=published,
                    wall_seconds=round(time.perf_counter() - start, 1),
                )
                append_record(out, row)
                print(
                    f"{name} ipc={ipc}: {result.mean:.2f} ± {result.std:.2f}  (published {pub})",
                    flush=True,
                )
    if not args.skip_timing:
        mnist = dd.load_dataset("mnist", args.data_root, device=device)
        for ipc, augment, target in ((1, "dc", 30.0), (10, "dsa", 110.0)):
            result = timing(mnist, ipc, augment, args.timing_runs, args.batched)
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
