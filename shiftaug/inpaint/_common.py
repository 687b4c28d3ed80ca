"""Helpers every backend shares: input checks, the working dtype and the final composite."""

from __future__ import annotations

import math
from typing import Any

import torch

from .._checks import check_tensor, describe
from ._base import check_inpaint_inputs

__all__ = [
    "IMAGE_DTYPES",
    "check_positive",
    "check_positive_int",
    "composite",
    "prepare",
    "work_dtype",
]

IMAGE_DTYPES = (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64)


def prepare(images: object, holes: object) -> tuple[torch.Tensor, torch.Tensor]:
    """Check the protocol's inputs and the image dtype; return them unchanged."""
    images, holes = check_inpaint_inputs(images, holes)
    check_tensor("images", images, dtypes=IMAGE_DTYPES)
    return images, holes


def work_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype backends compute in: float64 stays, everything else uses float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def composite(images: torch.Tensor, holes: torch.Tensor, filled: torch.Tensor) -> torch.Tensor:
    """``filled`` inside the holes, ``images`` (bit for bit) outside; in ``images``' dtype.

    ``filled`` is a float tensor broadcastable to ``images``; uint8 results are rounded and
    clamped to ``[0, 255]``.
    """
    if images.dtype == torch.uint8:
        filled = filled.round().clamp(0, 255)
    return torch.where(holes, filled.to(images.dtype), images)


def check_positive(name: str, value: Any) -> float:
    """A finite real number > 0, as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a positive number, but got {describe(value)}.")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"`{name}` must be a positive number, but got {value!r}.")
    return float(value)


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """An int >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be an int >= {minimum}, but got {describe(value)}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, but got {value!r}.")
    return value
