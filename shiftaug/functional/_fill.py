"""Padding arguments: resolve ``padding_mode``/``fill`` defaults and check fill values.

One place decides what ``padding_mode=None`` means (torchvision's idiom: a ``fill`` alone
implies constant padding), which aliases are accepted, and which fill values a dtype can hold,
so every kernel, transform and adapter agrees.
"""

from __future__ import annotations

import math
import numbers
import struct
from collections.abc import Sequence

import numpy as np
import torch

from .._checks import check_choice, describe
from ._index import PADDING_MODES

__all__ = ["PADDING_ALIASES", "Fill", "fill_bits", "normalize_fill", "resolve_padding"]

# Other libraries' names for our modes (torchvision and NumPy call replicate "edge").
PADDING_ALIASES = {"edge": "replicate"}

Fill = float | int | Sequence[float] | torch.Tensor


def resolve_padding(
    padding_mode: object,
    fill: object,
    *,
    mode_name: str = "padding_mode",
    fill_name: str = "fill",
) -> tuple[str, object]:
    """The padding mode and fill a call means.

    ``padding_mode=None`` (the default everywhere) means ``"constant"`` when a ``fill`` is given
    and ``"zeros"`` otherwise, so ``fill=114`` alone pads with 114 as in torchvision; a mode
    given explicitly is always honoured. ``"edge"`` is accepted for ``"replicate"``.
    ``fill=None`` means 0.
    """
    if padding_mode is None:
        mode = "zeros" if fill is None else "constant"
    else:
        if isinstance(padding_mode, str):
            padding_mode = PADDING_ALIASES.get(padding_mode, padding_mode)
        mode = check_choice(mode_name, padding_mode, PADDING_MODES)
    return mode, 0 if fill is None else fill


def normalize_fill(
    fill: object,
    padding_mode: str,
    dtype: torch.dtype,
    channels: int,
    name: str = "fill",
    mode_name: str = "padding_mode",
) -> tuple[float, ...] | None:
    """Validate ``fill``; return one value per channel (or one for all), ``None`` for no fill.

    ``fill`` may be a number, a sequence, or a 0-/1-D tensor or NumPy array. Values are ints for
    integer dtypes (exact, even for int64 labels beyond 2**53) and floats
    for floating-point ones. A fill must fit the data's dtype: integral and in range for
    integers, finite and within ``[-max, max]`` for floats (as :meth:`torch.Tensor.fill_`).
    """
    if type(fill) in (int, float) and padding_mode != "constant":  # the common case, fast
        if fill != 0:
            raise ValueError(
                f"`{name}` is only used with {mode_name}='constant', but got {name}={fill!r} "
                f"with {mode_name}={padding_mode!r}."
            )
        return None
    if isinstance(fill, np.ndarray):
        fill = torch.from_numpy(fill) if fill.dtype.kind in "biufc" else fill.tolist()
    if isinstance(fill, torch.Tensor):
        if fill.dtype == torch.bool or fill.is_complex():
            raise TypeError(f"`{name}` must hold real numbers, but got {describe(fill)}.")
        if fill.ndim > 1:
            raise ValueError(
                f"`{name}` must be a number or a 1-D tensor, but got {describe(fill)}."
            )
        fill = fill.tolist()
    values = tuple(fill) if isinstance(fill, (list, tuple)) else (fill,)
    # Python and NumPy numbers; bools only as the values of a bool mask.
    if not values or any(not _is_number(v, bools=dtype == torch.bool) for v in values):
        raise TypeError(
            f"`{name}` must be a number or a sequence of numbers, but got {describe(fill)}."
        )
    values = tuple(int(v) if isinstance(v, numbers.Integral) else float(v) for v in values)
    if len(values) not in (1, channels):
        raise ValueError(
            f"`{name}` must have 1 or C={channels} values, but got {len(values)}: {describe(fill)}."
        )
    if padding_mode != "constant":
        if any(v != 0 for v in values):
            raise ValueError(
                f"`{name}` is only used with {mode_name}='constant', but got {name}="
                f"{describe(fill)} with {mode_name}={padding_mode!r}."
            )
        return None
    return _fit_fill(name, fill, values, dtype)


def _is_number(value: object, *, bools: bool) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bools
    return isinstance(value, numbers.Real)


def _fit_fill(
    name: str, fill: object, values: tuple[int | float, ...], dtype: torch.dtype
) -> tuple[float, ...]:
    if dtype.is_floating_point:
        top = torch.finfo(dtype).max
        # Compared as Python numbers: an int too large for a float is out of range, not an
        # OverflowError.
        if any(not ((isinstance(v, int) or math.isfinite(v)) and -top <= v <= top) for v in values):
            raise ValueError(
                f"`{name}` must be finite and within {dtype}'s range [{-top:g}, {top:g}], but "
                f"got {describe(fill)}."
            )
        return tuple(_stored(float(v), dtype) for v in values)
    low, high = (0, 1) if dtype == torch.bool else (torch.iinfo(dtype).min, torch.iinfo(dtype).max)
    if any(isinstance(v, float) and not v.is_integer() for v in values) or any(
        not low <= v <= high for v in values
    ):
        raise ValueError(
            f"`{name}` must hold integers in [{low}, {high}] for {dtype} data, but got "
            f"{describe(fill)}."
        )
    return tuple(int(v) for v in values)


def _stored(value: float, dtype: torch.dtype) -> float:
    """``value`` rounded to ``dtype`` as torch rounds it (``Tensor.fill_``, ``torch.full``):
    double -> float -> half/bfloat16, each step to nearest even. Every kernel path then
    writes this exactly representable value, so none rounds the fill differently (a direct
    double -> half rounding differs in double-rounding cases such as ``1 + 2**-11 + 2**-40``)."""
    if dtype == torch.float64:
        return value
    single: float = struct.unpack("<f", struct.pack("<f", value))[0]
    if dtype == torch.float16:
        return float(struct.unpack("<e", struct.pack("<e", single))[0])
    if dtype == torch.bfloat16:
        (bits,) = fill_bits((single,), torch.bfloat16)
        return float(struct.unpack("<f", struct.pack("<I", (bits & 0xFFFF) << 16))[0])
    return single


def fill_bits(values: tuple[float, ...], dtype: torch.dtype) -> tuple[int, ...]:
    """The bit patterns of float ``values`` in ``dtype``, as signed ints of the same size.

    The nearest-neighbour kernels copy floating-point pixels as same-size integers (so NaN
    payloads, signalling NaNs and -0.0 survive bit for bit); constants are then written as
    these patterns. Pure Python, so it also runs inside ``torch.compile``d code.
    """
    if dtype == torch.bfloat16:
        # bfloat16 is the upper half of float32, rounded to nearest even (torch converts the
        # same way: double -> float -> bfloat16).
        bits32 = (struct.unpack("<I", struct.pack("<f", v))[0] for v in values)
        patterns = (((b + 0x7FFF + ((b >> 16) & 1)) >> 16) & 0xFFFF for b in bits32)
        return tuple(p - 0x10000 if p >= 0x8000 else p for p in patterns)
    code, signed = {
        torch.float16: ("e", "h"),
        torch.float32: ("f", "i"),
        torch.float64: ("d", "q"),
    }[dtype]
    return tuple(struct.unpack(f"<{signed}", struct.pack(f"<{code}", v))[0] for v in values)
