"""``CopyPaste``: Simple Copy-Paste (Ghiasi et al., CVPR 2021), batched on the device."""

from __future__ import annotations

import math
from typing import Any

import torch

from .._checks import check_real, describe
from ..functional._boxes import masks_to_boxes
from ..functional._instances import mask_area, occlude_masks_, top_round
from ..functional._pixel_paste import (
    boxes_meet,
    clear_pixels,
    drop_objects,
    paste_pixels,
    refresh_boxes,
)
from ..functional._placement import paste_objects_, scale_masks, scale_pictures, scale_points
from ..params._context import ContextImages
from ..params._placement import PlacementParams
from ..params._positions import Frame
from ..params._translate import resolve_shift_range
from ._base import RandomTransform
from ._objects import (
    Objects,
    PlacementOutput,
    check_blend,
    check_occlusion,
    finish,
    gather_masks,
    run_placement,
    union_of,
)
from ._policy import PlacementPolicy, RoundInputs, choose_objects, draw_rounds, parse_count

__all__ = ["CopyPaste"]


class CopyPaste(RandomTransform):
    """Paste objects from other images of the batch into each image, with occlusion bookkeeping.

    Image ``n`` receives objects from one partner image ``b != n`` of the same batch (drawn per
    call): ``num_objects`` of the partner's objects, optionally rescaled about their box centre
    by a factor drawn from ``scale_range``, placed by ``policy`` (``"same"``: where they were in
    the partner image, as in the paper) and blended on top. Existing objects lose the pixels the
    pasted ones cover and are dropped (``valid=False``) when their visible fraction falls below
    ``min_visibility`` or their area below ``min_area``; boxes are recomputed from the masks.
    The outputs hold ``K + J`` slots: the ``K`` original objects, then ``J = min(high, K)`` slots
    for pasted ones (``valid`` marks which were pasted).

    Args:
        num_objects: objects pasted per image: ``n``, ``(low, high)`` or ``"all"``.
        policy: as in :class:`RandomRelocate`; default ``"same"``.
        shift_px: move range in pixels for the other policies (grammar of
            :class:`~shiftaug.RandomTranslate`).
        shift_frac: the same as a fraction of the image size.
        min_inside: fraction of a pasted object (the whole scaled object) that must land in the
            frame.
        region: ``(H, W)`` or ``(N, H, W)`` bool map for ``policy="region"``.
        density: ``(H, W)`` or ``(N, H, W)`` weights for ``policy="density"``.
        stride: lattice step for ``policy="grid"``.
        context_width: band width in pixels for ``policy="context"``.
        context_sigma: similarity scale for ``policy="context"``.
        scale_range: ``(low, high)`` factors for scale jitter (resampled bilinearly), or
            ``None`` for exact copies.
        blend: ``"antialias"`` (default: exact pixels plus a soft one-pixel halo), ``"hard"``,
            ``"feather"``, ``"laplacian"`` or ``"poisson"``.
        sigma: Gaussian std for ``"feather"``.
        levels: pyramid levels for ``"laplacian"``.
        iterations: conjugate-gradient iterations for ``"poisson"``.
        on_no_position: ``"skip"`` or ``"raise"``.
        min_visibility: objects that lost pixels (under a paste, or a pasted object to the
            frame) are dropped when they keep less than this fraction of their whole area (the
            paper drops fully occluded objects; 0 keeps any object with a pixel left). Objects
            that lost nothing are never dropped.
        min_area: objects that lost pixels are dropped below this many visible pixels.
        p: probability that an image receives anything.
        generator: random source.

    Shape:
        - image: ``(N, C, H, W)``; masks: ``(N, K, H, W)`` bool or ``(N, H, W)`` id map
        - valid, labels: ``(N, K)``; keypoints: ``(N, K, P, 2)``
        - output: :class:`~shiftaug.PlacementOutput` with ``K + J`` slots

    Example:
        >>> import torch
        >>> from shiftaug import CopyPaste
        >>> images = torch.rand(4, 3, 32, 32)
        >>> masks = torch.zeros(4, 2, 32, 32, dtype=torch.bool)
        >>> masks[:, 0, 2:10, 2:10] = True
        >>> masks[:, 1, 20:30, 15:25] = True
        >>> out = CopyPaste(num_objects=1, generator=torch.Generator().manual_seed(0))(images, masks)
        >>> out.masks.shape, out.valid.shape
        (torch.Size([4, 3, 32, 32]), torch.Size([4, 3]))
    """

    relocation = False  # objects come from other images (replayed params are checked so)

    def __init__(
        self,
        num_objects: int | tuple[int, int] | str = (1, 3),
        *,
        policy: str = "same",
        shift_px: object = None,
        shift_frac: object = None,
        min_inside: float = 1.0,
        region: torch.Tensor | None = None,
        density: torch.Tensor | None = None,
        stride: int = 8,
        context_width: int = 4,
        context_sigma: float = 0.5,
        scale_range: tuple[float, float] | None = None,
        blend: str = "antialias",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 1.0,
        p: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(p=p, same_on_batch=False, generator=generator)
        self.count = parse_count(num_objects)
        self.num_objects = num_objects
        self.placement = PlacementPolicy.create(
            policy, resolve_shift_range(shift_px, shift_frac, allow_none=True), min_inside,
            region, density, stride, on_no_position, context_width, context_sigma,
        )  # fmt: skip
        self.scale_range = _check_scale_range(scale_range)
        check_blend(blend, sigma, levels, iterations)
        self.blend, self.sigma, self.levels, self.iterations = blend, sigma, levels, iterations
        self.min_visibility, self.min_area = check_occlusion(min_visibility, min_area)

    def make_params(  # type: ignore[override]
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        valid: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> PlacementParams:
        """Draw partners, objects, scales and positions."""
        generator = generator if generator is not None else self.generator
        batch, slots = valid.shape
        device = valid.device
        source = generator.device if generator is not None else device
        offset = torch.randint(1, max(batch, 2), (batch,), generator=generator, device=source)
        partner = (torch.arange(batch, device=device) + offset.to(device)).remainder(max(batch, 1))
        order, requested = choose_objects(valid[partner], self.count, self.p, generator)
        if batch < 2:
            requested = torch.zeros_like(requested)  # nobody to copy from
        index = partner[:, None] * slots + order
        rounds = order.shape[1]
        scale = torch.ones(batch, rounds, device=device)
        if self.scale_range is not None:
            low, high = self.scale_range
            unit = torch.rand(batch, rounds, generator=generator, device=source).to(device)
            scale = low + (high - low) * unit
        if self.placement.policy == "same":  # the paper's default: no masks to look at
            shift_t, placed_t = torch.zeros(batch, rounds, 2, device=device), requested.clone()
        else:
            chosen, inputs = self._round_inputs(image, masks, index, scale)
            shift_t, placed_t = draw_rounds(self.placement, chosen, requested, generator, inputs)
        return PlacementParams(
            index=index, shift=shift_t, scale=scale, requested=requested, placed=placed_t,
            image_size=(image.shape[-2], image.shape[-1]), slots=slots,
        )  # fmt: skip

    def _round_inputs(
        self, image: torch.Tensor, masks: torch.Tensor, index: torch.Tensor, scale: torch.Tensor
    ) -> tuple[torch.Tensor, RoundInputs]:
        """The chosen objects' masks (scaled in place on a canvas that holds them whole) and
        what the policy needs besides them."""
        batch, rounds = index.shape
        size = (image.shape[-2], image.shape[-1])
        chosen = gather_masks(masks, index)
        pad, frame = 0, None
        if self.scale_range is not None:
            pad = canvas_pad(self.scale_range[1], size)
            frame = Frame(pad, pad, *size)
            flat = scale_masks(chosen.flatten(0, 1), scale.flatten(), pad)
            chosen = flat.view(batch, rounds, *flat.shape[-2:])
        union = union_of(masks)
        context = None
        if self.placement.policy == "context":
            context = [
                self._context(image, masks, union, index[:, j], scale[:, j], pad)
                for j in range(rounds)
            ]
        blocked = union if self.placement.policy == "non_overlapping" else None
        return chosen, RoundInputs(blocked=blocked, frame=frame, context=context)

    def _context(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        union: torch.Tensor,
        index: torch.Tensor,
        scale: torch.Tensor,
        pad: int,
    ) -> ContextImages:
        """One round's context images: each object's source picture and background (scaled
        with the object onto the canvas) against the image it goes into."""
        partner = torch.div(index, max(masks.shape[1], 1), rounding_mode="floor")
        picture = image.to(torch.float32)
        known = ~union
        source, source_known = picture[partner], known[partner]
        if self.scale_range is not None:
            objects = gather_masks(masks, index[:, None])[:, 0]
            source = scale_pictures(source, objects, scale, pad)
            source_known = scale_masks(source_known, scale, pad, centre_of=objects)
        return ContextImages(
            source, source_known, picture, known, self.placement.context_width,
            self.placement.context_sigma,
        )  # fmt: skip

    def forward(
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        valid: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        keypoints: torch.Tensor | None = None,
        *,
        params: PlacementParams | None = None,
    ) -> PlacementOutput:
        """Paste objects between the images of the batch; ``params`` replays a draw."""
        return run_placement(self, image, masks, valid, labels, keypoints, params)

    def _place(
        self, image: torch.Tensor, objects: Objects, params: PlacementParams
    ) -> PlacementOutput:
        batch, slots = objects.valid.shape
        device = objects.valid.device
        depth = torch.cat(
            [torch.full((batch, slots), -1, device=device, dtype=torch.long),
             torch.arange(params.index.shape[1], device=device).expand(batch, -1)], 1,
        )  # fmt: skip
        scaled = self.scale_range is not None or bool((params.scale != 1).any())
        if self.blend in ("hard", "antialias") and not scaled:
            out, masks, valid, boxes, top = self._paste_exact(image, objects, params)
        else:
            out, masks, valid, boxes, top = self._paste_blended(
                image, objects, params, depth, scaled
            )
        labels = objects.labels
        if labels is not None:
            taken = labels.flatten()[params.index.clamp(0, max(labels.numel() - 1, 0))]
            labels = torch.cat([labels, torch.where(params.placed, taken, -1)], 1)
        points = objects.keypoints
        if points is not None:
            points = torch.cat([points, _pasted_points(points, objects.boxes, params)], 1)
        return finish(out, masks, valid, boxes, labels, points, depth, top, params, objects)

    def _paste_exact(self, image: torch.Tensor, objects: Objects, params: PlacementParams) -> Any:
        """Unscaled pastes: pixel lists, occlusion only where something was pasted."""
        masks, valid = objects.masks, objects.valid
        batch, slots = valid.shape
        rounds = params.index.shape[1]
        out = image.clone(memory_format=torch.contiguous_format)
        got = paste_pixels(
            out, image, masks, objects.boxes, params.index, params.shift, params.placed,
            antialias=self.blend == "antialias",
        )  # fmt: skip
        new_masks = masks.new_empty((batch, slots + rounds, *masks.shape[-2:]))
        new_masks[:, :slots] = masks
        new_masks[:, slots:] = False
        # A pasted object keeps its pixels that no later round covered; those pixels hide the
        # original objects below them.
        # Each visible pasted pixel sets its object's mask: slot K + j of image n.
        plane = masks.shape[-2] * masks.shape[-1]
        per_entry = torch.arange(batch, device=valid.device)[:, None] * (slots + rounds) + slots
        per_entry = (per_entry + torch.arange(rounds, device=valid.device)).flatten() * plane
        offset = per_entry.index_select(0, got.entry) - got.image * plane
        new_masks.view(-1).index_fill_(0, got.pixel + offset, True)
        reach = boxes_meet(objects.boxes, got.boxes * params.placed[..., None])
        lost = clear_pixels(new_masks, got.pixel, got.image, slots, images=reach)
        measured = valid & (lost > 0)  # originals that lost pixels: measure their area
        before = lost.clone()
        rows = torch.nonzero(measured.flatten()).flatten()
        before.view(-1).index_copy_(0, rows, _areas_at(masks, rows))
        # Pasted objects are measured against their whole area: the frame may have cut them.
        whole = got.area.clone()
        cut = torch.nonzero((got.clipped & params.placed).flatten()).flatten()
        whole.view(-1).index_copy_(0, cut, _areas_at(masks, params.index.flatten()[cut]))
        before = torch.cat([before, whole], 1)
        left = torch.cat([before[:, :slots] - lost, got.visible], 1)
        measured = torch.cat([measured, params.placed & (got.visible < whole)], 1)
        all_valid = torch.cat([valid, params.placed], 1)
        new_valid = drop_objects(
            new_masks, all_valid, measured, left, before, self.min_visibility, self.min_area
        )
        boxes = torch.cat([objects.boxes, got.boxes], 1)
        stale = new_valid & (measured | torch.cat([torch.zeros_like(valid), got.clipped], 1))
        return out, new_masks, new_valid, refresh_boxes(boxes, new_masks, stale), got.top

    def _paste_blended(
        self,
        image: torch.Tensor,
        objects: Objects,
        params: PlacementParams,
        depth: torch.Tensor,
        scaled: bool,
    ) -> Any:
        """Blended or rescaled pastes: whole-frame rounds, occlusion from the top-round map
        (``scaled``: some object is resized, as :meth:`_place` found once)."""
        masks, valid = objects.masks, objects.valid
        scale = params.scale if scaled else None
        out, pasted = paste_objects_(
            image, image, masks, params.index, params.shift, params.placed, scale,
            blend=self.blend, sigma=self.sigma, levels=self.levels, iterations=self.iterations,
        )  # fmt: skip
        top = top_round(pasted)
        # Pasted objects are measured against their whole (scaled) area: the frame may cut them.
        objects_at = gather_masks(masks, params.index)
        if scale is None:
            whole = mask_area(objects_at).long()
        else:
            size = (image.shape[-2], image.shape[-1])
            pad = canvas_pad(float(scale.max()) if scale.numel() else 1.0, size)
            flat = scale_masks(objects_at.flatten(0, 1), scale.flatten(), pad)
            whole = mask_area(flat).long().view_as(params.index)
        reference = torch.cat([torch.full_like(depth[:, : valid.shape[1]], -1),
                               torch.where(params.placed, whole, -1)], 1)  # fmt: skip
        new_masks, new_valid = occlude_masks_(
            torch.cat([masks, pasted], 1), torch.cat([valid, params.placed], 1), depth, top,
            reference, self.min_visibility, self.min_area,
        )  # fmt: skip
        boxes = masks_to_boxes(new_masks)[0]
        return out, new_masks, new_valid, boxes, top

    def extra_repr(self) -> str:
        return (
            f"num_objects={self.num_objects!r}, policy={self.placement.policy!r}, "
            f"scale_range={self.scale_range}, blend={self.blend!r}, "
            f"min_visibility={self.min_visibility}, min_area={self.min_area}, p={self.p}"
        )


def _pasted_points(
    points: torch.Tensor, boxes: torch.Tensor, params: PlacementParams
) -> torch.Tensor:
    """Keypoints of the pasted objects, mapped as their pixels were (scale about centre, move)."""
    flat_points = points.flatten(0, 1)
    index = params.index.clamp(0, max(flat_points.shape[0] - 1, 0))
    source = flat_points[index]  # (N, J, P, 2)
    box = boxes.flatten(0, 1)[index]
    centre = (box[..., :2] + box[..., 2:]) / 2
    return scale_points(source.to(torch.float32), centre, params.scale, params.shift).to(
        points.dtype
    )


def _areas_at(masks: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """int64 pixel counts of the masks at flat ``(image, slot)`` rows of ``masks (N, K, H, W)``."""
    return mask_area(masks.flatten(0, 1).index_select(0, rows)).long()


def canvas_pad(largest_scale: float, size: tuple[int, int]) -> int:
    """Pixels to add on every side of the frame so that any object scaled in place by at most
    ``largest_scale`` fits: it grows by ``(scale - 1) / 2`` of its size on each side of its
    box centre, and is at most the frame's size."""
    if largest_scale <= 1:
        return 0
    return math.ceil((largest_scale - 1) * max(size) / 2) + 1


def _check_scale_range(scale_range: object) -> tuple[float, float] | None:
    if scale_range is None:
        return None
    if not (isinstance(scale_range, (tuple, list)) and len(scale_range) == 2):
        raise TypeError(
            "`scale_range` must be None or (low, high) with 0 < low <= high, but got "
            f"{describe(scale_range)}."
        )
    low = check_real("scale_range[0]", scale_range[0], low=0, low_open=True)
    high = check_real("scale_range[1]", scale_range[1], low=0, low_open=True)
    if low > high or high > 64:
        raise ValueError(
            f"`scale_range` must be (low, high) with 0 < low <= high <= 64, but got {scale_range!r}."
        )
    return low, high
