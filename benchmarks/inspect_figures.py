"""The pictures of the inspection tools on the models that `faithfulness.py` measures, made with
the command line itself (each figure beside the JSON of what it did), under results/inspect/.

    python benchmarks/inspect_figures.py --data-root ../shared/data [--models runs/models]

Needs the models first (about 17 min each on 2 CPU cores, 5 epochs):
    datadistill train --dataset mnist --model convnet --out runs/models/mnist-convnet
    datadistill train --dataset cifar10 --model convnet --out runs/models/cifar10-convnet
    datadistill train --set-file benchmarks/results/dm/mnist-ipc10-it1000-cpu.safetensors \
        --model convnet --out runs/models/mnist-dm10
"""

from __future__ import annotations

import argparse
from pathlib import Path

from datadistill.cli.main import main as cli

METHODS = "saliency,smoothgrad,guided-backprop,gradcam,integrated-gradients,occlusion,fullgrad"


def jobs(models: Path, out: Path) -> list[list[str]]:
    mnist, cifar, dm = (str(models / n) for n in ("mnist-convnet", "cifar10-convnet", "mnist-dm10"))
    return [
        ["explain", mnist, "--method", METHODS, "--n", "5", "--out", f"{out}/mnist-explain.png"],
        ["explain", cifar, "--method", METHODS, "--n", "5", "--out", f"{out}/cifar10-explain.png"],
        [
            "explain",
            mnist,
            "--compare",
            dm,
            "--method",
            "smoothgrad,gradcam,occlusion",
            "--n",
            "6",
            "--out",
            f"{out}/mnist-full-vs-dm10.png",
        ],
        ["features", cifar, "--kind", "filters", "--out", f"{out}/cifar10-filters.png"],
        [
            "features",
            cifar,
            "--kind",
            "activations",
            "--layer",
            "features.2",
            "--out",
            f"{out}/cifar10-activations.png",
        ],
        [
            "features",
            cifar,
            "--kind",
            "top",
            "--layer",
            "features.10",
            "--channel",
            "7",
            "--n",
            "5000",
            "--out",
            f"{out}/cifar10-top-channel7.png",
        ],
        ["features", mnist, "--kind", "tsne", "--n", "1000", "--out", f"{out}/mnist-tsne.png"],
        [
            "features",
            cifar,
            "--kind",
            "neighbours",
            "--n",
            "4",
            "--k",
            "5",
            "--out",
            f"{out}/cifar10-neighbours.png",
        ],
        [
            "maximize",
            mnist,
            "--objective",
            "probability:3",
            "--batch",
            "4",
            "--set",
            "diversity=1.0",
            "--out",
            f"{out}/mnist-maximize-3.png",
        ],
        [
            "maximize",
            cifar,
            "--objective",
            "channel:features.10:7",
            "--batch",
            "4",
            "--steps",
            "512",
            "--out",
            f"{out}/cifar10-maximize-channel7.png",
        ],
    ]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--models", type=Path, default=Path("runs/models"))
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results/inspect")
    p.add_argument("--only", default=None, help="comma-separated figure names to redo")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    root = ["--data-root", args.data_root] if args.data_root else []
    for argv in jobs(args.models, args.out):
        name = Path(argv[argv.index("--out") + 1]).stem
        if args.only and name not in args.only.split(","):
            continue
        if cli([*argv, *root]) != 0:
            raise SystemExit(f"failed: datadistill {' '.join(argv)}")


if __name__ == "__main__":
    main()
