"""``translate_mask``: exact translation of label maps and instance masks."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_choice, check_tensor
from ._image import normalize_fill, shift_nearest, use_host_slicing
from ._index import PADDING_MODES
from ._shift import as_shift, leading_shift
from ._slicing import shift_by_slicing

__all__ = ["MASK_DTYPES", "translate_mask"]

MASK_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def translate_mask(
    mask: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    padding_mode: str = "zeros",
    fill: int = 0,
) -> torch.Tensor:
    """Translate label maps or instance masks by per-sample ``(dx, dy)`` pixel shifts.

    Labels are never interpolated: shifts are rounded like ``interpolation="nearest"`` in
    :func:`translate_image` (half to even), so a mask stays aligned with an image moved by the
    same shift with nearest interpolation (and is within half a pixel of a bilinear one).

    Args:
        mask: ``(..., H, W)`` label maps or ``(..., K, H, W)`` instance masks; bool or integer.
        shift: ``(*batch, 2)`` shifts in pixels, ``(dx, dy)`` last. Its batch dimensions line up
            with the mask's *leading* dimensions, and any further mask dimensions before ``H, W``
            (``K`` instances, a channel) share the shift: ``(N, 2)`` moves an ``(N, H, W)`` label
            map and an ``(N, K, H, W)`` stack of instance masks alike.
        padding_mode: as in :func:`translate_image`.
        fill: label written where no source pixel exists with ``padding_mode="constant"``
            (for example an ``ignore_index`` such as 255); 0 or 1 for bool masks.

    Returns:
        The translated mask, same dtype and device; shape ``mask.shape`` with the leading
        dimensions broadcast against the shift's batch.

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_mask
        >>> m = torch.tensor([[[1, 2], [3, 4]]], dtype=torch.uint8)
        >>> translate_mask(m, [[0, 1]], padding_mode="constant", fill=255)
        tensor([[[255, 255],
                 [  1,   2]]], dtype=torch.uint8)
    """
    return translate_mask_(mask, shift, padding_mode=padding_mode, fill=fill, check_values=True)


def translate_mask_(
    mask: torch.Tensor,
    shift: object,
    *,
    padding_mode: str = "zeros",
    fill: int = 0,
    check_values: bool,
) -> torch.Tensor:
    """:func:`translate_mask` with the NaN/inf check optional (see ``translate_image_``)."""
    check_tensor("mask", mask, min_ndim=2, layout="(..., H, W)", dtypes=MASK_DTYPES)
    check_choice("padding_mode", padding_mode, PADDING_MODES)
    height, width = mask.shape[-2:]
    if height == 0 or width == 0:
        raise ValueError(f"`mask` must have H, W >= 1, but got shape {tuple(mask.shape)}.")
    fill_values = normalize_fill(fill, padding_mode, mask.dtype, 1)
    offsets = as_shift(shift, mask.device, check_values=check_values)
    offsets = leading_shift(offsets, mask.shape[:-2], "shift", "mask")
    batch = torch.broadcast_shapes(offsets.shape[:-1], mask.shape[:-2])
    planes = mask.expand(*batch, height, width).reshape(-1, 1, height, width)
    offsets = offsets.expand(*batch, 2).reshape(-1, 2)
    if planes.shape[0] == 0:
        return mask.new_empty((*batch, height, width))
    if offsets.is_floating_point():
        offsets = torch.round(offsets)
    offsets = offsets.to(torch.int64)
    if use_host_slicing(planes, offsets):
        dx, dy = offsets[0].tolist()
        out = shift_by_slicing(planes[0], dx, dy, 1, padding_mode, fill_values, channel_axis=0)
    else:
        out = shift_nearest(planes, offsets, padding_mode, fill_values)
    return out.reshape(*batch, height, width)
