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
_CHUNK_BYTES = 16 << 20  # scratch for the overlap counts: few chunks, one allocation


def count_pixels(masks: torch.Tensor) -> torch.Tensor:
    """Set pixels of each of ``masks (K, H, W)`` (0/1 bool or uint8), as ``int64 (K,)``.

    Two reductions whatever the size (few operations, so few waits on torch's thread pool):
    the bytes of each 1 KiB block are added as 128 ``int64`` words, whose byte lanes then hold
    per-lane sums of at most 128 (no carry), and those lane bytes are added up.

    Example:
        >>> import torch
        >>> masks = torch.zeros(2, 5, 7, dtype=torch.bool)
        >>> masks[0, 1:3, 2:6] = True
        >>> count_pixels(masks).tolist()
        [8, 0]
    """
    count, plane = masks.shape[0], masks.shape[-2] * masks.shape[-1]
    data = masks.reshape(count, plane)
    if data.dtype != torch.uint8:
        data = data.view(torch.uint8) if data.dtype == torch.bool else (data != 0).to(torch.uint8)
    block = 8 * _BLOCK_WORDS
    if plane % block or (count > 1 and data.stride(0) != plane) or data.storage_offset() % 8:
        data = F.pad(data, (0, -plane % block))  # whole, aligned blocks per row (a copy)
    if not data.numel():
        return torch.zeros(count, dtype=torch.int64, device=masks.device)
    lanes = data.view(torch.int64).view(count, -1, _BLOCK_WORDS).sum(-1)
    return lanes.view(torch.uint8).sum(-1, dtype=torch.int64)


def area_and_overlap(
    masks: torch.Tensor, region: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """``int64 (K,)`` pixels of each of ``masks (K, H, W)``, and those it shares with
    ``region (H, W)`` (zeros if ``None``).

    The intersection goes through one scratch buffer a few masks at a time, never for all of
    them at once.
    """
    area = count_pixels(masks)
    if region is None or not masks.shape[0]:
        return area, torch.zeros_like(area)
    plane = max(masks.shape[-2] * masks.shape[-1], 1)
    step = min(max(1, _CHUNK_BYTES // plane), masks.shape[0])
    region = region.to(masks.dtype)
    scratch = masks.new_empty((step, *masks.shape[1:]))
    shared = []
    for start in range(0, masks.shape[0], step):
        chunk = masks[start : start + step]
        inside = torch.bitwise_and(chunk, region, out=scratch[: chunk.shape[0]])
        shared.append(count_pixels(inside))
    return area, torch.cat(shared)


def union_of_rows(masks: torch.Tensor, rows: Sequence[int]) -> torch.Tensor:
    """``(H, W)`` bool union of ``masks[rows]`` (``rows`` ascending host ints)."""
    spans = runs(rows)
    bytes_ = masks.view(torch.uint8) if masks.dtype == torch.bool else masks
    if len(spans) > 2:  # one gather beats many small reductions
        index = torch.as_tensor(list(rows), device=masks.device)
        return bytes_.index_select(0, index).amax(0) > 0  # uint8 max: bool reductions are slow
    union = bytes_[spans[0][0] : spans[0][1]].amax(0)
    for start, stop in spans[1:]:
        union = torch.maximum(union, bytes_[start:stop].amax(0))
    return union > 0


def as_bool(masks: torch.Tensor) -> torch.Tensor:
    """0/1 ``uint8`` masks reinterpreted as ``bool`` without a copy (bool masks unchanged)."""
    return masks.view(torch.bool) if masks.dtype == torch.uint8 else masks


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
