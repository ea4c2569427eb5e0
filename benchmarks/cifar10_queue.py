"""The CIFAR-10 queue for one GPU lease: jobs in priority order, sized to a wall-clock budget.

    PYTHONPATH=src python3 benchmarks/cifar10_queue.py --data-root /tmp/c10 --out /tmp/c10/q.json
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cifar10_queue.py --dataset digits --tiny \
        --out /tmp/queue-smoke.json                                   # CPU smoke test, ~1-2 min

Queue (issue 26): (1) DC IPC 1 and 10; (2) the initialisation study (DC from random, herding,
k-center, forgetting at 100 / 250 / 500 images, one distillation seed each); (3) DM IPC 10 and
50; (4) DSA IPC 10; (5) DC IPC 50. Each job's iterations are sized from estimated H200 seconds
per iteration (``seconds_per_iteration``: the H100 records in ``results/dc_dsa_dm-cuda.json``,
MNIST padded to 32×32 like CIFAR-10, H200 taken as an H100; jobs without a record scaled from
them by their loop counts) and evaluation seconds (``eval_seconds``: ``results/coresets-cuda.json``
and ``baselines-cuda*.json``, batched vmap evaluation). The budget is shared by ``SHARES``;
the four initialisations at one size get the same iterations. Before each job the plan is made
again for the time left, with the measured ÷ estimated seconds of the jobs done so far as a
factor, and a job that would not finish inside the budget is recorded as skipped. Each record
(``report.records`` keys, plus the budget, the estimate and the seconds taken) is appended as
its job finishes; ``--resume`` skips jobs already done in ``--out``.

One device command may run 600 s, so a longer budget runs in two calls: ``--budget-s`` is the
whole queue's, ``--deadline-s`` this call's (the call stops before a job that would overrun it,
without a record; the next call continues it with ``--resume``). CIFAR-10 goes to the device in
parts: ``benchmarks/cifar10_parts.sh``. With 15 minutes of device time in all:

    bash benchmarks/cifar10_parts.sh split            # here: .carry/c10/part-00 … part-03
    # device tool, back to back (the machine stays warm 30 s between calls):
    #   run("bash benchmarks/cifar10_parts.sh stash", carry=[".carry/c10/part-00"])   # 01, 02 too
    #   run(carry=[".carry/c10/part-03"], timeout_s=600, command=
    #       "bash benchmarks/cifar10_parts.sh stash && bash benchmarks/cifar10_parts.sh join &&
    #        PYTHONPATH=src python3 benchmarks/cifar10_queue.py --data-root /tmp/c10
    #        --out $OUT/cifar10-queue-cuda.json --deadline-s 540")
    # then copy the record into benchmarks/results/ and run benchmarks/report.py
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dc_dsa_dm import PUBLISHED as DM_PUBLISHED
from dc_dsa_dm import SOURCE as DM_SOURCE
from init_study import PUBLISHED as INIT_PUBLISHED
from init_study import SIZES
from init_study import SOURCE as INIT_SOURCE
from peak_memory import PeakMemory

import datadistill as dd
from datadistill.distillation.dc import DCConfig
from datadistill.evaluation import EvalConfig
from datadistill.report import append_record, make_record

START = time.perf_counter()
PAPER = {  # CIFAR-10, ConvNet, IPC 1 / 10 / 50
    "dc": ([28.3, 44.9, 53.9], "Zhao, Mopuri, Bilen 2021 (DC), Table 1"),
    "dsa": ([28.8, 52.1, 60.6], "Zhao & Bilen 2021 (DSA), Table 1"),
    "dm": ([DM_PUBLISHED[("cifar10", "dm", i)] for i in (1, 10, 50)], DM_SOURCE),
}
PAPER_ITERATIONS = {"dc": 1000, "dsa": 1000, "dm": 20000}

# H100 records (torch 2.11, fp32): DC IPC 1 0.058 s/iteration, DSA IPC 10 3.07, DM IPC 10 0.0385.
MATCH_S = 0.058  # one outer step of DC/DSA: real and synthetic gradients of all classes
INNER_STEP_S = (3.07 - 10 * MATCH_S) / 450  # one inner SGD step (DSA IPC 10: 9 × 50 of them)
DM_S = 0.0385  # DM IPC 10: 2,560 real images forward + 100 synthetic forward and backward
# Evaluation seconds per run (5 runs, vmap-batched, 10,000 test images) by images in the set.
EVAL_IMAGES = [10, 100, 500]
EVAL_S = {"none": [0.43, 0.68, 2.85], "aug": [2.84, 3.9, 18.4]}  # 300 / 1000 epochs
JOB_S = 3.0  # per job: networks built, cuDNN chooses its kernels, the set checked
SELECT_S = 5.0  # a herding / k-center embedding or forgetting scores (2-3 ConvNet epochs): a guess


TINY = {"batch_real": 50}


@dataclass(frozen=True)
class Job:
    """One distillation and its evaluation; ``group`` members share one iteration count."""

    name: str
    benchmark: str
    method: str
    ipc: int
    group: str
    init: str = "random"
    runs: int = 5

    @property
    def augment(self) -> str:
        return "dsa" if self.method in ("dm", "dsa") else "auto"


def queue(num_classes: int = 10) -> list[Job]:
    """The issue's queue in priority order."""
    jobs = [Job(f"dc-ipc{i}", "dc_dsa_dm", "dc", i, f"dc-ipc{i}") for i in (1, 10)]
    for size in SIZES:
        ipc = size // num_classes
        jobs += [
            Job(f"init-{init}-{size}", "init_study", "dc", ipc, f"init-{size}", init, runs=3)
            for init in INIT_PUBLISHED
        ]
    jobs += [Job("dm-ipc10", "dc_dsa_dm", "dm", 10, "dm-ipc10")]
    jobs += [Job("dm-ipc50", "dc_dsa_dm", "dm", 50, "dm-ipc50", runs=3)]  # 18 s per run
    jobs += [Job("dsa-ipc10", "dc_dsa_dm", "dsa", 10, "dsa-ipc10")]
    jobs += [Job("dc-ipc50", "dc_dsa_dm", "dc", 50, "dc-ipc50")]
    return jobs


# Share of the iteration time per group, after every job's fixed costs; the initialisation
# study's sizes in proportion to their seconds per iteration, so they get about equal counts.
SHARES = {
    "dc-ipc1": 0.06,
    "dc-ipc10": 0.25,
    "init-100": 0.08,
    "init-250": 0.10,
    "init-500": 0.22,
    "dm-ipc10": 0.03,
    "dm-ipc50": 0.04,
    "dsa-ipc10": 0.12,
    "dc-ipc50": 0.10,
}


def seconds_per_iteration(job: Job) -> float:
    """Estimated H200 seconds per outer iteration (see the module docstring)."""
    if job.method == "dm":
        return DM_S * (2560 + 30 * job.ipc) / (2560 + 300)
    outer, inner = DCConfig().loops(job.ipc)
    batches = math.ceil(10 * job.ipc / 256)
    return outer * MATCH_S + (outer - 1) * inner * batches * INNER_STEP_S


def fixed_seconds(job: Job) -> float:
    """Estimated seconds besides the iterations: the job, the selection, ``job.runs`` evaluations."""
    eval_s = EVAL_S["aug" if job.augment == "dsa" else "none"]
    per_run = float(np.interp(10 * job.ipc, EVAL_IMAGES, eval_s))
    return JOB_S + (SELECT_S if job.init != "random" else 0.0) + job.runs * per_run


def plan(
    jobs: list[Job],
    seconds: float,
    factor: float = 1.0,
    cap: dict[str, int] | None = None,
    fixed: dict[str, int] | None = None,
) -> dict[str, int]:
    """Iterations per group so that ``jobs`` (in priority order) fit in ``seconds`` at ``factor``
    × the estimates.

    Every group's fixed costs (selection, evaluation) come first; the rest is shared by
    ``SHARES``. A group capped (``cap``, default the paper's iterations) gives what it leaves to
    the others; ``fixed`` groups keep their count. While some group cannot have one iteration,
    the last group in priority order gets 0 (skipped) and its time goes to the others. What
    rounding down leaves goes to the groups in priority order."""
    cap = cap or {}
    groups: dict[str, list[Job]] = {}
    for job in jobs:
        groups.setdefault(job.group, []).append(job)
    out = dict(fixed or {})
    left = seconds / factor - sum(
        estimate(j, out[g]) for g, js in groups.items() if g in out for j in js
    )
    open_ = [g for g in groups if g not in out]
    while open_:
        rest = left - sum(fixed_seconds(j) for g in open_ for j in groups[g])
        total = sum(SHARES[g] for g in open_)
        sized = {}
        for g in open_:
            per_it = sum(seconds_per_iteration(j) for j in groups[g])
            limit = cap.get(g, PAPER_ITERATIONS[groups[g][0].method])
            sized[g] = (min(limit, max(0, math.floor(rest * SHARES[g] / total / per_it))), limit)
        if any(n == 0 for n, _ in sized.values()):
            out[open_.pop()] = 0
            continue
        capped = [g for g, (n, limit) in sized.items() if n == limit]
        if not capped:
            out.update({g: n for g, (n, _) in sized.items()})
            break
        for g in capped:  # the paper's budget fits: what it leaves goes to the others
            out[g] = sized[g][0]
            left -= sum(estimate(j, out[g]) for j in groups[g])
            open_.remove(g)
    spare = seconds / factor - sum(estimate(j, out[j.group]) for j in jobs if out[j.group])
    for g, js in groups.items():  # what rounding down left, to the first groups that can use it
        if out[g] and g not in (fixed or {}):
            per_it = sum(seconds_per_iteration(j) for j in js)
            limit = cap.get(g, PAPER_ITERATIONS[js[0].method])
            add = max(0, min(limit - out[g], math.floor(spare / per_it)))
            out[g] += add
            spare -= add * per_it
    return out


def estimate(job: Job, iterations: int) -> float:
    return fixed_seconds(job) + iterations * seconds_per_iteration(job)


def decide(iterations: int, seconds: float, left: float, elapsed: float, deadline: float) -> str:
    """``skip`` a job that gets no iteration or would not finish in the budget ``left``; ``stop``
    the call before one that would overrun this call's ``deadline``; else ``run``."""
    if iterations == 0 or seconds > left:
        return "skip"
    return "stop" if elapsed + seconds > deadline else "run"


def calibration(done: list[dict[str, Any]]) -> float:
    """Measured ÷ estimated seconds of the jobs done (1 before any)."""
    if not done:
        return 1.0
    return sum(r["job_seconds"] for r in done) / sum(r["estimated_s"] for r in done)


def published(job: Job, dataset: str) -> dict[str, Any] | None:
    if dataset != "cifar10":
        return None
    if job.benchmark == "init_study":
        mean, std = INIT_PUBLISHED[job.init][SIZES.index(10 * job.ipc)]
        return {"acc_mean": mean, "acc_std": std, "source": INIT_SOURCE}
    means, source = PAPER[job.method]
    return {"acc_mean": means[(1, 10, 50).index(job.ipc)], "acc_std": None, "source": source}


def run_job(
    job: Job, iterations: int, data: dd.DataSplits, device: torch.device, tiny: bool = False
) -> tuple[dict[str, Any], float]:
    """Distil and evaluate one job; returns its record (without the queue's keys) and seconds.
    ``tiny``: 50 real images per class (DSA's siamese batches need at least ``ipc``), DC's loops
    2 × 2, 2 evaluation runs of 5 epochs."""
    settings: dict[str, Any] = {"iterations": iterations}
    if tiny:
        settings |= TINY if job.method == "dm" else {**TINY, "outer_loop": 2, "inner_loop": 2}
    if job.benchmark == "init_study":
        settings["init"] = job.init
    start = time.perf_counter()
    with PeakMemory(device) as peak:
        synset = dd.distill(data, job.method, job.ipc, settings, seed=0, progress=False)
        distill_s = time.perf_counter() - start
    runs, epochs = (2, 5) if tiny else (job.runs, None)
    cfg = EvalConfig(runs=runs, augment=job.augment, epochs=epochs, batched="yes")
    result = dd.evaluate(synset, data, cfg, progress=False).results["convnet"]
    row = make_record(
        job.benchmark,
        data.info.name,
        job.method,
        job.ipc,
        result,
        device,
        iterations=iterations,
        seconds_per_iteration=round(distill_s / iterations, 4),
        peak_mem_mb=peak.mb,
        published=published(job, data.info.name),
        settings=settings,
        n_images=10 * job.ipc,
        batched="yes",
    )
    return row, time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--dataset", default="cifar10")
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--deadline-s", type=float, default=14 * 60 - 60, help="this call's wall clock")
    p.add_argument(
        "--budget-s", type=float, default=None, help="the whole queue's (default: deadline)"
    )
    p.add_argument("--out", default=None)
    p.add_argument("--resume", action="store_true", help="skip the jobs already done in --out")
    p.add_argument("--only", default=None, help="comma-separated job names (default: all)")
    p.add_argument("--dry-run", action="store_true", help="print the plan and stop")
    p.add_argument("--tiny", action="store_true", help="a smoke test: 1 iteration, tiny loops")
    args = p.parse_args()
    device = torch.device(args.device)
    out = Path(args.out or f"benchmarks/results/{args.dataset}-queue-{device.type}.json")
    budget = args.budget_s or args.deadline_s
    jobs = [j for j in queue() if args.only is None or j.name in args.only.split(",")]
    cap = {j.group: 1 for j in jobs} if args.tiny else {}
    rows = json.loads(out.read_text()) if args.resume and out.exists() else []
    done = [r for r in rows if r.get("queue") == "cifar10" and r.get("status") == "done"]
    spent = sum(r["job_seconds"] for r in done)
    locked = {r["group"]: r["iterations"] for r in done}
    factor = 1.0 if args.tiny else calibration(done)
    if args.dry_run:
        sizes = plan(jobs, budget - spent, factor, cap, locked)
        kept = [j for j in jobs if sizes[j.group]]
        for j in jobs:
            n = sizes[j.group]
            cost = f"{estimate(j, n) * factor:7.1f} s" if n else "skipped"
            print(f"{j.name:<20} {n:>5} it {j.runs} runs {cost}")
        total = sum(estimate(j, sizes[j.group]) * factor for j in kept)
        print(f"total {total:.0f} s of {budget - spent:.0f}")
        return
    data = dd.load_dataset(args.dataset, args.data_root, device=device)
    names_done = {r["job"] for r in done}
    if all(j.name in names_done for j in jobs):
        print(f"every job is done in {out}")
    for i, job in enumerate(jobs):
        if job.name in names_done:
            continue
        elapsed = time.perf_counter() - START
        left = budget - spent - elapsed
        todo = [j for j in jobs[i:] if j.name not in names_done]
        iterations = plan(todo, left, factor, cap, locked)[job.group]
        est = estimate(job, iterations) * factor
        queue_keys = dict(
            queue="cifar10",
            job=job.name,
            group=job.group,
            estimated_s=round(est / factor, 1),
            factor=round(factor, 3),
            seconds_left=round(left, 1),
            paper_iterations=PAPER_ITERATIONS[job.method],
        )
        action = decide(iterations, est, left, elapsed, args.deadline_s)
        if action == "skip":
            row = make_record(job.benchmark, data.info.name, job.method, job.ipc, None, device)
            row.update(queue_keys, status="skipped", iterations=iterations)
            append_record(out, row)
            print(f"{job.name}: skipped ({iterations} iterations, {est:.0f} s > {left:.0f} s)")
            continue
        if action == "stop":
            print(f"stop before {job.name} ({est:.0f} s): continue with --resume", flush=True)
            return
        row, seconds = run_job(job, iterations, data, device, args.tiny)
        row.update(queue_keys, status="done", job_seconds=round(seconds, 1))
        append_record(out, row)
        locked[job.group] = iterations
        done.append(row)
        factor = 1.0 if args.tiny else calibration(done)
        print(
            f"{job.name}: {row['acc_mean']:.2f} ± {row['acc_std']:.2f} after {iterations} "
            f"iterations, {seconds:.0f} s (estimated {est:.0f}; total {time.perf_counter() - START:.0f})",
            flush=True,
        )


if __name__ == "__main__":
    main()
