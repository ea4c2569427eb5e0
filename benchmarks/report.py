"""Render every JSON file under benchmarks/results/ as markdown tables in benchmarks/RESULTS.md.

    python benchmarks/report.py

Figures come only from the JSON records; published figures are labelled with their source.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).parent


def _fmt(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "–"
    return f"{mean:.2f} ± {std:.2f}" if std is not None else f"{mean:.2f}"


def _verdict(row: dict) -> str:
    """How far ours is from the paper, in the paper's std (or ours where the paper gives none)."""
    pub = row.get("published")
    if not pub or row.get("acc_mean") is None:
        return ""
    std = pub.get("acc_std") or row.get("acc_std") or 0.0
    gap = row["acc_mean"] - pub["acc_mean"]
    if std == 0:
        return f"{gap:+.2f}"
    return f"{gap:+.2f} ({gap / std:+.1f} σ)"


def _sources(rows: list[dict]) -> list[str]:
    """The footnote naming where each published figure in a table comes from."""
    sources = sorted({r["published"]["source"] for r in rows if r.get("published")})
    return ["", *(f"Published: {s}." for s in sources)]


def _table(header: str, cells: list[list]) -> list[str]:
    """A markdown table: the header (column names separated by ``|``), its separator, one line
    per row of cells."""
    names = header.split("|")
    return [
        "| " + " | ".join(names) + " |",
        "|" + "---|" * len(names),
        *("| " + " | ".join(str(c) for c in row) + " |" for row in cells),
    ]


VARIANT_KEYS = ("init", "order", "epochs", "embedding", "amp", "channels_last", "compile")


def accuracy_table(rows: list[dict]) -> list[str]:
    cells = []
    for r in rows:
        settings = r.get("settings") or {}
        variant = ", ".join(f"{k}={settings[k]}" for k in VARIANT_KEYS if k in settings)
        if r.get("iterations"):
            variant = ", ".join(filter(None, [variant, f"{r['iterations']} iterations"]))
        pub = r.get("published") or {}
        cells.append(
            [
                r["dataset"],
                r["method"],
                r["ipc"],
                variant,
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
                _fmt(pub.get("acc_mean"), pub.get("acc_std")),
                _verdict(r),
                f"{r['eval_model']}, {r['eval_epochs']} ep, aug {r['augment']}",
                r["device"],
                "–" if r.get("eval_seconds") is None else f"{r['eval_seconds']:.1f}",
            ]
        )
    header = (
        "dataset|method|ipc|settings|ours (%)|runs|published (%)|ours − published|eval|device"
        "|s/model"
    )
    return _table(header, cells) + _sources(rows)


def timing_table(rows: list[dict]) -> list[str]:
    header = "images|augmentation|epochs|s per model (train + test)|target|device|torch|runs"
    cells = [
        [
            r["ipc"] * 10,
            r["augment"],
            r["eval_epochs"],
            f"{r['eval_seconds']:.1f}",
            r.get("target_seconds", "–"),
            r["device"],
            r["torch"],
            r["n_runs"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def floor_table(rows: list[dict]) -> list[str]:
    keys = ("images", "eval_epochs", "train_tflop", "test_tflop", "matmul_gflops", "floor_seconds")
    header = "images|epochs|train TFLOP|test TFLOP|matmul GFLOP/s|floor s|device"
    return _table(header, [[*(r[k] for k in keys), r["device"]] for r in rows])


def iteration_table(rows: list[dict]) -> list[str]:
    header = (
        "method|ipc|s/iteration|TFLOP/iteration|achieved GFLOP/s|matmul GFLOP/s|floor s|target s"
        "|reference code s|peak MB|settings|device"
    )
    keys = (
        "method",
        "ipc",
        "seconds_per_iteration",
        "tflop_per_iteration",
        "achieved_gflops",
        "matmul_gflops",
        "floor_seconds",
    )
    cells = [
        [
            *(r[k] for k in keys),
            r.get("target_seconds") or "–",
            r.get("reference_seconds") or "–",
            r.get("peak_mem_mb") or "–",
            _settings(r.get("settings")),
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def _settings(settings: dict | None) -> str:
    """A record's non-default method settings, ``k=v`` joined, or "defaults"."""
    return ", ".join(f"{k}={v}" for k, v in (settings or {}).items()) or "defaults"


def dd_table(rows: list[dict]) -> list[str]:
    cells = []
    for r in rows:
        pub = r.get("published") or {}
        notes = []
        if r.get("lr") is not None:
            notes.append(f"constant lr {r['lr']} (best on validation)")
        if r.get("acc_before") is not None:
            before = r["acc_before"]
            before = before if isinstance(before, list) else [before]
            notes.append("before: " + ", ".join(f"{b:.1f}" for b in before[:3]))
        if r.get("seed"):
            notes.append(f"seed {r['seed']}")
        if r.get("seeds"):
            notes.append("one set per seed; mean ± std over the sets")
        if r.get("other_classes_acc"):
            notes.append("other classes: " + ", ".join(f"{a:.1f}" for a in r["other_classes_acc"]))
        cells.append(
            [
                r["setting"],
                r["dataset"],
                r.get("init") or "–",
                f"{r['steps']} × {r['epochs']}" if r.get("steps") else "–",
                r.get("n_images") or "–",
                r.get("iterations") or "–",
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
                _fmt(pub.get("acc_mean"), pub.get("acc_std")),
                _verdict(r),
                "; ".join(notes),
                r["device"],
            ]
        )
    header = (
        "setting|dataset|init|steps × epochs|images|iterations|ours (%)|runs|published (%)"
        "|ours − published|notes|device"
    )
    return _table(header, cells) + _sources(rows)


def memory_table(rows: list[dict]) -> list[str]:
    header = "unrolled steps|gradient checkpointing|autograd saved MB|CUDA peak MB|s|device"
    cells = [
        [
            r["steps"],
            r["grad_checkpoint"],
            r["autograd_saved_mb"],
            r["peak_mem_mb"] if r["peak_mem_mb"] is not None else "–",
            r["seconds"],
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def dd_speed_table(rows: list[dict]) -> list[str]:
    header = "setting|steps × epochs|CUDA graph|s/iteration|iterations timed|device"
    cells = [
        [
            r["setting"],
            f"{r['steps']} × {r['epochs']}",
            r["cuda_graph"],
            r["seconds_per_iteration"],
            r["iterations"],
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def time_to_accuracy_table(rows: list[dict]) -> list[str]:
    cells = []
    for r in rows:
        settings = _settings(r.get("settings"))
        reached = "yes" if r["acc_mean"] >= r["threshold"] else "no"
        cells.append(
            [
                r["dataset"],
                r["method"],
                r["ipc"],
                settings,
                r["iterations"],
                f"{r['distill_seconds']:.0f}",
                r["distill_device"],
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
                f"{reached} ({r['threshold']})",
                r["device"],
            ]
        )
    header = (
        "dataset|method|ipc|settings|iterations|distill s|distilled on|ours (%)|runs"
        "|≥ threshold|evaluated on"
    )
    return _table(header, cells)


def scoring_table(rows: list[dict]) -> list[str]:
    header = (
        "set|iterations|all 10,000 (%)|one batch of 1,024: mean ± std|97.5th pct|max"
        "|share ≥ published|published|draws|device"
    )
    cells = [
        [
            r["set"],
            r["iterations"],
            r["acc_all"],
            _fmt(r["acc_1024_mean"], r["acc_1024_std"]),
            r["acc_1024_q975"],
            r["acc_1024_max"],
            r["share_at_least_published"],
            r["published"]["acc_mean"],
            r["draws"],
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def startup_table(rows: list[dict]) -> list[str]:
    header = "command|code|median s|runs (s)|machine|date"
    cells = [
        [
            f"`{r['command']}`",
            f"{r['label']} ({r['code_commit']})",
            f"{r['median_s']:.2f}",
            ", ".join(f"{t:.2f}" for t in r["runs_s"]),
            r["machine"],
            r["date"][:10],
        ]
        for r in rows
    ]
    return _table(header, cells)


def contention_table(rows: list[dict]) -> list[str]:
    header = "tests|torch threads|beside|seconds|machine"
    cells = [
        [r["tests"], r["threads"], r["neighbour"] or "nothing", r["seconds"], r["machine"]]
        for r in rows
    ]
    return _table(header, cells)


def faithfulness_table(rows: list[dict]) -> list[str]:
    header = (
        "dataset|model (test acc.)|method|deletion AUC ↓|random order AUC|rank corr. after "
        "randomising top layers|ms / image|flags|device"
    )
    cells = [
        [
            r["dataset"],
            f"{r['model']} ({r['model_test_accuracy']:.2f})",
            r["method"],
            f"{r['deletion_auc']:.3f}",
            f"{r['random_order_auc']:.3f}",
            f"{r['randomisation_spearman']:+.3f} ({r['randomised_layers']} layers)",
            f"{r['seconds_per_image'] * 1000:.1f}",
            "; ".join(r["flags"]) or "—",
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def kernels_table(rows: list[dict]) -> list[str]:
    header = (
        "dataset|IPC|method|kernel|KRR accuracy (kernel's own)|ConvNet accuracy (network)|"
        "network trained with|iterations|s / iteration|kernel entries/s (fc, conv)|published|device"
    )
    cells = [
        [
            r["dataset"],
            r["ipc"],
            r["method"],
            r["kernel"],
            f"{r['krr_mean']:.2f} ± {r['krr_std']:.2f} ({len(r['krr_accs'])} seeds)",
            _fmt(r["acc_mean"], r["acc_std"]) + (f" ({r['n_runs']} runs)" if r["n_runs"] else ""),
            r["network"] if r["n_runs"] else "—",
            r["iterations"] or "—",
            r["seconds_per_iteration"] or "—",
            ", ".join(f"{v:.3g}" for v in r["kernel_entries_per_s"].values()),
            r["published"] or "not found offline",
            r["device"],
        ]
        for r in rows
    ]
    from kernels import PUBLISHED_NOTE

    return [*_table(header, cells), "", f"Published: {PUBLISHED_NOTE}."]


def kernel_transfer_table(rows: list[dict]) -> list[str]:
    header = "dataset|set|network|augmentation|epochs|trained with|accuracy|runs|device"
    cells = [
        [
            r["dataset"],
            f"{r['method']} IPC {r['ipc']}",
            r["eval_model"],
            r["augment"],
            r["eval_epochs"],
            r["variant"],
            _fmt(r["acc_mean"], r["acc_std"]),
            r["n_runs"],
            r["device"],
        ]
        for r in rows
    ]
    return _table(header, cells)


def generate_table(rows: list[dict]) -> list[str]:
    """Images from networks: one table per part (texture, style, invert, checkerboard,
    fast-style, timing), each row one run; the pictures are named beside them."""
    g = "{:.3g}".format
    parts = {
        "texture": (
            "weights|matched layers|Gram parameters|steps (evaluations)|s|style loss (start)"
            "|relative style loss: random / hed",
            lambda r: [
                f"{r['weights']} ({r['arch']})",
                f"conv1_1 … {r['up_to']}",
                f"{r['gram_parameters']:,}",
                f"{r['steps']} ({r['evaluations']})",
                r["seconds"],
                f"{g(r['style_loss'])} ({g(r['start_loss'])})",
                " / ".join(g(v) for v in r["relative_style_loss"].values()),
            ],
        ),
        "style": (
            "weights|style layers|α/β|steps|s|style loss|content loss",
            lambda r: [
                f"{r['weights']} ({r['arch']})",
                ", ".join(r["style_layers"]),
                f"{r['alpha_beta']:g}",
                r["steps"],
                r["seconds"],
                g(r["style_loss"]),
                g(r["content_loss"]),
            ],
        ),
        "invert": (
            "weights|layer|steps|s|relative feature error|pixel RMSE",
            lambda r: [
                f"{r['weights']} ({r['arch']})",
                r["layer"],
                r["steps"],
                r["seconds"],
                f"{r['relative_error']:.4f}",
                f"{r['pixel_rmse']:.3f}",
            ],
        ),
        "checkerboard": (
            "kernel|stride|taps per output pixel (min–max)|one row of the pattern",
            lambda r: [
                r["kernel"],
                r["stride"],
                f"{r['taps_min']}–{r['taps_max']}",
                " ".join(map(str, r["pattern_row"])),
            ],
        ),
        "fast-style": (
            "upsampler|steps × batch|train s|held-out style / content loss|artefact score "
            "period 2 / 4|inputs' score period 2 / 4",
            lambda r: [
                r["upsampler"],
                f"{r['steps']} × {r['batch']}",
                r["train_seconds"],
                f"{g(r['held_out_losses']['style'])} / {g(r['held_out_losses']['content'])}",
                f"{r['artefact_score_period2']:.2e} / {r['artefact_score_period4']:.2e}",
                f"{r['inputs_artefact_score_period2']:.2e} / "
                f"{r['inputs_artefact_score_period4']:.2e}",
            ],
        ),
        "timing": (
            "method|weights|size|steps (evaluations)|s per image|losses",
            lambda r: [
                r["method"],
                f"{r['weights']} ({r['arch']})",
                f"{r['size']}²",
                f"{r['steps']} ({r['evaluations']})" if r["steps"] else "one forward pass",
                r["seconds_per_image"],
                ", ".join(f"{k} {g(v)}" for k, v in r["losses"].items() if k != "total"),
            ],
        ),
    }
    lines = []
    for part, (header, cells) in parts.items():
        chosen = [r for r in rows if r.get("part") == part]
        if chosen:
            lines += [
                f"**{part}** ({chosen[0]['device']})",
                "",
                *_table(header, [cells(r) for r in chosen]),
                "",
            ]
    return lines


def transfer_table(rows: list[dict]) -> list[str]:
    """Knowledge distillation across domains: per experiment the students' final test accuracy
    and cross-entropy with and without the teacher and the paired difference; the λ × T sweeps;
    the 2-d VAE. The latest record of each experiment."""
    latest = {r["experiment"]: r for r in rows}
    main = [r for name, r in sorted(latest.items()) if "cells" not in r and "summary" in r]
    cells = []
    for r in main:
        s, t = r["summary"], r["teacher_scores"]
        helps = s["acc_diff_mean"] > 0 and s["ce_diff_mean"] < 0
        cells.append(
            [
                f"({r['experiment']}) {r['method']} → {r['dataset']}",
                f"{r['teacher']} on {r['teacher_domain']}: {t['acc_own_test']:.2f} / "
                f"{t['acc_mapped_target_test']:.2f}",
                f"{s['acc_with_mean']:.2f} ± {s['acc_with_std']:.2f}",
                f"{s['acc_without_mean']:.2f} ± {s['acc_without_std']:.2f}",
                f"{s['acc_diff_mean']:+.2f} ± {s['acc_diff_std']:.2f}",
                f"{s['ce_with_mean']:.4f} ± {s['ce_with_std']:.4f}",
                f"{s['ce_without_mean']:.4f} ± {s['ce_without_std']:.4f}",
                f"{s['ce_diff_mean']:+.4f} ± {s['ce_diff_std']:.4f}",
                "both" if helps else "no",
                f"{s['seeds']}",
                f"{r['seconds']:.0f}",
            ]
        )
    lines = _table(
        "experiment (φ)|teacher: acc. own test / on φ(target test)|acc. with teacher|"
        "acc. without|paired diff.|CE with|CE without|paired diff.|teacher helps|seeds|s",
        cells,
    )
    if main:
        c = main[0]["config"]
        lines += [
            "",
            f"Student {main[0]['student']} on {c['small']} target images, {c['epochs']} "
            f"epochs, lr {c['lr']}, batch {c['batch_size']}; λ = {c['lambda']}, T = "
            f"{c['temperature']} (soft term × T²); teachers trained {c['teacher_epochs']} epochs "
            f"on a Big part of {c['big']}. Means ± std over seeds; the difference is paired "
            "(same seed with and without the teacher).",
        ]
    for r in (r for name, r in sorted(latest.items()) if "cells" in r):
        lines += [
            "",
            f"λ × T sweep, {r['experiment']} ({r['method']}, {r['seeds']} seeds; without the "
            f"teacher: {r['without_acc_mean']:.2f} ± {r['without_acc_std']:.2f}, CE "
            f"{r['without_ce_mean']:.4f} ± {r['without_ce_std']:.4f}):",
            "",
        ]
        lines += _table(
            "λ|T|acc. with teacher|paired diff.|CE paired diff.",
            [
                [
                    x["lambda"],
                    x["temperature"],
                    f"{x['acc_with_mean']:.2f} ± {x['acc_with_std']:.2f}",
                    f"{x['acc_diff_mean']:+.2f} ± {x['acc_diff_std']:.2f}",
                    f"{x['ce_diff_mean']:+.4f} ± {x['ce_diff_std']:.4f}",
                ]
                for x in r["cells"]
            ],
        )
    made = [r for name, r in sorted(latest.items()) if "distilled" in r]
    if made:
        lines += [
            "",
            "A set of 10 images per class made from the Small part, students trained on it with "
            "the teacher's soft labels (λ, T as above) against hard labels (same seeds):",
            "",
        ]
        lines += _table(
            "teacher (φ)|set|teacher acc. on φ(set)|acc. soft labels|acc. hard labels|"
            "paired diff.|CE paired diff.|seeds|student epochs",
            [
                [
                    r["method"],
                    f"{r['set_method']} IPC {r['ipc']}",
                    f"{r['teacher_acc_on_set']:.1f}",
                    f"{d['acc_soft_mean']:.2f} ± {d['acc_soft_std']:.2f}",
                    f"{d['acc_hard_mean']:.2f} ± {d['acc_hard_std']:.2f}",
                    f"{d['acc_diff_mean']:+.2f} ± {d['acc_diff_std']:.2f}",
                    f"{d['ce_diff_mean']:+.4f} ± {d['ce_diff_std']:.4f}",
                    r["seeds"],
                    r["config"]["epochs"],
                ]
                for r in made
                for d in (r["distilled"],)
            ],
        )
    if "latent" in latest:
        r = latest["latent"]
        lines += [
            "",
            f"2-d VAE (latent map in results/transfer/vae-latent-map.png): the MNIST teacher "
            f"classifies φ(FashionMNIST test) at {r['teacher_scores']['acc_mapped_target_test']:.2f}%.",
        ]
    return lines


def text_table(rows: list[dict]) -> list[str]:
    """Text distillation: one row per network, method and sentences per class, all runs pooled
    (sets from several seeds, each scored by fresh networks); then the DD/SLDD tuning points on
    the validation split; the published note beside, as published."""
    tune = [r for r in rows if r.get("part") == "tune"]
    rows = [r for r in rows if r.get("part") != "tune"]
    cells = []
    for r in rows:
        seeds = r.get("distill_seeds") or []
        s = r.get("settings") or {}
        rates = ", ".join(f"{k} {s[k]}" for k in ("lr_img", "lr_init") if k in s)
        cells.append(
            [
                r.get("text_model", "textcnn"),
                r["method"],
                "all" if r["method"] == "full" else r["ipc"],
                _fmt(r["acc_mean"], r["acc_std"]),
                f"{r['n_runs']} ({len(seeds)} sets)" if r["method"] != "full" else r["n_runs"],
                r.get("iterations") or "–",
                (rates + " (chosen on validation)") if r.get("tuned_on") else (rates or "default"),
                r.get("eval_epochs") or "–",
                r.get("seconds_per_iteration") or "–",
            ]
        )
    header = (
        "network|method|sentences/class|accuracy (%)|runs|iterations|rates|eval epochs|s/iteration"
    )
    lines = _table(header, cells)
    if tune:
        cells = [
            [
                r.get("text_model", "textcnn"),
                r["method"],
                r["ipc"],
                r["settings"]["lr_img"],
                r["settings"]["lr_init"],
                r["settings"]["iterations"],
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
            ]
            for r in tune
        ]
        header = "network|method|sentences/class|lr_img|lr_init|iterations|validation accuracy|runs"
        lines += [
            "",
            "Tuning on the validation split (one set, seed 0):",
            "",
            *_table(header, cells),
        ]
    first = rows[0] if rows else tune[0]
    lines += [
        "",
        f"Dataset {first['dataset']}. Embedding: {first.get('embedding')}; sentences "
        f"{first.get('text_config')}; corpus {first.get('corpus')}; train/val/test "
        f"{first.get('train_val_test')}.",
    ]
    notes = sorted({r["published_note"] for r in rows + tune if r.get("published_note")})
    lines += [f"Published: {n}." for n in notes]
    return lines


def mtt_table(rows: list[dict]) -> list[str]:
    """Trajectory matching: accuracy beside DM and random at the same budget, then peak memory
    against syn_steps for both gradients."""
    acc = [r for r in rows if r.get("part") == "accuracy"]
    mem = [r for r in rows if r.get("part") == "memory"]
    lines: list[str] = []
    if acc:
        cells = []
        for r in acc:
            s = r.get("settings") or {}
            budget = ", ".join(
                f"{k} {s[k]}"
                for k in (
                    "experts",
                    "expert_epochs",
                    "max_start_epoch",
                    "syn_steps",
                    "iterations",
                    "lr_img",
                )
                if k in s
            )
            spi = r.get("seconds_per_iteration")
            cells.append(
                [
                    r["dataset"],
                    r["ipc"],
                    r["method"],
                    _fmt(r["acc_mean"], r["acc_std"]),
                    r["n_runs"],
                    budget or "–",
                    "–" if spi is None else f"{spi:.2f}",
                    "–" if r.get("expert_seconds") is None else f"{r['expert_seconds']:.0f}",
                    "–" if r.get("learned_lr") is None else f"{r['learned_lr']:.4g}",
                    f"{r['eval_model']}, {r['eval_epochs']} ep, aug {r['augment']}"
                    + (f", {r['eval_lr']} rate" if r.get("eval_lr") else ""),
                    r["device"],
                ]
            )
        header = (
            "dataset|ipc|method|ours (%)|runs|budget|s/iteration|experts (read or trained) + 1 iteration, s"
            "|learned lr|eval|device"
        )
        lines += _table(header, cells)
    if mem:
        cells = [
            [
                r["gradient"],
                r["syn_steps"],
                r["ipc"],
                r.get("extra_mem_mb", "–"),
                r["peak_mem_mb"],
                f"{r['seconds_per_iteration']:.2f}",
                r["device"],
            ]
            for r in sorted(mem, key=lambda r: (r["gradient"], r["syn_steps"]))
        ]
        header = "gradient|syn_steps|ipc|peak − before (MB)|peak RSS (MB)|s/iteration|device"
        lines += ["", *_table(header, cells)]
    return lines


def gtn_table(rows: list[dict]) -> list[str]:
    """Teaching networks: few-step learner accuracy per trainer beside real batches and DC/DD
    sets fed the same way, then the memory of one outer iteration against K."""
    acc = [r for r in rows if r.get("part") in ("accuracy", "dcdd")]
    mem = [r for r in rows if r.get("part") == "memory"]
    cells = []
    for r in acc:
        spi = r.get("seconds_per_iteration")
        lr = r.get("learned_lr")
        space = (r.get("settings") or {}).get("learner_space")
        name = r.get("trainer") or r["method"]
        cells.append(
            [
                r["dataset"],
                f"{name} (learners from the {space} space)" if space else name,
                r["ipc"] if r.get("part") == "dcdd" else "–",
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
                f"{r['inner_steps']} × {r['batch_size']}",
                r.get("iterations") or "–",
                "–" if spi is None else f"{spi:.2f}",
                "–" if lr is None else f"{lr:.3g} / {r['learned_momentum']:.2f}",
                r["device"],
            ]
        )
    header = (
        "dataset|data (trainer or method)|ipc|test acc. after K steps (%)|learners|K × batch"
        "|iterations|s/iteration|learned lr / momentum|device"
    )
    lines = _table(header, cells)
    if mem:
        mem_cells = [
            [
                r["trainer"],
                r["inner_steps"],
                r.get("extra_mem_mb", "–"),
                f"{r['seconds_per_iteration']:.2f}",
                r["device"],
            ]
            for r in sorted(mem, key=lambda r: (r["trainer"], r["inner_steps"]))
        ]
        header = "trainer|K|peak − before (MB)|s/iteration|device"
        lines += ["", *_table(header, mem_cells)]
    return lines


def nas_table(rows: list[dict]) -> list[str]:
    """Architecture-search proxies: rank agreement with the ground truth and cost."""
    cells = []
    for r in rows:
        making = r.get("proxy_making_seconds") or {}
        for proxy, a in r["agreement"].items():
            name = proxy.split(":")[-1]
            made = next((v for k, v in making.items() if name in (k, k.rsplit(".", 1)[0])), None)
            best = next(v for k, v in a.items() if k.endswith("_best_truth_rank"))
            cells.append(
                [
                    r["dataset"],
                    r["candidates"],
                    proxy,
                    "–" if a["spearman"] is None else f"{a['spearman']:.3f}",
                    "–" if a["kendall"] is None else f"{a['kendall']:.3f}",
                    a["top1_truth_rank"],
                    best,
                    f"{r['seconds_per_candidate'][proxy]:.2f}",
                    "–" if made is None else f"{made:.0f}",
                ]
            )
        cells.append(
            [
                r["dataset"],
                r["candidates"],
                "ground truth",
                "1",
                "1",
                "1",
                "1",
                f"{r['seconds_per_candidate']['truth']:.2f}",
                "–",
            ]  # fmt: skip
        )
    header = (
        "dataset|candidates|proxy|Spearman|Kendall|true rank of top-1|best true rank in top-5"
        "|s/candidate|s to make the data"
    )
    return _table(header, cells) + _sources(rows)


def bf16_table(rows: list[dict]) -> list[str]:
    """bfloat16 autocast against float32 on a CPU: evaluation accuracy and seconds per model,
    seconds per DM iteration."""
    distilled = [r for r in rows if r.get("part") == "distill"]
    rows = [r for r in rows if r.get("part") != "distill"]
    cells = []
    for r in rows:
        evaluation = r.get("part") == "evaluation"
        cells.append(
            [
                r["part"],
                r["amp"],
                _fmt(r["acc_mean"], r["acc_std"]) if evaluation else "–",
                r["n_runs"] if evaluation else "–",
                f"{r['eval_seconds']:.1f}" if evaluation else "–",
                "–" if evaluation else f"{r['seconds_per_iteration']:.3f}",
                f"{r['eval_model']}, {r['eval_epochs']} ep, aug {r['augment']}" if evaluation
                else f"{r['iterations']} iterations",
                r["device"],
            ]
        )  # fmt: skip
    header = "part|amp|accuracy (%)|runs|s/model|s/iteration|settings|device"
    lines = _table(header, cells)
    if distilled:
        cells = [
            [
                f"{r['method']} IPC {r['ipc']}",
                r["iterations"],
                r["amp"],
                _fmt(r["acc_mean"], r["acc_std"]),
                r["n_runs"],
                _settings(r["eval_settings"]),
                r["device"],
            ]
            for r in sorted(distilled, key=lambda r: (r["method"], r["amp"] != "none"))
        ]
        header = "set|iterations|distilled with amp|accuracy (%)|runs|evaluated with|device"
        lines += ["", "Distilled in each precision (compile=true), evaluated alike:", ""]
        lines += _table(header, cells)
    return lines


def grouped_table(rows: list[dict]) -> list[str]:
    """A protocol's runs trained one by one, as grouped convolutions and vmapped, on a CPU."""
    cells = [
        [
            r["dataset"],
            r["ipc"],
            r["augment"],
            r["eval_epochs"],
            r["n_runs"],
            *(
                f"{r['seconds_per_model'][k]:.2f}" if k in r["seconds_per_model"] else "–"
                for k in ("one-by-one", "grouped", "vmap")
            ),
            ", ".join(f"{k} {v:.2f}" for k, v in r["max_acc_diff"].items() if k != "one-by-one"),
            r["device"],
        ]
        for r in rows
    ]
    header = (
        "dataset|ipc|augment|epochs|runs|one by one (s/model)|grouped (s/model)|vmap (s/model)"
        "|largest accuracy difference from one by one (points)|device"
    )
    return _table(header, cells)


def _settings(settings: dict | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (settings or {}).items()) or "defaults"


def vs_reference_table(rows: list[dict]) -> list[str]:
    """Side by side with the reference code: evaluation seconds per model, then DC / DM seconds
    per iteration; ``speedup`` is the reference's seconds ÷ ours, measured in one process."""
    ev = [r for r in rows if r.get("part") == "eval"]
    it = [r for r in rows if r.get("part") == "iterations"]
    mean = statistics.mean
    lines: list[str] = []
    if ev:
        cells = [
            [
                f"{r['images']} images, aug {r['augment']}, {r['eval_epochs']} epochs",
                _settings(r.get("ours_settings")),
                r["runs"],
                f"{mean(r['reference_seconds']):.1f}",
                f"{mean(r['ours_seconds']):.1f}"
                + (f" (+{r['compile_seconds']:.0f} compiling)" if r.get("compile_seconds") else ""),
                f"{r['speedup']:.2f}× ({', '.join(f'{x:.2f}' for x in r['speedup_per_run'])})",
                f"{mean(r['reference_accs']):.2f} / {mean(r['ours_accs']):.2f}",
                f"{r['ours_gflops']:.1f} of {r['matmul_gflops']:.0f} "
                f"({r['ours_gflops'] / r['matmul_gflops']:.1%})",
                r["threads"],
                r["device"],
            ]
            for r in ev
        ]
        header = (
            "set|ours|models per side|reference s/model|ours s/model|speedup (per run)"
            "|accuracy reference / ours|ours GFLOP/s of the fp32 matmul rate|threads|device"
        )
        lines += _table(header, cells)
    if it:
        cells = [
            [
                f"{r['method']} IPC {r['ipc']}",
                r["reference_script"],
                _settings(r.get("ours_settings")),
                r["iterations"],
                f"{r['reference_seconds_per_iteration']:.2f}",
                f"{r['ours_seconds_per_iteration']:.2f}",
                f"{r['speedup']:.2f}×",
                r["threads"],
                r["device"],
            ]
            for r in it
        ]
        header = (
            "method|reference run|ours|iterations|reference s/it|ours s/it|speedup|threads|device"
        )
        lines += ["", *_table(header, cells)]
    if rows:
        lines += ["", f"Targets: {'; '.join(sorted({r['targets'] for r in rows}))}."]
    return lines


def profile_eval_table(rows: list[dict]) -> list[str]:
    """Where a 1,000-epoch evaluation's time goes: whole, first and last 100 epochs, the test
    pass; the phase shares and the top operator of a profiled slice."""
    cells = []
    for r in rows:
        phases = r["profiled_phase_seconds"]
        total = sum(phases.values()) or 1.0
        share = ", ".join(f"{k} {v / total:.0%}" for k, v in phases.items())
        top = r["profiled_top_ops"][0]
        cells.append(
            [
                f"{r['images']} images, aug {r['augment']}",
                r["threads"],
                r["eval_epochs"],
                f"{r['train_seconds']:.1f}",
                f"{r['first_100_seconds']:.2f} / {r['last_100_seconds']:.2f}",
                f"{r['test_seconds']:.1f}",
                f"{r['accuracy']:.2f}",
                f"{share} ({r['profiled_epochs']} epochs)",
                f"{top[0]} {top[1]:.2f} s",
                r["device"],
            ]
        )
    header = (
        "set|threads|epochs|train s|first / last 100 epochs s|test pass s|accuracy"
        "|profiled phases|top operator (self time)|device"
    )
    return _table(header, cells)


RENDERERS = {
    "profile-eval": profile_eval_table,
    "vs-reference": vs_reference_table,
    "grouped": grouped_table,
    "bf16": bf16_table,
    "gtn": gtn_table,
    "nas": nas_table,
    "mtt": mtt_table,
    "text": text_table,
    "generate": generate_table,
    "kernel-transfer": kernel_transfer_table,
    "transfer": transfer_table,
    "kernels": kernels_table,
    "faithfulness": faithfulness_table,
    "startup": startup_table,
    "contention": contention_table,
    "dd-scoring": scoring_table,
    "dd-speed": dd_speed_table,
    "time_to_accuracy": time_to_accuracy_table,
    "dd-memory": memory_table,
    "dd": dd_table,
    "dc_dsa_dm-timing": iteration_table,
    "timing": timing_table,
    "floor": floor_table,
}


def grid_parts() -> list[str]:
    """One section per results store of a grid file (``results/grids/*.sqlite``), made by the
    library's markdown report; its figures go to ``results/grids/<store>/``."""
    from datadistill.report.experiments import markdown_part

    lines = []
    for store in sorted((HERE / "results" / "grids").glob("*.sqlite")):
        images = HERE / "results" / "grids" / store.stem
        lines += [f"## grid: {store.stem}", "", f"From `{store.relative_to(HERE)}`.", ""]
        lines += [markdown_part(store, images, image_prefix=f"results/grids/{store.stem}/"), ""]
    return lines


def main() -> None:
    groups: dict[str, list[dict]] = defaultdict(list)
    for path in sorted((HERE / "results").glob("*.json")):
        for row in json.loads(path.read_text()):
            groups[row["benchmark"]].append(row)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `python benchmarks/report.py` from `benchmarks/results/*.json`.",
        "",
    ]
    for name, rows in sorted(groups.items()):
        lines += [f"## {name}", ""]
        render = next(
            (f for suffix, f in RENDERERS.items() if name.endswith(suffix)), accuracy_table
        )
        lines += render(rows)
        lines.append("")
    lines += grid_parts()
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
