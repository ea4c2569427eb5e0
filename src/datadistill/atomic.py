"""One way to write a file safely: into a temporary file beside it, then a rename, so a reader
never sees half a file and an interrupted write leaves the old one intact."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomically(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a uniquely named temporary file in ``path``'s folder (made if
    missing), then rename it to ``path``. The file is readable by others (0644), as a saved result
    should be, not private as ``mkstemp`` makes it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # after the write: a writer may have replaced the file (safetensors)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int, tight: bool = True) -> Path:
    """Write a matplotlib figure as a PNG (tight bounding box unless ``tight=False``) with
    ``write_atomically``, then close it."""
    import matplotlib.pyplot as plt

    bbox = "tight" if tight else None
    try:
        return write_atomically(
            path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi, bbox_inches=bbox)
        )
    finally:
        plt.close(fig)
