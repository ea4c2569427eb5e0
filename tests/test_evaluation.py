"""The evaluation protocol: determinism, learning, batched == sequential maths, trained-as-distilled."""

from __future__ import annotations

import dataclasses

import pytest
import torch

import datadistill as dd
from datadistill.evaluation import DatasetMismatchError, EvalConfig, run_seeds
from datadistill.synset import SyntheticSet


def test_same_seed_gives_identical_numbers(digits: dd.DataSplits, fast_eval: EvalConfig) -> None:
    s = dd.distill(digits, "random", 2, seed=1, progress=False)
    a = dd.evaluate(s, digits, fast_eval, progress=False)
    b = dd.evaluate(s, digits, fast_eval, progress=False)
    assert a.results["convnet-w32"].accs == b.results["convnet-w32"].accs


def test_training_on_real_images_beats_chance(digits: dd.DataSplits, fast_eval: EvalConfig) -> None:
    s = dd.distill(digits, "random", 5, progress=False)
    r = dd.evaluate(s, digits, fast_eval, progress=False).results["convnet-w32"]
    assert len(r.accs) == 2 and r.mean > 60.0
    assert r.std == pytest.approx(
        float(torch.tensor(r.accs, dtype=torch.float64).std(unbiased=False)), abs=1e-6
    )


def test_batched_training_matches_one_by_one(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "random", 2, progress=False)
    cfg = dict(models=["convnet-w32"], runs=2, epochs=15, augment="dsa")
    seq = dd.evaluate(s, digits, EvalConfig(**cfg, batched="no"), progress=False)
    bat = dd.evaluate(s, digits, EvalConfig(**cfg, batched="yes"), progress=False)
    a, b = seq.results["convnet-w32"].accs, bat.results["convnet-w32"].accs
    assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 1.0


def test_several_architectures_in_one_call(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "random", 1, progress=False)
    ev = dd.evaluate(
        s, digits, EvalConfig(models=["mlp", "convnet-d1"], runs=2, epochs=2), progress=False
    )
    assert list(ev.results) == ["mlp", "convnet-d1"]
    assert "mlp" in ev.table() and ev.to_dict()["results"]["convnet-d1"]["epochs"] == 2


def test_run_seeds_are_derived_from_the_base_seed() -> None:
    assert run_seeds(0, 3) == run_seeds(0, 3)
    assert run_seeds(0, 3) != run_seeds(1, 3)
    assert run_seeds(0, 5)[:3] == run_seeds(0, 3)


def test_defaults_follow_the_reference_protocol(digits: dd.DataSplits) -> None:
    cfg = EvalConfig()
    assert (cfg.lr, cfg.momentum, cfg.weight_decay, cfg.batch_size) == (0.01, 0.9, 5e-4, 256)
    assert cfg.resolved_epochs(digits.info) == 300
    assert EvalConfig(augment="dsa").resolved_epochs(digits.info) == 1000


def test_wrong_dataset_is_refused(digits: dd.DataSplits) -> None:
    info = dd.DatasetInfo("other", 1, (8, 8), 5, tuple("abcde"), (0.5,), (0.5,))
    s = SyntheticSet(torch.zeros(5, 1, 8, 8), torch.arange(5), info, "x")
    with pytest.raises(DatasetMismatchError, match="other"):
        dd.evaluate(s, digits, progress=False)


def test_learned_rates_are_replayed_as_distilled(digits: dd.DataSplits) -> None:
    s = dd.distill(digits, "random", 2, progress=False)
    cfg = EvalConfig(models=["mlp"], runs=2)
    zero = SyntheticSet(s.images, s.labels, s.info, "dd", {"steps": 2}, lrs=torch.zeros(6))
    moving = SyntheticSet(s.images, s.labels, s.info, "dd", {"steps": 2}, lrs=torch.full((6,), 0.1))
    model_init = dd.create_model("mlp", digits.info)
    init = {f"init.{k}": v for k, v in model_init.state_dict().items()}
    fixed = SyntheticSet(
        s.images, s.labels, s.info, "dd", {"steps": 2}, lrs=torch.zeros(6), extras=init
    )
    a = dd.evaluate(zero, digits, cfg, progress=False).results["mlp"].accs
    b = dd.evaluate(moving, digits, cfg, progress=False).results["mlp"].accs
    c = dd.evaluate(fixed, digits, cfg, progress=False).results["mlp"].accs
    assert a != b
    assert c[0] == c[1]  # tied to one initialisation: every run is the same network


@pytest.mark.parametrize("soft", [False, True])
def test_chunked_gradient_accumulation_trains_the_same_network(
    digits: dd.DataSplits, soft: bool
) -> None:
    from datadistill.evaluation.train import fit

    x, y = digits.train.images[:40], digits.train.labels[:40]
    targets = torch.nn.functional.one_hot(y, 10).float() * 0.8 + 0.02 if soft else y
    nets = []
    for chunk in (0, 6):
        net = dd.models.create_seeded_model("convnet-w32", digits.info, 0)
        fit(
            net,
            x,
            targets,
            epochs=3,
            lr=0.01,
            momentum=0.9,
            weight_decay=5e-4,
            batch_size=32,
            generator=torch.Generator().manual_seed(1),
            augmentation=None,
            chunk=chunk,
        )
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.allclose(a, b, atol=1e-5)


def test_bf16_evaluation_learns_as_fp32_does(digits: dd.DataSplits) -> None:
    """``amp=bf16``: networks trained and tested under bfloat16 autocast reach fp32's accuracy
    (autocast's weight cache would freeze the weights the forward pass sees at their start)."""
    synset = dd.distill(digits, "random", 5, seed=0, progress=False)
    cfg = {"models": ["convnet-w32"], "runs": 2, "epochs": 30, "augment": "none"}
    fp32 = dd.evaluate(synset, digits, dd.EvalConfig(**cfg), progress=False)
    bf16 = dd.evaluate(synset, digits, dd.EvalConfig(**cfg, amp="bf16"), progress=False)
    assert bf16.results["convnet-w32"].mean > 40
    assert abs(bf16.results["convnet-w32"].mean - fp32.results["convnet-w32"].mean) < 5
    with pytest.raises(ValueError, match="amp"):
        dd.EvalConfig(amp="fp8")


def test_compiled_evaluation_trains_as_eager_does(digits: dd.DataSplits) -> None:
    """``compile=true`` trains through one compiled graph per architecture to the same weights as
    eager training, and a second evaluation of fresh runs compiles nothing new (the test pass
    pads its last chunk to the one shape)."""
    synset = dd.distill(digits, "random", 2, seed=0, progress=False)
    cfg = {"models": ["convnet-w32"], "runs": 2, "epochs": 4, "augment": "none", "seed": 3}
    eager = dd.evaluate(synset, digits, dd.EvalConfig(**cfg), progress=False, keep_models=True)
    fast = dd.EvalConfig(**cfg, compile=True)
    comp = dd.evaluate(synset, digits, fast, progress=False, keep_models=True)
    for a, b in zip(eager.models["convnet-w32"], comp.models["convnet-w32"], strict=True):
        for p, q in zip(a.parameters(), b.parameters(), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-3, atol=1e-4)
    assert comp.results["convnet-w32"].accs == pytest.approx(
        eager.results["convnet-w32"].accs, abs=1
    )
    with torch.compiler.set_stance("fail_on_recompile"):
        dd.evaluate(synset, digits, dataclasses.replace(fast, seed=4), progress=False)
    with pytest.raises(ValueError, match="one by one"):
        dd.EvalConfig(compile=True, batched="yes")


def test_bf16_autocast_only_when_asked(
    digits: dd.DataSplits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default protocol trains in float32; ``amp=bf16`` trains under CPU autocast."""
    from datadistill.evaluation import protocol

    seen: list[bool] = []
    real_fit = protocol.fit

    def fit(*args, **kwargs):
        seen.append(torch.is_autocast_enabled("cpu"))
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(protocol, "fit", fit)
    synset = dd.distill(digits, "random", 1, seed=0, progress=False)
    cfg = {"models": ["convnet-w32"], "runs": 1, "epochs": 1, "augment": "none"}
    dd.evaluate(synset, digits, dd.EvalConfig(**cfg), progress=False)
    dd.evaluate(synset, digits, dd.EvalConfig(**cfg, amp="bf16"), progress=False)
    assert seen == [False, True]


def test_padded_chunks_give_the_unpadded_outputs() -> None:
    from datadistill.models.functional import forward_in_chunks

    x = torch.arange(10.0).unsqueeze(1)
    shapes: list[int] = []

    def fn(chunk: torch.Tensor) -> torch.Tensor:
        shapes.append(len(chunk))
        return chunk * 2

    torch.testing.assert_close(forward_in_chunks(fn, x, 4, pad=True), x * 2)
    assert shapes == [4, 4, 4]


def test_distillation_bf16_context_sees_in_place_updates() -> None:
    """An outer iteration updates networks and images in place (DC's loops); under ``amp=bf16``
    the next forward pass must see the new values, not a cached bfloat16 copy."""
    from datadistill.distillation.dm import DM, DMConfig

    w = torch.ones(2, 2, requires_grad=True)
    x = torch.ones(1, 2)
    with DM(DMConfig(amp="bf16")).precision(torch.device("cpu")):
        before = torch.nn.functional.linear(x, w)
        with torch.no_grad():
            w.mul_(2)
        after = torch.nn.functional.linear(x, w)
    torch.testing.assert_close(after.float(), 2 * before.float())


def test_grouped_runs_match_one_by_one(digits: dd.DataSplits) -> None:
    """``batched=grouped``: the runs as one network of grouped convolutions give each run the
    accuracy it gets alone (same seeds, batches and augmentations)."""
    synset = dd.distill(digits, "random", 3, seed=0, progress=False)
    cfg = {"models": ["convnet-w32"], "runs": 3, "epochs": 15, "augment": "dsa"}
    alone = dd.evaluate(synset, digits, dd.EvalConfig(**cfg, batched="no"), progress=False)
    grouped = dd.evaluate(synset, digits, dd.EvalConfig(**cfg, batched="grouped"), progress=False)
    pairs = zip(alone.results["convnet-w32"].accs, grouped.results["convnet-w32"].accs, strict=True)
    for a, b in pairs:
        assert abs(a - b) < 1.0
    with pytest.raises(ValueError, match="grouped"):
        mlp = dd.EvalConfig(**{**cfg, "models": ["mlp"]}, batched="grouped")
        dd.evaluate(synset, digits, mlp, progress=False)
