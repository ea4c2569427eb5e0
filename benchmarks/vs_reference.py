"""Side by side with the reference code, in one process: its ``evaluate_synset`` and ours on the
same MNIST sets, alternating, and its DC / DM seconds per iteration (``main.py`` /
``main_DM.py``) against ours. ``speedup`` in a record is the reference's seconds ÷ ours.

    git clone https://github.com/VICO-UoE/DatasetCondensation /tmp/dc-reference
    python benchmarks/vs_reference.py --reference /tmp/dc-reference --data-root ../shared/data

Nothing of the reference is in this project: the script copies the user's checkout to a temporary
folder and there makes the one change it needs under torch 2 (``.view(`` → ``.reshape(`` in
``networks.py``). Its evaluation gets our test tensors through its own loop; its ``main.py`` and
``main_DM.py`` run as they are (``runpy``) on MNIST files unpacked to a temporary torchvision
root, with ``evaluate_synset`` replaced by a no-op so that only the distillation loop runs; the
seconds per iteration are the gaps between its calls of ``get_network`` (one per iteration).

Run it alone on the machine: other processes change both sides' seconds. Parts: ``eval`` (sets of
10 images with DC augmentation and 100 with DSA, 1,000 epochs each, ``--runs`` models per side)
and ``iterations`` (DC IPC 1, DM IPC 10).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib
import io
import itertools
import runpy
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import torch

import datadistill as dd
from datadistill.report import append_record, make_record
from datadistill.settings import make_config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from cpu_floor import eval_flops, matmul_gflops  # noqa: E402

EVAL_SETS = {"dc": 1, "dsa": 10}  # augmentation → images per class (10 and 100 images)
DSA_STRATEGY = "color_crop_cutout_flip_scale_rotate"
# what this script calls in the reference's utils.py (checked before any timing)
REFERENCE_NAMES = ("evaluate_synset", "get_network", "get_daparam", "ParamDiffAug", "TensorDataset")
ITERATION_RUNS = {
    "dc": ("main.py", 1, ["--method", "DC", "--init", "noise"]),
    "dm": (
        "main_DM.py",
        10,
        ["--init", "real", "--lr_img", "1", "--dsa_strategy", DSA_STRATEGY],
    ),
}


def reference_copy(checkout: Path, into: Path) -> Path:
    """The checkout's Python files in ``into``, ``networks.py`` made to run under torch 2."""
    into.mkdir(parents=True)
    for name in ("utils.py", "networks.py", "main.py", "main_DM.py"):
        if not (checkout / name).is_file():
            raise SystemExit(f"error: {checkout} has no {name}: not a DatasetCondensation checkout")
        shutil.copy(checkout / name, into / name)
    net = into / "networks.py"
    net.write_text(net.read_text().replace(".view(", ".reshape("))
    return into


def torchvision_root(data_root: Path, into: Path) -> Path:
    """MNIST's four files unpacked under ``into/MNIST/raw`` (torchvision's layout)."""
    raw = into / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (data_root / "MNIST" / "raw").glob("*.gz"):
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    return into


def parse_variant(variant: str) -> dict[str, str]:
    """``amp=bf16+compile=true`` → ``{"amp": "bf16", "compile": "true"}``; ``default`` → {}."""
    return dict(kv.split("=", 1) for kv in variant.split("+") if kv != "default")


def eval_config(variant: str, **kw) -> dd.EvalConfig:
    """One ConvNet run on the protocol with ``variant``'s settings (typed as the CLI types them)."""
    values = {"models": ["convnet"], "runs": 1, **kw, **parse_variant(variant)}
    return make_config(dd.EvalConfig, values, f"variant {variant}")


def eval_part(args: argparse.Namespace, ref, data: dd.DataSplits, out: Path, rate: float) -> None:
    """Each set: ``--runs`` rounds; in each, the reference and every variant of ours train one
    model (the order rotates). A variant that compiles does so once, untimed, before the rounds
    (``compile_seconds`` in its record: what a process pays once per architecture)."""
    utils = ref["utils"]
    test = torch.utils.data.DataLoader(
        utils.TensorDataset(data.test.images, data.test.labels), batch_size=256, shuffle=False
    )
    variants = args.eval_variants.split(",")
    for augment in args.sets.split(","):
        ipc = EVAL_SETS[augment]
        synset = dd.distill(data, "random", ipc, seed=0, progress=False)
        n = len(synset.images)
        ref_args = SimpleNamespace(
            device="cpu",
            lr_net=0.01,
            epoch_eval_train=args.epochs,
            batch_train=256,
            dsa=augment == "dsa",
            dsa_strategy=DSA_STRATEGY,
            dsa_param=utils.ParamDiffAug(),
            dc_aug_param=utils.get_daparam("MNIST", "ConvNet", "ConvNet", ipc),
        )
        compile_seconds = {}
        for v in variants:
            warm_up = eval_config(v, epochs=1, augment=augment)
            if warm_up.compile:
                start = time.perf_counter()
                dd.evaluate(synset, data, warm_up, progress=False)
                compile_seconds[v] = time.perf_counter() - start
        sides = ["reference", *variants]
        seconds: dict[str, list[float]] = {side: [] for side in sides}
        accs: dict[str, list[float]] = {side: [] for side in sides}
        for run in range(args.runs):
            for side in sides[run % len(sides) :] + sides[: run % len(sides)]:
                torch.manual_seed(run)
                start = time.perf_counter()
                if side == "reference":
                    net = utils.get_network("ConvNet", 1, 10, (28, 28))
                    with contextlib.redirect_stdout(io.StringIO()):
                        _, _, acc = utils.evaluate_synset(
                            run, net, synset.images.clone(), synset.labels.clone(), test, ref_args
                        )
                    acc *= 100
                else:
                    cfg = eval_config(side, epochs=args.epochs, augment=augment, seed=run)
                    acc = dd.evaluate(synset, data, cfg, progress=False).results["convnet"].accs[0]
                seconds[side].append(time.perf_counter() - start)
                accs[side].append(acc)
                print(
                    f"eval {augment} {n} images run {run} {side}: {seconds[side][-1]:.1f} s, {acc:.2f}"
                )
        work = eval_flops(data.info, n, args.epochs, len(data.test))
        for v in variants:
            ratios = [r / o for r, o in zip(seconds["reference"], seconds[v], strict=True)]
            row = make_record(
                "vs-reference",
                "mnist",
                "evaluate",
                ipc,
                None,
                "cpu",
                part="eval",
                augment=augment,
                images=n,
                eval_epochs=args.epochs,
                runs=args.runs,
                ours_settings=parse_variant(v),
                compile_seconds=round(compile_seconds[v], 1) if v in compile_seconds else None,
                reference_seconds=[round(s, 2) for s in seconds["reference"]],
                ours_seconds=[round(s, 2) for s in seconds[v]],
                speedup_per_run=[round(r, 3) for r in ratios],
                speedup=round(statistics.mean(ratios), 3),
                reference_accs=[round(a, 2) for a in accs["reference"]],
                ours_accs=[round(a, 2) for a in accs[v]],
                tflop_per_model=round(work / 1e12, 3),
                ours_gflops=round(work / statistics.mean(seconds[v]) / 1e9, 1),
                reference_gflops=round(work / statistics.mean(seconds["reference"]) / 1e9, 1),
                matmul_gflops=round(rate, 1),
                threads=torch.get_num_threads(),
                targets="speedup ≥ 2; ours_gflops ≥ 0.8 × matmul_gflops (issue 25)",
            )
            append_record(out, row)
            print(f"eval {augment} {n} images {v}: speedup {row['speedup']:.2f}×")


def reference_seconds_per_iteration(
    ref: dict, script: str, ipc: int, extra: list[str], iterations: int, root: Path, tmp: Path
) -> float:
    """Run the reference's ``script`` for ``iterations`` with evaluation replaced by a no-op;
    the median gap between its per-iteration ``get_network`` calls."""
    utils = ref["utils"]
    calls: list[float] = []
    real_get_network, real_evaluate = utils.get_network, utils.evaluate_synset

    def get_network(*a, **k):
        calls.append(time.perf_counter())
        return real_get_network(*a, **k)

    utils.get_network = get_network
    utils.evaluate_synset = lambda it, net, *a, **k: (net, 0.0, 0.0)
    argv = [script, "--dataset", "MNIST", "--model", "ConvNet", "--ipc", str(ipc)]
    argv += ["--Iteration", str(iterations), "--num_exp", "1", "--num_eval", "1"]
    argv += ["--eval_mode", "SS", "--data_path", str(root), "--save_path", str(tmp / "save")]
    old_argv = sys.argv
    sys.argv = argv + extra
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(str(ref["dir"] / script), run_name="__main__")
    finally:
        sys.argv = old_argv
        utils.get_network, utils.evaluate_synset = real_get_network, real_evaluate
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    return statistics.median(gaps[1:-1] if len(gaps) > 2 else gaps)


def ours_seconds_per_iteration(
    data: dd.DataSplits, method: str, ipc: int, iterations: int, settings: dict
) -> float:
    """Seconds per iteration after one untimed iteration (it compiles with compile=true)."""
    dd.distill(data, method, ipc, {**settings, "iterations": 1}, seed=0, progress=False)
    start = time.perf_counter()
    dd.distill(data, method, ipc, {**settings, "iterations": iterations}, seed=0, progress=False)
    return (time.perf_counter() - start) / iterations


def iterations_part(
    args: argparse.Namespace, ref, data: dd.DataSplits, out: Path, root: Path, tmp: Path
) -> None:
    for method, (script, ipc, extra) in ITERATION_RUNS.items():
        its = args.iterations
        reference = reference_seconds_per_iteration(ref, script, ipc, extra, its, root, tmp)
        for variant in args.variants.split(","):
            settings = parse_variant(variant)
            ours = ours_seconds_per_iteration(data, method, ipc, its, settings)
            iteration_record(out, method, ipc, its, reference, ours, settings, script, extra)


def iteration_record(out, method, ipc, its, reference, ours, settings, script, extra) -> None:
    row = make_record(
        "vs-reference",
        "mnist",
        method,
        ipc,
        None,
        "cpu",
        part="iterations",
        iterations=its,
        reference_seconds_per_iteration=round(reference, 3),
        ours_seconds_per_iteration=round(ours, 3),
        speedup=round(reference / ours, 3),
        reference_script=f"{script} {' '.join(extra)}",
        ours_settings=settings,
        threads=torch.get_num_threads(),
        targets="speedup ≥ 2.0 (DC IPC 1), ≥ 2.2 (DM IPC 10) (issue 25)",
    )
    append_record(out, row)
    print(
        f"{method} ipc {ipc} {settings}: reference {reference:.2f} s, ours {ours:.2f} s/iteration"
    )


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--reference", required=True, type=Path, help="a DatasetCondensation checkout")
    p.add_argument("--data-root", default="../shared/data", type=Path)
    p.add_argument("--parts", default="eval,iterations")
    p.add_argument("--runs", type=int, default=5, help="models per side and set")
    p.add_argument("--epochs", type=int, default=1000)
    p.add_argument("--iterations", type=int, default=6, help="timed DC / DM iterations per side")
    p.add_argument("--sets", default="dc,dsa", help="evaluation sets: dc (10 images), dsa (100)")
    p.add_argument(
        "--eval-variants",
        default="default,amp=bf16+compile=true",
        help="our evaluation settings to time, comma-separated; key=value pairs joined by +",
    )
    p.add_argument(
        "--variants",
        default="default,compile=true,amp=bf16+compile=true",
        help="our DC / DM settings to time, comma-separated; key=value pairs joined by +",
    )
    p.add_argument("--out", default=str(HERE / "results" / "vs-reference-cpu.json"))
    args = p.parse_args()
    data = dd.load_dataset("mnist", args.data_root)
    out = Path(args.out)
    rate = matmul_gflops()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        code = reference_copy(args.reference.resolve(), (tmp / "code").resolve())
        sys.path.insert(0, str(code))
        ref = {"dir": code, "utils": importlib.import_module("utils")}
        missing = [n for n in REFERENCE_NAMES if not hasattr(ref["utils"], n)]
        if missing:
            raise SystemExit(
                f"error: {args.reference}/utils.py lacks {', '.join(missing)}: "
                "a DatasetCondensation checkout of another layout"
            )
        parts = args.parts.split(",")
        if "eval" in parts:
            eval_part(args, ref, data, out, rate)
        if "iterations" in parts:
            root = torchvision_root(args.data_root, tmp / "torchvision")
            iterations_part(args, ref, data, out, root, tmp)


if __name__ == "__main__":
    main()
