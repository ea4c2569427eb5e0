"""What a network has learned, as numbers: its first-layer filters, the images that excite a
channel most, its penultimate features, their t-SNE map and nearest neighbours in feature and
pixel space. The figures that show them are in ``datadistill.inspect.figures``.

Every function takes a model file, a ``TrainedModel`` or any ``torch.nn.Module`` (put in eval
mode), runs it without gradients, in batches, on the device of its parameters, and returns CPU
tensors.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from datadistill.inspect.layers import LayerNotFoundError, activations, conv_layers, layer_of
from datadistill.inspect.modelfile import TrainedModel, as_module

ModelLike = nn.Module | TrainedModel | str | os.PathLike[str]


def device_of(model: nn.Module) -> torch.device:
    """Where the model's parameters live (the CPU for a model without any)."""
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def check_images(model: nn.Module, images: torch.Tensor, what: str = "images") -> torch.Tensor:
    """``images`` as a float ``(N, C, H, W)`` batch (one ``(C, H, W)`` image becomes a batch of
    one), with as many channels as the model's first convolution takes; else one-line error."""
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{what} must be a tensor (N, C, H, W), got {type(images).__name__}")
    if images.ndim == 3:
        images = images.unsqueeze(0)
    if images.ndim != 4 or images.shape[0] == 0:
        raise ValueError(
            f"{what} must be a non-empty (N, C, H, W) tensor, got {tuple(images.shape)}"
        )
    convs = conv_layers(model)
    if convs:
        wanted = layer_of(model, convs[0]).in_channels
        if images.shape[1] != wanted:
            raise ValueError(
                f"{what} have {images.shape[1]} channels, {type(model).__name__} takes {wanted}: "
                f"got shape {tuple(images.shape)}"
            )
    return images.float()


def _batches(images: torch.Tensor, batch: int) -> list[torch.Tensor]:
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    return list(images.split(batch))


def run_checked(
    model: nn.Module, fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor
) -> torch.Tensor:
    """``fn(x)`` on the model's device; a shape mismatch inside becomes a one-line ValueError."""
    try:
        return fn(x.to(device_of(model)))
    except torch.OutOfMemoryError:
        raise
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ValueError(
            f"images of shape {tuple(x.shape[1:])} do not fit {type(model).__name__}: {first}"
        ) from None


def first_layer_filters(model: ModelLike) -> torch.Tensor:
    """The weights ``(out, in, kh, kw)`` of the model's first Conv2d, a detached CPU copy."""
    net = as_module(model)
    convs = conv_layers(net)
    if not convs:
        raise LayerNotFoundError(f"{type(net).__name__} has no Conv2d layer")
    return layer_of(net, convs[0]).weight.detach().cpu().clone()


def conv_filters(model: ModelLike, layer: str | None = None) -> torch.Tensor:
    """The weights of conv ``layer`` (by default the first), or a ``ValueError`` when it is not a
    Conv2d."""
    net = as_module(model)
    if layer is None:
        return first_layer_filters(net)
    module = layer_of(net, layer)
    if not isinstance(module, nn.Conv2d):
        raise ValueError(f"layer {layer!r} is a {type(module).__name__}, not a Conv2d")
    return module.weight.detach().cpu().clone()


def channel_count(output: torch.Tensor, layer: str) -> int:
    """The number of channels (units for a linear layer) of a layer's ``(N, C, ...)`` output."""
    if not isinstance(output, torch.Tensor) or output.ndim < 2:
        raise ValueError(f"layer {layer!r} gives no (N, C, ...) tensor to read channels from")
    return int(output.shape[1])


def check_channel(channel: int, count: int, layer: str) -> None:
    """A one-line ``ValueError`` unless ``0 <= channel < count``."""
    if not 0 <= channel < count:
        raise ValueError(
            f"channel {channel} is out of range: layer {layer!r} has {count} channels (0-{count - 1})"
        )


def top_images(
    model: ModelLike,
    layer: str,
    channel: int,
    images: torch.Tensor,
    k: int = 9,
    batch: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and scores of the ``k`` images that excite ``channel`` of ``layer`` most, highest
    first; an image's score is the channel's mean activation over space (a linear layer's unit)."""
    net = as_module(model)
    layer_of(net, layer)
    images = check_images(net, images)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    scores = []
    for xb in _batches(images, batch):
        out = run_checked(net, lambda x: activations(net, layer, x), xb)
        check_channel(channel, channel_count(out, layer), layer)
        unit = out[:, channel]
        scores.append((unit.flatten(1).mean(1) if unit.ndim > 1 else unit).float().cpu())
    all_scores = torch.cat(scores)
    top = all_scores.topk(min(k, len(all_scores)))
    return top.indices, top.values


def _last_linear(model: nn.Module) -> nn.Linear:
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise LayerNotFoundError(f"{type(model).__name__} has no embed() and no Linear layer")
    return linears[-1]


def embed_features(model: ModelLike, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """Penultimate features ``(N, D)``: ``model.embed`` where the model has one, else the flattened
    input of its last Linear layer (read with a hook)."""
    net = as_module(model)
    images = check_images(net, images)
    embed = getattr(net, "embed", None)
    seen: dict[str, torch.Tensor] = {}

    def through_last_linear(x: torch.Tensor) -> torch.Tensor:
        net(x)
        return seen["x"]

    handle = None
    if not callable(embed):
        handle = _last_linear(net).register_forward_pre_hook(
            lambda _m, args: seen.__setitem__("x", args[0])
        )
    try:
        with torch.no_grad():
            fn = embed if callable(embed) else through_last_linear
            parts = [
                run_checked(net, fn, xb).flatten(1).float().cpu() for xb in _batches(images, batch)
            ]
    finally:
        if handle is not None:
            handle.remove()
    return torch.cat(parts)


def tsne(
    features: torch.Tensor | np.ndarray, seed: int = 0, perplexity: float = 30
) -> torch.Tensor:
    """A 2-D t-SNE map ``(N, 2)`` of ``(N, D)`` features (scikit-learn, PCA start, seeded);
    the perplexity is clipped below N, as t-SNE requires."""
    from sklearn.manifold import TSNE

    x = features.detach().float().cpu().numpy() if isinstance(features, torch.Tensor) else features
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    if len(x) < 2:
        raise ValueError(f"t-SNE needs at least 2 points, got {len(x)}")
    init = "pca" if min(x.shape) >= 2 else "random"
    mapped = TSNE(
        n_components=2,
        perplexity=float(min(perplexity, len(x) - 1)),
        init=init,
        learning_rate="auto",
        random_state=seed,
    ).fit_transform(x)
    return torch.from_numpy(np.asarray(mapped, dtype=np.float32))


def neighbours(
    model: ModelLike, query: torch.Tensor, pool: torch.Tensor, k: int = 5
) -> dict[str, torch.Tensor]:
    """The ``k`` nearest ``pool`` images of each query, in the model's feature space and in pixel
    space (Euclidean): ``feature``/``pixel`` indices ``(Q, k)``, nearest first, with their
    ``feature_distance``/``pixel_distance``."""
    from sklearn.neighbors import NearestNeighbors

    net = as_module(model)
    query = check_images(net, query, "query images")
    pool = check_images(net, pool, "pool images")
    if query.shape[1:] != pool.shape[1:]:
        raise ValueError(
            f"query images {tuple(query.shape[1:])} and pool images {tuple(pool.shape[1:])} differ"
        )
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    k = min(k, len(pool))
    spaces = {
        "feature": (embed_features(net, query), embed_features(net, pool)),
        "pixel": (query.flatten(1).cpu(), pool.flatten(1).cpu()),
    }
    found: dict[str, torch.Tensor] = {}
    for space, (q, p) in spaces.items():
        index = NearestNeighbors(n_neighbors=k).fit(p.double().numpy())
        dist, idx = index.kneighbors(q.double().numpy())
        found[space] = torch.from_numpy(idx).long()
        found[f"{space}_distance"] = torch.from_numpy(dist).float()
    return found
