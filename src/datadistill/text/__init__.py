"""Text dataset distillation: sentences as ``(1, length, dim)`` matrices of word vectors.

Tokeniser and vocabulary, corpora (Rotten Tomatoes offline; IMDB, SST-2, TREC-6 with their
downloads; any CSV), word vectors (offline PPMI-SVD or GloVe), and nearest-word decoding.
"""

from datadistill.text.corpora import CORPORA, Corpus, load_csv_corpus, read_csv_texts
from datadistill.text.dataset import (
    TextConfig,
    TextDataset,
    build_text_dataset,
    embed_ids,
    load_text,
    text_of_set,
)
from datadistill.text.decode import decode_text, nearest_words
from datadistill.text.embeddings import GLOVE_URL, load_glove, ppmi_vectors
from datadistill.text.vocab import Vocabulary, tokenize

__all__ = [
    "CORPORA",
    "GLOVE_URL",
    "Corpus",
    "TextConfig",
    "TextDataset",
    "Vocabulary",
    "build_text_dataset",
    "decode_text",
    "embed_ids",
    "load_csv_corpus",
    "load_glove",
    "load_text",
    "nearest_words",
    "ppmi_vectors",
    "read_csv_texts",
    "text_of_set",
    "tokenize",
]
