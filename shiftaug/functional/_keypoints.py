"""``translate_keypoints``: move keypoints and report which stay on the canvas."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .._checks import check_tensor
from ._boxes import BOX_DTYPES, check_canvas_size
from ._shift import as_shift, broadcast_shift
from ._wide import narrow, target_step

__all__ = ["translate_keypoints"]


def translate_keypoints(
    keypoints: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    canvas_size: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Translate ``(x, y)`` keypoints by per-sample ``(dx, dy)`` pixel shifts.

    A keypoint ``(x, y)`` lies on pixel ``(row floor(y), column floor(x))`` and is visible iff
    ``0 <= x < W`` and ``0 <= y < H``; the pixel under a keypoint moves with it.

    Args:
        keypoints: ``(*batch, K, 2)`` keypoints, ``(x, y)`` last, floating point or integer.
            Integer keypoints move by the rounded shift, computed in float64 (exact within
            +-2**53); a result that does not fit their dtype (a uint8 x moved below 0) is a
            ``ValueError``, never a wrap-around.
        shift: ``(*batch, 2)`` shifts in pixels, broadcast against ``keypoints.shape[:-2]``.
        canvas_size: ``(H, W)`` of the image.

    Returns:
        ``(keypoints, visible)``: moved keypoints (same dtype, never clipped, so the move can be
        undone; a ``ValueError`` if they do not fit the dtype) and a bool tensor ``(*batch, K)``.

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_keypoints
        >>> kp = torch.tensor([[[1.5, 2.0], [7.0, 0.0]]])
        >>> translate_keypoints(kp, [[1, 1]], canvas_size=(8, 8))
        (tensor([[[2.5000, 3.0000],
                 [8.0000, 1.0000]]]), tensor([[ True, False]]))
    """
    return translate_keypoints_(keypoints, shift, canvas_size=canvas_size, check_values=True)


def translate_keypoints_(
    keypoints: torch.Tensor,
    shift: object,
    *,
    canvas_size: tuple[int, int],
    check_values: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`translate_keypoints` with the NaN/inf check optional (see ``translate_image_``)."""
    check_tensor("keypoints", keypoints, min_ndim=2, layout="(*batch, K, 2)", dtypes=BOX_DTYPES)
    if keypoints.shape[-1] != 2:
        raise ValueError(
            "`keypoints` must have shape (*batch, K, 2), but got a tensor of shape "
            f"{tuple(keypoints.shape)}."
        )
    height, width = check_canvas_size(canvas_size)
    offsets = as_shift(shift, keypoints.device, check_values=check_values)
    broadcast_shift(offsets, keypoints.shape[:-2], target="keypoints")
    step = target_step(offsets, keypoints.dtype, check_values=check_values)
    moved = narrow(
        keypoints.to(step.dtype) + step[..., None, :], keypoints, "keypoints",
        check_values=check_values,
    )  # fmt: skip
    x, y = moved.unbind(-1)
    visible = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    return moved, visible
