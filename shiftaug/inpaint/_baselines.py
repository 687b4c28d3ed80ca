"""Cheap baseline fills: a constant, the image's mean colour, a normalised Gaussian blur."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from .._checks import describe
from ._base import register_inpainter
from ._common import check_positive, composite, prepare, work_dtype

__all__ = ["BlurInpainter", "ConstantInpainter", "MeanInpainter", "known_mean"]


def known_mean(images: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """Per-image, per-channel mean of the known pixels, ``(N, C, 1, 1)``; 0 where none is known.

    ``images`` is float ``(N, C, H, W)``, ``known`` the same-dtype ``(N, 1, H, W)`` 0/1 weights.
    """
    total = (images * known).sum((-2, -1), keepdim=True)
    return total / known.sum((-2, -1), keepdim=True).clamp_min(1)


@register_inpainter("constant")
class ConstantInpainter:
    """Fill every hole with one value (or one value per channel).

    Args:
        value: the fill, in the images' range (0-255 for uint8); a number or a sequence with
            one number per channel.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import ConstantInpainter
        >>> holes = torch.tensor([[[[True, False]]]])
        >>> ConstantInpainter(7)(torch.ones(1, 1, 1, 2), holes)
        tensor([[[[7., 1.]]]])
    """

    def __init__(self, value: float | Sequence[float] = 0.0) -> None:
        values = [value] if isinstance(value, (int, float)) else value
        if not isinstance(values, Sequence) or isinstance(values, str) or not values:
            raise TypeError(
                f"`value` must be a number or a sequence of numbers, but got {describe(value)}."
            )
        for item in values:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise TypeError(
                    f"`value` must be a finite number or a sequence of them, but got "
                    f"{describe(value)}."
                )
            if not math.isfinite(item):
                raise ValueError(f"`value` must be finite, but got {value!r}.")
        self.value = tuple(float(item) for item in values)

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        channels = images.shape[1]
        if len(self.value) not in (1, channels):
            raise ValueError(
                f"`value` must have 1 or {channels} entries (one per channel), but got "
                f"{len(self.value)}."
            )
        if images.dtype == torch.uint8 and not all(0 <= v <= 255 for v in self.value):
            raise ValueError(
                f"`value` must be in [0, 255] for uint8 images, but got {self.value!r}."
            )
        fill = torch.tensor(self.value, dtype=work_dtype(images.dtype), device=images.device)
        return composite(images, holes, fill.view(1, -1, 1, 1))

    def __repr__(self) -> str:
        value = self.value[0] if len(self.value) == 1 else self.value
        return f"ConstantInpainter(value={value!r})"


@register_inpainter("mean")
class MeanInpainter:
    """Fill each image's holes with the mean colour of its known pixels (0 if none is known).

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import MeanInpainter
        >>> images = torch.tensor([[[[2.0, 4.0, 0.0]]]])
        >>> MeanInpainter()(images, torch.tensor([[[[False, False, True]]]]))
        tensor([[[[2., 4., 3.]]]])
    """

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        work = images.to(work_dtype(images.dtype))
        return composite(images, holes, known_mean(work, (~holes).to(work.dtype)))

    def __repr__(self) -> str:
        return "MeanInpainter()"


def _gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with zero padding (so it can be normalised afterwards).

    Written as a sum of shifted slices rather than a convolution so that every output pixel is
    computed in the same order whatever the batch size (batched == per-sample, bit for bit).
    """
    radius = max(1, math.ceil(3 * sigma))
    taps = torch.arange(-radius, radius + 1, dtype=torch.float64)
    gauss = torch.exp(-0.5 * (taps / sigma) ** 2)
    weights: list[float] = (gauss / gauss.sum()).tolist()
    height, width = x.shape[-2:]
    padded = F.pad(x, (radius, radius))
    rows = torch.zeros_like(x)
    for k, weight in enumerate(weights):
        rows = rows + weight * padded[..., k : k + width]
    padded = F.pad(rows, (0, 0, radius, radius))
    out = torch.zeros_like(x)
    for k, weight in enumerate(weights):
        out = out + weight * padded[..., k : k + height, :]
    return out


@register_inpainter("blur")
class BlurInpainter:
    """Normalised Gaussian convolution: a Gaussian-weighted mean of the known pixels nearby.

    ``fill = (G * (x k) + e m) / (G * k + e)`` with ``k`` the known mask, ``G`` a Gaussian of
    width ``sigma``, ``m`` the image's mean known colour and a small ``e``, so pixels further
    than about ``3 sigma`` from any known pixel fade to the mean colour instead of dividing by 0.

    Args:
        sigma: standard deviation of the Gaussian in pixels.

    Example:
        >>> import torch
        >>> from shiftaug.inpaint import BlurInpainter
        >>> images = torch.full((1, 3, 8, 8), 0.5)
        >>> holes = torch.zeros(1, 1, 8, 8, dtype=torch.bool)
        >>> holes[..., 3:5, 3:5] = True
        >>> bool(torch.allclose(BlurInpainter(sigma=2.0)(images, holes), images))
        True
    """

    def __init__(self, sigma: float = 4.0) -> None:
        self.sigma = check_positive("sigma", sigma)

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        images, holes = prepare(images, holes)
        if images.numel() == 0:
            return images.clone()
        work = images.to(work_dtype(images.dtype))
        known = (~holes).to(work.dtype)
        eps = 1e-3
        numerator = _gaussian_blur(work * known, self.sigma) + eps * known_mean(work, known)
        denominator = _gaussian_blur(known, self.sigma) + eps
        return composite(images, holes, numerator / denominator)

    def __repr__(self) -> str:
        return f"BlurInpainter(sigma={self.sigma})"
