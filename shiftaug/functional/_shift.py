"""Shift arguments: parse, broadcast and validate ``(dx, dy)`` pixel shifts, and reduce them to
exact, equivalent whole-pixel shifts of any magnitude."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sequence

import numpy as np
import torch

from .._checks import check_finite_tensor, describe

__all__ = ["as_shift", "axis_period", "broadcast_shift", "leading_shift", "whole_shift"]

ShiftLike = torch.Tensor | Sequence[float] | Sequence[Sequence[float]]


def as_shift(
    shift: object, device: torch.device, name: str = "shift", *, check_values: bool = True
) -> torch.Tensor:
    """Turn ``shift`` into a ``(*batch, 2)`` tensor on ``device`` (float or integer dtype).

    ``check_values=False`` skips the NaN/inf check, for shifts drawn by our own samplers.
    """
    if isinstance(shift, torch.Tensor):
        tensor = shift
        if tensor.dtype == torch.bool or tensor.is_complex():
            raise TypeError(f"`{name}` must be a real-valued tensor, but got dtype {tensor.dtype}.")
    elif isinstance(shift, (list, tuple, np.ndarray)):
        tensor = _sequence_to_tensor(shift, name)
    else:
        raise TypeError(
            f"`{name}` must be a tensor or a sequence (dx, dy) of numbers, but got "
            f"{type(shift).__name__}."
        )
    if tensor.dtype == torch.uint64:  # int64 holds the reductions below; 2**63 and up do not fit
        signed = tensor.view(torch.int64)  # the same bits: values >= 2**63 read as negative
        if bool((signed < 0).any()):
            raise ValueError(
                f"`{name}` must hold integers within int64 (|v| < 2**63; give larger shifts as "
                f"floats), but got a uint64 tensor holding values such as "
                f"{[v % 2**64 for v in signed[signed < 0][:3].tolist()]}."
            )
        tensor = signed
    if tensor.ndim == 0 or tensor.shape[-1] != 2:
        raise ValueError(
            f"`{name}` must have shape (*batch, 2) holding (dx, dy), but got shape "
            f"{tuple(tensor.shape)}."
        )
    if check_values:
        check_finite_tensor(name, tensor)
    return tensor.to(device=device, non_blocking=True)


def _sequence_to_tensor(shift: object, name: str) -> torch.Tensor:
    """A list, tuple or NumPy array of shifts as a tensor, with errors that say what is wrong.

    Python numbers keep their precision: floats become float64 (float32 would turn
    ``16777217.0`` into ``16777216``), ints int64; NumPy arrays of numbers keep their dtype.
    """
    if isinstance(shift, np.ndarray) and shift.dtype.kind in "iuf":
        return torch.from_numpy(np.ascontiguousarray(shift))
    expectation = (
        f"`{name}` must be a tensor or a (nested) sequence of numbers of shape (*batch, 2)"
    )
    leaves: list[int | float] = []
    _walk(shift, leaves, name, expectation, shift)
    dtype = torch.int64 if all(isinstance(v, int) for v in leaves) else torch.float64
    return torch.tensor(_rebuild(shift, iter(leaves)), dtype=dtype)


def _walk(
    value: object, leaves: list[int | float], name: str, expectation: str, whole: object
) -> tuple[int, ...]:
    """Collect the numbers of a nested sequence (as Python ints and floats) and return its
    shape; a ``TypeError`` for a non-number, a ``ValueError`` for ragged nesting or an int
    beyond int64."""
    if isinstance(value, (list, tuple, np.ndarray)):
        shapes = {_walk(item, leaves, name, expectation, whole) for item in value}
        if len(shapes) > 1:
            raise ValueError(f"{expectation}, but got the ragged {describe(whole)}.")
        return (len(value), *(shapes.pop() if shapes else ()))
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{expectation}, but got {describe(whole)} (holding {value!r}).")
    if isinstance(value, numbers.Integral):
        number = int(value)
        if not -(2**63) <= number < 2**63:
            raise ValueError(
                f"`{name}` must hold integers within int64 (|v| < 2**63; give larger shifts as "
                f"floats), but got {describe(whole)}."
            )
        leaves.append(number)
    else:
        leaves.append(float(value))
    return ()


def _rebuild(value: object, leaves: Iterator[int | float]) -> object:
    """``value``'s nesting with its numbers replaced by ``leaves`` (in order)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_rebuild(item, leaves) for item in value]
    return next(leaves)


def broadcast_shift(
    shift: torch.Tensor, batch: torch.Size, name: str = "shift", target: str = "image"
) -> torch.Size:
    """The broadcast of ``shift.shape[:-1]`` and ``batch`` (NumPy rules), or a clear error."""
    if shift.shape[:-1] == batch:
        return batch  # the common case, without torch.broadcast_shapes' overhead
    try:
        return torch.broadcast_shapes(tuple(shift.shape[:-1]), tuple(batch))
    except RuntimeError:
        raise ValueError(
            f"`{name}` of shape {tuple(shift.shape)} does not broadcast against the {target}'s "
            f"batch shape {tuple(batch)}; expected (*batch, 2) with batch broadcastable to "
            f"{tuple(batch)}."
        ) from None


def leading_shift(shift: torch.Tensor, batch: torch.Size, name: str, target: str) -> torch.Tensor:
    """Align ``shift``'s batch dims with the *leading* dims of ``batch``.

    Used for targets whose trailing batch dims are not samples (``K`` instance masks, ``M``
    boxes): a ``(N, 2)`` shift then applies to an ``(N, K, H, W)`` mask or ``(N, M, 4)`` boxes.
    """
    extra = len(batch) - (shift.ndim - 1)
    if extra < 0:
        raise ValueError(
            f"`{name}` of shape {tuple(shift.shape)} has more batch dimensions than the {target} "
            f"(batch shape {tuple(batch)})."
        )
    aligned = shift.reshape(*shift.shape[:-1], *([1] * extra), 2)
    broadcast_shift(aligned, batch, name, target)
    return aligned


def axis_period(size: int, padding_mode: str) -> int | None:
    """The period of the source index along an axis of ``size`` (``None``: not periodic)."""
    if padding_mode == "circular":
        return size
    if padding_mode == "reflect":
        return max(2 * (size - 1), 1)
    if padding_mode == "symmetric":
        return 2 * size
    return None


def whole_shift(
    shift: torch.Tensor, size: tuple[int, int], padding_mode: str, *, floor: bool = False
) -> torch.Tensor:
    """Round (half to even, or ``floor``) ``(..., 2)`` shifts and reduce them to an equivalent
    int64 shift of small magnitude, exactly, whatever their size.

    Periodic modes (circular, reflect, symmetric) reduce modulo the common period of both axes;
    the others saturate: a shift by ``max(H, W) + 2`` or more leaves the same image as any larger
    one. Rounding happens before the reduction (so half-to-even sees the true integer part), and
    floating-point reduction (``fmod``, ``clamp``) is exact, so float shifts beyond 2**63 or
    int64 shifts near its limits give the same pixels as the true shift.
    """
    rounded = shift.is_floating_point()
    if rounded:
        if shift.dtype in (torch.float16, torch.bfloat16):
            shift = shift.float()  # exact; their range cannot hold the bounds below
        shift = torch.floor(shift) if floor else torch.round(shift)
    elif shift.dtype != torch.int64:
        shift = shift.to(torch.int64)
    height, width = size
    periods = (axis_period(height, padding_mode), axis_period(width, padding_mode))
    if periods[0] is None or periods[1] is None:
        bound = max(height, width) + 2
        if rounded:  # a fresh tensor: clamp in place
            return shift.clamp_(-bound, bound).to(torch.int64)
        return shift.clamp(-bound, bound)
    common = math.lcm(periods[0], periods[1])
    if not shift.is_floating_point():
        return shift.remainder(common)
    if shift.dtype == torch.float32 and common >= 2**24:
        shift = shift.double()  # the period must be exact in the dtype for fmod to be exact
    return torch.fmod(shift, common).to(torch.int64)
