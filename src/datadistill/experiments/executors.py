"""Executors: how a grid's cells are run. The contract every executor keeps:

``EXECUTORS.get(name)(address=...)`` builds one; ``executor.map(fn, specs)`` calls the top-level,
pickleable ``fn(spec) -> dict`` on each spec and yields ``(spec, result)`` or ``(spec,
exception)`` as each finishes, in any order, never raising for one cell's failure; an optional
``close()`` is called when the run ends. Executors do not write the results store; the driver
records what they yield. Adding one (``ray``) is a class with that method plus one
``@EXECUTORS.register`` line, and its module named in ``EXECUTORS``'s modules below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from datadistill.registry import Registry

Spec = dict[str, Any]
Outcome = tuple[Spec, "dict[str, Any] | BaseException"]


class Executor(Protocol):
    def map(self, fn: Callable[[Spec], dict[str, Any]], specs: Iterable[Spec]) -> Iterator[Outcome]:
        """Yield each (spec, result or exception) as it finishes."""
        ...


# Modules that register more executors on first lookup (``"datadistill.experiments.ray_executor"``
# is the one line that adds Ray; it must import ray lazily, inside its class).
EXECUTORS: Registry[Callable[..., Executor]] = Registry(
    "executor", ("datadistill.experiments.ray_executor",)
)


@EXECUTORS.register("local")
class LocalExecutor:
    """In this process, one cell after another (a cell's exception is yielded, not raised;
    KeyboardInterrupt still stops the run)."""

    def __init__(self, address: str | None = None) -> None:
        if address:
            raise ValueError("the local executor runs in this process; it takes no --address")

    def map(self, fn: Callable[[Spec], dict[str, Any]], specs: Iterable[Spec]) -> Iterator[Outcome]:
        for spec in specs:
            try:
                result: dict[str, Any] | BaseException = fn(spec)
            except Exception as e:  # the driver records it as a failed cell
                result = e
            yield spec, result


def create_executor(name: str, address: str | None = None) -> Executor:
    """The executor registered as ``name`` (unknown names: one error listing the known ones)."""
    return EXECUTORS.get(name)(address=address)
