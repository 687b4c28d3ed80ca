"""Whole-pixel shifts of ``(B, C, H, W)`` planes: exact copies, no arithmetic on pixel values."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._fill import fill_bits
from ._index import source_index

__all__ = [
    "BITS",
    "Windows",
    "as_bits",
    "interleaved",
    "plan_windows",
    "shift_general",
    "shift_interleaved",
    "shift_nearest",
    "source_coords",
    "take_windows",
    "use_windows",
]

# Same-size integer dtypes: floating-point pixels are copied and masked as these, bit-exactly
# (no NaN * 0, no -0.0, no quieting of signalling NaNs by half-precision gathers).
BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def shift_nearest(
    x: torch.Tensor,
    shift: torch.Tensor,
    padding_mode: str,
    fill: tuple[float, ...] | None,
    *,
    origin: int = 0,
    extra: int = 0,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integer shift of ``(B, C, H, W)`` by ``(B, 2)`` int64 shifts; exact copies only.

    The output covers canvas rows/columns ``origin .. H + extra + origin`` (``origin=-1,
    extra=1`` gives the one-pixel-larger canvas the bilinear kernel interpolates from). The
    zeros/constant fast path writes straight into ``out`` when given (callers copy otherwise).
    """
    rows, cols = source_coords(x, shift, origin, extra)
    if use_windows(x, padding_mode):
        plan = plan_windows(x.contiguous(), rows, cols)
        return take_windows(plan, 0, x.shape[0], fill, out=out)
    return shift_general(x, rows, cols, padding_mode, fill)


def interleaved(x: torch.Tensor, padding_mode: str, fill: tuple[float, ...] | None) -> bool:
    """Whether :func:`shift_interleaved` applies: a ``channels_last`` batch, zeros or one
    constant (per-channel constants and the other modes take the planar route)."""
    return (
        padding_mode in ("zeros", "constant")
        and (fill is None or len(fill) == 1)
        and x.shape[1] > 1
        and not x.is_contiguous()
        and x.is_contiguous(memory_format=torch.channels_last)
    )


def shift_interleaved(
    x: torch.Tensor,
    shift: torch.Tensor,
    padding_mode: str,
    fill: tuple[float, ...] | None,
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Zeros/constant shift of a ``channels_last`` ``(B, C, H, W)`` batch, without converting it.

    In memory a channels-last image is ``H`` rows of ``W * C`` values, the ``C`` values of a
    pixel side by side; moving ``dx`` pixels moves ``dx * C`` values. So it is shifted as
    ``(B, 1, H, W * C)`` planes by ``(dx * C, dy)``, and every vacated position is a whole
    pixel. ``out`` (channels-last contiguous) may receive the result.
    """
    batch, channels, height, width = x.shape
    rows = x.permute(0, 2, 3, 1).reshape(batch, 1, height, width * channels)
    step = torch.stack((shift[:, 0] * channels, shift[:, 1]), 1)
    target = None
    if out is not None and out.is_contiguous(memory_format=torch.channels_last):
        target = out.permute(0, 2, 3, 1).reshape(batch, 1, height, width * channels)
    result = shift_nearest(rows, step, padding_mode, fill, out=target)
    return result.view(batch, height, width, channels).permute(0, 3, 1, 2)


def as_bits(
    x: torch.Tensor, fill: tuple[float, ...] | None
) -> tuple[torch.Tensor, tuple[float, ...] | None]:
    """``x`` seen as same-size integers and ``fill`` as bit patterns, for exact copies.

    Floating-point data is moved as integers so the result is bit-identical to slicing (NaN
    payloads included). Not when autograd records the call: the copy is then a floating-point
    gather, which keeps every value but may quiet a float16/bfloat16 signalling NaN.
    """
    if not x.dtype.is_floating_point or (x.requires_grad and torch.is_grad_enabled()):
        return x, fill
    return x.view(BITS[x.element_size()]), fill_bits(fill, x.dtype) if fill else fill


def source_coords(
    x: torch.Tensor, shift: torch.Tensor, origin: int, extra: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Source row ``(B, H + extra)`` and column ``(B, W + extra)`` coordinates per sample."""
    height, width = x.shape[-2:]
    rows = torch.arange(origin, height + extra + origin, device=x.device) - shift[:, 1:2]
    cols = torch.arange(origin, width + extra + origin, device=x.device) - shift[:, 0:1]
    return rows, cols


def use_windows(x: torch.Tensor, padding_mode: str) -> bool:
    return (
        padding_mode in ("zeros", "constant")
        and not (x.requires_grad and torch.is_grad_enabled())
        and x.shape[0] * x.shape[1] >= 2
    )


def shift_general(
    x: torch.Tensor,
    rows: torch.Tensor,
    cols: torch.Tensor,
    padding_mode: str,
    fill: tuple[float, ...] | None,
) -> torch.Tensor:
    """Row gather (whole contiguous rows) then column gather; differentiable."""
    batch, channels, height, width = x.shape
    out_h, out_w = rows.shape[1], cols.shape[1]
    src_rows, valid_rows = source_index(rows, height, padding_mode)
    src_cols, valid_cols = source_index(cols, width, padding_mode)
    plane = torch.arange(batch * channels, device=x.device).view(batch, channels, 1)
    lin = (plane * height + src_rows[:, None, :]).reshape(-1)
    out = x.reshape(batch * channels * height, width).index_select(0, lin)
    out = out.view(batch, channels, out_h, width)
    out = out.gather(3, src_cols[:, None, None, :].expand(batch, channels, out_h, out_w))
    if valid_rows is None or valid_cols is None:
        return out
    valid = (valid_rows[:, :, None] & valid_cols[:, None, :]).unsqueeze(1)
    if not fill or len(fill) == 1:  # a Python scalar: no host-to-device copy (no sync)
        value = fill[0] if fill else 0
        return torch.where(valid, out, bool(value) if x.dtype == torch.bool else value)
    per_channel = torch.tensor(fill, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return torch.where(valid, out, per_channel)


@dataclass(frozen=True)
class Windows:
    """Plan of the zeros/constant fast path (see :func:`plan_windows`)."""

    x: torch.Tensor  # (B, C, H, W) contiguous source
    windows: torch.Tensor  # (L - out_w + 1, out_w) overlapping view of the flat source
    start: torch.Tensor  # (B * C * out_h,) window index of every output row
    keep: torch.Tensor  # (B, 1, out_h * out_w) 0/1 in the same-size integer dtype
    rows: torch.Tensor  # (B, out_h) source row of every output row (unclamped)
    cols: torch.Tensor  # (B, out_w) source column of every output column (unclamped)
    # Host copies of the first source row/column of the first and last sample, when the
    # coordinates live on the CPU (None on accelerators and under compilation).
    corners: tuple[int, int, int, int] | None


def plan_windows(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> Windows:
    """Zeros/constant fast path: one contiguous window copy per output row.

    Seen as one flat buffer, output row ``i`` of a plane is the ``out_w`` consecutive source
    elements starting at ``row_start(i - dy) - dx``: a row of an overlapping strided view, so the
    whole shift is one ``index_select`` of contiguous runs (memcpy speed) followed by an
    in-place mask. Windows that would run past either end of the buffer can only occur in the
    first and last plane; :func:`_fix_edge` redoes those two planes exactly.
    """
    batch, channels, height, width = x.shape
    out_w = cols.shape[1]
    flat = x.reshape(-1)
    total = flat.numel()
    src_rows = rows.clamp(0, height - 1)
    row_start = torch.add(cols[:, :1], src_rows, alpha=width)
    plane = torch.arange(0, total, height * width, device=x.device).view(batch, channels, 1)
    start = (plane + row_start[:, None, :]).clamp_(0, total - out_w)
    bits = BITS[x.element_size()]
    keep_rows = (rows == src_rows).to(bits)
    keep_cols = (cols == cols.clamp(0, width - 1)).to(bits)
    keep = torch.mul(keep_rows[:, :, None], keep_cols[:, None, :]).view(batch, 1, -1)
    corners = None
    if x.device.type == "cpu" and not torch.compiler.is_compiling():
        ends = [0, batch - 1]
        first_row, last_row = rows[ends, 0].tolist()
        first_col, last_col = cols[ends, 0].tolist()
        corners = (first_row, first_col, last_row, last_col)
    return Windows(
        x=x,
        windows=flat.as_strided((total - out_w + 1, out_w), (1, 1)),
        start=start.view(-1),
        keep=keep,
        rows=rows,
        cols=cols,
        corners=corners,
    )


def take_windows(
    plan: Windows,
    begin: int,
    end: int,
    fill: tuple[float, ...] | None,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Output samples ``begin:end`` of a window plan, masked, as ``(end - begin, C, h, w)``."""
    channels = plan.x.shape[1]
    out_h, out_w = plan.rows.shape[1], plan.cols.shape[1]
    start = plan.start[begin * channels * out_h : end * channels * out_h]
    if out is None:
        out = plan.windows.index_select(0, start)
    else:
        torch.index_select(plan.windows, 0, start, out=out.view(-1, out_w))
    out = out.view(end - begin, channels, out_h * out_w)
    _mask(out, plan.keep[begin:end], fill)
    out = out.view(end - begin, channels, out_h, out_w)
    if begin == 0:
        _fix_edge(plan, out, 0, 0)
    if end == plan.x.shape[0]:
        _fix_edge(plan, out, end - begin - 1, channels - 1)
    return out


def _fix_edge(plan: Windows, out: torch.Tensor, index: int, channel: int) -> None:
    """Recompute the valid part of one edge plane of ``out`` (output sample ``index``)."""
    sample = index if index == 0 else plan.x.shape[0] - 1
    height, width = plan.x.shape[-2:]
    if plan.corners is not None:
        # The coordinates are on the host: plain slicing of the one rectangle that is valid.
        first_row, first_col = plan.corners[:2] if index == 0 else plan.corners[2:]
        if first_col >= 0 and first_col + out.shape[-1] <= width:
            return  # the windows of this plane stay inside the row: nothing to fix
        dst_r, src_r = _overlap(first_row, out.shape[-2], height)
        dst_c, src_c = _overlap(first_col, out.shape[-1], width)
        if dst_r.stop > dst_r.start and dst_c.stop > dst_c.start:
            out[index, channel, dst_r, dst_c] = plan.x[sample, channel, src_r, src_c]
        return
    # On accelerators or under compilation: the general (gather) path, with no host sync.
    edge = shift_general(
        plan.x[sample : sample + 1, channel : channel + 1],
        plan.rows[sample : sample + 1],
        plan.cols[sample : sample + 1],
        "zeros",
        None,
    )
    valid = (plan.keep[sample, 0] != 0).view(out.shape[-2:])
    out[index, channel] = torch.where(valid, edge[0, 0], out[index, channel])


def _overlap(first: int, length: int, size: int) -> tuple[slice, slice]:
    """Output and source slices where source coordinates ``first .. first + length`` are valid."""
    lo = min(max(-first, 0), length)
    hi = max(min(size - first, length), lo)
    return slice(lo, hi), slice(first + lo, first + hi)


def _mask(out: torch.Tensor, keep: torch.Tensor, fill: tuple[float, ...] | None) -> None:
    """Set ``out`` to ``fill`` where ``keep`` is 0, in place and bit-exactly.

    For zeros, the data (as same-size integers) is multiplied by the 0/1 mask: kept values are
    multiplied by exactly one, and a masked NaN, inf or -0.0 cannot leak through (``NaN * 0`` is
    NaN in floating point). Constants are written by ``masked_fill_``.
    """
    bits = out.view(keep.dtype)
    if not fill or not any(fill):
        bits.mul_(keep)
        return
    drop = keep == 0
    if len(fill) == 1:
        out.masked_fill_(drop, fill[0])
        return
    for channel, value in enumerate(fill):
        out[:, channel].masked_fill_(drop[:, 0], value)
