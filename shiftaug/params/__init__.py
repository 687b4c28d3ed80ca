"""Samplers: the only place randomness happens. Each returns a frozen parameter record."""

from ._placement import POLICIES, PlacementParams, grid_shifts, sample_positions
from ._ranges import AxisRange, AxisSpec, RangeSpec, ShiftRange, parse_shift_range
from ._translate import DISTRIBUTIONS, TranslateParams, resolve_shift_range, sample_translate

__all__ = [
    "DISTRIBUTIONS",
    "POLICIES",
    "AxisRange",
    "AxisSpec",
    "PlacementParams",
    "RangeSpec",
    "ShiftRange",
    "TranslateParams",
    "grid_shifts",
    "parse_shift_range",
    "resolve_shift_range",
    "sample_positions",
    "sample_translate",
]
