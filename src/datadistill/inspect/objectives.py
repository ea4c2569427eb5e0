"""What activation maximisation maximises (Olah et al. 2017, "Feature Visualization"): one unit,
a channel's mean, a layer's energy (DeepDream), a class logit or probability, and weighted sums
of these. Each objective gives one value per image of a batch.

The string form, for the command line (no spaces needed, weights optional)::

    objective := ["-"] term (("+" | "-") term)*
    term      := [NUMBER "*"] kind ":" args
    neuron:LAYER:C[,Y,X]    one unit: LAYER[:, C, Y, X] (the centre when Y,X are left out), or
                            LAYER[:, C] for a layer with flat output (a linear layer)
    channel:LAYER:C         the mean of channel C of LAYER
    layer:LAYER             the mean of LAYER's output squared (DeepDream)
    logit:K                 the logit of class K
    probability:K           the softmax probability of class K

e.g. ``channel:features.8:12+0.5*logit:3`` or ``layer:features.4-1e-2*probability:7``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from datadistill.inspect.layers import layer_of

Activations = Mapping[str, Tensor]


class Objective:
    """A quantity to maximise: ``values`` maps recorded layer outputs and the network's logits to
    one value per image. Objectives add, subtract and scale: ``Channel(...) + 0.5 * Logit(3)``."""

    def layers(self) -> tuple[str, ...]:
        """The layers whose outputs ``values`` reads (recorded by forward hooks)."""
        return ()

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        """One value per image, shape ``(N,)``."""
        raise NotImplementedError

    def check(self, acts: Activations, logits: Tensor) -> None:
        """Raise a one-line ``ValueError`` for an index outside the layer's or logits' shape."""

    def terms(self) -> tuple[tuple[float, Objective], ...]:
        """The objective as (weight, single objective) pairs."""
        return ((1.0, self),)

    def __add__(self, other: Objective) -> WeightedSum:
        if not isinstance(other, Objective):
            return NotImplemented
        return WeightedSum(self.terms() + other.terms())

    def __sub__(self, other: Objective) -> WeightedSum:
        if not isinstance(other, Objective):
            return NotImplemented
        return self + (-1.0) * other

    def __mul__(self, weight: float) -> WeightedSum:
        if not isinstance(weight, (int, float)):
            return NotImplemented
        return WeightedSum(tuple((weight * w, o) for w, o in self.terms()))

    __rmul__ = __mul__

    def __neg__(self) -> WeightedSum:
        return (-1.0) * self


def _check_index(index: int, size: int, what: str, where: str) -> None:
    """A one-line ``ValueError`` unless ``0 <= index < size``."""
    if not 0 <= index < size:
        raise ValueError(f"{what} {index} is out of range for {where} (valid: 0..{size - 1})")


def _output(acts: Activations, layer: str) -> Tensor:
    """The recorded output of ``layer``, which must be one tensor."""
    out = acts[layer]
    if not isinstance(out, Tensor):
        raise ValueError(f"layer {layer!r} returns {type(out).__name__}, not one tensor")
    return out


@dataclass(frozen=True)
class Neuron(Objective):
    """One unit: ``layer[:, channel, y, x]`` (the spatial centre when ``y``/``x`` are ``None``),
    or ``layer[:, channel]`` for a layer with flat output."""

    layer: str
    channel: int
    y: int | None = None
    x: int | None = None

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def _where(self, out: Tensor) -> tuple[int, ...]:
        if out.dim() == 2:
            return (self.channel,)
        h, w = out.shape[-2:]
        return (
            self.channel,
            h // 2 if self.y is None else self.y,
            w // 2 if self.x is None else self.x,
        )

    def check(self, acts: Activations, logits: Tensor) -> None:
        out = _output(acts, self.layer)
        if out.dim() not in (2, 4):
            raise ValueError(
                f"neuron needs a layer with (N, C) or (N, C, H, W) output, got {self.layer!r}"
            )
        _check_index(self.channel, out.shape[1], "channel", f"layer {self.layer!r}")
        if out.dim() == 2:
            if self.y is not None or self.x is not None:
                raise ValueError(
                    f"layer {self.layer!r} has flat output: give a neuron's index only"
                )
            return
        _, y, x = self._where(out)
        _check_index(y, out.shape[2], "row", f"layer {self.layer!r}")
        _check_index(x, out.shape[3], "column", f"layer {self.layer!r}")

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        out = _output(acts, self.layer)
        return out[(slice(None), *self._where(out))]

    def __str__(self) -> str:
        where = "" if self.y is None else f",{self.y},{self.x}"
        return f"neuron:{self.layer}:{self.channel}{where}"


@dataclass(frozen=True)
class Channel(Objective):
    """The mean of one channel of a layer's output, over its positions."""

    layer: str
    channel: int

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def check(self, acts: Activations, logits: Tensor) -> None:
        out = _output(acts, self.layer)
        if out.dim() < 2:
            raise ValueError(f"channel needs a layer with channels, {self.layer!r} has none")
        _check_index(self.channel, out.shape[1], "channel", f"layer {self.layer!r}")

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        return _output(acts, self.layer)[:, self.channel].reshape(logits.shape[0], -1).mean(1)

    def __str__(self) -> str:
        return f"channel:{self.layer}:{self.channel}"


@dataclass(frozen=True)
class DeepDream(Objective):
    """The mean of a layer's output squared: the whole layer's activity (DeepDream)."""

    layer: str

    def layers(self) -> tuple[str, ...]:
        return (self.layer,)

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        return _output(acts, self.layer).reshape(logits.shape[0], -1).pow(2).mean(1)

    def __str__(self) -> str:
        return f"layer:{self.layer}"


@dataclass(frozen=True)
class Logit(Objective):
    """The network's output (pre-softmax) for one class."""

    label: int

    def check(self, acts: Activations, logits: Tensor) -> None:
        _check_index(self.label, logits.shape[-1], "class", "the network's output")

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        return logits[:, self.label]

    def __str__(self) -> str:
        return f"logit:{self.label}"


@dataclass(frozen=True)
class Probability(Objective):
    """The softmax probability of one class (it can also rise by lowering the other logits)."""

    label: int

    def check(self, acts: Activations, logits: Tensor) -> None:
        _check_index(self.label, logits.shape[-1], "class", "the network's output")

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        return torch.softmax(logits, dim=-1)[:, self.label]

    def __str__(self) -> str:
        return f"probability:{self.label}"


def _weight(w: float) -> str:
    return f"{w:.12g}"


@dataclass(frozen=True)
class WeightedSum(Objective):
    """``sum(weight * objective)`` over its terms."""

    parts: tuple[tuple[float, Objective], ...]

    def terms(self) -> tuple[tuple[float, Objective], ...]:
        return self.parts

    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for _, o in self.parts for name in o.layers()))

    def check(self, acts: Activations, logits: Tensor) -> None:
        for _, o in self.parts:
            o.check(acts, logits)

    def values(self, acts: Activations, logits: Tensor) -> Tensor:
        return sum(w * o.values(acts, logits) for w, o in self.parts)  # type: ignore[return-value]

    def __str__(self) -> str:
        text = ""
        for w, o in self.parts:
            sign = "-" if w < 0 else ("+" if text else "")
            scale = "" if abs(w) == 1 else f"{_weight(abs(w))}*"
            text += f"{sign}{scale}{o}"
        return text


_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_TERM = re.compile(
    rf"\s*(?P<sign>[+-])?\s*(?:(?P<weight>{_NUMBER})\s*\*\s*)?"
    r"(?P<kind>[A-Za-z_]+):(?P<args>[\w.,:]*)\s*"
)
_LAYER = re.compile(r"[\w.]+")


def _index(text: str, what: str, term: str) -> int:
    """``text`` as a non-negative integer (no sign, no spaces)."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"objective {term!r}: {what} must be a non-negative integer, got {text!r}")
    return int(text)


def _layer(text: str, term: str) -> str:
    """``text`` if it can be a module name (``features.8``, ``layer3.1.conv2``)."""
    if not _LAYER.fullmatch(text) or text.startswith(".") or text.endswith("."):
        raise ValueError(f"objective {term!r}: {text!r} is not a layer name")
    return text


def _neuron(args: list[str], term: str) -> Objective:
    if len(args) != 2:
        raise ValueError(f"objective {term!r}: use neuron:LAYER:C or neuron:LAYER:C,Y,X")
    where = args[1].split(",")
    if len(where) not in (1, 3):
        raise ValueError(f"objective {term!r}: a neuron is C or C,Y,X, got {args[1]!r}")
    c, *yx = (_index(s, "an index", term) for s in where)
    return Neuron(_layer(args[0], term), c, *yx)


def _channel(args: list[str], term: str) -> Objective:
    if len(args) != 2:
        raise ValueError(f"objective {term!r}: use channel:LAYER:C")
    return Channel(_layer(args[0], term), _index(args[1], "the channel", term))


def _deepdream(args: list[str], term: str) -> Objective:
    if len(args) != 1:
        raise ValueError(f"objective {term!r}: use layer:LAYER")
    return DeepDream(_layer(args[0], term))


def _logit(args: list[str], term: str) -> Objective:
    if len(args) != 1:
        raise ValueError(f"objective {term!r}: use logit:CLASS")
    return Logit(_index(args[0], "the class", term))


def _probability(args: list[str], term: str) -> Objective:
    if len(args) != 1:
        raise ValueError(f"objective {term!r}: use probability:CLASS")
    return Probability(_index(args[0], "the class", term))


# Each kind reads its ``:``-separated arguments; the term itself is there for error messages.
KINDS: dict[str, Callable[[list[str], str], Objective]] = {
    "neuron": _neuron,
    "channel": _channel,
    "layer": _deepdream,
    "logit": _logit,
    "probability": _probability,
}


def parse_objective(text: str, model: nn.Module | None = None) -> Objective:
    """The objective that ``text`` names (grammar in the module docstring); a one-line
    ``ValueError`` for malformed text, and, given ``model``, a ``LayerNotFoundError`` for a layer
    it lacks. Index ranges are checked against the shapes on the first forward pass."""
    if not text.strip():
        raise ValueError("empty objective; e.g. 'channel:features.8:12' or 'logit:3'")
    parts: list[tuple[float, Objective]] = []
    pos = 0
    while pos < len(text):
        m = _TERM.match(text, pos)
        if m is None or (parts and m["sign"] is None):
            raise ValueError(
                f"cannot read objective {text!r} at character {pos + 1}: expected "
                f"{'+ or - and ' if parts else ''}a term like 'channel:features.8:12' or "
                "'0.5*logit:3'"
            )
        term = m.group(0).strip()
        kind = KINDS.get(m["kind"])
        if kind is None:
            raise ValueError(
                f"unknown objective kind {m['kind']!r} in {term!r}; kinds: {', '.join(KINDS)}"
            )
        weight = float(m["weight"]) if m["weight"] else 1.0
        parts.append((-weight if m["sign"] == "-" else weight, kind(m["args"].split(":"), term)))
        pos = m.end()
    objective: Objective = (
        parts[0][1] if parts == [(1.0, parts[0][1])] else WeightedSum(tuple(parts))
    )
    if model is not None:
        for name in objective.layers():
            layer_of(model, name)
    return objective
