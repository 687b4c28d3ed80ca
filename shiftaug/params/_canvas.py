"""Where the frame lies on a larger canvas, and the FFT cross-correlation the maps use.

Object masks may lie on a canvas larger than the frame (an object rescaled in place can stick
out of it); frame-sized maps are padded onto that canvas.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

__all__ = ["Frame", "correlate", "pad_to_canvas"]


class Frame(NamedTuple):
    """Where the ``height x width`` frame lies on the masks' canvas."""

    top: int
    left: int
    height: int
    width: int


def pad_to_canvas(values: torch.Tensor, frame: Frame, canvas: tuple[int, int]) -> torch.Tensor:
    """Frame-sized ``(..., H, W)`` values on the ``canvas`` ``(Hc, Wc)``, zero (False) around."""
    if tuple(values.shape[-2:]) == canvas:
        return values
    right = canvas[1] - frame.left - frame.width
    bottom = canvas[0] - frame.top - frame.height
    pad = (frame.left, right, frame.top, bottom)
    if values.dtype == torch.bool:
        return F.pad(values.view(torch.uint8), pad).view(torch.bool)
    return F.pad(values, pad)


def correlate(
    objects: torch.Tensor, maps: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(..., len(dy), len(dx))``: ``sum_p objects(p) maps(p + d)`` for every move ``d``
    (FFT cross-correlation with zero padding; ``objects`` and ``maps`` broadcast, float)."""
    height, width = objects.shape[-2:]
    size = (2 * height, 2 * width)
    corr = torch.fft.irfft2(
        torch.fft.rfft2(objects, s=size).conj() * torch.fft.rfft2(maps, s=size), s=size
    )
    rows, cols = dy.remainder(size[0]), dx.remainder(size[1])
    return corr[..., rows, :][..., cols]
