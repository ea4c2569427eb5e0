"""Images optimised pixel by pixel against a loss (texture synthesis, style transfer, feature
inversion): L-BFGS or Adam, pixels kept in [0, 1], and what came out as one ``Generated``."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from datadistill.atomic import write_atomically
from datadistill.generate.images import save_image
from datadistill.generate.weights import create_feature_net

OPTIMIZERS = ("lbfgs", "adam")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.1}  # steps in the logit of the pixels
EDGE = 1e-3  # initial pixels are kept this far inside (0, 1), where the sigmoid is invertible

Objective = Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]]


@dataclass
class Generated:
    """An image made by optimisation, with the losses it reached and how."""

    image: torch.Tensor  # (1, 3, H, W) in [0, 1]
    losses: dict[str, float]  # the final image's loss parts
    history: list[float]  # the total loss at every evaluation
    seconds: float
    evaluations: int  # forward + backward passes
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "losses": self.losses,
            "seconds": round(self.seconds, 3),
            "evaluations": self.evaluations,
            "history": [float(f"{v:.6g}") for v in self.history],
        }


def optimize_pixels(
    objective: Objective,
    init: torch.Tensor,
    steps: int,
    optimizer: str = "lbfgs",
    lr: float | None = None,
    progress: bool = True,
    desc: str = "optimise",
) -> Generated:
    """Minimise ``objective`` over the pixels of ``init`` for ``steps`` iterations."""
    from tqdm.auto import tqdm

    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}, got {optimizer!r}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    lr = DEFAULT_LR[optimizer] if lr is None else lr
    # pixels = sigmoid(z): always in [0, 1], so no step (nor a line search's trial) leaves the
    # range where the losses are of the image's scale
    p = init.detach().clamp(EDGE, 1 - EDGE)
    z = torch.log(p / (1 - p)).requires_grad_(True)
    history: list[float] = []
    start = time.perf_counter()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss, parts = objective(torch.sigmoid(z))
        loss.backward()
        history.append(parts["total"])
        return loss

    with tqdm(total=steps, desc=desc, disable=not progress, leave=False) as bar:
        if optimizer == "adam":
            opt: torch.optim.Optimizer = torch.optim.Adam([z], lr=lr)
            for _ in range(steps):
                opt.step(closure)
                bar.set_postfix(loss=f"{history[-1]:.4g}")
                bar.update()
        else:
            opt = torch.optim.LBFGS(
                [z], lr=lr, max_iter=steps, history_size=50, line_search_fn="strong_wolfe"
            )

            def counted() -> torch.Tensor:
                loss = closure()
                bar.n = opt.state[z].get("n_iter", 0)
                bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
                bar.refresh()
                return loss

            opt.param_groups[0]["max_eval"] = steps * 2
            opt.step(counted)
    with torch.no_grad():
        image = torch.sigmoid(z)
        _, final = objective(image)
    return Generated(image, final, history, time.perf_counter() - start, len(history))


def noise(shape: tuple[int, ...], seed: int, device: str | torch.device = "cpu") -> torch.Tensor:
    """Uniform white noise in [0, 1] from a CPU generator seeded with ``seed`` (the same noise
    on every device)."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)).to(device)


def feature_net_for(
    net: torch.nn.Module | None,
    weights: str,
    arch: str | None,
    pooling: str,
    device: str | torch.device = "cpu",
) -> Any:
    """``net`` when given (its settings win), else a new ``FeatureNet`` from the settings (the
    random network is always the one of seed 0: a fixed model; seeds vary the images)."""
    net = net if net is not None else create_feature_net(weights, arch, pooling)
    return net.to(device)


def net_settings(net: Any, weights: str) -> dict[str, Any]:
    return {"weights": weights, "arch": net.arch, "pooling": net.pooling}


def save_generated(result: Generated, path: str | os.PathLike[str]) -> Path:
    """The image as a PNG at ``path`` and, beside it, a JSON of what made it."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {path}")
    save_image(result.image, path)
    text = json.dumps(result.to_dict(), indent=2, default=str)
    write_atomically(path.with_suffix(".json"), lambda tmp: tmp.write_text(text))
    return path
