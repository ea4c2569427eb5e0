"""Coreset selection against the DC paper's table (ConvNet, its evaluation protocol).

    python benchmarks/coresets.py --data-root ../shared/data --datasets mnist,fashion-mnist
    python benchmarks/coresets.py --datasets cifar10 --device cuda

For each dataset, method and IPC: one selection (seed 0, embeddings from a ConvNet trained on the
training split, cached), then ``--runs`` fresh ConvNets trained on it and tested. Rows are
appended to the JSON file as they finish, next to the published figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.evaluation import EvalConfig
from datadistill.report import append_record, make_record

SOURCE = "Zhao, Mopuri, Bilen 2021 (DC), Table 1"
# (mean, std) at IPC 1 / 10 / 50; std None where the paper gives none.
PUBLISHED = {
    "cifar10": {
        "random": [(14.5, 2.0), (26.0, 1.2), (43.4, 1.0)],
        "herding": [(21.5, 1.2), (31.6, 0.7), (40.4, 0.6)],
        "kcenter": [(21.5, 1.3), (24.7, 0.9), (27.0, 1.4)],
        "forgetting": [(13.5, 1.2), (23.3, 1.0), (23.3, 1.1)],
    },
    "mnist": {
        "random": [(64.9, 3.5), (95.1, 0.9), (97.9, 0.2)],
        "herding": [(89.2, None), (93.7, None), (94.8, None)],
        "kcenter": [(89.3, None), (84.4, None), (97.4, None)],
        "forgetting": [(35.5, None), (68.1, None), (88.2, None)],
    },
}
IPC_COLUMN = {1: 0, 10: 1, 50: 2}


def published(dataset: str, method: str, ipc: int) -> dict | None:
    rows = PUBLISHED.get(dataset, {}).get(method)
    if rows is None or ipc not in IPC_COLUMN:
        return None
    mean, std = rows[IPC_COLUMN[ipc]]
    return {"acc_mean": mean, "acc_std": std, "source": SOURCE}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--datasets", default="mnist,fashion-mnist")
    p.add_argument("--methods", default="random,herding,kcenter,forgetting")
    p.add_argument("--ipcs", default="1,10,50")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--model", default="convnet")
    p.add_argument("--embed-epochs", type=int, default=2)
    p.add_argument("--forgetting-epochs", type=int, default=3)
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--out", default=None, help="default benchmarks/results/coresets-<device>.json")
    p.add_argument(
        "--settings",
        default="{}",
        help='JSON: per-method settings, e.g. {"kcenter": {"embedding": "pixels"}}',
    )
    p.add_argument(
        "--name", default="coresets", help="benchmark name in the records (e.g. coresets-ablation)"
    )
    args = p.parse_args()
    device = torch.device(args.device)
    out = Path(args.out or f"benchmarks/results/coresets-{device.type}.json")
    settings = {
        "herding": {"embed_epochs": args.embed_epochs},
        "kcenter": {"embed_epochs": args.embed_epochs},
        "forgetting": {"epochs": args.forgetting_epochs},
    }
    for method, values in json.loads(args.settings).items():
        settings[method] = {**settings.get(method, {}), **values}
    for name in args.datasets.split(","):
        data = dd.load_dataset(name, args.data_root, device=device)
        for method in args.methods.split(","):
            for ipc in map(int, args.ipcs.split(",")):
                start = time.perf_counter()
                synset = dd.distill(data, method, ipc, settings.get(method), seed=0, progress=False)
                select_seconds = time.perf_counter() - start
                ev = dd.evaluate(synset, data, EvalConfig(models=[args.model], runs=args.runs))
                result = ev.results[args.model]
                row = make_record(
                    args.name,
                    name,
                    method,
                    ipc,
                    result,
                    device,
                    published=published(name, method, ipc),
                    select_seconds=round(select_seconds, 2),
                    settings=synset.config,
                )
                append_record(out, row)
                print(
                    f"{name} {method} ipc={ipc}: {result.mean:.2f} ± {result.std:.2f} "
                    f"(published {row['published'] and row['published']['acc_mean']}; "
                    f"select {select_seconds:.1f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
