"""Knowledge distillation across domains on this CPU: for each experiment, students on the
target's Small part (1,000 images) with and without a teacher trained on a Big part (59,000),
final test accuracy and cross-entropy, mean ± std over seeds, and the paired difference.

    python benchmarks/transfer.py --data-root ../shared/data            # everything (~30 min)
    python benchmarks/transfer.py --data-root ../shared/data --quick    # a smoke test in seconds
    python benchmarks/transfer.py --data-root ../shared/data --experiments a,d,sweep-a

Experiments: a FashionMNIST Big→Small (identity), b noise, c dilated-conv, d vae (teacher on
MNIST-Big), e generated-mnist; sweep-a and sweep-d: λ × T on a and d (with-teacher students,
beside the same seeds without); latent: a 2-d VAE's latent map; distilled-a and distilled-d
(not in the default list): a set of 10 images per class made from the Small part (random,
herding, DM) trained with the teacher's soft labels against hard labels; f (not in the default
list: it reads CIFAR-10): style, the teacher on stylised Big images. Records are appended to
results/transfer-cpu.json as each experiment finishes; pictures go to results/transfer/.
Teachers and VAEs are cached (user cache), so a rerun trains only students.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import datadistill as dd
from datadistill import transfer
from datadistill.evaluation.protocol import run_seeds
from datadistill.report.records import append_record, make_record
from datadistill.transfer import figures

HERE = Path(__file__).resolve().parent
EXPERIMENTS = {  # name: (target, source, mapping, settings beyond the defaults)
    "a": ("fashion-mnist", "fashion-mnist", "identity", {}),
    "b": ("fashion-mnist", "fashion-mnist", "noise", {}),
    "c": ("fashion-mnist", "fashion-mnist", "dilated-conv", {}),
    "d": ("fashion-mnist", "mnist", "vae", {}),
    "e": ("fashion-mnist", "mnist", "generated-mnist", {}),
    # no natural-image folder here: CIFAR-10 (50,000 training images: Big is the other 49,000)
    "f": ("cifar10", "cifar10", "style", {"big": None}),
}
LAMBDAS = (0.1, 0.5, 0.9)
TEMPERATURES = (1.0, 4.0, 10.0)
QUICK = {"big": 2000, "small": 200, "epochs": 3, "teacher_epochs": 1}
QUICK_VAE = {"epochs": 1, "hidden": 64}
QUICK_STYLE = {"steps": 2, "pool_images": 64}


def _mean_std(values: list[float]) -> tuple[float, float]:
    t = torch.tensor(values, dtype=torch.float64)
    return float(t.mean()), float(t.std()) if len(values) > 1 else 0.0


def _row(name: str, result: transfer.KDResult, seconds: float, **extra) -> dict:
    s = result.summary()
    finals = [round(r.final_acc, 3) for r in result.with_teacher]
    row = make_record(
        "transfer",
        result.target,
        result.mapping.name,
        0,
        None,
        "cpu",
        experiment=name,
        source=result.source,
        teacher_domain=result.teacher.info.name,
        teacher=result.teacher.architecture,
        teacher_scores=result.teacher_scores,
        student=result.config.student,
        config={("lambda" if k == "lam" else k): v for k, v in vars(result.config).items()},
        mapping_config=result.mapping.describe()["config"],
        mapping_history=getattr(result.mapping, "history", None) or None,
        summary=s,
        acc_with=finals,
        acc_without=[round(r.final_acc, 3) for r in result.without_teacher],
        ce_with=[round(r.final_ce, 5) for r in result.with_teacher],
        ce_without=[round(r.final_ce, 5) for r in result.without_teacher],
        curve_acc_with=_mean_curve(result.with_teacher, "test_acc"),
        curve_acc_without=_mean_curve(result.without_teacher, "test_acc"),
        curve_ce_with=_mean_curve(result.with_teacher, "test_ce"),
        curve_ce_without=_mean_curve(result.without_teacher, "test_ce"),
        seconds=round(seconds, 1),
        student_seconds=round(sum(r.seconds for r in result.with_teacher) / len(finals), 2),
        **extra,
    )
    row.update(acc_mean=s["acc_with_mean"], acc_std=s["acc_with_std"], n_runs=s["seeds"])
    row.update(accs=finals, eval_model=result.config.student, eval_epochs=result.config.epochs)
    return row


def _mean_curve(runs: list[transfer.StudentRun], key: str) -> list[float]:
    return torch.tensor([getattr(r, key) for r in runs]).mean(0).round(decimals=4).tolist()


class Datasets(dict):
    """Datasets loaded on first use (CIFAR-10 only when an experiment asks for it)."""

    def __init__(self, root: str | None) -> None:
        super().__init__()
        self.root = root

    def __missing__(self, name: str) -> dd.DataSplits:
        self[name] = dd.load_dataset(name, self.root, val_size=0)
        return self[name]


def _setup(name: str, args) -> tuple[str, str, str, dict, dict | None]:
    """Target, source, mapping, the KD settings and the mapping's settings of an experiment."""
    target, source, mapping, extra = EXPERIMENTS[name]
    mapping_config = {"vae": args.vae, "generated-mnist": args.vae, "style": args.style}
    return target, source, mapping, {**extra, **args.config}, mapping_config.get(mapping)


def experiment(name: str, data: dict, args, out: Path, pictures: Path) -> transfer.KDResult:
    target, source, mapping, config, mapping_config = _setup(name, args)
    start = time.perf_counter()
    result = transfer.kd(
        data[target],
        data[source],
        mapping,
        config=config,
        mapping_config=mapping_config,
        seeds=args.seeds,
        progress=not args.quiet,
    )
    seconds = time.perf_counter() - start
    figures.save_curves(result, pictures / f"{name}-{mapping}-curves.png")
    figures.save_mapping_examples(
        result.mapping, result.prepared.small, pictures / f"{mapping}-examples.png"
    )
    append_record(out, _row(name, result, seconds))
    s = result.summary()
    print(
        f"({name}) {mapping:<16} teacher {result.teacher_scores['acc_mapped_target_test']:.2f} "
        f"on φ(test) | acc with {s['acc_with_mean']:.2f} ± {s['acc_with_std']:.2f}, without "
        f"{s['acc_without_mean']:.2f} ± {s['acc_without_std']:.2f}, diff "
        f"{s['acc_diff_mean']:+.2f} ± {s['acc_diff_std']:.2f} | ce diff "
        f"{s['ce_diff_mean']:+.4f} ± {s['ce_diff_std']:.4f} | {seconds:.0f} s",
        flush=True,
    )
    return result


def sweep(name: str, data: dict, args, out: Path) -> None:
    """λ × T with the experiment's teacher; final scores only (no per-epoch test)."""
    target, source, mapping, config, mapping_config = _setup(name, args)
    start = time.perf_counter()
    prep = transfer.prepare(
        data[target],
        data[source],
        mapping,
        config=config,
        mapping_config=mapping_config,
        progress=not args.quiet,
    )
    test, info = prep.target.test, prep.target.info
    seeds = run_seeds(0, args.sweep_seeds)

    def students(lam: float, temperature: float) -> list[transfer.StudentRun]:
        cfg = transfer.student.as_config(args.config, lam=lam, temperature=temperature)
        return [
            transfer.train_student(
                prep.small, test, info, config=cfg, seed=s, logits=prep.logits, curves=False
            )
            for s in seeds
        ]

    base = students(1.0, 1.0)  # λ = 1 is plain training at every T
    cells = []
    for lam in LAMBDAS:
        for temperature in TEMPERATURES:
            runs = students(lam, temperature)
            cell = {"lambda": lam, "temperature": temperature}
            for measure in ("acc", "ce"):
                w = [getattr(r, f"final_{measure}") for r in runs]
                wo = [getattr(r, f"final_{measure}") for r in base]
                diff = [a - b for a, b in zip(w, wo, strict=True)]
                for tag, values in (("with", w), ("diff", diff)):
                    m, sd = _mean_std(values)
                    cell[f"{measure}_{tag}_mean"], cell[f"{measure}_{tag}_std"] = (
                        round(m, 4),
                        round(sd, 4),
                    )
            cells.append(cell)
            print(
                f"(sweep-{name}) λ={lam} T={temperature:g}: acc {cell['acc_with_mean']:.2f} "
                f"(diff {cell['acc_diff_mean']:+.2f} ± {cell['acc_diff_std']:.2f}), ce diff "
                f"{cell['ce_diff_mean']:+.4f}",
                flush=True,
            )
    acc_base = _mean_std([r.final_acc for r in base])
    ce_base = _mean_std([r.final_ce for r in base])
    row = make_record(
        "transfer",
        info.name,
        mapping,
        0,
        None,
        "cpu",
        experiment=f"sweep-{name}",
        source=prep.source.info.name,
        teacher_scores=prep.teacher_scores,
        config={("lambda" if k == "lam" else k): v for k, v in vars(prep_config(args)).items()},
        seeds=len(seeds),
        without_acc_mean=round(acc_base[0], 4),
        without_acc_std=round(acc_base[1], 4),
        without_ce_mean=round(ce_base[0], 5),
        without_ce_std=round(ce_base[1], 5),
        cells=cells,
        seconds=round(time.perf_counter() - start, 1),
    )
    row.update(eval_model=prep_config(args).student, eval_epochs=prep_config(args).epochs)
    append_record(out, row)


DISTILLED = {  # method: settings (DM shortened to fit the CPU budget; stated in the record)
    "random": {},
    "herding": {},
    "dm": {"iterations": 300, "model": "convnet-w32"},
}
DISTILLED_IPC, DISTILLED_EPOCHS = 10, 150


def distilled(name: str, data: dict, args, out: Path) -> None:
    """Dataset and model distillation together: a set of 10 images per class made from the
    target's Small part (``dd.distill``), students trained on it with the teacher's soft labels
    (λ, T as configured) against the same set with hard labels (λ = 1)."""
    import dataclasses

    target, source, mapping, config, mapping_config = _setup(name, args)
    prep = transfer.prepare(
        data[target], data[source], mapping, config=config, mapping_config=mapping_config,
        progress=not args.quiet,
    )  # fmt: skip
    test, info = prep.target.test, prep.target.info
    only_small = dataclasses.replace(prep.target, train=prep.small, val=prep.small)
    epochs = 2 if args.quick else DISTILLED_EPOCHS
    cfg = transfer.student.as_config(args.config, epochs=epochs)
    seeds = run_seeds(0, args.sweep_seeds)
    for method, settings in DISTILLED.items():
        start = time.perf_counter()
        if args.quick and method == "dm":
            settings = {**settings, "iterations": 2}
        synset = dd.distill(only_small, method, DISTILLED_IPC, settings, seed=0, progress=False)
        made = time.perf_counter() - start
        images, labels = synset.images.detach(), synset.hard_labels
        small = dd.datasets.TensorSet(images, labels, info.num_classes)
        stream = torch.Generator().manual_seed(prep.mapping.seed + 1)
        logits = transfer.teacher_logits(prep.teacher.model, images, prep.mapping, stream)
        runs = {}
        for tag, lam in (("soft", cfg.lam), ("hard", 1.0)):
            c = transfer.student.as_config(cfg, lam=lam)
            runs[tag] = [
                transfer.train_student(
                    small, test, info, config=c, seed=s, logits=logits, curves=False
                )
                for s in seeds
            ]
        summary = {}
        for measure in ("acc", "ce"):
            soft = [getattr(r, f"final_{measure}") for r in runs["soft"]]
            hard = [getattr(r, f"final_{measure}") for r in runs["hard"]]
            diff = [a - b for a, b in zip(soft, hard, strict=True)]
            for tag, values in (("soft", soft), ("hard", hard), ("diff", diff)):
                m, sd = _mean_std(values)
                summary[f"{measure}_{tag}_mean"], summary[f"{measure}_{tag}_std"] = (
                    round(m, 4),
                    round(sd, 4),
                )
        row = make_record(
            "transfer",
            info.name,
            mapping,
            DISTILLED_IPC,
            None,
            "cpu",
            experiment=f"distilled-{name}-{method}",
            set_method=method,
            set_settings=settings,
            set_seconds=round(made, 1),
            source=prep.source.info.name,
            teacher_scores=prep.teacher_scores,
            teacher_acc_on_set=round(100.0 * float((logits.argmax(1) == labels).float().mean()), 2),
            config={("lambda" if k == "lam" else k): v for k, v in vars(cfg).items()},
            seeds=len(seeds),
            distilled=summary,
            acc_soft=[round(r.final_acc, 3) for r in runs["soft"]],
            acc_hard=[round(r.final_acc, 3) for r in runs["hard"]],
            seconds=round(time.perf_counter() - start, 1),
        )
        append_record(out, row)
        print(
            f"(distilled-{name}) {method} IPC {DISTILLED_IPC}: soft labels "
            f"{summary['acc_soft_mean']:.2f} ± {summary['acc_soft_std']:.2f}, hard "
            f"{summary['acc_hard_mean']:.2f} ± {summary['acc_hard_std']:.2f}, diff "
            f"{summary['acc_diff_mean']:+.2f} ± {summary['acc_diff_std']:.2f}; ce diff "
            f"{summary['ce_diff_mean']:+.4f}",
            flush=True,
        )


def prep_config(args) -> transfer.KDConfig:
    return transfer.student.as_config(args.config)


def latent(data: dict, args, out: Path, pictures: Path) -> None:
    """A 2-d VAE (otherwise the default settings) and its latent map; the MNIST teacher's
    accuracy on its φ of the FashionMNIST test split."""
    vae = {**(args.vae or {}), "latent_dim": 2}
    start = time.perf_counter()
    prep = transfer.prepare(
        data["fashion-mnist"], data["mnist"], "vae", config=args.config, mapping_config=vae,
        progress=not args.quiet,
    )  # fmt: skip
    figures.save_latent_map(prep.mapping, pictures / "vae-latent-map.png")
    figures.save_mapping_examples(prep.mapping, prep.small, pictures / "vae2d-examples.png")
    row = make_record(
        "transfer",
        "fashion-mnist",
        "vae",
        0,
        None,
        "cpu",
        experiment="latent",
        source="mnist",
        mapping_config=prep.mapping.describe()["config"],
        mapping_history=prep.mapping.history,
        teacher_scores=prep.teacher_scores,
        seconds=round(time.perf_counter() - start, 1),
    )
    append_record(out, row)
    print(
        f"(latent) 2-d vae: teacher {prep.teacher_scores['acc_mapped_target_test']:.2f} on φ(test)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument(
        "--experiments", default="a,b,c,d,e,latent,sweep-a,sweep-d", help="comma-separated"
    )
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--sweep-seeds", dest="sweep_seeds", type=int, default=5)
    p.add_argument("--quick", action="store_true", help="tiny budgets, results in a temp folder")
    p.add_argument("--out", default=None, help="the JSON record file")
    p.add_argument("--pictures", default=None, help="the folder for PNGs")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    args = p.parse_args()
    torch.set_num_threads(1)
    names = [n for n in args.experiments.split(",") if n]
    known = {*EXPERIMENTS, "latent"} | {
        f"{k}-{e}" for k in ("sweep", "distilled") for e in EXPERIMENTS
    }
    unknown = set(names) - known
    if unknown:
        p.error(f"unknown experiments {sorted(unknown)}")
    args.config, args.vae, args.style = {}, None, None
    results = HERE / "results"
    if args.quick:
        results = Path(tempfile.mkdtemp(prefix="transfer-quick-"))
        args.config, args.vae, args.style = dict(QUICK), dict(QUICK_VAE), dict(QUICK_STYLE)
        args.seeds, args.sweep_seeds = min(args.seeds, 2), min(args.sweep_seeds, 2)
    out = Path(args.out or results / "transfer-cpu.json")
    pictures = Path(args.pictures or results / "transfer")
    pictures.mkdir(parents=True, exist_ok=True)
    data = Datasets(args.data_root)
    for name in names:
        if name in EXPERIMENTS:
            experiment(name, data, args, out, pictures)
        elif name == "latent":
            latent(data, args, out, pictures)
        elif name.startswith("sweep-"):
            sweep(name.removeprefix("sweep-"), data, args, out)
        else:
            distilled(name.removeprefix("distilled-"), data, args, out)
    print(f"records in {out}, pictures in {pictures}")


if __name__ == "__main__":
    main()
