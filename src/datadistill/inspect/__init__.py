"""Seeing inside networks: trained models as files, attribution maps, filters, activations,
feature spaces and activation maximisation. Each tool takes a model file, a ``TrainedModel`` or
any ``torch.nn.Module``."""

from datadistill.inspect.layers import LayerNotFoundError, activations, layer_names, layer_of
from datadistill.inspect.modelfile import (
    ModelFileError,
    TrainedModel,
    as_module,
    load_model,
    save_model,
    train_model,
)

__all__ = [
    "LayerNotFoundError",
    "ModelFileError",
    "TrainedModel",
    "activations",
    "as_module",
    "layer_names",
    "layer_of",
    "load_model",
    "save_model",
    "train_model",
]
