"""``translate_boxes`` and box utilities (formats, clipping, boxes of masks)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_choice, check_tensor, describe
from ._shift import as_shift, broadcast_shift

__all__ = [
    "BOX_FORMATS",
    "check_canvas_size",
    "clip_boxes",
    "convert_boxes",
    "masks_to_boxes",
    "translate_boxes",
]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
BOX_DTYPES = (
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
    torch.uint8, torch.int16, torch.int32, torch.int64,
)  # fmt: skip


def translate_boxes(
    boxes: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    canvas_size: tuple[int, int],
    format: str = "xyxy",
    clip: bool = True,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Translate boxes by per-sample ``(dx, dy)`` pixel shifts and report which stay visible.

    Boxes are in absolute pixels on the canvas ``[0, W] x [0, H]`` (torchvision's convention):
    the box of the pixels ``rows r0..r1, columns c0..c1`` is ``(c0, r0, c1 + 1, r1 + 1)`` in
    ``xyxy``. So the box of a mask moved by an integer shift equals the moved, clipped box.

    Args:
        boxes: ``(*batch, M, 4)`` boxes. Integer boxes move by the rounded shift.
        shift: ``(*batch, 2)`` shifts in pixels, broadcast against ``boxes.shape[:-2]``.
        canvas_size: ``(H, W)`` of the image the boxes live on.
        format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``; input and output use the same format.
        clip: clip the moved boxes to the canvas (visibility is computed on the clipped box
            either way).
        min_visibility: a box is visible only if at least this fraction of its area stays on
            the canvas.
        min_area: a box is visible only if its clipped area is at least this many pixels.

    Returns:
        ``(boxes, visible)``: the moved boxes, shape ``(*batch, M, 4)``, same dtype; and a bool
        tensor ``(*batch, M)`` that is False for boxes that left the canvas, fell below
        ``min_visibility``/``min_area``, or had no area to begin with.

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_boxes
        >>> boxes = torch.tensor([[[2.0, 2.0, 6.0, 6.0], [0.0, 0.0, 2.0, 2.0]]])
        >>> moved, visible = translate_boxes(boxes, [[5, 0]], canvas_size=(8, 8))
        >>> moved
        tensor([[[7., 2., 8., 6.],
                 [5., 0., 7., 2.]]])
        >>> visible
        tensor([[True, True]])
    """
    return translate_boxes_(
        boxes, shift, canvas_size=canvas_size, format=format, clip=clip,
        min_visibility=min_visibility, min_area=min_area, check_values=True,
    )  # fmt: skip


def translate_boxes_(
    boxes: torch.Tensor,
    shift: object,
    *,
    canvas_size: tuple[int, int],
    format: str = "xyxy",
    clip: bool = True,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
    check_values: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`translate_boxes` with the NaN/inf check optional (see ``translate_image_``)."""
    check_tensor("boxes", boxes, min_ndim=2, layout="(*batch, M, 4)", dtypes=BOX_DTYPES)
    if boxes.shape[-1] != 4:
        raise ValueError(
            f"`boxes` must have shape (*batch, M, 4), but got a tensor of shape {tuple(boxes.shape)}."
        )
    height, width = check_canvas_size(canvas_size)
    box_format = _check_format(format)
    _check_fraction("min_visibility", min_visibility)
    if isinstance(min_area, bool) or not isinstance(min_area, (int, float)) or not min_area >= 0:
        raise ValueError(f"`min_area` must be a number >= 0, but got {describe(min_area)}.")
    offsets = as_shift(shift, boxes.device, check_values=check_values)
    batch = broadcast_shift(offsets, boxes.shape[:-2], target="boxes")
    compute = torch.float64 if boxes.dtype == torch.float64 else torch.float32
    if not boxes.dtype.is_floating_point and offsets.is_floating_point():
        offsets = torch.round(offsets)
    xyxy = convert_boxes(boxes.to(compute), box_format, "xyxy")
    dx, dy = offsets.to(compute).unbind(-1)
    moved = xyxy + torch.stack([dx, dy, dx, dy], -1)[..., None, :]
    moved = moved.expand(*batch, *moved.shape[-2:])
    clipped = clip_boxes(moved, (height, width))
    area = _area(xyxy)
    kept = _area(clipped)
    visible = (kept > 0) & (kept >= min_area) & (kept >= min_visibility * area)
    result = clipped if clip else moved
    result = convert_boxes(result, "xyxy", box_format)
    if not boxes.dtype.is_floating_point:
        result = result.round()
    return result.to(boxes.dtype), visible


def convert_boxes(boxes: torch.Tensor, source: str, target: str) -> torch.Tensor:
    """Convert ``(..., 4)`` boxes between ``xyxy``, ``xywh`` and ``cxcywh``."""
    source, target = _check_format(source, "source"), _check_format(target, "target")
    if source == target:
        return boxes
    a, b, c, d = boxes.unbind(-1)
    if source == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif source == "cxcywh":
        a, b, c, d = a - c / 2, b - d / 2, a + c / 2, b + d / 2
    if target == "xywh":
        return torch.stack([a, b, c - a, d - b], -1)
    if target == "cxcywh":
        return torch.stack([(a + c) / 2, (b + d) / 2, c - a, d - b], -1)
    return torch.stack([a, b, c, d], -1)


def clip_boxes(boxes: torch.Tensor, canvas_size: tuple[int, int]) -> torch.Tensor:
    """Clip ``(..., 4)`` ``xyxy`` boxes to the canvas ``[0, W] x [0, H]``."""
    height, width = canvas_size
    x = boxes[..., 0::2].clamp(0, width)
    y = boxes[..., 1::2].clamp(0, height)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)


def masks_to_boxes(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Tight ``xyxy`` boxes of ``(..., H, W)`` masks, and whether each mask is non-empty.

    The box of the pixels in rows ``r0..r1`` and columns ``c0..c1`` is
    ``(c0, r0, c1 + 1, r1 + 1)``; an empty mask gets ``(0, 0, 0, 0)`` and ``False``.

    Example:
        >>> import torch
        >>> from shiftaug.functional import masks_to_boxes
        >>> m = torch.zeros(1, 4, 5, dtype=torch.bool)
        >>> m[0, 1:3, 2] = True
        >>> masks_to_boxes(m)
        (tensor([[2., 1., 3., 3.]]), tensor([True]))
    """
    check_tensor("masks", masks, min_ndim=2, layout="(..., H, W)")
    height, width = masks.shape[-2:]
    # Row/column occupancy as a uint8 max: torch's bool reductions are an order of magnitude
    # slower on CPU at (N, K, H, W) sizes.
    present = masks if masks.dtype == torch.bool else masks != 0
    bits = present.view(torch.uint8)
    rows, cols = bits.amax(-1) > 0, bits.amax(-2) > 0
    nonempty = rows.view(torch.uint8).amax(-1) > 0
    r_index = torch.arange(height, device=masks.device, dtype=torch.float32)
    c_index = torch.arange(width, device=masks.device, dtype=torch.float32)
    big = float(max(height, width) + 1)
    r0 = torch.where(rows, r_index, big).amin(-1)
    r1 = torch.where(rows, r_index, -1.0).amax(-1) + 1
    c0 = torch.where(cols, c_index, big).amin(-1)
    c1 = torch.where(cols, c_index, -1.0).amax(-1) + 1
    boxes = torch.stack([c0, r0, c1, r1], -1)
    return torch.where(nonempty[..., None], boxes, 0.0), nonempty


def check_canvas_size(canvas_size: object, name: str = "canvas_size") -> tuple[int, int]:
    """Validate an ``(H, W)`` pair of positive ints."""
    if isinstance(canvas_size, torch.Size):
        canvas_size = tuple(canvas_size)
    if (
        not isinstance(canvas_size, (tuple, list))
        or len(canvas_size) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) for v in canvas_size)
    ):
        raise TypeError(f"`{name}` must be a pair (H, W) of ints, but got {describe(canvas_size)}.")
    if min(canvas_size) <= 0:
        raise ValueError(f"`{name}` must be a pair (H, W) of ints >= 1, but got {canvas_size!r}.")
    return int(canvas_size[0]), int(canvas_size[1])


def _check_format(value: object, name: str = "format") -> str:
    if isinstance(value, str):
        value = value.lower()
    else:  # torchvision's BoundingBoxFormat enum, without importing torchvision
        value = getattr(value, "name", value)
        value = value.lower() if isinstance(value, str) else value
    return check_choice(name, value, BOX_FORMATS)


def _check_fraction(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a number in [0, 1], but got {describe(value)}.")


def _area(xyxy: torch.Tensor) -> torch.Tensor:
    return (xyxy[..., 2] - xyxy[..., 0]).clamp(min=0) * (xyxy[..., 3] - xyxy[..., 1]).clamp(min=0)
