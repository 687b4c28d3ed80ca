"""Independent references the kernels are checked against (NumPy / plain Python, no shiftaug)."""

from __future__ import annotations

import numpy as np
import torch

NUMPY_PAD = {
    "zeros": "constant",
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


def shift_reference(
    image: torch.Tensor, dx: int, dy: int, mode: str, fill: float = 0.0
) -> torch.Tensor:
    """Shift one ``(C, H, W)`` image by whole pixels with ``numpy.pad`` + slicing.

    NumPy pads larger than the image are defined by repeated application for every mode, which
    is the tiling shiftaug documents.
    """
    _, height, width = image.shape
    pad = max(abs(dx), abs(dy)) + 1
    array = image.float().numpy() if image.dtype == torch.bfloat16 else image.numpy()
    options = {"constant_values": fill} if NUMPY_PAD[mode] == "constant" else {}
    padded = np.pad(array, ((0, 0), (pad, pad), (pad, pad)), mode=NUMPY_PAD[mode], **options)
    crop = padded[:, pad - dy : pad - dy + height, pad - dx : pad - dx + width]
    return torch.from_numpy(np.ascontiguousarray(crop)).to(image.dtype)


def slice_shift(image: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Zero-padded whole-pixel shift of ``(..., H, W)`` by plain slicing."""
    height, width = image.shape[-2:]
    out = torch.zeros_like(image)
    dst_r = slice(max(dy, 0), min(height + dy, height))
    src_r = slice(max(-dy, 0), min(height - dy, height))
    dst_c = slice(max(dx, 0), min(width + dx, width))
    src_c = slice(max(-dx, 0), min(width - dx, width))
    if dst_r.start < dst_r.stop and dst_c.start < dst_c.stop:
        out[..., dst_r, dst_c] = image[..., src_r, src_c]
    return out


BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
PERIODIC = {
    "circular": lambda n: n,
    "reflect": lambda n: max(2 * (n - 1), 1),
    "symmetric": lambda n: 2 * n,
}


def python_shift(value: float | int) -> int:
    """A shift as a Python int: rounded half to even, exactly, whatever its size."""
    return value if isinstance(value, int) else round(value)


def reduce_shift(shift: int, size: int, mode: str) -> int:
    """An equivalent small shift, in Python integers: periodic modes modulo their period,
    the others saturated (a shift beyond the axis vacates or replicates all of it)."""
    if mode in PERIODIC:
        return shift % PERIODIC[mode](size)
    return max(-size - 1, min(size + 1, shift))


def bits_reference(
    plane: torch.Tensor, dx: int, dy: int, mode: str, fill: tuple[float, ...] | float = 0.0
) -> torch.Tensor:
    """Whole-pixel shift of one ``(C, H, W)`` tensor of any dtype with ``numpy.pad`` + slicing
    on its bit patterns (so NaN payloads must survive), for shifts of any size."""
    _, height, width = plane.shape
    dx, dy = reduce_shift(dx, width, mode), reduce_shift(dy, height, mode)
    dtype = plane.dtype
    integer = BITS[plane.element_size()] if dtype.is_floating_point else dtype
    array = plane.contiguous().view(integer).numpy() if dtype != torch.bool else plane.numpy()
    pad = max(abs(dx), abs(dy)) + 1
    fills = fill if isinstance(fill, tuple) else (fill,) * plane.shape[0]
    if NUMPY_PAD[mode] == "constant":
        out = np.empty((plane.shape[0], height + 2 * pad, width + 2 * pad), dtype=array.dtype)
        for channel, value in enumerate(fills):
            pattern = (
                torch.full((), value, dtype=dtype).view(integer)
                if dtype != torch.bool
                else (torch.tensor(bool(value)))
            )
            out[channel] = pattern.item()
        out[:, pad : pad + height, pad : pad + width] = array
    else:
        out = np.pad(array, ((0, 0), (pad, pad), (pad, pad)), mode=NUMPY_PAD[mode])
    crop = out[:, pad - dy : pad - dy + height, pad - dx : pad - dx + width]
    result = torch.from_numpy(np.ascontiguousarray(crop))
    return result.view(dtype) if dtype.is_floating_point else result
