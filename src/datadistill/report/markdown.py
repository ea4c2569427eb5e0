"""A results store as markdown: the same sections as the HTML page, for RESULTS.md or a PR.

``level`` sets the heading depth of the sections (2 under a page title), so the text can be
placed as one part of a larger document such as benchmarks/RESULTS.md; ``image_prefix`` is
prepended to image paths when the markdown lives elsewhere than the images' folder."""

from __future__ import annotations

from pathlib import Path

from datadistill.report.document import Section, Table


def render_markdown(
    sections: list[Section], title: str | None = None, level: int = 2, image_prefix: str = ""
) -> str:
    lines = [f"{'#' * (level - 1)} {title}", ""] if title and level > 1 else []
    for s in sections:
        lines += [f"{'#' * level} {s.title}", ""]
        if s.text:
            lines += [s.text, ""]
        for t in s.tables:
            lines += [*_table(t), ""]
        for f in s.figures:
            lines += [f"![{f.caption}]({image_prefix}{f.path})", ""]
        if s.notes:
            lines += [*s.notes, ""]
    return "\n".join(lines).rstrip() + "\n"


def _table(t: Table) -> list[str]:
    def row(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    head = [f"**{t.title}**", ""] if t.title else []
    return [*head, row(t.header), "|" + "---|" * len(t.header), *(row(r) for r in t.rows)]


def write_markdown(sections: list[Section], out: Path, title: str) -> Path:
    from datadistill.atomic import write_atomically

    text = render_markdown(sections, title)
    return write_atomically(out / "report.md", lambda tmp: tmp.write_text(text))
