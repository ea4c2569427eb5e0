"""``train``'s companions: ``explain``, ``features`` and ``maximize`` on a saved model. Each writes
its figure and, beside it, a JSON of what it did (``fig.png`` → ``fig.json``)."""

from __future__ import annotations

import argparse
import inspect
import json
import time
from pathlib import Path
from typing import Any

import yaml

FEATURE_KINDS = ("filters", "activations", "top", "tsne", "neighbours")


def _model_and_data(args: argparse.Namespace, path: str, dataset: str | None = None) -> tuple:
    """The model file at ``path`` and its dataset (or ``dataset``, which must be the same)."""
    import datadistill as dd
    from datadistill.inspect import load_model

    trained = load_model(path, device=args.device)
    name = dataset or trained.info.name
    if name != trained.info.name:
        raise ValueError(f"{path} was trained on {trained.info.name}, not {name}")
    data = dd.load_dataset(name, args.data_root, device=args.device)
    if data.info.shape != trained.info.shape or data.info.num_classes != trained.info.num_classes:
        raise ValueError(f"{path} does not fit {name} as loaded here (shape or classes differ)")
    return trained, data


def _pick(split: Any, n: int, seed: int) -> Any:
    """``n`` seeded random indices of ``split``."""
    import torch

    if n < 1:
        raise ValueError(f"--n must be >= 1, got {n}")
    g = torch.Generator().manual_seed(seed)
    return torch.randperm(len(split), generator=g)[: min(n, len(split))].to(split.labels.device)


def _settings(pairs: list[str]) -> dict[str, dict[str, Any]]:
    """``--set METHOD.KEY=VALUE`` (or ``KEY=VALUE`` for every method that has the setting)."""
    out: dict[str, dict[str, Any]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ValueError(f"--set expects [METHOD.]KEY=VALUE, got {pair!r}")
        method, _, name = key.rpartition(".")
        out.setdefault(method or "*", {})[name] = yaml.safe_load(value)
    return out


def _write_record(figure: Path, doc: dict[str, Any]) -> Path:
    from datadistill.atomic import write_atomically

    text = json.dumps(doc, indent=2, default=str)
    return write_atomically(figure.with_suffix(".json"), lambda tmp: tmp.write_text(text))


def cmd_explain(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from datadistill.inspect import EXPLAINERS, explain, save_explanations

    methods = [m for m in args.method.split(",") if m]
    for m in methods:
        EXPLAINERS.get(m)
    per_method = _settings(args.set or [])
    unknown = set(per_method) - {"*", *methods}
    if unknown:
        raise ValueError(f"--set names methods not asked for: {sorted(unknown)}")
    known = {k for m in methods for k in EXPLAINERS.get(m).settings()}
    unused = sorted(set(per_method.get("*", {})) - known)
    if unused:
        raise ValueError(f"no setting {unused} in {', '.join(methods)}; known: {sorted(known)}")
    trained, data = _model_and_data(args, args.model, args.dataset)
    models = {"A": trained}
    if args.compare:
        models["B"], _ = _model_and_data(args, args.compare, data.info.name)
    split = data.test
    index = _pick(split, args.n, args.seed)
    images, labels = split.images[index], split.labels[index]
    maps, seconds = {}, {}
    for method in tqdm(methods, desc="explain", leave=False):
        allowed = EXPLAINERS.get(method).settings()
        common = {k: v for k, v in per_method.get("*", {}).items() if k in allowed}
        settings = {**common, **per_method.get(method, {})}
        for tag, m in models.items():
            start = time.perf_counter()
            title = f"{method} ({tag})" if args.compare else method
            maps[title] = explain(m.model, images, method, target=labels, **settings)
            seconds[title] = round((time.perf_counter() - start) / len(images), 4)
    preds = {tag: m.model(images).argmax(1).tolist() for tag, m in models.items()}
    names = data.info.class_names
    says = "{t} says {c}" if args.compare else "says {c}"
    rows = [
        f"{names[int(y)]}: " + ", ".join(says.format(t=t, c=names[p[i]]) for t, p in preds.items())
        for i, y in enumerate(labels.tolist())
    ]
    out = save_explanations(images, maps, args.out, info=data.info, titles=rows)
    _write_record(
        out,
        {
            "command": "explain",
            "models": {t: str(Path(p).resolve()) for t, p in _paths(args).items()},
            "dataset": data.info.name,
            "split": "test",
            "indices": index.tolist(),
            "targets": labels.tolist(),
            "predictions": preds,
            "methods": methods,
            "settings": per_method,
            "seconds_per_image": seconds,
        },
    )
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def _paths(args: argparse.Namespace) -> dict[str, str]:
    return {"A": args.model, **({"B": args.compare} if args.compare else {})}


def cmd_features(args: argparse.Namespace) -> int:
    from datadistill.inspect import figures

    trained, data = _model_and_data(args, args.model, args.dataset)
    model, info, test = trained.model, data.info, data.test
    if args.kind in ("activations", "top") and not args.layer:
        from datadistill.inspect import layer_names

        shown = ", ".join(layer_names(model))
        raise ValueError(f"--kind {args.kind} needs --layer, one of: {shown}")
    if args.kind == "filters":
        out = figures.save_filters(model, args.out, args.layer)
        what: dict[str, Any] = {"layer": args.layer or "first conv"}
    elif args.kind == "activations":
        index = _pick(test, 1, args.seed)
        out = figures.save_activations(model, test.images[index], args.layer, args.out, info)
        what = {"layer": args.layer, "index": index.tolist()}
    elif args.kind == "top":
        index = _pick(test, args.n or 2000, args.seed)
        out = figures.save_top_images(
            model,
            args.layer,
            args.channel,
            test.images[index],
            args.out,
            k=args.k,
            info=info,
            labels=test.labels[index],
        )
        what = {"layer": args.layer, "channel": args.channel, "searched": len(index)}
    elif args.kind == "tsne":
        index = _pick(test, args.n or 1000, args.seed)
        out = figures.save_tsne(
            model, test.images[index], test.labels[index], args.out, info, seed=args.seed
        )
        what = {"points": len(index)}
    else:
        queries = _pick(test, args.n or 5, args.seed)
        out = figures.save_neighbours(
            model,
            test.images[queries],
            data.train.images,
            args.out,
            k=args.k,
            info=info,
            pool_labels=data.train.labels,
        )
        what = {"queries": queries.tolist(), "pool": "train split"}
    record = {"command": "features", "kind": args.kind, "model": args.model, **what}
    _write_record(out, {**record, "dataset": info.name, "seed": args.seed})
    print(f"wrote {out} and {out.with_suffix('.json')}")
    return 0


def cmd_maximize(args: argparse.Namespace) -> int:
    from datadistill.inspect import load_model, maximize, save_maximized
    from datadistill.inspect.objectives import parse_objective

    trained = load_model(args.model, device=args.device)
    objective = parse_objective(args.objective, trained.model)
    extra = {k: v for group in _settings(args.set or []).values() for k, v in group.items()}
    known = set(inspect.signature(maximize).parameters) - {"model", "objective", "info"}
    unknown = sorted(set(extra) - known)
    if unknown:
        raise ValueError(f"maximize has no setting(s) {unknown}; its settings: {sorted(known)}")
    result = maximize(
        trained.model,
        objective,
        info=trained.info,
        batch=args.batch,
        steps=args.steps,
        param=args.param,
        seed=args.seed,
        **extra,
    )
    out = save_maximized(result, args.out)
    doc = {
        "command": "maximize",
        "model": args.model,
        "objective": str(objective),
        "final_values": result.values,
        "history": result.history,
        "settings": result.settings,
    }
    _write_record(out, doc)
    print(f"wrote {out} and {out.with_suffix('.json')}; objective {result.values}")
    return 0


def add_parsers(sub: Any, add_data_args: Any) -> None:
    """The ``explain``, ``features`` and ``maximize`` sub-commands."""
    p = sub.add_parser("explain", help="attribution maps of a saved model for test images")
    p.add_argument("model", metavar="MODEL", help="a folder or file written by datadistill train")
    p.add_argument("--compare", metavar="MODEL_B", default=None, help="a second model, beside")
    p.add_argument("--dataset", default=None, help="default: the model's")
    p.add_argument("--method", default="saliency,smoothgrad,gradcam", help="comma-separated")
    p.add_argument("--n", type=int, default=8, help="test images (seeded random)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--set", action="append", metavar="[METHOD.]KEY=VALUE", help="a method's setting"
    )
    p.add_argument("--out", required=True, help="the figure (PNG); its JSON goes beside it")
    add_data_args(p)
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("features", help="filters, activations, top images, t-SNE, neighbours")
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--kind", choices=FEATURE_KINDS, default="filters")
    p.add_argument("--layer", default=None, help="a layer name (e.g. features.4)")
    p.add_argument("--channel", type=int, default=0)
    p.add_argument("--n", type=int, default=None, help="images searched, plotted or queried")
    p.add_argument("--k", type=int, default=9, help="top images or neighbours shown")
    p.add_argument("--dataset", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    add_data_args(p)
    p.set_defaults(func=cmd_features)

    p = sub.add_parser("maximize", help="images optimised to excite a unit, channel or class")
    p.add_argument("model", metavar="MODEL")
    p.add_argument(
        "--objective",
        required=True,
        help="channel:LAYER:C, neuron:LAYER:C[,Y,X], layer:LAYER, logit:K, probability:K, "
        "or weighted sums such as channel:features.8:3+0.5*logit:1",
    )
    p.add_argument("--steps", type=int, default=256)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--param", default="fourier", help="fourier or pixel")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="tv, jitter, diversity, …")
    p.add_argument("--out", required=True)
    add_data_args(p)
    p.set_defaults(func=cmd_maximize)
