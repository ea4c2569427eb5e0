"""Architecture search with distilled or generated data as the proxy, on MNIST on a CPU.

    OMP_NUM_THREADS=1 python benchmarks/nas.py --data-root ../shared/data \
        [--gtn runs/gtn-bptt/generator.safetensors,...]            # ~40 min on one core
    OMP_NUM_THREADS=1 python benchmarks/nas.py --quick --out /tmp/nas   # smoke test on digits

30 ConvNet-family candidates (depth, width, norm, activation, pooling), each trained for
``truth_steps`` SGD steps on the real training split (the ground truth, scored on the validation
split) and for ``proxy_steps`` on each proxy: a DM set made here (10 images per class), the
teaching networks' images (``--gtn``; generator files from ``benchmarks/gtn.py``), random real
images (10 per class) and real data. Per-(candidate, proxy) results go to
``OUT/cells.jsonl`` as they finish, so a rerun resumes; the record (rank agreement, cost per
candidate, the one-off cost of making each proxy's data) is appended to ``--record``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

import datadistill as dd
from datadistill.nas import NASConfig, plot_agreement, search
from datadistill.report.records import append_record, make_record

HERE = Path(__file__).parent


def _dm_set(data: dd.DataSplits, out: Path, iterations: int) -> tuple[str, float]:
    """The DM proxy's set file (made once, then reused) and the seconds it took."""
    path = out / f"dm-ipc10-{iterations}.safetensors"
    if not path.exists():
        settings = {"iterations": iterations, "model": "convnet-w32"}
        synset = dd.distill(data, "dm", 10, settings, seed=0)
        synset.save(path)
    return f"set:{path}", dd.SyntheticSet.load(path).meta["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--gtn", default="", help="comma-separated generator files")
    parser.add_argument("--dm-iterations", type=int, default=200)
    parser.add_argument("--out", default=str(HERE / "results" / "nas"))
    parser.add_argument("--record", default=str(HERE / "results" / "nas-cpu.json"))
    parser.add_argument("--quick", action="store_true", help="digits, 4 candidates, tiny budgets")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.quick:
        data = dd.load_dataset("digits")
        config = NASConfig(proxy_steps=5, truth_steps=20, val_images=200)
        args.candidates, args.dm_iterations = 4, 2
    else:
        data = dd.load_dataset("mnist", args.data_root)
        config = NASConfig()
    dm_proxy, dm_seconds = _dm_set(data, out, args.dm_iterations)
    making = {dm_proxy: dm_seconds}
    for path in filter(None, args.gtn.split(",")):
        sidecar = Path(path).with_suffix(".json")  # written beside it by benchmarks/gtn.py
        making[f"gtn:{path}"] = (
            json.loads(sidecar.read_text()).get("seconds") if sidecar.exists() else None
        )
    proxies = [*making, "random", "real"]
    start = time.perf_counter()
    result = search(data, proxies, candidates=args.candidates, config=config, out=out)
    (out / "nas.json").write_text(json.dumps(result.to_dict(), indent=1))
    plot_agreement(result, out / "nas.png")
    print(result.table())
    summary = result.to_dict()
    append_record(
        Path("/tmp/nas-quick.json") if args.quick else Path(args.record),
        make_record(
            "nas",
            data.info.name,
            "nas-proxy",
            config.ipc,
            None,
            "cpu",
            settings=dataclasses.asdict(config),
            candidates=args.candidates,
            space="convnet",
            agreement=summary["agreement"],
            seconds_per_candidate=summary["seconds_per_candidate"],
            proxy_making_seconds={k.split("/")[-1]: v for k, v in making.items()},
            dm_iterations=args.dm_iterations,
            search_seconds=round(time.perf_counter() - start, 1),
            figure=str(out / "nas.png"),
        ),
    )


if __name__ == "__main__":
    main()
