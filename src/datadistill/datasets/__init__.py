"""Datasets: typed info, in-memory tensor sets, real loaders, the validation split and ZCA."""

# Each loader module registers its datasets on import.
from datadistill.datasets import (  # noqa: F401
    cifar,
    digits,
    imagefolder,
    mnist,
    npz,
    svhn,
    text,
    usps,
)
from datadistill.datasets.base import (
    DATASETS,
    DataFormatError,
    DataNotFoundError,
    RawData,
    resolve_root,
)
from datadistill.datasets.info import DatasetInfo
from datadistill.datasets.loading import load_dataset, load_for_set
from datadistill.datasets.tensorset import DataSplits, TensorSet
from datadistill.datasets.zca import ZCA


def list_datasets(pattern: str = "*") -> list[str]:
    return DATASETS.names(pattern)


__all__ = [
    "DATASETS",
    "DataFormatError",
    "DataNotFoundError",
    "DataSplits",
    "DatasetInfo",
    "RawData",
    "TensorSet",
    "ZCA",
    "list_datasets",
    "load_dataset",
    "load_for_set",
    "resolve_root",
]
