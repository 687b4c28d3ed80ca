"""Hypothesis strategies and checkers for code built on shiftaug (requires ``hypothesis``).

Use them to property-test your own transforms against the same conventions shiftaug tests
itself with::

    from hypothesis import given
    from shiftaug.testing import images, shifts

    @given(images(), shifts())
    def test_my_transform(image, shift): ...
"""

from __future__ import annotations

from typing import Any

import torch

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - exercised only without the dev extra
    raise ImportError("shiftaug.testing needs hypothesis: pip install 'shiftaug[dev]'") from error

from .functional import IMAGE_DTYPES, PADDING_MODES

__all__ = [
    "LAYOUTS",
    "images",
    "instance_scenes",
    "integer_shifts",
    "padding_modes",
    "shifts",
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


def with_layout(tensor: torch.Tensor, layout: str) -> torch.Tensor:
    """``tensor`` in another memory layout (``LAYOUTS``); compare a function on the result with
    the same function on ``result.contiguous()``.

    - ``"strided"``: every other column of a twice as wide buffer (not contiguous);
    - ``"channels_last"``: a 4-D tensor in channels-last memory format (others unchanged);
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
        return tensor.contiguous(memory_format=torch.channels_last) if tensor.ndim == 4 else tensor
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
