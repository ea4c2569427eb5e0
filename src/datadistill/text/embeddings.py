"""Word vectors: GloVe from a local file (or its download), or, offline, a truncated SVD of the
positive PMI co-occurrence matrix of the training split (Levy & Goldberg 2014), no new dependency.

Rows follow the vocabulary; the padding row is zero. Vectors are scaled so that their entries
have standard deviation 1 over the vocabulary, the scale the learned sentences start from.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import torch

from datadistill.datasets.base import DataFormatError, missing
from datadistill.text.vocab import Vocabulary

GLOVE_URL = "https://nlp.stanford.edu/data/glove.6B.zip"
GLOVE_DIMS = (50, 100, 200, 300)


def _scaled(vectors: np.ndarray) -> torch.Tensor:
    v = torch.from_numpy(np.asarray(vectors, dtype=np.float32)).clone()
    v[0] = 0.0
    std = float(v[1:].std()) or 1.0
    return v / std


def ppmi_vectors(ids: torch.Tensor, vocab_size: int, dim: int, window: int = 5) -> torch.Tensor:
    """``(vocab_size, dim)`` vectors from token ids ``(N, L)`` (0 = padding, ignored): counts of
    word pairs within ``window`` positions, positive PMI with context-distribution smoothing
    (α = 0.75), then the top ``dim`` singular vectors scaled by √σ. Deterministic."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import svds

    if dim <= 0 or dim >= vocab_size - 1:
        raise ValueError(f"embedding dim must be in 1..{vocab_size - 2}, got {dim}")
    x = ids.numpy()
    rows, cols = [], []
    for d in range(1, window + 1):
        a, b = x[:, :-d].ravel(), x[:, d:].ravel()
        keep = (a > 0) & (b > 0)
        rows += [a[keep], b[keep]]
        cols += [b[keep], a[keep]]
    r, c = np.concatenate(rows), np.concatenate(cols)
    counts = coo_matrix((np.ones(len(r)), (r, c)), shape=(vocab_size, vocab_size)).tocsr()
    counts.sum_duplicates()
    total = counts.sum()
    word = np.asarray(counts.sum(1)).ravel()
    ctx = np.asarray(counts.sum(0)).ravel() ** 0.75
    ctx = ctx / ctx.sum()
    coo = counts.tocoo()
    pmi = np.log(coo.data * 1.0 / total) - np.log(word[coo.row] / total) - np.log(ctx[coo.col])
    keep = pmi > 0
    ppmi = coo_matrix((pmi[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape).tocsr()
    rng = np.random.default_rng(0)
    v0 = rng.standard_normal(vocab_size)
    u, s, _ = svds(ppmi.astype(np.float64), k=dim, v0=v0)
    order = np.argsort(-s)
    u, s = u[:, order], s[order]
    u = u * np.sign(u[np.abs(u).argmax(0), range(dim)])  # a fixed sign per component
    vectors = u * np.sqrt(s)
    vectors[word == 0] = 0.0  # never seen in a window (e.g. <unk> with min_count 1): exactly 0
    return _scaled(vectors)


def glove_path(root: Path, dim: int) -> Path:
    return root / "glove" / f"glove.6B.{dim}d.txt"


def load_glove(
    vocab: Vocabulary, root: Path, dim: int = 100, download: bool = False, path: Path | None = None
) -> tuple[torch.Tensor, float]:
    """GloVe 6B vectors of ``dim`` for the vocabulary from ``path`` (default
    ``ROOT/glove/glove.6B.{dim}d.txt``; ``download`` fetches and unpacks the 822 MB zip). Words
    GloVe lacks get small random vectors (seed 0). Returns the vectors and the share found."""
    if dim not in GLOVE_DIMS:
        raise ValueError(f"GloVe 6B has dims {GLOVE_DIMS}, not {dim}")
    path = Path(path) if path is not None else glove_path(root, dim)
    if not path.is_file():
        if not download:
            raise missing("glove", path.parent, [path.name], "glove/glove.6B.<dim>d.txt", True)
        from torchvision.datasets.utils import download_url

        download_url(GLOVE_URL, str(root / "glove"))
        with zipfile.ZipFile(root / "glove" / "glove.6B.zip") as z:
            z.extract(path.name, path.parent)
    rng = np.random.default_rng(0)
    out = rng.normal(0.0, 0.1, (len(vocab), dim)).astype(np.float32)
    found = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.rstrip().partition(" ")
            i = vocab.id(word)
            if i > 1 or word == "<unk>":
                values = np.asarray(rest.split(" "), dtype=np.float32)
                if values.shape != (dim,):
                    raise DataFormatError(f"{path}: a line with {values.size} values, not {dim}")
                out[i] = values
                found += 1
    return _scaled(out), found / max(len(vocab) - 2, 1)
