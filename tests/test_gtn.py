"""Generative teaching networks: the Neumann inverse-Hessian product, the IFT and BPTT
hypergradients, each trainer's progress and bit-for-bit resume, the generator file, ``emit``,
and the command line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torch import nn

import datadistill as dd
from datadistill.cli.main import main
from datadistill.datasets.tensorset import TensorSet
from datadistill.distillation.gtn import GTN, GTNConfig
from datadistill.gtn import (
    GeneratorConfig,
    TeachingGenerator,
    generator_of,
    implicit_hypergradient,
    load_generator,
    neumann_inverse_hvp,
    save_generator,
    train_generator,
)
from datadistill.gtn.generator import config_from
from datadistill.gtn.task import Task
from datadistill.gtn.trainers.bptt import unrolled_loss
from datadistill.synset import SetFileError
from tests.conftest import distill_argv

# Small and fast; each trainer's own lowering test raises what it needs.
FAST = {
    "learner": "convnet-w32",
    "inner_steps": 3,
    "batch_size": 20,
    "batch_real": 64,
    "width": 8,
    "noise_dim": 8,
    "lr_inner": 0.3,
    "lr_img": 0.03,
    "iterations": 3,
}
TRAINERS = ["bptt", "ift", "matching"]


def test_neumann_series_solves_a_quadratic() -> None:
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
    h = q @ torch.diag(torch.linspace(0.5, 2.0, 6, dtype=torch.float64)) @ q.T
    v = torch.randn(6, generator=g, dtype=torch.float64)
    (approx,) = neumann_inverse_hvp(lambda u: (h @ u[0],), (v,), steps=300, lr=0.5)
    torch.testing.assert_close(approx, torch.linalg.solve(h, v), rtol=1e-8, atol=1e-8)


def test_ift_hypergradient_is_close_to_bptt_when_the_learner_converges() -> None:
    """Ridge regression on learned inputs ``X`` (φ): θ* minimises ‖Xθ − y‖²/n + λ‖θ‖²; the outer
    loss is a real validation regression loss. 300 gradient steps converge."""
    g = torch.Generator().manual_seed(1)
    f64 = {"dtype": torch.float64}
    x_syn = torch.randn(12, 4, generator=g, **f64).requires_grad_(True)
    y_syn = torch.randn(12, generator=g, **f64)
    x_val, y_val = torch.randn(30, 4, generator=g, **f64), torch.randn(30, generator=g, **f64)

    def train_loss(theta: list[torch.Tensor]) -> torch.Tensor:
        return (x_syn @ theta[0] - y_syn).square().mean() + 0.1 * theta[0].square().sum()

    def val_loss(theta: list[torch.Tensor]) -> torch.Tensor:
        return (x_val @ theta[0] - y_val).square().mean()

    theta = torch.zeros(4, **f64, requires_grad=True)
    for _ in range(300):
        (step,) = torch.autograd.grad(train_loss([theta]), theta, create_graph=True)
        theta = theta - 0.1 * step
    (bptt,) = torch.autograd.grad(val_loss([theta]), x_syn)
    (ift,) = implicit_hypergradient(train_loss, val_loss, [theta], [x_syn], steps=200, lr=0.1)
    cosine = torch.nn.functional.cosine_similarity(bptt.flatten(), ift.flatten(), dim=0)
    assert cosine > 0.9
    torch.testing.assert_close(ift, bptt, rtol=0.05, atol=1e-4)


def _tiny_task(digits: dd.DataSplits, checkpointing: bool) -> Task:
    """A float64 task: a small generator with a curriculum, a linear learner from a factory."""
    train = TensorSet(digits.train.images.double(), digits.train.labels, 10)
    data = dataclasses.replace(digits, train=train)
    gen_cfg = config_from(
        digits.info,
        digits.train.images,
        width=2,
        noise_dim=2,
        curriculum_steps=2,
        batch_size=10,
        lr_init=0.5,
    )
    teacher = TeachingGenerator(gen_cfg, seed=0).double()
    phi = {n: p.detach().clone().requires_grad_(True) for n, p in teacher.named_parameters()}
    cfg = GTNConfig(inner_steps=2, batch_size=10, batch_real=16, checkpointing=checkpointing)

    def linear(generator: torch.Generator) -> nn.Module:
        torch.manual_seed(int(torch.randint(1000, (1,), generator=generator)))
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 10)).double()

    return Task(teacher, phi, data, cfg, linear)


def test_bptt_hypergradient_matches_finite_differences(digits: dd.DataSplits) -> None:
    task = _tiny_task(digits, checkpointing=False)

    def loss() -> torch.Tensor:
        with torch.random.fork_rng(devices=[]):
            return unrolled_loss(task, torch.Generator().manual_seed(5))

    names = list(task.phi)
    grads = torch.autograd.grad(loss(), [task.phi[n] for n in names])
    g = torch.Generator().manual_seed(2)
    direction = {n: torch.randn(p.shape, generator=g, dtype=p.dtype) for n, p in task.phi.items()}
    analytic = sum((gr * direction[n]).sum() for n, gr in zip(names, grads, strict=True))
    eps, moved = 1e-5, []
    for sign in (1, -1):
        with torch.no_grad():
            for n, p in task.phi.items():
                p.add_(sign * eps * direction[n])
        moved.append(float(loss().detach()))
        with torch.no_grad():
            for n, p in task.phi.items():
                p.sub_(sign * eps * direction[n])
    numeric = (moved[0] - moved[1]) / (2 * eps)
    assert abs(float(analytic) - numeric) < 1e-6 * max(1.0, abs(numeric))
    checkpointed = _tiny_task(digits, checkpointing=True)
    checkpointed.phi = task.phi
    with torch.random.fork_rng(devices=[]):
        again = unrolled_loss(checkpointed, torch.Generator().manual_seed(5))
    for a, b in zip(grads, torch.autograd.grad(again, [task.phi[n] for n in names]), strict=True):
        torch.testing.assert_close(a, b)


LOWERING = {
    "bptt": {**FAST, "inner_steps": 8, "iterations": 20},
    "ift": {**FAST, "inner_steps": 8, "iterations": 30},
    "matching": {**FAST, "iterations": 8},
}


@pytest.mark.parametrize("trainer", TRAINERS)
def test_each_trainer_lowers_its_outer_loss(
    digits: dd.DataSplits, monkeypatch: pytest.MonkeyPatch, trainer: str
) -> None:
    losses: list[float] = []
    original = GTN.step

    def recording(self, *args):
        losses.append(original(self, *args))
        return losses[-1]

    monkeypatch.setattr(GTN, "step", recording)
    dd.distill(digits, "gtn", 1, {**LOWERING[trainer], "trainer": trainer}, progress=False)
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    assert last < 0.97 * first, losses


@pytest.mark.parametrize("trainer", TRAINERS)
def test_resume_is_bit_for_bit(
    digits: dd.DataSplits, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trainer: str
) -> None:
    settings = {**FAST, "iterations": 4, "checkpoint_every": 1, "trainer": trainer}
    plain = dd.distill(digits, "gtn", 2, settings, seed=3, progress=False)
    ckpt = tmp_path / "gtn.ckpt"
    original, calls = GTN.step, {"n": 0}

    def dies_at_the_third(self, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args)

    monkeypatch.setattr(GTN, "step", dies_at_the_third)
    with pytest.raises(KeyboardInterrupt):
        dd.distill(digits, "gtn", 2, settings, seed=3, progress=False, checkpoint=ckpt)
    monkeypatch.setattr(GTN, "step", original)
    resumed = dd.distill(digits, "gtn", 2, settings, seed=3, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, plain.images)
    assert resumed.extras.keys() == plain.extras.keys()
    assert all(torch.equal(resumed.extras[k], v) for k, v in plain.extras.items())


def test_generator_file_round_trips_and_emits(digits: dd.DataSplits, tmp_path: Path) -> None:
    synset = dd.distill(digits, "gtn", 2, FAST, progress=False)
    gen = generator_of(synset)
    assert torch.equal(gen.emit(2, synset.meta["emit_seed"]).images, synset.images)
    path = save_generator(gen, tmp_path / "g.safetensors")
    for loaded in (load_generator(path), load_generator(synset.save(tmp_path / "set.safetensors"))):
        assert loaded.config == gen.config
        state, back = gen.state_dict(), loaded.state_dict()
        assert state.keys() == back.keys() and all(torch.equal(state[k], back[k]) for k in state)
        assert torch.equal(loaded.emit(5, seed=1).images, gen.emit(5, seed=1).images)
    big = gen.emit(7, seed=4)  # beyond the curriculum's 6 per class: draws fill in
    assert big.images.shape == (70, *digits.info.shape)
    assert big.labels.tolist() == [c for c in range(10) for _ in range(7)]
    assert torch.equal(big.images[:2], gen.emit(2, seed=9).images[:2])  # the learned noise first
    with pytest.raises(ValueError, match="ipc"):
        gen.emit(0)


@pytest.mark.parametrize(("channels", "side"), [(1, 28), (3, 32)])
def test_generator_shapes_and_range(digits: dd.DataSplits, channels: int, side: int) -> None:
    info = dataclasses.replace(
        digits.info,
        channels=channels,
        size=(side, side),
        mean=(0.5,) * channels,
        std=(0.25,) * channels,
    )
    cfg = GeneratorConfig(info.to_dict(), [-2.0] * channels, [2.0] * channels)
    out = TeachingGenerator(cfg).emit(3, seed=0)  # no curriculum: seeded noise
    assert out.images.shape == (30, channels, side, side)
    assert out.images.abs().max() <= 2.0
    assert not torch.equal(out.images, TeachingGenerator(cfg).emit(3, seed=1).images)


def test_a_learner_factory_trains_the_generator(digits: dd.DataSplits) -> None:
    built: list[int] = []

    def mlp(generator: torch.Generator) -> nn.Module:
        built.append(1)
        return dd.create_model("mlp", digits.info)

    gen = train_generator(
        digits, {**FAST, "iterations": 2, "curriculum": False}, learner_factory=mlp
    )
    assert len(built) == 2 and gen.noise is None
    assert gen.emit(1).images.shape == (10, *digits.info.shape)


def test_a_checkpoint_remembers_its_learner_factory(digits: dd.DataSplits, tmp_path) -> None:
    """Resuming with other learners is refused, naming the factory; the same factory resumes."""

    def mlp(generator: torch.Generator) -> nn.Module:
        return dd.create_model("mlp", digits.info)

    def other(generator: torch.Generator) -> nn.Module:
        return dd.create_model("mlp", digits.info)

    ckpt = tmp_path / "gtn.pt"
    settings = {**FAST, "iterations": 1, "curriculum": False, "checkpoint_every": 1}
    train_generator(digits, settings, learner_factory=mlp, checkpoint=ckpt)
    with pytest.raises(SetFileError, match="learner_factory"):
        train_generator(digits, settings, learner_factory=other, checkpoint=ckpt)
    train_generator(digits, settings, learner_factory=mlp, checkpoint=ckpt)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        (["trainer=newton"], "trainer"),
        (["inner_steps=0"], "inner_steps"),
        (["batch_size=0"], "batch_size"),
        (["learner=nope"], "learner"),
        (["neumann_lr=0"], "neumann_lr"),
        (["momentum_inner=1"], "momentum_inner"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture, setting: list[str], message: str
) -> None:
    sets = [a for s in setting for a in ("--set", s)]
    argv = [*distill_argv("gtn", 1), *sets]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err and err.startswith("datadistill: error:")


def test_the_command_line_writes_the_set_and_its_generator(tmp_path: Path) -> None:
    sets = [a for k, v in {**FAST, "iterations": 2}.items() for a in ("--set", f"{k}={v}")]
    out = tmp_path / "run"
    argv = [*distill_argv("gtn", 2), *sets]
    assert main([*argv, "--set", "trainer=ift", "--out", str(out)]) == 0
    synset = dd.SyntheticSet.load(out / "set.safetensors")
    gen = load_generator(out / "set.generator.safetensors")
    assert synset.method == "gtn" and synset.images.shape[0] == 20
    assert torch.equal(gen.emit(2, seed=0).labels, synset.labels)


def test_learners_drawn_from_a_search_space(digits) -> None:
    """``learner_space``: each outer iteration trains a candidate of the NAS search space."""
    settings = {
        "iterations": 3,
        "inner_steps": 2,
        "batch_size": 20,
        "batch_real": 32,
        "width": 8,
        "noise_dim": 8,
        "learner_space": "convnet",
    }
    for trainer in ("bptt", "ift", "matching"):
        synset = dd.distill(digits, "gtn", 2, {**settings, "trainer": trainer}, progress=False)
        assert synset.images.shape == (20, *digits.info.shape)
        assert torch.isfinite(synset.images).all()
    with pytest.raises(KeyError, match="search space"):
        dd.distill(digits, "gtn", 2, {**settings, "learner_space": "nope"}, progress=False)
