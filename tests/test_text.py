"""Text dataset distillation: tokeniser, vocabulary, padding, text models, methods on embedded
sentences, nearest-word decoding, and bad input at the command line (one line, exit 2)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

import datadistill as dd
from datadistill.cli.main import main
from datadistill.models import create_model
from datadistill.synset import SyntheticSet
from datadistill.text import (
    TextConfig,
    Vocabulary,
    decode_text,
    load_text,
    nearest_words,
    read_csv_texts,
    tokenize,
)
from datadistill.text.corpora import split_corpus

TINY = TextConfig(length=8, dim=8, min_count=1)


def tiny_corpus(n: int = 400, seed: int = 0):
    """Sentences of six neutral words and one class word at a random place: separable, but one
    real sentence per class shows a single class word of eight."""
    rng = random.Random(seed)
    neutral = [f"n{i}" for i in range(30)]
    cue = {0: [f"bad{i}" for i in range(8)], 1: [f"good{i}" for i in range(8)]}
    texts, labels = [], []
    for i in range(n):
        words = [rng.choice(neutral) for _ in range(6)]
        words.insert(rng.randrange(7), rng.choice(cue[i % 2]))
        texts.append(" ".join(words))
        labels.append(i % 2)
    return split_corpus("tiny", texts, labels, ("neg", "pos"), "test")


@pytest.fixture(scope="module")
def tiny() -> dd.DataSplits:
    return load_text("tiny", corpus=tiny_corpus(), config=TINY)


def test_tokenizer_and_vocabulary_on_a_hand_made_corpus() -> None:
    assert tokenize("Don't stop<br />the film, NOW!") == [
        "don't",
        "stop",
        "the",
        "film",
        ",",
        "now",
        "!",
    ]
    docs = [tokenize(t) for t in ("a b b c", "b c c c", "d")]
    vocab = Vocabulary.build(docs, min_count=2)
    assert vocab.words == ("<pad>", "<unk>", "c", "b")  # by count, then a→z; a and d too rare
    assert vocab.id("zebra") == 1 and vocab.decode([3, 2]) == ["b", "c"]
    assert len(Vocabulary.build(docs, max_size=1)) == 3


def test_padding_and_truncation() -> None:
    vocab = Vocabulary.build([["a", "b", "c"]])
    ids = vocab.encode([["a"], ["a", "b", "c", "x", "b"]], length=3)
    assert ids.tolist() == [[vocab.id("a"), 0, 0], [vocab.id("a"), vocab.id("b"), vocab.id("c")]]
    with pytest.raises(ValueError, match="length"):
        vocab.encode([["a"]], length=0)


def test_text_dataset_shapes_and_settings(tiny) -> None:
    data = tiny.splits
    assert data.info.shape == (1, 8, 8) and data.info.extra["modality"] == "text"
    assert len(data.train) + len(data.val) == len(tiny.train_ids) == 320
    assert torch.equal(tiny.vectors[0], torch.zeros(8))  # padding
    # the embedded sentence is the vectors of its ids
    assert torch.allclose(data.test.images[0, 0], tiny.vectors[tiny.test_ids[0]])


@pytest.mark.parametrize("name", ["textcnn", "textgru"])
def test_text_model_forward_and_double_backward(tiny, name: str) -> None:
    torch.manual_seed(0)
    net = create_model(name, tiny.splits.info)
    x = tiny.splits.train.images[:5].clone().requires_grad_(True)
    out = net(x)
    assert out.shape == (5, 2) and net.embed(x).ndim == 2
    g = torch.autograd.grad(out.square().sum(), list(net.parameters()), create_graph=True)
    torch.autograd.grad(sum(t.sum() for t in g), x)  # gradient matching needs this


def test_text_datasets_default_to_text_model_and_no_augmentation(tiny) -> None:
    s = dd.distill(tiny.splits, "dm", 1, {"iterations": 1, "batch_real": 8}, progress=False)
    assert s.config["model"] == "textcnn" and s.config["augment"] == "none"
    assert dd.EvalConfig().resolved_models(s) == ["textcnn"]


def test_distillation_beats_random_real_sentences(tiny) -> None:
    cfg = dd.EvalConfig(runs=3, epochs=100)
    data = tiny.splits
    rand = dd.distill(data, "random", 1, seed=0, progress=False)
    dm = dd.distill(data, "dm", 1, {"iterations": 100, "batch_real": 64}, seed=0, progress=False)
    base = dd.evaluate(rand, data, cfg, progress=False).results["textcnn"].mean
    ours = dd.evaluate(dm, data, cfg, progress=False).results["textcnn"].mean
    assert ours > base + 5, (ours, base)


@pytest.mark.parametrize("method", ["dd", "sldd", "dc"])
def test_unrolled_and_gradient_matching_run_on_text(tiny, method: str) -> None:
    s = dd.distill(tiny.splits, method, 1, {"iterations": 2, "batch_real": 16}, progress=False)
    assert s.images.shape == (2, 1, 8, 8) and s.config["model"] == "textcnn"
    ev = dd.evaluate(s, tiny.splits, dd.EvalConfig(runs=1, epochs=2), progress=False)
    assert list(ev.results) == ["textcnn"]


def test_nearest_word_decoding(tiny) -> None:
    ids = tiny.test_ids[:3]
    sentences = tiny.vectors[ids].unsqueeze(1) + 1e-3
    words = nearest_words(sentences, tiny.vectors, tiny.vocab)
    assert [[w[0] for w in s] for s in words] == [tiny.vocab.decode(r.tolist()) for r in ids]
    text = decode_text(sentences, torch.tensor([0, 1, 1]), tiny.vectors, tiny.vocab, ("neg", "pos"))
    lines = text.splitlines()
    assert len(lines) == 3 and lines[1].startswith("[pos] ") and "<pad>" not in text
    with pytest.raises(ValueError, match="sentences"):
        nearest_words(torch.zeros(2, 1, 8, 5), tiny.vectors, tiny.vocab)


def test_csv_reader_names_missing_columns_and_empty_corpora() -> None:
    texts, labels, classes = read_csv_texts("text,label\nhi there,b\nyo,a\n", "x.csv")
    assert texts == ["hi there", "yo"] and labels == [1, 0] and classes == ("a", "b")
    with pytest.raises(ValueError, match="no column 'label'"):
        read_csv_texts("text,category\nhi,a\n", "x.csv")
    with pytest.raises(ValueError, match="empty"):
        read_csv_texts("text,label\n", "x.csv")


def _write_corpus(root: Path) -> None:
    c = tiny_corpus(200)
    rows = [
        "text,label",
        *(
            f"{t},{['neg', 'pos'][y]}"
            for t, y in zip(
                c.train_texts + c.test_texts, c.train_labels + c.test_labels, strict=True
            )
        ),
    ]
    (root / "corpus.csv").write_text("\n".join(rows) + "\n")


def test_cli_distill_evaluate_and_show_words(tmp_path: Path, capsys) -> None:
    _write_corpus(tmp_path)
    out = tmp_path / "run"
    argv = [
        "distill",
        "--dataset",
        "text-csv",
        "--data-root",
        str(tmp_path),
        "--method",
        "dm",
        "--ipc",
        "2",
        "--set",
        "iterations=2",
        "--set",
        "batch_real=8",
        "--set",
        "text.length=8",
        "--set",
        "text.dim=8",
        "--set",
        "text.min_count=1",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    s = SyntheticSet.load(out / "set.safetensors")
    assert s.images.shape == (4, 1, 8, 8) and s.info.extra["text"]["length"] == 8
    assert main(["evaluate", str(out / "set.safetensors"), "--runs", "1", "--epochs", "2"]) == 0
    assert main(["show", str(out / "set.safetensors"), "--out", str(tmp_path / "g.png")]) == 0
    words = (tmp_path / "g.txt").read_text().splitlines()
    assert len(words) == 4 and words[0].startswith("[neg] ")
    capsys.readouterr()


@pytest.mark.parametrize("case", ["empty", "no-label-column", "length-0"])
def test_bad_text_input_is_one_line_exit_2(tmp_path: Path, capsys, case: str) -> None:
    sets = ["--set", "iterations=1"]
    if case == "empty":
        (tmp_path / "corpus.csv").write_text("text,label\n")
    elif case == "no-label-column":
        (tmp_path / "corpus.csv").write_text("text,category\nfine film,pos\nawful,neg\n")
    else:
        _write_corpus(tmp_path)
        sets += ["--set", "text.length=0"]
    argv = [
        "distill",
        "--dataset",
        "text-csv",
        "--data-root",
        str(tmp_path),
        "--method",
        "dm",
        "--ipc",
        "1",
        *sets,
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("datadistill: error: ") and err.count("\n") == 1
    assert {"empty": "empty", "no-label-column": "no column 'label'", "length-0": "length"}[
        case
    ] in err


def test_real_loaders_read_tiny_files_in_their_formats(tmp_path: Path) -> None:
    """IMDB, SST-2 and TREC-6 are not on this machine: their loaders read tiny files written in
    each one's real layout, and a missing one names the layout."""
    from datadistill.datasets.base import DataNotFoundError
    from datadistill.text.corpora import load_imdb, load_sst2, load_trec6

    for part in ("train", "test"):
        for label, text in (("neg", "a dull film"), ("pos", "a fine film")):
            folder = tmp_path / "aclImdb" / part / label
            folder.mkdir(parents=True)
            (folder / "0_3.txt").write_text(text)
    imdb = load_imdb(tmp_path, False)
    assert imdb.train_texts == ["a dull film", "a fine film"] and imdb.test_labels == [0, 1]
    (tmp_path / "SST-2").mkdir()
    for name in ("train", "dev"):
        (tmp_path / "SST-2" / f"{name}.tsv").write_text(
            "sentence\tlabel\nit is dull \t0\nfun \t1\n"
        )
    sst = load_sst2(tmp_path, False)
    assert sst.train_texts == ["it is dull ", "fun "] and sst.test_labels == [0, 1]
    (tmp_path / "trec").mkdir()
    lines = "DESC:manner How did serfdom develop ?\nHUM:ind Who killed Gandhi ?\n"
    for name in ("train_5500.label", "TREC_10.label"):
        (tmp_path / "trec" / name).write_bytes(lines.encode("latin-1"))
    trec = load_trec6(tmp_path, False)
    assert trec.train_labels == [1, 3] and trec.train_texts[1] == "Who killed Gandhi ?"
    with pytest.raises(DataNotFoundError, match="aclImdb"):
        load_imdb(tmp_path / "elsewhere", False)


def test_glove_file_read_into_the_vocabulary(tmp_path: Path) -> None:
    from datadistill.text.embeddings import load_glove

    vocab = Vocabulary.build([["good", "film", "zzz"]])
    folder = tmp_path / "glove"
    folder.mkdir()
    rows = {"good": 1.0, "film": -2.0, "other": 3.0}
    text = "".join(f"{w} " + " ".join([str(v)] * 50) + "\n" for w, v in rows.items())
    (folder / "glove.6B.50d.txt").write_text(text)
    vectors, found = load_glove(vocab, tmp_path, dim=50)
    assert vectors.shape == (len(vocab), 50) and found == pytest.approx(2 / 3)
    good, film = vectors[vocab.id("good")], vectors[vocab.id("film")]
    assert torch.allclose(film, -2 * good)  # the file's vectors, scaled alike
