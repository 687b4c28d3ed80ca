"""An independent per-image NumPy Simple Copy-Paste with the collate's documented semantics.

Written from docs/detection.md, one image and one object at a time, with no shiftaug code: the
receiver gets the chosen objects of its partner where they were (cut to its frame), originals
lose the pixels under them, objects that lost pixels are dropped below ``min_visibility`` /
``min_area`` or when empty, boxes of changed masks come from the masks, ``area`` is every mask's
pixel count, other per-object values follow their objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def mask_box(mask: np.ndarray) -> list[float]:
    """``xyxy`` box of a non-empty mask: pixel ``(r, c)`` covers ``[c, c+1) x [r, r+1)``."""
    rows, cols = np.nonzero(mask)
    return [float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)]


def fits(left: int, before: int, min_visibility: float, min_area: float) -> bool:
    return left > 0 and left >= min_area and left >= min_visibility * before


def copy_paste_one(
    receiver: dict[str, Any],
    partner: dict[str, Any],
    rows: list[int],
    min_visibility: float = 0.0,
    min_area: float = 1.0,
) -> dict[str, Any]:
    """``receiver``/``partner``: ``image (C, H, W)``, ``masks (K, H, W)`` bool, ``boxes (K, 4)``
    xyxy and any per-object lists under ``values``. Returns the same keys for the output."""
    image, masks = receiver["image"], receiver["masks"]
    height, width = image.shape[-2:]
    if not rows or len(partner["masks"]) == 0:
        return {
            "image": image, "masks": masks, "boxes": [list(b) for b in receiver["boxes"]],
            "area": [int(m.sum()) for m in masks], "values": receiver["values"],
        }  # fmt: skip
    frame = []
    for r in rows:  # the partner's object r in the receiver's frame
        placed = np.zeros((height, width), dtype=bool)
        src = partner["masks"][r]
        h, w = min(height, src.shape[0]), min(width, src.shape[1])
        placed[:h, :w] = src[:h, :w]
        frame.append(placed)
    union = np.zeros((height, width), dtype=bool)
    for placed in frame:
        union |= placed
    out_image = image.copy()
    pimage = partner["image"]
    for y, x in zip(*np.nonzero(union), strict=True):
        out_image[:, y, x] = pimage[:, y, x]
    out_masks, boxes, area = [], [], []
    keys = receiver["values"] if len(masks) else partner["values"]
    values: dict[str, list[Any]] = {key: [] for key in keys}
    for k, mask in enumerate(masks):
        new = mask & ~union
        before, left = int(mask.sum()), int(new.sum())
        if left < before and not fits(left, before, min_visibility, min_area):
            continue
        out_masks.append(new)
        boxes.append(mask_box(new) if left < before else list(receiver["boxes"][k]))
        area.append(left)
        for key in values:
            values[key].append(receiver["values"][key][k])
    for r, placed in zip(rows, frame, strict=True):
        total, inside = int(partner["masks"][r].sum()), int(placed.sum())
        if total == 0 or (inside < total and not fits(inside, total, min_visibility, min_area)):
            continue
        out_masks.append(placed)
        boxes.append(mask_box(placed) if inside < total else list(partner["boxes"][r]))
        area.append(inside)
        for key in values:
            values[key].append(partner["values"][key][r])
    stacked = np.stack(out_masks) if out_masks else np.zeros((0, height, width), dtype=bool)
    return {"image": out_image, "masks": stacked, "boxes": boxes, "area": area, "values": values}
