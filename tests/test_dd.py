"""DD and SLDD: the unrolled hypergradient, checkpointing, fixed/random initialisation, soft
labels, poisoning and adaptation settings, and their errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

import datadistill as dd
from datadistill.distillation.dd import DD, DDConfig, save_pretrained, unroll
from datadistill.evaluation.protocol import DatasetMismatchError
from datadistill.synset import SetFileError, SyntheticSet

SMALL = {"model": "mlp", "eval_model": "mlp", "batch_real": 128}


def _outer(model, params, images, labels, lrs, x_real, y_real, checkpoint=False):
    batches = list(zip(images.chunk(2), labels.chunk(2), strict=True))
    trained = unroll(model, params, batches, list(lrs), checkpoint)
    return F.cross_entropy(functional_call(model, trained, (x_real,)), y_real)


def _tiny_problem():
    g = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    images = torch.randn(6, 4, generator=g, dtype=torch.float64, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 0, 1, 2])
    lrs = torch.tensor([0.3, 0.2, 0.25, 0.1], dtype=torch.float64, requires_grad=True)
    x_real = torch.randn(32, 4, generator=g, dtype=torch.float64)
    y_real = torch.randint(3, (32,), generator=g)
    return model, params, images, labels, lrs, x_real, y_real


def test_unrolled_hypergradient_matches_finite_differences() -> None:
    model, params, images, labels, lrs, x_real, y_real = _tiny_problem()
    loss = _outer(model, params, images, labels, lrs, x_real, y_real)
    g_images, g_lrs = torch.autograd.grad(loss, (images, lrs))
    eps = 1e-6
    for tensor, analytic in ((images, g_images), (lrs, g_lrs)):
        flat = tensor.detach().clone().view(-1)
        for i in range(0, flat.numel(), 5):
            plus, minus = flat.clone(), flat.clone()
            plus[i] += eps
            minus[i] -= eps
            values = []
            for v in (plus, minus):
                args = [images.detach(), labels, lrs.detach()]
                args[0 if tensor is images else 2] = v.view_as(tensor)
                values.append(float(_outer(model, params, *args, x_real, y_real).detach()))
            numeric = (values[0] - values[1]) / (2 * eps)
            assert abs(numeric - float(analytic.view(-1)[i])) < 1e-6 * max(1.0, abs(numeric))


def test_gradient_checkpointing_gives_the_same_gradients() -> None:
    grads = []
    for checkpoint in (False, True):
        model, params, images, labels, lrs, x_real, y_real = _tiny_problem()
        _outer(model, params, images, labels, lrs, x_real, y_real, checkpoint).backward()
        grads.append((images.grad, lrs.grad))
    torch.testing.assert_close(grads[0], grads[1])


def test_fixed_init_set_carries_theta0_and_trains_deterministically(digits: dd.DataSplits) -> None:
    s = dd.distill(
        digits,
        "dd",
        1,
        {**SMALL, "net_init": "fixed", "iterations": 60, "lr_img": 0.01},
        seed=0,
        progress=False,
    )
    assert s.lrs.shape == (3,) and bool((s.lrs > 0).all()) and s.meta["steps"] == 1
    assert {k for k in s.extras} == {
        f"init.{k}" for k, _ in dd.create_model("mlp", digits.info).named_parameters()
    }
    ev = dd.evaluate(s, digits, dd.EvalConfig(runs=2), progress=False).results["mlp"]
    assert ev.accs[0] == ev.accs[1]  # every run starts from the same θ0
    with pytest.raises(DatasetMismatchError, match="tied to one initialisation"):
        dd.evaluate(s, digits, dd.EvalConfig(models=["convnet"], runs=1), progress=False)
    del s.extras["init.fc_1.bias"]
    with pytest.raises(ValueError, match="missing \\['fc_1.bias'\\]"):
        dd.evaluate(s, digits, dd.EvalConfig(runs=1), progress=False)


def test_distilled_images_beat_random_real_images_in_the_same_steps(digits: dd.DataSplits) -> None:
    settings = {**SMALL, "net_init": "fixed", "iterations": 200, "lr_img": 0.01}
    s = dd.distill(digits, "dd", 1, settings, seed=1, progress=False)
    real = dd.distill(digits, "random", 1, seed=1, progress=False)
    baseline = SyntheticSet(
        real.images,
        real.labels,
        digits.info,
        "random",
        config={"model": "mlp"},
        lrs=s.lrs.clone(),
        extras=dict(s.extras),
        meta={"steps": 1},
    )
    ours = dd.evaluate(s, digits, dd.EvalConfig(runs=1), progress=False).results["mlp"].mean
    theirs = dd.evaluate(baseline, digits, dd.EvalConfig(runs=1), progress=False)
    assert ours > theirs.results["mlp"].mean + 10


def test_dd_unrolls_the_papers_cifar_network(digits: dd.DataSplits) -> None:
    """AlexCifarNet (local response norm, overlapping pooling) through the functional inner
    loop: the set learns and is evaluated from its θ0, as LeNet's is."""
    settings = {
        "model": "alexcifarnet",
        "eval_model": "alexcifarnet",
        "batch_real": 128,
        "net_init": "fixed",
        "lr_img": 0.1,
    }
    accs = []
    for iterations in (1, 40):
        s = dd.distill(digits, "dd", 1, {**settings, "iterations": iterations}, progress=False)
        ev = dd.evaluate(s, digits, dd.EvalConfig(runs=1), progress=False)
        accs.append(ev.results["alexcifarnet"].mean)
    assert "init.features.0.weight" in s.extras
    assert accs[1] > accs[0] + 15


def test_random_init_trains_unseen_initialisations(digits: dd.DataSplits) -> None:
    s = dd.distill(
        digits,
        "dd",
        2,
        {**SMALL, "n_nets": 2, "iterations": 200, "lr_img": 0.01},
        seed=0,
        progress=False,
    )
    assert not s.extras and s.meta["steps"] == 2 and s.lrs.shape == (6,)
    accs = dd.evaluate(s, digits, dd.EvalConfig(runs=3), progress=False).results["mlp"].accs
    assert len(set(accs)) > 1 and min(accs) > 30  # different fresh networks, all well above 10%


@pytest.mark.parametrize("space", ["raw", "simplex"])
def test_sldd_learns_soft_labels_with_fewer_images_than_classes(
    digits: dd.DataSplits, tmp_path: Path, space: str
) -> None:
    s = dd.distill(
        digits,
        "sldd",
        1,
        {
            **SMALL,
            "n_images": 5,
            "net_init": "fixed",
            "iterations": 200,
            "lr_img": 0.01,
            "label_space": space,
        },
        seed=0,
        progress=False,
    )
    assert s.images.shape == (5, *digits.info.shape) and s.labels.shape == (5, 10)
    if space == "simplex":  # distributions, from 0.9 · (half class 0, half class 5) + 0.01
        torch.testing.assert_close(s.labels.sum(1), torch.ones(5))
        start = torch.full((10,), 0.01).index_fill(0, torch.tensor([0, 5]), 0.46)
    else:  # learned as they are, from half class 0 and half class 5
        start = torch.zeros(10).index_fill(0, torch.tensor([0, 5]), 0.5)
    assert not torch.allclose(s.labels[0], start, atol=1e-4)  # the labels moved
    back = SyntheticSet.load(s.save(tmp_path / "sldd.safetensors"))
    assert torch.equal(back.labels, s.labels) and torch.equal(back.lrs, s.lrs)
    accs = [
        dd.evaluate(x, digits, dd.EvalConfig(runs=1), progress=False).results["mlp"].mean
        for x in (s, back)
    ]
    assert accs[0] == accs[1] > 25  # five images teach more than two-and-a-half classes


def test_sldd_rejects_an_unknown_label_space(digits: dd.DataSplits) -> None:
    with pytest.raises(ValueError, match="label_space"):
        dd.distill(digits, "sldd", 1, {**SMALL, "label_space": "logits"}, progress=False)


@pytest.mark.parametrize("real_batches", ["replacement", "epochs"])
def test_resume_is_bit_for_bit(digits: dd.DataSplits, tmp_path: Path, real_batches: str) -> None:
    # batches of 512 real images: the 4 iterations cross an epoch of the digits' training split
    settings = {**SMALL, "iterations": 4, "checkpoint_every": 2, "soft_labels": True}
    settings |= {"batch_real": 512, "real_batches": real_batches}
    straight = dd.distill(digits, "dd", 1, settings, seed=2, progress=False)
    ckpt = tmp_path / "dd.ckpt"
    dd.distill(
        digits, "dd", 1, {**settings, "iterations": 2}, seed=2, progress=False, checkpoint=ckpt
    )
    resumed = dd.distill(digits, "dd", 1, settings, seed=2, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, straight.images)
    assert torch.equal(resumed.lrs, straight.lrs) and torch.equal(resumed.labels, straight.labels)


def test_epoch_order_real_batches_pass_over_the_training_split_once_per_epoch() -> None:
    method = DD(DDConfig(real_batches="epochs", batch_real=4))
    method.order_seed, method.order = 7, (-1, None)
    batches = []
    for it in range(6):  # two epochs of 10 images: batches of 4, 4 and 2
        method.iteration = it
        batches.append(method.real_indices(10, torch.Generator()))
    assert [len(b) for b in batches] == [4, 4, 2, 4, 4, 2]
    first, second = torch.cat(batches[:3]), torch.cat(batches[3:])
    assert sorted(first.tolist()) == sorted(second.tolist()) == list(range(10))
    assert not torch.equal(first, second)  # a new order every epoch


def test_checkpoint_written_before_a_setting_existed_resumes_at_its_default(
    digits: dd.DataSplits, tmp_path: Path
) -> None:
    settings = {**SMALL, "iterations": 4, "checkpoint_every": 2}
    straight = dd.distill(digits, "dd", 1, settings, seed=1, progress=False)
    ckpt = tmp_path / "dd.ckpt"
    dd.distill(
        digits, "dd", 1, {**settings, "iterations": 2}, seed=1, progress=False, checkpoint=ckpt
    )
    state = torch.load(ckpt, weights_only=True)
    key = ast.literal_eval(state["key"])
    del key["config"]["real_batches"]  # as written before the setting was added
    state["key"] = repr(key)
    torch.save(state, ckpt)
    resumed = dd.distill(digits, "dd", 1, settings, seed=1, progress=False, checkpoint=ckpt)
    assert torch.equal(resumed.images, straight.images)
    torch.save(state, ckpt)
    with pytest.raises(SetFileError, match="real_batches: 'replacement' there, 'epochs' here"):
        dd.distill(
            digits,
            "dd",
            1,
            {**settings, "real_batches": "epochs"},
            seed=1,
            progress=False,
            checkpoint=ckpt,
        )


def test_pretrained_start_and_poisoning_settings(digits: dd.DataSplits, tmp_path: Path) -> None:
    nets = [dd.create_model("mlp", digits.info) for _ in range(2)]
    path = save_pretrained(nets, tmp_path / "nets.safetensors")
    s = dd.distill(
        digits,
        "dd",
        1,
        {**SMALL, "net_init": "fixed", "pretrained": str(path), "attack": "0:1", "iterations": 2},
        seed=0,
        progress=False,
    )
    torch.testing.assert_close(s.extras["init.fc_1.weight"], nets[0].fc_1.weight.detach())
    with pytest.raises(SetFileError, match="not a readable weights file"):
        (tmp_path / "bad.safetensors").write_bytes(b"not weights")
        dd.distill(
            digits,
            "dd",
            1,
            {**SMALL, "pretrained": str(tmp_path / "bad.safetensors")},
            progress=False,
        )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"net_init": "known"}, "net_init"),
        ({"attack": "0-1"}, "attack"),
        ({"attack": "3:3"}, "two different classes"),
        ({"steps": 3}, "equal steps"),
        ({"cuda_graph": True}, "CUDA device"),
        ({"real_batches": "shuffled"}, "real_batches"),
        ({"cuda_graph": True, "real_batches": "epochs"}, "one batch shape"),
    ],
)
def test_bad_settings_are_clear_errors(digits: dd.DataSplits, settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dd.distill(digits, "dd", 2, {**SMALL, "iterations": 1, **settings}, progress=False)


def test_cuda_graph_with_epochs_passes_when_the_batch_divides_the_split(
    digits: dd.DataSplits,
) -> None:
    settings = {"cuda_graph": True, "real_batches": "epochs", "batch_real": len(digits.train)}
    with pytest.raises(ValueError, match="CUDA device"):  # past the batch-shape check
        dd.distill(digits, "dd", 2, {**SMALL, "iterations": 1, **settings}, progress=False)


def test_xavier_weight_init_is_recorded_and_used_for_unseen_networks(
    digits: dd.DataSplits,
) -> None:
    net = dd.models.create_seeded_model("mlp", digits.info, 3, weight_init="xavier")
    again = dd.models.create_seeded_model("mlp", digits.info, 3, weight_init="xavier")
    assert torch.equal(net.fc_1.weight, again.fc_1.weight) and not net.fc_1.bias.any()
    s = dd.distill(
        digits, "dd", 1, {**SMALL, "iterations": 2, "weight_init": "xavier"}, progress=False
    )
    assert s.meta["weight_init"] == "xavier"
    xavier = dd.evaluate(s, digits, dd.EvalConfig(runs=2), progress=False).results["mlp"].accs
    s.meta["weight_init"] = "default"
    default = dd.evaluate(s, digits, dd.EvalConfig(runs=2), progress=False).results["mlp"].accs
    assert xavier != default
    with pytest.raises(ValueError, match="weight_init"):
        dd.distill(digits, "dd", 1, {**SMALL, "weight_init": "orthogonal"}, progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("settings", [{"net_init": "fixed"}, {"n_nets": 2, "soft_labels": True}])
def test_cuda_graph_replay_learns_what_eager_learns(digits: dd.DataSplits, settings: dict) -> None:
    data = digits.to("cuda")
    base = {**SMALL, "iterations": 6, **settings}
    eager = dd.distill(data, "dd", 1, base, seed=1, progress=False)
    graphed = dd.distill(data, "dd", 1, {**base, "cuda_graph": True}, seed=1, progress=False)
    torch.testing.assert_close(graphed.images, eager.images, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(graphed.lrs, eager.lrs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("tf32", [False, True])
def test_dd_runs_cudnn_in_full_fp32_on_gpus_unless_asked(tf32: bool) -> None:
    from datadistill.distillation.dd import DD, DDConfig

    method = DD(DDConfig(tf32=tf32))
    before = torch.backends.cudnn.allow_tf32
    with method.precision(torch.device("cuda")):
        assert torch.backends.cudnn.allow_tf32 is (before and tf32)
    with method.precision(torch.device("cpu")):  # nothing to change off the GPU
        assert torch.backends.cudnn.allow_tf32 is before
    assert torch.backends.cudnn.allow_tf32 is before
