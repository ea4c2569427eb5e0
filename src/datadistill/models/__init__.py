"""The model zoo of dataset distillation: ConvNet variants, LeNet, AlexNet, VGG-11, ResNet-18, MLP,
and the text models TextCNN and a GRU.

Every model is built for a ``DatasetInfo`` (channels, image size, classes) by name:
``create_model("convnet-bn", info)``; ``list_models("resnet*")`` lists the names.
"""

from datadistill.models import (  # noqa: F401  (register)
    alexcifarnet,
    alexnet,
    convnet,
    lenet,
    mlp,
    resnet,
    text,
    vgg,
)
from datadistill.models.alexnet import AlexNet
from datadistill.models.convnet import ConvNet, ConvNetConfig
from datadistill.models.factory import (
    MODELS,
    create_model,
    create_seeded_model,
    draw_seed,
    init_weights,
    list_models,
)
from datadistill.models.functional import (
    batched_forward,
    forward_in_chunks,
    has_batchnorm,
    inference_batch,
    stack_models,
)
from datadistill.models.lenet import LeNet
from datadistill.models.mlp import MLP
from datadistill.models.vgg import VGG


def __getattr__(name: str) -> type:
    """``ResNet`` on first use (its module imports torchvision)."""
    if name == "ResNet":
        from datadistill.models.resnet_net import ResNet

        return ResNet
    raise AttributeError(f"module 'datadistill.models' has no attribute {name!r}")


__all__ = [
    "init_weights",
    "MLP",
    "MODELS",
    "VGG",
    "AlexNet",
    "ConvNet",
    "ConvNetConfig",
    "LeNet",
    "ResNet",
    "batched_forward",
    "create_model",
    "forward_in_chunks",
    "inference_batch",
    "create_seeded_model",
    "draw_seed",
    "has_batchnorm",
    "list_models",
    "stack_models",
]
