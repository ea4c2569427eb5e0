"""``datadistill`` command line: parse → config → one API call. Bad input: one line, exit code 2.

PyTorch and the library are imported inside the commands that need them, so ``--help``, argument
errors and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from datadistill import __version__
from datadistill.cli.experiment_commands import add_parsers as add_experiment_parsers
from datadistill.cli.generate_commands import add_parsers as add_generate_parsers
from datadistill.cli.inspect_commands import add_parsers as add_inspect_parsers
from datadistill.cli.nas_commands import add_parsers as add_nas_parsers
from datadistill.cli.transfer_commands import add_parsers as add_transfer_parsers

# Top-level keys of an experiment file (and of ``--set``); ``config:`` and ``eval:`` are sections.
TOP_LEVEL = {
    "dataset": str,
    "method": str,
    "ipc": int,
    "seed": int,
    "data_root": str,
    "zca": bool,
    "flip": bool | None,
}
SECTIONS = ("config", "eval", "text")  # text: the TextConfig of a text dataset


def _apply_sets(doc: dict[str, Any], pairs: list[str]) -> dict[str, Any]:
    """``key=value`` sets a method setting; ``eval.key=value`` an evaluation setting; top-level
    keys (``dataset``, ``method``, ``ipc``, ``seed``, ...) are set directly. Values stay text
    here and are typed by the setting they go to."""
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects key=value, got {pair!r}")
        if key.startswith("eval."):
            doc.setdefault("eval", {})[key[5:]] = value
        elif key.startswith("text."):
            doc.setdefault("text", {})[key[5:]] = value
        elif key in TOP_LEVEL:
            doc[key] = value
        else:
            doc.setdefault("config", {})[key.removeprefix("config.")] = value
    return doc


def _load_yaml(path: str) -> dict[str, Any]:
    """An experiment file: a mapping of known top-level keys; errors name the file (and line)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"config file not found: {p}")
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{p}:{mark.line + 1}:{mark.column + 1}" if mark else str(p)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ValueError(f"{where}: YAML syntax error: {problem}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    unknown = sorted(set(doc) - set(TOP_LEVEL) - set(SECTIONS))
    if unknown:
        known = ", ".join([*TOP_LEVEL, *(f"{s}:" for s in SECTIONS)])
        raise ValueError(f"{p}: unknown key(s) {unknown}; known: {known}")
    for section in SECTIONS:
        if not isinstance(doc.get(section) or {}, dict):
            raise ValueError(f"{p}: '{section}:' must hold a mapping of settings")
    return doc


def _top_level(doc: dict[str, Any]) -> dict[str, Any]:
    """The top-level keys typed and checked (``ipc`` ≥ 1), section-less."""
    from datadistill.settings import coerce

    typed = {k: coerce(k, doc[k], kind) for k, kind in TOP_LEVEL.items() if doc.get(k) is not None}
    if typed.get("ipc", 1) < 1:
        raise ValueError(f"ipc must be a positive number of images per class, got {typed['ipc']}")
    return typed


def _eval_config(values: dict[str, Any], where: str = "") -> Any:
    from datadistill.evaluation import EvalConfig
    from datadistill.models import MODELS
    from datadistill.settings import make_config

    cfg = make_config(EvalConfig, values, where)
    for name in cfg.models:
        MODELS.get(name)
    return cfg


def cmd_list(args: argparse.Namespace) -> int:
    from datadistill.datasets import DATASETS
    from datadistill.methods import METHODS
    from datadistill.models import MODELS

    kinds = {"datasets": DATASETS, "models": MODELS, "methods": METHODS}
    if args.kind and args.kind not in kinds:
        return _describe(args.kind)
    for kind in [args.kind] if args.kind else list(kinds):
        print(f"{kind}:")
        for name in kinds[kind].names():
            print(f"  {name}{_summary(kind, kinds[kind].get(name))}")
    return 0


def _summary(kind: str, entry: Any) -> str:
    if kind == "methods":
        return f" [{entry.kind}]" + (f"  {entry.summary}" if entry.summary else "")
    doc = (entry.__doc__ or "").strip().split("\n\n")[0]
    return f"  {' '.join(doc.split())}" if kind == "datasets" and doc else ""


def _describe(name: str) -> int:
    """``list NAME``: a method's settings and defaults (the names ``--set`` and YAML take), or what
    a dataset or model is."""
    import dataclasses

    from datadistill.datasets import DATASETS
    from datadistill.methods import METHODS
    from datadistill.models import MODELS

    if name in DATASETS or name in MODELS:
        kind, entry = ("dataset", DATASETS.get(name)) if name in DATASETS else ("model", None)
        entry = entry or MODELS.get(name)
        print(f"{name} ({kind}): {' '.join((entry.__doc__ or '').split())}")
        return 0
    if name not in METHODS:
        raise ValueError(
            f"unknown name {name!r}: not a dataset, model or method "
            "(`datadistill list` shows them all)"
        )
    fields = dataclasses.fields(METHODS.get(name).Config)
    print(f"{name} settings (--set KEY=VALUE):")
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
    import datadistill as dd
    from datadistill.datasets import DATASETS
    from datadistill.datasets.text import method_defaults
    from datadistill.distillation import distributed
    from datadistill.methods import METHODS
    from datadistill.report.sinks import SINKS
    from datadistill.settings import make_config

    source = args.config
    doc: dict[str, Any] = _load_yaml(source) if source else {}
    from_file = {s: dict(doc.get(s) or {}) for s in SECTIONS}  # before --set adds to them
    for key in ("dataset", "method", "ipc", "seed", "data_root"):
        if getattr(args, key) is not None:
            doc[key] = getattr(args, key)
    doc = _apply_sets(doc, args.set or [])
    missing = [k for k in ("dataset", "method", "ipc") if doc.get(k) is None]
    if missing:
        raise ValueError(
            f"missing {', '.join('--' + k for k in missing)} (on the command line or in --config)"
        )
    top = _top_level(doc)
    DATASETS.get(top["dataset"])
    method = METHODS.get(top["method"])
    if source:  # name the file when its own sections are wrong
        make_config(method.Config, from_file["config"], f"{source} (config:)")
        make_config(dd.EvalConfig, from_file["eval"], f"{source} (eval:)")
    text_cfg = _text_config(top["dataset"], doc.get("text"))
    user = doc.get("config")
    if user is None or isinstance(user, dict):  # the dataset's defaults under the user's own
        user = {**method_defaults(top["dataset"], method.Config), **(user or {})}
    config = make_config(method.Config, user, f"{top['method']} setting")
    eval_values = {**doc.get("eval", {}), **_eval_overrides(args)}
    eval_cfg = _eval_config(eval_values, "evaluation setting") if args.evaluate else None
    if args.log:
        SINKS.get(args.log.partition(":")[0])
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # torchrun: one run, classes split by rank
        if not getattr(method, "splits_classes", False):
            raise ValueError(f"{top['method']} does not split across processes (dm, dc, dsa do)")
        try:
            args.device = distributed.init_from_env(args.device)
            code = _distill_into(args, top, config, eval_cfg, doc, text_cfg)
            distributed.barrier()
            return code
        finally:
            distributed.finish()
    return _distill_into(args, top, config, eval_cfg, doc, text_cfg)


def _distill_into(
    args: argparse.Namespace,
    top: dict[str, Any],
    config: Any,
    eval_cfg: Any,
    doc: dict[str, Any],
    text_cfg: Any,
) -> int:
    """Load the data, distil, save into ``args.out`` and evaluate; under torchrun only rank 0
    claims the folder, writes files, shows progress and logs (the others learn their classes)."""
    import contextlib

    import datadistill as dd
    from datadistill.cli.outdir import claimed
    from datadistill.distillation import distributed
    from datadistill.methods import check_ipc
    from datadistill.report.sinks import logging_to, open_sink

    out = Path(args.out)
    main = distributed.is_main_process()
    claim = claimed(out, resume=args.resume, overwrite=args.overwrite)
    with claim if main else contextlib.nullcontext(out):
        if text_cfg is not None:
            from datadistill.text import load_text

            data = load_text(
                top["dataset"],
                top.get("data_root"),
                text_cfg,
                download=args.download,
                device=args.device,
            ).splits
        else:
            data = dd.load_dataset(
                top["dataset"],
                top.get("data_root"),
                download=args.download,
                device=args.device,
                zca=top.get("zca", False),
                flip=top.get("flip"),
            )
        check_ipc(data, top["ipc"])
        checkpoint = out / "checkpoint.pt"
        if args.overwrite and not args.resume and main:
            checkpoint.unlink(missing_ok=True)  # start afresh, as asked
        with logging_to(open_sink(args.log) if args.log and main else None):
            synset = dd.distill(
                data,
                top["method"],
                top["ipc"],
                config,
                seed=top.get("seed", 0),
                progress=main,
                checkpoint=checkpoint if main or args.resume else None,
            )
        if not main:
            return 0
        path = synset.save(out / "set.safetensors")
        if "generator" in synset.meta:  # a gtn set: its generator also in a file of its own
            from datadistill.gtn import generator_of, save_generator

            save_generator(generator_of(synset), out / "set.generator.safetensors")
        dd.save_grid(synset, out / "grid.png")
        resolved = {**doc, **top, "config": synset.config}
        _write_text(out / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
        print(f"saved {path} ({synset.images.shape[0]} images) and {out / 'grid.png'}")
        if eval_cfg is not None:
            ev = dd.evaluate(synset, data, eval_cfg)
            if args.compare:
                from datadistill.evaluation import compare_to

                compare_to(ev, synset, data, tuple(args.compare.split(",")))
            krr = _krr(synset, data)
            doc_out = {**ev.to_dict(), **({"krr": krr} if krr else {})}
            _write_text(out / "eval.json", json.dumps(doc_out, indent=2))
            print(ev.table())
    return 0


def _text_config(dataset: str, values: Any) -> Any:
    """The ``TextConfig`` of a text dataset (``text:`` / ``--set text.KEY=V``); None for images."""
    from datadistill.datasets.text import is_text
    from datadistill.settings import make_config

    if not is_text(dataset):
        if values:
            raise ValueError(f"text settings given, but {dataset} is not a text dataset")
        return None
    from datadistill.text import TextConfig

    return make_config(TextConfig, values, "text setting")


def _eval_overrides(args: argparse.Namespace) -> dict[str, Any]:
    keys = ("models", "runs", "epochs", "augment", "seed_eval", "batched", "amp", "compile")
    out = {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}
    if "seed_eval" in out:
        out["seed"] = out.pop("seed_eval")
    return out


def _write_text(path: Path, text: str) -> None:
    """Write ``text`` atomically (a reader never sees half a file)."""
    from datadistill.atomic import write_atomically

    write_atomically(path, lambda tmp: tmp.write_text(text))


def _data_root(args: argparse.Namespace, synset: Any) -> str | None:
    """``--data-root``, else ``$DATADISTILL_DATA``, else the root the set was made from (said on
    stderr), else None (the user cache)."""
    if args.data_root is not None or os.environ.get("DATADISTILL_DATA"):
        return args.data_root
    recorded = synset.meta.get("data_root")
    if recorded and Path(recorded).is_dir() and (args.dataset or synset.info.name) != "digits":
        print(
            f"datadistill: using the data root recorded with the set: {recorded}", file=sys.stderr
        )
        return recorded
    return None


def _krr(synset: Any, data: Any) -> dict[str, Any] | None:
    """A kernel method's own number (kernel ridge regression on the set, test split), printed
    and returned apart from the networks' accuracies; None for sets without a kernel."""
    if not synset.meta.get("kernel"):
        return None
    from datadistill.evaluation import krr_accuracy

    acc = krr_accuracy(synset, data)
    print(f"kernel ridge regression ({synset.meta['kernel']['name']}), not a network: {acc:.2f}%")
    return {"kernel": synset.meta["kernel"], "accuracy": acc}


def cmd_evaluate(args: argparse.Namespace) -> int:
    import datadistill as dd
    from datadistill.datasets import DATASETS, load_for_set
    from datadistill.evaluation import compare_to, knn_table
    from datadistill.evaluation.protocol import DatasetMismatchError

    synset = dd.SyntheticSet.load(args.set_file)
    cfg = _eval_config(_eval_overrides(args))
    args.knn = args.knn or args.knn_only
    name = args.dataset or synset.info.name
    DATASETS.get(name)
    if name != synset.info.name:  # known before any data is read
        raise DatasetMismatchError(
            f"set was made from {synset.info.name}, not {name}; evaluate it on {synset.info.name}"
        )
    data = load_for_set(
        synset, _data_root(args, synset), download=args.download, device=args.device
    )
    doc: dict[str, Any] = {"set": str(args.set_file)}
    if args.knn:
        table = knn_table(synset, data)
        doc["knn"] = table
        print("\n".join(f"k-NN {name}: {acc:.2f}%" for name, acc in table.items()))
    krr = _krr(synset, data)
    if krr:
        doc["krr"] = krr
    if cfg.runs and not args.knn_only:
        ev = dd.evaluate(synset, data, cfg)
        if args.compare:
            compare_to(ev, synset, data, tuple(args.compare.split(",")))
        doc.update(ev.to_dict())
        print(ev.table())
    if args.out:
        _write_text(Path(args.out), json.dumps(doc, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """One network trained with the protocol's loop (on a dataset or a set file) and saved."""
    import datadistill as dd
    from datadistill.cli.outdir import claimed
    from datadistill.datasets import DATASETS, load_for_set
    from datadistill.inspect import save_model, train_model
    from datadistill.models import MODELS

    MODELS.get(args.model)
    synset = dd.SyntheticSet.load(args.set_file) if args.set_file else None
    name = args.dataset or (synset.info.name if synset else None)
    if name is None:
        raise ValueError("give --dataset, or --set-file to train on a set")
    DATASETS.get(name)
    if synset is not None and name != synset.info.name:
        raise ValueError(f"the set was made from {synset.info.name}, not {name}")
    out = Path(args.out)
    with claimed(out, overwrite=args.overwrite, product="model.safetensors"):
        if synset is not None:
            data = load_for_set(
                synset, _data_root(args, synset), download=args.download, device=args.device
            )
        else:
            data = dd.load_dataset(name, args.data_root, download=args.download, device=args.device)
        trained = train_model(
            data, args.model, synset=synset, epochs=args.epochs, seed=args.seed or 0
        )
        if synset is not None:
            trained.meta["set_file"] = str(Path(args.set_file).resolve())
        path = save_model(trained, out)
    acc = trained.meta["test_accuracy"]
    print(f"saved {path}: {args.model} on {trained.meta['trained_on']}, test accuracy {acc:.2f}%")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    import datadistill as dd

    synset = dd.SyntheticSet.load(args.set_file)
    path = dd.save_grid(synset, args.out)
    print(f"wrote {path}")
    if synset.info.extra.get("modality") == "text":
        from datadistill.text import decode_text, text_of_set

        text = text_of_set(synset, _data_root(args, synset), download=args.download)
        words = decode_text(
            synset.images, synset.labels, text.vectors, text.vocab, synset.info.class_names
        )
        path = Path(args.out).with_suffix(".txt")
        _write_text(path, words)
        print(f"wrote {path} (each position's nearest word)")
    return 0


def cmd_experts(args: argparse.Namespace) -> int:
    """Train (or find in the cache) the expert trajectories trajectory matching (``mtt``) reads."""
    import datadistill as dd
    from datadistill.distillation.experts import ExpertConfig, expert_folder, expert_trajectories
    from datadistill.models import MODELS

    MODELS.get(args.model)
    cfg = ExpertConfig(args.model, args.lr, args.batch_size, args.augment, args.seed)
    if args.experts < 1 or args.epochs < 1:
        raise ValueError(
            f"--experts and --epochs must be at least 1, got {args.experts}, {args.epochs}"
        )
    data = dd.load_dataset(
        args.dataset, args.data_root, download=args.download, device=args.device, zca=args.zca
    )
    expert_trajectories(data, cfg, args.experts, args.epochs, progress=True)
    print(f"{args.experts} experts of {args.epochs} epochs in {expert_folder(data, cfg)}")
    return 0


def _add_data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-root",
        dest="data_root",
        default=None,
        help="folder with the datasets; for imagefolder the folder holding train/ and test/, for "
        "npz the one holding train.npz and test.npz (default: $DATADISTILL_DATA, then "
        "~/.cache/datadistill)",
    )
    p.add_argument("--download", action="store_true", help="download missing dataset files")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for PyTorch (default: one per core; give each of two jobs "
        "sharing a machine half the cores)",
    )


def _add_eval_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=None, help="comma-separated architectures (default convnet)")
    p.add_argument(
        "--runs", type=int, default=None, help="models trained per architecture (default 5)"
    )
    p.add_argument(
        "--epochs", type=int, default=None, help="default 300, or 1000 with augmentation"
    )
    p.add_argument("--augment", default=None, help="auto, none, dc or dsa")
    p.add_argument(
        "--batched", default=None, help="train the runs together: auto, yes, no, grouped"
    )
    p.add_argument(
        "--amp", default=None, help="none (default) or bf16: train and test under bf16 autocast"
    )
    p.add_argument(
        "--compile",
        action="store_true",
        default=None,
        help="train and test through torch.compile (with --amp bf16 the fast CPU path)",
    )
    p.add_argument(
        "--compare",
        default=None,
        help="also score relative to references on the same protocol: random, full (costly)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="datadistill",
        description="Distil datasets, select coresets, evaluate them with one protocol, and look "
        "inside the networks trained on them. Bad input: one line on stderr, exit code 2.",
    )
    parser.add_argument("--version", action="version", version=f"datadistill {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "list", help="list datasets, models and methods; or what one of them is and its settings"
    )
    p.add_argument("kind", nargs="?", help="datasets, models, methods, or one name")
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
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the set (and start afresh from any checkpoint) already in OUT",
    )
    p.add_argument("--seed-eval", dest="seed_eval", type=int, default=None)
    p.add_argument(
        "--log",
        "--sink",
        dest="log",
        default=None,
        metavar="SINK:ARG",
        help="also log iterative methods' loss and validation accuracy: tensorboard:DIR "
        "(needs tensorboard) or jsonl:FILE (--sink under torchrun, which takes --log for itself)",
    )
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
    _add_data_args(p)
    _add_eval_args(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train one network (on a dataset or a set) and save it")
    p.add_argument("--dataset", default=None, help="the dataset (default: the set's)")
    p.add_argument("--model", default="convnet", help="architecture (default convnet)")
    p.add_argument("--set-file", dest="set_file", default=None, help="train on this set")
    p.add_argument(
        "--epochs", type=int, default=None, help="default: 5 on a dataset, the protocol's on a set"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder (model.safetensors, model.json)")
    p.add_argument("--overwrite", action="store_true", help="replace a model already in OUT")
    _add_data_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "experts",
        help="train the expert trajectories of trajectory matching (mtt) into the cache",
    )
    p.add_argument("--dataset", required=True)
    p.add_argument("--experts", type=int, default=5, help="how many networks (default 5)")
    p.add_argument("--epochs", type=int, default=4, help="epochs each (default 4)")
    p.add_argument("--model", default="convnet", help="architecture (mtt's model; default convnet)")
    p.add_argument(
        "--lr", type=float, default=0.01, help="SGD rate, no momentum (mtt's lr_teacher)"
    )
    p.add_argument("--batch-size", dest="batch_size", type=int, default=256)
    p.add_argument("--augment", default="dsa", help="dsa or none (mtt's expert_augment)")
    p.add_argument("--seed", type=int, default=0, help="mtt's expert_seed")
    p.add_argument("--zca", action="store_true", help="on ZCA-whitened data")
    _add_data_args(p)
    p.set_defaults(func=cmd_experts)

    add_inspect_parsers(sub, _add_data_args)
    add_generate_parsers(sub, _add_data_args)
    add_transfer_parsers(sub, _add_data_args)
    add_experiment_parsers(sub)
    add_nas_parsers(sub, _add_data_args)

    p = sub.add_parser(
        "show", help="write a PNG grid of a set, one row per class (one strip at one per class)"
    )
    p.add_argument("set_file", metavar="SET")
    p.add_argument(
        "--out", required=True, help="the PNG; for a text set also OUT.txt, its nearest words"
    )
    p.add_argument("--data-root", dest="data_root", default=None, help="(text sets) the data root")
    p.add_argument("--dataset", default=None, help=argparse.SUPPRESS)
    p.add_argument("--download", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_show)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """What bad input raises: reported as one line and exit code 2 (never a traceback)."""
    from datadistill.registry import UnknownNameError

    return (UnknownNameError, ValueError, OSError, yaml.YAMLError)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "threads", None):
            import torch

            torch.set_num_threads(args.threads)
        return args.func(args)
    except BrokenPipeError:  # e.g. `datadistill list | head`: no traceback from the print
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        print("datadistill: error: output closed early (broken pipe)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("datadistill: interrupted", file=sys.stderr)
        return 130
    except _user_errors() as e:
        print(f"datadistill: error: {_one_line(e)}", file=sys.stderr)
        return 2


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


if __name__ == "__main__":
    sys.exit(main())
