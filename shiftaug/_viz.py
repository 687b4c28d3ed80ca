"""The translation gallery: one real photo, every padding mode, per-sample shifts, sub-pixel.

``shiftaug demo`` and ``docs/gallery.py`` both call :func:`render_gallery`, so the picture in
the docs is exactly what a user's first command writes. Needs the ``plots`` extra
(matplotlib, scikit-image); both are imported only when a picture is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.nn.functional as F

from .functional import masks_to_boxes, translate_boxes, translate_image, translate_mask
from .transforms import RandomTranslate

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["Panel", "Scene", "batch_panels", "load_scene", "padding_panels", "render_gallery"]

# Shift of the padding-mode row, as a fraction of (W, H): large enough to show each padding.
PADDING_SHIFT = (0.3, 0.15)
PADDING_ROW: tuple[tuple[str, dict[str, Any]], ...] = (
    ("zeros", {}),
    ("constant", {"fill": (0.15, 0.35, 0.75)}),
    ("reflect", {}),
    ("symmetric", {}),
    ("replicate", {}),
    ("circular", {}),
)
# An elliptical object mask around the astronaut's head, in fractions of the photo (cx, cy, rx, ry).
HEAD = (0.44, 0.185, 0.14, 0.152)
# Sub-pixel row: a close-up of the highlight on the helmet, (top, left, size) in fractions of the photo.
CLOSE_UP = (0.79, 0.64, 0.12)
SUBPIXEL_ROW = (
    ("nearest", 0.4),
    ("nearest", 0.6),
    ("bilinear", 0.25),
    ("bilinear", 0.5),
    ("bilinear", 0.75),
    ("bilinear", 1.0),
)


@dataclass(frozen=True)
class Scene:
    """A photo with one object: ``image`` (3, S, S) float in [0, 1], ``mask`` (S, S) bool,
    ``box`` (1, 4) xyxy pixels (the mask's tight box)."""

    image: torch.Tensor
    mask: torch.Tensor
    box: torch.Tensor


@dataclass(frozen=True)
class Panel:
    """One picture of the grid; ``mask``/``box`` are drawn over ``image`` when given."""

    title: str
    image: torch.Tensor
    mask: torch.Tensor | None = None
    box: torch.Tensor | None = None
    box_visible: bool = True
    guide_x: float | None = None  # a vertical reference line, in pixels


def load_scene(size: int = 192) -> Scene:
    """``skimage.data.astronaut()`` resized to ``size x size``, with a mask around the head.

    Example:
        >>> scene = load_scene(64)
        >>> scene.image.shape, scene.mask.dtype, scene.box.shape
        (torch.Size([3, 64, 64]), torch.bool, torch.Size([1, 4]))
    """
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float().div(255)
    image = F.interpolate(photo[None], size=(size, size), mode="area")[0]
    centre = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    cx, cy, rx, ry = HEAD
    mask = ((centre[None, :] - cx) / rx) ** 2 + ((centre[:, None] - cy) / ry) ** 2 <= 1
    box, _ = masks_to_boxes(mask[None])
    return Scene(image, mask, box)


def padding_panels(scene: Scene) -> list[Panel]:
    """The scene, then the same shift with every padding mode, mask and box moved along."""
    height, width = scene.image.shape[-2:]
    shift = (round(PADDING_SHIFT[0] * width), round(PADDING_SHIFT[1] * height))
    panels = [Panel("original", scene.image, scene.mask, scene.box[0])]
    for mode, options in PADDING_ROW:
        image = translate_image(scene.image, shift, padding_mode=mode, **options)
        # Masks follow RandomTranslate's rule: background where vacated, wrapped if circular.
        mask = translate_mask(
            scene.mask, shift, padding_mode="circular" if mode == "circular" else None
        )
        box, visible = translate_boxes(scene.box, shift, canvas_size=(height, width))
        title = mode if mode != "constant" else "constant (fill)"
        panels.append(Panel(title, image, mask, box[0], bool(visible[0])))
    return panels


def batch_panels(scene: Scene, count: int = 7, seed: int = 0) -> list[Panel]:
    """One :class:`~shiftaug.RandomTranslate` call on ``count`` copies: a shift per sample."""
    generator = torch.Generator().manual_seed(seed)
    translate = RandomTranslate(shift_px=scene.image.shape[-1] // 3, generator=generator)
    out = translate(
        scene.image.expand(count, -1, -1, -1),
        mask=scene.mask.expand(count, -1, -1),
        boxes=scene.box.expand(count, -1, -1),
    )
    assert out.mask is not None and out.boxes is not None and out.boxes_visible is not None
    shifts = out.params.shift.round().int().tolist()
    return [
        Panel(f"(dx, dy) = ({dx:+d}, {dy:+d})", image, mask, boxes[0], bool(visible[0]))
        for (dx, dy), image, mask, boxes, visible in zip(
            shifts, out.image, out.mask, out.boxes, out.boxes_visible, strict=True
        )
    ]


def subpixel_panels(scene: Scene) -> list[Panel]:
    """Close-ups: nearest rounds the shift, bilinear moves by fractions of a pixel."""
    size = scene.image.shape[-1]
    top, left, extent = (round(v * size) for v in CLOSE_UP)

    def crop(image: torch.Tensor) -> torch.Tensor:
        return image[:, top : top + extent, left : left + extent]

    # A guide on the steepest left-to-right brightening of the close-up: its left edge.
    guide = float(crop(scene.image).mean(dim=(0, 1)).diff().argmax()) + 0.5
    panels = [Panel("close-up, dx = 0", crop(scene.image), guide_x=guide)]
    for interpolation, dx in SUBPIXEL_ROW:
        moved = translate_image(scene.image, (dx, 0.0), interpolation=interpolation)
        rounded = f" -> {round(dx)}" if interpolation == "nearest" else ""
        title = f"{interpolation}, dx = {dx:g}{rounded}"
        panels.append(Panel(title, crop(moved), guide_x=guide))
    return panels


def render_gallery(path: str | Path, *, seed: int = 0, size: int = 192) -> Path:
    """Draw the three rows (padding modes, per-sample batch, sub-pixel) into a PNG at ``path``.

    Example:
        >>> import tempfile, pathlib
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     png = render_gallery(pathlib.Path(folder) / "gallery.png", size=48)
        ...     png.stat().st_size > 0
        True
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scene = load_scene(size)
    height, width = scene.image.shape[-2:]
    dx, dy = round(PADDING_SHIFT[0] * width), round(PADDING_SHIFT[1] * height)
    rows = [
        (f"padding_mode\n(dx, dy) = ({dx:+d}, {dy:+d})", padding_panels(scene)),
        ("RandomTranslate\none shift per sample", batch_panels(scene, seed=seed)),
        ("interpolation\n(close-up of the helmet)", subpixel_panels(scene)),
    ]
    columns = max(len(panels) for _, panels in rows)
    fig, axes = plt.subplots(len(rows), columns, figsize=(2.1 * columns + 0.6, 2.35 * len(rows)))
    for axes_row, (label, panels) in zip(axes, rows, strict=True):
        for ax, panel in zip(axes_row, panels, strict=False):
            _draw(ax, panel)
        for ax in axes_row[len(panels) :]:
            ax.axis("off")
        axes_row[0].set_ylabel(label, fontsize=10, labelpad=8)
    fig.suptitle(
        f"shiftaug translations of skimage.data.astronaut() ({height}x{width}); yellow: object "
        "mask, red: its box (dashed once invisible)",
        fontsize=11,
    )
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _draw(ax: Axes, panel: Panel) -> None:
    """One panel: the image, the mask as a tinted area with an outline, the box as a rectangle."""
    from matplotlib.patches import Rectangle

    picture = panel.image.clamp(0, 1).permute(1, 2, 0).numpy()
    ax.imshow(picture, interpolation="nearest")
    if panel.mask is not None and bool(panel.mask.any()):
        mask = panel.mask.float().numpy()
        yellow = np.array([1.0, 0.9, 0.0, 0.3], dtype=np.float32)
        ax.imshow(mask[..., None] * yellow, interpolation="nearest")  # 30% yellow on the mask
        ax.contour(mask, levels=[0.5], colors="yellow", linewidths=1.0)
    if panel.box is not None:
        x0, y0, x1, y1 = panel.box.tolist()
        # Pixel j spans [j, j + 1) but matplotlib centres it on j: shift the box by half a pixel.
        ax.add_patch(
            Rectangle(
                (x0 - 0.5, y0 - 0.5),
                x1 - x0,
                y1 - y0,
                fill=False,
                edgecolor="red",
                linewidth=1.4,
                linestyle="-" if panel.box_visible else "--",
            )
        )
    if panel.guide_x is not None:
        ax.axvline(panel.guide_x, color="cyan", linewidth=1.0, linestyle=":")
    ax.set_title(panel.title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
