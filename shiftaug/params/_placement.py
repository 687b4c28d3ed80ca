"""Placement policies: where an object may go, drawn for many objects at once.

A policy turns the mask of each object (at its current place) into a map of valid whole-pixel
moves ``(dx, dy)`` and draws one of them. Maps are built for all objects together: frame and
range constraints from integral images, overlap with other objects and regions by FFT
cross-correlation, and the draw is one :func:`torch.multinomial` over the flattened maps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from .._checks import check_choice, check_tensor, describe
from ..functional._boxes import masks_to_boxes
from ..functional._placement import mask_any, mask_area
from ._ranges import ShiftRange
from ._translate import resolve_shift_range

__all__ = ["POLICIES", "PlacementParams", "grid_shifts", "sample_positions"]

POLICIES = ("uniform", "same", "non_overlapping", "region", "density", "grid")


@dataclass(frozen=True)
class PlacementParams:
    """Parameters of one :class:`~shiftaug.RandomRelocate` or :class:`~shiftaug.CopyPaste` call.

    Objects are pasted in rounds ``j = 0..J-1``; entry ``[n, j]`` describes what image ``n``
    received in round ``j``.

    Attributes:
        index: ``(N, J)`` int64 flat index ``b * K + k`` of the object (slot ``k`` of source image
            ``b``); for relocation ``b == n``.
        shift: ``(N, J, 2)`` float32 whole-pixel moves ``(dx, dy)``.
        scale: ``(N, J)`` float32 scale factors (1 = unscaled).
        requested: ``(N, J)`` bool, an object was selected for this entry.
        placed: ``(N, J)`` bool, it was actually moved/pasted. ``requested & ~placed`` marks
            objects for which the policy found no valid position: they were left unchanged.
        image_size: ``(H, W)`` the parameters were drawn for.
        slots: ``K``, the number of mask slots per source image.
    """

    index: torch.Tensor
    shift: torch.Tensor
    scale: torch.Tensor
    requested: torch.Tensor
    placed: torch.Tensor
    image_size: tuple[int, int]
    slots: int

    def __len__(self) -> int:
        return self.index.shape[0]

    @property
    def failed(self) -> torch.Tensor:
        """``(N, J)`` bool: selected objects that found no valid position (not moved)."""
        return self.requested & ~self.placed

    def to(self, device: torch.device | str) -> PlacementParams:
        """The same parameters on ``device``."""
        return replace(
            self, index=self.index.to(device), shift=self.shift.to(device),
            scale=self.scale.to(device), requested=self.requested.to(device),
            placed=self.placed.to(device),
        )  # fmt: skip


def sample_positions(
    masks: torch.Tensor,
    *,
    policy: str = "uniform",
    shift_px: object = None,
    shift_frac: object = None,
    min_inside: float = 1.0,
    occupied: torch.Tensor | None = None,
    region: torch.Tensor | None = None,
    density: torch.Tensor | None = None,
    stride: int = 8,
    grid_index: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw a whole-pixel move for each object according to a placement policy.

    Policies:

    - ``"uniform"``: uniform over all valid moves.
    - ``"same"``: no move (Simple Copy-Paste pastes at the same location).
    - ``"non_overlapping"``: uniform over the moves where the object covers no ``occupied``
      pixel.
    - ``"region"``: uniform over the moves that keep the object inside ``region``.
    - ``"density"``: moves weighted by ``density`` at the object's new box centre.
    - ``"grid"``: deterministic: the object's box corner on the lattice of multiples of
      ``stride``; object ``m`` takes lattice cell ``grid_index[m]`` (modulo the cell count),
      see :func:`grid_shifts`.

    A move is valid when it lies in the shift range (whole pixels; default: anywhere), keeps at
    least ``min_inside`` of the object's pixels in the frame, and satisfies the policy.

    Args:
        masks: ``(M, H, W)`` bool, one object per row at its current position.
        policy: one of :data:`POLICIES`.
        shift_px: move range in pixels, the grammar of :class:`~shiftaug.RandomTranslate`.
        shift_frac: the same as a fraction of the image size. At most one of the two.
        min_inside: fraction of the object's pixels that must stay in the frame, in ``(0, 1]``.
        occupied: ``(M, H, W)`` bool pixels the object may not cover (``"non_overlapping"``).
        region: ``(M, H, W)`` bool where the object must lie (``"region"``).
        density: ``(M, H, W)`` non-negative weights for the new box centre (``"density"``).
        stride: lattice step in pixels for ``"grid"``.
        grid_index: ``(M,)`` int64 lattice cells for ``"grid"`` (default ``0..M-1``).
        generator: random source.

    Returns:
        ``(shift, found)``: ``(M, 2)`` float32 moves ``(dx, dy)`` and ``(M,)`` bool, False where
        no valid move exists (the shift is then 0).

    Example:
        >>> import torch
        >>> from shiftaug.params import sample_positions
        >>> masks = torch.zeros(2, 16, 16, dtype=torch.bool)
        >>> masks[:, 2:6, 2:6] = True
        >>> shift, found = sample_positions(masks, shift_px=3, generator=torch.Generator().manual_seed(0))
        >>> bool(found.all()), bool((shift.abs() <= 3).all())
        (True, True)
    """
    masks = check_tensor("masks", masks, ndim=3, layout="(M, H, W)", dtypes=(torch.bool,))
    check_choice("policy", policy, POLICIES)
    shift_range = resolve_shift_range(shift_px, shift_frac, allow_none=True)
    _check_fraction("min_inside", min_inside)
    shape = tuple(masks.shape)
    occupied = _check_map("occupied", occupied, shape, torch.bool, policy == "non_overlapping")
    region = _check_map("region", region, shape, torch.bool, policy == "region")
    density = _check_map("density", density, shape, None, policy == "density")
    if density is not None and (not density.is_floating_point() or bool((density < 0).any())):
        raise ValueError(f"`density` must hold non-negative floats, but got {describe(density)}.")
    if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
        raise ValueError(f"`stride` must be an int >= 1, but got {describe(stride)}.")
    return draw_positions(
        masks, policy, shift_range, min_inside, occupied=occupied, region=region,
        density=density, stride=stride, grid_index=grid_index, generator=generator,
    )  # fmt: skip


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
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`sample_positions` without argument checks (for transforms that checked once).

    ``boxes`` are the masks' ``(M, 4)`` boxes if the caller has them (empty masks: zeros); the
    ``"uniform"`` (fully inside), ``"grid"`` and ``"same"`` policies then never read ``masks``.
    """
    count, height, width = masks.shape
    device = masks.device
    if policy == "same" or count == 0:
        present = mask_any(masks, (-2, -1)) if boxes is None else boxes[:, 2] > boxes[:, 0]
        return torch.zeros(count, 2, device=device), present
    if boxes is None:
        boxes, present = masks_to_boxes(masks)
    else:
        present = boxes[:, 2] > boxes[:, 0]
    (x_lo, x_hi), (y_lo, y_hi) = _pixel_range(shift_range, (height, width))
    if policy == "grid":
        return _grid(boxes, present, (height, width), stride, grid_index, (x_lo, x_hi, y_lo, y_hi))
    if policy == "uniform" and min_inside >= 1.0:
        return _uniform_inside(boxes, present, (height, width), (x_lo, x_hi, y_lo, y_hi), generator)
    x_lo, x_hi = max(x_lo, -(width - 1)), min(x_hi, width - 1)
    y_lo, y_hi = max(y_lo, -(height - 1)), min(y_hi, height - 1)
    if x_lo > x_hi or y_lo > y_hi:
        return torch.zeros(count, 2, device=device), torch.zeros_like(present)
    dx = torch.arange(x_lo, x_hi + 1, device=device)
    dy = torch.arange(y_lo, y_hi + 1, device=device)
    if min_inside >= 1.0:  # fully inside the frame <=> the box is: two 1-D conditions
        fit_x = (dx[None] >= -boxes[:, :1]) & (dx[None] <= width - boxes[:, 2:3])
        fit_y = (dy[None] >= -boxes[:, 1:2]) & (dy[None] <= height - boxes[:, 3:4])
        weight = (fit_y[:, :, None] & fit_x[:, None, :]).float()
    else:
        area = mask_area(masks).to(torch.float32).view(-1, 1, 1)
        weight = (_inside_counts(masks, dx, dy) >= min_inside * area - 1e-4).float()
    blocked = occupied if policy == "non_overlapping" else None
    if policy == "region":
        blocked = ~region  # type: ignore[operator]
    if blocked is not None:
        weight = weight * (_overlap_counts(masks, blocked, dx, dy) < 0.5)
    if policy == "density":
        weight = weight * _density_at_centres(density, boxes, dx, dy)  # type: ignore[arg-type]
    return _draw_from_maps(weight, dx, dy, present, generator)


def grid_shifts(
    box: torch.Tensor | tuple[float, float, float, float],
    image_size: tuple[int, int],
    stride: int,
) -> torch.Tensor:
    """All moves putting an ``xyxy`` box's corner on the lattice of multiples of ``stride``.

    The box stays inside the frame; cells are ordered row by row (y outer, x inner). The
    ``"grid"`` policy uses the same order, so the harness can measure a model at every cell.

    Returns:
        ``(G, 2)`` float32 moves ``(dx, dy)``.

    Example:
        >>> from shiftaug.params import grid_shifts
        >>> grid_shifts((2, 2, 6, 6), (8, 8), stride=2)
        tensor([[-2., -2.],
                [ 0., -2.],
                [ 2., -2.],
                [-2.,  0.],
                [ 0.,  0.],
                [ 2.,  0.],
                [-2.,  2.],
                [ 0.,  2.],
                [ 2.,  2.]])
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    height, width = image_size
    xs = torch.arange(0, int(width - (x1 - x0)) + 1, stride, dtype=torch.float32) - x0
    ys = torch.arange(0, int(height - (y1 - y0)) + 1, stride, dtype=torch.float32) - y0
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.flatten(), gy.flatten()], -1)


def _pixel_range(
    shift_range: ShiftRange | None, image_size: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    height, width = image_size
    if shift_range is None:
        return (-width, width), (-height, height)
    pixels = shift_range.in_pixels(image_size)
    axes = []
    for axis in (pixels.x, pixels.y):
        axes.append((math.ceil(axis.low - 1e-9), math.floor(axis.high + 1e-9)))
    return axes[0], axes[1]


def _uniform_inside(
    boxes: torch.Tensor,
    present: torch.Tensor,
    image_size: tuple[int, int],
    limits: tuple[int, int, int, int],
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fully-inside uniform moves: each axis is an interval, no map needed."""
    height, width = image_size
    x_lo, x_hi, y_lo, y_hi = limits
    low = torch.stack([(-boxes[:, 0]).clamp(min=x_lo), (-boxes[:, 1]).clamp(min=y_lo)], -1)
    high = torch.stack(
        [(width - boxes[:, 2]).clamp(max=x_hi), (height - boxes[:, 3]).clamp(max=y_hi)], -1
    )
    found = present & (low <= high).all(-1)
    source = generator.device if generator is not None else boxes.device
    unit = torch.rand(boxes.shape[0], 2, generator=generator, device=source).to(boxes.device)
    shift = torch.floor(low + unit * (high - low + 1)).minimum(high)
    return torch.where(found[:, None], shift, 0.0), found


def _grid(
    boxes: torch.Tensor,
    present: torch.Tensor,
    image_size: tuple[int, int],
    stride: int,
    grid_index: torch.Tensor | None,
    limits: tuple[int, int, int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    height, width = image_size
    count = boxes.shape[0]
    size = boxes[:, 2:] - boxes[:, :2]
    cells_x = torch.div(width - size[:, 0], stride, rounding_mode="floor") + 1
    cells_y = torch.div(height - size[:, 1], stride, rounding_mode="floor") + 1
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


def _inside_counts(masks: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: object pixels still in the frame after each move.

    The pixels that stay are those in the source rectangle ``[-dx, W - dx) x [-dy, H - dy)``:
    one lookup per move in the object's integral image.
    """
    count, height, width = masks.shape
    integral = torch.zeros(count, height + 1, width + 1, device=masks.device)
    integral[:, 1:, 1:] = masks.to(torch.float32).cumsum(1).cumsum(2)  # exact below 2**24
    c0, c1 = (-dx).clamp(0, width), (width - dx).clamp(0, width)
    r0, r1 = (-dy).clamp(0, height), (height - dy).clamp(0, height)
    rows0, rows1 = integral[:, r0], integral[:, r1]  # (M, Y, W + 1)
    total = rows1[:, :, c1] - rows1[:, :, c0] - rows0[:, :, c1] + rows0[:, :, c0]
    return total.to(torch.float32)


def _overlap_counts(
    masks: torch.Tensor, blocked: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: blocked pixels each move would cover (FFT cross-correlation)."""
    height, width = masks.shape[-2:]
    size = (2 * height, 2 * width)
    obj = torch.fft.rfft2(masks.to(torch.float32), s=size)
    other = torch.fft.rfft2(blocked.to(torch.float32), s=size)
    corr = torch.fft.irfft2(obj.conj() * other, s=size)  # corr[d] = sum_p obj(p) blocked(p + d)
    rows, cols = dy.remainder(size[0]), dx.remainder(size[1])
    return corr[:, rows][:, :, cols]


def _density_at_centres(
    density: torch.Tensor, boxes: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor
) -> torch.Tensor:
    """``(M, len(dy), len(dx))``: density at the object's moved box centre (0 off the frame)."""
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


def _check_fraction(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ValueError(f"`{name}` must be a number in (0, 1], but got {describe(value)}.")


def _check_map(
    name: str, value: object, shape: tuple[int, ...], dtype: torch.dtype | None, required: bool
) -> torch.Tensor | None:
    if value is None:
        if required:
            raise ValueError(f"`{name}` must be given for this policy, but got None.")
        return None
    tensor = check_tensor(name, value, ndim=3, layout="(M, H, W)")
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"`{name}` must have dtype {dtype}, but got {tensor.dtype}.")
    if tuple(tensor.shape) != shape:
        raise ValueError(f"`{name}` must have shape {shape}, but got {tuple(tensor.shape)}.")
    return tensor
