"""DD and SLDD on MNIST (LeNet): the paper's table, its baselines in the same GD steps, soft
labels, memory against unrolled steps, adaptation MNIST ↔ USPS and poisoning.

    python benchmarks/dd.py --data-root ../shared/data [--parts main,baselines,sldd,memory,adapt,poison]
    python benchmarks/dd.py --device cuda --parts speed          # eager against CUDA-graph replay
    python benchmarks/dd.py --parts scoring   # saved fixed-10 sets, scored as the reference does

Each part appends records (the common keys plus ``init``, ``steps``, ``epochs``, ``n_images``) to
``benchmarks/results/dd-<device>.json`` and saves a picture of every learned set under
``benchmarks/results/dd/``. ``--iterations`` is the outer-iteration budget of every distillation
(the reference code trains 400 epochs of 1024 real images, about 23,000).

Adaptation distils 100 images as one batch (1 step × 3 epochs, cheaper to unroll than 10 steps).
Offline only the USPS test file exists: adaptation splits its 2,007 images (stratified, seed 0) into
an adaptation half and an evaluation half, resized to 28×28 and normalised like MNIST.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import re
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import datadistill as dd
from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.distillation.dd import as_schedule, save_pretrained
from datadistill.evaluation import EvalConfig
from datadistill.evaluation.knn import knn_accuracy
from datadistill.evaluation.protocol import ModelResult
from datadistill.evaluation.train import accuracy, fit_as_distilled, fit_split
from datadistill.models import create_seeded_model
from datadistill.report import append_record, make_record, save_grid
from datadistill.report.records import device_name

LR_IMG = 0.01  # Adam on the images: the reference code's default (issue #4 gives the paper's 0.001)
SOURCE = "Wang et al. 2018 (DD), Tables 1-3 and §4.3; Sucholutsky & Schonlau 2019 (SLDD)"
PUBLISHED = {
    "fixed-10": (93.8, None),
    "fixed-100": (96.6, None),
    "random-100": (79.5, 8.1),
    "random real": (68.6, 9.8),
    "best-of-random": (73.0, 7.6),
    "kmeans-centroid": (76.4, 9.5),
    "class-mean": (77.1, 2.7),
    "knn random": (71.5, 2.1),
    "knn kmeans": (92.2, 0.1),
    "sldd-10": (96.0, None),
    "sldd-5": (92.0, None),
    "adapt mnist->usps fixed": (97.9, None),
    "adapt mnist->usps random": (95.4, 1.8),
    "adapt usps->mnist fixed": (93.2, None),
    "adapt usps->mnist random": (92.7, 1.4),
}
PUBLISHED_CIFAR10 = {"fixed-100": (54.0, None), "random-100": (36.8, 1.2)}  # AlexCifarNet
VAL_SIZE = 0.1  # the library's default validation fraction
BASELINE_LRS = (0.003, 0.01, 0.03, 0.1, 0.3)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.device = torch.device(args.device)
        self.out = Path(args.out or f"benchmarks/results/dd-{self.device.type}.json")
        self.pictures = self.out.parent / "dd"
        self.pictures.mkdir(parents=True, exist_ok=True)
        self.mnist = dd.load_dataset(
            "mnist", args.data_root, val_size=args.val_size, device=self.device
        )
        self.data, self.model = self.mnist, "lenet"
        if args.dataset == "cifar10":  # the paper's CIFAR-10 rows (parts main and speed)
            self.data = dd.load_dataset("cifar10", args.data_root, device=self.device)
            self.model = "alexcifarnet"

    @property
    def tf32(self) -> bool:
        """Whether cuDNN may use TF32 here (GPUs only, with ``--tf32``)."""
        return self.device.type == "cuda" and self.args.tf32

    def settings(self, **kw) -> dict:
        decay = self.args.decay_every or max(1, self.args.iterations // 10)
        return {
            "iterations": self.args.iterations,
            "lr_img": self.args.lr_img,
            "decay_every": decay,
            "weight_init": self.args.weight_init,
            "cuda_graph": self.args.cuda_graph,
            "tf32": self.args.tf32,
            "real_batches": self.args.real_batches,
            **kw,
        }

    def record(
        self, key: str, method: str, ipc: int, result: ModelResult, label: str = "", **extra
    ) -> dict:
        """Append one record (the common keys, the published figure, ``extra``) and return it."""
        table = PUBLISHED_CIFAR10 if extra.get("dataset") == "cifar10" else PUBLISHED
        pub = table.get(key)
        row = make_record(
            "dd",
            extra.pop("dataset", "mnist"),
            method,
            ipc,
            result,
            self.device,
            iterations=extra.pop("iterations", None),
            seconds_per_iteration=extra.pop("seconds_per_iteration", None),
            published={"acc_mean": pub[0], "acc_std": pub[1], "source": SOURCE} if pub else None,
            setting=label or key,
            **extra,
        )
        append_record(self.out, row)
        print(
            f"{label or key}: {result.mean:.2f} ± {result.std:.2f}  (published {pub})", flush=True
        )
        return row

    def checkpoint(self, name: str) -> tuple[Path | None, int]:
        """The checkpoint file of run ``name`` under ``--checkpoint-dir`` (None without one) and
        the iterations it holds (0 before the run starts)."""
        if not self.args.checkpoint_dir:
            return None, 0
        ckpt = Path(self.args.checkpoint_dir) / f"{name}.pt"
        if not ckpt.is_file():
            return ckpt, 0
        return ckpt, int(torch.load(ckpt, map_location="cpu", weights_only=True)["iteration"])

    def distill(
        self, data: DataSplits, method: str, ipc: int, name: str, seed: int = 0, **kw
    ) -> dd.SyntheticSet:
        """Distil and save the set and its picture; with ``--checkpoint-dir`` the run checkpoints
        there and resumes (a later session continues it); the time per iteration counts only the
        iterations this process ran."""
        ckpt, done = self.checkpoint(name)
        start = time.perf_counter()
        s = dd.distill(
            data,
            method,
            ipc,
            self.settings(**kw),
            seed=seed,
            progress=False,
            checkpoint=ckpt,
        )
        ran = max(1, self.args.iterations - done)
        s.meta["per_iteration"] = (time.perf_counter() - start) / ran
        # The device (and TF32) in the file name: runs of one setting on two machines both stay.
        tag = self.device.type + ("-tf32" if self.tf32 else "")
        s.save(self.pictures / f"{name}-{tag}.safetensors")
        save_grid(s, self.pictures / f"{name}-{tag}.png")
        return s

    def run_and_record(self, key: str, method: str, ipc: int, runs: int, **kw) -> None:
        """Distil and record ``key`` once per seed of ``--seeds``; with several seeds, also one
        record over them (for fixed init: the spread over θ0, as the paper's single figure is one
        θ0's)."""
        if self.args.only and key not in self.args.only.split(","):
            return
        seeds = (
            [int(s) for s in self.args.seeds.split(",")] if self.args.seeds else [self.args.seed]
        )
        results = [self.run_seed(key, method, ipc, runs, seed, **kw) for seed in seeds]
        summary = f"{results[0][0]}, seeds {','.join(map(str, seeds))}"
        fresh = any(ran for *_, ran in results)
        if len(seeds) > 1 and (fresh or not self.matching(setting=summary, seeds=seeds)):
            _, first, row, _ = results[0]
            accs = [a for _, result, _, _ in results for a in result.accs]
            over = dataclasses.replace(first, accs=accs)
            keep = ("dataset", "model", "init", "steps", "epochs", "n_images")
            keep += ("weight_init", "label_space", "real_batches", "train_images")
            self.record(
                key,
                method,
                ipc,
                over,
                label=summary,
                iterations=self.args.iterations,
                seeds=seeds,
                lr_img=self.args.lr_img,
                tf32=self.tf32,
                **{k: row.get(k) for k in keep},
            )

    def recorded(self, name: str, label: str, seed: int) -> tuple[ModelResult, dict] | None:
        """The record of this setting and seed in ``--out`` when its checkpoint in
        ``--checkpoint-dir`` is finished: rerunning a command does not record a run twice."""
        if self.checkpoint(name)[1] < self.args.iterations:
            return None
        rows = self.matching(setting=label, seed=seed)
        if not rows:
            return None
        r = rows[-1]
        result = ModelResult(
            r["eval_model"], r["accs"], r["eval_seconds"], r["eval_epochs"], r["augment"]
        )
        return result, r

    def matching(self, **want) -> list[dict]:
        """Records in ``--out`` with ``want`` and this run's budget, device and image lr."""
        if not self.out.is_file():
            return []
        want |= {
            "iterations": self.args.iterations,
            "device": machine(device_name(self.device)),
            "tf32": self.tf32,
            "lr_img": self.args.lr_img,
        }
        defaults = {"seed": 0, "tf32": False, "lr_img": LR_IMG}  # of records older than the keys

        def value(r: dict, k: str):
            if k == "device":
                return machine(r[k])
            return defaults.get(k) if r.get(k) is None else r[k]

        rows = json.loads(self.out.read_text())
        return [r for r in rows if all(value(r, k) == v for k, v in want.items())]

    def run_seed(
        self, key: str, method: str, ipc: int, runs: int, seed: int, **kw
    ) -> tuple[str, ModelResult, dict, bool]:
        """One distillation of ``key`` with ``seed`` (for fixed init: its θ0), recorded; returns
        its label, result, record and whether it ran now (not found finished and recorded)."""
        notes = [] if self.args.weight_init == "default" else [f"{self.args.weight_init} init"]
        name = f"{key}-{self.args.weight_init}-{self.args.iterations}"
        name += f"-seed{seed}" if seed else ""
        if self.args.lr_img != LR_IMG:  # not the reference code's image lr: its own files
            notes.append(f"image lr {self.args.lr_img:g}")
            name += f"-lr{self.args.lr_img:g}"
        if self.args.real_batches != "replacement":  # the reference's loader: its own files
            notes.append("epoch-order real batches")
            name += f"-{self.args.real_batches}"
        if self.args.val_size != VAL_SIZE:
            notes.append(f"{len(self.data.train)} training images")
            name += f"-val{self.args.val_size:g}"
        if "label_space" in kw:  # SLDD's labels: learned as they are, or kept distributions
            notes.append(f"{kw['label_space']} labels")
            name += f"-{kw['label_space']}"
        label = f"{key} ({', '.join(notes)})" if notes else key
        data, model = self.data, self.model
        if data is not self.mnist:
            name = f"{data.info.name}-{name}"
        recorded = self.recorded(name, label, seed)
        if recorded is not None:
            print(f"{label}, seed {seed}: finished and recorded, not run again", flush=True)
            return label, *recorded, False
        s = self.distill(data, method, ipc, name, seed, model=model, eval_model=model, **kw)
        result = dd.evaluate(s, data, EvalConfig(runs=runs), progress=False).results[model]
        extra = {"dataset": data.info.name, "model": model}
        if s.initialisation:  # fixed init: the accuracy of θ0 before any step, as the paper has it
            net = dd.create_model(model, data.info).to(self.device)
            net.load_state_dict(s.initialisation, strict=False)
            extra["acc_before"] = round(accuracy(net, data.test), 3)
        row = self.record(
            key,
            method,
            ipc,
            result,
            label=label,
            iterations=self.args.iterations,
            seconds_per_iteration=round(s.meta["per_iteration"], 4),
            init=s.meta["net_init"],
            steps=s.meta["steps"],
            epochs=3,
            n_images=len(s.images),
            lrs=[round(x, 4) for x in s.lrs.tolist()],
            decay_every=s.config["decay_every"],
            weight_init=s.config["weight_init"],
            label_space=kw.get("label_space"),
            seed=seed,
            lr_img=self.args.lr_img,
            tf32=self.tf32,
            real_batches=self.args.real_batches,
            train_images=len(data.train),
            **extra,
        )
        return label, result, row, True

    # -- parts -------------------------------------------------------------------------------
    def main(self) -> None:
        self.run_and_record("fixed-10", "dd", 1, 1, net_init="fixed")
        self.run_and_record("fixed-100", "dd", 10, 1, net_init="fixed")
        self.run_and_record(
            "random-100", "dd", 10, self.args.runs, net_init="random", n_nets=self.args.n_nets
        )

    def baselines(self) -> None:
        """Real images in the same 30 GD steps (10 steps × 3 epochs) from unseen random inits,
        each with the constant rate that scores best on the validation split, for networks
        initialised PyTorch's way and the reference code's (Xavier); and k-NN."""
        data = self.mnist
        for method in ("random", "best-of-random", "kmeans-centroid", "class-mean"):
            ipc = 1 if method == "class-mean" else 10
            steps, epochs = (1, 30) if method == "class-mean" else (10, 3)
            chosen = dd.distill(data, method, ipc, seed=0, progress=False)
            key = "random real" if method == "random" else method
            for scheme in ("default", "xavier"):
                scores = {}
                for lr in BASELINE_LRS:
                    s = as_schedule(chosen, steps, epochs, lr, "lenet", scheme)
                    check = EvalConfig(runs=3, split="val", seed=100)
                    scores[lr] = dd.evaluate(s, data, check, progress=False).results["lenet"].mean
                lr = max(scores, key=scores.get)
                s = as_schedule(chosen, steps, epochs, lr, "lenet", scheme)
                result = dd.evaluate(s, data, EvalConfig(runs=self.args.runs), progress=False)
                self.record(
                    key,
                    method,
                    ipc,
                    result.results["lenet"],
                    label=f"{key} ({scheme} init)",
                    init="random",
                    weight_init=scheme,
                    steps=steps,
                    epochs=epochs,
                    n_images=len(s.images),
                    lr=lr,
                    val_scores=scores,
                )
            if method in ("random", "kmeans-centroid"):
                acc = knn_accuracy(chosen, data)
                knn = ModelResult("knn-1", [acc], 0.0, 0, "none")
                key = "knn random" if method == "random" else "knn kmeans"
                self.record(
                    key,
                    method,
                    ipc,
                    knn,
                    init=None,
                    steps=None,
                    epochs=None,
                    n_images=len(chosen.images),
                )

    def sldd(self) -> None:
        space = self.args.label_space
        self.run_and_record("sldd-10", "sldd", 1, 1, net_init="fixed", label_space=space)
        self.run_and_record("sldd-5", "sldd", 1, 1, net_init="fixed", n_images=5, label_space=space)

    def speed(self) -> None:
        """Seconds per outer iteration of the main settings, eagerly and (on a GPU) replayed as a
        CUDA graph; the graph's capture is inside the timed span."""
        n = self.args.speed_iterations
        graphs = (False, True) if self.device.type == "cuda" else (False,)
        settings = (
            ("fixed-10", 1, "fixed"),
            ("fixed-100", 10, "fixed"),
            ("random-100", 10, "random"),
        )
        for key, ipc, init in settings:
            for graph in graphs:
                config = self.settings(
                    net_init=init,
                    iterations=n,
                    cuda_graph=graph,
                    model=self.model,
                    eval_model=self.model,
                )
                _sync(self.device)
                start = time.perf_counter()
                s = dd.distill(self.data, "dd", ipc, config, seed=0, progress=False)
                _sync(self.device)
                seconds = (time.perf_counter() - start) / n
                row = make_record(
                    "dd-speed",
                    self.data.info.name,
                    "dd",
                    ipc,
                    None,
                    self.device,
                    iterations=n,
                    seconds_per_iteration=round(seconds, 5),
                    setting=key,
                    init=init,
                    steps=s.meta["steps"],
                    epochs=3,
                    n_images=len(s.images),
                    cuda_graph=graph,
                    final_loss=s.meta["final_loss"],
                )
                append_record(self.out, row)
                print(f"{key} cuda_graph={graph}: {seconds:.4f} s/iteration", flush=True)

    def scoring(self) -> None:
        """The learned fixed-init sets scored as the reference code scores them: one shuffled
        batch of 1,024 test images (``--test_niter 1``) instead of all 10,000. From each set's
        per-image correctness on the whole test set, ``--draws`` random batches give the spread
        of that single-batch score and how often it reaches the published figure."""
        test = self.mnist.test
        g = torch.Generator().manual_seed(0)  # the same draws for every set: paired comparisons
        batches = torch.stack(
            [torch.randperm(len(test), generator=g)[:1024] for _ in range(self.args.draws)]
        )
        published = PUBLISHED["fixed-10"][0]
        for path in sorted(self.pictures.glob("fixed-10-*.safetensors")):
            s = dd.SyntheticSet.load(path)
            if not s.initialisation:
                continue
            net = dd.create_model("lenet", self.mnist.info).to(self.device)
            fit_as_distilled(net, s.images, s.labels, s.lrs, int(s.meta["steps"]), s.initialisation)
            correct = (predict(net, test.images) == test.labels).float().cpu()
            scores = 100 * correct[batches].mean(1)
            row = make_record(
                "dd-scoring",
                "mnist",
                s.method.lower(),
                len(s.images) // self.mnist.info.num_classes,
                None,
                self.device,
                iterations=s.config.get("iterations"),
                published={"acc_mean": published, "acc_std": None, "source": SOURCE},
                set=path.name,
                weight_init=s.config.get("weight_init"),
                acc_all=round(100 * correct.mean().item(), 2),
                draws=self.args.draws,
                acc_1024_mean=round(scores.mean().item(), 2),
                acc_1024_std=round(scores.std().item(), 2),
                acc_1024_q975=round(scores.quantile(0.975).item(), 2),
                acc_1024_max=round(scores.max().item(), 2),
                share_at_least_published=round((scores >= published).float().mean().item(), 4),
            )
            append_record(self.out.with_name("dd-scoring.json"), row)
            print(
                f"{path.name}: all {row['acc_all']}, one batch of 1,024: "
                f"{row['acc_1024_mean']} ± {row['acc_1024_std']} (97.5% {row['acc_1024_q975']})",
                flush=True,
            )

    def memory(self) -> None:
        """Peak memory of one outer iteration against unrolled steps, with and without gradient
        checkpointing: CUDA's allocator peak on a GPU, the bytes autograd keeps for backward
        on a CPU (what checkpointing trades for recomputation)."""
        from datadistill.methods import METHODS, make_config

        for steps in (1, 5, 10, 20, 40):
            for ckpt in (False, True):
                cfg = make_config(
                    METHODS.get("dd").Config,
                    {
                        "net_init": "fixed",
                        "iterations": 1,
                        "steps": steps,
                        "epochs": 1,
                        "grad_checkpoint": ckpt,
                    },
                )
                method = METHODS.get("dd")(cfg)
                images, labels = method.prepare(self.mnist, steps, torch.Generator().manual_seed(0))
                x, y = self.mnist.train.images[:1024], self.mnist.train.labels[:1024]
                saved = [0]
                if self.device.type == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                    base = torch.cuda.memory_allocated()
                start = time.perf_counter()
                with torch.autograd.graph.saved_tensors_hooks(_counter(saved), lambda t: t):
                    loss = method.outer_loss(images, labels, method.theta0, x, y)
                loss.backward()
                seconds = time.perf_counter() - start
                peak = None
                if self.device.type == "cuda":
                    peak = round((torch.cuda.max_memory_allocated() - base) / 2**20, 2)
                row = make_record(
                    "dd-memory",
                    "mnist",
                    "dd",
                    steps,
                    None,
                    self.device,
                    peak_mem_mb=peak,
                    steps=steps,
                    epochs=1,
                    grad_checkpoint=ckpt,
                    autograd_saved_mb=round(saved[0] / 2**20, 2),
                    seconds=round(seconds, 4),
                )
                append_record(self.out, row)
                print(
                    f"steps={steps} checkpoint={ckpt}: saved {saved[0] / 2**20:.1f} MB, "
                    f"peak {peak} MB, {seconds:.3f} s",
                    flush=True,
                )

    def adapt(self) -> None:
        usps = usps_like_mnist(self.args.data_root, self.mnist, self.device)
        for source, target, name in (
            (self.mnist, usps, "mnist->usps"),
            (usps, self.mnist, "usps->mnist"),
        ):
            # as many SGD steps on the small USPS half as on MNIST
            epochs = self.args.pretrain_epochs * max(1, len(self.mnist.train) // len(source.train))
            nets = pretrain(source, self.args.pretrained_nets, min(epochs, 100))
            pool = self.pictures / f"pretrained-{name.split('->')[0]}.safetensors"
            save_pretrained(nets[:-2], pool)
            held_out = nets[-2:] + nets[:1]  # fixed: net 0; random: two nets never distilled on
            before = [accuracy(n, target.test) for n in nets]
            for init in ("fixed", "random"):
                key = f"adapt {name} {init}"
                s = self.distill(
                    target,
                    "dd",
                    10,
                    key.replace(" ", "_").replace(">", ""),
                    net_init=init,
                    pretrained=str(pool),
                    steps=1,
                )
                evals = held_out[2:] if init == "fixed" else held_out[:2]
                accs = [finetune(n, s, target) for n in evals]
                self.record(
                    key,
                    "dd",
                    10,
                    ModelResult("lenet", accs, 0.0, 0, "none"),
                    dataset=f"{name}",
                    init=init,
                    steps=1,
                    epochs=3,
                    n_images=100,
                    acc_before=[round(a, 3) for a in before],
                    iterations=self.args.iterations,
                )
            for ref in ("random", "full"):
                accs = []
                for n in held_out[:2]:
                    net = copy.deepcopy(n)
                    if ref == "random":
                        real = dd.distill(target, "random", 10, seed=0, progress=False)
                        accs.append(finetune(net, as_schedule(real, 1, 3, 0.01, "lenet"), target))
                    else:
                        fit_split(
                            net,
                            target.train,
                            epochs=3,
                            lr=0.01,
                            batch_size=256,
                            generator=torch.Generator().manual_seed(0),
                        )
                        accs.append(accuracy(net, target.test))
                self.record(
                    f"adapt {name} finetune {ref}",
                    ref,
                    10,
                    ModelResult("lenet", accs, 0.0, 0, "none"),
                    dataset=name,
                    init="random",
                    steps=None,
                    epochs=3,
                    n_images=None,
                )

    def poison(self) -> None:
        """One GD step on 10 distilled images makes trained networks take class 0 for 1."""
        a, b = 0, 1
        nets = pretrain(self.mnist, self.args.pretrained_nets, self.args.pretrain_epochs)
        pool = self.pictures / "pretrained-mnist-poison.safetensors"
        save_pretrained(nets[:-2], pool)
        for init in ("fixed", "random"):
            s = self.distill(
                self.mnist,
                "dd",
                1,
                f"poison_{init}",
                net_init=init,
                pretrained=str(pool),
                attack=f"{a}:{b}",
                epochs=1,
            )
            evals = nets[:1] if init == "fixed" else nets[-2:]
            success, others, before = [], [], []
            for n in evals:
                before.append(accuracy(n, self.mnist.test))
                net = finetune_net(n, s)
                pred = predict(net, self.mnist.test.images)
                ys = self.mnist.test.labels
                success.append(100.0 * float((pred[ys == a] == b).float().mean()))
                others.append(100.0 * float((pred[ys != a] == ys[ys != a]).float().mean()))
            self.record(
                f"poison {init}",
                "dd",
                1,
                ModelResult("lenet", success, 0.0, 0, "none"),
                init=init,
                steps=1,
                epochs=1,
                n_images=10,
                attack=f"{a}:{b}",
                other_classes_acc=[round(x, 3) for x in others],
                acc_before=[round(x, 3) for x in before],
                iterations=self.args.iterations,
            )


def _counter(total: list[int]):
    """A pack hook that adds the bytes of every tensor autograd saves to ``total[0]``."""

    def pack(t: torch.Tensor) -> torch.Tensor:
        total[0] += t.numel() * t.element_size()
        return t

    return pack


def usps_like_mnist(root: str | None, mnist: DataSplits, device: torch.device) -> DataSplits:
    """The USPS test file, resized to MNIST's 28×28 and normalised like MNIST, split in two
    stratified halves: adaptation ("train", with a small validation part) and evaluation."""
    from datadistill.datasets.base import resolve_root
    from datadistill.datasets.usps import read_usps

    x, y = read_usps(resolve_root(root) / "USPS" / "usps.t.bz2")
    x = F.interpolate(x, size=mnist.info.size, mode="bilinear", align_corners=False)
    mean, std = mnist.info.mean[0], mnist.info.std[0]
    x = ((x - mean) / std).to(device)
    y = y.to(device)
    g = torch.Generator().manual_seed(0)
    adapt, evaluate, val = [], [], []
    for c in range(10):
        ix = (y == c).nonzero().squeeze(1).cpu()
        ix = ix[torch.randperm(len(ix), generator=g)]
        half = len(ix) // 2
        val.append(ix[:10])
        adapt.append(ix[10:half])
        evaluate.append(ix[half:])
    part = {n: torch.cat(v).to(device) for n, v in (("a", adapt), ("e", evaluate), ("v", val))}
    info = mnist.info
    return DataSplits(
        info=info,
        train=TensorSet(x[part["a"]], y[part["a"]], 10),
        val=TensorSet(x[part["v"]], y[part["v"]], 10),
        test=TensorSet(x[part["e"]], y[part["e"]], 10),
    )


def pretrain(data: DataSplits, n: int, epochs: int) -> list[torch.nn.Module]:
    device = data.train.images.device
    nets = []
    for i in range(n):
        net = create_seeded_model("lenet", data.info, 1000 + i, device)
        fit_split(
            net,
            data.train,
            epochs=epochs,
            lr=0.01,
            batch_size=256,
            generator=torch.Generator().manual_seed(i),
        )
        nets.append(net)
    return nets


def finetune_net(net: torch.nn.Module, s: dd.SyntheticSet) -> torch.nn.Module:
    net = copy.deepcopy(net)
    return fit_as_distilled(net, s.images, s.labels, s.lrs, int(s.meta["steps"]))


def finetune(net: torch.nn.Module, s: dd.SyntheticSet, target: DataSplits) -> float:
    return accuracy(finetune_net(net, s), target.test)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def machine(device: str) -> str:
    """A record's device without its CPU thread count: a finished set evaluated with other
    threads is the same run (the count matters to timings only)."""
    return re.sub(r", \d+ threads?\)", ")", device)


@torch.no_grad()
def predict(net: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    net.eval()
    return torch.cat([net(x).argmax(1) for x in images.split(2048)])


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--parts", default="main,baselines,sldd,memory,adapt,poison")
    p.add_argument(
        "--dataset",
        default="mnist",
        help="cifar10: parts main and speed with the paper's AlexCifarNet",
    )
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument(
        "--lr-img", type=float, default=LR_IMG, help="Adam on the images (reference code's 0.01)"
    )
    p.add_argument(
        "--decay-every",
        type=int,
        default=0,
        help="halve the image lr every n iterations (0: iterations/10, the reference's 10 halvings)",
    )
    p.add_argument("--weight-init", default="xavier", help="xavier (the reference's) or default")
    p.add_argument("--only", default="", help="settings of main/sldd to run, e.g. fixed-10,sldd-5")
    p.add_argument("--runs", type=int, default=20, help="unseen random initialisations")
    p.add_argument("--n-nets", type=int, default=1, help="initialisations per iteration")
    p.add_argument("--pretrained-nets", type=int, default=6)
    p.add_argument("--pretrain-epochs", type=int, default=2)
    p.add_argument("--out", default=None)
    p.add_argument("--cuda-graph", action="store_true", help="replay iterations as CUDA graphs")
    p.add_argument(
        "--label-space",
        default="raw",
        choices=("raw", "simplex"),
        help="SLDD labels: learned as they are (the SLDD code) or a softmax of learned logits",
    )
    p.add_argument("--seed", type=int, default=0, help="of main/sldd sets (fixed init: θ0)")
    p.add_argument(
        "--seeds",
        default="",
        help="comma list of seeds instead of --seed, plus one record over them (e.g. 0,1,2,3)",
    )
    p.add_argument(
        "--tf32",
        action="store_true",
        help="let cuDNN use TF32 on GPUs (default: full fp32, DD's own default)",
    )
    p.add_argument(
        "--real-batches",
        default="replacement",
        choices=("replacement", "epochs"),
        help="real minibatches: drawn with replacement, or shuffled epochs (the reference's)",
    )
    p.add_argument(
        "--val-size",
        type=float,
        default=VAL_SIZE,
        help="fraction of MNIST's training set held out for validation (0: train on all 60,000)",
    )
    p.add_argument("--draws", type=int, default=10000, help="test batches drawn by scoring")
    p.add_argument("--speed-iterations", type=int, default=200, help="iterations timed by speed")
    p.add_argument(
        "--checkpoint-dir",
        default=None,
        help="checkpoint each distillation here (every 100 iterations) and resume from it",
    )
    args = p.parse_args()
    torch.backends.cudnn.allow_tf32 = args.tf32  # evaluation too, as distillation
    bench = Bench(args)
    for part in args.parts.split(","):
        getattr(bench, part)()


if __name__ == "__main__":
    main()
