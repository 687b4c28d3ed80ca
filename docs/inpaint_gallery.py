"""Regenerate ``docs/img/inpaint_gallery.png``: original | hole | every backend's fill, with PSNR.

Three real photos from ``skimage.data``, each with a different hole (horse silhouette,
square, handwritten digit) carved out where the true background is known. PSNR (dB) is
measured over the hole pixels against the original.

    python docs/inpaint_gallery.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _fill_quality import hole_masks, quality  # noqa: E402

from shiftaug.inpaint import get_inpainter  # noqa: E402

OUT = ROOT / "docs" / "img" / "inpaint_gallery.png"
# photo name, downscale factor, (top, left) of the 128x128 crop, hole kind and size, position
ROWS = [
    ("astronaut", 0.5, (20, 60), ("horse", 56), 0),
    ("chelsea", 0.5, (10, 50), ("rect", 40), 1),
    ("coffee", 0.4, (10, 40), ("digit", 64), 2),
]
METHODS = [
    ("telea", "telea (OpenCV)"),
    ("navier_stokes", "navier_stokes (OpenCV)"),
    ("harmonic", "harmonic"),
    ("pull_push", "pull_push"),
    ("blur", "blur"),
    ("mean", "mean"),
]


def photo(name: str, scale: float, corner: tuple[int, int]) -> torch.Tensor:
    """A 128x128 uint8 ``(3, H, W)`` crop of a downscaled ``skimage.data`` photo."""
    import skimage.data
    from skimage.transform import rescale

    image = rescale(getattr(skimage.data, name)(), scale, channel_axis=-1, anti_aliasing=True)
    top, left = corner
    crop = (image[top : top + 128, left : left + 128] * 255).round().astype(np.uint8)
    return torch.from_numpy(np.ascontiguousarray(crop.transpose(2, 0, 1)))


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2 + len(METHODS)
    fig, axes = plt.subplots(len(ROWS), columns, figsize=(1.75 * columns, 1.95 * len(ROWS)))
    for row, (name, scale, corner, (shape, size), seed) in enumerate(ROWS):
        truth = photo(name, scale, corner)[None]
        holes = hole_masks(shape, size, seed + 1)[seed : seed + 1]
        damaged = truth.masked_fill(holes, 0)
        shown = damaged.clone()
        shown[:, 0].masked_fill_(holes[:, 0], 255)  # holes in magenta
        shown[:, 2].masked_fill_(holes[:, 0], 255)
        panels = [("original", truth), (f"hole ({shape})", shown)]
        for backend, label in METHODS:
            filled = get_inpainter(backend)(damaged, holes)
            panels.append((f"{label}\n{quality(filled, truth, holes)[0]:.1f} dB", filled))
        for column, (title, image) in enumerate(panels):
            axis = axes[row, column]
            axis.imshow(image[0].permute(1, 2, 0).numpy())
            axis.set_title(title, fontsize=7)
            axis.axis("off")
    fig.suptitle("shiftaug.inpaint backends on real photos (PSNR inside the hole)", fontsize=9)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=100)
    plt.close(fig)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
