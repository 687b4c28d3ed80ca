"""``AddEmptyObjects``: give annotation-less targets the empty per-object entries they lack.

torchvision's COCO wrapper (``wrap_dataset_for_transforms_v2``) returns ``{"image_id": ...}``
for an image without annotations, and stock ``v2.SanitizeBoundingBoxes`` refuses such a sample
("Could not infer where the labels are"); torchvision's references remove those images from the
dataset instead. Put this transform first in the ``v2.Compose`` to keep them as negatives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .._checks import describe
from ._samples import entry_count

__all__ = ["EMPTY_KEYS", "AddEmptyObjects"]

EMPTY_KEYS = ("boxes", "labels", "masks")
_KNOWN = ("boxes", "labels", "masks", "area", "iscrowd")


class AddEmptyObjects:
    """Add empty ``boxes`` / ``labels`` / ``masks`` (and any of ``area``, ``iscrowd``) to a
    target without objects; targets with objects pass through untouched.

    The entries are torchvision's types: ``BoundingBoxes`` ``(0, 4)`` in ``XYXY`` on the image's
    canvas, ``Mask`` ``(0, H, W)`` ``uint8``, ``labels`` / ``iscrowd`` ``int64 (0,)``, ``area``
    ``float32 (0,)``.

    Args:
        keys: the entries to add where missing.

    Example:
        >>> import torch
        >>> from shiftaug.detection import AddEmptyObjects
        >>> image, target = AddEmptyObjects()(torch.zeros(3, 4, 6), {"image_id": 7})
        >>> sorted(target), tuple(target["masks"].shape)
        (['boxes', 'image_id', 'labels', 'masks'], (0, 4, 6))
    """

    def __init__(self, keys: Sequence[str] = EMPTY_KEYS) -> None:
        if isinstance(keys, str) or not isinstance(keys, Sequence) or not set(keys) <= set(_KNOWN):
            raise ValueError(
                f"`keys` must be a sequence drawn from {_KNOWN}, but got {describe(keys)}."
            )
        self.keys = tuple(keys)

    def __call__(self, image: Any, target: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        if not isinstance(target, dict):
            raise TypeError(f"`target` must be a dict, but got {describe(target)}.")
        if any(entry_count(target[key]) for key in _KNOWN if key in target):
            return image, target
        from torchvision import tv_tensors
        from torchvision.transforms.v2 import functional as F

        height, width = F.get_size(image)
        empty = {
            "boxes": lambda: tv_tensors.BoundingBoxes(
                torch.zeros(0, 4), format="XYXY", canvas_size=(height, width)
            ),
            "labels": lambda: torch.zeros(0, dtype=torch.int64),
            "masks": lambda: tv_tensors.Mask(torch.zeros(0, height, width, dtype=torch.uint8)),
            "area": lambda: torch.zeros(0, dtype=torch.float32),
            "iscrowd": lambda: torch.zeros(0, dtype=torch.int64),
        }
        out = dict(target)
        for key in self.keys:
            out.setdefault(key, empty[key]())
        return image, out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(keys={self.keys})"
