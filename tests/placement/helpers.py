"""Shared test data for the placement tests: scenes with rectangular objects, a tiny real fill."""

from __future__ import annotations

import torch


class MeanFill:
    """A real (if crude) inpainter: every hole pixel becomes its image's mean colour outside
    the hole. Picklable, so transforms using it can be pickled."""

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        keep = (~holes).to(torch.float64)
        total = (images.to(torch.float64) * keep).sum((-2, -1), keepdim=True)
        mean = total / keep.sum((-2, -1), keepdim=True).clamp(min=1)
        if not images.dtype.is_floating_point:
            mean = mean.round()
        return torch.where(holes, mean.to(images.dtype), images)


def rect_scene(
    batch: int = 3,
    size: tuple[int, int] = (24, 28),
    rects: tuple[tuple[int, int, int, int], ...] = ((2, 3, 6, 5), (14, 12, 5, 7), (4, 18, 4, 4)),
    dtype: torch.dtype = torch.float32,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random images with disjoint rectangular objects ``(top, left, height, width)``."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 3, *size, generator=generator)
    images = (images * 255).round().to(torch.uint8) if dtype == torch.uint8 else images.to(dtype)
    masks = torch.zeros(batch, len(rects), *size, dtype=torch.bool)
    for k, (top, left, height, width) in enumerate(rects):
        masks[:, k, top : top + height, left : left + width] = True
    return images, masks


def object_keypoints(masks: torch.Tensor) -> torch.Tensor:
    """``(N, K, 2, 2)`` keypoints on the first and last pixel of each object (pixel centres)."""
    batch, slots = masks.shape[:2]
    points = torch.zeros(batch, slots, 2, 2)
    for n in range(batch):
        for k in range(slots):
            pixels = torch.nonzero(masks[n, k])
            if len(pixels):
                first, last = pixels[0], pixels[-1]
                points[n, k, 0] = torch.stack([first[1], first[0]]).float() + 0.5
                points[n, k, 1] = torch.stack([last[1], last[0]]).float() + 0.5
    return points
