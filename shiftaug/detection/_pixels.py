"""Dense mask primitives of the copy-paste collate: pixel counts, unions, row copies.

Every function takes ``(K, H, W)`` masks holding 0/1 in ``bool`` or ``uint8`` (the dtypes of
``tv_tensors.Mask`` from the COCO wrapper and of thresholded masks) and touches each mask byte
once or twice at memory speed: torch's own ``sum`` of such masks casts to int64 on the way and is
about 30x slower on CPU, so counts add the bytes eight at a time in ``int64`` words.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

__all__ = ["area_and_overlap", "as_bool", "count_pixels", "runs", "union_of_rows"]

_BLOCK_WORDS = 128  # words summed per block: each byte lane stays <= 128, below a carry
_SHIFTS = tuple(range(0, 64, 8))
_CHUNK_BYTES = 4 << 20  # scratch size for overlap counts: stays in cache, reused by malloc


def count_pixels(masks: torch.Tensor) -> torch.Tensor:
    """Set pixels of each of ``masks (K, H, W)`` (0/1 bool or uint8), as ``int64 (K,)``.

    Example:
        >>> import torch
        >>> masks = torch.zeros(2, 5, 7, dtype=torch.bool)
        >>> masks[0, 1:3, 2:6] = True
        >>> count_pixels(masks).tolist()
        [8, 0]
    """
    rows = masks.reshape(masks.shape[0], masks.shape[-2] * masks.shape[-1])
    if rows.dtype not in (torch.bool, torch.uint8):
        rows = rows != 0
    data = rows.view(torch.uint8) if rows.dtype == torch.bool else rows
    if data.shape[1] % 8 or (data.numel() and data.stride(1) != 1):
        data = F.pad(data, (0, -data.shape[1] % 8))  # whole words per row (a copy)
    block = 8 * _BLOCK_WORDS
    main = data.shape[1] - data.shape[1] % block
    total = data[:, main:].sum(-1, dtype=torch.int64)  # the ragged tail, < 1 KiB a row
    if main and data.shape[0]:
        words = data.view(torch.int64)[:, : main // 8]
        lanes = words.reshape(data.shape[0], -1, _BLOCK_WORDS).sum(-1)
        shifts = torch.tensor(_SHIFTS, device=data.device)
        total = total + ((lanes[..., None] >> shifts) & 255).sum((-1, -2))
    return total


def area_and_overlap(
    masks: torch.Tensor, region: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``int64 (K,)`` pixels of each of ``masks (K, H, W)``, and those it shares with
    ``region (H, W)`` (zeros if ``None``).

    Works through the masks a few at a time, so each is read from memory once (the second
    read hits the cache) and the intersection never exists for all of them at once.
    """
    if region is None:
        area = count_pixels(masks)
        return area, torch.zeros_like(area)
    plane = max(masks.shape[-2] * masks.shape[-1], 1)
    step = max(1, _CHUNK_BYTES // plane)
    region = region.to(masks.dtype)
    areas, shared = [], []
    for start in range(0, masks.shape[0], step):
        chunk = masks[start : start + step]
        areas.append(count_pixels(chunk))
        shared.append(count_pixels(torch.bitwise_and(chunk, region)))
    if not areas:
        empty = torch.zeros(0, dtype=torch.int64, device=masks.device)
        return empty, empty
    return torch.cat(areas), torch.cat(shared)


def as_bool(masks: torch.Tensor) -> torch.Tensor:
    """0/1 ``uint8`` masks reinterpreted as ``bool`` without a copy (bool masks unchanged)."""
    return masks.view(torch.bool) if masks.dtype == torch.uint8 else masks


def union_of_rows(masks: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
    """``(H, W)`` bool union of ``masks[rows]`` (``rows`` ascending host ints), no gather copy."""
    union = torch.zeros(masks.shape[-2:], dtype=torch.uint8, device=masks.device)
    for start, stop in runs(rows):
        part = masks[start:stop]
        part = part.view(torch.uint8) if part.dtype == torch.bool else part
        torch.maximum(union, part.amax(0), out=union)  # uint8 max: bool reductions are slow
    return union.bool()


def runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    """Ascending ``rows`` as ``[start, stop)`` runs of consecutive values.

    Example:
        >>> runs([0, 1, 2, 5, 7, 8])
        [(0, 3), (5, 6), (7, 9)]
    """
    out: list[tuple[int, int]] = []
    for row in rows:
        if out and out[-1][1] == row:
            out[-1] = (out[-1][0], row + 1)
        else:
            out.append((row, row + 1))
    return out
