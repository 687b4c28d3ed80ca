"""Where each output pixel reads from: source indices per padding mode.

Every translation kernel reduces to "output row ``i`` reads source row ``i - dy``" (and the same
for columns). A padding mode only decides what an out-of-range source index means. Keeping that
decision in one place makes every kernel, and every padding mode, agree by construction.
"""

from __future__ import annotations

import torch

from .._checks import check_choice, check_int, check_tensor

__all__ = ["PADDING_MODES", "source_index"]

PADDING_MODES = ("zeros", "constant", "reflect", "symmetric", "replicate", "circular")
_INTEGER_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def source_index(
    pos: torch.Tensor, size: int, padding_mode: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Map possibly out-of-range source coordinates to valid ones.

    Args:
        pos: integer tensor of source coordinates, any shape, any values.
        size: length of the axis (``H`` or ``W``), an int >= 1.
        padding_mode: one of :data:`PADDING_MODES` (``"edge"`` is not accepted here: this is
            the kernels' vocabulary).

    Returns:
        ``(index, valid)``: ``index`` (int64) lies in ``[0, size)``; ``valid`` is a bool tensor marking the
        positions that read real pixels for ``zeros``/``constant`` (elsewhere the fill is used), and
        ``None`` for the modes that always read a real pixel.

    The image is extended periodically for ``circular``, by mirror tiling about the edge pixel
    centres for ``reflect`` (period ``2 * (size - 1)``, ``dcb|abcd|cba``, as ``torch.nn.functional.pad``
    and OpenCV's ``BORDER_REFLECT_101``), by mirror tiling about the edges for ``symmetric`` (period
    ``2 * size``, ``cba|abcd|dcb``, OpenCV's ``BORDER_REFLECT``), and by the edge pixel for
    ``replicate``. Tiling makes every mode defined for shifts of any size.

    Example:
        >>> import torch
        >>> from shiftaug.functional import source_index
        >>> source_index(torch.arange(-3, 6), 4, "reflect")[0]
        tensor([3, 2, 1, 0, 1, 2, 3, 2, 1])
    """
    check_tensor("pos", pos, dtypes=_INTEGER_DTYPES)
    check_int("size", size, low=1)
    check_choice("padding_mode", padding_mode, PADDING_MODES)
    pos = pos.to(torch.int64)  # small integer dtypes cannot hold the periods below
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
    raise AssertionError(padding_mode)  # unreachable: checked above
