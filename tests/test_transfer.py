"""Knowledge distillation across domains: the loss by hand, λ = 1 as plain training, the splits,
every mapping (shapes, determinism, saving), the VAE's training, teacher caching and files, and
on digits a student that learns more with the teacher than without."""

from __future__ import annotations

import math

import pytest
import torch

import datadistill as dd
from datadistill import transfer
from datadistill.evaluation.train import fit
from datadistill.inspect import save_model, train_model
from datadistill.models import create_seeded_model
from datadistill.registry import UnknownNameError
from datadistill.settings import SettingError

# Settings that keep each mapping's test short; every mapping must appear here.
FAST_MAPPINGS: dict[str, dict] = {
    "identity": {},
    "noise": {},
    "dilated-conv": {},
    "vae": {"latent_dim": 2, "hidden": 32, "epochs": 1, "batch_size": 64},
    "generated-mnist": {"latent_dim": 2, "hidden": 32, "epochs": 1, "batch_size": 64},
    "style": {
        "style": "sample:flower",
        "style_size": 16,
        "steps": 2,
        "batch": 4,
        "pool_images": 32,
        "width": 4,
        "blocks": 1,
        "style_layers": "conv1_1,conv2_1",
        "content_layer": "conv2_1",
    },
}
FAST_KD = {
    "big": None,
    "small": 50,
    "student": "mlp",
    "teacher": "mlp",
    "epochs": 30,
    "lr": 0.05,
    "teacher_epochs": 30,
    "teacher_lr": 0.05,
    "lam": 0.5,
    "temperature": 4.0,
}


def test_every_mapping_has_fast_settings() -> None:
    assert set(transfer.list_mappings()) == set(FAST_MAPPINGS)


def test_loss_matches_values_by_hand() -> None:
    # g = softmax([ln 3, 0]) = (3/4, 1/4); y = 1; f = softmax([0, 0]) = (1/2, 1/2); λ = 1/4
    student = torch.tensor([[math.log(3.0), 0.0]])
    teacher = torch.zeros(1, 2)
    y = torch.tensor([1])
    hard = math.log(4.0)
    soft = -(0.5 * math.log(0.75) + 0.5 * math.log(0.25))
    expected = 0.25 * hard + 0.75 * soft
    assert transfer.kd_loss(student, y, teacher, 0.25) == pytest.approx(expected, rel=1e-6)
    # T = 2 on doubled logits: the soft term sees the same g, times T² = 4; the hard term sees
    # softmax([2 ln 3, 0]) = (9/10, 1/10)
    got = transfer.kd_loss(2 * student, y, teacher, 0.25, temperature=2.0)
    assert got == pytest.approx(0.25 * math.log(10.0) + 0.75 * 4 * soft, rel=1e-6)
    assert transfer.kd_loss(student, y, None, 1.0) == pytest.approx(hard, rel=1e-6)
    with pytest.raises(ValueError, match="teacher"):
        transfer.kd_loss(student, y, None, 0.5)


def test_lambda_one_is_plain_cross_entropy_training(digits: dd.DataSplits) -> None:
    small = digits.train.subset(torch.arange(60))
    cfg = {"lam": 1.0, "student": "mlp", "epochs": 5, "lr": 0.05, "batch_size": 16}
    run = transfer.train_student(
        small, digits.test, digits.info, config=cfg, seed=3, keep_model=True
    )
    plain = create_seeded_model("mlp", digits.info, 3)
    fit(
        plain,
        small.images,
        small.labels,
        epochs=5,
        lr=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        batch_size=16,
        generator=torch.Generator().manual_seed(3),
        chunk=0,
    )
    for a, b in zip(run.model.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert len(run.test_acc) == len(run.test_ce) == 5


def test_splits_are_stratified_disjoint_and_seeded(digits: dd.DataSplits) -> None:
    train = digits.train
    big, small = transfer.split_indices(train.labels, 10, 500, 100, seed=1)
    assert len(big) == 500 and len(small) == 100
    assert not set(big.tolist()) & set(small.tolist())
    counts = torch.bincount(train.labels[small], minlength=10)
    assert counts.min() >= 9 and counts.max() <= 11
    again = transfer.split_indices(train.labels, 10, 500, 100, seed=1)
    assert torch.equal(again[0], big) and torch.equal(again[1], small)
    other = transfer.split_indices(train.labels, 10, 500, 100, seed=2)
    assert not torch.equal(other[1], small)
    rest, _ = transfer.split_indices(train.labels, 10, None, 100, seed=1)
    assert len(rest) == len(train) - 100
    with pytest.raises(ValueError, match="more than"):
        transfer.split_indices(train.labels, 10, len(train), 100, seed=0)


@pytest.fixture(scope="module")
def parts(digits: dd.DataSplits) -> tuple[dd.DataSplits, object, object]:
    big, small = transfer.split_big_small(digits.train, None, 50, seed=0)
    return digits, big, small


@pytest.mark.parametrize("name", sorted(FAST_MAPPINGS))
def test_mapping_shapes_determinism_and_files(name: str, parts, tmp_path) -> None:
    data, big, small = parts
    info = data.info

    def build():
        phi = transfer.create_mapping(name, FAST_MAPPINGS[name], 5, info, info)
        return transfer.fitted_mapping(phi, big, big, cache=False, progress=False)

    phi, twin = build(), build()
    x = small.images[:12]
    y = phi(x)
    assert y.shape == (12, *info.shape) and torch.isfinite(y).all()
    torch.testing.assert_close(y, twin(x))  # the same seed: the same φ (and the same noise)
    teacher_set = phi.teacher_set(big, big)
    assert teacher_set.images.shape[1:] == info.shape and len(teacher_set) == len(big)
    transfer.save_mapping(phi, tmp_path / name)
    back = transfer.load_mapping(tmp_path / name)
    assert type(back) is type(phi) and back.config == phi.config
    torch.testing.assert_close(back(x), y)
    (tmp_path / "bad.safetensors").write_bytes(b"not a mapping")
    with pytest.raises(ValueError, match="not a readable mapping file"):
        transfer.load_mapping(tmp_path / "bad.safetensors")
    other = transfer.fitted_mapping(
        transfer.create_mapping(name, FAST_MAPPINGS[name], 6, info, info),
        big,
        big,
        cache=False,
        progress=False,
    )
    if name != "identity":
        assert not torch.allclose(other(x), y)


def test_identity_and_noise_do_what_they_say(parts) -> None:
    data, _, small = parts
    x = small.images
    assert torch.equal(transfer.create_mapping("identity", None, 0, data.info)(x), x)
    noisy = transfer.create_mapping("noise", None, 0, data.info)(x)
    pixel_noise = (noisy - x) * data.info.std[0]
    assert pixel_noise.var().item() == pytest.approx(0.1, rel=0.1)


def test_vae_loss_falls_on_a_small_slice(parts) -> None:
    data, big, _ = parts
    slice_ = big.subset(torch.arange(300))
    vae = transfer.create_mapping(
        "vae", {"latent_dim": 4, "hidden": 64, "epochs": 8, "batch_size": 32}, 0, data.info
    )
    vae.fit(slice_, slice_, progress=False)
    losses = [h["loss"] for h in vae.history]
    assert losses[-1] < 0.9 * losses[0], losses


def test_mapping_refuses_domains_it_cannot_join(digits: dd.DataSplits) -> None:
    import dataclasses

    bigger = dataclasses.replace(digits.info, name="big", size=(16, 16))
    with pytest.raises(ValueError, match="shape"):
        transfer.create_mapping("dilated-conv", None, 0, bigger, digits.info)
    fewer = dataclasses.replace(digits.info, num_classes=3, class_names=("a", "b", "c"))
    with pytest.raises(ValueError, match="classes"):
        transfer.create_mapping("vae", None, 0, fewer, digits.info)
    with pytest.raises(UnknownNameError):
        transfer.create_mapping("nope", None, 0, digits.info)
    with pytest.raises(SettingError, match="variance"):
        transfer.create_mapping("noise", {"variance": -1}, 0, digits.info)


def test_config_refuses_lambda_outside_the_unit_interval() -> None:
    with pytest.raises(SettingError, match="lambda"):
        transfer.KDConfig(lam=1.5)
    with pytest.raises(SettingError, match="lambda"):
        transfer.student.as_config({"lambda": -0.1})
    with pytest.raises(SettingError, match="temperature"):
        transfer.KDConfig(temperature=0)


@pytest.fixture(scope="module")
def digits_kd(digits: dd.DataSplits) -> transfer.KDResult:
    cfg = FAST_KD
    return transfer.kd(digits, mapping="identity", config=cfg, seeds=3, progress=False)


def test_the_teacher_helps_a_student_of_fifty_digits(digits_kd: transfer.KDResult) -> None:
    s = digits_kd.summary()
    assert digits_kd.teacher_scores["acc_own_test"] > 90
    assert s["acc_with_mean"] > s["acc_without_mean"] + 1.0, s
    assert s["ce_with_mean"] < s["ce_without_mean"], s
    assert all(len(r.test_acc) == FAST_KD["epochs"] for r in digits_kd.with_teacher)


def test_teachers_are_cached_and_files_can_stand_in(
    digits: dd.DataSplits, digits_kd: transfer.KDResult, tmp_path
) -> None:
    cached = digits_kd.teacher.meta["cached_at"]
    assert cached is not None
    cfg = {**FAST_KD, "epochs": 2}
    again = transfer.prepare(digits, mapping="identity", config=cfg, progress=False)
    assert again.teacher.meta["cached_at"] == cached
    torch.testing.assert_close(
        again.logits,
        transfer.prepare(digits, mapping="identity", config=cfg, progress=False).logits,
    )
    # a user's own model file as the teacher
    path = save_model(digits_kd.teacher, tmp_path / "teacher").parent
    own = transfer.prepare(digits, config=cfg, teacher=path, progress=False)
    torch.testing.assert_close(own.logits, again.logits)


def test_a_teacher_file_for_another_image_size_is_refused(tmp_path) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    for split, n in (("train", 40), ("test", 20)):
        np.savez(
            tmp_path / f"{split}.npz",
            images=rng.integers(0, 255, (n, 12, 12), dtype=np.uint8),
            labels=np.arange(n) % 10,
        )
    other = dd.load_dataset("npz", tmp_path, val_size=0)
    path = save_model(train_model(other, "mlp", epochs=1, progress=False), tmp_path / "m").parent
    with pytest.raises(ValueError, match="12, 12"):
        transfer.prepare("digits", teacher=path, config=FAST_KD, progress=False)


def test_pictures(digits_kd: transfer.KDResult, parts, tmp_path) -> None:
    from PIL import Image

    from datadistill.transfer import figures

    data, big, small = parts
    curves = figures.save_curves(digits_kd, tmp_path / "curves.png")
    vae = transfer.create_mapping("vae", FAST_MAPPINGS["vae"], 0, data.info)
    vae.fit(big, big, progress=False)
    latent = figures.save_latent_map(vae, tmp_path / "latent.png", n=6)
    examples = figures.save_mapping_examples(vae, small, tmp_path / "examples.png")
    for path in (curves, latent, examples):
        assert Image.open(path).size[0] > 100
    with pytest.raises(ValueError, match="latent_dim=2"):
        figures.save_latent_map(transfer.create_mapping("identity", None, 0, data.info), "x.png")
