"""OpenCV's classical inpainting (Telea's fast marching, Navier-Stokes), per image on CPU.

These are the reference fills the fast torch backends are measured against. ``cv2`` is
imported on first use, so ``import shiftaug.inpaint`` does not need OpenCV.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import check_choice
from ._base import register_inpainter
from ._common import check_positive, composite, prepare, work_dtype
from ._harmonic import pull_push_

__all__ = ["OpenCVInpainter", "navier_stokes", "telea"]

_METHODS = ("telea", "navier_stokes")


def _cv2() -> Any:
    try:
        import cv2
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "The 'telea' and 'navier_stokes' backends need OpenCV: "
            "pip install 'shiftaug[placement]' (or opencv-python-headless)."
        ) from error
    return cv2


class OpenCVInpainter:
    """``cv2.inpaint`` applied to each image of a batch on the CPU, results moved back.

    uint8 images with 1 or 3 channels go to OpenCV as they are. Other images are filled one
    channel at a time in float32, with each channel's known values mapped linearly onto
    ``[0, 255]`` (the range the algorithms are tuned for) and back: OpenCV's Telea fill is wrong
    for float values in ``[0, 1]`` (OpenCV 5.0 returns values far outside the known range).

    OpenCV reads the pixels *under* a hole where the hole touches the image border, so the
    hole's content is replaced first by the pull-push fill of the known pixels (the protocol
    ignores it). An image whose every pixel is a hole is filled with 0, as by the torch
    backends.

    Args:
        method: ``"telea"`` (``cv2.INPAINT_TELEA``, Telea 2004) or ``"navier_stokes"``
            (``cv2.INPAINT_NS``, Bertalmio et al. 2001).
        radius: neighbourhood radius in pixels that OpenCV considers around each filled pixel.

    Shape:
        ``images`` ``(N, C, H, W)`` (uint8 or float), ``holes`` ``(N, 1, H, W)`` bool ->
        ``(N, C, H, W)`` in ``images``' dtype and device.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import OpenCVInpainter
        >>> images = torch.full((2, 3, 16, 16), 100, dtype=torch.uint8)
        >>> holes = torch.zeros(2, 1, 16, 16, dtype=torch.bool)
        >>> holes[:, :, 4:8, 4:8] = True
        >>> images[:, :, 4:8, 4:8] = 0  # the hole's content is ignored
        >>> out = OpenCVInpainter("navier_stokes", radius=3)(images, holes)
        >>> out.unique().tolist()
        [100]
    """

    def __init__(self, method: str = "telea", radius: float = 3.0) -> None:
        self.method = check_choice("method", method, _METHODS)
        self.radius = check_positive("radius", radius)

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        if images.numel() == 0:
            return images.clone()
        cv2 = _cv2()
        flag = cv2.INPAINT_TELEA if self.method == "telea" else cv2.INPAINT_NS
        native = images.dtype == torch.uint8 and images.shape[1] in (1, 3)
        with torch.no_grad():  # what OpenCV may read under the holes: a fill of the known pixels
            guess = pull_push_(images.detach().to(work_dtype(images.dtype)), holes)
        host = composite(images.detach(), holes, guess).cpu()
        pixels = (host if native else host.float()).permute(0, 2, 3, 1).numpy()
        masks = holes[:, 0].cpu().numpy().astype(np.uint8)
        filled = pixels.copy()
        for index in range(images.shape[0]):
            if not masks[index].any() or masks[index].all():  # nothing to fill / nothing known
                continue
            if native:
                result = cv2.inpaint(pixels[index], masks[index], self.radius, flag)
                filled[index] = result.reshape(filled[index].shape)
            else:
                for channel in range(pixels.shape[-1]):
                    filled[index, ..., channel] = _inpaint_plane(
                        cv2, pixels[index, ..., channel], masks[index], self.radius, flag
                    )
        result = torch.from_numpy(filled).permute(0, 3, 1, 2).to(images.device)
        return composite(images, holes, result)

    def __repr__(self) -> str:
        return f"OpenCVInpainter(method={self.method!r}, radius={self.radius})"


def _inpaint_plane(
    cv2: Any, plane: np.ndarray, mask: np.ndarray, radius: float, flag: int
) -> np.ndarray:
    """Fill one float plane through OpenCV's float32 path, rescaled (see :class:`OpenCVInpainter`)."""
    known = plane[mask == 0]
    if known.size == 0:
        return plane
    low, high = float(known.min()), float(known.max())
    if high <= low:
        return np.full_like(plane, low)
    scale = 255.0 / (high - low)
    scaled = ((plane.astype(np.float64) - low) * scale).astype(np.float32)
    result = cv2.inpaint(scaled, mask, radius, flag)
    return (low + result.astype(np.float64) / scale).astype(plane.dtype)


@register_inpainter("telea")
def telea(radius: float = 3.0) -> OpenCVInpainter:
    """OpenCV's Telea fill (``cv2.INPAINT_TELEA``); see :class:`OpenCVInpainter`."""
    return OpenCVInpainter("telea", radius=radius)


@register_inpainter("navier_stokes")
def navier_stokes(radius: float = 3.0) -> OpenCVInpainter:
    """OpenCV's Navier-Stokes fill (``cv2.INPAINT_NS``); see :class:`OpenCVInpainter`."""
    return OpenCVInpainter("navier_stokes", radius=radius)
