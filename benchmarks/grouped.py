"""Training a protocol's runs together on a CPU: R ConvNets as one network of grouped
convolutions (``fit_grouped``) against R ``fit`` calls one by one and against the vmapped
``fit_batched``, on the same MNIST random set, the same seeds and batches.

    python benchmarks/grouped.py --data-root ../shared/data --paths one-by-one,grouped,vmap  # ~15 min, alone

Records (seconds per model for each path, the largest accuracy difference from one-by-one) go to
``benchmarks/results/grouped-cpu.json``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.datasets.augmentation import create_augmentation
from datadistill.evaluation.train import accuracy, fit, fit_batched, fit_grouped
from datadistill.models import create_seeded_model
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).parent
CASES = ((1, "dc"), (10, "none"), (10, "dsa"), (50, "none"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--paths", default="one-by-one,grouped,vmap")
    p.add_argument("--out", default=str(HERE / "results" / "grouped-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    test = data.test
    for ipc, augment in CASES:
        synset = dd.distill(data, "random", ipc, seed=0, progress=False)
        aug = create_augmentation(augment, flip=False)
        kw = dict(epochs=args.epochs, lr=0.01, momentum=0.9, weight_decay=5e-4, batch_size=256,
                  augmentation=aug)  # fmt: skip
        seconds, accs = {}, {}
        for path in args.paths.split(","):
            models = [create_seeded_model("convnet", data.info, s) for s in range(args.runs)]
            gens = [torch.Generator().manual_seed(s) for s in range(args.runs)]
            start = time.perf_counter()
            if path == "one-by-one":
                for m, g in zip(models, gens, strict=True):
                    fit(m, synset.images, synset.labels, generator=g, **kw)
            elif path == "grouped":
                fit_grouped(models, synset.images, synset.labels, generators=gens, **kw)
            else:
                fit_batched(models, synset.images, synset.labels, generators=gens, **kw)
            seconds[path] = (time.perf_counter() - start) / args.runs
            accs[path] = [round(accuracy(m, test), 2) for m in models]
            print(f"ipc {ipc} aug {augment} {path}: {seconds[path]:.2f} s/model {accs[path]}")
        base = accs.get("one-by-one")
        diff = (
            {k: max(abs(a - b) for a, b in zip(v, base, strict=True)) for k, v in accs.items()}
            if base
            else {}
        )
        append_record(
            args.out,
            make_record(
                "grouped",
                "mnist",
                "random",
                ipc,
                None,
                "cpu",
                augment=augment,
                eval_epochs=args.epochs,
                n_runs=args.runs,
                seconds_per_model=seconds,
                accs_by_path=accs,
                max_acc_diff=diff,
            ),  # fmt: skip
        )


if __name__ == "__main__":
    main()
