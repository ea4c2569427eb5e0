"""Where the time of a 1,000-epoch evaluation goes on this CPU: the protocol's training of one
ConvNet on the sets of ``vs_reference.py`` (10 MNIST images with DC augmentation, 100 with DSA),
with 1 and 2 torch threads, timed epoch by epoch (does an epoch get slower as training goes on?),
the test pass apart, and torch.profiler's operators over a slice of epochs.

    python benchmarks/profile_eval.py --data-root ../shared/data      # ~12 min; run it alone

A record per set and thread count: seconds of the whole, of the first and last 100 epochs, of
the test pass; the share of augmentation, forward, backward and optimiser steps in the profiled
slice (operator self time by name), and its top operators.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile, record_function

import datadistill as dd
from datadistill.datasets.augmentation import create_augmentation
from datadistill.evaluation.train import accuracy, fit
from datadistill.models import create_seeded_model
from datadistill.report import append_record, make_record

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from vs_reference import EVAL_SETS  # noqa: E402  (the same sets, augmentation → per class)

PROFILED_EPOCHS = 50


def train(data: dd.DataSplits, synset: dd.SyntheticSet, augment: str, epochs: int, ticks=None):
    """One ConvNet trained by the protocol's ``fit`` (its SGD and schedule); the model."""
    cfg = dd.EvalConfig()
    aug = create_augmentation(
        augment, flip=data.info.flip, **({"strategy": cfg.dsa_strategy} if augment == "dsa" else {})
    )
    apply = aug.apply
    aug.apply = lambda x, p: _labelled("augment", apply, x, p)
    model = create_seeded_model("convnet", data.info, 0, torch.device("cpu"))
    forward = model.forward
    model.forward = lambda x: _labelled("forward", forward, x)
    fit(
        model,
        synset.images,
        synset.labels,
        epochs=epochs,
        lr=cfg.lr,
        momentum=cfg.momentum,
        weight_decay=cfg.weight_decay,
        batch_size=cfg.batch_size,
        generator=torch.Generator().manual_seed(0),
        augmentation=aug,
        tick=(lambda: ticks.append(time.perf_counter())) if ticks is not None else None,
    )
    model.forward = forward
    return model


def _labelled(name: str, fn, *args):
    with record_function(name):
        return fn(*args)


def shares(prof) -> tuple[dict[str, float], list[list]]:
    """Seconds of the labelled phases (CPU time inside them), backward (autograd's own events)
    and optimiser steps; the ten operators with the most self time."""
    events = prof.key_averages()
    by_name = {e.key: e for e in events}
    phase = {k: by_name[k].cpu_time_total / 1e6 for k in ("augment", "forward") if k in by_name}
    phase["backward"] = (
        sum(
            e.cpu_time_total
            for e in events
            if e.key.startswith("autograd::engine::evaluate_function")
        )
        / 1e6
    )
    phase["optimiser"] = (
        sum(e.cpu_time_total for e in events if e.key.startswith("Optimizer.step")) / 1e6
    )
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:10]
    return phase, [[e.key, round(e.self_cpu_time_total / 1e6, 3), e.count] for e in top]


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-root", default="../shared/data")
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--out", default=str(HERE / "results" / "profile-eval-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    for augment, ipc in EVAL_SETS.items():
        synset = dd.distill(data, "random", ipc, seed=0, progress=False)
        for threads in (int(t) for t in args.threads.split(",")):
            torch.set_num_threads(threads)
            ticks = [time.perf_counter()]
            model = train(data, synset, augment, args.epochs, ticks)
            start = time.perf_counter()
            acc = accuracy(model, data.test)
            test_seconds = time.perf_counter() - start
            epochs = [b - a for a, b in itertools.pairwise(ticks)]
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                train(data, synset, augment, PROFILED_EPOCHS)
            phase, top = shares(prof)
            row = make_record(
                "profile-eval",
                "mnist",
                "random",
                ipc,
                None,
                "cpu",
                augment=augment,
                images=len(synset.images),
                eval_epochs=args.epochs,
                threads=threads,
                train_seconds=round(sum(epochs), 2),
                first_100_seconds=round(sum(epochs[:100]), 2),
                last_100_seconds=round(sum(epochs[-100:]), 2),
                median_epoch_ms=round(statistics.median(epochs) * 1000, 2),
                test_seconds=round(test_seconds, 2),
                accuracy=round(acc, 2),
                profiled_epochs=PROFILED_EPOCHS,
                profiled_phase_seconds={k: round(v, 3) for k, v in phase.items()},
                profiled_top_ops=top,
            )
            append_record(args.out, row)
            print(
                f"{augment} {len(synset.images)} images, {threads} threads: train "
                f"{sum(epochs):.1f} s (first/last 100 epochs {row['first_100_seconds']} / "
                f"{row['last_100_seconds']} s), test {test_seconds:.1f} s; phases {phase}"
            )


if __name__ == "__main__":
    main()
