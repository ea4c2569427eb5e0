"""The outer loop shared by methods that learn images by gradient steps (DM, DC, DSA, ...):
SGD on the images, checkpoints that resume bit-for-bit, and a progress bar with the loss.

A subclass only defines ``loss(data, images, labels, generator)`` for one outer iteration. Every
random draw comes from the method's generator, whose state is saved with each checkpoint, so a
resumed run ends identical to an uninterrupted one on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.base import DistillationMethod, InitConfig
from datadistill.synset import SetFileError, SyntheticSet


@dataclass
class IterativeConfig(InitConfig):
    iterations: int = 1000
    lr_img: float = 1.0
    momentum: float = 0.5
    checkpoint_every: int = 100


class IterativeDistillation(DistillationMethod):
    """Learns ``images`` (labels fixed) with SGD on ``loss``; checkpoints to ``self.checkpoint``."""

    def loss(
        self,
        data: DataSplits,
        images: torch.Tensor,
        labels: torch.Tensor,
        ipc: int,
        generator: torch.Generator,
    ) -> torch.Tensor:
        """The objective of one outer iteration (gradients flow to ``images``); methods with
        inner loops override ``step`` instead."""
        raise NotImplementedError(f"{type(self).__name__} defines neither loss() nor step()")

    def lr_img(self, ipc: int) -> float:
        return self.config.lr_img

    def step(
        self,
        data: DataSplits,
        images: torch.Tensor,
        labels: torch.Tensor,
        ipc: int,
        generator: torch.Generator,
        opt: torch.optim.Optimizer,
    ) -> float:
        """One outer iteration: one SGD step on ``loss``. Methods with inner loops override it."""
        opt.zero_grad(set_to_none=True)
        loss = self.loss(data, images, labels, ipc, generator)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        cfg = self.config
        start = self.initial_set(data, ipc, generator)
        images = start.images.detach().clone().requires_grad_(True)
        labels = start.labels
        opt = torch.optim.SGD([images], lr=self.lr_img(ipc), momentum=cfg.momentum)
        first = self._resume(images, opt, generator, ipc)
        bar = tqdm(
            range(first, cfg.iterations),
            desc=type(self).__name__,
            disable=not progress,
            leave=False,
        )
        loss_value = float("nan")
        for it in bar:
            loss_value = self.step(data, images, labels, ipc, generator, opt)
            bar.set_postfix(loss=f"{loss_value:.4g}")
            if self.checkpoint is not None and (it + 1) % cfg.checkpoint_every == 0:
                self._save(images, opt, generator, ipc, it + 1)
        out = SyntheticSet(images.detach(), labels, data.info, type(self).__name__)
        out.meta["final_loss"] = loss_value
        return out

    def _state_key(self, ipc: int) -> dict[str, Any]:
        return {"method": type(self).__name__, "ipc": ipc, "config": asdict(self.config)}

    def _save(
        self,
        images: torch.Tensor,
        opt: torch.optim.Optimizer,
        generator: torch.Generator,
        ipc: int,
        it: int,
    ) -> None:
        path = Path(self.checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "key": repr(self._state_key(ipc)),
            "iteration": it,
            "images": images.detach().cpu(),
            "optimizer": opt.state_dict(),
            "generator": generator.get_state(),
        }
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, path)

    def _resume(
        self, images: torch.Tensor, opt: torch.optim.Optimizer, generator: torch.Generator, ipc: int
    ) -> int:
        if self.checkpoint is None or not Path(self.checkpoint).is_file():
            return 0
        path = Path(self.checkpoint)
        try:
            state = torch.load(path, map_location=images.device, weights_only=True)
            key, it = state["key"], int(state["iteration"])
        except Exception as e:
            raise SetFileError(
                f"{path}: not a readable checkpoint ({type(e).__name__}: {e})"
            ) from None
        if key != repr(self._state_key(ipc)):
            raise SetFileError(
                f"{path}: checkpoint of a different run (method, ipc or settings differ)"
            )
        with torch.no_grad():
            images.copy_(state["images"])
        opt.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"].cpu())
        return it
