"""``translate_image``: exact integer and sub-pixel translation of image batches."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .._checks import check_choice, check_tensor, describe
from ._index import PADDING_MODES, source_index
from ._shift import as_shift, broadcast_shift
from ._slicing import shift_by_slicing

__all__ = ["IMAGE_DTYPES", "INTERPOLATIONS", "translate_image"]

IMAGE_DTYPES = (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64)
INTERPOLATIONS = ("nearest", "bilinear")
# Same-size integer dtypes used to mask floating-point images bit-exactly (no NaN * 0, no -0.0).
_BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
# Sub-pixel work on CPU is done in chunks of about this many bytes, so the intermediates stay
# in cache and are recycled by the allocator instead of being page-faulted in afresh each call.
_CHUNK_BYTES = 1 << 22

Fill = float | int | Sequence[float] | torch.Tensor


def translate_image(
    image: torch.Tensor,
    shift: torch.Tensor | Sequence[float] | Sequence[Sequence[float]],
    *,
    padding_mode: str = "zeros",
    fill: Fill = 0.0,
    interpolation: str = "nearest",
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Translate images by per-sample ``(dx, dy)`` pixel shifts.

    ``+dx`` moves content right, ``+dy`` moves it down. With ``interpolation="nearest"`` shifts
    are rounded (half to even, as :func:`torch.round`) and the result is bit-identical to plain
    slicing: pixels are copied, never resampled. With ``"bilinear"`` the shift may be fractional;
    pixels outside the image take the value the padding mode gives them, an integer shift gives
    exactly the ``nearest`` result (for finite images), and the output is differentiable with
    respect to the image and the shift.

    Args:
        image: ``(..., C, H, W)`` images; uint8, float16, bfloat16, float32 or float64.
        shift: ``(*batch, 2)`` shifts in pixels, ``(dx, dy)`` last; ``batch`` broadcasts against
            ``image.shape[:-3]`` (``(N, 2)`` for ``(N, C, H, W)``, ``(2,)`` for one image,
            ``(B, 1, 2)`` for ``(B, T, C, H, W)`` video). A list or tuple is accepted too.
        padding_mode: what appears where no source pixel exists: ``"zeros"``, ``"constant"``
            (``fill``), ``"reflect"``, ``"symmetric"``, ``"replicate"`` or ``"circular"``
            (equals :func:`torch.roll` and inverts exactly). Every mode is defined for shifts of
            any size; see ``docs/conventions.md``.
        fill: constant for ``padding_mode="constant"``: one number or one per channel, in the
            image's value range (integral for uint8).
        interpolation: ``"nearest"`` (exact, integer) or ``"bilinear"`` (sub-pixel).
        out: optional contiguous tensor of the output's shape, dtype and device to write into
            (reusing a buffer saves allocating, and on CPU page-faulting, a fresh output every
            call); it must not share memory with ``image``. Not differentiable.

    Returns:
        The translated images, shape ``(*broadcast(batch, image.shape[:-3]), C, H, W)``, same
        dtype and device as ``image`` (``out`` itself when given). The input is never modified.

    Shape:
        - image: ``(..., C, H, W)``
        - shift: ``(*batch, 2)``
        - output: ``(..., C, H, W)``

    Example:
        >>> import torch
        >>> from shiftaug.functional import translate_image
        >>> x = torch.arange(9.0).reshape(1, 1, 3, 3)
        >>> translate_image(x, torch.tensor([[1, 0]]))
        tensor([[[[0., 0., 1.],
                  [0., 3., 4.],
                  [0., 6., 7.]]]])
        >>> torch.equal(translate_image(x, (2, -1), padding_mode="circular"),
        ...             torch.roll(x, (-1, 2), dims=(-2, -1)))
        True
    """
    return translate_image_(
        image, shift, padding_mode, fill, interpolation, check_values=True, out=out
    )


def translate_image_(
    image: torch.Tensor,
    shift: object,
    padding_mode: str,
    fill: Fill,
    interpolation: str,
    *,
    check_values: bool,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """:func:`translate_image`; ``check_values=False`` for shifts our samplers drew (finite by
    construction), which spares accelerators the synchronisation a NaN check costs."""
    check_tensor("image", image, min_ndim=3, layout="(..., C, H, W)", dtypes=IMAGE_DTYPES)
    check_choice("padding_mode", padding_mode, PADDING_MODES)
    check_choice("interpolation", interpolation, INTERPOLATIONS)
    channels, height, width = image.shape[-3:]
    if height == 0 or width == 0:
        raise ValueError(f"`image` must have H, W >= 1, but got shape {tuple(image.shape)}.")
    fill_values = normalize_fill(fill, padding_mode, image.dtype, channels)
    offsets = as_shift(shift, image.device, check_values=check_values)
    batch = broadcast_shift(offsets, image.shape[:-3])
    shape = (*batch, channels, height, width)
    target = _check_out(out, image, shape, offsets)
    planes = image.expand(shape).reshape(-1, channels, height, width)
    offsets = offsets.expand(*batch, 2).reshape(-1, 2)
    if planes.shape[0] * channels == 0:
        return image.new_empty(shape) if out is None else out
    if interpolation == "nearest" and use_host_slicing(planes, offsets):
        dx, dy = _round_shift(offsets)[0].tolist()
        result = shift_by_slicing(planes[0], dx, dy, 1, padding_mode, fill_values, channel_axis=0)
    elif interpolation == "nearest":
        result = shift_nearest(planes, _round_shift(offsets), padding_mode, fill_values, out=target)
    else:
        result = shift_bilinear(planes, offsets, padding_mode, fill_values, out=target)
    if out is None:
        return result.reshape(shape)
    if target is None or result.data_ptr() != target.data_ptr():
        out.view(result.shape).copy_(result)
    return out


def _check_out(
    out: object, image: torch.Tensor, shape: tuple[int, ...], shift: torch.Tensor
) -> torch.Tensor | None:
    """Validate ``out=``; return it viewed as ``(B, C, H, W)`` planes (``None`` without it)."""
    if out is None:
        return None
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"`out` must be a torch.Tensor or None, but got {type(out).__name__}.")
    if tuple(out.shape) != shape or out.dtype != image.dtype or out.device != image.device:
        raise ValueError(
            f"`out` must have shape {shape}, dtype {image.dtype} and device {image.device}, but "
            f"got shape {tuple(out.shape)}, dtype {out.dtype} and device {out.device}."
        )
    if not out.is_contiguous():
        raise ValueError("`out` must be contiguous, but got a non-contiguous tensor.")
    if out.untyped_storage().data_ptr() == image.untyped_storage().data_ptr():
        raise ValueError("`out` must not share memory with `image` (shifts cannot run in place).")
    if torch.is_grad_enabled() and (image.requires_grad or shift.requires_grad):
        raise ValueError("`out` does not support automatic differentiation; call without it.")
    return out.view(-1, *shape[-3:])


def normalize_fill(
    fill: object, padding_mode: str, dtype: torch.dtype, channels: int, name: str = "fill"
) -> tuple[float, ...] | None:
    """Validate ``fill``; return one value per channel (or one for all), ``None`` for no fill."""
    if isinstance(fill, torch.Tensor):
        if fill.ndim > 1:
            raise ValueError(
                f"`{name}` must be a number or a 1-D tensor, but got {describe(fill)}."
            )
        fill = fill.tolist()
    if isinstance(fill, bool) or not isinstance(fill, (int, float, list, tuple)):
        raise TypeError(
            f"`{name}` must be a number or a sequence of numbers, but got {describe(fill)}."
        )
    values = tuple(fill) if isinstance(fill, (list, tuple)) else (fill,)
    if not values or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in values):
        raise TypeError(
            f"`{name}` must be a number or a sequence of numbers, but got {describe(fill)}."
        )
    if len(values) not in (1, channels):
        raise ValueError(
            f"`{name}` must have 1 or C={channels} values, but got {len(values)}: {describe(fill)}."
        )
    if padding_mode != "constant":
        if any(v != 0 for v in values):
            raise ValueError(
                f"`{name}` is only used with padding_mode='constant', but got fill={describe(fill)} "
                f"with padding_mode={padding_mode!r}."
            )
        return None
    if not dtype.is_floating_point:
        low, high = (
            (0, 1) if dtype == torch.bool else (torch.iinfo(dtype).min, torch.iinfo(dtype).max)
        )
        if any(not float(v).is_integer() or not low <= v <= high for v in values):
            raise ValueError(
                f"`{name}` must hold integers in [{low}, {high}] for {dtype} data, "
                f"but got {describe(fill)}."
            )
    elif any(v != v or v in (float("inf"), float("-inf")) for v in values):
        raise ValueError(f"`{name}` must be finite, but got {describe(fill)}.")
    return tuple(float(v) for v in values)


def use_host_slicing(planes: torch.Tensor, shift: torch.Tensor) -> bool:
    """One sample whose shift is on the host: plain slicing beats the batched set-up."""
    return (
        planes.shape[0] == 1
        and planes.device.type == "cpu"
        and shift.device.type == "cpu"
        and not (planes.requires_grad and torch.is_grad_enabled())
        and not torch.compiler.is_compiling()
    )


def _round_shift(shift: torch.Tensor) -> torch.Tensor:
    if shift.is_floating_point():
        shift = torch.round(shift)
    return shift.to(torch.int64)


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
    rows, cols = _source_coords(x, shift, origin, extra)
    if _use_windows(x, padding_mode):
        plan = _plan_windows(x.contiguous(), rows, cols)
        return _take_windows(plan, 0, x.shape[0], fill, out=out)
    return _shift_general(x, rows, cols, padding_mode, fill)


def _source_coords(
    x: torch.Tensor, shift: torch.Tensor, origin: int, extra: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Source row ``(B, H + extra)`` and column ``(B, W + extra)`` coordinates per sample."""
    height, width = x.shape[-2:]
    rows = torch.arange(origin, height + extra + origin, device=x.device) - shift[:, 1:2]
    cols = torch.arange(origin, width + extra + origin, device=x.device) - shift[:, 0:1]
    return rows, cols


def _use_windows(x: torch.Tensor, padding_mode: str) -> bool:
    return (
        padding_mode in ("zeros", "constant")
        and not (x.requires_grad and torch.is_grad_enabled())
        and x.shape[0] * x.shape[1] >= 2
    )


def _shift_general(
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
    fill_t = torch.tensor(fill or (0.0,), dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
    return torch.where(valid, out, fill_t)


@dataclass(frozen=True)
class _Windows:
    """Plan of the zeros/constant fast path (see :func:`_plan_windows`)."""

    x: torch.Tensor  # (B, C, H, W) contiguous source
    windows: torch.Tensor  # (L - out_w + 1, out_w) overlapping view of the flat source
    start: torch.Tensor  # (B * C * out_h,) window index of every output row
    keep: torch.Tensor  # (B, 1, out_h * out_w) 0/1 in the same-size integer dtype
    rows: torch.Tensor  # (B, out_h) source row of every output row (unclamped)
    cols: torch.Tensor  # (B, out_w) source column of every output column (unclamped)
    # Host copies of the first source row/column of the first and last sample, when the
    # coordinates live on the CPU (None on accelerators and under compilation).
    corners: tuple[int, int, int, int] | None


def _plan_windows(x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> _Windows:
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
    bits = _BITS[x.element_size()]
    keep_rows = (rows == src_rows).to(bits)
    keep_cols = (cols == cols.clamp(0, width - 1)).to(bits)
    keep = torch.mul(keep_rows[:, :, None], keep_cols[:, None, :]).view(batch, 1, -1)
    corners = None
    if x.device.type == "cpu" and not torch.compiler.is_compiling():
        ends = [0, batch - 1]
        first_row, last_row = rows[ends, 0].tolist()
        first_col, last_col = cols[ends, 0].tolist()
        corners = (first_row, first_col, last_row, last_col)
    return _Windows(
        x=x,
        windows=flat.as_strided((total - out_w + 1, out_w), (1, 1)),
        start=start.view(-1),
        keep=keep,
        rows=rows,
        cols=cols,
        corners=corners,
    )


def _take_windows(
    plan: _Windows,
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


def _fix_edge(plan: _Windows, out: torch.Tensor, index: int, channel: int) -> None:
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
    edge = _shift_general(
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

    For zeros, floating-point data is reinterpreted as same-size integers and multiplied by the
    0/1 mask: kept values are multiplied by exactly one, and a masked NaN, inf or -0.0 cannot leak
    through (``NaN * 0`` is NaN in floating point). Constants are written by ``masked_fill_``.
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


def shift_bilinear(
    x: torch.Tensor,
    shift: torch.Tensor,
    padding_mode: str,
    fill: tuple[float, ...] | None,
    *,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sub-pixel shift: integer shift by ``floor(shift)`` onto a canvas one pixel larger, then a
    separable two-tap interpolation with weights ``shift - floor(shift)``.

    On CPU the work runs in chunks of samples sized to stay in cache, writing straight into the
    output; on accelerators, or when a gradient is needed, in one piece.
    """
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    shift = shift.to(compute)
    whole = torch.floor(shift)
    frac = (shift - whole).view(-1, 2, 1, 1, 1)
    rows, cols = _source_coords(x, whole.to(torch.int64), -1, 1)
    plan = _plan_windows(x.contiguous(), rows, cols) if _use_windows(x, padding_mode) else None

    def canvas(begin: int, end: int) -> torch.Tensor:
        if plan is not None:
            return _take_windows(plan, begin, end, fill)
        return _shift_general(x[begin:end], rows[begin:end], cols[begin:end], padding_mode, fill)

    batch = x.shape[0]
    differentiable = torch.is_grad_enabled() and (x.requires_grad or shift.requires_grad)
    if differentiable or x.device.type != "cpu":
        return _interpolate(canvas(0, batch), frac, compute, x.dtype)
    out = torch.empty_like(x) if out is None else out
    per_sample = x[0].numel() * (x.element_size() + 3 * torch.finfo(compute).bits // 8)
    step = max(1, _CHUNK_BYTES // max(per_sample, 1))
    for begin in range(0, batch, step):
        end = min(begin + step, batch)
        _interpolate(canvas(begin, end), frac[begin:end], compute, x.dtype, out=out[begin:end])
    return out


def _interpolate(
    canvas: torch.Tensor,
    frac: torch.Tensor,
    compute: torch.dtype,
    dtype: torch.dtype,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    # Output pixel j reads the continuous source position j - dx, which lies between canvas
    # columns j + 1 (source j - floor(dx)) and j (source j - floor(dx) - 1), weighted 1 - f, f.
    canvas = canvas.to(compute)
    cols = torch.lerp(canvas[..., 1:], canvas[..., :-1], frac[:, 0])
    if out is not None and dtype == compute:
        return torch.lerp(cols[..., 1:, :], cols[..., :-1, :], frac[:, 1], out=out)
    result = torch.lerp(cols[..., 1:, :], cols[..., :-1, :], frac[:, 1])
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        result = result.round_().clamp_(info.min, info.max)
    if out is None:
        return result.to(dtype)
    return out.copy_(result)
