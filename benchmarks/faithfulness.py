"""How faithful each attribution method is, on trained models: the deletion curve (remove the
most-attributed pixels first and watch the class probability fall; area under the curve, beside
the same curve in a random order) and the model-randomisation sanity check (Adebayo et al. 2018:
re-initialise the top layers, rank-correlate the maps before and after); plus seconds per image.

    python benchmarks/faithfulness.py --model runs/models/mnist-convnet --data-root ../shared/data

A method whose deletion AUC is not below random order's, or whose maps keep a rank correlation
above 0.5 after randomisation, is flagged in the record (and the table), not hidden.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill.inspect import load_model
from datadistill.inspect.attribution import EXPLAINERS, explain
from datadistill.report.records import append_record, device_name
from datadistill.synset import git_commit

STEPS = 20  # deletion fractions 0, 1/20, ..., 1


def deletion_auc(
    model: torch.nn.Module, images: torch.Tensor, target: torch.Tensor, order: torch.Tensor
) -> float:
    """Mean over images of the area under p(target) as pixels are set to 0 (the data mean in the
    normalised space) in ``order`` (per image, pixel indices, most important first)."""
    n, c, h, w = images.shape
    probs = []
    for step in range(STEPS + 1):
        k = round(step / STEPS * h * w)
        mask = torch.ones(n, h * w)
        mask.scatter_(1, order[:, :k], 0.0)
        x = images * mask.view(n, 1, h, w)
        with torch.no_grad():
            p = model(x).softmax(1).gather(1, target[:, None]).squeeze(1)
        probs.append(p)
    curve = torch.stack(probs, 1)  # (n, STEPS + 1)
    return float(torch.trapezoid(curve, dx=1 / STEPS, dim=1).mean())


def ranks(x: torch.Tensor) -> torch.Tensor:
    return x.argsort(1).argsort(1).float()


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean over images of the rank correlation of two (n, pixels) maps."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    r = (ra * rb).sum(1) / (ra.norm(dim=1) * rb.norm(dim=1)).clamp_min(1e-12)
    return float(r.mean())


def randomised_top(model: torch.nn.Module, layers: int, seed: int) -> torch.nn.Module:
    """A copy whose last ``layers`` conv/linear layers are re-initialised (Adebayo et al.)."""
    import copy

    clone = copy.deepcopy(model)
    torch.manual_seed(seed)
    weighted = [m for m in clone.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    for m in weighted[-layers:]:
        m.reset_parameters()
    return clone.eval()


def pixel_scores(maps: torch.Tensor) -> torch.Tensor:
    return maps.abs().sum(1).flatten(1)  # (n, H*W)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="a model folder written by datadistill train")
    p.add_argument("--data-root", default=None)
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--methods", default=None, help="comma-separated (default: every method)")
    p.add_argument("--randomise-layers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    here = Path(__file__).resolve().parent
    p.add_argument("--out", default=str(here / "results/faithfulness-cpu.json"))
    args = p.parse_args()

    trained = load_model(args.model)
    model = trained.model
    data = dd.load_dataset(trained.info.name, args.data_root)
    g = torch.Generator().manual_seed(args.seed)
    pick = torch.randperm(len(data.test), generator=g)[: args.images]
    images = data.test.images[pick]
    with torch.no_grad():
        target = model(images).argmax(1)
    n, _, h, w = images.shape
    random_order = torch.stack([torch.randperm(h * w, generator=g) for _ in range(n)])
    random_auc = deletion_auc(model, images, target, random_order)
    randomised = randomised_top(model, args.randomise_layers, args.seed)
    importance = [m for m in EXPLAINERS.names() if EXPLAINERS.get(m).importance]
    methods = args.methods.split(",") if args.methods else importance
    for method in methods:
        start = time.perf_counter()
        maps = explain(model, images, method, target=target)
        seconds = (time.perf_counter() - start) / n
        scores = pixel_scores(maps)
        auc = deletion_auc(model, images, target, scores.argsort(1, descending=True))
        after = pixel_scores(explain(randomised, images, method, target=target))
        rho = spearman(scores, after)
        flags = [
            f
            for f, bad in (
                ("no better than random order", auc >= random_auc),
                ("survives randomisation", rho > 0.5),
            )
            if bad
        ]
        row = {
            "benchmark": "faithfulness",
            "dataset": trained.info.name,
            "model": trained.architecture,
            "model_test_accuracy": trained.meta.get("test_accuracy"),
            "method": method,
            "images": n,
            "deletion_auc": round(auc, 4),
            "random_order_auc": round(random_auc, 4),
            "randomisation_spearman": round(rho, 4),
            "randomised_layers": args.randomise_layers,
            "seconds_per_image": round(seconds, 4),
            "flags": flags,
            "device": device_name("cpu"),
            "torch": torch.__version__,
            "commit": git_commit(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        append_record(args.out, row)
        print(
            f"{trained.info.name} {method:<22} AUC {auc:.3f} (random {random_auc:.3f})"
            f"  rho {rho:+.3f}  {seconds * 1000:.1f} ms/img  {'; '.join(flags)}"
        )


if __name__ == "__main__":
    main()
