"""Parsing of shift ranges: ``a``, ``(ax, ay)`` or per axis ``(low, high)``."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from .._checks import check_choice, check_real, check_size, describe

__all__ = ["MAX_SHIFT_PX", "AxisRange", "AxisSpec", "RangeSpec", "ShiftRange", "parse_shift_range"]

AxisSpec = float | tuple[float, float]
"""One axis of a shift range: ``a >= 0`` (meaning ``[-a, a]``) or an interval ``(low, high)``."""
RangeSpec = float | tuple[AxisSpec, AxisSpec]
"""A shift range as users write it (``shift_px``, ``shift_frac``): ``a`` for both axes, or
``(x, y)`` of :data:`AxisSpec` entries: ``4``, ``(4, 2)``, ``((0, 8), 2)``. Lists work too."""

# The largest shift a sampler draws: float32 parameters hold every whole pixel up to 2**24.
MAX_SHIFT_PX = 2**24
UNITS = ("px", "frac")


@dataclass(frozen=True)
class AxisRange:
    """Closed interval ``[low, high]`` for one axis, in the unit of its :class:`ShiftRange`.

    Attributes:
        low: a finite number, stored as a float.
        high: a finite number ``>= low``, stored as a float.

    Raises:
        TypeError: a bound that is not a real number.
        ValueError: a bound that is NaN or infinite, or ``low > high``.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        if torch.compiler.is_compiling():  # bounds may be symbolic; they were checked eagerly
            return
        low, high = check_real("low", self.low), check_real("high", self.high)
        if low > high:
            raise ValueError(f"`high` must be >= `low` ({low:g}), but got {self.high!r}.")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class ShiftRange:
    """Per-axis shift intervals.

    Attributes:
        x: the :class:`AxisRange` of ``dx``.
        y: the :class:`AxisRange` of ``dy``.
        unit: ``"px"`` (pixels) or ``"frac"`` (a fraction of W for x, of H for y).
    """

    x: AxisRange
    y: AxisRange
    unit: str

    def __post_init__(self) -> None:
        if torch.compiler.is_compiling():
            return
        for name in ("x", "y"):
            if not isinstance(getattr(self, name), AxisRange):
                raise TypeError(
                    f"`{name}` must be an AxisRange, but got {describe(getattr(self, name))}."
                )
        check_choice("unit", self.unit, UNITS)

    def in_pixels(self, image_size: tuple[int, int]) -> ShiftRange:
        """The same range in pixels for an image of ``(H, W)``.

        Args:
            image_size: ``(H, W)``, ints >= 1.
        """
        if not torch.compiler.is_compiling():
            check_size("image_size", image_size)
        if self.unit == "px":
            return self
        height, width = image_size
        return ShiftRange(
            AxisRange(self.x.low * width, self.x.high * width),
            AxisRange(self.y.low * height, self.y.high * height),
            "px",
        )

    def is_zero(self) -> bool:
        return self.x == AxisRange(0.0, 0.0) and self.y == AxisRange(0.0, 0.0)


def parse_shift_range(name: str, value: RangeSpec, unit: str) -> ShiftRange:
    """Parse a user range.

    Grammar (:data:`RangeSpec`): ``range := a | (axis_x, axis_y)`` and
    ``axis := a | (low, high)``, where a bare number ``a >= 0`` means the symmetric interval
    ``[-a, a]``. So ``4`` is ``[-4, 4]`` on both axes, ``(4, 2)`` is ``x in [-4, 4], y in [-2, 2]``
    (as torchvision's and kornia's ``translate``), and ``((0, 8), 2)`` is ``x in [0, 8],
    y in [-2, 2]``. Lists are accepted for tuples.

    Args:
        name: the argument's name, for error messages (``"shift_px"``).
        value: the range as the user wrote it.
        unit: ``"px"`` or ``"frac"``, stored on the result.

    Raises:
        TypeError: ``value`` (or an entry) of the wrong type, ``name`` not a string.
        ValueError: a negative, NaN or infinite bound, an interval with ``low > high``, or
            ``unit`` other than ``"px"`` and ``"frac"``.

    Example:
        >>> from shiftaug.params import parse_shift_range
        >>> r = parse_shift_range("shift_px", ((0, 8), 2), "px")
        >>> (r.x.low, r.x.high), (r.y.low, r.y.high)
        ((0.0, 8.0), (-2.0, 2.0))
    """
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a str, but got {describe(name)}.")
    check_choice("unit", unit, UNITS)
    expectation = (
        "a number a >= 0 (meaning [-a, a]), a pair (x, y) of such numbers, or a pair whose "
        "entries may also be (low, high) intervals"
    )
    if _is_number(value):
        axis = _parse_axis(name, value, expectation)
        return ShiftRange(axis, axis, unit)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return ShiftRange(
            _parse_axis(f"{name}[0]", value[0], expectation),
            _parse_axis(f"{name}[1]", value[1], expectation),
            unit,
        )
    raise TypeError(f"`{name}` must be {expectation}, but got {describe(value)}.")


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _parse_axis(name: str, value: object, expectation: str) -> AxisRange:
    if _is_number(value):
        number = float(value)  # type: ignore[arg-type]
        if not math.isfinite(number) or number < 0:
            raise ValueError(
                f"`{name}` must be a finite number >= 0 (a symmetric range [-a, a]), but got "
                f"{value!r}; give an interval as (low, high)."
            )
        return AxisRange(-number, number)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_number, value)):
        low, high = float(value[0]), float(value[1])
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"`{name}` must be a finite interval (low, high), but got {value!r}.")
        if low > high:
            raise ValueError(
                f"`{name}` must be an interval (low, high) with low <= high, but got {value!r}."
            )
        return AxisRange(low, high)
    raise TypeError(f"`{name}` must be {expectation}, but got {describe(value)}.")
