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
