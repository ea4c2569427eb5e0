"""Render every JSON file under benchmarks/results/ as markdown tables in benchmarks/RESULTS.md.

    python benchmarks/report.py

Figures come only from the JSON records; published figures are labelled with their source.
"""

from __future__ import annotations

import json
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
                f"{r['eval_seconds']:.1f}",
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
    return _table(header, cells)


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


RENDERERS = {
    "kernel-transfer": kernel_transfer_table,
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
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
