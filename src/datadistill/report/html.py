"""A results store as one static HTML page (``index.html``) plus its images, no scripts."""

from __future__ import annotations

import html
from pathlib import Path

from datadistill.report.document import Section, Table

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; } td:nth-child(-n+2) { text-align: left; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figure img { max-width: 34em; } figcaption { font-size: 0.85em; color: #555; }
.note { font-size: 0.85em; color: #555; }
"""


def render_html(sections: list[Section], title: str) -> str:
    """The page: one ``<section>`` per section; each table row carries its cells as text."""
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    for s in sections:
        parts.append(f'<section id="{e(_anchor(s.title))}"><h2>{e(s.title)}</h2>')
        if s.text:
            parts.append(f"<p>{e(s.text)}</p>")
        parts += [_table(t) for t in s.tables]
        for f in s.figures:
            parts.append(
                f'<figure><img src="{e(f.path)}" alt="{e(f.caption)}">'
                f"<figcaption>{e(f.caption)}</figcaption></figure>"
            )
        parts += [f'<p class="note">{e(n)}</p>' for n in s.notes]
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _table(t: Table) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in t.header)
    body = "\n".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in t.rows)
    caption = f"<caption>{e(t.title)}</caption>" if t.title else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _anchor(title: str) -> str:
    return "-".join(title.lower().split())


def write_html(sections: list[Section], out: Path, title: str) -> Path:
    from datadistill.atomic import write_atomically

    return write_atomically(
        out / "index.html", lambda tmp: tmp.write_text(render_html(sections, title))
    )
