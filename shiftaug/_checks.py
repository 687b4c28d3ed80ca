"""Argument checks shared by every public entry point.

Messages follow one pattern so users can grep for them:
``"`name` must be <expectation>, but got <value>."`` (torchvision's style).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import torch

__all__ = [
    "check_bool",
    "check_choice",
    "check_device",
    "check_finite_tensor",
    "check_generator",
    "check_int",
    "check_probability",
    "check_real",
    "check_size",
    "check_tensor",
    "describe",
    "get_validate_args",
    "parse_device",
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
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a float in [0, 1], but got {describe(value)}.")
    number = float(value)
    if not (math.isfinite(number) and 0.0 <= number <= 1.0):
        raise ValueError(f"`{name}` must be a float in [0, 1], but got {value!r}.")
    return number


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f" {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f" {'<' if high_open else '<='} {high:g}"
    return ""


def check_int(name: str, value: Any, *, low: int | None = None, high: int | None = None) -> int:
    """Check that ``value`` is an int (not a bool) in ``[low, high]``; return it.

    Wrong types raise ``TypeError``, out-of-range values ``ValueError``.
    """
    expectation = f"an int{_interval(low, high, False, False)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be {expectation}, but got {describe(value)}.")
    number = int(value)
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValueError(f"`{name}` must be {expectation}, but got {value!r}.")
    return number


def check_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that ``value`` is a finite real number (not a bool) in the given interval.

    ``low_open``/``high_open`` exclude the bounds. Wrong types raise ``TypeError``; NaN, inf
    and out-of-range values ``ValueError``. Returns the value as a float.
    """
    expectation = f"a finite number{_interval(low, high, low_open, high_open)}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be {expectation}, but got {describe(value)}.")
    number = float(value)
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if not math.isfinite(number) or too_low or too_high:
        raise ValueError(f"`{name}` must be {expectation}, but got {value!r}.")
    return number


def check_device(name: str, value: torch.Tensor, reference: str, device: torch.device) -> None:
    """Raise ``ValueError`` unless tensor ``value`` is on ``device``, the device of the
    caller's argument ``reference``."""
    if value.device != device:
        raise ValueError(
            f"`{name}` must be on the same device as `{reference}` ({device}), but got "
            f"{value.device}."
        )


def check_bool(name: str, value: Any) -> bool:
    """Check that ``value`` is a bool (not merely truthy: ``"no"`` is not ``False``); return it."""
    if not isinstance(value, bool):
        raise TypeError(f"`{name}` must be a bool, but got {describe(value)}.")
    return value


def check_generator(name: str, value: Any) -> torch.Generator | None:
    """Check that ``value`` is a :class:`torch.Generator` or ``None``; return it."""
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"`{name}` must be a torch.Generator or None, but got {describe(value)}.")
    return value


def parse_device(name: str, value: Any) -> torch.device | None:
    """Check that ``value`` is ``None``, a :class:`torch.device` or a device string naming a
    device this machine has; return the device (``None`` stays ``None``)."""
    if value is None:
        return value
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        try:
            device = torch.device(value)
        except RuntimeError:
            raise ValueError(
                f"`{name}` must name a device such as 'cpu' or 'cuda:0', but got {value!r}."
            ) from None
    else:
        raise TypeError(
            f"`{name}` must be a torch.device, a device string or None, but got {describe(value)}."
        )
    _check_available(name, device)
    return device


def _check_available(name: str, device: torch.device) -> None:
    """A ``ValueError`` naming ``name`` for a CUDA/MPS device this machine lacks (torch would
    fail later with a driver message that names no argument)."""
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0 or (device.index is not None and device.index >= count):
            have = f"{count} CUDA device(s)" if count else "no CUDA device"
            raise ValueError(
                f"`{name}` must name a device this machine has, but got {str(device)!r} "
                f"({have} available)."
            )
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(
            f"`{name}` must name a device this machine has, but got 'mps' (MPS is not available)."
        )


def check_size(name: str, value: Any) -> tuple[int, int]:
    """Check that ``value`` is an ``(H, W)`` pair of ints >= 1 (a ``torch.Size`` too)."""
    if (
        not isinstance(value, (tuple, list))
        or len(value) != 2
        or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) for v in value)
    ):
        raise TypeError(f"`{name}` must be a pair (H, W) of ints, but got {describe(value)}.")
    if min(value) <= 0:
        raise ValueError(f"`{name}` must be a pair (H, W) of ints >= 1, but got {tuple(value)!r}.")
    return int(value[0]), int(value[1])
