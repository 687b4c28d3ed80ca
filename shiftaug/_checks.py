"""Argument checks shared by every public entry point.

Messages follow one pattern so users can grep for them:
``"`name` must be <expectation>, but got <value>."`` (torchvision's style).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

__all__ = [
    "check_choice",
    "check_finite_tensor",
    "check_probability",
    "check_tensor",
    "describe",
    "get_validate_args",
    "set_validate_args",
]

_VALIDATE_ARGS = True


def set_validate_args(value: bool) -> None:
    """Turn value checks (NaN/inf shifts, ranges) of the functional API on or off.

    Type and shape checks are free and always run. Value checks read tensor contents, which on
    an accelerator forces a host synchronisation; they are skipped automatically under
    ``torch.compile`` and by the transforms, whose parameters are finite by construction.
    Mirrors :func:`torch.distributions.Distribution.set_default_validate_args`.

    Args:
        value: ``True`` (the default state) to run the value checks, ``False`` to skip them.
    """
    global _VALIDATE_ARGS
    if not isinstance(value, bool):
        raise TypeError(f"`value` must be a bool, but got {value!r}.")
    _VALIDATE_ARGS = value


def get_validate_args() -> bool:
    """Whether value checks run (see :func:`set_validate_args`)."""
    return _VALIDATE_ARGS and not torch.compiler.is_compiling()


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (tensors by shape and dtype)."""
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_tensor(
    name: str,
    value: Any,
    *,
    min_ndim: int | None = None,
    ndim: int | None = None,
    dtypes: Sequence[torch.dtype] | None = None,
    layout: str | None = None,
) -> torch.Tensor:
    """Check that ``value`` is a tensor of a suitable rank and dtype; return it."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, but got {type(value).__name__}.")
    if min_ndim is not None and value.ndim < min_ndim:
        shape = layout or f"at least {min_ndim} dimensions"
        raise ValueError(
            f"`{name}` must have shape {shape}, but got a tensor of shape {tuple(value.shape)}."
        )
    if ndim is not None and value.ndim != ndim:
        shape = layout or f"{ndim} dimensions"
        raise ValueError(
            f"`{name}` must have shape {shape}, but got a tensor of shape {tuple(value.shape)}."
        )
    if dtypes is not None and value.dtype not in dtypes:
        names = ", ".join(str(d).replace("torch.", "") for d in dtypes)
        raise TypeError(f"`{name}` must have dtype in ({names}), but got {value.dtype}.")
    return value


def check_finite_tensor(name: str, value: torch.Tensor) -> None:
    """Raise ``ValueError`` if ``value`` holds NaN or inf (skipped when validation is off)."""
    if not get_validate_args() or not value.is_floating_point():
        return
    if not bool(torch.isfinite(value).all()):
        bad = value[~torch.isfinite(value)][:3].tolist()
        raise ValueError(f"`{name}` must be finite, but got non-finite values such as {bad}.")


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of the strings in ``choices``; return it."""
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be one of {tuple(choices)}, but got {describe(value)}.")
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {tuple(choices)}, but got {value!r}.")
    return value


def check_probability(name: str, value: Any) -> float:
    """Check that ``value`` is a real number in [0, 1]; return it as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a float in [0, 1], but got {describe(value)}.")
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"`{name}` must be a float in [0, 1], but got {value!r}.")
    return float(value)
