"""``datadistill`` command line: parse → config → one API call. Bad input: one line, exit code 2."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

import datadistill as dd
from datadistill.datasets import DATASETS
from datadistill.datasets.base import DataFormatError, DataNotFoundError
from datadistill.evaluation import EvalConfig, compare_to, knn_table
from datadistill.evaluation.protocol import DatasetMismatchError
from datadistill.methods import METHODS, make_config
from datadistill.models import MODELS
from datadistill.registry import UnknownNameError
from datadistill.synset import SetFileError

USER_ERRORS = (
    UnknownNameError,
    DataNotFoundError,
    DataFormatError,
    SetFileError,
    DatasetMismatchError,
    ValueError,
    FileNotFoundError,
    yaml.YAMLError,
)


def _parse_value(text: str) -> Any:
    """``--set`` values are YAML scalars or lists: ``3``, ``0.1``, ``true``, ``[a, b]``, ``herding``."""
    return yaml.safe_load(text)


def _apply_sets(doc: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """``key=value`` sets a method setting; ``eval.key=value`` an evaluation setting; top-level keys
    (``dataset``, ``method``, ``ipc``, ``seed``) are set directly."""
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        if key.startswith("eval."):
            doc.setdefault("eval", {})[key[5:]] = _parse_value(value)
        elif key in ("dataset", "method", "ipc", "seed", "data_root"):
            doc[key] = _parse_value(value)
        else:
            doc.setdefault("config", {})[key.removeprefix("config.")] = _parse_value(value)
    return doc


def _eval_config(values: dict[str, Any]) -> EvalConfig:
    values = dict(values)
    if isinstance(values.get("models"), str):
        values["models"] = [m for m in values["models"].split(",") if m]
    for name in values.get("models", []):
        MODELS.get(name)
    return make_config(EvalConfig, values)


def _load_yaml(path: str) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    doc = yaml.safe_load(p.read_text()) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    return doc


def cmd_list(args: argparse.Namespace) -> int:
    kinds = {"datasets": DATASETS, "models": MODELS, "methods": METHODS}
    if args.kind and args.kind not in kinds:
        return _list_settings(args.kind)
    for kind in [args.kind] if args.kind else list(kinds):
        print(f"{kind}:")
        for name in kinds[kind].names():
            summary = getattr(METHODS.get(name), "summary", "") if kind == "methods" else ""
            kind_of = f" [{METHODS.get(name).kind}]" if kind == "methods" else ""
            print(f"  {name}{kind_of}{'  ' + summary if summary else ''}")
    return 0


def _list_settings(method: str) -> int:
    """A method's settings and their defaults (the paper's), the names ``--set`` and YAML take."""
    fields = dataclasses.fields(METHODS.get(method).Config)
    print(f"{method} settings (--set KEY=VALUE):")
    if not fields:
        print("  (none)")
    for field in fields:
        default = (
            field.default if field.default is not dataclasses.MISSING else field.default_factory()
        )
        shown = default if isinstance(default, str) else json.dumps(default)
        print(f"  {field.name} = {shown}")
    return 0


def cmd_distill(args: argparse.Namespace) -> int:
    doc: dict[str, Any] = _load_yaml(args.config) if args.config else {}
    for key in ("dataset", "method", "ipc", "seed", "data_root"):
        if getattr(args, key) is not None:
            doc[key] = getattr(args, key)
    doc = _apply_sets(doc, args.set or [])
    missing = [k for k in ("dataset", "method", "ipc") if doc.get(k) is None]
    if missing:
        raise ValueError(
            f"missing {', '.join('--' + k for k in missing)} (on the command line or in --config)"
        )
    METHODS.get(doc["method"])
    eval_cfg = (
        _eval_config({**doc.get("eval", {}), **_eval_overrides(args)}) if args.evaluate else None
    )
    data = dd.load_dataset(
        doc["dataset"],
        doc.get("data_root"),
        download=args.download,
        device=args.device,
        zca=bool(doc.get("zca", False)),
    )
    out = Path(args.out)
    checkpoint = out / "checkpoint.pt"
    if checkpoint.exists() and not args.resume:
        raise ValueError(
            f"{checkpoint} exists: pass --resume to continue that run, or choose another --out"
        )
    synset = dd.distill(
        data,
        doc["method"],
        int(doc["ipc"]),
        doc.get("config"),
        seed=int(doc.get("seed", 0)),
        checkpoint=checkpoint,
    )
    path = synset.save(out / "set.safetensors")
    dd.save_grid(synset, out / "grid.png")
    resolved = {**{k: v for k, v in doc.items() if k != "config"}, "config": synset.config}
    (out / "config.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
    print(f"saved {path} ({synset.images.shape[0]} images) and {out / 'grid.png'}")
    if eval_cfg is not None:
        ev = dd.evaluate(synset, data, eval_cfg)
        _write_json(out / "eval.json", ev.to_dict())
        print(ev.table())
    return 0


def _eval_overrides(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("models", "runs", "epochs", "augment", "seed_eval", "batched")
    out = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if "seed_eval" in out:
        out["seed"] = out.pop("seed_eval")
    return out


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, indent=2))
    os.replace(tmp, path)


def cmd_evaluate(args: argparse.Namespace) -> int:
    synset = dd.SyntheticSet.load(args.set_file)
    cfg = _eval_config(_eval_overrides(args))
    args.knn = args.knn or args.knn_only
    name = args.dataset or synset.info.name
    data = dd.load_dataset(
        name,
        args.data_root,
        download=args.download,
        device=args.device,
        zca=synset.zca is not None,
        zca_reg=synset.zca.reg if synset.zca else 0.1,
        val_seed=int(synset.meta.get("val_seed", 0)),
    )
    doc: dict[str, Any] = {"set": str(args.set_file)}
    if args.knn:
        table = knn_table(synset, data)
        doc["knn"] = table
        print("\n".join(f"k-NN {name}: {acc:.2f}%" for name, acc in table.items()))
    if cfg.runs and not args.knn_only:
        ev = dd.evaluate(synset, data, cfg)
        if args.compare:
            compare_to(ev, synset, data, tuple(args.compare.split(",")))
        doc.update(ev.to_dict())
        print(ev.table())
    if args.out:
        _write_json(Path(args.out), doc)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    synset = dd.SyntheticSet.load(args.set_file)
    path = dd.save_grid(synset, args.out)
    print(f"wrote {path}")
    return 0


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-root",
        dest="data_root",
        default=None,
        help="folder with the datasets (default: $DATADISTILL_DATA, then ~/.cache/datadistill)",
    )
    p.add_argument("--download", action="store_true", help="download missing dataset files")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")


def _add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=None, help="comma-separated architectures (default convnet)")
    p.add_argument(
        "--runs", type=int, default=None, help="models trained per architecture (default 5)"
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="default 300, or 1000 with augmentation"
    )
    p.add_argument("--augment", default=None, help="auto, none, dc or dsa")
    p.add_argument("--batched", default=None, help="train the runs together: auto, yes, no")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datadistill", description=__doc__)
    parser.add_argument("--version", action="version", version=f"datadistill {dd.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list datasets, models and methods, or a method's settings")
    p.add_argument("kind", nargs="?", help="datasets, models, methods, or a method's name")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("distill", help="make a small set with a method and save it")
    p.add_argument("--dataset")
    p.add_argument("--method")
    p.add_argument("--ipc", type=int, help="images per class")
    p.add_argument("--seed", type=int)
    p.add_argument("--config", help="YAML file with dataset, method, ipc, seed, config:, eval:")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a method setting (eval.KEY for evaluation settings)",
    )
    p.add_argument(
        "--out", required=True, help="output folder (set.safetensors, grid.png, config.yaml)"
    )
    p.add_argument("--evaluate", action="store_true", help="evaluate the set after making it")
    p.add_argument(
        "--resume", action="store_true", help="continue from OUT/checkpoint.pt (iterative methods)"
    )
    p.add_argument("--seed-eval", dest="seed_eval", type=int, default=None)
    _add_data_args(p)
    _add_eval_args(p)
    p.set_defaults(func=cmd_distill, data_root=None)

    p = sub.add_parser("evaluate", help="train fresh models on a set and test them")
    p.add_argument("set_file", metavar="SET")
    p.add_argument(
        "--dataset", default=None, help="evaluate against this dataset (default: the set's)"
    )
    p.add_argument("--out", default=None, help="write the results as JSON here")
    p.add_argument("--seed", dest="seed_eval", type=int, default=None)
    p.add_argument("--knn", action="store_true", help="also report k-NN accuracy (k=1,3; l1, l2)")
    p.add_argument(
        "--knn-only", dest="knn_only", action="store_true", help="k-NN only, no training"
    )
    p.add_argument(
        "--compare",
        default=None,
        help="also score relative to references on the same protocol: random, full (costly)",
    )
    _add_data_args(p)
    _add_eval_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser(
        "show", help="write a PNG grid of a set, one row per class (one strip at one per class)"
    )
    p.add_argument("set_file", metavar="SET")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as e:
        print(f"datadistill: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("datadistill: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
