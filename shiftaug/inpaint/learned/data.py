"""Training and held-out images for the learned inpainter: random crops of photos.

Two sources:

- :func:`skimage_photos`: the photos and textures shipped inside ``scikit-image`` (CC0 or
  public domain; see the generative-placement guide), at full resolution. The bottom-right
  quarter of every photo is **held out**: training crops never overlap it, evaluation crops
  lie inside it.
- :func:`folder_photos`: every image under a folder (PNG, JPEG, BMP, TIFF, WebP), optionally
  with instance masks in ``DIR/masks/<same relative path>.png`` (an id map: 0 is background,
  each other value one object). A seeded tenth of the files (at least one) is held out.

A :class:`PhotoSet` draws crops at a random zoom (source pixels per output pixel), so one small
photo collection yields many scales; the instance masks of a folder become the silhouettes of
the ``"objects"`` holes.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from ..._checks import describe
from .holes import silhouette

__all__ = ["IMAGE_SUFFIXES", "SKIMAGE_PHOTOS", "PhotoSet", "folder_photos", "skimage_photos"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
# Photos and textures bundled with scikit-image (no download), each CC0 / public domain or
# covered by scikit-image's BSD licence.
SKIMAGE_PHOTOS = (
    "astronaut", "brick", "camera", "chelsea", "coffee", "coins", "grass", "gravel",
    "hubble_deep_field", "immunohistochemistry", "moon", "rocket",
)  # fmt: skip


Box = tuple[int, int, int, int]


@dataclass
class PhotoSet:
    """Images and, per image, the boxes crops may come from.

    Attributes:
        images: ``(3, H, W)`` uint8 tensors.
        regions: per image, a list of ``(x0, y0, x1, y1)`` boxes in pixels; every crop lies
            wholly inside one of them. Empty: the whole image.
        shapes: silhouettes (``(h, w)`` bool) for object-shaped holes (empty: use the defaults).
    """

    images: list[torch.Tensor]
    regions: list[list[Box]] = field(default_factory=list)
    shapes: list[torch.Tensor] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.images:
            raise ValueError("`images` must hold at least one image, but got none.")
        self.regions = self.regions or [[] for _ in self.images]

    def _boxes(self, index: int) -> list[Box]:
        height, width = self.images[index].shape[-2:]
        return self.regions[index] or [(0, 0, width, height)]

    def crops(
        self,
        count: int,
        size: int,
        *,
        zoom: tuple[float, float] = (1.0, 3.0),
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """``(count, 3, size, size)`` float32 crops in ``[0, 1]``.

        Each crop takes a random image, a zoom drawn log-uniformly from ``zoom`` (capped by
        the largest square its boxes hold) and a random position inside one of its boxes
        (chosen in proportion to the positions each offers); the ``size * zoom`` square is
        resized to ``size`` with antialiasing.
        """
        out = torch.empty(count, 3, size, size)
        which = torch.randint(len(self.images), (count,), generator=generator).tolist()
        low, high = math.log(zoom[0]), math.log(max(zoom[0], zoom[1]))
        for n, index in enumerate(which):
            boxes = self._boxes(index)
            fit = max(min(x1 - x0, y1 - y0) for x0, y0, x1, y1 in boxes)
            scale = math.exp(low + (high - low) * float(torch.rand((), generator=generator)))
            side = max(1, min(round(size * scale), fit))
            counts = torch.tensor(
                [
                    max(0, x1 - x0 - side + 1) * max(0, y1 - y0 - side + 1)
                    for x0, y0, x1, y1 in boxes
                ],
                dtype=torch.float64,
            )
            x0, y0, x1, y1 = boxes[int(torch.multinomial(counts, 1, generator=generator))]
            top = y0 + int(torch.randint(0, y1 - y0 - side + 1, (), generator=generator))
            left = x0 + int(torch.randint(0, x1 - x0 - side + 1, (), generator=generator))
            patch = self.images[index][:, top : top + side, left : left + side].float()[None] / 255
            if side != size:
                patch = F.interpolate(
                    patch, size=(size, size), mode="bilinear", align_corners=False, antialias=True
                )
            out[n] = patch[0].clamp(0, 1)
        return out


def _from_array(array: object) -> torch.Tensor:
    """An ``(H, W)`` or ``(H, W, C)`` uint8 array as a ``(3, H, W)`` uint8 tensor."""
    import numpy as np

    values = np.asarray(array)
    if values.dtype != np.uint8:
        values = (values.astype(np.float64) / max(float(values.max()), 1.0) * 255).astype(np.uint8)
    if values.ndim == 2:
        values = values[..., None]
    values = values[..., :3]
    if values.shape[-1] == 1:
        values = values.repeat(3, -1)
    return torch.from_numpy(np.ascontiguousarray(values.transpose(2, 0, 1)))


def skimage_photos(split: str = "train", names: Sequence[str] = SKIMAGE_PHOTOS) -> PhotoSet:
    """The scikit-image photos: ``"train"`` (all but the bottom-right quarter) or ``"eval"``.

    Example:
        >>> from shiftaug.inpaint.learned.data import skimage_photos
        >>> held_out = skimage_photos("eval", names=("camera",))
        >>> held_out.regions, held_out.images[0].shape
        ([[(256, 256, 512, 512)]], torch.Size([3, 512, 512]))
    """
    import skimage.data

    if split not in ("train", "eval"):
        raise ValueError(f"`split` must be 'train' or 'eval', but got {split!r}.")
    images: list[torch.Tensor] = []
    boxes: list[list[Box]] = []
    for name in names:
        if name not in SKIMAGE_PHOTOS:
            raise ValueError(f"`names` must be a subset of {SKIMAGE_PHOTOS}, but got {name!r}.")
        image = _from_array(getattr(skimage.data, name)())
        height, width = image.shape[-2:]
        images.append(image)
        if split == "eval":
            boxes.append([(width // 2, height // 2, width, height)])
        else:  # the top half and the left half: no crop reaches the bottom-right quarter
            boxes.append([(0, 0, width, height // 2), (0, 0, width // 2, height)])
    return PhotoSet(images, regions=boxes)


def _read(path: Path) -> object:
    from PIL import Image

    with Image.open(path) as image:
        return image.convert("RGB") if image.mode not in ("L", "I", "I;16") else image.copy()


def folder_photos(
    root: str | os.PathLike[str], *, holdout: float = 0.1, seed: int = 0, max_side: int = 512
) -> tuple[PhotoSet, PhotoSet]:
    """``(train, eval)`` sets from the images under ``root`` and their instance masks.

    Args:
        root: a folder; images anywhere below it except under ``root/masks``.
        holdout: fraction of files held out for evaluation (at least one when there are two
            or more files).
        seed: the hold-out draw.
        max_side: larger images are downscaled so their longer side is this many pixels.
    """
    import numpy as np

    folder = Path(root)
    if not folder.is_dir():
        raise ValueError(f"`data` must be an existing folder of images, but got {str(root)!r}.")
    masks_dir = folder / "masks"
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in IMAGE_SUFFIXES and masks_dir not in p.parents
    )
    if not files:
        raise ValueError(
            f"`data` must contain images ({', '.join(IMAGE_SUFFIXES)}), but {folder} has none."
        )
    order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed)).tolist()
    held = set(order[: max(1, round(holdout * len(files)))] if len(files) > 1 else [])
    sets: dict[bool, PhotoSet | None] = {True: None, False: None}
    parts: dict[bool, tuple[list[torch.Tensor], list[torch.Tensor]]] = {
        True: ([], []),
        False: ([], []),
    }
    for index, path in enumerate(files):
        image = _from_array(_read(path))
        scale = max_side / max(image.shape[-2:])
        mask_path = masks_dir / path.relative_to(folder).with_suffix(".png")
        ids = (
            torch.from_numpy(np.asarray(_read(mask_path)).astype(np.int64))
            if mask_path.is_file()
            else None
        )
        if ids is not None and tuple(ids.shape[-2:]) != tuple(image.shape[-2:]):
            raise ValueError(
                f"`data` mask {mask_path} must have the size of its image "
                f"{tuple(image.shape[-2:])}, but got {tuple(ids.shape[-2:])}."
            )
        if scale < 1:
            size = [max(1, round(s * scale)) for s in image.shape[-2:]]
            image = F.interpolate(image[None].float(), size=size, mode="area")[0].round().byte()
            if ids is not None:
                ids = F.interpolate(ids[None, None].float(), size=size, mode="nearest")[0, 0].long()
        images, shapes = parts[index in held]
        images.append(image)
        if ids is not None:
            shapes += [silhouette(ids == value) for value in ids.unique().tolist() if value != 0]
    for key, (images, shapes) in parts.items():
        sets[key] = PhotoSet(images, shapes=shapes) if images else None
    train = sets[False]
    assert train is not None  # at least one file is never held out
    return train, sets[True] or train


def check_zoom(value: object) -> tuple[float, float]:
    """``[low, high]`` with ``1 <= low <= high`` (crops are never upsampled beyond native)."""
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        or not 0 < value[0] <= value[1]
    ):
        raise ValueError(
            f"`zoom` must be [low, high] with 0 < low <= high, but got {describe(value)}."
        )
    return float(value[0]), float(value[1])
