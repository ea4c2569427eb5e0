"""Plumbing shared by the file loaders: find a dataset's files, fetch them on request, read them.

Nothing here writes next to the data: the root may be read-only, so compressed files are
decompressed in memory.
"""

from __future__ import annotations

import bz2
import gzip
import zlib
from collections.abc import Callable
from pathlib import Path

from datadistill.datasets.base import DataFormatError, DataNotFoundError, missing

COMPRESSED = (".gz", ".bz2")


def locate(path: Path) -> Path | None:
    """``path`` if it exists, else its decompressed twin (torchvision extracts downloads)."""
    if path.exists():
        return path
    if path.suffix in COMPRESSED and path.with_suffix("").exists():
        return path.with_suffix("")
    return None


def require(
    name: str,
    root: Path,
    files: list[str],
    layout: str,
    download: bool,
    fetch: Callable[[], object] | None = None,
) -> list[Path]:
    """The paths of ``files`` (relative to ``root``), fetching them first when asked and possible.

    ``fetch`` is the dataset's real download (``None`` for user data, which cannot be fetched);
    it runs only when ``download`` is true and a file is absent. Absent files raise the one
    ``missing`` error, with the download failure chained and summarised.
    """
    paths = {f: locate(root / f) for f in files}
    absent = [f for f, p in paths.items() if p is None]
    if absent and download and fetch is not None:
        try:
            fetch()
        except Exception as e:  # any failure of a third-party download means "still not here"
            err = missing(name, root, absent, layout, download_hint=False)
            raise DataNotFoundError(f"{err}; download failed: {type(e).__name__}: {e}") from e
        paths = {f: locate(root / f) for f in files}
        absent = [f for f, p in paths.items() if p is None]
    if absent:
        raise missing(name, root, absent, layout, download_hint=fetch is not None and not download)
    return [p for p in paths.values() if p is not None]


def read_bytes(path: Path) -> bytes:
    """The content of ``path``, decompressed in memory when it ends in ``.gz`` or ``.bz2``."""
    data = path.read_bytes()
    try:
        if path.suffix == ".gz":
            return gzip.decompress(data)
        if path.suffix == ".bz2":
            return bz2.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
        raise DataFormatError(f"{path}: corrupt or truncated {path.suffix} file ({e})") from e
    return data
