"""The output folder of a ``distill`` run: one writer at a time, and no set replaced unasked.

A run holds an exclusive ``fcntl`` lock on ``OUT/.lock`` from before it loads any data until it
has written its last file, so a second run into the same folder stops at once instead of
silently replacing the first one's set. The lock is the kernel's: it goes with the process, so a
run killed with ``kill -9`` leaves no stale lock behind.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


class OutputFolderError(ValueError):
    """The output folder cannot be used as asked (a file, locked, or holding a set)."""


@contextlib.contextmanager
def claimed(
    out: Path, *, resume: bool = False, overwrite: bool = False, product: str = "set.safetensors"
) -> Iterator[Path]:
    """Lock ``out`` for this process and check that the run may write there: an existing
    ``product`` (the set, or a trained model) is replaced only with ``overwrite`` or when
    ``resume`` continues the run that made it; an existing checkpoint needs ``resume`` (to
    continue it) or ``overwrite`` (to start afresh)."""
    if out.exists() and not out.is_dir():
        raise OutputFolderError(f"--out {out} is a file; give a folder (new or a run's)")
    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "another process"
            raise OutputFolderError(
                f"{out} is in use by another datadistill run (pid {holder}); wait for it to "
                "finish or choose another --out"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        _check_contents(out, resume=resume, overwrite=overwrite, product=product)
        yield out
    finally:
        os.close(fd)  # closing releases the lock


def _check_contents(out: Path, *, resume: bool, overwrite: bool, product: str) -> None:
    checkpoint, synset = out / "checkpoint.pt", out / product
    if resume and not checkpoint.exists():
        raise OutputFolderError(f"--resume: {checkpoint} does not exist; nothing to continue")
    if checkpoint.exists() and not (resume or overwrite):
        raise OutputFolderError(
            f"{checkpoint} exists: pass --resume to continue that run, --overwrite to start "
            "afresh, or choose another --out"
        )
    if synset.exists() and not (resume or overwrite):
        raise OutputFolderError(
            f"{synset} exists: pass --overwrite to replace it, or choose another --out"
        )
