"""Shared kernel checkers (STYLE.md): dtype/device kept, no mutation, batched == looped, empty."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def _as_tuple(result: object) -> tuple[torch.Tensor, ...]:
    return result if isinstance(result, tuple) else (result,)  # type: ignore[return-value]


def check_kernel(
    kernel: Callable[..., object],
    data: torch.Tensor,
    shift: torch.Tensor,
    **kwargs: object,
) -> None:
    """Run the shared checks on ``kernel(data, shift, **kwargs)`` for a batch ``data``."""
    before_data, before_shift = data.clone(), shift.clone()
    result = _as_tuple(kernel(data, shift, **kwargs))
    # Inputs untouched (bit for bit), outputs on the same device with the data's dtype.
    assert torch.equal(data.view(-1).view(torch.uint8), before_data.view(-1).view(torch.uint8))
    assert torch.equal(shift, before_shift)
    assert result[0].dtype == data.dtype and result[0].device == data.device
    # Batched equals one call per sample.
    for index in range(data.shape[0]):
        single = _as_tuple(kernel(data[index], shift[index], **kwargs))
        for batched, alone in zip(result, single, strict=True):
            assert torch.equal(batched[index], alone), f"sample {index} differs"
    # Batch size 0.
    empty = _as_tuple(kernel(data[:0], shift[:0], **kwargs))
    assert empty[0].shape == (0, *data.shape[1:])


def assert_same_bits(actual: torch.Tensor, expected: torch.Tensor) -> None:
    """Bit-identical (distinguishes -0.0 from 0.0 and compares NaN payloads)."""
    assert actual.dtype == expected.dtype and actual.shape == expected.shape
    size = actual.element_size()
    bits = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}[size]
    assert torch.equal(actual.contiguous().view(bits), expected.contiguous().view(bits))


def all_dtypes() -> Sequence[torch.dtype]:
    return (torch.uint8, torch.float16, torch.bfloat16, torch.float32, torch.float64)
