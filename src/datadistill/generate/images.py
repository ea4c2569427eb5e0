"""Images in and out: files or ``sample:NAME`` in, ``(1, 3, H, W)`` RGB tensors in [0, 1] out,
and PNGs written atomically.

The samples work offline: scikit-learn's ``china`` and ``flower`` and scikit-image's
``astronaut``, ``chelsea``, ``coffee``, ``brick``, ``grass``, ``gravel``, read from the files
those packages install (neither is imported).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

from datadistill.atomic import write_atomically

SAMPLES = {
    "china": ("sklearn", "datasets/images/china.jpg"),
    "flower": ("sklearn", "datasets/images/flower.jpg"),
    "astronaut": ("skimage", "data/astronaut.png"),
    "chelsea": ("skimage", "data/chelsea.png"),
    "coffee": ("skimage", "data/coffee.png"),
    "brick": ("skimage", "data/brick.png"),
    "grass": ("skimage", "data/grass.png"),
    "gravel": ("skimage", "data/gravel.png"),
}
PREFIX = "sample:"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def resolve(source: str | os.PathLike[str]) -> Path:
    """The file behind ``source``: ``sample:NAME`` or a path."""
    text = str(source)
    if not text.startswith(PREFIX):
        return Path(source)
    name = text[len(PREFIX) :]
    if name not in SAMPLES:
        raise ValueError(f"unknown sample {name!r}; known: {', '.join(SAMPLES)}")
    package, rel = SAMPLES[name]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        pip = {"sklearn": "scikit-learn", "skimage": "scikit-image"}[package]
        raise FileNotFoundError(f"sample:{name} comes with {pip}, which is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / rel
    if not path.is_file():
        raise FileNotFoundError(f"sample:{name}: {path} is missing from the installed {package}")
    return path


def load_image(
    source: str | os.PathLike[str], size: int | tuple[int, int] | None = None
) -> torch.Tensor:
    """``(1, 3, H, W)`` RGB in [0, 1]. ``size``: an int gives a square (the shorter side
    resized to it, then the centre cropped), a pair ``(H, W)`` an exact resize, ``None`` the
    file's own size. Grey images become three equal channels."""
    from PIL import Image, UnidentifiedImageError

    path = resolve(source)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        with Image.open(path) as im:
            image = im.convert("RGB")
    except (UnidentifiedImageError, OSError) as e:
        raise ValueError(f"{path}: not an image ({type(e).__name__})") from None
    if isinstance(size, int):
        check_size(size, size)
        w, h = image.size
        scale = size / min(w, h)
        rw, rh = max(size, round(w * scale)), max(size, round(h * scale))
        image = image.resize((rw, rh), Image.Resampling.BICUBIC)
        left, top = (rw - size) // 2, (rh - size) // 2
        image = image.crop((left, top, left + size, top + size))
    elif size is not None:
        check_size(*size)
        image = image.resize((size[1], size[0]), Image.Resampling.BICUBIC)
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0)
    return x.permute(2, 0, 1).unsqueeze(0).contiguous()


def check_size(h: int, w: int, multiple: int = 1) -> None:
    if h < 1 or w < 1 or h % multiple or w % multiple:
        need = "positive" if multiple == 1 else f"positive multiples of {multiple}"
        raise ValueError(f"image size {h}×{w} does not fit: height and width must be {need}")


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files directly in ``folder``, sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"not a folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder}: no image files ({', '.join(IMAGE_SUFFIXES)})")
    return files


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """``(3, H, W)`` or ``(1, 3, H, W)`` in [0, 1] → ``(H, W, 3)`` bytes."""
    x = image.detach().float().cpu()
    if x.dim() == 4:
        if x.shape[0] != 1:
            raise ValueError(f"one image at a time, got a batch of {x.shape[0]}")
        x = x[0]
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


def save_image(image: torch.Tensor, path: str | os.PathLike[str]) -> Path:
    """Write one image in [0, 1] as a PNG (clipped, rounded to bytes), atomically."""
    from PIL import Image

    pixels = Image.fromarray(to_uint8(image))
    return write_atomically(path, lambda tmp: pixels.save(tmp, format="PNG"))


def as_image(
    image: torch.Tensor | str | os.PathLike[str],
    size: int | tuple[int, int] | None,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """A tensor as it is, or a file or sample loaded at ``size``; on ``device``."""
    x = image if isinstance(image, torch.Tensor) else load_image(image, size)
    return x.to(device)


def describe(image: torch.Tensor | str | os.PathLike[str]) -> str:
    """What to write in a record for an image argument."""
    return "tensor" if isinstance(image, torch.Tensor) else str(image)
