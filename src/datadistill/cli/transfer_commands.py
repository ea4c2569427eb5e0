"""``kd``: knowledge distillation across domains. A teacher trained on the source's Big part (or
a model file) teaches students on the target's Small part through a mapping φ; writes the
per-epoch test accuracy and cross-entropy with and without the teacher (``kd.json``), the curve
plot, x beside φ(x), and the mapping's and teacher's files."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def _settings(pairs: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``--set KEY=VALUE`` for a distillation setting, ``--set mapping.KEY=VALUE`` for one of the
    mapping's; values as text (the settings' types parse them)."""
    kd: dict[str, Any] = {}
    mapping: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--set expects KEY=VALUE or mapping.KEY=VALUE, got {pair!r}")
        if key.startswith("mapping."):
            mapping[key.removeprefix("mapping.")] = value
        else:
            kd[key] = value
    return kd, mapping


def cmd_kd(args: argparse.Namespace) -> int:
    from datadistill import transfer
    from datadistill.transfer.student import as_config

    kd_set, mapping_set = _settings(args.set or [])
    flags = {
        "lam": args.lam,
        "temperature": args.temperature,
        "big": args.big,
        "small": args.small,
        "student": args.student,
        "epochs": args.epochs,
        "teacher": args.teacher_model,
        "teacher_epochs": args.teacher_epochs,
    }
    config = as_config(kd_set, **flags)  # bad settings stop here, before any data is read
    transfer.MAPPINGS.get(args.mapping)
    if args.seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {args.seeds}")
    out = Path(args.out)
    if (out / "kd.json").exists() and not args.overwrite:
        raise ValueError(f"{out / 'kd.json'} exists; pass --overwrite to replace it")
    result = transfer.kd(
        args.target,
        args.source,
        args.mapping,
        config=config,
        mapping_config=mapping_set,
        seeds=args.seeds,
        seed=args.seed,
        teacher=args.teacher,
        data_root=args.data_root,
        device=args.device,
        out=out,
        cache=not args.no_cache,
    )
    s = result.summary()
    t = result.teacher_scores
    print(
        f"teacher ({result.teacher.architecture} on {result.teacher.info.name}): "
        f"{t['acc_own_test']:.2f}% on its own test split, {t['acc_mapped_target_test']:.2f}% "
        f"on φ({result.target} test)"
    )
    for measure, name in (("acc", "test accuracy"), ("ce", "test cross-entropy")):
        print(
            f"{name}: with teacher {s[f'{measure}_with_mean']:.3f} ± "
            f"{s[f'{measure}_with_std']:.3f}, without {s[f'{measure}_without_mean']:.3f} ± "
            f"{s[f'{measure}_without_std']:.3f}, difference {s[f'{measure}_diff_mean']:+.3f} ± "
            f"{s[f'{measure}_diff_std']:.3f} ({s['seeds']} seeds)"
        )
    print(f"wrote {out / 'kd.json'}, {out / 'curves.png'}, {out / 'mapping.png'}")
    return 0


def add_parsers(sub: Any, add_data_args: Any) -> None:
    """Register this module's sub-commands on sub."""
    p = sub.add_parser(
        "kd",
        help="knowledge distillation across domains: a teacher trained on a large source set "
        "teaches a student on a small target set through a mapping",
        description="A teacher trained on the source's Big part (or a model file) teaches "
        "students on the target's Small part through a mapping φ; writes the per-epoch test "
        "accuracy and cross-entropy with and without the teacher (kd.json), the curve plot, x "
        "beside φ(x), and the mapping's and the teacher's files. Bad input: one line, exit 2.",
    )
    p.add_argument("--target", required=True, help="the student's dataset (its Small part)")
    p.add_argument(
        "--source",
        default=None,
        help="the teacher's dataset (default: the target; for vae and generated-mnist give "
        "another, e.g. mnist for a fashion-mnist target)",
    )
    p.add_argument(
        "--mapping",
        default="identity",
        help="φ: identity, noise, dilated-conv, vae, generated-mnist (default identity)",
    )
    p.add_argument(
        "--lambda",
        dest="lam",
        type=float,
        default=None,
        help="weight of the hard-label term, in [0, 1] (default 0.5; 1: no teacher)",
    )
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="T of the soft term, which is multiplied by T² (default 4)",
    )
    p.add_argument("--seeds", type=int, default=5, help="students with and without (default 5)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the students' seeds")
    p.add_argument("--big", type=int, default=None, help="size of the Big part (default 59000)")
    p.add_argument("--small", type=int, default=None, help="size of the Small part (default 1000)")
    p.add_argument("--student", default=None, help="student architecture (default lenet)")
    p.add_argument("--epochs", type=int, default=None, help="student epochs (default 30)")
    p.add_argument(
        "--teacher-model",
        dest="teacher_model",
        default=None,
        help="teacher architecture (default lenet)",
    )
    p.add_argument(
        "--teacher-epochs",
        dest="teacher_epochs",
        type=int,
        default=None,
        help="teacher epochs (default 5)",
    )
    p.add_argument(
        "--teacher",
        default=None,
        help="a model file (datadistill train) of the teacher's domain to use instead of training",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="any other setting (lr, batch_size, split_seed, teacher_lr, ...), or "
        "mapping.KEY=VALUE for the mapping's (e.g. mapping.latent_dim=2)",
    )
    p.add_argument(
        "--no-cache",
        dest="no_cache",
        action="store_true",
        help="train the teacher and the mapping afresh and do not keep them",
    )
    p.add_argument("--out", required=True, help="output folder (kd.json, curves.png, ...)")
    p.add_argument("--overwrite", action="store_true", help="replace a kd.json already in OUT")
    add_data_args(p)
    p.set_defaults(func=cmd_kd)
