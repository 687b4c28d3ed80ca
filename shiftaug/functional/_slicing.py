"""Whole-pixel shifts of one host array by plain slicing (NumPy arrays or CPU tensors).

The batched kernels pay a fixed set-up cost per call; for a single sample whose shift is a pair
of host ints (a per-image call in a DataLoader worker, an albumentations pipeline) plain slicing
is the fastest exact path. It reads :func:`~shiftaug.functional.source_index`, so it gives the
same pixels as :func:`~shiftaug.functional.translate_image` for every padding mode.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ._index import source_index

__all__ = ["overlap", "shift_by_slicing"]


def shift_by_slicing(
    array: Any,
    dx: int,
    dy: int,
    row_axis: int,
    padding_mode: str,
    fill: tuple[float, ...] | None,
    *,
    channel_axis: int = -1,
) -> Any:
    """Shift ``array`` by ``(dx, dy)`` whole pixels along ``row_axis`` and ``row_axis + 1``.

    Args:
        array: NumPy array or CPU tensor.
        dx, dy: the shift in pixels (host ints).
        row_axis: the axis of image rows (columns follow it).
        padding_mode: one of :data:`~shiftaug.functional.PADDING_MODES`.
        fill: from ``normalize_fill``: ``None``, one value, or one value per channel along
            ``channel_axis``.

    Returns:
        A new array of the same type, shape and dtype.

    Example:
        >>> import numpy as np
        >>> from shiftaug.functional._slicing import shift_by_slicing
        >>> shift_by_slicing(np.arange(4).reshape(2, 2), 1, 0, 0, "zeros", None)
        array([[0, 0],
               [0, 2]])
    """
    is_tensor = isinstance(array, torch.Tensor)
    height, width = array.shape[row_axis], array.shape[row_axis + 1]
    lead = (slice(None),) * (row_axis % array.ndim)
    if padding_mode in ("zeros", "constant"):
        out: Any = torch.zeros_like(array) if is_tensor else np.zeros_like(array)
        if fill is not None and any(fill):
            shape = [1] * array.ndim
            shape[channel_axis] = len(fill)
            if is_tensor:
                out[...] = torch.tensor(fill, dtype=array.dtype).view(shape)
            else:
                out[...] = np.asarray(fill).reshape(shape)
        rows, src_rows = overlap(dy, height)
        cols, src_cols = overlap(dx, width)
        destination, source = (*lead, rows, cols), (*lead, src_rows, src_cols)
        out[destination] = array[source]
        return out
    row_index, _ = source_index(torch.arange(height) - dy, height, padding_mode)
    col_index, _ = source_index(torch.arange(width) - dx, width, padding_mode)
    axis = row_axis % array.ndim
    if is_tensor:
        return array.index_select(axis, row_index).index_select(axis + 1, col_index)
    out = np.take(array, row_index.numpy(), axis=axis)
    return np.take(out, col_index.numpy(), axis=axis + 1)


def overlap(shift: int, size: int) -> tuple[slice, slice]:
    """Destination and source slices of the pixels that stay on an axis of ``size``."""
    start, stop = min(max(shift, 0), size), max(min(size + shift, size), 0)
    return slice(start, max(stop, start)), slice(start - shift, max(stop, start) - shift)
