"""Distilled sentences shown as words: each position's nearest vocabulary vector."""

from __future__ import annotations

import torch

from datadistill.text.vocab import Vocabulary


def nearest_words(
    sentences: torch.Tensor, vectors: torch.Tensor, vocab: Vocabulary, k: int = 1
) -> list[list[list[str]]]:
    """For ``(N, 1, L, dim)`` (or ``(N, L, dim)``) sentences, the ``k`` nearest words (Euclidean;
    the zero padding vector decodes as ``<pad>``) of every position: ``[n][position][rank]``."""
    x = sentences.detach().float().cpu()
    if x.ndim == 4:
        x = x.squeeze(1)
    if x.ndim != 3 or x.shape[-1] != vectors.shape[1]:
        raise ValueError(
            f"sentences must be (N, 1, L, {vectors.shape[1]}), got {tuple(sentences.shape)}"
        )
    vectors = vectors.float().cpu()
    d = torch.cdist(x.reshape(-1, x.shape[-1]), vectors)
    blank = vectors.norm(dim=1) == 0  # e.g. <unk> never seen in training: only <pad> reads as 0
    blank[0] = False
    d[:, blank] = float("inf")
    ids = d.topk(k, largest=False).indices.view(x.shape[0], x.shape[1], k)
    return [[vocab.decode(pos.tolist()) for pos in sent] for sent in ids]


def decode_text(
    sentences: torch.Tensor,
    labels: torch.Tensor,
    vectors: torch.Tensor,
    vocab: Vocabulary,
    class_names: tuple[str, ...],
    keep_padding: bool = False,
) -> str:
    """One line per sentence: its class and its nearest words (trailing padding dropped)."""
    hard = labels.argmax(1) if labels.ndim == 2 else labels
    lines = []
    for words, y in zip(nearest_words(sentences, vectors, vocab), hard.tolist(), strict=True):
        tokens = [w[0] for w in words]
        if not keep_padding:
            while tokens and tokens[-1] == "<pad>":
                tokens.pop()
        lines.append(f"[{class_names[y]}] {' '.join(tokens)}")
    return "\n".join(lines) + "\n"
