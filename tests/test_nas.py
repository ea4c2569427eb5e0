"""Architecture search: the search space, rank agreement, proxies, resuming, and the CLI."""

from __future__ import annotations

import importlib
import json

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from datadistill.nas import (
    SPACES,
    NASConfig,
    SearchSpace,
    ground_truth_ranks,
    rank_agreement,
    search,
)

search_module = importlib.import_module("datadistill.nas.search")
FAST = NASConfig(proxy_steps=5, truth_steps=20, val_images=100)


def test_space_samples_distinct_buildable_candidates(digits: dd.DataSplits) -> None:
    space = SPACES.get("convnet")
    assert space.size >= 30
    pool = space.sample(30, seed=3)
    assert len({json.dumps(c, sort_keys=True) for c in pool}) == 30
    assert pool == space.sample(30, seed=3)
    assert pool != space.sample(30, seed=4)
    for candidate in pool[:8]:
        logits = space.build(candidate, digits.info)(digits.train.images[:2])
        assert logits.shape == (2, digits.info.num_classes)


def test_space_refuses_bad_requests() -> None:
    with pytest.raises(ValueError, match="empty"):
        SearchSpace("empty", {"depth": ()}, lambda c, i: torch.nn.Identity())
    space = SPACES.get("convnet")
    with pytest.raises(ValueError, match="candidates"):
        space.sample(space.size + 1)
    with pytest.raises(ValueError, match=">= 1"):
        space.sample(0)


def test_space_sampler_is_seeded(digits: dd.DataSplits) -> None:
    make = SPACES.get("convnet").sampler(digits.info)
    a = make(torch.Generator().manual_seed(1))
    b = make(torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


def test_rank_agreement_of_known_orderings() -> None:
    truth = [90.0, 80.0, 70.0, 60.0, 50.0, 40.0]
    same = rank_agreement([9, 8, 7, 6, 5, 4], truth, top=3)
    assert same["spearman"] == pytest.approx(1.0) and same["kendall"] == pytest.approx(1.0)
    assert same["top1_truth_rank"] == 1 and same["top3_truth_ranks"] == [1, 2, 3]
    reverse = rank_agreement([1, 2, 3, 4, 5, 6], truth, top=3)
    assert reverse["spearman"] == pytest.approx(-1.0) and reverse["kendall"] == pytest.approx(-1.0)
    assert reverse["top1_truth_rank"] == 6 and reverse["top3_best_truth_rank"] == 4
    assert ground_truth_ranks([5.0, 7.0, 7.0, 1.0]) == [3, 1, 1, 4]


def test_search_scores_resumes_and_takes_set_files(
    digits: dd.DataSplits, tmp_path, monkeypatch
) -> None:
    synset = dd.distill(digits, "random", 2, seed=0, progress=False)
    synset.save(tmp_path / "random.safetensors")
    proxies = ["random", "real", f"set:{tmp_path / 'random.safetensors'}"]
    kwargs = {"candidates": 4, "config": FAST, "out": tmp_path / "nas", "progress": False}
    first = search(digits, proxies, **kwargs)
    assert set(first.scores) == {"random", "real", "set:random.safetensors"}
    assert len(first.truth) == 4 and all(0 <= t <= 100 for t in first.truth)
    assert all(-1 <= a["spearman"] <= 1 for a in first.agreement.values() if a["spearman"])

    def no_training(*args, **kwargs):  # a rerun must take every result from cells.jsonl
        raise AssertionError("retrained a finished cell")

    monkeypatch.setattr(search_module, "_train_and_score", no_training)
    again = search(digits, proxies, **kwargs)
    assert again.scores == first.scores and again.truth == first.truth


def test_cli_writes_results_and_refuses_bad_input(tmp_path, capsys) -> None:
    out = tmp_path / "nas"
    args = ["nas", "--dataset", "digits", "--out", str(out), "--candidates", "3"]
    steps = ["--proxy-steps", "3", "--truth-steps", "6", "--set", "val_images=50"]
    assert main([*args, *steps]) == 0
    result = json.loads((out / "nas.json").read_text())
    assert len(result["candidates"]) == 3 and set(result["agreement"]) == {"random", "real"}
    assert (out / "nas.png").stat().st_size > 0
    capsys.readouterr()
    for bad in (
        ["--space", "nope"],
        ["--candidates", "0"],
        ["--proxy", "weird"],
        ["--proxy-steps", "10", "--truth-steps", "5"],
    ):
        assert main([*args, *bad]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("datadistill: error:") and "\n" not in err


def test_a_teaching_network_proxy_trains_on_its_curriculum(digits: dd.DataSplits, tmp_path) -> None:
    """``gtn:FILE``: candidates train on the generator's learned curriculum, batch by batch in
    step order, as its learners did."""
    from datadistill.nas import parse_proxy

    tiny = {"iterations": 2, "inner_steps": 3, "batch_size": 20, "batch_real": 32, "width": 8}
    dd.distill(digits, "gtn", 2, {**tiny, "noise_dim": 8}, progress=False).save(tmp_path / "g.pt")
    proxy = parse_proxy(f"gtn:{tmp_path / 'g.pt'}", digits, ipc=2, seed=0)
    assert proxy.ordered_batch == 20 and proxy.images.shape[0] == 60
    assert proxy.labels[:20].tolist() == [i % 10 for i in range(20)]
    result = search(digits, [f"gtn:{tmp_path / 'g.pt'}"], candidates=3, config=FAST, progress=False)
    assert set(result.scores) == {"gtn:g"}
