"""Why finite ConvNets trained on KIP/LS sets score low: the same set trained with the protocol
under different losses and targets (MSE on the centred label vectors, cross-entropy on the raw
vectors, cross-entropy on each image's argmax class), beside random real images.

    python benchmarks/kernel_transfer.py --data-root ../shared/data [--dataset mnist]
        [--method kip] [--ipc 1] [--runs 3] [--model convnet|mlp]
        [--augment auto|none]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import datadistill as dd
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).resolve().parent
CONFIGS = {"kip": {"iterations": 1000, "batch_real": 5000}, "ls": {}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--method", default="kip", choices=sorted(CONFIGS))
    p.add_argument("--ipc", type=int, default=1)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--model", default="convnet", help="the finite network trained on the set")
    p.add_argument(
        "--augment", default="auto", help="the protocol's augmentation (auto: dc on MNIST)"
    )
    p.add_argument("--out", default=str(HERE / "results/kernel-transfer-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset(args.dataset, args.data_root)
    synset = dd.distill(data, args.method, args.ipc, CONFIGS[args.method], progress=False)
    hard = dataclasses.replace(synset, labels=synset.hard_labels, meta={})
    clipped = synset.labels.clamp_min(0)
    clipped = dataclasses.replace(synset, labels=clipped / clipped.sum(1, keepdim=True), meta={})
    variants = {
        "mse, centred label vectors": (synset, "mse"),
        "cross-entropy, raw label vectors": (synset, "ce"),
        "cross-entropy, argmax classes": (hard, "ce"),
        "cross-entropy, vectors clipped at 0, renormalised": (clipped, "ce"),
        "random real images, cross-entropy": (
            dd.distill(data, "random", args.ipc, progress=False),
            "ce",
        ),
    }
    for name, (s, loss) in variants.items():
        cfg = dd.EvalConfig(models=[args.model], runs=args.runs, loss=loss, augment=args.augment)
        result = dd.evaluate(s, data, cfg, progress=False).results[args.model]
        row = make_record(
            "kernel-transfer", args.dataset, args.method, args.ipc, result, "cpu", variant=name
        )  # result carries the model, epochs and augmentation
        append_record(args.out, row)
        print(
            f"{args.dataset} {args.method} ipc {args.ipc} {name:<50} {result.mean:.2f} ± {result.std:.2f}"
        )


if __name__ == "__main__":
    main()
