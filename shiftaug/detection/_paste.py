"""Simple Copy-Paste over a ragged batch: each image receives objects of its partner image.

Objects are pasted where they were in the partner (the paper's setting; objects beyond the
receiving frame are cut off). The work per image is a fixed handful of dense tensor operations
over its own masks (no loop over objects): the union of the pasted masks, the pixels each
original object loses under it (counted eight bytes at a time), one write of the output masks,
one blend of the image, and (if a mask changed) the boxes of the new masks, in one pass over
them. The keep/drop decisions of
the whole batch need the counts on the host: one synchronisation for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..functional import blend_images, masks_to_boxes
from ._pixels import area_and_overlap, as_bool, count_pixels, runs, union_of_rows
from ._samples import Sample

__all__ = ["PasteOptions", "Pasted", "paste_batch"]


@dataclass(frozen=True)
class PasteOptions:
    blend: str
    sigma: float
    levels: int
    iterations: int
    min_visibility: float
    min_area: float


@dataclass
class Pasted:
    """The result for one receiving image, in its own frame."""

    image: torch.Tensor  # (C, H, W)
    masks: torch.Tensor | None  # (K' + J', H, W); None when the receiver had and got no masks
    keep: list[int]  # the receiver's objects that stay, ascending
    take: list[int]  # the partner's objects pasted (and kept), ascending
    boxes: torch.Tensor | None  # (K' + J', 4) float32 xyxy; None when no sample has boxes
    area: list[int]  # pixels of each output mask


def paste_batch(
    samples: list[Sample],
    partner: list[int],
    chosen: list[list[int]],
    options: PasteOptions,
    with_boxes: bool,
) -> list[Pasted]:
    """Paste ``chosen[n]`` (ascending object indices of sample ``partner[n]``) into each sample.

    Returns one :class:`Pasted` per sample, in order.
    """
    batch = len(samples)
    unions = [_union(samples[n], samples[partner[n]], chosen[n]) for n in range(batch)]
    empty = torch.zeros(0, dtype=torch.int64, device=samples[0].image.device)
    counts: list[torch.Tensor] = []
    for n, sample in enumerate(samples):
        masks = sample.masks
        counts += [empty, empty] if masks is None else area_and_overlap(masks, unions[n])
    for n in range(batch):
        counts += _cut_counts(samples[n], samples[partner[n]], chosen[n], unions[n] is not None)
    host = _to_host(counts)  # the one synchronisation: every count of the batch at once
    area, lost = host[0 : 2 * batch : 2], host[1 : 2 * batch : 2]
    inside, total = host[2 * batch :: 2], host[2 * batch + 1 :: 2]
    return [
        _finish(
            samples[n], samples[partner[n]], chosen[n], unions[n], area[n], lost[n],
            area[partner[n]], inside[n], total[n], options, with_boxes,
        )
        for n in range(batch)
    ]  # fmt: skip


def _union(sample: Sample, partner: Sample, rows: list[int]) -> torch.Tensor | None:
    """``(H, W)`` bool: where the chosen objects land in the receiver's frame (None: nowhere)."""
    if not rows or partner.masks is None:
        return None
    return _fit(union_of_rows(partner.masks, rows), sample.size)


def _cut_counts(
    sample: Sample, partner: Sample, rows: list[int], pasting: bool
) -> list[torch.Tensor]:
    """Pixels of the chosen objects inside the receiver's frame and in all, if it cuts them."""
    device = sample.image.device
    height, width = sample.size
    if not pasting or (partner.size[0] <= height and partner.size[1] <= width):
        return [torch.zeros(0, dtype=torch.int64, device=device)] * 2
    assert partner.masks is not None
    picked = partner.masks.index_select(0, torch.as_tensor(rows, device=device))
    return [count_pixels(picked[:, :height, :width]), count_pixels(picked)]


def _to_host(tensors: list[torch.Tensor]) -> list[list[int]]:
    sizes = [t.numel() for t in tensors]
    flat = torch.cat(tensors).tolist() if tensors else []
    out, offset = [], 0
    for size in sizes:
        out.append(flat[offset : offset + size])
        offset += size
    return out


def _finish(
    sample: Sample,
    partner: Sample,
    rows: list[int],
    union: torch.Tensor | None,
    area: list[int],
    lost: list[int],
    partner_area: list[int],
    inside: list[int],
    total: list[int],
    options: PasteOptions,
    with_boxes: bool,
) -> Pasted:
    """Decide which objects stay, then write the receiver's masks, boxes and image."""
    if union is None:  # nothing pasted: the sample as it came
        return Pasted(sample.image, sample.masks, list(range(sample.count)), [], sample.boxes, area)
    left = [a - b for a, b in zip(area, lost, strict=True)]
    keep = [k for k in range(sample.count) if not lost[k] or _fits(left[k], area[k], options)]
    if not total:  # nothing cut: pasted objects keep every pixel
        inside = total = [partner_area[r] for r in rows]
    kept = [  # an object without pixels has nothing to paste
        j for j in range(len(rows))
        if total[j] and (inside[j] == total[j] or _fits(inside[j], total[j], options))
    ]  # fmt: skip
    take = [rows[j] for j in kept]
    masks = _write_masks(sample, partner, union, keep, take)
    boxes = None
    if with_boxes:
        changed = [lost[k] > 0 for k in keep] + [inside[j] < total[j] for j in kept]
        boxes = _boxes(sample, partner, masks, keep, take, changed)
    return Pasted(
        _blend(sample, partner, union, options), masks, keep, take, boxes,
        [left[k] for k in keep] + [inside[j] for j in kept],
    )  # fmt: skip


def _fits(left: int, before: int, options: PasteOptions) -> bool:
    """An object that lost pixels stays if enough of it is left (``min_visibility``/``min_area``)."""
    return left > 0 and left >= options.min_area and left >= options.min_visibility * before


def _write_masks(
    sample: Sample, partner: Sample, union: torch.Tensor, keep: list[int], take: list[int]
) -> torch.Tensor:
    """``(len(keep) + len(take), H, W)``: originals minus the union, then the pasted objects."""
    assert partner.masks is not None  # something is pasted only from partners with masks
    like = sample.masks if sample.masks is not None else partner.masks
    height, width = sample.size
    out = like.new_empty((len(keep) + len(take), height, width))
    row = 0
    if sample.masks is not None:
        visible = (~union).to(like.dtype)
        for start, stop in runs(keep):
            torch.bitwise_and(sample.masks[start:stop], visible, out=out[row : row + stop - start])
            row += stop - start
    cut_h, cut_w = min(height, partner.size[0]), min(width, partner.size[1])
    pasted = out[row:]
    if (cut_h, cut_w) == (height, width) == partner.size and partner.masks.dtype == out.dtype:
        index = torch.as_tensor(take, device=out.device)
        torch.index_select(partner.masks, 0, index, out=pasted)  # one gather, in place
        return out
    if (cut_h, cut_w) != (height, width):
        pasted.zero_()
    for start, stop in runs(take):
        pasted[: stop - start, :cut_h, :cut_w] = partner.masks[start:stop, :cut_h, :cut_w]
        pasted = pasted[stop - start :]
    return out


def _boxes(
    sample: Sample,
    partner: Sample,
    masks: torch.Tensor,
    keep: list[int],
    take: list[int],
    changed: list[bool],
) -> torch.Tensor:
    """Input boxes where a mask kept every pixel, boxes of the new masks elsewhere."""
    parts = []
    for source, rows in ((sample, keep), (partner, take)):
        if rows:
            assert source.boxes is not None  # every sample with objects has boxes (checked)
            parts.append(source.boxes.index_select(0, torch.as_tensor(rows, device=masks.device)))
    boxes = torch.cat(parts) if parts else masks.new_zeros((0, 4), dtype=torch.float32)
    if not any(changed):
        return boxes
    # One pass over all the masks (two fast max-reductions) beats a call per changed run.
    flags = torch.as_tensor(changed, device=masks.device)
    return torch.where(flags[:, None], masks_to_boxes(as_bool(masks))[0], boxes)


def _blend(
    sample: Sample, partner: Sample, union: torch.Tensor, options: PasteOptions
) -> torch.Tensor:
    image = sample.image
    height, width = sample.size
    if partner.size == sample.size:
        source = partner.image
    else:  # the partner's pixels where it has any, the receiver's own elsewhere
        source = image.clone()
        cut_h, cut_w = min(height, partner.size[0]), min(width, partner.size[1])
        source[:, :cut_h, :cut_w] = partner.image[:, :cut_h, :cut_w]
    out = blend_images(
        image[None], source[None], union[None, None], mode=options.blend, sigma=options.sigma,
        levels=options.levels, iterations=options.iterations,
    )  # fmt: skip
    return out[0]


def _fit(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``mask`` cut or zero-padded (bottom/right) to ``size``."""
    height, width = size
    if tuple(mask.shape) == size:
        return mask
    out = mask.new_zeros(size)
    cut_h, cut_w = min(height, mask.shape[0]), min(width, mask.shape[1])
    out[:cut_h, :cut_w] = mask[:cut_h, :cut_w]
    return out
