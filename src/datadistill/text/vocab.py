"""Tokeniser, vocabulary from the training split, and token ids padded or cut to a fixed length."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

PAD, UNK = "<pad>", "<unk>"
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (with an apostrophe suffix kept: ``don't``) and single punctuation marks;
    HTML line breaks (``<br />``, as in IMDB) count as spaces."""
    return _TOKEN.findall(text.replace("<br />", " ").lower())


@dataclass(frozen=True)
class Vocabulary:
    """Words by id: id 0 is padding, id 1 the unknown word, then by frequency (ties: a→z)."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.words[:2] != (PAD, UNK):
            raise ValueError(f"a vocabulary starts with {PAD!r}, {UNK!r}")
        object.__setattr__(self, "_ids", {w: i for i, w in enumerate(self.words)})

    @classmethod
    def build(
        cls, documents: Iterable[Sequence[str]], min_count: int = 1, max_size: int = 0
    ) -> Vocabulary:
        """From tokenised training documents: words seen ``min_count`` times or more, at most
        ``max_size`` of them (0: no limit) besides padding and the unknown word."""
        if min_count < 1 or max_size < 0:
            raise ValueError(f"min_count must be ≥ 1 and max_size ≥ 0, got {min_count}, {max_size}")
        counts = Counter(w for doc in documents for w in doc)
        ranked = sorted(
            (w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w)
        )
        if max_size:
            ranked = ranked[:max_size]
        return cls((PAD, UNK, *ranked))

    def __len__(self) -> int:
        return len(self.words)

    def id(self, word: str) -> int:
        return self._ids.get(word, 1)  # type: ignore[attr-defined]

    def encode(self, documents: Iterable[Sequence[str]], length: int) -> torch.Tensor:
        """``(N, length)`` token ids: each document cut to its first ``length`` tokens, or padded
        with id 0 at the end."""
        if length <= 0:
            raise ValueError(f"length must be a positive number of tokens, got {length}")
        rows = [[self.id(w) for w in doc[:length]] for doc in documents]
        out = torch.zeros(len(rows), length, dtype=torch.long)
        for i, row in enumerate(rows):
            out[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        return out

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[i] for i in ids]
