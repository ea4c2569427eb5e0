"""bfloat16 autocast on a CPU (AVX-512 BF16): evaluation accuracy and seconds per model against
float32 on the same set, and seconds per DM iteration.

    python benchmarks/bf16.py --data-root ../shared/data      # ~12 min with 2 threads, alone

Records go to ``benchmarks/results/bf16-cpu.json``. The set is the DM set that ``nas.py`` makes
(MNIST, 10 images per class; made here if missing); each precision trains ``--runs`` ConvNets
with the protocol's settings (the same seeds, so the same initial weights and batches).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).parent
SET = HERE / "results" / "nas" / "dm-ipc10-200.safetensors"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--augment", default="none")
    p.add_argument("--dm-iterations", type=int, default=20)
    p.add_argument("--out", default=str(HERE / "results" / "bf16-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    if not SET.exists():
        dd.distill(data, "dm", 10, {"iterations": 200, "model": "convnet-w32"}).save(SET)
    synset = dd.SyntheticSet.load(SET)
    for amp in ("none", "bf16"):
        cfg = dd.EvalConfig(
            models=["convnet"], runs=args.runs, epochs=args.epochs, augment=args.augment, amp=amp
        )
        result = dd.evaluate(synset, data, cfg).results["convnet"]
        append_record(
            args.out,
            make_record("bf16", "mnist", "dm", 10, result, "cpu", part="evaluation", amp=amp),
        )
        print(
            f"evaluation {amp}: {result.mean:.2f} ± {result.std:.2f}, {result.seconds_per_run:.1f} s"
        )
    for amp in ("none", "bf16"):
        settings = {"iterations": args.dm_iterations, "model": "convnet", "amp": amp}
        dd.distill(data, "dm", 10, {**settings, "iterations": 2}, progress=False)  # warm-up
        start = time.perf_counter()
        dd.distill(data, "dm", 10, settings, progress=False)
        spi = (time.perf_counter() - start) / args.dm_iterations
        append_record(
            args.out,
            make_record(
                "bf16",
                "mnist",
                "dm",
                10,
                None,
                "cpu",
                part="dm",
                amp=amp,
                iterations=args.dm_iterations,
                seconds_per_iteration=round(spi, 3),
            ),  # fmt: skip
        )
        print(f"dm {amp}: {spi:.3f} s/iteration")
    print(f"threads: {torch.get_num_threads()}")


if __name__ == "__main__":
    main()
