"""``write_report``: a results store to a folder holding one page (HTML or markdown) and its
images."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FORMATS = ("html", "markdown")


def write_report(
    store: str | os.PathLike[str],
    out: str | os.PathLike[str],
    format: str = "html",
    where: dict[str, str] | None = None,
    title: str | None = None,
) -> Path:
    """Write the report of ``store`` (its runs matching ``where``) into ``out``; returns the page."""
    from datadistill.report.html import write_html
    from datadistill.report.markdown import write_markdown

    if format not in FORMATS:
        raise ValueError(f"report format must be one of {', '.join(FORMATS)}, got {format!r}")
    out = Path(out)
    sections = _sections(store, out, where)
    title = title or f"Results: {Path(store).name}"
    return (write_html if format == "html" else write_markdown)(sections, out, title)


def markdown_part(
    store: str | os.PathLike[str],
    images: str | os.PathLike[str],
    image_prefix: str = "",
    level: int = 3,
    where: dict[str, str] | None = None,
) -> str:
    """The report as markdown to paste into a larger page (benchmarks/RESULTS.md's grid part):
    sections at heading ``level``, no title; figures written to ``images``, linked as
    ``image_prefix`` + their path under it."""
    from datadistill.report.markdown import render_markdown

    sections = _sections(store, Path(images), where)
    return render_markdown(sections, level=level, image_prefix=image_prefix)


def _sections(store: str | os.PathLike[str], out: Path, where: dict[str, str] | None) -> list[Any]:
    from datadistill.experiments.store import Store
    from datadistill.report.document import build_sections

    with Store(store, create=False) as s:
        rows, files = s.rows(where), s.files()
    if not rows:
        raise ValueError(f"{store}: no runs to report" + (f" matching {where}" if where else ""))
    out.mkdir(parents=True, exist_ok=True)
    return build_sections(rows, files, out)
