"""Random detection samples (torchvision style) for the collate tests, and conversions."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from tests.detection.reference import mask_box


def random_masks(count: int, height: int, width: int, generator: torch.Generator) -> torch.Tensor:
    """``(count, H, W)`` bool ellipses and rectangles of random sizes, overlapping at times."""
    masks = torch.zeros(count, height, width, dtype=torch.bool)
    rows = torch.arange(height)[:, None] + 0.5
    cols = torch.arange(width)[None] + 0.5
    for k in range(count):
        cy, cx = (torch.rand(2, generator=generator) * torch.tensor([height, width])).tolist()
        ry, rx = (
            1 + torch.rand(2, generator=generator) * torch.tensor([height, width]) / 3
        ).tolist()
        if k % 2:
            masks[k] = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1
        else:
            masks[k] = ((rows - cy).abs() <= ry) & ((cols - cx).abs() <= rx)
        if not masks[k].any():
            masks[k, int(cy), int(cx)] = True
    return masks


def make_sample(
    index: int,
    size: tuple[int, int],
    count: int | None,
    *,
    tv: bool = False,
    image_dtype: torch.dtype = torch.float32,
    mask_dtype: torch.dtype = torch.uint8,
    lists: bool = False,
    seed: int = 0,
) -> tuple[Any, dict[str, Any]]:
    """One sample. ``count=None`` gives the COCO wrapper's annotation-less ``{"image_id"}``."""
    generator = torch.Generator().manual_seed(1000 * seed + index)
    height, width = size
    image = torch.rand(3, height, width, generator=generator)
    if image_dtype == torch.uint8:
        image = (image * 255).round().to(torch.uint8)
    else:
        image = image.to(image_dtype)
    if tv:
        from torchvision import tv_tensors

        image = tv_tensors.Image(image)
    if count is None:
        return image, {"image_id": index}
    masks = random_masks(count, height, width, generator)
    boxes = torch.tensor([mask_box(m.numpy()) for m in masks], dtype=torch.float32).view(-1, 4)
    boxes = boxes + torch.rand(boxes.shape, generator=generator) * 0.4  # not the masks' boxes
    labels = torch.randint(1, 91, (count,), generator=generator)
    area = (torch.rand(count, generator=generator) * 100).tolist()
    iscrowd = [int(v) for v in torch.randint(0, 2, (count,), generator=generator)]
    target: dict[str, Any] = {"image_id": index, "labels": labels}
    if tv:
        from torchvision import tv_tensors
        from torchvision.transforms.v2 import functional as F

        xywh = F.convert_bounding_box_format(
            tv_tensors.BoundingBoxes(boxes, format="XYXY", canvas_size=size), new_format="XYWH"
        )
        target["boxes"] = xywh
        target["masks"] = tv_tensors.Mask(masks.to(mask_dtype))
    else:
        target["boxes"] = boxes
        target["masks"] = masks.to(mask_dtype)
    target["area"] = area if lists else torch.tensor(area, dtype=torch.float32)
    target["iscrowd"] = iscrowd if lists else torch.tensor(iscrowd, dtype=torch.int64)
    return image, target


def to_reference(image: torch.Tensor, target: dict[str, Any]) -> dict[str, Any]:
    """The NumPy form :func:`tests.detection.reference.copy_paste_one` takes."""
    pixels = image.as_subclass(torch.Tensor).numpy()
    height, width = pixels.shape[-2:]
    if "masks" not in target:
        masks = np.zeros((0, height, width), dtype=bool)
        return {"image": pixels, "masks": masks, "boxes": [], "values": {}}
    boxes = target["boxes"].as_subclass(torch.Tensor)
    fmt = getattr(getattr(target["boxes"], "format", None), "name", "XYXY")
    if fmt == "XYWH":
        boxes = torch.cat([boxes[:, :2], boxes[:, :2] + boxes[:, 2:]], 1)
    values = {key: _as_list(target[key]) for key in ("labels", "iscrowd") if key in target}
    return {
        "image": pixels,
        "masks": target["masks"].as_subclass(torch.Tensor).numpy() != 0,
        "boxes": boxes.tolist(),
        "values": values,
    }


def _as_list(value: Any) -> list[Any]:
    return value.tolist() if isinstance(value, torch.Tensor) else list(value)


def xyxy(boxes: Any) -> torch.Tensor:
    """Output boxes (``BoundingBoxes`` in any format, or plain ``xyxy``) as plain ``xyxy``."""
    plain = boxes.as_subclass(torch.Tensor).to(torch.float32)
    fmt = getattr(getattr(boxes, "format", None), "name", "XYXY")
    if fmt == "XYWH":
        return torch.cat([plain[:, :2], plain[:, :2] + plain[:, 2:]], 1)
    return plain
