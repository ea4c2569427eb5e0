"""A report of a results store as format-free sections (tables, figures), written by the HTML and
markdown renderers; figures and the sets' pictures are copied beside the page, so the folder is
self-contained."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadistill.report.plots import plot_accuracy_vs_ipc
from datadistill.report.summary import accuracy_rows, cross_architecture, sources, summarize

IMAGES = "images"


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    title: str = ""


@dataclass
class Figure:
    path: str  # relative to the report folder
    caption: str


@dataclass
class Section:
    title: str
    text: str = ""
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_sections(
    rows: list[dict[str, Any]], files: dict[str, dict[str, str]], out: Path
) -> list[Section]:
    """The report's sections from a store's ``rows()`` and ``files()``; writes the plots and
    copies the sets' pictures into ``out/images``."""
    summaries = summarize(rows)
    header, table = accuracy_rows(summaries)
    notes = [f"Published: {s}." for s in sources(summaries)]
    accuracy = Section(
        "Accuracy",
        "Mean ± std over every evaluation run of every seed (percent, test split); ÷ random and "
        "÷ full: ours over random real images at the same ipc and over the full training set, "
        "on the same model.",
        [Table(header, table)],
        notes=notes,
    )
    sections = [accuracy, _plots(summaries, out), _matrix(summaries), _pictures(rows, files, out)]
    sections.append(_runs(rows))
    return [s for s in sections if s.tables or s.figures or s.text]


def _slug(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", "-".join(map(str, parts)))


def _plots(summaries: list[Any], out: Path) -> Section:
    groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for s in summaries:
        groups[s.dataset, s.model].append(s)
    section = Section("Accuracy against images per class")
    for (dataset, model), items in sorted(groups.items()):
        rel = f"{IMAGES}/{_slug('ipc', dataset, model)}.png"
        plot_accuracy_vs_ipc(items, out / rel, f"{dataset}, evaluated on {model}")
        section.figures.append(Figure(rel, f"{dataset}: accuracy of {model} against ipc"))
    return section


def _matrix(summaries: list[Any]) -> Section:
    section = Section("Across architectures")
    for dataset, (header, rows) in sorted(cross_architecture(summaries).items()):
        section.tables.append(Table(header, rows, title=dataset))
    return section


def _pictures(rows: list[dict[str, Any]], files: dict[str, dict[str, str]], out: Path) -> Section:
    """One picture per (dataset, method, ipc): the set of its lowest seed."""
    section = Section("Sets")
    first: dict[tuple[str, str, int], dict[str, Any]] = {}
    for r in rows:
        if r["status"] == "done" and files.get(r["key"], {}).get("grid"):
            group = (r["dataset"], r["method"], r["ipc"])
            if group not in first or r["seed"] < first[group]["seed"]:
                first[group] = r
    for (dataset, method, ipc), r in sorted(first.items()):
        source = Path(files[r["key"]]["grid"])
        if not source.is_file():
            section.notes.append(f"{method} on {dataset}, ipc={ipc}: picture missing ({source})")
            continue
        rel = f"{IMAGES}/{_slug('set', dataset, method, ipc, r['seed'])}.png"
        (out / IMAGES).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out / rel)
        section.figures.append(Figure(rel, f"{method} on {dataset}, ipc={ipc} (seed {r['seed']})"))
    return section


def _runs(rows: list[dict[str, Any]]) -> Section:
    runs = {r["key"]: r for r in rows}.values()
    done = [r for r in runs if r["status"] == "done"]
    failed = [r for r in runs if r["status"] == "failed"]
    versions = sorted({f"{r['version']} ({r['git_commit'] or 'no commit'})" for r in done})
    devices = sorted({r["device"] for r in done if r["device"]})
    text = (
        f"{len(done)} runs done, {len(failed)} failed; datadistill {', '.join(versions) or '–'}; "
        f"devices: {', '.join(devices) or '–'}."
    )
    table = Table(
        ["dataset", "method", "ipc", "seed", "error"],
        [[r["dataset"], r["method"], str(r["ipc"]), str(r["seed"]), r["error"]] for r in failed],
        title="failed runs" if failed else "",
    )
    return Section("Runs", text, [table] if failed else [])
