"""Generative teaching networks (``gtn``) on a CPU: for each trainer (``bptt``, ``ift``,
``matching``), the test accuracy of fresh learners trained ``K`` steps on its generated batches
against ``K`` steps on real batches of the same size (and, with ``--parts dcdd``, on DC and DD
sets of the same image count), seconds per outer iteration, and peak memory against ``K``.

    OMP_NUM_THREADS=1 python benchmarks/gtn.py --data-root ../shared/data            # ~15 min
    OMP_NUM_THREADS=1 python benchmarks/gtn.py --data-root ../shared/data --quick --out /tmp/x.json

Records go to ``benchmarks/results/gtn-cpu.json`` (``--out``), appended part by part, with the
budget of each in its ``settings``. Every learner is ``convnet-w32``; each accuracy is over
``--learners`` fresh seeded learners. Peak memory is measured in a fresh process per point
(``--memory-point``): the peak resident set during one outer iteration minus the resident set
before it (BPTT should grow with K, IFT and matching stay flat).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F

import datadistill as dd
from datadistill.gtn import TeachingGenerator, generator_of, save_generator
from datadistill.models import create_seeded_model, forward_in_chunks
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from mtt import _rss_mb  # noqa: E402
from peak_memory import PeakMemory  # noqa: E402

MODEL = "convnet-w32"
TRAINERS = ("bptt", "ift", "matching")
# The CPU budget of the accuracy part (about 15 min on one thread for all three trainers):
# K=16 inner steps of 32 generated images; matching updates the generator K times per iteration.
BUDGET = {"inner_steps": 16, "batch_size": 32, "batch_real": 128, "lr_inner": 0.1}
ITERATIONS = {"bptt": 150, "ift": 150, "matching": 30}
QUICK = {"inner_steps": 2, "batch_size": 20, "batch_real": 32, "lr_inner": 0.1}
Batches = Callable[[int], tuple[torch.Tensor, torch.Tensor]]


def settings_of(trainer: str, budget: dict, iterations: int, space: str = "") -> dict:
    """The method's settings; ``space``: learners drawn from that NAS search space instead."""
    return {
        **budget,
        "trainer": trainer,
        "learner": MODEL,
        "iterations": iterations,
        "learner_space": space,
    }


def k_step_accuracy(
    data: dd.DataSplits, batches: Batches, steps: int, lr: float, momentum: float, seed: int
) -> float:
    """Test accuracy (percent) of a fresh seeded learner after ``steps`` SGD steps on
    ``batches(step)``."""
    net = create_seeded_model(MODEL, data.info, seed)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    for k in range(steps):
        x, y = batches(k)
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()
    net.eval()
    logits = forward_in_chunks(net, data.test.images, 512)
    return float((logits.argmax(1) == data.test.labels).float().mean()) * 100


def generated(gen: TeachingGenerator, seed: int) -> Batches:
    """The generator's batch of each inner step: its curriculum, else seeded noise."""
    g = torch.Generator().manual_seed(seed)
    n, nz = gen.config.batch_size, gen.config.noise_dim

    def batch(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = gen.batch_labels(n)
        z = (
            gen.noise[k % len(gen.noise)]
            if gen.noise is not None
            else torch.randn(n, nz, generator=g)
        )
        with torch.no_grad():
            return gen(z.detach(), y), y

    return batch


def from_tensors(images: torch.Tensor, labels: torch.Tensor, size: int, seed: int) -> Batches:
    """Batches of ``size`` drawn from ``images`` (a real split or a set): shuffled passes."""
    g = torch.Generator().manual_seed(seed)
    order = torch.cat([torch.randperm(len(images), generator=g) for _ in range(64)])

    def batch(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = order[k * size : (k + 1) * size]
        return images[idx], labels[idx]

    return batch


def _result(accs: list[float], seconds: float) -> dd.evaluation.protocol.ModelResult:
    from datadistill.evaluation.protocol import ModelResult

    return ModelResult(MODEL, accs, seconds, 0, "none")


def accuracy_part(args: argparse.Namespace, out: Path) -> None:
    data = dd.load_dataset(args.dataset, args.data_root)
    budget = QUICK if args.quick else BUDGET
    k, size = budget["inner_steps"], budget["batch_size"]
    seeds = range(args.learners)
    for trainer in args.trainers.split(","):
        its = 2 if args.quick else args.iterations or ITERATIONS[trainer]
        settings = settings_of(trainer, budget, its, args.learner_space)
        start = time.perf_counter()
        synset = dd.distill(data, "gtn", 1, settings, progress=False)
        seconds = time.perf_counter() - start
        gen = generator_of(synset)
        if not args.quick:  # kept for the architecture-search proxy (benchmarks/nas.py --gtn)
            tag = f"{trainer}-{args.learner_space}" if args.learner_space else trainer
            tag += f"-{its}it" if args.iterations else ""
            kept = HERE / "results" / "gtn" / f"{tag}.safetensors"
            save_generator(gen, kept)
            kept.with_suffix(".json").write_text(json.dumps({"seconds": round(seconds, 1)}))
        lr, mom = float(gen.inner_lr.detach()), float(gen.inner_momentum.detach())
        t0 = time.perf_counter()
        accs = [k_step_accuracy(data, generated(gen, s), k, lr, mom, s) for s in seeds]
        row = make_record(
            "gtn", args.dataset, "gtn", 1, _result(accs, (time.perf_counter() - t0) / len(accs)),
            "cpu", iterations=its, seconds_per_iteration=round(seconds / its, 3),
            part="accuracy", trainer=trainer, inner_steps=k, batch_size=size, settings=settings,
            learned_lr=lr, learned_momentum=mom, distill_seconds=round(seconds, 1),
        )  # fmt: skip
        append_record(out, row)
        print(f"{trainer}: {sum(accs) / len(accs):.2f} after {k} steps ({seconds / its:.2f} s/it)")
    if args.learner_space or args.iterations:
        return  # the real-batch baseline does not depend on the generators' training
    real = [
        k_step_accuracy(
            data, from_tensors(data.train.images, data.train.labels, size, s), k,
            budget["lr_inner"], 0.5, s,
        )
        for s in seeds
    ]  # fmt: skip
    row = make_record(
        "gtn", args.dataset, "real-batches", 1, _result(real, 0.0), "cpu", part="accuracy",
        inner_steps=k, batch_size=size, settings={"lr": budget["lr_inner"], "momentum": 0.5},
    )  # fmt: skip
    append_record(out, row)
    print(f"real batches: {sum(real) / len(real):.2f} after {k} steps")


def dcdd_part(args: argparse.Namespace, out: Path) -> None:
    """DC and DD sets of the learners' image count (``K × batch_size``), fed the same way."""
    data = dd.load_dataset(args.dataset, args.data_root)
    budget = QUICK if args.quick else BUDGET
    k, size = budget["inner_steps"], budget["batch_size"]
    ipc = max(1, k * size // data.info.num_classes)
    its = 2 if args.quick else 20
    runs = {
        "dc": {"iterations": its, "model": MODEL, "outer_loop": 2, "inner_loop": 1},
        "dd": {"iterations": its, "model": MODEL, "eval_model": MODEL, "batch_real": 256},
    }
    for method, settings in runs.items():
        start = time.perf_counter()
        synset = dd.distill(data, method, ipc, settings, progress=False)
        seconds = time.perf_counter() - start
        accs = [
            k_step_accuracy(
                data, from_tensors(synset.images, synset.hard_labels, size, s), k,
                budget["lr_inner"], 0.5, s,
            )
            for s in range(args.learners)
        ]  # fmt: skip
        row = make_record(
            "gtn", args.dataset, method, ipc, _result(accs, 0.0), "cpu", iterations=its,
            seconds_per_iteration=round(seconds / its, 3), part="dcdd", inner_steps=k,
            batch_size=size, settings=settings,
        )  # fmt: skip
        append_record(out, row)
        print(f"{method} (ipc {ipc}): {sum(accs) / len(accs):.2f} after {k} steps")


def memory_point(args: argparse.Namespace) -> None:
    """One outer iteration in this (fresh) process; prints its peak memory and seconds."""
    trainer, steps = args.memory_point[0], int(args.memory_point[1])
    data = dd.load_dataset(args.dataset, args.data_root)
    budget = QUICK if args.quick else BUDGET
    warm = settings_of(trainer, {**budget, "inner_steps": 1}, 1)
    dd.distill(data, "gtn", 1, warm, progress=False)
    base = _rss_mb()
    start = time.perf_counter()
    with PeakMemory(torch.device("cpu")) as peak:
        dd.distill(data, "gtn", 1, settings_of(trainer, {**budget, "inner_steps": steps}, 1),
                   progress=False)  # fmt: skip
    print(json.dumps({"peak_mb": peak.mb, "base_mb": base, "seconds": time.perf_counter() - start}))


def memory_part(args: argparse.Namespace, out: Path) -> None:
    budget = QUICK if args.quick else BUDGET
    for trainer in TRAINERS:
        for steps in args.steps:
            cmd = [sys.executable, __file__, "--data-root", str(args.data_root), "--dataset",
                   args.dataset, "--memory-point", trainer, str(steps)]  # fmt: skip
            cmd += ["--quick"] if args.quick else []
            res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
            extra_mb = None
            if res["peak_mb"] is not None and res["base_mb"] is not None:
                extra_mb = round(res["peak_mb"] - res["base_mb"], 1)
            row = make_record(
                "gtn", args.dataset, "gtn", 1, None, "cpu", iterations=1,
                seconds_per_iteration=round(res["seconds"], 3), peak_mem_mb=res["peak_mb"],
                part="memory", trainer=trainer, inner_steps=steps, extra_mem_mb=extra_mb,
                settings=settings_of(trainer, {**budget, "inner_steps": steps}, 1),
            )  # fmt: skip
            append_record(out, row)
            print(f"memory {trainer} K={steps}: +{extra_mb} MB, {res['seconds']:.2f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--dataset", default="mnist")
    p.add_argument("--parts", default="memory,accuracy", help="add dcdd for DC and DD sets")
    p.add_argument("--steps", default="8,16,32,64", help="inner steps K of the memory curve")
    p.add_argument("--learners", type=int, default=5)
    p.add_argument(
        "--learner-space",
        dest="learner_space",
        default="",
        help="train each generator on learners drawn from this NAS search space (e.g. convnet)",
    )
    p.add_argument("--trainers", default=",".join(TRAINERS), help="comma-separated trainers")
    p.add_argument("--iterations", type=int, default=0, help="outer iterations (0: the budget's)")
    p.add_argument("--quick", action="store_true", help="tiny budgets: a smoke test")
    p.add_argument("--out", default=str(HERE / "results" / "gtn-cpu.json"))
    p.add_argument("--memory-point", dest="memory_point", nargs=2, default=None)
    args = p.parse_args()
    args.steps = [int(s) for s in args.steps.split(",")]
    if args.memory_point:
        memory_point(args)
        return
    if args.quick:
        args.steps, args.learners = args.steps[:2], 2
    out = Path(args.out)
    torch.manual_seed(0)
    for part in args.parts.split(","):
        {"memory": memory_part, "accuracy": accuracy_part, "dcdd": dcdd_part}[part](args, out)


if __name__ == "__main__":
    main()
