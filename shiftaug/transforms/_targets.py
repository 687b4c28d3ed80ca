"""Targets of a translation call: their checks and how each moves with its sample's shift."""

from __future__ import annotations

from typing import NamedTuple

import torch

from .._checks import describe
from ..params import TranslateParams

__all__ = ["TranslateOutput", "check_target"]

# Per target: the rank of one sample's item, whether extra leading dims are allowed, and the
# layouts of a batched and a single-image call (for messages).
LAYOUTS = {
    "mask": (2, True, "(N, ..., H, W)", "(..., H, W)"),
    "masks": (3, False, "(N, K, H, W)", "(K, H, W)"),
    "boxes": (2, True, "(N, ..., M, 4)", "(..., M, 4)"),
    "keypoints": (2, True, "(N, ..., K, 2)", "(..., K, 2)"),
}


class TranslateOutput(NamedTuple):
    """Everything :class:`RandomTranslate` returns when called with targets.

    Attributes:
        image: the moved images, the input's shape, dtype and memory format.
        mask: the moved dense map(s) ``(N, H, W)`` (or ``(H, W)``), or ``None``.
        boxes: the moved boxes, the input's shape, dtype and format, or ``None``.
        boxes_visible: ``(N, M)`` bool, which boxes stay visible (see ``min_visibility``).
        keypoints: the moved keypoints (never clipped), or ``None``.
        keypoints_visible: ``(N, K)`` bool, which keypoints stay inside the image.
        params: the :class:`~shiftaug.TranslateParams` drawn or replayed.
        masks: the moved instance masks ``(N, K, H, W)`` (or ``(K, H, W)``), or ``None``. An
            object that left the frame has an empty mask (``masks_to_boxes`` reports it).
    """

    image: torch.Tensor
    mask: torch.Tensor | None
    boxes: torch.Tensor | None
    boxes_visible: torch.Tensor | None
    keypoints: torch.Tensor | None
    keypoints_visible: torch.Tensor | None
    params: TranslateParams
    masks: torch.Tensor | None = None


def check_target(
    name: str, target: object, count: int, batched: bool, image: torch.Tensor
) -> torch.Tensor:
    """Check that ``target`` fits the call's samples; return it.

    In a batched call (``(N, ..., C, H, W)`` images) a target's first dimension is the sample
    (``N``, or 1 to share one target across the batch); for one ``(C, H, W)`` image any leading
    dimensions share its shift. Masks must match the image's ``(H, W)``.
    """
    item_ndim, extra_dims, batch_layout, single_layout = LAYOUTS[name]
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(target).__name__}.")
    rank = item_ndim + int(batched)
    if target.ndim < rank or (not extra_dims and target.ndim != rank):
        layout = f"{batch_layout} for a batch of images" if batched else single_layout
        raise ValueError(
            f"`{name}` must have shape {layout}, but got a tensor of shape {tuple(target.shape)}."
        )
    if batched and target.shape[0] not in (count, 1):
        raise ValueError(
            f"`{name}` must have the batch's {count} samples as its first dimension, but got "
            f"{describe(target)}."
        )
    if name in ("mask", "masks") and tuple(target.shape[-2:]) != tuple(image.shape[-2:]):
        height, width = image.shape[-2:]
        raise ValueError(
            f"`{name}` must have the image's size (..., {height}, {width}), but got a tensor of "
            f"shape {tuple(target.shape)}."
        )
    return target
