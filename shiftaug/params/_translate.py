"""``sample_translate``: per-sample shifts for :class:`shiftaug.RandomTranslate`."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, cast, overload

import torch

from .._checks import (
    check_bool,
    check_choice,
    check_finite_tensor,
    check_generator,
    check_int,
    check_probability,
    check_real,
    check_size,
    check_tensor,
    describe,
    get_validate_args,
    parse_device,
)
from ._ranges import MAX_SHIFT_PX, AxisRange, RangeSpec, ShiftRange, parse_shift_range

__all__ = [
    "DISTRIBUTIONS",
    "TranslateParams",
    "resolve_shift_range",
    "sample_translate",
    "trusted",
]

DISTRIBUTIONS = ("uniform", "normal")


@dataclass(frozen=True)
class TranslateParams:
    """Parameters of one :class:`~shiftaug.RandomTranslate` call, enough to replay or invert it.

    The record checks its structure when it is built (tensor types, shapes and dtypes, the
    image size), so a malformed record fails where it is made, naming the field. Replaying a
    record (``transform(x, params=...)``, ``inverse``, the adapters) additionally runs
    :meth:`validate` against the images, which also reads the values.

    Attributes:
        shift: ``(N, 2)`` shifts ``(dx, dy)`` in pixels, one row per sample; zero where the
            transform was not applied. Drawn as float32, integer-valued for nearest
            interpolation; any real dtype is accepted on replay.
        applied: ``(N,)`` bool, which samples were transformed (``p``).
        image_size: ``(H, W)`` of the images the shifts were drawn for.
    """

    shift: torch.Tensor
    applied: torch.Tensor
    image_size: tuple[int, int]
    _checked: ClassVar[bool] = False  # set per record by __post_init__, `validate`, `trusted`

    def __post_init__(self) -> None:
        shift = check_tensor("params.shift", self.shift, ndim=2, layout="(N, 2)")
        if shift.shape[1] != 2 or shift.dtype == torch.bool or shift.is_complex():
            raise (TypeError if shift.shape[1] == 2 else ValueError)(
                f"`params.shift` must be a real-valued tensor of shape (N, 2), but got "
                f"{describe(shift)}."
            )
        applied = check_tensor(
            "params.applied", self.applied, ndim=1, layout="(N,)", dtypes=(torch.bool,)
        )
        if applied.shape[0] != shift.shape[0]:
            raise ValueError(
                f"`params.applied` must hold one flag per sample ({shift.shape[0]}), but got "
                f"{describe(applied)}."
            )
        object.__setattr__(self, "image_size", check_size("params.image_size", self.image_size))
        # Whether the values are known good (drawn by our sampler, or validated once): replay
        # then skips reading them again. Not a field: it neither compares nor prints.
        object.__setattr__(self, "_checked", False)

    def __len__(self) -> int:
        return self.shift.shape[0]

    def validate(self, count: int, image_size: tuple[int, int]) -> None:
        """Check that this record can be replayed on ``count`` samples of ``(H, W)`` images.

        Args:
            count: the number of samples of the images (``N``, or 1 for one image).
            image_size: ``(H, W)`` of the images.

        Raises ``ValueError`` if it was drawn for another number of samples or another image
        size, or (value checks, see :func:`shiftaug.set_validate_args`) if a shift is NaN or
        infinite, or non-zero for a sample that was not applied. The value checks read the
        tensors once: one host synchronisation on an accelerator, which is why transforms
        skip this method for their own draws.
        """
        if len(self) != count:
            raise ValueError(
                f"`params` were drawn for {len(self)} samples, but the images hold {count}."
            )
        if self.image_size != tuple(image_size):
            raise ValueError(
                f"`params` were drawn for images of size {self.image_size}, but got images of "
                f"size {tuple(image_size)}."
            )
        if self._checked or not get_validate_args() or not count:
            return
        finite = torch.isfinite(self.shift).all(-1) if self.shift.is_floating_point() else None
        moved = (self.shift != 0).any(-1)
        ok = (~moved | self.applied.to(moved.device)).all()
        if finite is not None:
            ok = ok & finite.all()
        if bool(ok):
            object.__setattr__(self, "_checked", True)  # once is enough for this record
            return
        check_finite_tensor("params.shift", self.shift)
        stray = self.shift[moved & ~self.applied.to(moved.device)][:3].tolist()
        raise ValueError(
            "`params.shift` must be zero where `params.applied` is False, but got shifts such "
            f"as {stray} for samples that were not applied."
        )

    def inverse(self) -> TranslateParams:
        """Parameters that move every sample back (exact for ``padding_mode="circular"``)."""
        return self._derived(shift=-self.shift)

    def to(self, device: torch.device | str) -> TranslateParams:
        """The same parameters on ``device``.

        Args:
            device: a :class:`torch.device` or a device string such as ``"cuda:0"``, of a
                device this machine has.
        """
        target = parse_device("device", device)
        return self._derived(shift=self.shift.to(target), applied=self.applied.to(target))

    def select(self, index: int | slice | torch.Tensor) -> TranslateParams:
        """Parameters of a subset of the samples (keeps the batch dimension for an int).

        Args:
            index: an int (an ``IndexError`` outside ``[-N, N)``, as indexing raises), a slice,
                or an index or bool tensor, as for the ``(N, ...)`` tensors.
        """
        if isinstance(index, int) and not isinstance(index, bool):
            if not -len(self) <= index < len(self):
                raise IndexError(
                    f"`index` must lie in [{-len(self)}, {len(self)}) for {len(self)} samples, "
                    f"but got {index}."
                )
            index = slice(index, index + 1 if index != -1 else None)
        elif not isinstance(index, (slice, torch.Tensor)) or (
            isinstance(index, torch.Tensor) and (index.is_floating_point() or index.is_complex())
        ):
            raise TypeError(
                "`index` must be an int, a slice or an integer or bool tensor, but got "
                f"{describe(index)}."
            )
        return self._derived(shift=self.shift[index], applied=self.applied[index])

    def _derived(self, shift: torch.Tensor, applied: torch.Tensor | None = None) -> TranslateParams:
        """A record computed from this one (negated, moved, selected): as trusted as it."""
        derived = replace(self, shift=shift, applied=self.applied if applied is None else applied)
        return trusted(derived) if self._checked else derived


def trusted(params: TranslateParams) -> TranslateParams:
    """Mark ``params`` as known good, so that replaying it skips the value checks of
    :meth:`TranslateParams.validate` (and their host synchronisation). For records our own
    sampler drew, or that an adapter rebuilt from such a record; never for user input."""
    object.__setattr__(params, "_checked", True)
    return params


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
    """Validate the pair of user ranges; exactly one of them must be given (or neither, with
    ``allow_none``, which returns ``None``).

    ``shift_px`` must lie within +-2**24 pixels and ``shift_frac`` within [-1, 1].

    Args:
        shift_px: a range in pixels (:data:`~shiftaug.params.RangeSpec`) or ``None``.
        shift_frac: a range as a fraction of the image size or ``None``.
        allow_none: a bool: whether giving neither range is allowed (returns ``None``).

    Returns:
        The parsed :class:`~shiftaug.params.ShiftRange` (or ``None``, see ``allow_none``).

    Raises:
        TypeError: a range or ``allow_none`` of the wrong type.
        ValueError: both ranges given, neither (unless ``allow_none``), or a range out of
            bounds.
    """
    check_bool("allow_none", allow_none)
    if shift_px is not None and shift_frac is not None:
        raise ValueError(
            "Give the shift range in one unit: `shift_px` (pixels) or `shift_frac` (fraction of "
            f"the image size), but got shift_px={shift_px!r} and shift_frac={shift_frac!r}."
        )
    if shift_px is not None:
        parsed = parse_shift_range("shift_px", cast(RangeSpec, shift_px), "px")  # it checks
        if max(abs(parsed.x.low), parsed.x.high, abs(parsed.y.low), parsed.y.high) > MAX_SHIFT_PX:
            raise ValueError(
                f"`shift_px` must lie within +-{MAX_SHIFT_PX} pixels (2**24: every whole pixel up "
                f"to there is exact in the float32 parameters), but got {shift_px!r}."
            )
        return parsed
    if shift_frac is not None:
        parsed = parse_shift_range("shift_frac", cast(RangeSpec, shift_frac), "frac")
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
    shift_px: RangeSpec | None = None,
    shift_frac: RangeSpec | None = None,
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
        batch_size: number of samples ``N`` (an int >= 0).
        image_size: ``(H, W)`` ints >= 1; converts ``shift_frac`` to pixels.
        shift_px: range in pixels, within +-2**24 (see
            [Conventions](../conventions.md#ranges) for the grammar: ``4``, ``(4, 2)``,
            ``((0, 8), 2)``).
        shift_frac: range as a fraction of the image size (x of ``W``, y of ``H``), within
            [-1, 1]. Give exactly one of ``shift_px`` and ``shift_frac``.
        integer: draw whole pixels (for ``interpolation="nearest"``): uniform over the integers
            inside the range, both ends included; otherwise continuous.
        distribution: ``"uniform"`` or ``"normal"``: a normal centred on the range with standard
            deviation ``normal_scale`` times the half-width, clipped to the range.
        normal_scale: a number > 0; see ``distribution``.
        p: probability in [0, 1] that a sample is shifted at all.
        same_on_batch: a bool: one draw (including the ``p`` coin) shared by the whole batch.
        generator: a :class:`torch.Generator` or ``None`` (torch's global one); draws happen on
            its device and are moved to ``device``.
        device: where the parameters live (the images' device); defaults to the CPU. A CUDA
            or MPS device this machine lacks is a ``ValueError``.

    Raises:
        TypeError: an argument of the wrong type (``generator="g"``, ``same_on_batch="no"``).
        ValueError: an argument of the right type but a wrong value.

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
    check_int("batch_size", batch_size, low=0)
    image_size = check_size("image_size", image_size)
    check_bool("integer", integer)
    check_choice("distribution", distribution, DISTRIBUTIONS)
    normal_scale = check_real("normal_scale", normal_scale, low=0.0, low_open=True)
    p = check_probability("p", p)
    check_bool("same_on_batch", same_on_batch)
    check_generator("generator", generator)
    device = parse_device("device", device)
    shift_range = resolve_shift_range(shift_px, shift_frac)
    return draw_translate(
        shift_range, batch_size, image_size, integer=integer, distribution=distribution,
        normal_scale=normal_scale, p=p, same_on_batch=same_on_batch, generator=generator,
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
    if max(abs(pixels.x.low), pixels.x.high, abs(pixels.y.low), pixels.y.high) > MAX_SHIFT_PX:
        raise ValueError(
            f"`shift_{shift_range.unit}` must lie within +-{MAX_SHIFT_PX} pixels (2**24: every "
            "whole pixel up to there is exact in the float32 parameters), but for an image of "
            f"size {tuple(image_size)} it spans x in [{pixels.x.low:g}, {pixels.x.high:g}], "
            f"y in [{pixels.y.low:g}, {pixels.y.high:g}] px."
        )
    count = 1 if same_on_batch else batch_size
    columns = []
    for name, axis in (("x", pixels.x), ("y", pixels.y)):
        low, high = axis.low, axis.high
        if integer:
            low, high = whole_pixels(axis, name, shift_range.unit, image_size)
        columns.append(
            _draw_axis(low, high, count, integer, distribution, normal_scale, generator, source)
        )
    shift = torch.stack(columns, -1)
    applied = torch.ones(count, dtype=torch.bool, device=source)
    if p < 1.0:
        applied = torch.rand(count, device=source, **_source(generator)) < p
        shift = shift * applied[:, None]
    if same_on_batch:
        shift, applied = shift.expand(batch_size, 2), applied.expand(batch_size)
    return trusted(
        TranslateParams(
            shift=shift.to(target, non_blocking=True).contiguous(),
            applied=applied.to(target, non_blocking=True).contiguous(),
            image_size=(int(image_size[0]), int(image_size[1])),
        )
    )


def whole_pixels(
    axis: AxisRange, name: str, unit: str, image_size: tuple[int, int] | None = None
) -> tuple[int, int]:
    """The first and last whole pixel of a pixel range, or a ``ValueError`` naming
    ``shift_{unit}`` when it holds none (whole-pixel draws, ``interpolation="nearest"``)."""
    low, high = math.ceil(axis.low - 1e-9), math.floor(axis.high + 1e-9)
    if low > high:
        where = "" if image_size is None else f" for an image of size {tuple(image_size)}"
        raise ValueError(
            f"`shift_{unit}` must hold a whole pixel on each axis for whole-pixel shifts "
            f"(interpolation='nearest'), but its {name} range is [{axis.low:g}, {axis.high:g}] "
            f"px{where}; widen it or use interpolation='bilinear'."
        )
    return low, high


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
    random = _source(generator)
    if distribution == "uniform":
        if integer:
            drawn = torch.randint(int(low), int(high) + 1, (count,), device=device, **random)
            return drawn.to(torch.float32)
        unit = torch.rand(count, device=device, **random)
        return low + (high - low) * unit
    centre, std = (low + high) / 2, normal_scale * (high - low) / 2
    drawn = centre + std * torch.randn(count, device=device, **random)
    if integer:
        drawn = torch.round(drawn)
    return drawn.clamp(low, high)


def _source(generator: torch.Generator | None) -> dict[str, Any]:
    """``generator=`` for torch's random factories, left out when ``None``: under
    ``torch.compile`` a factory given ``generator=None`` fails once the batch size is dynamic
    (torch 2.14), while leaving it out draws from the same global generator."""
    return {} if generator is None else {"generator": generator}
