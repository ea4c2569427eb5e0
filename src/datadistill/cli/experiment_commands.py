"""``run``, ``results`` and ``report``: experiments as grid files, one SQLite results store, and a
static report of it."""

from __future__ import annotations

import argparse
from typing import Any


def _where(pairs: list[str] | None) -> dict[str, str]:
    """``--where KEY=VALUE`` pairs (equality on a store column) as a dict."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--where expects KEY=VALUE, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def cmd_run(args: argparse.Namespace) -> int:
    from datadistill.experiments import Store, create_executor, load_grid, run_grid

    grid = load_grid(args.grid)
    if args.data_root is not None:
        grid.data_root = args.data_root
    grid.cells()  # every setting checked before the store is opened or anything runs
    executor = create_executor(args.executor, args.address)
    try:
        with Store(args.store) as store:
            summary = run_grid(grid, store, executor, device=args.device, progress=not args.quiet)
    finally:
        close = getattr(executor, "close", None)  # e.g. a cluster connection
        if close is not None:
            close()
    print(
        f"{grid.name}: {summary.total} cells, {summary.skipped} already done, "
        f"{len(summary.done)} run now, {len(summary.failed)} failed; results in {args.store}"
    )
    for key, error in summary.failed.items():
        print(f"  failed {key}: {error}")
    return 1 if summary.failed else 0


def cmd_results(args: argparse.Namespace) -> int:
    from datadistill.experiments import Store
    from datadistill.report.summary import fmt

    with Store(args.store, create=False) as store:
        rows = store.rows(_where(args.where))
    header = ("dataset", "method", "ipc", "seed", "model", "accuracy (%)", "status")
    table = [
        (
            r["dataset"],
            r["method"],
            str(r["ipc"]) if r["ipc"] else "all",
            str(r["seed"]),
            r["model"] or "–",
            fmt(r["mean"], r["std"]) if r["mean"] is not None else (r["error"] or "–"),
            r["status"],
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(header)]
    for row in (header, *table):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from datadistill.report.experiments import write_report

    path = write_report(args.store, args.out, args.format, _where(args.where), args.title)
    print(f"wrote {path}")
    return 0


def add_parsers(sub: Any) -> None:
    """Register this module's sub-commands on ``sub``."""
    p = sub.add_parser(
        "run",
        help="run a grid file's experiments (distill + evaluate) into a results store",
        description="Expand GRID.yaml into cells, skip those the store has done, run the rest "
        "(an interrupted cell resumes from its checkpoint) and record each as it finishes. "
        "Bad input: one line, exit 2; a failed cell: recorded, exit 1.",
    )
    p.add_argument("grid", metavar="GRID.yaml")
    p.add_argument("--store", required=True, help="the SQLite results store (made if missing)")
    p.add_argument(
        "--executor",
        default="local",
        help="how cells run: local (default), or ray (a local Ray cluster, or --address's)",
    )
    p.add_argument("--address", default=None, help="the executor's cluster address, HOST:PORT")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--data-root", dest="data_root", default=None, help="overrides data_root:")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("results", help="print a results store as a table")
    p.add_argument("store", metavar="STORE")
    p.add_argument(
        "--where",
        action="append",
        metavar="KEY=VALUE",
        help="keep rows where a column equals a value: dataset, method, ipc, seed, status, "
        "model, grid, key (repeat to combine)",
    )
    p.set_defaults(func=cmd_results)

    p = sub.add_parser("report", help="write a static HTML (or markdown) report of a results store")
    p.add_argument("store", metavar="STORE")
    p.add_argument("--out", required=True, help="folder for the page and its images")
    p.add_argument("--format", default="html", help="html (index.html) or markdown (report.md)")
    p.add_argument("--title", default=None, help="the page's title")
    p.add_argument("--where", action="append", metavar="KEY=VALUE", help="as for results")
    p.set_defaults(func=cmd_report)
