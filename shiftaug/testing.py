"""Hypothesis strategies and checkers for code built on shiftaug (requires ``hypothesis``).

Use them to property-test your own transforms against the same conventions shiftaug tests
itself with::

    from hypothesis import given
    from shiftaug.testing import images, shifts

    @given(images(), shifts())
    def test_my_transform(image, shift): ...
"""

from __future__ import annotations

import math
from typing import Any

import torch

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the dev extra
    raise ImportError("shiftaug.testing needs hypothesis: pip install 'shiftaug[dev]'") from error

from .functional import IMAGE_DTYPES, PADDING_MODES

__all__ = [
    "LAYOUTS",
    "MASK_DTYPES",
    "SHIFT_DTYPES",
    "TARGET_DTYPES",
    "any_images",
    "any_shifts",
    "images",
    "instance_scenes",
    "integer_shifts",
    "padding_modes",
    "shifts",
    "tensor_values",
    "with_layout",
]

padding_modes = st.sampled_from(PADDING_MODES)


@st.composite
def images(
    draw: Any,
    *,
    batch: int | None = None,
    channels: int | None = None,
    max_side: int = 9,
    dtypes: tuple[torch.dtype, ...] = IMAGE_DTYPES,
) -> torch.Tensor:
    """``(N, C, H, W)`` images with random content, size and dtype (small, for fast tests)."""
    n = batch if batch is not None else draw(st.integers(1, 3))
    c = channels if channels is not None else draw(st.integers(1, 3))
    h, w = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from(dtypes))
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    values = torch.rand(n, c, h, w, generator=generator, dtype=torch.float64)
    if dtype == torch.uint8:
        return (values * 255).round().to(torch.uint8)
    return (values * 4 - 2).to(dtype)


@st.composite
def integer_shifts(draw: Any, batch: int, max_shift: int = 12) -> torch.Tensor:
    """``(batch, 2)`` whole-pixel shifts in ``[-max_shift, max_shift]``, possibly larger than
    the image."""
    values = draw(
        st.lists(st.integers(-max_shift, max_shift), min_size=2 * batch, max_size=2 * batch)
    )
    return torch.tensor(values, dtype=torch.int64).view(batch, 2)


@st.composite
def shifts(draw: Any, batch: int, max_shift: float = 12.0) -> torch.Tensor:
    """``(batch, 2)`` real-valued shifts in ``[-max_shift, max_shift]``."""
    values = draw(
        st.lists(
            st.floats(-max_shift, max_shift, allow_nan=False, allow_infinity=False, width=32),
            min_size=2 * batch,
            max_size=2 * batch,
        )
    )
    return torch.tensor(values, dtype=torch.float32).view(batch, 2)


LAYOUTS = ("contiguous", "strided", "channels_last", "expanded")
"""Memory layouts :func:`with_layout` makes and :func:`any_images` draws: the same values
behind different strides."""


def with_layout(tensor: torch.Tensor, layout: str) -> torch.Tensor:
    """``tensor`` in another memory layout (``LAYOUTS``); compare a function on the result with
    the same function on ``result.contiguous()``.

    - ``"strided"``: every other column of a twice as wide buffer (not contiguous);
    - ``"channels_last"``: dim -3 stored innermost (``torch.channels_last`` for a 4-D tensor;
      tensors of fewer than 3 dims unchanged);
    - ``"expanded"``: the first entry of the batch expanded over the batch (stride 0), so the
      values change: all entries equal the first.
    """
    if layout == "contiguous":
        return tensor.contiguous()
    if layout == "strided":
        wide = tensor.new_zeros((*tensor.shape[:-1], 2 * tensor.shape[-1]))
        wide[..., ::2] = tensor
        return wide[..., ::2]
    if layout == "channels_last":
        if tensor.ndim == 4:
            return tensor.contiguous(memory_format=torch.channels_last)
        if tensor.ndim >= 3:
            return tensor.movedim(-3, -1).contiguous().movedim(-1, -3)
        return tensor
    if layout == "expanded":
        return tensor[:1].expand_as(tensor) if tensor.ndim and tensor.shape[0] else tensor
    raise ValueError(f"`layout` must be one of {LAYOUTS}, but got {layout!r}.")


@st.composite
def instance_scenes(
    draw: Any,
    *,
    max_side: int = 12,
    max_objects: int = 3,
    dtypes: tuple[torch.dtype, ...] = IMAGE_DTYPES,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(images (N, C, H, W), masks (N, K, H, W) bool, valid (N, K) bool)``: rectangles
    (possibly overlapping, cut by the frame, or none at all: ``K`` may be 0) with random
    content; a slot is valid iff its mask has a pixel and a coin flip keeps it."""
    n = draw(st.integers(1, 3))
    h, w = draw(st.integers(2, max_side)), draw(st.integers(2, max_side))
    k = draw(st.integers(0, max_objects))
    image = draw(images(batch=n, channels=draw(st.integers(1, 3)), max_side=1, dtypes=dtypes))
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    values = torch.rand(n, image.shape[1], h, w, generator=generator, dtype=torch.float64)
    picture = (
        (values * 255).round().to(torch.uint8)
        if image.dtype == torch.uint8
        else ((values * 4 - 2).to(image.dtype))
    )
    masks = torch.zeros(n, k, h, w, dtype=torch.bool)
    for i in range(n):
        for j in range(k):
            top, left = draw(st.integers(-1, h - 1)), draw(st.integers(-1, w - 1))
            height, width = draw(st.integers(0, h)), draw(st.integers(0, w))
            masks[i, j, max(top, 0) : max(top + height, 0), max(left, 0) : max(left + width, 0)] = (
                True
            )
    keep = torch.tensor(
        draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k)), dtype=torch.bool
    )
    valid = keep.view(n, k) & masks.flatten(2).any(-1)
    return picture, masks, valid


# --- Fuzzing strategies: any dtype, any memory layout, special values, huge shifts ----------

SHIFT_DTYPES = (
    torch.int64, torch.int32, torch.uint8, torch.uint32, torch.float16, torch.float32, torch.float64,
)  # fmt: skip
TARGET_DTYPES = (
    torch.uint8, torch.int16, torch.int32, torch.int64,
    torch.float16, torch.bfloat16, torch.float32, torch.float64,
)  # fmt: skip
MASK_DTYPES = (torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


@st.composite
def tensor_values(
    draw: Any, shape: tuple[int, ...], dtype: torch.dtype, *, specials: bool = True
) -> torch.Tensor:
    """A tensor of ``shape`` and ``dtype``: the full range of integers, floats in [-2, 2] with,
    if ``specials``, NaNs of random payloads (signalling ones too), infinities, -0.0 and
    subnormals planted at random places."""
    generator = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    if dtype == torch.bool:
        return torch.rand(shape, generator=generator) > 0.5
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        span = torch.rand(shape, generator=generator, dtype=torch.float64)
        return (info.min + span * (float(info.max) - info.min)).floor().to(dtype)
    values = (torch.rand(shape, generator=generator, dtype=torch.float64) * 4 - 2).to(dtype)
    flat = values.view(-1)
    if not specials or flat.numel() == 0:
        return values
    for _ in range(draw(st.integers(0, 4))):
        index = draw(st.integers(0, flat.numel() - 1))
        flat[index : index + 1] = _special(draw, dtype)
    return values


def _special(draw: Any, dtype: torch.dtype) -> torch.Tensor:
    kind = draw(st.sampled_from(["nan", "inf", "-inf", "-0", "tiny"]))
    if kind != "nan":
        tiny = torch.finfo(dtype).smallest_normal / 4
        value = {"inf": float("inf"), "-inf": float("-inf"), "-0": -0.0, "tiny": tiny}[kind]
        return torch.tensor([value], dtype=dtype)
    # Any NaN: exponent all ones, a random non-zero mantissa (quiet or signalling), any sign.
    bits = {torch.float16: (16, 10), torch.bfloat16: (16, 7), torch.float32: (32, 23)}.get(
        dtype, (64, 52)
    )
    width, mantissa = bits
    payload = draw(st.integers(1, 2**mantissa - 1))
    pattern = (((1 << (width - mantissa - 1)) - 1) << mantissa) | payload
    if draw(st.booleans()):
        pattern |= 1 << (width - 1)
    signed = pattern - (1 << width) if pattern >= 1 << (width - 1) else pattern
    integer = {16: torch.int16, 32: torch.int32, 64: torch.int64}[width]
    return torch.tensor([signed], dtype=integer).view(dtype)


@st.composite
def any_images(
    draw: Any,
    *,
    dtypes: tuple[torch.dtype, ...] = IMAGE_DTYPES,
    max_side: int = 6,
    max_batch: int = 3,
    layouts: tuple[str, ...] = LAYOUTS,
    specials: bool = True,
    zero_size: bool = True,
) -> torch.Tensor:
    """Images of any layout the API accepts: ``(C, H, W)``, ``(N, C, H, W)`` or
    ``(N, T, C, H, W)``, every dtype, every memory layout, special values, and (with
    ``zero_size``) empty batches and zero channels."""
    rank = draw(st.sampled_from([3, 4, 4, 5]))

    def size(high: int) -> int:  # zero now and then (when allowed), else 1..high
        return 0 if zero_size and draw(st.integers(0, 7)) == 0 else draw(st.integers(1, high))

    lead = [size(max_batch) for _ in range(rank - 3)]
    channels = size(3)
    height, width = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    dtype = draw(st.sampled_from(dtypes))
    layout = draw(st.sampled_from(layouts))
    shape = (*lead, channels, height, width)
    if layout == "expanded" and shape[0] > 0 and rank > 3:
        one = draw(tensor_values((1, *shape[1:]), dtype, specials=specials))
        return one.expand(shape)
    values = draw(tensor_values(shape, dtype, specials=specials))
    return with_layout(values, layout)


@st.composite
def any_shifts(draw: Any, batch: tuple[int, ...], *, huge: bool = True) -> torch.Tensor:
    """``(*batch, 2)`` finite shifts of any real dtype: small whole pixels, ties (``x.5``),
    fractions and, with ``huge``, values far beyond the image (up to 1e30 and the int64
    limits)."""
    dtype = draw(st.sampled_from(SHIFT_DTYPES))
    count = 2 * math.prod(batch)
    small = st.integers(-12, 12)
    if dtype.is_floating_point:
        ties = st.integers(-12, 12).map(lambda v: v + 0.5)
        fractions = st.floats(-12, 12, allow_nan=False, width=16)
        options: list[Any] = [small, ties, fractions]
        if huge:
            top = min(torch.finfo(dtype).max, 1e30)
            edges = [2.0**11 + 1, 6e4, 2.0**24 + 1, 2.0**53 + 2, 2.0**63, 2.0**64, 1e30]
            options.append(st.floats(-top, top, allow_nan=False))
            options.append(st.sampled_from([v for e in edges for v in (e, -e) if abs(v) <= top]))
        values = draw(st.lists(st.one_of(*options), min_size=count, max_size=count))
        return torch.tensor(values, dtype=torch.float64).to(dtype).view(*batch, 2)
    info = torch.iinfo(dtype)
    limits = st.sampled_from([info.min, info.max, info.min + 1, info.max // 2, -(info.max // 2)])
    integers: list[Any] = [small] + ([st.integers(info.min, info.max), limits] if huge else [])
    values = draw(st.lists(st.one_of(*integers), min_size=count, max_size=count))
    return torch.tensor(values, dtype=dtype).view(*batch, 2)
