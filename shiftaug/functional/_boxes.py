"""``translate_boxes`` and box utilities (formats, clipping, boxes of masks)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_bool, check_choice, check_real, check_size, check_tensor
from ._shift import as_shift, broadcast_shift
from ._wide import narrow, target_step, wide_dtype

__all__ = [
    "BOX_FORMATS",
    "check_canvas_size",
    "clip_boxes",
    "convert_boxes",
    "convert_boxes_",
    "masks_to_boxes",
    "translate_boxes",
]

BOX_FORMATS = ("xyxy", "xywh", "cxcywh")
_MASK_DTYPES = (
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
)  # fmt: skip
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
        boxes: ``(*batch, M, 4)`` boxes, floating point or integer. Integer boxes move by the
            rounded shift, computed in float64 (exact within +-2**53); a result that does not
            fit their dtype (a uint8 box moved below 0 with ``clip=False``) is a ``ValueError``,
            never a wrap-around.
        shift: ``(*batch, 2)`` shifts in pixels, broadcast against ``boxes.shape[:-2]``.
        canvas_size: ``(H, W)`` of the image the boxes live on.
        format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"``; input and output use the same format.
        clip: clip the moved boxes to the canvas (visibility is computed on the clipped box
            either way).
        min_visibility: a box is visible only if at least this fraction of its area stays on
            the canvas.
        min_area: a box is visible only if its clipped area is at least this many pixels.

    Returns:
        ``(boxes, visible)``: the moved boxes, shape ``(*batch, M, 4)``, same dtype (a ``ValueError``
        if they do not fit it, as a float16 box moved past 65504); and a bool
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
    _check_boxes("boxes", boxes, "(*batch, M, 4)", min_ndim=2)
    height, width = check_canvas_size(canvas_size)
    box_format = _check_format(format)
    check_bool("clip", clip)
    check_real("min_visibility", min_visibility, low=0.0, high=1.0)
    check_real("min_area", min_area, low=0.0)
    offsets = as_shift(shift, boxes.device, check_values=check_values)
    batch = broadcast_shift(offsets, boxes.shape[:-2], target="boxes")
    step = target_step(offsets, boxes.dtype, check_values=check_values)
    xyxy = _convert(boxes.to(step.dtype), box_format, "xyxy")
    dx, dy = step.unbind(-1)
    moved = xyxy + torch.stack([dx, dy, dx, dy], -1)[..., None, :]
    moved = moved.expand(*batch, *moved.shape[-2:])
    clipped = _clip(moved, (height, width))
    area = _area(xyxy)
    kept = _area(clipped)
    visible = (kept > 0) & (kept >= min_area) & (kept >= min_visibility * area)
    result = _convert(clipped if clip else moved, "xyxy", box_format)
    if not boxes.dtype.is_floating_point:
        result = result.round()
    return narrow(result, boxes, "boxes", check_values=check_values), visible


def convert_boxes(boxes: torch.Tensor, source: str, target: str) -> torch.Tensor:
    """Convert ``(..., 4)`` boxes between ``xyxy``, ``xywh`` and ``cxcywh``.

    The result has the input's dtype. Boxes are converted in a wide dtype (float64 for integers
    and float64, float32 for half floats); integer results are rounded half to even
    (``cxcywh`` centres of odd-sized boxes fall on half pixels, so integer ``cxcywh``
    round-trips exactly only for even sizes). A result outside the dtype's range (a float16
    ``x + w`` beyond 65504, a uint8 ``cx - w / 2`` below 0) is a ``ValueError``, never a
    wrap-around or an infinity.

    Args:
        boxes: ``(..., 4)`` boxes, floating point or integer.
        source: their format: ``"xyxy"``, ``"xywh"`` or ``"cxcywh"`` (or torchvision's
            ``BoundingBoxFormat``).
        target: the format to return.

    Returns:
        A new ``(..., 4)`` tensor of the same dtype.

    Example:
        >>> import torch
        >>> from shiftaug.functional import convert_boxes
        >>> convert_boxes(torch.tensor([[1.0, 2.0, 5.0, 4.0]]), "xyxy", "cxcywh")
        tensor([[3., 3., 4., 2.]])
    """
    return convert_boxes_(boxes, source, target, check_values=True)


def convert_boxes_(
    boxes: torch.Tensor, source: str, target: str, *, check_values: bool
) -> torch.Tensor:
    """:func:`convert_boxes`; ``check_values=False`` skips the float32/float64 overflow check
    (a host synchronisation on an accelerator) for boxes known to be far inside their range.
    Integer and half-float results are always checked."""
    _check_boxes("boxes", boxes, "(..., 4)", min_ndim=1)
    source, target = _check_format(source, "source"), _check_format(target, "target")
    if source == target:
        return boxes.clone()
    result = _convert(boxes.to(wide_dtype(boxes.dtype)), source, target)
    if not boxes.dtype.is_floating_point:
        result = result.round()
    return narrow(
        result, boxes, "boxes", check_values=check_values, action=f"converted to {target!r}"
    )


def clip_boxes(boxes: torch.Tensor, canvas_size: tuple[int, int]) -> torch.Tensor:
    """Clip ``(..., 4)`` ``xyxy`` boxes to the canvas ``[0, W] x [0, H]`` (same dtype).

    Args:
        boxes: ``(..., 4)`` ``xyxy`` boxes in pixels, floating point or integer.
        canvas_size: ``(H, W)`` ints >= 1 (a canvas beyond the dtype's range is fine).

    Example:
        >>> import torch
        >>> from shiftaug.functional import clip_boxes
        >>> clip_boxes(torch.tensor([[-2.0, 1.0, 9.0, 3.0]]), (4, 8))
        tensor([[0., 1., 8., 3.]])
    """
    _check_boxes("boxes", boxes, "(..., 4)", min_ndim=1)
    height, width = check_canvas_size(canvas_size)
    if boxes.dtype in (torch.float32, torch.float64):
        return _clip(boxes, (height, width))
    # Clamping in the wide dtype: a canvas larger than the dtype's range is no error.
    return _clip(boxes.to(wide_dtype(boxes.dtype)), (height, width)).to(boxes.dtype)


def _convert(boxes: torch.Tensor, source: str, target: str) -> torch.Tensor:
    """Format conversion in ``boxes``' own (floating-point) dtype."""
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


def _clip(boxes: torch.Tensor, canvas_size: tuple[int, int]) -> torch.Tensor:
    height, width = canvas_size
    x = boxes[..., 0::2].clamp(0, width)
    y = boxes[..., 1::2].clamp(0, height)
    return torch.stack([x[..., 0], y[..., 0], x[..., 1], y[..., 1]], -1)


def masks_to_boxes(masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Tight ``xyxy`` boxes of ``(..., H, W)`` masks, and whether each mask is non-empty.

    The box of the pixels in rows ``r0..r1`` and columns ``c0..c1`` is
    ``(c0, r0, c1 + 1, r1 + 1)``; an empty mask gets ``(0, 0, 0, 0)`` and ``False``.

    Args:
        masks: ``(..., H, W)`` masks, bool, integer or floating point (non-zero is inside);
            ``H`` or ``W`` may be 0 (every mask is then empty).

    Returns:
        ``(boxes, nonempty)``: float32 ``(..., 4)`` boxes and a bool ``(...)`` tensor.

    Example:
        >>> import torch
        >>> from shiftaug.functional import masks_to_boxes
        >>> m = torch.zeros(1, 4, 5, dtype=torch.bool)
        >>> m[0, 1:3, 2] = True
        >>> masks_to_boxes(m)
        (tensor([[2., 1., 3., 3.]]), tensor([True]))
    """
    check_tensor("masks", masks, min_ndim=2, layout="(..., H, W)", dtypes=_MASK_DTYPES)
    height, width = masks.shape[-2:]
    if height == 0 or width == 0:  # no pixels: every mask is empty
        empty = masks.new_zeros(masks.shape[:-2], dtype=torch.bool)
        return masks.new_zeros((*masks.shape[:-2], 4), dtype=torch.float32), empty
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
    return check_size(name, canvas_size)


def _check_boxes(name: str, boxes: object, layout: str, min_ndim: int) -> torch.Tensor:
    tensor = check_tensor(name, boxes, min_ndim=min_ndim, layout=layout, dtypes=BOX_DTYPES)
    if tensor.shape[-1] != 4:
        raise ValueError(
            f"`{name}` must have shape {layout}, but got a tensor of shape {tuple(tensor.shape)}."
        )
    return tensor


def _check_format(value: object, name: str = "format") -> str:
    if isinstance(value, str):
        value = value.lower()
    else:  # torchvision's BoundingBoxFormat enum, without importing torchvision
        value = getattr(value, "name", value)
        value = value.lower() if isinstance(value, str) else value
    return check_choice(name, value, BOX_FORMATS)


def _area(xyxy: torch.Tensor) -> torch.Tensor:
    return (xyxy[..., 2] - xyxy[..., 0]).clamp(min=0) * (xyxy[..., 3] - xyxy[..., 1]).clamp(min=0)
