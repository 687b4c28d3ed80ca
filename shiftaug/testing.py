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

__all__ = ["images", "integer_shifts", "padding_modes", "shifts"]

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
