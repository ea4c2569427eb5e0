"""The outer loop shared by methods that learn images by gradient steps (DM, DC, DSA, ...):
SGD on the images, checkpoints that resume bit-for-bit, and a progress bar with the loss.

A subclass only defines ``loss(data, images, labels, generator)`` for one outer iteration. Every
random draw comes from the method's generator, whose state is saved with each checkpoint, so a
resumed run ends identical to an uninterrupted one on the CPU.
"""

from __future__ import annotations

import ast
import contextlib
import math
import os
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from datadistill.datasets.tensorset import DataSplits
from datadistill.distillation.base import DistillationMethod, InitConfig
from datadistill.distillation.distributed import class_share, is_main_process
from datadistill.models import create_seeded_model, draw_seed
from datadistill.models.compiled import compiled
from datadistill.report.sinks import log_scalars
from datadistill.settings import at_least, one_of, positive
from datadistill.synset import SetFileError, SyntheticSet


@dataclass
class IterativeConfig(InitConfig):
    iterations: int = 1000
    lr_img: float = 1.0
    momentum: float = 0.5
    checkpoint_every: int = 100
    eval_every: int = 0
    eval_model: str = "convnet"
    eval_epochs: int = 300
    keep: str = "last"
    amp: str = "none"  # "bf16": forward passes under bfloat16 autocast (for tensor-core GPUs)
    channels_last: bool = False  # networks and images in NHWC layout (faster convs on GPUs)
    compile: bool = False  # torch.compile real-data passes and DC's inner training (per arch.)
    # a run stops as diverged when a learned pixel leaves the real data's [min, max] by more than
    # this many times its width (0: only NaN and infinities stop it)
    divergence_range: float = 10.0

    def __post_init__(self) -> None:
        at_least(self, 1, "iterations", "checkpoint_every", "eval_epochs")
        at_least(self, 0, "eval_every", "momentum", "divergence_range")
        positive(self, "lr_img")
        one_of(self, "amp", ("none", "bf16"))
        if self.keep not in ("last", "best"):
            raise ValueError(
                f"keep must be 'last' or 'best' (on the validation split), got {self.keep!r}"
            )
        if self.keep == "best" and self.eval_every <= 0:
            raise ValueError(
                "keep='best' needs eval_every > 0 (validation accuracy picks the best)"
            )


class DivergenceError(ValueError):
    """A run whose loss or learned tensors became NaN or infinite, or whose images left the data's
    range by more than ``divergence_range``; raised at once, before the bad state is saved."""


class IterativeDistillation(DistillationMethod):
    """Learns ``images`` (labels fixed) with SGD on ``loss``; checkpoints to ``self.checkpoint``.

    With ``eval_every > 0`` the images are scored every that many iterations by training one
    ``eval_model`` on them and testing on the **validation** split (never the test split); the
    history goes into the set's metadata and ``keep="best"`` returns the best-scoring images.
    """

    # Settings that change how a run executes, not what it learns: a checkpoint may be resumed
    # with other values (a longer budget, another interval, a speed-up), as on another device.
    # whether each torchrun rank may learn a share of the classes (``distributed``): DM, DC, DSA
    splits_classes: bool = False
    execution_settings: tuple[str, ...] = (
        "iterations",
        "checkpoint_every",
        "amp",
        "channels_last",
        "compile",
    )

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

    def rate_setting(self, ipc: int) -> str:
        """The setting whose value ``lr_img`` returns (named when a run diverges)."""
        return "lr_img"

    def step(
        self,
        data: DataSplits,
        images: torch.Tensor,
        labels: torch.Tensor,
        ipc: int,
        generator: torch.Generator,
        opt: torch.optim.Optimizer,
    ) -> float:
        """One outer iteration: one SGD step on ``loss``. Methods with inner loops override it.
        A method that ``splits_classes`` has its per-rank gradients summed over the ranks of a
        torchrun before the step (``distributed``; nothing is exchanged in one process)."""
        opt.zero_grad(set_to_none=True)
        loss = self.loss(data, images, labels, ipc, generator)
        loss.backward()
        if self.splits_classes:
            value = class_share(data.info.num_classes).reduce(loss, opt)
        else:
            value = float(loss.detach())
        opt.step()
        return value

    def learned_extras(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """Tensors learned beside the images (learning rates, soft labels); saved with every
        checkpoint and handed to ``make_set``. Available to ``loss``/``step`` as ``self.extra``."""
        return {}

    def network(self, data: DataSplits, generator: torch.Generator) -> torch.nn.Module:
        """A fresh ``config.model`` seeded from ``generator``, in the configured memory layout
        (with channels-last weights every convolution runs in NHWC, whatever its input)."""
        device = data.train.images.device
        net = create_seeded_model(self.config.model, data.info, draw_seed(generator), device)
        return net.to(memory_format=torch.channels_last) if self.config.channels_last else net

    def forward_of(self, net: torch.nn.Module, method: str = "forward") -> Callable:
        """``getattr(net, method)``, compiled when ``compile`` is set (for the real-data passes and
        plain training, where the work is; the synthetic matching passes keep eager autograd for
        double backward)."""
        return compiled(net, method) if self.config.compile else getattr(net, method)

    def precision(self, device: torch.device) -> contextlib.AbstractContextManager:
        """The autocast context of one outer iteration (``amp``). Without autocast's weight cache:
        an iteration updates images and networks in place (DC's outer and inner loops), and a
        cached bfloat16 copy would keep the old values until the context ends."""
        if self.config.amp == "bf16":
            return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=False)
        return contextlib.nullcontext()

    def make_optimizer(self, params: list[torch.Tensor], ipc: int) -> torch.optim.Optimizer:
        """SGD with momentum on the images, as DC, DSA and DM do."""
        return torch.optim.SGD(params, lr=self.lr_img(ipc), momentum=self.config.momentum)

    def make_set(
        self, data: DataSplits, images: torch.Tensor, labels: torch.Tensor, extra: dict
    ) -> SyntheticSet:
        """The set the learned tensors describe (subclasses attach learning rates and the like)."""
        return SyntheticSet(images, labels, data.info, type(self).__name__, zca=data.zca)

    def run(
        self, data: DataSplits, ipc: int, generator: torch.Generator, progress: bool = True
    ) -> SyntheticSet:
        cfg = self.config
        self.history: list[list[float]] = []
        self.best: tuple[float, dict[str, torch.Tensor]] | None = None
        images, labels = self.prepare(data, ipc, generator)
        opt = self.make_optimizer([images, *self.extra.values()], ipc)
        first = self._resume(images, opt, generator, ipc)
        self.saved_at = first if self.checkpoint is not None and first else None
        bounds = self._image_bounds(data)
        self.rate = (self.rate_setting(ipc), self.lr_img(ipc))
        if first > cfg.iterations:
            raise ValueError(
                f"the checkpoint is at iteration {first}, past iterations={cfg.iterations}"
            )
        with tqdm(
            range(first, cfg.iterations),
            desc=type(self).__name__,
            disable=not progress,
            leave=False,
        ) as bar:  # closed (its line cleared) on an error too
            loss_value = float("nan")
            for it in bar:
                self.iteration = it
                with self.precision(images.device):
                    loss_value = self.step(data, images, labels, ipc, generator, opt)
                self._check_diverged(loss_value, images, bounds, it + 1)
                postfix = {"loss": f"{loss_value:.4g}"}
                scalars = {"loss": loss_value}  # for the current sink (``report.sinks``)
                if cfg.eval_every > 0 and (it + 1) % cfg.eval_every == 0:
                    acc = self._validate(data, images, labels, it + 1)
                    self.history.append([it + 1, acc])
                    scalars["val_accuracy"] = acc
                    if self.best is None or acc > self.best[0]:
                        self.best = (acc, self._snapshot(images))
                if self.history:
                    postfix["val"] = f"{self.history[-1][1]:.2f}"
                bar.set_postfix(postfix)
                log_scalars(it + 1, scalars)
                last = it + 1 == cfg.iterations  # a finished run can be continued or reused
                if self.checkpoint is not None and ((it + 1) % cfg.checkpoint_every == 0 or last):
                    self._save(images, opt, generator, ipc, it + 1)
                    self.saved_at = it + 1
        chosen = self._snapshot(images)
        if cfg.keep == "best" and self.best is not None:
            chosen = self.best[1]
        out = self._set_of(data, chosen, labels)
        out.meta["final_loss"] = loss_value
        if self.history:
            out.meta["val_history"] = self.history
        return out

    def _image_bounds(self, data: DataSplits) -> tuple[float, float] | None:
        """The range learned pixels may not leave: the real data's widened by
        ``divergence_range`` times its width on each side (None: no range check)."""
        if self.config.divergence_range <= 0:
            return None
        lo, hi = (float(v) for v in torch.aminmax(data.train.images))
        margin = self.config.divergence_range * max(hi - lo, 1e-6)
        return lo - margin, hi + margin

    def _check_diverged(
        self, loss: float, images: torch.Tensor, bounds: tuple[float, float] | None, it: int
    ) -> None:
        """Stop at once, naming the iteration and the setting to lower, when the loss or a learned
        tensor is not finite or the images leave ``bounds``; the checkpoint on disk is from before."""
        lo, hi = torch.aminmax(images.detach())
        finite = [torch.isfinite(t.detach()).all() for t in self.extra.values()]
        lo, hi, *finite = torch.stack([lo.float(), hi.float(), *finite]).tolist()
        problem = None
        if not math.isfinite(loss):
            problem = f"the loss is {loss}"
        elif not (math.isfinite(lo) and math.isfinite(hi)):
            problem = "the images hold NaN or infinite values"
        elif not all(finite):
            bad = [k for k, ok in zip(self.extra, finite, strict=True) if not ok]
            problem = f"the learned {', '.join(bad)} hold NaN or infinite values"
        elif bounds is not None and (lo < bounds[0] or hi > bounds[1]):
            problem = (
                f"the images reached [{lo:.3g}, {hi:.3g}], outside [{bounds[0]:.3g}, "
                f"{bounds[1]:.3g}] (divergence_range={self.config.divergence_range:g})"
            )
        if problem is None:
            return
        kept = (
            f"; the last good checkpoint, iteration {self.saved_at}, is kept in {self.checkpoint}"
            if self.saved_at
            else "; no checkpoint was saved"
        )
        raise DivergenceError(
            f"{type(self).__name__} diverged at iteration {it}: {problem}. Lower {self.rate[0]} "
            f"(now {self.rate[1]:g}){kept}; no set was saved"
        )

    def prepare(
        self, data: DataSplits, ipc: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The state at iteration 0: the images (a leaf, in the configured layout) and their
        labels; the learned extras go to ``self.extra``."""
        start = self.initial_set(data, ipc, generator)
        images = start.images.detach().clone()
        if self.config.channels_last and images.ndim == 4:
            images = images.contiguous(memory_format=torch.channels_last)
        self.extra = {
            k: v.detach().clone().requires_grad_(True)
            for k, v in self.learned_extras(data, ipc, generator).items()
        }
        return images.requires_grad_(True), start.labels

    def _snapshot(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        tensors = {"images": images, **self.extra}
        return {
            k: v.detach().clone(memory_format=torch.contiguous_format) for k, v in tensors.items()
        }

    def _set_of(
        self, data: DataSplits, snapshot: dict[str, torch.Tensor], labels: torch.Tensor
    ) -> SyntheticSet:
        extra = {k: v for k, v in snapshot.items() if k != "images"}
        return self.make_set(data, snapshot["images"], labels, extra)

    def _validate(
        self, data: DataSplits, images: torch.Tensor, labels: torch.Tensor, it: int
    ) -> float:
        """Accuracy (percent) of one network trained on the images, on the validation split."""
        from datadistill.evaluation import EvalConfig, evaluate

        cfg = self.config
        synset = self._set_of(data, self._snapshot(images), labels)
        check = EvalConfig(
            models=[cfg.eval_model], runs=1, epochs=cfg.eval_epochs, split="val", seed=it
        )
        return evaluate(synset, data, check, progress=False).results[cfg.eval_model].accs[0]

    def _state_key(self, ipc: int) -> dict[str, Any]:
        """What a checkpoint must agree on to be resumed: everything but the execution settings,
        so a finished run can be continued to more iterations."""
        config = asdict(self.config)
        for name in self.execution_settings:
            config.pop(name)
        return {"method": type(self).__name__, "ipc": ipc, "config": config}

    def _save(
        self,
        images: torch.Tensor,
        opt: torch.optim.Optimizer,
        generator: torch.Generator,
        ipc: int,
        it: int,
    ) -> None:
        if not is_main_process():  # under torchrun every rank holds the same state; rank 0 saves
            return
        path = Path(self.checkpoint)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "key": repr(self._state_key(ipc)),
            "iteration": it,
            "images": images.detach().cpu(),
            "extra": {k: v.detach().cpu() for k, v in self.extra.items()},
            "optimizer": opt.state_dict(),
            "generator": generator.get_state(),
            "history": self.history,
        }
        if self.best is not None:
            state["best_acc"] = self.best[0]
            state["best"] = {k: v.cpu() for k, v in self.best[1].items()}
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
        current = self._state_key(ipc)
        if key != repr(current):
            stored = _with_defaults(key, self.config, current)
            if stored != current:
                raise SetFileError(
                    f"{path}: checkpoint of a different run ({_key_difference(stored, current)})"
                )
        with torch.no_grad():
            images.copy_(state["images"])
            for k, v in state.get("extra", {}).items():
                self.extra[k].copy_(v)
        opt.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"].cpu())
        self.history = [list(h) for h in state.get("history", [])]
        if "best" in state:
            best = {k: v.to(images.device) for k, v in state["best"].items()}
            self.best = (float(state["best_acc"]), best)
        return it


def _with_defaults(stored: str, config: Any, current: dict[str, Any]) -> dict[str, Any] | None:
    """A checkpoint's key as a dict, a setting added since it was written taking its default
    (the run it saved used that behaviour); None when the key is not readable."""
    try:
        old = ast.literal_eval(stored)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(old, dict) or not isinstance(old.get("config"), dict):
        return None
    defaults = {f.name: f.default for f in fields(config) if f.default is not MISSING}
    added = {k: v for k, v in defaults.items() if k in current["config"]}
    return {**old, "config": {**added, **old["config"]}}


def _key_difference(old: dict[str, Any] | None, current: dict[str, Any]) -> str:
    """What differs between a checkpoint's key (read by ``_with_defaults``) and this run's, for
    the error message."""
    if old is None:
        return "method, ipc or settings differ"
    diffs = [
        f"{k}: {old.get(k)!r} there, {current[k]!r} here"
        for k in ("method", "ipc")
        if old.get(k) != current[k]
    ]
    before, now = old.get("config", {}), current["config"]
    for name in sorted(set(before) | set(now)):
        if name not in before:
            diffs.append(f"{name}: not a setting when it was written")
        elif name not in now:
            diffs.append(f"{name}: no longer a setting")
        elif before[name] != now[name]:
            diffs.append(f"{name}: {before[name]!r} there, {now[name]!r} here")
    return "; ".join(diffs) or "method, ipc or settings differ"
