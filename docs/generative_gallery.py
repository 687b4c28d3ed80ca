"""Regenerate the pictures of the generative-placement guide (``docs/generative.md``).

- ``docs/img/generative_fill.png``: held-out 128 px photo crops (never seen in training) with a
  stroke, a box and an object-shaped hole, filled by harmonic, Telea and the learned model, with
  the PSNR inside the hole;
- ``docs/img/generative_relocate.png``: scenes of the placement experiment, each object moved
  by ``RandomRelocate`` with the constant, harmonic and learned fills (same moves).

    python docs/generative_gallery.py                   # the model shipped with shiftaug
    python docs/generative_gallery.py --checkpoint runs/inpainter/inpainter.safetensors
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from learned_inpainter import held_out, quality  # noqa: E402

from shiftaug import RandomRelocate  # noqa: E402
from shiftaug.harness.config import DataConfig  # noqa: E402
from shiftaug.harness.data import make_task  # noqa: E402
from shiftaug.inpaint import get_inpainter  # noqa: E402

IMG = ROOT / "docs" / "img"
FILLS = [("harmonic", {}), ("telea", {"radius": 3}), ("learned", {})]


def _show(ax, image: torch.Tensor, title: str) -> None:  # type: ignore[no-untyped-def]
    array = image.permute(1, 2, 0).numpy()
    ax.imshow(array if array.dtype.kind == "u" else array.clip(0, 1))
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def fills(plt, checkpoint: str | None) -> None:  # type: ignore[no-untyped-def]
    backends = [
        (name, get_inpainter(name, **(dict(opts, checkpoint=checkpoint) if name == "learned" and checkpoint else opts)))
        for name, opts in FILLS
    ]  # fmt: skip
    rows = [("strokes", 3), ("boxes", 5), ("objects", 1), ("objects", 7)]
    fig, axes = plt.subplots(
        len(rows), 2 + len(backends), figsize=(1.9 * (2 + len(backends)), 2.0 * len(rows))
    )
    for r, (kind, index) in enumerate(rows):
        truth, holes = held_out(8, 128, kind)
        truth, holes = truth[index : index + 1], holes[index : index + 1]
        damaged = truth.masked_fill(holes, 255)
        _show(axes[r, 0], truth[0], "held-out photo")
        _show(axes[r, 1], damaged[0], f"{kind} hole")
        for c, (name, fill) in enumerate(backends, start=2):
            out = fill(truth.masked_fill(holes, 0), holes)
            psnr, _ = quality(out, truth, holes)
            _show(axes[r, c], out[0], f"{name}: {psnr:.1f} dB")
    fig.tight_layout()
    fig.savefig(IMG / "generative_fill.png", dpi=100)
    plt.close(fig)


def relocations(plt, checkpoint: str | None) -> None:  # type: ignore[no-untyped-def]
    cfg = DataConfig(dataset="scenes", canvas=64, object_size=22, background="texture",
                     positions="full", train_size=6, test_size=1, seed=3)  # fmt: skip
    task = make_task(cfg, margin=0)
    images, masks = task.train_images, task.train_masks
    options = {"checkpoint": checkpoint} if checkpoint else {}
    columns = [("constant", {}), ("harmonic", {}), ("learned", options)]
    fig, axes = plt.subplots(
        len(images), 1 + len(columns), figsize=(2.0 * (1 + len(columns)), 2.0 * len(images))
    )
    for c, (name, opts) in enumerate(columns, start=1):
        t = RandomRelocate(name, inpainter_options=opts, generator=torch.Generator().manual_seed(0))
        out = t(images, masks).image
        for r in range(len(images)):
            _show(axes[r, c], out[r], f"RandomRelocate, {name}")
    for r in range(len(images)):
        _show(axes[r, 0], images[r], "scene")
    fig.tight_layout()
    fig.savefig(IMG / "generative_relocate.png", dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", default=None, help="model file (default: the shipped one)")
    args = parser.parse_args(argv)
    fills(plt, args.checkpoint)
    relocations(plt, args.checkpoint)
    print(f"wrote {IMG / 'generative_fill.png'} and {IMG / 'generative_relocate.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
