"""``translate_mask``: exact translation of label maps and instance masks."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from .._checks import check_tensor
from ._fill import normalize_fill, resolve_padding
from ._image import like, shift_planes
from ._shift import as_shift, leading_shift

__all__ = ["MASK_DTYPES", "translate_mask"]

MASK_DTYPES = (
    torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64,
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
)  # fmt: skip


def translate_mask(
    mask: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    padding_mode: str | None = None,
    fill: int | float | None = None,
) -> torch.Tensor:
    """Translate label maps or instance masks by per-sample ``(dx, dy)`` pixel shifts.

    Labels are never interpolated: shifts are rounded like ``interpolation="nearest"`` in
    :func:`translate_image` (half to even), so a mask stays aligned with an image moved by the
    same shift with nearest interpolation (and is within half a pixel of a bilinear one).
    Values are copied bit for bit, floating-point (soft or float-coded) masks included.

    This kernel pads as it is told. :class:`~shiftaug.RandomTranslate` and the adapters decide
    the padding of masks by the rule on the [conventions page](../conventions.md#masks):
    vacated mask pixels are background (``mask_fill``) whatever the image's padding, except
    that circular shifts wrap masks too.

    Args:
        mask: ``(..., H, W)`` label maps or ``(..., K, H, W)`` instance masks; bool, integer or
            floating point.
        shift: ``(*batch, 2)`` shifts in pixels, ``(dx, dy)`` last. Its batch dimensions line up
            with the mask's *leading* dimensions, and any further mask dimensions before ``H, W``
            (``K`` instances, a channel) share the shift: ``(N, 2)`` moves an ``(N, H, W)`` label
            map and an ``(N, K, H, W)`` stack of instance masks alike.
        padding_mode: as in :func:`translate_image` (``None``: ``"constant"`` if a ``fill`` is
            given, else ``"zeros"``).
        fill: label written where no source pixel exists with ``padding_mode="constant"``
            (for example an ``ignore_index`` such as 255); 0 or 1 for bool masks.

    Returns:
        The translated mask, same dtype and device; shape ``mask.shape`` with the leading
        dimensions broadcast against the shift's batch.

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_mask
        >>> m = torch.tensor([[[1, 2], [3, 4]]], dtype=torch.uint8)
        >>> translate_mask(m, [[0, 1]], fill=255)
        tensor([[[255, 255],
                 [  1,   2]]], dtype=torch.uint8)
    """
    return translate_mask_(mask, shift, padding_mode=padding_mode, fill=fill, check_values=True)


def translate_mask_(
    mask: torch.Tensor,
    shift: object,
    *,
    padding_mode: str | None = "zeros",
    fill: object = 0,
    check_values: bool,
    fill_name: str = "fill",
    mode_name: str = "padding_mode",
) -> torch.Tensor:
    """:func:`translate_mask` with the NaN/inf check optional (see ``translate_image_``);
    ``fill_name``/``mode_name`` are the caller's argument names, for its error messages."""
    check_tensor("mask", mask, min_ndim=2, layout="(..., H, W)", dtypes=MASK_DTYPES)
    mode, fill = resolve_padding(padding_mode, fill, mode_name=mode_name, fill_name=fill_name)
    height, width = mask.shape[-2:]
    if height == 0 or width == 0:
        raise ValueError(f"`mask` must have H, W >= 1, but got shape {tuple(mask.shape)}.")
    fill_values = normalize_fill(fill, mode, mask.dtype, 1, name=fill_name, mode_name=mode_name)
    offsets = as_shift(shift, mask.device, check_values=check_values)
    offsets = leading_shift(offsets, mask.shape[:-2], "shift", "mask")
    batch = torch.broadcast_shapes(offsets.shape[:-1], mask.shape[:-2])
    shape = (*batch, height, width)
    if math.prod(shape) == 0:
        return mask.new_empty(shape)
    planes = mask.expand(shape).reshape(-1, 1, height, width)
    offsets = offsets.expand(*batch, 2).reshape(-1, 2)
    out = shift_planes(planes, offsets, mode, fill_values, "nearest")
    return like(out.view(shape), mask)
