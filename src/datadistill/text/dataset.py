"""A text corpus as a dataset of the library: each sentence's token ids, padded or cut to
``length``, looked up in frozen word vectors: a ``(1, length, dim)`` "image". Every method, the
set file and the evaluation protocol then work on sentences unchanged.

``TextDataset`` keeps what the tensors lose: the vocabulary (built from the training split), the
word vectors and the token ids, for decoding distilled sentences into their nearest words.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from datadistill.datasets.base import DataFormatError, RawData, resolve_root
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.tensorset import DataSplits
from datadistill.settings import at_least, one_of
from datadistill.text.corpora import CORPORA, Corpus
from datadistill.text.embeddings import load_glove, ppmi_vectors
from datadistill.text.vocab import Vocabulary, tokenize

if TYPE_CHECKING:
    from datadistill.synset import SyntheticSet


@dataclass(frozen=True)
class TextConfig:
    """``length``: tokens per sentence (cut or padded); ``embedding``: ``ppmi`` (offline, SVD of
    the training split's positive PMI matrix) or ``glove`` (``ROOT/glove/glove.6B.{dim}d.txt``);
    ``min_count``/``max_vocab``: which training words enter the vocabulary."""

    length: int = 32
    embedding: str = "ppmi"
    dim: int = 50
    min_count: int = 2
    max_vocab: int = 20000
    window: int = 5

    def __post_init__(self) -> None:
        at_least(self, 1, "length", "dim", "min_count", "window")
        at_least(self, 0, "max_vocab")
        one_of(self, "embedding", ("ppmi", "glove"))


@dataclass
class TextDataset:
    """A loaded text dataset: the splits (embedded sentences), vocabulary and vectors."""

    splits: DataSplits
    vocab: Vocabulary
    vectors: torch.Tensor  # (len(vocab), dim)
    train_ids: torch.Tensor  # (N, length), before the validation split is carved out
    test_ids: torch.Tensor
    corpus: Corpus


def embed_ids(ids: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """``(N, L)`` token ids → ``(N, 1, L, dim)`` embedded sentences."""
    return vectors[ids].unsqueeze(1)


def text_info(corpus: Corpus, config: TextConfig, vocab_size: int) -> DatasetInfo:
    return DatasetInfo(
        name=corpus.name,
        channels=1,
        size=(config.length, config.dim),
        num_classes=len(corpus.class_names),
        class_names=corpus.class_names,
        mean=(0.0,),
        std=(1.0,),
        eval_augment="none",
        flip=False,
        extra={
            "modality": "text",
            "model": "textcnn",
            "text": {**dataclasses.asdict(config), "vocab_size": vocab_size},
            "source": corpus.source,
        },
    )


def build_text_dataset(
    corpus: Corpus,
    config: TextConfig = TextConfig(),
    root: Path | None = None,
    download: bool = False,
) -> tuple[RawData, Vocabulary, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tokenise, build the vocabulary from the train split, encode both splits, fit (or read) the
    word vectors, embed: the ``RawData`` of ``load_dataset`` plus vocabulary, vectors and ids."""
    train_tokens = [tokenize(t) for t in corpus.train_texts]
    vocab = Vocabulary.build(train_tokens, config.min_count, config.max_vocab)
    if len(vocab) <= 2:
        raise DataFormatError(f"{corpus.name}: no word of the training split enters the vocabulary")
    train_ids = vocab.encode(train_tokens, config.length)
    test_ids = vocab.encode([tokenize(t) for t in corpus.test_texts], config.length)
    if config.embedding == "glove":
        vectors, _ = load_glove(vocab, resolve_root(root), config.dim, download)
    else:
        vectors = ppmi_vectors(train_ids, len(vocab), config.dim, config.window)
    info = text_info(corpus, config, len(vocab))
    raw = RawData(
        info,
        embed_ids(train_ids, vectors),
        torch.tensor(corpus.train_labels, dtype=torch.long),
        embed_ids(test_ids, vectors),
        torch.tensor(corpus.test_labels, dtype=torch.long),
    )
    return raw, vocab, vectors, train_ids, test_ids


@lru_cache(maxsize=4)
def _cached(name: str, root: Path, download: bool, config: TextConfig):
    corpus = CORPORA[name](root, download)
    return corpus, *build_text_dataset(corpus, config, root, download)


def text_raw(name: str, root: Path, download: bool, config: TextConfig = TextConfig()) -> RawData:
    """The loader registered for each corpus (default settings): what ``load_dataset`` reads."""
    return _cached(name, Path(root), download, config)[1]


def load_text(
    name: str,
    root: str | os.PathLike[str] | None = None,
    config: TextConfig | None = None,
    *,
    corpus: Corpus | None = None,
    val_size: float | int = 0.1,
    val_seed: int = 0,
    download: bool = False,
    device: str | torch.device = "cpu",
) -> TextDataset:
    """``load_dataset`` for text with its settings, keeping vocabulary and vectors: a registered
    corpus by ``name`` (``rotten-tomatoes``, ``imdb``, ``sst2``, ``trec6``) or a given ``corpus``
    (e.g. ``load_csv_corpus``)."""
    from datadistill.datasets.loading import splits_from_raw

    config = config or TextConfig()
    data_root = resolve_root(root)
    if corpus is None:
        if name not in CORPORA:
            from datadistill.registry import UnknownNameError

            raise UnknownNameError(f"unknown text dataset {name!r}; known: {', '.join(CORPORA)}")
        corpus, raw, vocab, vectors, train_ids, test_ids = _cached(
            name, data_root, download, config
        )
    else:
        raw, vocab, vectors, train_ids, test_ids = build_text_dataset(
            corpus, config, data_root, download
        )
    splits = splits_from_raw(raw, data_root, val_size=val_size, val_seed=val_seed, device=device)
    return TextDataset(splits, vocab, vectors, train_ids, test_ids, corpus)


def text_of_set(
    synset: SyntheticSet,
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = False,
    device: str | torch.device = "cpu",
) -> TextDataset:
    """The text dataset ``synset`` was made from, loaded with the settings it stores (the
    embedding's ``TextConfig`` and the validation seed), vocabulary and vectors included."""
    settings = dict(synset.info.extra.get("text", {}))
    settings.pop("vocab_size", None)
    return load_text(
        synset.info.name,
        root,
        TextConfig(**settings),
        val_seed=int(synset.meta.get("val_seed", 0)),
        download=download,
        device=device,
    )
