"""Coordinate arithmetic in a wide dtype, and the check that a result fits the caller's dtype.

Boxes and keypoints may come in any integer or floating dtype. Adding a shift in that dtype
would wrap integers around (a uint8 x of 1 moved by -2 is 255) and overflow half floats to inf
without a word. Coordinates are therefore moved in float64 (integers: exact within +-2**53) or
float32 (half floats), and the result is checked against the caller's dtype before it is
narrowed back.
"""

from __future__ import annotations

import torch

from .._checks import get_validate_args

__all__ = ["EXACT_INT", "narrow", "target_step", "wide_dtype"]

# Integers move through float64, which holds every integer of magnitude up to 2**53 exactly.
EXACT_INT = 2**53


def wide_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype coordinates of ``dtype`` are computed in."""
    if dtype == torch.float64 or not dtype.is_floating_point:
        return torch.float64
    return torch.float32


def target_step(shift: torch.Tensor, dtype: torch.dtype, *, check_values: bool) -> torch.Tensor:
    """``shift`` as added to coordinates of ``dtype``: rounded (half to even) for integers."""
    step = shift.to(wide_dtype(dtype))
    if dtype.is_floating_point:
        return step
    step = torch.round(step)
    if check_values and get_validate_args() and bool((step.abs() > EXACT_INT).any()):
        raise ValueError(
            f"`shift` must lie within +-2**53 pixels to move integer coordinates exactly, but got "
            f"values such as {step[step.abs() > EXACT_INT][:3].tolist()}."
        )
    return step


def narrow(
    moved: torch.Tensor,
    source: torch.Tensor,
    name: str,
    *,
    check_values: bool,
    action: str = "moved by the shift",
) -> torch.Tensor:
    """``moved`` (computed in :func:`wide_dtype`) converted to ``source``'s dtype, or a
    ``ValueError`` naming ``name`` when it does not fit.

    Integer results must lie in the dtype's range (int64: within +-2**53, where float64 is
    exact); half-float results must stay finite where ``source`` was. Integer and half-float
    checks always run (they read the result: one host synchronisation on an accelerator);
    float32/float64 overflow is checked when ``check_values`` (user-given shifts). Nothing is
    checked when validation is off (:func:`shiftaug.set_validate_args`). ``action`` says what
    was done to the coordinates, for the error message.
    """
    dtype = source.dtype
    if not get_validate_args():
        return moved.to(dtype)
    if not dtype.is_floating_point:
        low, high = _int_range(dtype)
        if dtype == torch.int64 and bool((source.abs() > EXACT_INT).any()):
            raise ValueError(
                f"`{name}` of dtype int64 must lie within +-2**53 to be moved exactly, but got "
                f"values such as {source[source.abs() > EXACT_INT][:3].tolist()}."
            )
        outside = (moved < low) | (moved > high)
        if bool(outside.any()):
            raise ValueError(
                f"`{name}` {action} must fit their dtype {dtype} ([{low}, {high}]), but "
                f"got values such as {moved[outside][:3].tolist()}; {_WIDER.get(dtype, _EXACT)}."
            )
        return moved.to(dtype)
    result = moved.to(dtype)
    if dtype in (torch.float16, torch.bfloat16) or check_values:
        # Per box / point: a coordinate may come from several (x + w), so a finite item must
        # stay finite in every coordinate; items holding inf or NaN pass through as they are.
        finite = torch.isfinite(source).all(-1, keepdim=True).expand_as(result)
        overflow = ~torch.isfinite(result) & finite
        if bool(overflow.any()):
            raise ValueError(
                f"`{name}` {action} must stay finite in {dtype} (largest value "
                f"{torch.finfo(dtype).max:g}), but got values such as "
                f"{moved[overflow][:3].tolist()}; {_WIDER.get(dtype, _FLOAT64)}."
            )
    return result


_WIDER = {
    torch.int32: "pass them as int64 or float64",
    torch.float32: "pass them as float64",
    **dict.fromkeys((torch.uint8, torch.int8, torch.int16), "pass them as int32 or float32"),
    **dict.fromkeys((torch.float16, torch.bfloat16), "pass them as float32"),
}
_FLOAT64 = "they exceed float64's range"
_EXACT = "int64 coordinates are moved exactly within +-2**53, a range float64 cannot widen"


def _int_range(dtype: torch.dtype) -> tuple[int, int]:
    if dtype == torch.int64:
        return -EXACT_INT, EXACT_INT
    info = torch.iinfo(dtype)
    return info.min, info.max
