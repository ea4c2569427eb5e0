"""Seeing inside networks: trained models as files, attribution maps, filters, activations,
feature spaces and activation maximisation. Each tool takes a model file, a ``TrainedModel`` or
any ``torch.nn.Module``."""

from datadistill.inspect.attribution import EXPLAINERS, explain, save_explanations
from datadistill.inspect.features import embed_features, neighbours, top_images, tsne
from datadistill.inspect.figures import (
    save_activations,
    save_filters,
    save_neighbours,
    save_top_images,
    save_tsne,
)
from datadistill.inspect.layers import LayerNotFoundError, activations, layer_names, layer_of
from datadistill.inspect.maximize import Maximized, maximize, save_maximized
from datadistill.inspect.modelfile import (
    ModelFileError,
    TrainedModel,
    as_module,
    load_model,
    save_model,
    train_model,
)

__all__ = [
    "EXPLAINERS",
    "LayerNotFoundError",
    "Maximized",
    "ModelFileError",
    "TrainedModel",
    "activations",
    "embed_features",
    "explain",
    "maximize",
    "neighbours",
    "save_activations",
    "save_explanations",
    "save_filters",
    "save_maximized",
    "save_neighbours",
    "save_top_images",
    "save_tsne",
    "top_images",
    "tsne",
    "as_module",
    "layer_names",
    "layer_of",
    "load_model",
    "save_model",
    "train_model",
]
