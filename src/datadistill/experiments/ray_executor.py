"""``ray``: run a grid's cells as Ray tasks, on an existing cluster or on a small local one.

Ray is optional (``pip install 'datadistill[ray]'``) and imported only when an executor is built.
Each cell is one task (one CPU, plus one GPU when its spec's ``device`` is ``cuda…``); results
come back to the driver, which alone writes the results store. Without an address a local
cluster is started for the run (``num_cpus`` CPUs, a 100 MB object store, no dashboard, quiet
logs) and shut down by ``close``.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from datadistill.experiments.executors import EXECUTORS

Spec = dict[str, Any]


class RayNotInstalledError(ImportError, ValueError):
    """Ray is missing (a ``ValueError`` too, so the command line prints it as one line)."""


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayNotInstalledError(
            "the ray executor needs Ray: pip install 'datadistill[ray]'"
        ) from None
    return ray


def _check_reachable(address: str, timeout: float) -> None:
    """Fail within ``timeout`` seconds, in one line, when nothing listens at ``address``
    (``host:port`` or ``ray://host:port``; ``auto`` is left to Ray)."""
    if address == "auto":
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"Ray address {address!r}: expected host:port or ray://host:port")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise ValueError(
            f"no Ray cluster reachable at {address} ({e.strerror or type(e).__name__}); "
            "start one with `ray start --head` or leave the address out for a local one"
        ) from None


@EXECUTORS.register("ray")
class RayExecutor:
    """Cells as Ray tasks; ``map`` yields each ``(spec, result or exception)`` as it finishes.

    ``address``: an existing cluster (``host:port``, ``ray://host:port`` or ``auto``); None
    starts a local one with ``num_cpus`` CPUs (default: all) for the executor's lifetime.
    ``show_output``: let the tasks' stdout/stderr through to the driver (off: progress bars of
    many cells would interleave)."""

    def __init__(
        self,
        address: str | None = None,
        num_cpus: int | None = None,
        *,
        object_store_mb: int = 100,
        connect_timeout_s: float = 5.0,
        show_output: bool = False,
    ) -> None:
        ray = _import_ray()
        self._ray = ray
        self._owned = False
        if address:
            _check_reachable(address, connect_timeout_s)
        if ray.is_initialized():  # the caller's own connection: used as it is, left open
            return
        quiet = {"logging_level": logging.ERROR, "log_to_driver": show_output}
        if address:
            try:
                ray.init(address=address, **quiet)
            except (ConnectionError, RuntimeError, TimeoutError) as e:
                raise ValueError(
                    f"cannot connect to the Ray cluster at {address}: {_first_line(e)}"
                ) from None
        else:
            ray.init(  # "local": a new cluster, never one a `ray start` left behind
                address="local",
                num_cpus=num_cpus,
                object_store_memory=object_store_mb * 2**20,
                include_dashboard=False,
                **quiet,
            )
        self._owned = True

    def map(
        self, fn: Callable[[Spec], dict[str, Any]], specs: Iterable[Spec]
    ) -> Iterator[tuple[Spec, dict[str, Any] | BaseException]]:
        """Submit every spec, then yield each outcome as its task finishes (``ray.wait``); a
        cell's exception is yielded as the exception it raised, never raised here."""
        ray = self._ray
        specs = list(specs)
        gpus = [_wants_gpu(s) for s in specs]
        if any(gpus) and not ray.cluster_resources().get("GPU", 0):
            raise ValueError("a cell asks for a cuda device, but the Ray cluster has no GPU")
        remote = ray.remote(fn)
        pending = {
            remote.options(num_cpus=1, num_gpus=1 if gpu else 0).remote(spec): spec
            for spec, gpu in zip(specs, gpus, strict=True)
        }
        waiting = list(pending)
        while waiting:
            done, waiting = ray.wait(waiting, num_returns=1)
            for ref in done:
                try:
                    result: dict[str, Any] | BaseException = ray.get(ref)
                except ray.exceptions.RayTaskError as e:  # the cell's own exception
                    result = e.cause if isinstance(e.cause, BaseException) else e
                except ray.exceptions.RayError as e:  # a crashed worker, a lost node, ...
                    result = e
                yield pending.pop(ref), result

    def close(self) -> None:
        """Shut down the connection (and the local cluster) this executor started."""
        if self._owned and self._ray.is_initialized():
            self._ray.shutdown()
        self._owned = False

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wants_gpu(spec: Spec) -> bool:
    return str(spec.get("device") or "cpu").startswith("cuda")


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
