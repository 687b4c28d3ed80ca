"""The anti-aliased exact paste's halo, with work proportional to the pasted objects' boxes.

:func:`~shiftaug.functional.blend_images`' mode ``"antialias"`` copies an object's pixels and
mixes every pixel next to it with the mean colour of its ``k`` neighbours in the object, at
opacity ``k / 18``. Finding those halo pixels over whole frames costs a pass over ``N * H * W``
bytes per round whatever the objects' size. Here each pasted object gets a window: its box
(as kept in the frame) with two pixels around it, laid out flat, all entries of all rounds
together. Its membership (the object's mask moved there) is read once from the source masks;
3x3 neighbour counts are sums of that flat array at offsets ``+-1`` (same row) and ``+-w``
(the window's width, the rows above and below). Only the one-pixel ring around the box can be
halo, and its neighbours all lie inside the window, so no count needs a frame test. The
visible pixels are pasted first, in one copy; a halo pixel then only matters where no later
round pasted, and the halos are mixed round by round.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["paste_halos", "runs"]

# 3x3 neighbourhood offsets (dy, dx) + 1, row-major: the order blend_images sums colours in.
_WINDOW_AT = [(oy, ox) for oy in range(3) for ox in range(3)]
_NEVER = torch.iinfo(torch.int64).max  # a column bound no pixel reaches


def paste_halos(
    out: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    top: torch.Tensor,
    kept: tuple[torch.Tensor, torch.Tensor],
    moves: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
) -> None:
    """Mix the soft halo of :func:`~shiftaug.functional.blend_images`' mode ``"antialias"``
    around every pasted object into ``out`` (in place), the visible pasted pixels being there.

    Pasting round by round leaves each pixel with the last round that pasted it, then the
    halos of the later rounds, in order: so a halo pixel is mixed only where no later round
    pasted, round by round, with what that paste (or the canvas) and earlier halos left.

    ``top``: ``(N, H, W)`` the last round that pasted each pixel, -1 where none did;
    ``kept``: ``(low (E, 2), size (E, 2))`` each entry's moved box as kept in the frame (xy,
    zero size for entries that paste nothing); ``moves``: ``(which, move, image_of)`` per entry
    ``e = n * J + j``: flat object index, ``(dx, dy)`` and image.
    """
    which, _, image_of = moves
    rounds = which.shape[0] // max(top.shape[0], 1)
    if not rounds:
        return
    channels, height, width = out.shape[-3:]
    plane = height * width
    entry, y, x, known, inside, origin = _halo(source_masks, kept, moves, rounds, (height, width))
    image = image_of.index_select(0, entry)
    at = image * plane + y * width + x
    live = torch.nonzero(entry.remainder(rounds) > top.view(-1).take(at)).flatten()
    entry, y, x, known, inside, image, origin = (
        t.index_select(0, live) for t in (entry, y, x, known, inside, image, origin)
    )
    colour, alpha = _colours(source, entry, origin, (known, inside), which, source_masks.shape[1])
    step = torch.arange(channels, device=out.device) * plane
    destination = (image * (channels * plane) + y * width + x)[:, None] + step
    sizes = torch.bincount(entry.remainder(rounds), minlength=rounds).tolist()
    flat_out = out.view(-1)
    halos = zip(*(torch.split(t, sizes) for t in (destination, colour, alpha)), strict=True)
    for dst, ext, opacity in halos:  # in order: a pixel may be in the halo of several rounds
        if dst.numel():
            under = flat_out.index_select(0, dst.flatten()).view(-1, channels)
            mixed = torch.lerp(under.to(colour.dtype), ext, opacity)
            if not out.dtype.is_floating_point:
                mixed = mixed.round_().clamp_(0, 255)
            flat_out.index_copy_(0, dst.flatten(), mixed.to(out.dtype).flatten())


def _colours(
    source: torch.Tensor,
    entry: torch.Tensor,
    origin: torch.Tensor,
    neighbours: tuple[torch.Tensor, torch.Tensor],
    which: torch.Tensor,
    slots: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The halo's ``(colour (Q, C), alpha (Q, 1))``: the mean source colour of the ``known``
    object pixels among the 3x3 neighbours (``inside (Q, 9)``), summed in row-major order as
    :func:`~shiftaug.functional._blend.halo` does, and opacity ``known / 18``. ``origin``: each
    halo pixel's place in the flat source masks (``which * H * W + y * W + x``, moved back)."""
    known, inside = neighbours
    channels, height, width = source.shape[-3:]
    plane = height * width
    compute = torch.float64 if source.dtype == torch.float64 else torch.float32
    object_of = which.index_select(0, entry)
    picture = torch.div(object_of, max(slots, 1), rounding_mode="floor")
    first = picture * (channels * plane) + origin - object_of * plane  # channel 0 of the image
    window = torch.tensor(_WINDOW_AT, device=source.device) - 1
    step = torch.arange(channels, device=source.device) * plane
    # Object neighbours lie in the object's own frame; the others are read anywhere, then zeroed.
    # Channels first (C, Q, 9): broadcasting over the outer dimension is the fast one.
    src = step[:, None, None] + (first[:, None] + window[:, 0] * width + window[:, 1])
    value = source.reshape(-1).take(src.clamp_(0, max(source.numel() - 1, 0)))
    values = value.to(compute).masked_fill_(~inside, 0.0)
    total = torch.zeros(channels, entry.shape[0], dtype=compute, device=source.device)
    for k in range(len(_WINDOW_AT)):
        total = total + values[..., k]
    return total.t() / known[:, None].to(compute), (known.to(compute) / 18)[:, None]


def _halo(
    source_masks: torch.Tensor,
    kept: tuple[torch.Tensor, torch.Tensor],
    moves: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    rounds: int,
    frame: tuple[int, int],
) -> tuple[torch.Tensor, ...]:
    """The halo pixels of every entry, grouped by round: ``(entry, y, x, known, inside,
    origin)``, with ``known`` the count of object pixels among the 3x3 neighbours (1-8),
    ``inside`` ``(Q, 9)`` bool which of them (row-major) are object pixels and ``origin`` the
    pixel's place in the flat source masks, moved back (possibly outside the frame)."""
    low, size = kept
    which, move, _ = moves
    height, width = frame
    device = low.device
    # Entries round-major (entry e = n * rounds + j), so the halo comes out grouped by round.
    order = torch.arange(which.shape[0], device=device).view(-1, rounds).t().flatten()
    live = order.index_select(0, torch.nonzero((size.index_select(0, order) > 0).all(-1)).flatten())
    corner = low.index_select(0, live) - 2  # windows: the kept box and 2 pixels around it
    span = size.index_select(0, live) + 4
    grid = _enumerate(span[:, 0], span[:, 1], device)
    row_of, row_y, column, row, row_width = grid
    # Object pixels: in the kept box (window columns and rows [2, span - 2)), under the mask.
    start = corner - move.index_select(0, live)  # the window's first pixel in the source
    first = which.index_select(0, live) * (height * width) + start[:, 1] * width + start[:, 0]
    source_row = first.index_select(0, row_of) + row_y * width
    end_y = span[:, 1].index_select(0, row_of) - 2
    box_row = torch.where((row_y >= 2) & (row_y < end_y), 2, _NEVER)
    width_at = row_width.index_select(0, row)
    member = (column >= box_row.index_select(0, row)) & (column < width_at - 2)
    masks = source_masks.reshape(-1)
    origin = source_row.index_select(0, row) + column  # in the flat source masks
    member &= masks.take(origin.clamp(0, max(masks.numel() - 1, 0)))
    count = _count(member, width_at)
    # Candidates: the ring one pixel around the box, whose neighbours all lie in the window,
    # inside the frame, not object pixels themselves.
    x0 = corner[:, 0].index_select(0, row_of)
    y = corner[:, 1].index_select(0, row_of) + row_y
    ring = (row_y >= 1) & (row_y <= end_y) & (y >= 0) & (y < height)
    low_x = torch.where(ring, torch.clamp(-x0, min=1), _NEVER)
    high_x = torch.minimum(row_width - 1, width - x0)
    halo = (column >= low_x.index_select(0, row)) & (column < high_x.index_select(0, row))
    found = torch.nonzero(halo & ~member & (count > 0)).flatten()
    found_row = row.index_select(0, found)
    window = torch.tensor(_WINDOW_AT, device=device) - 1
    near = found[:, None] + window[:, 0] * width_at.index_select(0, found)[:, None] + window[:, 1]
    return (
        live.index_select(0, row_of.index_select(0, found_row)), y.index_select(0, found_row),
        x0.index_select(0, found_row) + column.index_select(0, found),
        count.index_select(0, found), member.take(near), origin.index_select(0, found),
    )  # fmt: skip


def _count(member: torch.Tensor, width_at: torch.Tensor) -> torch.Tensor:
    """3x3 sums of the flat windows' ``member`` (``(P,)`` bool; ``width_at``: the width of each
    pixel's window): a row sum (offsets +-1), then the rows above and below (+-the width).
    Right for pixels at least one pixel from their window's edge."""
    beside = F.pad(member.view(torch.uint8), (1, 1))
    across = beside[:-2] + beside[1:-1] + beside[2:]
    here = torch.arange(member.shape[0], device=member.device)
    above = across.take((here - width_at).clamp(min=0))
    below = across.take((here + width_at).clamp(max=max(member.shape[0] - 1, 0)))
    return above + across + below


def _enumerate(
    widths: torch.Tensor, heights: torch.Tensor, device: torch.device
) -> tuple[torch.Tensor, ...]:
    """Every pixel of windows ``widths x heights`` (``(E,)`` each), row-major, flat.

    Returns ``row_of (R,)`` the window of each row, ``row_y (R,)`` the row within its window,
    ``column (P,)`` and ``row (P,)`` of each pixel, and ``row_width (R,)``.
    """
    row_of = runs(heights, device)
    row_y = torch.arange(row_of.shape[0], device=device) - _starts(heights).index_select(0, row_of)
    row_width = widths.index_select(0, row_of)
    row = runs(row_width, device)
    column = torch.arange(row.shape[0], device=device) - _starts(row_width).index_select(0, row)
    return row_of, row_y, column, row, row_width


def _starts(counts: torch.Tensor) -> torch.Tensor:
    """Where each run of :func:`runs` starts."""
    return torch.cumsum(counts, 0) - counts


def runs(counts: torch.Tensor, device: torch.device) -> torch.Tensor:
    """``i`` repeated ``counts[i]`` times (the output size is read on the host)."""
    return torch.repeat_interleave(torch.arange(counts.numel(), device=device), counts)
