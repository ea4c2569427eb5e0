"""Published accuracies, so a report can put the paper's number beside ours.

Each entry: (dataset, method, ipc, evaluation model) → mean and std in percent (std None where
the paper gives none) and its source. Gathered from the benchmark scripts' tables (the old
benchmarks/baselines.py and coresets.py, dc_dsa_dm.py, cifar10_queue.py), so a grid's report
carries them; add a paper's table here, not in a script.
"""

from __future__ import annotations

from typing import NamedTuple


class Published(NamedTuple):
    mean: float
    std: float | None
    source: str


DC_TABLE1 = "Zhao, Mopuri, Bilen 2021 (DC), Table 1"
DSA_TABLE1 = "Zhao & Bilen 2021 (DSA), Table 1"
DM_TABLE1 = "Zhao & Bilen 2023 (DM), Table 1 (20,000 iterations)"
IPCS = (1, 10, 50)

# (mean, std) at IPC 1 / 10 / 50 for a ConvNet evaluation.
_DC: dict[str, dict[str, list[tuple[float, float | None]]]] = {
    "mnist": {
        "random": [(64.9, 3.5), (95.1, 0.9), (97.9, 0.2)],
        "herding": [(89.2, None), (93.7, None), (94.8, None)],
        "kcenter": [(89.3, None), (84.4, None), (97.4, None)],
        "forgetting": [(35.5, None), (68.1, None), (88.2, None)],
    },
    "fashion-mnist": {"random": [(51.4, 3.8), (73.8, 0.7), (82.5, 0.7)]},
    "cifar10": {
        "random": [(14.5, 2.0), (26.0, 1.2), (43.4, 1.0)],
        "herding": [(21.5, 1.2), (31.6, 0.7), (40.4, 0.6)],
        "kcenter": [(21.5, 1.3), (24.7, 0.9), (27.0, 1.4)],
        "forgetting": [(13.5, 1.2), (23.3, 1.0), (23.3, 1.1)],
    },
}
# Means only (the scripts held no std) at IPC 1 / 10 / 50, ConvNet: the distillation methods.
_MATCHING: dict[str, tuple[str, dict[str, list[float]]]] = {
    "dc": (DC_TABLE1, {"cifar10": [28.3, 44.9, 53.9]}),
    "dsa": (DSA_TABLE1, {"cifar10": [28.8, 52.1, 60.6]}),
    "dm": (DM_TABLE1, {"mnist": [89.7, 97.5, 98.6], "cifar10": [26.0, 48.9, 63.0]}),
}


def _build() -> dict[tuple[str, str, int, str], Published]:
    table: dict[tuple[str, str, int, str], Published] = {}
    for dataset, methods in _DC.items():
        for method, values in methods.items():
            for ipc, (mean, std) in zip(IPCS, values, strict=True):
                table[dataset, method, ipc, "convnet"] = Published(mean, std, DC_TABLE1)
    for method, (source, datasets) in _MATCHING.items():
        for dataset, means in datasets.items():
            for ipc, mean in zip(IPCS, means, strict=True):
                table[dataset, method, ipc, "convnet"] = Published(mean, None, source)
    return table


PUBLISHED: dict[tuple[str, str, int, str], Published] = _build()


def published(dataset: str, method: str, ipc: int, model: str = "convnet") -> Published | None:
    """The published accuracy of ``method`` on ``dataset`` at ``ipc``, evaluated on ``model``."""
    return PUBLISHED.get((dataset, method, ipc, model))
