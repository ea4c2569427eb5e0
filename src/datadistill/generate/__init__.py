"""Images from networks: texture synthesis, style transfer (by optimisation and by a trained
network), feature inversion, and the checkerboard artefacts of transposed convolutions, on a
VGG feature network whose weights come from a small registry of sources."""

from datadistill.generate.checkerboard import artefact_score, overlap
from datadistill.generate.fast_style import (
    FastStyleNet,
    load_fast_style,
    save_fast_style,
    stylize_fast,
    train_fast_style,
)
from datadistill.generate.features import FeatureNet, LayerNameError, layer_names, layers_up_to
from datadistill.generate.images import SAMPLES, load_image, save_image
from datadistill.generate.invert import invert
from datadistill.generate.losses import Perceptual, content_loss, gram, gram_parameters, style_loss
from datadistill.generate.optimize import Generated, save_generated
from datadistill.generate.stylize import stylize
from datadistill.generate.texture import texture
from datadistill.generate.weights import WEIGHTS, create_feature_net

__all__ = [
    "SAMPLES",
    "WEIGHTS",
    "FastStyleNet",
    "FeatureNet",
    "Generated",
    "LayerNameError",
    "Perceptual",
    "artefact_score",
    "content_loss",
    "create_feature_net",
    "gram",
    "gram_parameters",
    "invert",
    "layer_names",
    "layers_up_to",
    "load_fast_style",
    "load_image",
    "overlap",
    "save_fast_style",
    "save_generated",
    "save_image",
    "style_loss",
    "stylize",
    "stylize_fast",
    "texture",
    "train_fast_style",
]
