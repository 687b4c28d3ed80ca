"""Sub-pixel shifts of ``(B, C, H, W)`` planes: a whole-pixel shift, then two-tap interpolation."""

from __future__ import annotations

import torch

from ._nearest import plan_windows, shift_general, source_coords, take_windows, use_windows
from ._shift import whole_shift

__all__ = ["shift_bilinear"]

# Sub-pixel work on CPU is done in chunks of about this many bytes, so the intermediates stay
# in cache and are recycled by the allocator instead of being page-faulted in afresh each call.
_CHUNK_BYTES = 1 << 22


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

    ``floor`` and the weights are taken in the shift's own dtype (both exact), so an integer
    shift of any size gives exactly the nearest result. On CPU the work runs in chunks of
    samples sized to stay in cache, writing straight into ``out``; on accelerators, or when a
    gradient is needed, in one piece.
    """
    compute = torch.float64 if x.dtype == torch.float64 else torch.float32
    height, width = x.shape[-2:]
    if shift.is_floating_point():
        if shift.dtype in (torch.float16, torch.bfloat16):
            shift = shift.float()
        floor = torch.floor(shift)
        frac = (shift - floor).to(compute)
        whole = whole_shift(floor, (height, width), padding_mode)
    else:
        whole = whole_shift(shift, (height, width), padding_mode)
        frac = torch.zeros(shift.shape, dtype=compute, device=shift.device)
    frac = frac.view(-1, 2, 1, 1, 1)
    rows, cols = source_coords(x, whole, -1, 1)
    plan = plan_windows(x.contiguous(), rows, cols) if use_windows(x, padding_mode) else None

    def canvas(begin: int, end: int) -> torch.Tensor:
        if plan is not None:
            return take_windows(plan, begin, end, fill)
        return shift_general(x[begin:end], rows[begin:end], cols[begin:end], padding_mode, fill)

    batch = x.shape[0]
    differentiable = torch.is_grad_enabled() and (x.requires_grad or frac.requires_grad)
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
