"""``sample_translate``: per-sample shifts for :class:`shiftaug.RandomTranslate`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, overload

import torch

from .._checks import check_choice, check_probability, describe
from ._ranges import ShiftRange, parse_shift_range

__all__ = ["DISTRIBUTIONS", "TranslateParams", "resolve_shift_range", "sample_translate"]

DISTRIBUTIONS = ("uniform", "normal")


@dataclass(frozen=True)
class TranslateParams:
    """Parameters of one :class:`~shiftaug.RandomTranslate` call, enough to replay or invert it.

    Attributes:
        shift: ``(N, 2)`` float32 shifts ``(dx, dy)`` in pixels, one row per sample; zero where
            the transform was not applied. Integer-valued when drawn for nearest interpolation.
        applied: ``(N,)`` bool, which samples were transformed (``p``).
        image_size: ``(H, W)`` of the images the shifts were drawn for.
    """

    shift: torch.Tensor
    applied: torch.Tensor
    image_size: tuple[int, int]

    def __len__(self) -> int:
        return self.shift.shape[0]

    def inverse(self) -> TranslateParams:
        """Parameters that move every sample back (exact for ``padding_mode="circular"``)."""
        return replace(self, shift=-self.shift)

    def to(self, device: torch.device | str) -> TranslateParams:
        """The same parameters on ``device``."""
        return replace(self, shift=self.shift.to(device), applied=self.applied.to(device))

    def select(self, index: int | slice | torch.Tensor) -> TranslateParams:
        """Parameters of a subset of the samples (keeps the batch dimension for an int)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        return replace(self, shift=self.shift[index], applied=self.applied[index])


@overload
def resolve_shift_range(
    shift_px: object, shift_frac: object, *, allow_none: Literal[False] = False
) -> ShiftRange: ...


@overload
def resolve_shift_range(
    shift_px: object, shift_frac: object, *, allow_none: bool
) -> ShiftRange | None: ...


def resolve_shift_range(
    shift_px: object, shift_frac: object, *, allow_none: bool = False
) -> ShiftRange | None:
    """Validate the pair of user ranges; exactly one of them must be given."""
    if shift_px is not None and shift_frac is not None:
        raise ValueError(
            "Give the shift range in one unit: `shift_px` (pixels) or `shift_frac` (fraction of "
            f"the image size), but got shift_px={shift_px!r} and shift_frac={shift_frac!r}."
        )
    if shift_px is not None:
        return parse_shift_range("shift_px", shift_px, "px")
    if shift_frac is not None:
        parsed = parse_shift_range("shift_frac", shift_frac, "frac")
        for axis in (parsed.x, parsed.y):
            if axis.low < -1 or axis.high > 1:
                raise ValueError(
                    f"`shift_frac` must lie in [-1, 1] (a fraction of the image size), but got "
                    f"{shift_frac!r}."
                )
        return parsed
    if allow_none:
        return None
    raise ValueError(
        "A shift range is required: pass `shift_px` (pixels, e.g. 4 or (4, 2)) or `shift_frac` "
        "(fraction of the image size, e.g. 0.125); without one the transform would do nothing."
    )


def sample_translate(
    batch_size: int,
    image_size: tuple[int, int],
    *,
    shift_px: object = None,
    shift_frac: object = None,
    integer: bool = True,
    distribution: str = "uniform",
    normal_scale: float = 0.5,
    p: float = 1.0,
    same_on_batch: bool = False,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> TranslateParams:
    """Draw per-sample shifts.

    Args:
        batch_size: number of samples ``N``.
        image_size: ``(H, W)``; converts ``shift_frac`` to pixels.
        shift_px: range in pixels (see ``docs/conventions.md`` for the range grammar).
        shift_frac: range as a fraction of the image size (x of ``W``, y of ``H``).
        integer: draw whole pixels (for ``interpolation="nearest"``): uniform over the integers
            inside the range, both ends included; otherwise continuous.
        distribution: ``"uniform"`` or ``"normal"``: a normal centred on the range with standard
            deviation ``normal_scale`` times the half-width, clipped to the range.
        normal_scale: see ``distribution``.
        p: probability that a sample is shifted at all.
        same_on_batch: one draw (including the ``p`` coin) shared by the whole batch.
        generator: random source; draws happen on its device and are moved to ``device``.
        device: where the parameters live (the images' device); defaults to the CPU.

    Returns:
        :class:`TranslateParams` with ``shift`` of shape ``(N, 2)``.

    Example:
        >>> import torch
        >>> from shiftaug.params import sample_translate
        >>> g = torch.Generator().manual_seed(0)
        >>> params = sample_translate(4, (32, 32), shift_px=3, generator=g)
        >>> params.shift.shape, bool((params.shift.abs() <= 3).all())
        (torch.Size([4, 2]), True)
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 0:
        raise ValueError(f"`batch_size` must be an int >= 0, but got {describe(batch_size)}.")
    check_choice("distribution", distribution, DISTRIBUTIONS)
    p = check_probability("p", p)
    if (
        isinstance(normal_scale, bool)
        or not isinstance(normal_scale, (int, float))
        or not (math.isfinite(normal_scale) and normal_scale > 0)
    ):
        raise ValueError(f"`normal_scale` must be a number > 0, but got {describe(normal_scale)}.")
    shift_range = resolve_shift_range(shift_px, shift_frac)
    return draw_translate(
        shift_range, batch_size, image_size, integer=integer, distribution=distribution,
        normal_scale=float(normal_scale), p=p, same_on_batch=same_on_batch, generator=generator,
        device=device,
    )  # fmt: skip


def draw_translate(
    shift_range: ShiftRange,
    batch_size: int,
    image_size: tuple[int, int],
    *,
    integer: bool,
    distribution: str,
    normal_scale: float,
    p: float,
    same_on_batch: bool,
    generator: torch.Generator | None,
    device: torch.device | str | None,
) -> TranslateParams:
    """:func:`sample_translate` without argument checks (for transforms that checked once)."""
    target = torch.device(device) if device is not None else torch.device("cpu")
    source = generator.device if generator is not None else target
    pixels = shift_range.in_pixels(image_size)
    count = 1 if same_on_batch else batch_size
    columns = []
    for name, axis in (("x", pixels.x), ("y", pixels.y)):
        low, high = axis.low, axis.high
        if integer:
            low, high = math.ceil(low - 1e-9), math.floor(high + 1e-9)
            if low > high:
                raise ValueError(
                    f"The {name} shift range [{axis.low:g}, {axis.high:g}] px for an image of size "
                    f"{tuple(image_size)} contains no whole pixel; widen it or use "
                    "interpolation='bilinear'."
                )
        columns.append(
            _draw_axis(low, high, count, integer, distribution, normal_scale, generator, source)
        )
    shift = torch.stack(columns, -1)
    applied = torch.ones(count, dtype=torch.bool, device=source)
    if p < 1.0:
        applied = torch.rand(count, generator=generator, device=source) < p
        shift = shift * applied[:, None]
    if same_on_batch:
        shift, applied = shift.expand(batch_size, 2), applied.expand(batch_size)
    return TranslateParams(
        shift=shift.to(target, non_blocking=True).contiguous(),
        applied=applied.to(target, non_blocking=True).contiguous(),
        image_size=(int(image_size[0]), int(image_size[1])),
    )


def _draw_axis(
    low: float,
    high: float,
    count: int,
    integer: bool,
    distribution: str,
    normal_scale: float,
    generator: torch.Generator | None,
    device: torch.device,
) -> torch.Tensor:
    if distribution == "uniform":
        if integer:
            drawn = torch.randint(
                int(low), int(high) + 1, (count,), generator=generator, device=device
            )
            return drawn.to(torch.float32)
        unit = torch.rand(count, generator=generator, device=device)
        return low + (high - low) * unit
    centre, std = (low + high) / 2, normal_scale * (high - low) / 2
    drawn = centre + std * torch.randn(count, generator=generator, device=device)
    if integer:
        drawn = torch.round(drawn)
    return drawn.clamp(low, high)
