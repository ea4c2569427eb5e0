"""bfloat16 autocast on a CPU (AVX-512 BF16): what it does to accuracy.

    python benchmarks/bf16.py --data-root ../shared/data --parts evaluation   # ~12 min alone
    python benchmarks/bf16.py --data-root ../shared/data --parts distill --methods dc
    python benchmarks/bf16.py --data-root ../shared/data --parts distill --methods dm

``evaluation``: the DM set that ``nas.py`` makes (MNIST, 10 images per class; made here if
missing), ``--runs`` ConvNets per precision with the protocol's settings (the same seeds, so the
same initial weights and batches), and seconds per DM iteration per precision.
``distill``: DC, DSA (IPC 1) and DM (IPC 10) sets distilled with ``amp=none`` and ``amp=bf16`` (both
``compile=true``, the same seed and iterations), each evaluated ``--runs`` times on one protocol
(``--eval``, default the field's fp32 one), so the difference is the distillation's precision.
Seconds per iteration side by side with the reference are ``vs_reference.py``'s; the distill
part records none (it may share the machine). Records go to ``benchmarks/results/bf16-cpu.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.report.records import append_record, make_record
from datadistill.settings import make_config

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from vs_reference import parse_variant  # noqa: E402  (the same "a=b+c=d" settings syntax)

SET = HERE / "results" / "nas" / "dm-ipc10-200.safetensors"
DISTILL = {"dc": 1, "dsa": 1, "dm": 10}  # method → images per class


def evaluation_part(args: argparse.Namespace, data: dd.DataSplits) -> None:
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
        row = make_record(
            "bf16", "mnist", "dm", 10, None, "cpu", part="dm", amp=amp,
            iterations=args.dm_iterations, seconds_per_iteration=round(spi, 3),
        )  # fmt: skip
        append_record(args.out, row)
        print(f"dm {amp}: {spi:.3f} s/iteration")


def distill_part(args: argparse.Namespace, data: dd.DataSplits) -> None:
    eval_settings = parse_variant(args.eval)
    cfg = make_config(dd.EvalConfig, {"models": ["convnet"], "runs": args.runs, **eval_settings})
    for method in args.methods.split(","):
        ipc = DISTILL[method]
        for amp in ("none", "bf16"):
            settings = {"iterations": args.iterations, "compile": True, "amp": amp}
            synset = dd.distill(data, method, ipc, settings, seed=args.seed)
            result = dd.evaluate(synset, data, cfg).results["convnet"]
            row = make_record(
                "bf16", "mnist", method, ipc, result, "cpu", part="distill", amp=amp,
                iterations=args.iterations, distill_settings=settings,
                eval_settings=eval_settings, seed=args.seed, threads=torch.get_num_threads(),
            )  # fmt: skip
            append_record(args.out, row)
            print(f"{method} ipc {ipc} amp={amp}: {result.mean:.2f} ± {result.std:.2f}")


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-root", default=None)
    p.add_argument("--parts", default="evaluation,distill")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--epochs", type=int, default=300, help="evaluation part's epochs")
    p.add_argument("--augment", default="none", help="evaluation part's augmentation")
    p.add_argument("--dm-iterations", type=int, default=20, help="evaluation part's timed DM")
    p.add_argument(
        "--methods", default="dc,dsa,dm", help="distill part: dc, dsa (IPC 1), dm (IPC 10)"
    )
    p.add_argument("--iterations", type=int, default=200, help="distill part's iterations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--eval", default="default", help="distill part's evaluation settings, e.g. amp=bf16"
    )
    p.add_argument("--out", default=str(HERE / "results" / "bf16-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    parts = args.parts.split(",")
    if "evaluation" in parts:
        evaluation_part(args, data)
    if "distill" in parts:
        distill_part(args, data)


if __name__ == "__main__":
    main()
