"""The ``"context"`` policy: positions whose surroundings look like the object's own.

After InstaBoost (Fang et al., ICCV 2019, "InstaBoost: Boosting Instance Segmentation via
Probability Map Guided Copy-Pasting"): the probability of moving an object by ``d`` grows with
the similarity between the background around the object where it was (a band of ``width``
pixels around its mask, in the image it comes from) and the background the same band covers
after the move (in the image it goes into). Here the dissimilarity is the mean squared
difference over the band pixels that are background on both sides,

    msd(d) = sum_q r(q) b(q + d) |t(q + d) - s(q)|^2 / (C sum_q r(q) b(q + d)),

with ``r`` the band (background pixels of the source ``s`` only) and ``b`` the background of
the target ``t``; the weight of ``d`` is ``exp(-msd(d) / (2 sigma^2 var))`` with ``var`` the
target's background variance (mean over channels; so ``sigma`` is unit-free). Expanding the square turns every sum
over ``q`` into a cross-correlation, so all moves of all objects come from a few FFTs on the
device. Moves where less than half of the band lands on visible background get weight 0; an
object without any background around it gets a flat map (no context to match).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..functional._blend import dilate_mask_
from ._canvas import Frame, correlate, pad_to_canvas

__all__ = ["ContextImages", "context_weights"]


class ContextImages(NamedTuple):
    """What the ``"context"`` policy compares, one row per object.

    Attributes:
        source: ``(M, C, Hc, Wc)`` float picture each object comes from, on the masks' canvas.
        source_known: ``(M, Hc, Wc)`` bool, its background pixels (no object on them).
        target: ``(M, C, H, W)`` float image each object goes into (the frame).
        target_known: ``(M, H, W)`` bool, its background pixels.
        width: band width in pixels around the object.
        sigma: similarity scale, a fraction of the target background's standard deviation.
    """

    source: torch.Tensor
    source_known: torch.Tensor
    target: torch.Tensor
    target_known: torch.Tensor
    width: int
    sigma: float


def context_weights(
    masks: torch.Tensor,
    context: ContextImages,
    frame: Frame,
    dx: torch.Tensor,
    dy: torch.Tensor,
    allowed: torch.Tensor,
) -> torch.Tensor:
    """``(M, len(dy), len(dx))`` weights of the moves ``d`` (see the module), 0 where
    ``allowed`` (same shape, bool) is False.

    Weights are relative: each object's map is divided by its largest allowed weight (in the
    exponent), so a map never underflows to all zeros.
    """
    canvas = (masks.shape[-2], masks.shape[-1])
    band = dilate_mask_(masks, context.width) & ~masks & context.source_known
    known = context.target_known[:, None].to(torch.float32)
    target = context.target.to(torch.float32)
    # Standardise both sides by the target background's mean and spread: differences keep
    # their ratios, and the correlations stay small in float32 (little cancellation).
    count = known.sum((-2, -1), keepdim=True).clamp(min=1)
    mean = (target * known).sum((-2, -1), keepdim=True) / count
    var = (((target - mean) ** 2) * known).sum((-2, -1), keepdim=True) / count
    spread = var.mean(1, keepdim=True).sqrt().clamp(min=1e-6)
    target = (target - mean) / spread * known
    source = (context.source.to(torch.float32) - mean) / spread
    ring = band[:, None].to(torch.float32)
    objects = torch.cat([ring, ring * source, ring * (source**2).sum(1, keepdim=True), ring], 1)
    maps = torch.cat([(target**2).sum(1, keepdim=True), target, known, known], 1)
    sums = correlate(objects, pad_to_canvas(maps, frame, canvas), dx, dy)
    channels = source.shape[1]
    cross = sums[:, 1 : 1 + channels].sum(1)
    seen = sums[:, -1]
    squared = (sums[:, 0] - 2 * cross + sums[:, 1 + channels]).clamp(min=0)
    msd = squared / (seen.clamp(min=0.5) * channels)
    scale = 2 * context.sigma**2
    enough = seen >= 0.5 * ring.sum((-3, -2, -1)).view(-1, 1, 1) - 0.25
    flat = ~band.flatten(1).any(1).view(-1, 1, 1)  # nothing around the object: no context
    usable = allowed & (enough | flat)
    cost = torch.where(usable, torch.where(flat, 0.0, msd / scale), torch.inf)
    best = cost.flatten(1).amin(1).view(-1, 1, 1)
    return torch.exp(-(cost - torch.where(best.isfinite(), best, 0.0))).to(torch.float32)
