"""Where each output pixel reads from: source indices per padding mode.

Every translation kernel reduces to "output row ``i`` reads source row ``i - dy``" (and the same
for columns). A padding mode only decides what an out-of-range source index means. Keeping that
decision in one place makes every kernel, and every padding mode, agree by construction.
"""

from __future__ import annotations

import torch

__all__ = ["PADDING_MODES", "source_index"]

PADDING_MODES = ("zeros", "constant", "reflect", "symmetric", "replicate", "circular")


def source_index(
    pos: torch.Tensor, size: int, padding_mode: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Map possibly out-of-range source coordinates to valid ones.

    Args:
        pos: integer tensor of source coordinates, any shape, any values.
        size: length of the axis (``H`` or ``W``), at least 1.
        padding_mode: one of :data:`PADDING_MODES`.

    Returns:
        ``(index, valid)``: ``index`` lies in ``[0, size)``; ``valid`` is a bool tensor marking the
        positions that read real pixels for ``zeros``/``constant`` (elsewhere the fill is used), and
        ``None`` for the modes that always read a real pixel.

    The image is extended periodically for ``circular``, by mirror tiling about the edge pixel
    centres for ``reflect`` (period ``2 * (size - 1)``, ``dcb|abcd|cba``, as ``torch.nn.functional.pad``
    and OpenCV's ``BORDER_REFLECT_101``), by mirror tiling about the edges for ``symmetric`` (period
    ``2 * size``, ``cba|abcd|dcb``, OpenCV's ``BORDER_REFLECT``), and by the edge pixel for
    ``replicate``. Tiling makes every mode defined for shifts of any size.
    """
    last = size - 1
    if padding_mode in ("zeros", "constant"):
        valid = (pos >= 0) & (pos <= last)
        return pos.clamp(0, last), valid
    if padding_mode == "replicate":
        return pos.clamp(0, last), None
    if padding_mode == "circular":
        return pos.remainder(size), None
    if padding_mode == "reflect":
        if size == 1:
            return torch.zeros_like(pos), None
        period = 2 * last
        folded = pos.remainder(period)
        return torch.where(folded <= last, folded, period - folded), None
    if padding_mode == "symmetric":
        period = 2 * size
        folded = pos.remainder(period)
        return torch.where(folded <= last, folded, period - 1 - folded), None
    raise ValueError(f"`padding_mode` must be one of {PADDING_MODES}, but got {padding_mode!r}.")
