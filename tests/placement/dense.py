"""Dense references for the placement transforms: one image, one round at a time, whole
frames (the transforms work on pixel lists of all images and rounds at once)."""

from __future__ import annotations

import numpy as np
import scipy.ndimage
import torch

from shiftaug.functional import translate_image, translate_mask

from .helpers import MeanFill

__all__ = ["Scene", "antialias", "composite", "copy_paste_reference", "relocation_reference"]

Scene = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def antialias(canvas: torch.Tensor, front: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One anti-aliased paste, computed densely with NumPy: the mask copied exactly, and every
    pixel next to it mixed with the mean colour of its k neighbours in the mask at k / 18."""
    compute = np.float64 if canvas.dtype == torch.float64 else np.float32
    inside = np.pad(mask.numpy(), 1)
    colours = np.pad(np.where(mask.numpy(), front.to(torch.float64).numpy(), 0).astype(compute),
                     ((0, 0), (1, 1), (1, 1)))  # fmt: skip
    height, width = mask.shape
    count = np.zeros(mask.shape, dtype=np.int64)
    total = np.zeros(front.shape, dtype=compute)
    for y in range(3):
        for x in range(3):
            count += inside[y : y + height, x : x + width]
            total = total + colours[:, y : y + height, x : x + width]
    alpha = torch.from_numpy(np.where(mask.numpy(), 0, count / 18).astype(compute))
    colour = torch.from_numpy(total / np.maximum(count, 1).astype(compute))
    base = canvas.to(alpha.dtype)
    mixed = torch.lerp(base, colour, alpha)
    if not canvas.dtype.is_floating_point:
        mixed = mixed.round().clamp(0, 255)
    halo = torch.where(alpha > 0, mixed.to(canvas.dtype), canvas)
    return torch.where(mask, front, halo)


def composite(canvas: torch.Tensor, front: torch.Tensor, mask: torch.Tensor, blend: str):  # type: ignore[no-untyped-def]
    return torch.where(mask, front, canvas) if blend == "hard" else antialias(canvas, front, mask)


def relocation_reference(scene: Scene, params, blend: str, margin: int):  # type: ignore[no-untyped-def]
    """Per image: fill the union of the moved objects grown by ``margin`` (a square, SciPy),
    paste them round by round; each object keeps what nothing later covered."""
    pictures, masks, valid = scene
    slots = masks.shape[1]
    out, new_masks = pictures.clone(), torch.zeros_like(masks)
    for n in range(pictures.shape[0]):
        rounds = [j for j in range(params.index.shape[1]) if params.placed[n, j]]
        moves = {int(params.index[n, j]) - n * slots: (j, params.shift[n, j]) for j in rounds}
        hole = torch.zeros(masks.shape[-2:], dtype=torch.bool)
        for k in moves:
            hole |= masks[n, k]
        if margin and bool(hole.any()):
            square = np.ones((2 * margin + 1, 2 * margin + 1), dtype=bool)
            hole = torch.from_numpy(scipy.ndimage.binary_dilation(hole.numpy(), square))
        canvas = MeanFill()(pictures[n : n + 1], hole[None, None])[0]
        top = torch.full(hole.shape, -1)
        for k, (j, shift) in sorted(moves.items(), key=lambda item: item[1][0]):
            moved = translate_mask(masks[n, k], shift)
            canvas = composite(canvas, translate_image(pictures[n], shift), moved, blend)
            top[moved] = j
        out[n] = canvas
        for k in range(slots):
            if k in moves:
                j, shift = moves[k]
                new_masks[n, k] = translate_mask(masks[n, k], shift) & ~(top > j)
            elif valid[n, k]:
                new_masks[n, k] = masks[n, k] & ~hole & (top < 0)
    return out, new_masks, new_masks.flatten(2).any(-1)


def copy_paste_reference(scene: Scene, params, blend: str):  # type: ignore[no-untyped-def]
    """Per image: paste the partner's objects round by round; every object keeps what nothing
    later covered (originals are under round 0)."""
    pictures, masks, valid = scene
    slots, rounds = masks.shape[1], params.index.shape[1]
    out = pictures.clone()
    new_masks = torch.zeros(masks.shape[0], slots + rounds, *masks.shape[-2:], dtype=torch.bool)
    for n in range(pictures.shape[0]):
        canvas, top = pictures[n].clone(), torch.full(masks.shape[-2:], -1)
        for j in range(rounds):
            if params.placed[n, j]:
                b, k = divmod(int(params.index[n, j]), slots)
                moved = translate_mask(masks[b, k], params.shift[n, j])
                front = translate_image(pictures[b], params.shift[n, j])
                canvas = composite(canvas, front, moved, blend)
                top[moved], new_masks[n, slots + j] = j, moved
        out[n] = canvas
        for j in range(rounds):
            new_masks[n, slots + j] &= ~(top > j)
        new_masks[n, :slots] = masks[n] & valid[n, :, None, None] & (top < 0)
    return out, new_masks, new_masks.flatten(2).any(-1)
