"""Samplers: the only place randomness happens. Each returns a frozen parameter record."""

from ._ranges import AxisRange, ShiftRange, parse_shift_range
from ._translate import DISTRIBUTIONS, TranslateParams, resolve_shift_range, sample_translate

__all__ = [
    "DISTRIBUTIONS",
    "AxisRange",
    "ShiftRange",
    "TranslateParams",
    "parse_shift_range",
    "resolve_shift_range",
    "sample_translate",
]
