"""Time to accuracy: distillation wall time on this machine until the set reaches a test accuracy.

    python benchmarks/time_to_accuracy.py distill --data-root ../shared/data   # DM, MNIST, IPC 10
    python benchmarks/time_to_accuracy.py evaluate                           # score the snapshots

``distill`` runs the method in segments of ``--snapshot-every`` iterations through the library's
checkpoint (a resumed run is bit-for-bit the uninterrupted one), times each segment, and saves the
set after each into ``--dir`` with a ``progress.json`` of (iterations, cumulative seconds).
``evaluate`` (on any machine: a GPU is faster, the evaluation is not part of the timed work)
scores every snapshot with the evaluation protocol and writes one record per snapshot plus the
first one at or above ``--threshold``. DM and DSA are evaluated with DSA augmentation, as their
papers' code does.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.evaluation import EvalConfig
from datadistill.report import append_record, make_record
from datadistill.report.records import device_name


def _dir(args: argparse.Namespace) -> Path:
    name = f"{args.dataset}-{args.method}-ipc{args.ipc}"
    return Path(args.dir or f"runs/time_to_accuracy/{name}")


def distill(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    folder = _dir(args)
    folder.mkdir(parents=True, exist_ok=True)
    log_path = folder / "progress.json"
    log = json.loads(log_path.read_text()) if log_path.is_file() else {"snapshots": []}
    log.update(device=device_name(args.device), torch=torch.__version__, seed=args.seed)
    data = dd.load_dataset(args.dataset, args.data_root, device=torch.device(args.device))
    done = log["snapshots"][-1]["iterations"] if log["snapshots"] else 0
    seconds = log["snapshots"][-1]["seconds"] if log["snapshots"] else 0.0
    settings = dict(kv.split("=", 1) for kv in args.set)
    log["settings"] = settings
    for target in range(done + args.snapshot_every, args.iterations + 1, args.snapshot_every):
        start = time.perf_counter()
        synset = dd.distill(
            data,
            args.method,
            args.ipc,
            {**settings, "iterations": target, "checkpoint_every": args.snapshot_every},
            seed=args.seed,
            progress=False,
            checkpoint=folder / "checkpoint.pt",
        )
        seconds += time.perf_counter() - start
        synset.save(folder / f"it{target:06d}.safetensors")
        log["snapshots"].append({"iterations": target, "seconds": round(seconds, 2)})
        tmp = log_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(log, indent=1))
        os.replace(tmp, log_path)
        print(f"{target} iterations: {seconds:.0f} s", flush=True)


def evaluate(args: argparse.Namespace) -> None:
    folder = _dir(args)
    log = json.loads((folder / "progress.json").read_text())
    device = torch.device(args.device)
    data = dd.load_dataset(args.dataset, args.data_root, device=device)
    augment = args.augment or ("dsa" if args.method in ("dm", "dsa") else "auto")
    out = Path(args.out or "benchmarks/results/time_to_accuracy.json")
    reached = None
    snapshots = log["snapshots"][:: args.every]
    if args.at:
        wanted = {int(i) for i in args.at.split(",")}
        snapshots = [s for s in log["snapshots"] if s["iterations"] in wanted]
    for snap in snapshots:
        synset = dd.SyntheticSet.load(folder / f"it{snap['iterations']:06d}.safetensors")
        result = dd.evaluate(
            synset, data, EvalConfig(runs=args.runs, augment=augment), progress=False
        ).results["convnet"]
        row = make_record(
            "time_to_accuracy",
            args.dataset,
            args.method,
            args.ipc,
            result,
            device,
            iterations=snap["iterations"],
            seconds_per_iteration=round(snap["seconds"] / snap["iterations"], 3),
            distill_seconds=snap["seconds"],
            distill_device=log["device"],
            distill_torch=log["torch"],
            settings=log.get("settings", {}),
            threshold=args.threshold,
        )
        append_record(out, row)
        print(
            f"{snap['iterations']} it, {snap['seconds']:.0f} s: {result.mean:.2f} ± {result.std:.2f}"
        )
        if reached is None and result.mean >= args.threshold:
            reached = snap
            if args.stop_at_threshold:
                break
    if reached:
        print(
            f"reached {args.threshold}% after {reached['iterations']} iterations, "
            f"{reached['seconds']:.0f} s on {log['device']}"
        )
    else:
        print(f"{args.threshold}% not reached at the evaluated snapshots")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("mode", choices=["distill", "evaluate"])
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--method", default="dm")
    p.add_argument("--ipc", type=int, default=10)
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--snapshot-every", type=int, default=100)
    p.add_argument("--set", nargs="*", default=[], help="method settings, key=value")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--dir", default=None, help="snapshot folder")
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--augment", default=None, help="evaluation augmentation (default: the paper's)")
    p.add_argument("--every", type=int, default=1, help="evaluate every n-th snapshot")
    p.add_argument("--at", default="", help="evaluate only these iterations, e.g. 900,1000")
    p.add_argument("--threshold", type=float, default=97.0)
    p.add_argument("--stop-at-threshold", action="store_true")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    distill(args) if args.mode == "distill" else evaluate(args)


if __name__ == "__main__":
    main()
