"""The one training loop of the library, and the test pass.

``fit`` trains one model (SGD with momentum, the field's schedule); ``fit_batched`` trains R
copies at once by stacking their parameters and vmapping one functional model (one pass per step
instead of R, which is what a GPU wants); ``fit_as_distilled`` replays a set that carries learned
per-step learning rates. Every random choice comes from the generator handed in.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from datadistill.datasets.augmentation import Augmentation, NoAugmentation
from datadistill.datasets.tensorset import TensorSet
from datadistill.models.functional import (
    batched_forward,
    forward_in_chunks,
    has_batchnorm,
    inference_batch,
    stack_models,
)

Tick = Callable[[], None]


LOSSES = ("ce", "mse")


def _loss(
    logits: torch.Tensor, targets: torch.Tensor, kind: str = "ce", reduction: str = "mean"
) -> torch.Tensor:
    """``ce``: cross-entropy with hard (class index) or soft (distribution) targets; ``mse``:
    half the squared error summed over classes (regression on label vectors, as kernel methods'
    sets are trained). ``reduction``: mean or sum over the batch."""
    if kind == "mse":
        per_image = 0.5 * (logits - targets).square().sum(1)
        return per_image.mean() if reduction == "mean" else per_image.sum()
    return F.cross_entropy(logits, targets, reduction=reduction)


def _accumulate(
    model: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    chunk: int,
    loss: str = "ce",
) -> torch.Tensor:
    """Backward the batch's mean loss, in one pass or summed over chunks; returns the logits."""
    if chunk <= 0:
        logits = model(x)
        _loss(logits, y, loss).backward()
        return logits.detach()
    parts = []
    for i in range(0, len(x), chunk):
        logits = model(x[i : i + chunk])
        (_loss(logits, y[i : i + chunk], loss, "sum") / len(x)).backward()
        parts.append(logits.detach())
    return torch.cat(parts)


def _decay_epoch(epochs: int) -> int:
    return epochs // 2


def fit(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    batch_size: int,
    generator: torch.Generator,
    augmentation: Augmentation | None = None,
    tick: Tick | None = None,
    on_batch: Callable[[torch.Tensor, torch.Tensor], None] | None = None,
    lr_decay: bool = True,
    chunk: int = -1,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
    loss: str = "ce",
) -> nn.Module:
    """Train ``model`` in place on ``(images, labels)``; lr ×0.1 (fresh optimiser) at half time
    unless ``lr_decay=False`` (the inner loop of gradient matching trains at a constant rate).

    ``on_batch(indices, logits)`` sees every training batch (forgetting scores use it).
    ``chunk``: accumulate each batch's gradient over chunks of this many images (the same sum for
    networks without batch norm; faster on a CPU, where small activations stay in cache). -1: the
    device's ``inference_batch`` on a CPU for networks without batch norm, else off.
    ``forward``: a compiled forward pass of ``model`` to train through (the same parameters;
    the default chunk is then the compiled one's). ``loss``: ``ce`` or ``mse`` (see ``_loss``)."""
    if chunk < 0:
        cpu = images.device.type == "cpu"
        batch = inference_batch(images.device, compiled=forward is not None)
        chunk = batch if cpu and not has_batchnorm(model) else 0
    aug = augmentation or NoAugmentation()
    model.train()
    n = images.shape[0]
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    for epoch in range(epochs):
        if lr_decay and epoch == _decay_epoch(epochs) and epoch > 0:
            opt = torch.optim.SGD(
                model.parameters(), lr=lr * 0.1, momentum=momentum, weight_decay=weight_decay
            )
        perm = torch.randperm(n, generator=generator).to(images.device)
        for start in range(0, n, batch_size):
            ix = perm[start : start + batch_size]
            x = aug.apply(images[ix], aug.sample(len(ix), generator))
            opt.zero_grad(set_to_none=True)
            logits = _accumulate(
                forward or model, x, labels[ix], chunk if len(ix) > 2 * chunk else 0, loss
            )
            if on_batch:
                on_batch(ix, logits)
            opt.step()
        if tick:
            tick()
    return model


def fit_split(
    model: nn.Module,
    split: TensorSet,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    on_batch: Callable[[torch.Tensor, torch.Tensor], None] | None = None,
    progress: str | None = None,
) -> nn.Module:
    """Train on a whole split (e.g. the training set, for an embedder or forgetting scores) with
    the protocol's optimiser settings: SGD, momentum 0.9, weight decay 5e-4.

    ``progress``: the description of a progress bar (on stderr) that advances per batch, for
    trainings long enough to look stuck without one; ``None`` shows none. The bar draws nothing
    at random, so the result is the same either way."""
    bar = tqdm(
        total=epochs * math.ceil(len(split) / batch_size),
        desc=progress,
        unit="batch",
        leave=False,
        disable=progress is None,
    )

    def advance(ix: torch.Tensor, logits: torch.Tensor) -> None:
        if on_batch:
            on_batch(ix, logits)
        bar.update()

    with bar:
        return fit(
            model,
            split.images,
            split.labels,
            epochs=epochs,
            lr=lr,
            momentum=0.9,
            weight_decay=5e-4,
            batch_size=batch_size,
            generator=generator,
            on_batch=on_batch if progress is None else advance,
        )


def _runs_batches(
    params: Callable[[], Iterable[torch.Tensor]],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    batch_size: int,
    generators: list[torch.Generator],
    augmentation: Augmentation | None,
    tick: Tick | None,
) -> Iterator[tuple[torch.optim.Optimizer, list[torch.Tensor], list[torch.Tensor]]]:
    """The protocol's schedule for R runs trained together: yields ``(optimiser, xs, ys)`` per
    step, ``xs``/``ys`` the list of each run's augmented batch and labels as ``fit`` would draw
    them from its generator; SGD over ``params()`` (lr ×0.1 at half time, fresh optimiser)."""
    aug = augmentation or NoAugmentation()
    n = images.shape[0]

    def make_opt(rate: float) -> torch.optim.Optimizer:
        return torch.optim.SGD(params(), lr=rate, momentum=momentum, weight_decay=weight_decay)

    opt = make_opt(lr)
    for epoch in range(epochs):
        if epoch == _decay_epoch(epochs) and epoch > 0:
            opt = make_opt(lr * 0.1)
        perms = [torch.randperm(n, generator=g).to(images.device) for g in generators]
        for start in range(0, n, batch_size):
            ixs = [p[start : start + batch_size] for p in perms]
            xs = [
                aug.apply(images[ix], aug.sample(len(ix), g))
                for ix, g in zip(ixs, generators, strict=True)
            ]
            yield opt, xs, [labels[ix] for ix in ixs]
        if tick:
            tick()


def fit_batched(
    models: list[nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    batch_size: int,
    generators: list[torch.Generator],
    augmentation: Augmentation | None = None,
    tick: Tick | None = None,
    loss: str = "ce",
) -> list[nn.Module]:
    """Train R models (same architecture, no batch norm) together: same maths as R ``fit`` calls.

    Parameters are stacked along a new leading axis and one functional model is vmapped over it;
    each run keeps its own generator, so its batches and augmentations are those ``fit`` would
    draw. SGD acts elementwise, so one optimiser over the stacked tensors is R optimisers.
    """
    r = len(models)
    base = copy.deepcopy(models[0]).to("meta")
    params, buffers = stack_models(models)
    schedule = _runs_batches(
        params.values, images, labels, epochs=epochs, lr=lr, momentum=momentum,
        weight_decay=weight_decay, batch_size=batch_size, generators=generators,
        augmentation=augmentation, tick=tick,
    )  # fmt: skip
    for opt, xs, ys in schedule:
        logits = batched_forward(base, params, buffers, torch.stack(xs))
        total = _loss(logits.flatten(0, 1), torch.stack(ys).flatten(0, 1), loss) * r
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
    with torch.no_grad():
        for i, m in enumerate(models):
            for name, p in m.named_parameters():
                p.copy_(params[name][i])
    return models


def fit_grouped(
    models: list[nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    momentum: float,
    weight_decay: float,
    batch_size: int,
    generators: list[torch.Generator],
    augmentation: Augmentation | None = None,
    tick: Tick | None = None,
    chunk: int = -1,
    loss: str = "ce",
) -> list[nn.Module]:
    """Train R ConvNets (``grouped.groupable``) as one network of grouped convolutions, the CPU
    counterpart of ``fit_batched``: each run draws its batches and augmentations from its own
    generator as ``fit`` would, and gets the same updates (SGD acts elementwise)."""
    from datadistill.evaluation.grouped import GroupedConvNet

    if loss != "ce":
        raise ValueError(f"fit_grouped trains on cross-entropy only, not {loss!r}")
    net = GroupedConvNet(models).to(images.device)
    net.train()
    if chunk < 0:
        chunk = inference_batch(images.device) if images.device.type == "cpu" else 0
    schedule = _runs_batches(
        net.parameters, images, labels, epochs=epochs, lr=lr, momentum=momentum,
        weight_decay=weight_decay, batch_size=batch_size, generators=generators,
        augmentation=augmentation, tick=tick,
    )  # fmt: skip
    for opt, xs, ys in schedule:
        x, y = torch.cat(xs, dim=1), torch.stack(ys, dim=1)  # run r's images: its channel slice
        opt.zero_grad(set_to_none=True)
        step = chunk if len(x) > 2 * chunk > 0 else len(x)
        for i in range(0, len(x), step):  # each run's mean loss, summed over the runs
            logits = net(x[i : i + step]).flatten(0, 1)
            (_loss(logits, y[i : i + step].flatten(0, 1), loss, "sum") / len(x)).backward()
        opt.step()
    net.write_back(models)
    return models


def fit_as_distilled(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    lrs: torch.Tensor,
    steps: int,
    init: dict[str, torch.Tensor] | None = None,
) -> nn.Module:
    """Replay a set with learned learning rates: plain gradient descent, step ``i`` on the ``i mod
    steps``-th batch of images with rate ``lrs[i]`` (DD's schedule of steps × epochs), starting
    from ``init`` when the set is tied to a fixed initialisation."""
    if init:
        names = {n for n, _ in model.named_parameters()}
        if names != set(init):
            raise ValueError(
                "the set's initialisation does not fit the model: "
                f"missing {sorted(names - set(init))}, unexpected {sorted(set(init) - names)}"
            )
        model.load_state_dict(init, strict=False)  # parameters only; buffers keep their values
    model.train()
    chunks_x, chunks_y = images.chunk(steps), labels.chunk(steps)
    params = [p for p in model.parameters() if p.requires_grad]
    for i, rate in enumerate(lrs.tolist()):
        loss = _loss(model(chunks_x[i % steps]), chunks_y[i % steps])
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads, strict=True):
                p.sub_(rate * g)
    return model


def accuracy(
    model: nn.Module,
    data: TensorSet,
    batch_size: int = 0,
    forward: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> float:
    """Top-1 accuracy (percent) of ``model`` on ``data``, in eval mode (``batch_size=0``: the
    device's ``inference_batch``). ``forward``: a compiled forward pass of ``model``; its chunks
    all have one shape (the last one padded), so one graph serves the whole pass."""
    model.eval()
    fn = forward or model
    batch = batch_size or inference_batch(data.images.device, compiled=forward is not None)
    predicted = forward_in_chunks(
        lambda x: fn(x).argmax(1), data.images, batch, pad=forward is not None
    )
    return 100.0 * int((predicted == data.labels).sum()) / max(len(data), 1)
