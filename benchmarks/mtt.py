"""Trajectory matching (``mtt``) on a CPU: accuracy against DM and random real images at the same
image count under one protocol, seconds per iteration, and peak memory against ``syn_steps`` for
plain unrolling and TESLA's gradient.

    OMP_NUM_THREADS=1 python benchmarks/mtt.py --data-root ../shared/data            # ~15 min
    OMP_NUM_THREADS=1 python benchmarks/mtt.py --data-root ../shared/data --quick    # smoke test

Records go to ``benchmarks/results/mtt-cpu.json`` (``--out``), appended part by part. Every
method uses ``convnet-w32`` (distillation, experts and evaluation) and the same protocol; the
budgets are stated in each record's ``settings``. Peak memory is measured in a fresh process per
point (``--memory-point``), as the process's peak resident set during one MTT iteration minus
its resident set before it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from peak_memory import PeakMemory  # noqa: E402

MODEL = "convnet-w32"
# MTT's budget per IPC: experts × their epochs, syn_steps, iterations (CPU-sized)
# (one expert epoch of ConvNet-w32 with DSA on MNIST's 54,001 training images: ~40 s on one core)
MTT_BUDGET = {
    1: {"experts": 2, "expert_epochs": 2, "max_start_epoch": 1, "syn_steps": 20, "iterations": 100},
    10: {"experts": 2, "expert_epochs": 2, "max_start_epoch": 1, "syn_steps": 20, "iterations": 40},
}
# A larger budget (``--budget large``, ~45 min on one core with the experts trained): more
# experts and start epochs, ten times the iterations at IPC 1; DM gets the same iterations.
LARGE_BUDGET = {
    1: {
        "experts": 4,
        "expert_epochs": 2,
        "max_start_epoch": 4,
        "syn_steps": 20,
        "iterations": 1000,
    },
    10: {
        "experts": 4,
        "expert_epochs": 2,
        "max_start_epoch": 4,
        "syn_steps": 20,
        "iterations": 200,
    },
}
QUICK_BUDGET = {"experts": 1, "expert_epochs": 1, "max_start_epoch": 0, "syn_steps": 3}
QUICK_BUDGET["iterations"] = 2
BUDGETS = {"small": MTT_BUDGET, "large": LARGE_BUDGET}


def _mtt_settings(budget: dict, gradient: str = "tesla") -> dict:
    return {**budget, "model": MODEL, "gradient": gradient}


def _rss_mb() -> float | None:
    """The process's resident set now (``VmRSS``), in MiB; None without /proc."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    line = next((ln for ln in text.splitlines() if ln.startswith("VmRSS:")), None)
    return None if line is None else int(line.split()[1]) / 1024


def memory_point(args: argparse.Namespace) -> None:
    """One MTT iteration in this (fresh) process; prints its peak memory and seconds as JSON."""
    gradient, steps = args.memory_point[0], int(args.memory_point[1])
    data = dd.load_dataset(args.dataset, args.data_root)
    settings = {
        **_mtt_settings(args.memory_budget, gradient),
        "syn_steps": steps,
        "iterations": 1,
    }
    dd.distill(data, "mtt", args.memory_ipc, {**settings, "syn_steps": 1}, progress=False)  # warm
    base = _rss_mb()
    start = time.perf_counter()
    with PeakMemory(torch.device("cpu")) as peak:
        dd.distill(data, "mtt", args.memory_ipc, settings, progress=False)
    seconds = time.perf_counter() - start
    print(json.dumps({"peak_mb": peak.mb, "base_mb": base, "seconds": seconds}))


def memory_part(args: argparse.Namespace, out: Path) -> None:
    for gradient in ("tesla", "unroll"):
        for steps in args.steps:
            cmd = [
                sys.executable,
                __file__,
                "--data-root",
                str(args.data_root),
                "--dataset",
                args.dataset,
                "--memory-point",
                gradient,
                str(steps),
            ] + (["--quick"] if args.quick else [])
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            extra_mb = None
            if res["peak_mb"] is not None and res["base_mb"] is not None:
                extra_mb = round(res["peak_mb"] - res["base_mb"], 1)
            row = make_record(
                "mtt",
                args.dataset,
                "mtt",
                args.memory_ipc,
                None,
                "cpu",
                iterations=1,
                seconds_per_iteration=round(res["seconds"], 3),
                peak_mem_mb=res["peak_mb"],
                part="memory",
                gradient=gradient,
                syn_steps=steps,
                extra_mem_mb=extra_mb,
                settings={**_mtt_settings(args.memory_budget, gradient), "syn_steps": steps},
            )
            append_record(out, row)
            print(f"memory {gradient} syn_steps={steps}: +{extra_mb} MB, {res['seconds']:.2f} s")


def accuracy_part(args: argparse.Namespace, out: Path) -> None:
    data = dd.load_dataset(args.dataset, args.data_root)
    protocol = dd.EvalConfig(models=[MODEL], runs=args.runs, epochs=args.eval_epochs, augment="dc")
    for ipc in args.ipcs:
        budget = QUICK_BUDGET if args.quick else BUDGETS[args.budget][ipc]
        its = budget["iterations"]
        t0 = time.perf_counter()
        dd.distill(data, "mtt", ipc, {**_mtt_settings(budget), "iterations": 1}, progress=False)
        expert_seconds = time.perf_counter() - t0  # experts trained (or read) + one iteration
        runs = [
            ("mtt", {**_mtt_settings(budget), **args.set}),
            ("dm", {"iterations": its, "model": MODEL}),
            ("random", None),
        ]
        for method, settings in (r for r in runs if r[0] in args.methods.split(",")):
            start = time.perf_counter()
            synset = dd.distill(data, method, ipc, settings, progress=False)
            seconds = time.perf_counter() - start
            result = dd.evaluate(synset, data, protocol, progress=False).results[MODEL]
            variants = [("learned" if method == "mtt" else "protocol", result)]
            if method == "mtt" and args.protocol_lr:  # the same set at the protocol's rate
                fixed = dataclasses.replace(protocol, learned_lr=False)
                variants.append(
                    ("protocol", dd.evaluate(synset, data, fixed, progress=False).results[MODEL])
                )
            for eval_lr, scored in variants:
                row = make_record(
                    "mtt",
                    args.dataset,
                    method,
                    ipc,
                    scored,
                    "cpu",
                    iterations=its if settings else None,
                    seconds_per_iteration=round(seconds / its, 3) if settings else None,
                    part="accuracy",
                    settings=settings,
                    distill_seconds=round(seconds, 1),
                    expert_seconds=round(expert_seconds, 1) if method == "mtt" else None,
                    learned_lr=synset.meta.get("learned_lr"),
                    eval_lr=eval_lr,
                )
                append_record(out, row)
                print(
                    f"ipc {ipc} {method} (eval lr {eval_lr}): {scored.mean:.2f} ± {scored.std:.2f}"
                )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--parts", default="memory,accuracy")
    p.add_argument("--ipcs", default="1", help="1,10 also runs IPC 10 (evaluation ~25 min more)")
    p.add_argument("--steps", default="10,20,40,80", help="syn_steps of the memory curve")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--eval-epochs", dest="eval_epochs", type=int, default=300)
    p.add_argument("--budget", choices=sorted(BUDGETS), default="small", help="accuracy budget")
    p.add_argument("--methods", default="mtt,dm,random", help="accuracy part: which to run")
    p.add_argument("--set", nargs="*", default=[], help="MTT settings over the budget, key=value")
    p.add_argument(
        "--protocol-lr",
        action="store_true",
        help="also evaluate each MTT set at the protocol's rate instead of its learned one",
    )
    p.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test")
    p.add_argument("--out", default=str(HERE / "results" / "mtt-cpu.json"))
    p.add_argument("--memory-point", dest="memory_point", nargs=2, default=None)
    args = p.parse_args()
    args.ipcs = [int(i) for i in args.ipcs.split(",")]
    args.set = dict(kv.split("=", 1) for kv in args.set)
    args.steps = [int(s) for s in args.steps.split(",")]
    args.memory_ipc = 1
    args.memory_budget = {**(QUICK_BUDGET if args.quick else MTT_BUDGET[1])}
    if args.memory_point:
        memory_point(args)
        return
    if args.quick:
        args.runs, args.eval_epochs, args.steps = 1, 5, args.steps[:2]
    out = Path(args.out)
    torch.manual_seed(0)
    for part in args.parts.split(","):
        {"memory": memory_part, "accuracy": accuracy_part}[part](args, out)


if __name__ == "__main__":
    main()
