"""The position maps behind every placement policy, for many objects at once.

A policy turns the mask of each object (at its current place) into a map of valid whole-pixel
moves ``(dx, dy)`` and draws one of them: frame and range constraints from box intervals or
integral images, overlap with other objects and regions by FFT cross-correlation, and the draw
is one inverse-CDF sample over the flattened maps.

The masks may lie on a *canvas* larger than the frame (``frame = (top, left, H, W)``, the
frame's place on the canvas): an object rescaled in place can stick out of the frame, and its
constraints (``min_inside`` in particular) must see all of it. Frame-sized maps (occupied
pixels, regions, densities, context images) are padded onto the canvas.
"""

from __future__ import annotations

import math

import torch

from ..functional._boxes import masks_to_boxes
from ..functional._placement import mask_any, mask_area
from ._canvas import Frame, correlate, pad_to_canvas
from ._context import ContextImages, context_weights
from ._ranges import ShiftRange

__all__ = ["Frame", "draw_positions", "pad_to_canvas"]


def draw_positions(
    masks: torch.Tensor,
    policy: str,
    shift_range: ShiftRange | None,
    min_inside: float,
    *,
    occupied: torch.Tensor | None = None,
    region: torch.Tensor | None = None,
    density: torch.Tensor | None = None,
    stride: int = 8,
    grid_index: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    boxes: torch.Tensor | None = None,
    frame: Frame | None = None,
    context: ContextImages | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`~shiftaug.params.sample_positions` without argument checks.

    ``masks (M, Hc, Wc)`` lie on a canvas holding the frame at ``frame`` (default: the canvas
    is the frame); ``occupied``/``region``/``density`` are frame-sized ``(M, H, W)``.
    ``boxes`` are the masks' ``(M, 4)`` canvas boxes if the caller has them (empty masks:
    zeros); the ``"uniform"`` (fully inside), ``"grid"`` and ``"same"`` policies then never read
    ``masks``. ``context`` holds the images the ``"context"`` policy compares.
    """
    count, canvas_h, canvas_w = masks.shape
    frame = frame or Frame(0, 0, canvas_h, canvas_w)
    device = masks.device
    if policy == "same" or count == 0:
        present = mask_any(masks, (-2, -1)) if boxes is None else boxes[:, 2] > boxes[:, 0]
        return torch.zeros(count, 2, device=device), present
    if boxes is None:
        boxes, present = masks_to_boxes(masks)
    else:
        present = boxes[:, 2] > boxes[:, 0]
    cap = (canvas_w + frame.width, canvas_h + frame.height)  # no useful move is larger
    limits = _pixel_range(shift_range, (frame.height, frame.width), cap)
    in_frame = boxes - torch.tensor([frame.left, frame.top] * 2, device=device)
    if policy == "grid":
        return _grid(in_frame, present, frame, stride, grid_index, limits)
    if policy == "uniform" and min_inside >= 1.0:
        return _uniform_inside(in_frame, present, frame, limits, generator)
    # Moves that can keep any pixel of the canvas in the frame.
    x_lo, x_hi = (
        max(limits[0], frame.left - canvas_w + 1),
        min(limits[1], frame.left + frame.width - 1),
    )
    y_lo, y_hi = (
        max(limits[2], frame.top - canvas_h + 1),
        min(limits[3], frame.top + frame.height - 1),
    )
    if x_lo > x_hi or y_lo > y_hi:
        return torch.zeros(count, 2, device=device), torch.zeros_like(present)
    dx = torch.arange(x_lo, x_hi + 1, device=device)
    dy = torch.arange(y_lo, y_hi + 1, device=device)
    if min_inside >= 1.0:  # fully inside the frame <=> the box is: two 1-D conditions
        fit_x = (dx[None] >= -in_frame[:, :1]) & (dx[None] <= frame.width - in_frame[:, 2:3])
        fit_y = (dy[None] >= -in_frame[:, 1:2]) & (dy[None] <= frame.height - in_frame[:, 3:4])
        weight = (fit_y[:, :, None] & fit_x[:, None, :]).float()
    else:
        area = mask_area(masks).to(torch.float32).view(-1, 1, 1)
        weight = (_inside_counts(masks, frame, dx, dy) >= min_inside * area - 1e-4).float()
    blocked = occupied if policy == "non_overlapping" else None
    if policy == "region":
        blocked = ~region  # type: ignore[operator]
    if blocked is not None:
        blocked = pad_to_canvas(blocked, frame, (canvas_h, canvas_w))
        weight = weight * (_overlap_counts(masks, blocked, dx, dy) < 0.5)
    if policy == "density":
        padded = pad_to_canvas(density, frame, (canvas_h, canvas_w))  # type: ignore[arg-type]
        weight = weight * _density_at_centres(padded, boxes, dx, dy)
    if policy == "context":
        weight = context_weights(masks, context, frame, dx, dy, weight > 0)  # type: ignore[arg-type]
    return _draw_from_maps(weight, dx, dy, present, generator)


def _pixel_range(
    shift_range: ShiftRange | None, image_size: tuple[int, int], cap: tuple[int, int]
) -> tuple[int, int, int, int]:
    """``(x_lo, x_hi, y_lo, y_hi)``: whole-pixel bounds of the moves, within ``[-cap, cap]``
    per axis (a larger move takes any object off the frame)."""
    if shift_range is None:
        return -cap[0], cap[0], -cap[1], cap[1]
    pixels = shift_range.in_pixels(image_size)
    bounds = []
    for axis, limit in ((pixels.x, cap[0]), (pixels.y, cap[1])):
        low = min(max(math.ceil(axis.low - 1e-9), -limit), limit + 1)
        high = max(min(math.floor(axis.high + 1e-9), limit), -limit - 1)
        bounds += [low, high]
    return bounds[0], bounds[1], bounds[2], bounds[3]


def _uniform_inside(
    boxes: torch.Tensor,
    present: torch.Tensor,
    frame: Frame,
    limits: tuple[int, int, int, int],
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fully-inside uniform moves: each axis is an interval, no map needed (frame boxes)."""
    x_lo, x_hi, y_lo, y_hi = limits
    low = torch.stack([(-boxes[:, 0]).clamp(min=x_lo), (-boxes[:, 1]).clamp(min=y_lo)], -1)
    high = torch.stack(
        [(frame.width - boxes[:, 2]).clamp(max=x_hi), (frame.height - boxes[:, 3]).clamp(max=y_hi)],
        -1,
    )
    found = present & (low <= high).all(-1)
    source = generator.device if generator is not None else boxes.device
    unit = torch.rand(boxes.shape[0], 2, generator=generator, device=source).to(boxes.device)
    shift = torch.floor(low + unit * (high - low + 1)).minimum(high)
    return torch.where(found[:, None], shift, 0.0), found


def _grid(
    boxes: torch.Tensor,
    present: torch.Tensor,
    frame: Frame,
    stride: int,
    grid_index: torch.Tensor | None,
    limits: tuple[int, int, int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The box corner on the lattice of multiples of ``stride`` (frame boxes)."""
    count = boxes.shape[0]
    size = boxes[:, 2:] - boxes[:, :2]
    cells_x = torch.div(frame.width - size[:, 0], stride, rounding_mode="floor") + 1
    cells_y = torch.div(frame.height - size[:, 1], stride, rounding_mode="floor") + 1
    if grid_index is None:
        grid_index = torch.arange(count, device=boxes.device)
    cell = grid_index.to(boxes.device).remainder((cells_x * cells_y).clamp(min=1).long())
    corner = torch.stack(
        [cell.remainder(cells_x.long()), torch.div(cell, cells_x.long(), rounding_mode="floor")], -1
    )
    shift = corner.to(torch.float32) * stride - boxes[:, :2]
    x_lo, x_hi, y_lo, y_hi = limits
    in_range = (
        (shift[:, 0] >= x_lo)
        & (shift[:, 0] <= x_hi)
        & (shift[:, 1] >= y_lo)
        & (shift[:, 1] <= y_hi)
    )
    found = present & in_range & (cells_x > 0) & (cells_y > 0)
    return torch.where(found[:, None], shift, 0.0), found


def _inside_counts(
    masks: torch.Tensor, frame: Frame, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: object pixels in the frame after each move.

    The pixels that land in the frame are those in the canvas rectangle
    ``[left - dx, left + W - dx) x [top - dy, top + H - dy)``: one lookup per move in the
    object's integral image.
    """
    count, height, width = masks.shape
    integral = torch.zeros(count, height + 1, width + 1, device=masks.device)
    integral[:, 1:, 1:] = masks.to(torch.float32).cumsum(1).cumsum(2)  # exact below 2**24
    c0 = (frame.left - dx).clamp(0, width)
    c1 = (frame.left + frame.width - dx).clamp(0, width)
    r0 = (frame.top - dy).clamp(0, height)
    r1 = (frame.top + frame.height - dy).clamp(0, height)
    rows0, rows1 = integral[:, r0], integral[:, r1]  # (M, Y, W + 1)
    return rows1[:, :, c1] - rows1[:, :, c0] - rows0[:, :, c1] + rows0[:, :, c0]


def _overlap_counts(
    masks: torch.Tensor, blocked: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: blocked pixels each move would cover."""
    return correlate(masks.to(torch.float32), blocked.to(torch.float32), dx, dy)


def _density_at_centres(
    density: torch.Tensor, boxes: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: density at the object's moved box centre (0 off the canvas)."""
    height, width = density.shape[-2:]
    cx = torch.floor((boxes[:, 0] + boxes[:, 2]) / 2).long()
    cy = torch.floor((boxes[:, 1] + boxes[:, 3]) / 2).long()
    x = cx[:, None] + dx[None]
    y = cy[:, None] + dy[None]
    x_ok, y_ok = (x >= 0) & (x < width), (y >= 0) & (y < height)
    rows = density.gather(1, y.clamp(0, height - 1)[:, :, None].expand(-1, -1, width))
    values = rows.gather(2, x.clamp(0, width - 1)[:, None, :].expand(-1, rows.shape[1], -1))
    return values.float() * (y_ok[:, :, None] & x_ok[:, None, :])


def _draw_from_maps(
    weight: torch.Tensor,
    dx: torch.Tensor,
    dy: torch.Tensor,
    present: torch.Tensor,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    flat = weight.flatten(1)
    found = present & (flat.amax(-1) > 0)
    # Inverse-CDF draw (cheaper than torch.multinomial on long rows); rows without any valid
    # move are discarded afterwards.
    cumulative = flat.cumsum(-1)
    source = generator.device if generator is not None else flat.device
    unit = torch.rand(flat.shape[0], 1, generator=generator, device=source)
    target = unit.to(flat.device) * cumulative[:, -1:]
    choice = torch.searchsorted(cumulative, target, right=True)[:, 0].clamp(max=flat.shape[1] - 1)
    shift = torch.stack([dx[choice.remainder(dx.numel())], dy[choice // dx.numel()]], -1)
    return torch.where(found[:, None], shift.to(torch.float32), 0.0), found
