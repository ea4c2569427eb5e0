"""Where iterative methods' training curves go besides the progress bar: a registry of sinks.

A sink takes ``scalars(step, {name: value})`` and is opened from a ``NAME:ARG`` spec
(``jsonl:FILE``, ``tensorboard:DIR``). ``logging_to(sink)`` makes it the current sink for the
code it wraps; the shared outer loop calls ``log_scalars`` each iteration (the loss, and the
validation accuracy when it is measured), which does nothing when no sink is current.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Protocol

from datadistill.registry import Registry


class OptionalDependencyError(ImportError, ValueError):
    """A feature's optional package is missing (a ``ValueError`` too: the CLI's one-line error)."""


class Sink(Protocol):
    def scalars(self, step: int, values: dict[str, float]) -> None: ...

    def close(self) -> None: ...


SINKS: Registry[Callable[[str], Sink]] = Registry("log sink")


@SINKS.register("jsonl")
class JsonlSink:
    """One JSON object per line, ``{"step": N, NAME: VALUE, ...}``, appended to a file (no
    dependency; flushed every line, so a running job can be followed with ``tail -f``)."""

    def __init__(self, path: str) -> None:
        if not path:
            raise ValueError("--log jsonl:FILE needs a file name")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._file = open(path, "a")  # noqa: SIM115  (closed by close())

    def scalars(self, step: int, values: dict[str, float]) -> None:
        clean = {k: v if math.isfinite(v) else str(v) for k, v in values.items()}
        self._file.write(json.dumps({"step": step, **clean}) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@SINKS.register("tensorboard")
class TensorBoardSink:
    """TensorBoard event files in a folder, via ``torch.utils.tensorboard`` (needs the
    ``tensorboard`` package)."""

    def __init__(self, folder: str) -> None:
        if not folder:
            raise ValueError("--log tensorboard:DIR needs a folder")
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise OptionalDependencyError(
                "--log tensorboard needs the tensorboard package: "
                "pip install tensorboard (or pip install 'datadistill[tensorboard]')"
            ) from None
        self._writer = SummaryWriter(folder)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        for name, value in values.items():
            self._writer.add_scalar(name, value, step)
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


def open_sink(spec: str) -> Sink:
    """The sink a ``NAME:ARG`` spec names (``jsonl:run.jsonl``, ``tensorboard:runs/tb``)."""
    name, _, arg = spec.partition(":")
    return SINKS.get(name)(arg)


_CURRENT: contextvars.ContextVar[Sink | None] = contextvars.ContextVar("sink", default=None)


@contextlib.contextmanager
def logging_to(sink: Sink | None) -> Iterator[Sink | None]:
    """Make ``sink`` the current one inside the block, and close it at the end (None: no sink)."""
    token = _CURRENT.set(sink)
    try:
        yield sink
    finally:
        _CURRENT.reset(token)
        if sink is not None:
            sink.close()


def log_scalars(step: int, values: dict[str, float]) -> None:
    """Send ``values`` at ``step`` to the current sink, if any."""
    sink = _CURRENT.get()
    if sink is not None:
        sink.scalars(step, values)
