"""``nas``: rank candidate architectures by brief training on proxies (a distilled set, a
teaching network's images, random real images, real data) against a longer training on real
data; writes ``nas.json`` (per-candidate scores, rank agreement, cost) and ``nas.png``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def cmd_nas(args: argparse.Namespace) -> int:
    from datadistill.datasets import load_dataset
    from datadistill.nas import SPACES, NASConfig, plot_agreement, search
    from datadistill.settings import make_config

    values: dict[str, Any] = {}
    for pair in args.set or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE, got {pair!r}")
        values[key] = value
    for key in ("ipc", "proxy_steps", "truth_steps"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    config = make_config(NASConfig, values)  # bad settings stop here, before any data is read
    space = SPACES.get(args.space)
    space.sample(args.candidates, args.seed)  # an empty space or too many candidates: stop now
    proxies = [p for p in args.proxy.split(",") if p]
    data = load_dataset(args.dataset, args.data_root, download=args.download, device=args.device)
    out = Path(args.out)
    result = search(
        data,
        proxies,
        space=args.space,
        candidates=args.candidates,
        config=config,
        seed=args.seed,
        out=out,
    )
    (out / "nas.json").write_text(json.dumps(result.to_dict(), indent=1))
    plot_agreement(result, out / "nas.png")
    print(result.table())
    print(f"wrote {out / 'nas.json'}, {out / 'nas.png'}")
    return 0


def add_parsers(sub: Any, add_data_args: Any) -> None:
    """Register ``nas`` on ``sub``."""
    p = sub.add_parser(
        "nas",
        help="architecture search with distilled or generated data as the proxy",
        description="Sample candidates from a search space, train each briefly on every proxy "
        "and for longer on the real training split (the ground truth), and report how well "
        "each proxy's validation accuracies rank the candidates (Spearman, Kendall, the true "
        "rank of its top picks) and its cost. Results go to OUT/cells.jsonl as they finish, so "
        "a rerun resumes. Bad input: one line, exit 2.",
    )
    p.add_argument("--dataset", default="mnist", help="dataset (default mnist)")
    p.add_argument("--space", default="convnet", help="search space (default convnet)")
    p.add_argument("--candidates", type=int, default=30, help="candidates sampled (default 30)")
    p.add_argument(
        "--proxy",
        default="random,real",
        help="comma-separated proxies: set:FILE, gtn:FILE, random, real (default random,real)",
    )
    p.add_argument("--ipc", type=int, default=None, help="images per class of random/gtn (10)")
    p.add_argument("--proxy-steps", dest="proxy_steps", type=int, default=None, help="default 100")
    p.add_argument("--truth-steps", dest="truth_steps", type=int, default=None, help="default 600")
    p.add_argument("--seed", type=int, default=0, help="sampling and initialisation seed")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any other setting (batch_size, lr, momentum, weight_decay, val_images, top)",
    )
    p.add_argument("--out", required=True, help="output folder (nas.json, nas.png, cells.jsonl)")
    add_data_args(p)
    p.set_defaults(func=cmd_nas)
