"""Rotation metrics: consistency under rotations and accuracy against the angle.

Multiples of 90 degrees are exact (:func:`torch.rot90`); other angles resample bilinearly about
the image centre (kornia ``rotate``), with zeros outside the frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .shift import predict

__all__ = ["accuracy_vs_angle", "rotate_images", "rotation_consistency"]


def rotate_images(images: torch.Tensor, angle: float) -> torch.Tensor:
    """``images`` rotated counter-clockwise by ``angle`` degrees about their centre.

    Args:
        images: ``(..., C, H, W)`` float or uint8 images.
        angle: degrees, counter-clockwise; multiples of 90 are exact.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import rotate_images
        >>> x = torch.arange(4.0).reshape(1, 1, 2, 2)
        >>> rotate_images(x, 90)[0, 0].tolist()
        [[1.0, 3.0], [0.0, 2.0]]
    """
    turns = angle / 90
    if turns == int(turns):
        return torch.rot90(images, int(turns) % 4, dims=(-2, -1))
    from kornia.geometry.transform import rotate

    x = images.float() if images.dtype == torch.uint8 else images
    out = rotate(x, torch.full((len(x),), float(angle), dtype=x.dtype, device=x.device))
    return out.round().clamp(0, 255).to(images.dtype) if images.dtype == torch.uint8 else out


def _predictions(
    model: nn.Module, images: torch.Tensor, angles: Sequence[float], batch_size: int
) -> torch.Tensor:
    """``(A, N)`` top-1 classes of the images at every angle."""
    return torch.stack(
        [predict(model, rotate_images(images, a), batch_size=batch_size).argmax(1) for a in angles]
    )


def rotation_consistency(
    model: nn.Module,
    images: torch.Tensor,
    angles: Sequence[float],
    *,
    batch_size: int = 512,
) -> float:
    """P[same top-1 class at angles a and b], over images and all pairs ``a != b`` of ``angles``.

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` images (the model's view size).
        angles: the angles in degrees.
        batch_size: images per forward pass.

    Example:
        >>> import torch
        >>> from shiftaug.harness.metrics import rotation_consistency
        >>> gap = torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
        >>> rotation_consistency(gap, torch.rand(4, 3, 8, 8), [0, 90, 180, 270])
        1.0
    """
    pred = _predictions(model, images, angles, batch_size)
    a = len(angles)
    pairs = [(i, j) for i in range(a) for j in range(a) if i != j]
    if not pairs:
        return 1.0
    return torch.stack([(pred[i] == pred[j]).float() for i, j in pairs]).mean().item()


def accuracy_vs_angle(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    angles: Sequence[float],
    *,
    batch_size: int = 512,
) -> list[float]:
    """Accuracy with every image rotated by each of ``angles`` (degrees).

    Args:
        model: the classifier, ``(N, C, H, W) -> (N, classes)`` logits (put it in eval mode).
        images: ``(N, C, H, W)`` images (the model's view size).
        labels: ``(N,)`` int64 true classes.
        angles: the angles in degrees.
        batch_size: images per forward pass.

    Returns:
        One accuracy in ``[0, 1]`` per angle.
    """
    pred = _predictions(model, images, angles, batch_size)
    return (pred == labels.cpu()).float().mean(1).tolist()
