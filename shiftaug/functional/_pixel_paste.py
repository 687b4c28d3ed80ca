"""Exact pastes as flat pixel lists: the work follows the pasted objects' areas, not the batch's.

A hard, unscaled paste copies an object's own pixels and nothing else, so instead of moving
whole frames :func:`paste_pixels` enumerates the pixels of every object's box at once (all
images and rounds together), keeps those under the object's mask whose destination lies in the
frame, and copies them with one gather and one scatter. Where several rounds land on one pixel
only the last is written (it is on top), so every written position is distinct and the result
does not depend on the order of the scatter on any device. The placement transforms use the
same lists for the occlusion bookkeeping (:func:`clear_pixels`) and recompute boxes only for
the objects whose masks changed shape (:func:`refresh_boxes`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._antialias import paste_halos, runs
from ._boxes import masks_to_boxes

__all__ = [
    "PastedPixels",
    "boxes_meet",
    "clear_pixels",
    "drop_objects",
    "paste_pixels",
    "refresh_boxes",
]


class PastedPixels(NamedTuple):
    """Where :func:`paste_pixels` pasted, entry ``e = n * J + j`` meaning image ``n``, round ``j``.

    Attributes:
        pixel: ``(S,)`` int64 flat destination ``n * H * W + y * W + x`` of every pasted pixel
            that no later round pasted over (each destination pixel at most once).
        entry: ``(S,)`` int64 entry of each.
        image: ``(S,)`` int64 image ``n`` of each.
        covered_pixel: ``(U,)`` int64 the pasted pixels a later round pasted over.
        covered_entry: ``(U,)`` int64 entry of each.
        top: ``(N, H, W)`` int16 last round that pasted each pixel, -1 where none did.
        area: ``(N, J)`` int64 pixels each entry pasted into the frame.
        visible: ``(N, J)`` int64 of them not pasted over by a later round.
        boxes: ``(N, J, 4)`` float32 ``xyxy`` source boxes moved by the shift; the tight box of
            the pasted mask wherever ``clipped`` is False.
        clipped: ``(N, J)`` bool, the frame cut the moved box (then the box must be recomputed).
    """

    pixel: torch.Tensor
    entry: torch.Tensor
    image: torch.Tensor
    covered_pixel: torch.Tensor
    covered_entry: torch.Tensor
    top: torch.Tensor
    area: torch.Tensor
    visible: torch.Tensor
    boxes: torch.Tensor
    clipped: torch.Tensor


def paste_pixels(
    out: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    source_boxes: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    *,
    antialias: bool = False,
) -> PastedPixels:
    """Paste objects of ``source`` into ``out`` **in place**, whole pixels, later rounds on top.

    The same result as moving whole frames with ``translate_image`` and selecting with the moved
    masks round by round (see :func:`shiftaug.functional.paste_objects`). Pixel counts are data
    dependent, so this synchronises with the host three times (to enumerate box rows, their
    pixels, and to list the visible ones); nothing else waits for the device.

    With ``antialias`` each object also gets the soft one-pixel halo of
    :func:`~shiftaug.functional.blend_images`' mode ``"antialias"``, round after round, as if
    the rounds were blended one after the other (:func:`~shiftaug.functional._antialias.paste_halos`;
    six more host synchronisations, whatever the number of rounds).

    Args:
        out: ``(N, C, H, W)`` contiguous canvases, written in place.
        source: ``(B, C, H, W)`` images the objects come from (same dtype and size).
        source_masks: ``(B, K, H, W)`` bool instance masks of ``source``.
        source_boxes: ``(B, K, 4)`` their ``xyxy`` boxes (:func:`masks_to_boxes`).
        index: ``(N, J)`` int64 flat object indices ``b * K + k``.
        shift: ``(N, J, 2)`` whole-pixel moves ``(dx, dy)``.
        placed: ``(N, J)`` bool, which entries paste anything.

    Returns:
        :class:`PastedPixels`.

    Example:
        >>> import torch
        >>> src = torch.zeros(1, 1, 4, 4)
        >>> src[0, 0, 0, :2] = 5.0
        >>> masks = src[:, :1] > 0
        >>> out = torch.zeros_like(src)
        >>> got = paste_pixels(out, src, masks, masks_to_boxes(masks)[0],
        ...     torch.tensor([[0]]), torch.tensor([[[3, 1]]]), torch.tensor([[True]]))
        >>> out[0, 0, 1].tolist(), got.pixel.tolist(), got.clipped.tolist()
        ([0.0, 0.0, 0.0, 5.0], [7], [[True]])
    """
    batch, rounds = index.shape
    channels, height, width = out.shape[-3:]
    plane, slots = height * width, source_masks.shape[1]
    device = out.device
    pairs = batch * rounds
    which = index.flatten().clamp(0, max(source_masks.shape[0] * slots - 1, 0))
    if slots:
        box = source_boxes.reshape(-1, 4).index_select(0, which).long()
    else:
        box = index.new_zeros(pairs, 4)
    move = (shift.round() if shift.is_floating_point() else shift).long().view(pairs, 2)
    moved = box + move.repeat(1, 2)
    # Enumerate only the part of each moved box inside the frame: no per-pixel frame tests.
    low = moved[:, :2].clamp(min=0)
    high = torch.minimum(moved[:, 2:], torch.tensor([width, height], device=device))
    size = (high - low).clamp(min=0) * placed.flatten()[:, None]
    target = low[:, 1] * width + low[:, 0]  # first destination pixel of the kept box
    origin = target - (move[:, 1] * width + move[:, 0])  # ... and where it comes from
    image_of = torch.arange(batch, device=device).repeat_interleave(rounds)
    picture = torch.div(which, max(slots, 1), rounding_mode="floor")
    first_row = (torch.cumsum(size[:, 1], 0) - size[:, 1]) * width
    # Positions of the kept box's first pixel, less ``first_row`` so that the box rows, once
    # enumerated over all entries, only need their running index times ``W`` added.
    table = (
        torch.stack(
            [
                which * plane + origin,  # in the flat source masks
                image_of * plane + target,  # destination pixel (n, y, x)
                picture * (channels * plane) + origin,  # in the flat source images, channel 0
                image_of * (channels * plane) + target,  # in the flat destination images
            ],
            1,
        )
        - first_row[:, None]
    )
    entry = torch.arange(pairs, device=device)
    table = torch.cat([table, size[:, :1], entry[:, None], (entry - image_of * rounds)[:, None]], 1)
    row_table = table.index_select(0, runs(size[:, 1], device))
    row_table[:, :4] += torch.arange(row_table.shape[0], device=device)[:, None] * width
    widths = row_table[:, 4]
    row_table[:, :4] -= (torch.cumsum(widths, 0) - widths)[:, None]
    where = row_table.index_select(0, runs(widths, device))
    where[:, :4] += torch.arange(where.shape[0], device=device)[:, None]
    pasted = source_masks.reshape(-1).take(where[:, 0])
    top = torch.full((batch * plane,), -1, dtype=torch.int16, device=device)
    if rounds > 1:  # later rounds win: one writer a pixel
        level = torch.where(pasted, where[:, 6], -1).to(torch.int16)
        top.scatter_reduce_(0, where[:, 1], level, "amax")
        on_top = pasted & (top.take(where[:, 1]) == level)
    else:  # one round: no pixel is pasted twice
        on_top = pasted
    shown = where.index_select(0, torch.nonzero(on_top).flatten())
    if rounds == 1:
        top.index_fill_(0, shown[:, 1], 0)
    _copy_channels(out, source, shown[:, 2], shown[:, 3], plane)
    if antialias:
        moves = (which, move, image_of)
        paste_halos(out, source, source_masks, top.view(batch, height, width), (low, size), moves)
    covered = where.index_select(0, torch.nonzero(pasted & ~on_top).flatten())
    visible, hidden = (_counts(rows[:, 5], pairs).view(batch, rounds) for rows in (shown, covered))
    clipped = ((low != moved[:, :2]) | (high != moved[:, 2:])).any(-1).view(batch, rounds)
    return PastedPixels(
        shown[:, 1], shown[:, 5], image_of.index_select(0, shown[:, 5]), covered[:, 1], covered[:, 5], top.view(batch, height, width),
        visible + hidden, visible, moved.to(torch.float32).view(batch, rounds, 4), clipped,
    )  # fmt: skip


def _copy_channels(
    out: torch.Tensor, source: torch.Tensor, src: torch.Tensor, dst: torch.Tensor, plane: int
) -> None:
    """``out.view(-1)[dst + c * HW] = source.view(-1)[src + c * HW]`` for every channel ``c``."""
    step = torch.arange(out.shape[-3], device=out.device) * plane
    values = source.reshape(-1).index_select(0, (src[:, None] + step).flatten())
    out.view(-1).index_copy_(0, (dst[:, None] + step).flatten(), values)


def _counts(values: torch.Tensor, bins: int) -> torch.Tensor:
    """``torch.bincount`` of sorted ``values`` in ``[0, bins)``, by bisection."""
    edges = torch.searchsorted(
        values.contiguous(), torch.arange(bins + 1, device=values.device, dtype=values.dtype)
    )
    return edges.diff()


def boxes_meet(boxes: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """``(N,)`` bool: some box of ``boxes (N, A, 4)`` overlaps some box of ``others (N, B, 4)``
    (``xyxy``; empty boxes overlap nothing). Pixels can only be lost where this holds."""
    low = torch.maximum(boxes[:, :, None, :2], others[:, None, :, :2])
    high = torch.minimum(boxes[:, :, None, 2:], others[:, None, :, 2:])
    return (high > low).all(-1).flatten(1).any(1)


def clear_pixels(
    masks: torch.Tensor,
    pixel: torch.Tensor,
    image: torch.Tensor,
    slots: int,
    eligible: torch.Tensor | None = None,
    images: torch.Tensor | None = None,
) -> torch.Tensor:
    """Clear distinct pixels (flat ``pixel = n * H * W + p`` of image ``image = n``) in the first
    ``slots`` masks of each image of ``masks (N, S, H, W)`` (contiguous, **in place**);
    ``eligible (N, slots)`` bool limits it to some objects, ``images (N,)`` bool to some images
    (e.g. from :func:`boxes_meet`). Returns ``(N, slots)`` int64: set pixels each object lost."""
    batch, total = masks.shape[:2]
    plane = masks.shape[-2] * masks.shape[-1]
    if images is not None:  # skip the images where nothing can be hit
        kept = torch.nonzero(images.index_select(0, image)).flatten()
        pixel, image = pixel.index_select(0, kept), image.index_select(0, kept)
    first = pixel + image * ((total - 1) * plane)  # slot 0 of the pixel's image
    where = first[:, None] + torch.arange(slots, device=masks.device) * plane
    flat = masks.view(-1)
    hit = flat.take(where)
    if eligible is not None:
        hit &= eligible.index_select(0, image)
        where = where[hit]
    flat.index_fill_(0, where.flatten(), False)  # clearing unset pixels changes nothing
    lost = torch.zeros(batch, slots, dtype=torch.int64, device=masks.device)
    return lost.index_add_(0, image, hit.long())


def drop_objects(
    masks: torch.Tensor,
    valid: torch.Tensor,
    measured: torch.Tensor,
    left: torch.Tensor,
    before: torch.Tensor,
    min_visibility: float,
    min_area: float,
) -> torch.Tensor:
    """Drop the ``measured`` objects left with too few pixels; empties their masks in place.

    ``left``/``before`` are ``(N, S)`` pixel counts after/before; returns the new ``valid``.
    """
    fits = (left > 0) & (left >= min_area) & (left >= min_visibility * before)
    keep = valid & (fits | ~measured)
    dropped = torch.nonzero((valid & ~keep).flatten()).flatten()
    masks.view(-1, masks.shape[-2] * masks.shape[-1]).index_fill_(0, dropped, False)
    return keep


def refresh_boxes(boxes: torch.Tensor, masks: torch.Tensor, stale: torch.Tensor) -> torch.Tensor:
    """``boxes (N, S, 4)`` with the rows where ``stale (N, S)`` recomputed from ``masks``."""
    rows = torch.nonzero(stale.flatten()).flatten()
    flat = boxes.reshape(-1, 4).clone()
    planes = masks.reshape(-1, *masks.shape[-2:]).index_select(0, rows)
    flat.index_copy_(0, rows, masks_to_boxes(planes)[0])
    return flat.view_as(boxes)
