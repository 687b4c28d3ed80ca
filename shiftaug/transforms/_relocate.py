"""``RandomRelocate``: move objects inside their own image over an inpainted background."""

from __future__ import annotations

from typing import Any

import torch

from .._checks import check_int, describe
from ..functional._blend import dilate_mask_
from ..functional._boxes import masks_to_boxes
from ..functional._instances import mask_area, occlude_masks_, top_round
from ..functional._pixel_paste import (
    boxes_meet,
    clear_pixels,
    drop_objects,
    paste_pixels,
    refresh_boxes,
)
from ..functional._placement import paste_objects_
from ..inpaint import get_inpainter
from ..params._context import ContextImages
from ..params._placement import PlacementParams
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

__all__ = ["RandomRelocate"]


class RandomRelocate(RandomTransform):
    """Move objects to new places inside their image; fill the holes they leave.

    For every image, up to ``num_objects`` of its objects are picked, cut out along their
    instance masks, the vacated region is filled by an inpainting backend, and each object is
    pasted at a whole-pixel move drawn by the placement ``policy``, on top of everything else.
    Masks, boxes (recomputed from the masks) and keypoints move with their objects; objects
    covered by a moved one lose the hidden pixels and are dropped (``valid=False``) below
    ``min_visibility``/``min_area``. An object for which the policy finds no valid position
    stays where it is and is reported in ``params.failed`` (or raises, with
    ``on_no_position="raise"``).

    Args:
        inpainter: backend name from :func:`shiftaug.inpaint.available_inpainters` or a callable
            ``(images, holes) -> images``; ``inpainter_options`` are passed to a named backend.
        num_objects: objects moved per image: ``n``, a range ``(low, high)`` drawn uniformly, or
            ``"all"``; capped by the objects an image has.
        shift_px: range of the moves in pixels (grammar of :class:`~shiftaug.RandomTranslate`);
            default: anywhere the policy allows.
        shift_frac: the same as a fraction of the image size.
        policy: ``"uniform"``, ``"same"``, ``"non_overlapping"`` (no overlap with the other
            objects, with objects moved before it, or with the places of objects not moved
            (yet)), ``"region"``, ``"density"``, ``"grid"`` or ``"context"`` (surroundings like
            the object's own, InstaBoost); see :func:`shiftaug.params.sample_positions`.
        min_inside: fraction of an object's pixels that must stay in the frame (1: fully
            inside; smaller values let objects leave the frame partly).
        region: ``(H, W)`` or ``(N, H, W)`` bool map for ``policy="region"``.
        density: ``(H, W)`` or ``(N, H, W)`` non-negative weights for ``policy="density"``.
        stride: lattice step for ``policy="grid"`` (sample ``n`` takes cell ``n``).
        context_width: band width in pixels around the object for ``policy="context"``.
        context_sigma: similarity scale for ``policy="context"`` (a fraction of the
            background's standard deviation).
        blend: ``"antialias"`` (default: exact pixels plus a soft one-pixel halo), ``"hard"``
            (exact pixels only), ``"feather"``, ``"laplacian"`` or ``"poisson"`` (see
            :func:`shiftaug.functional.blend_images`).
        sigma: Gaussian std in pixels for ``"feather"``.
        levels: pyramid levels for ``"laplacian"``.
        iterations: conjugate-gradient iterations for ``"poisson"``.
        hole_margin: grow the hole by this many pixels (a square) before filling: masks from
            thresholds or polygons stop short of the object's soft rim, which would stay behind
            as a ghost ring. The default 1 was measured best on real photos (see the docs'
            "Artefacts" section); 0 fills exactly the objects' masks.
        fill_context: ``None`` fills on the whole image; an int fills each image's hole
            inside a window of the hole's box plus this many pixels (all windows of a batch share
            the largest size), which is several times faster for small objects. The fill then
            differs a little: the default ``harmonic`` by 0.6-5.4 grey levels on average per
            hole kind of the fill benchmark; converged (``cycles=8, sweeps=2``) by rounding.
        on_no_position: ``"skip"`` (leave the object, report it) or ``"raise"``.
        min_visibility: objects that lost pixels (to the frame, under a moved object, or to the
            filled hole) are dropped when they keep less than this fraction of their whole
            area; objects that lost nothing are kept.
        min_area: such objects are dropped below this many visible pixels.
        p: probability that an image is transformed at all.
        generator: random source.

    Shape:
        - image: ``(N, C, H, W)`` or ``(C, H, W)``
        - masks: ``(N, K, H, W)`` bool (padding slots marked by ``valid``) or an ``(N, H, W)``
          integer id map; without a batch dimension for one image
        - valid, labels: ``(N, K)``; keypoints: ``(N, K, P, 2)``
        - output: :class:`~shiftaug.PlacementOutput`

    Example:
        >>> import torch
        >>> from shiftaug import RandomRelocate
        >>> images = torch.rand(2, 3, 32, 32)
        >>> masks = torch.zeros(2, 1, 32, 32, dtype=torch.bool)
        >>> masks[:, 0, 4:12, 4:12] = True
        >>> def mean_fill(images, holes):  # any (images, holes) -> images callable
        ...     mean = images.mean((-2, -1), keepdim=True)
        ...     return torch.where(holes, mean, images)
        >>> t = RandomRelocate(mean_fill, shift_px=10, generator=torch.Generator().manual_seed(0))
        >>> out = t(images, masks)
        >>> out.masks.shape, out.boxes.shape, bool(out.params.placed.all())
        (torch.Size([2, 1, 32, 32]), torch.Size([2, 1, 4]), True)
    """

    relocation = True  # objects move inside their own image (replayed params are checked so)

    def __init__(
        self,
        inpainter: Any = "harmonic",
        *,
        num_objects: int | tuple[int, int] | str = 1,
        shift_px: object = None,
        shift_frac: object = None,
        policy: str = "uniform",
        min_inside: float = 1.0,
        region: torch.Tensor | None = None,
        density: torch.Tensor | None = None,
        stride: int = 8,
        context_width: int = 4,
        context_sigma: float = 0.5,
        blend: str = "antialias",
        sigma: float = 1.0,
        levels: int = 3,
        iterations: int = 300,
        hole_margin: int = 1,
        fill_context: int | None = None,
        on_no_position: str = "skip",
        min_visibility: float = 0.0,
        min_area: float = 0.0,
        inpainter_options: dict[str, Any] | None = None,
        p: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(p=p, same_on_batch=False, generator=generator)
        if inpainter_options is not None and not isinstance(inpainter_options, dict):
            raise TypeError(
                f"`inpainter_options` must be a dict or None, but got {describe(inpainter_options)}."
            )
        self.inpainter = get_inpainter(inpainter, **(inpainter_options or {}))
        self.inpainter_name = inpainter if isinstance(inpainter, str) else None
        self.count = parse_count(num_objects)
        self.num_objects = num_objects
        self.placement = PlacementPolicy.create(
            policy, resolve_shift_range(shift_px, shift_frac, allow_none=True), min_inside,
            region, density, stride, on_no_position, context_width, context_sigma,
        )  # fmt: skip
        check_blend(blend, sigma, levels, iterations)
        self.blend, self.sigma, self.levels, self.iterations = blend, sigma, levels, iterations
        self.hole_margin = check_int("hole_margin", hole_margin, low=0)
        if fill_context is not None:
            fill_context = check_int("fill_context", fill_context, low=1)
        self.fill_context = fill_context
        self.min_visibility, self.min_area = check_occlusion(min_visibility, min_area)

    def make_params(  # type: ignore[override]
        self,
        image: torch.Tensor,
        masks: torch.Tensor,
        valid: torch.Tensor,
        *,
        generator: torch.Generator | None = None,
    ) -> PlacementParams:
        """Pick the objects and draw their moves (``masks (N, K, H, W)``, ``valid (N, K)``)."""
        generator = generator if generator is not None else self.generator
        batch, slots = valid.shape
        order, requested = choose_objects(valid, self.count, self.p, generator)
        rows = torch.arange(batch, device=valid.device)
        index = rows[:, None] * slots + order
        chosen = gather_masks(masks, index)  # (N, J, H, W)
        inputs = RoundInputs()
        policy = self.placement.policy
        if policy == "non_overlapping":
            # Objects that stay block; a moving object's place stays blocked until it moved.
            leaving = chosen & requested[..., None, None]
            inputs = RoundInputs(blocked=union_of(masks) & ~union_of(leaving), leaving=leaving)
        elif policy == "context":
            background = ~union_of(masks)
            picture = image.to(torch.float32)
            context = ContextImages(
                picture, background, picture, background, self.placement.context_width,
                self.placement.context_sigma,
            )  # fmt: skip
            inputs = RoundInputs(context=[context] * index.shape[1])
        shift_t, placed_t = draw_rounds(self.placement, chosen, requested, generator, inputs)
        return PlacementParams(
            index=index, shift=shift_t,
            scale=torch.ones(order.shape, device=valid.device), requested=requested,
            placed=placed_t, image_size=(image.shape[-2], image.shape[-1]), slots=slots,
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
        """Relocate objects; ``params`` replays an earlier draw exactly."""
        return run_placement(self, image, masks, valid, labels, keypoints, params)

    def _place(
        self, image: torch.Tensor, objects: Objects, params: PlacementParams
    ) -> PlacementOutput:
        masks, valid = objects.masks, objects.valid
        batch, slots = valid.shape
        rounds = params.index.shape[1]
        slot = params.index.remainder(max(slots, 1))
        depth = torch.full((batch, slots), -1, dtype=torch.long, device=valid.device)
        round_of = torch.arange(rounds, device=depth.device).expand(batch, -1)
        depth = depth.scatter_reduce(1, slot, torch.where(params.placed, round_of, -1), "amax")
        hole = dilate_mask_(_hole(masks, params), self.hole_margin)
        hole_boxes = _hole_boxes(objects.boxes, params, self.hole_margin)
        background = self._fill(image, hole, hole_boxes)
        if self.blend in ("hard", "antialias"):
            out, new_masks, new_valid, boxes, top = self._paste_exact(
                image, background, (hole, hole_boxes), objects, params, depth
            )
        else:
            out, new_masks, new_valid, boxes, top = self._paste_blended(
                image, background, hole, objects, params, depth
            )
        points = objects.keypoints
        if points is not None:
            per_slot = torch.zeros(batch, slots, 2, device=points.device, dtype=params.shift.dtype)
            per_slot.scatter_add_(
                1, slot[..., None].expand(-1, -1, 2), params.shift * params.placed[..., None]
            )
            points = points + per_slot[:, :, None, :].to(points.dtype)
            # The vacated pixels (filled) hide the keypoints of objects that stayed.
            top = torch.where(hole[:, 0] & (top < 0), 0, top)
        return finish(
            out, new_masks, new_valid, boxes, objects.labels, points, depth, top, params, objects
        )

    def _paste_exact(
        self,
        image: torch.Tensor,
        background: torch.Tensor,
        holes: tuple[torch.Tensor, torch.Tensor],
        objects: Objects,
        params: PlacementParams,
        depth: torch.Tensor,
    ) -> Any:
        """Hard pastes as pixel lists; occlusion only where something was pasted or filled.

        ``holes``: the ``(N, 1, H, W)`` vacated pixels and their ``(N, 4)`` boxes."""
        masks, valid = objects.masks, objects.valid
        hole, hole_boxes = holes
        batch, slots = valid.shape
        plane = masks.shape[-2] * masks.shape[-1]
        out = background  # filled: a new tensor we may write into
        if out is image or not out.is_contiguous():
            out = background.clone(memory_format=torch.contiguous_format)
        got = paste_pixels(
            out, image, masks, objects.boxes, params.index, params.shift, params.placed,
            antialias=self.blend == "antialias",
        )  # fmt: skip
        # Moved objects: their old planes are emptied, their visible pasted pixels set.
        new_masks = masks.clone(memory_format=torch.contiguous_format)
        placed = torch.nonzero(params.placed.flatten()).flatten()
        rows = params.index.flatten().index_select(0, placed)  # distinct (image, slot) rows
        new_masks.view(-1, plane).index_fill_(0, rows, False)
        offset = (params.index.flatten() * plane).index_select(0, got.entry) - got.image * plane
        new_masks.view(-1).index_fill_(0, got.pixel + offset, True)
        # Objects that stayed lose the pixels pasted over them, then the vacated (filled) ones
        # left: two passes, as a pixel cleared in the first is not counted again. Only images
        # where a box that stayed meets a pasted box or the hole's box are visited.
        stayed = valid & (depth < 0)
        pasted_boxes = got.boxes * params.placed[..., None]
        hole_box = hole_boxes[:, None].to(pasted_boxes.dtype)
        reach = boxes_meet(
            objects.boxes * stayed[..., None], torch.cat([pasted_boxes, hole_box], 1)
        )
        lost = clear_pixels(new_masks, got.pixel, got.image, slots, stayed, reach)
        touched = torch.nonzero(reach).flatten()
        found, pixel = torch.nonzero(
            hole.view(batch, plane).index_select(0, touched), as_tuple=True
        )
        image_of = touched.index_select(0, found)
        lost += clear_pixels(new_masks, pixel + image_of * plane, image_of, slots, stayed)
        # Stayed objects are measured if they lost pixels, moved ones always: against their
        # area before the move (they may have left the frame partly).
        hit = stayed & (lost > 0)
        before = torch.zeros_like(lost)
        hit_rows = torch.nonzero(hit.flatten()).flatten()
        before.view(-1).index_copy_(0, hit_rows, _row_areas(masks, hit_rows))
        left = before - lost
        clipped = got.clipped.flatten().index_select(0, placed)
        area = got.area.flatten().index_select(0, placed)
        cut = torch.nonzero(clipped).flatten()  # (partly) out of the frame: count it all
        area.index_copy_(0, cut, _row_areas(masks, rows.index_select(0, cut)))
        before.view(-1).index_copy_(0, rows, area)
        left.view(-1).index_copy_(0, rows, got.visible.flatten().index_select(0, placed))
        # Objects that lost nothing (moved whole, nothing on top) are kept however small.
        measured = hit | ((depth >= 0) & (left < before))
        new_valid = drop_objects(
            new_masks, valid, measured, left, before, self.min_visibility, self.min_area
        )
        boxes = objects.boxes.reshape(-1, 4).index_copy(
            0, rows, got.boxes.view(-1, 4).index_select(0, placed)
        )
        reshaped = torch.zeros_like(valid)  # moved objects whose box is not the moved one
        reshaped.view(-1)[rows] = clipped | (got.visible.flatten()[placed] < area)
        stale = new_valid & (hit | reshaped)
        boxes = refresh_boxes(boxes.view_as(objects.boxes), new_masks, stale)
        return out, new_masks, new_valid, boxes, got.top

    def _paste_blended(
        self,
        image: torch.Tensor,
        background: torch.Tensor,
        hole: torch.Tensor,
        objects: Objects,
        params: PlacementParams,
        depth: torch.Tensor,
    ) -> Any:
        """Blended pastes: whole-frame rounds, occlusion from the top-round map."""
        masks, valid = objects.masks, objects.valid
        batch, slots = valid.shape
        rounds = params.index.shape[1]
        rows = params.index  # flat (image, slot) index of every entry
        out, pasted = paste_objects_(
            background, image, masks, params.index, params.shift, params.placed,
            blend=self.blend, into=background is not image, sigma=self.sigma, levels=self.levels,
            iterations=self.iterations,
        )  # fmt: skip
        moving = gather_masks(masks, rows)
        new_masks = masks.clone(memory_format=torch.contiguous_format)
        if rounds:  # moved objects now have their pasted masks (rows are distinct per image)
            planes = new_masks.view(batch * slots, -1)
            moved_rows = torch.where(params.placed[..., None, None], pasted, moving)
            planes.index_copy_(0, rows.flatten(), moved_rows.view(batch * rounds, -1))
        # Moved objects are measured against their area before the move (they may have left
        # the frame partly); the others against their area before being covered.
        reference = torch.full((batch, slots), -1, dtype=torch.long, device=valid.device)
        if rounds:
            before = torch.where(params.placed, mask_area(moving).long(), -1)
            reference.view(-1).index_copy_(0, rows.flatten(), before.flatten())
        # The vacated pixels (filled) hide the objects that stayed, like a paste in round 0.
        top = top_round(pasted)
        new_masks, new_valid = occlude_masks_(
            new_masks, valid, depth, torch.where(hole[:, 0] & (top < 0), 0, top), reference,
            self.min_visibility, self.min_area,
        )  # fmt: skip
        return out, new_masks, new_valid, masks_to_boxes(new_masks)[0], top

    def _fill(self, image: torch.Tensor, hole: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
        """Inpaint only the images that have a hole (``boxes (N, 4)``: the holes' boxes, empty
        where there is none); keep every other pixel bit for bit."""
        which = torch.nonzero(boxes[:, 2] > boxes[:, 0]).flatten()
        if which.numel() == 0:
            return image
        everyone = which.numel() == image.shape[0]  # then no subset copies
        subset = image if everyone else image.index_select(0, which)
        holes = hole if everyone else hole.index_select(0, which)
        if self.fill_context is None:
            filled = _inpaint(self.inpainter, subset, holes)
        else:
            windows = boxes if everyone else boxes.index_select(0, which)
            filled = _inpaint_windows(self.inpainter, subset, holes, windows, self.fill_context)
        return filled if everyone else image.index_copy(0, which, filled)

    def extra_repr(self) -> str:
        backend = self.inpainter_name or type(self.inpainter).__name__
        shift = self.placement.shift_range
        return (
            f"inpainter={backend!r}, num_objects={self.num_objects!r}, policy="
            f"{self.placement.policy!r}, shift_range={shift}, blend={self.blend!r}, p={self.p}"
        )


def _inpaint(inpainter: Any, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
    """Fill, then keep only the hole pixels of the result: every backend, registered by name or
    a callable, is held to the protocol (pixels outside the holes unchanged) the same way."""
    filled = inpainter(images, holes)
    _check_filled(filled, images)
    return torch.where(holes, filled, images)


def _inpaint_windows(
    inpainter: Any,
    images: torch.Tensor,
    holes: torch.Tensor,
    boxes: torch.Tensor,
    context: int,
) -> torch.Tensor:
    """Fill each hole inside a window of its box (``boxes (N, 4)``) plus ``context`` pixels,
    not the whole image.

    Windows share one size (the largest of the batch, one host synchronisation), so the
    backend still sees one batch; they are cut and put back by flat gathers.
    """
    batch, channels, height, width = images.shape
    frame = torch.tensor([width, height], device=images.device)
    low = (boxes[:, :2] - context).clamp(min=0)
    high = torch.minimum(boxes[:, 2:] + context, frame)
    size = (high - low).amax(0).tolist()
    start = torch.minimum(low, frame - torch.tensor(size, device=images.device))
    rows = start[:, 1:2] + torch.arange(size[1], device=images.device)
    cols = start[:, 0:1] + torch.arange(size[0], device=images.device)
    pixels = (rows[:, :, None] * width + cols[:, None, :]).view(batch, 1, -1)
    flat = images.reshape(batch, channels, height * width)
    every = pixels.expand(-1, channels, -1)
    crops = flat.gather(2, every).view(batch, channels, size[1], size[0])
    crop_holes = holes.reshape(batch, 1, -1).gather(2, pixels).view(batch, 1, size[1], size[0])
    filled = _inpaint(inpainter, crops, crop_holes)
    out = flat.clone(memory_format=torch.contiguous_format)
    return out.scatter_(2, every, filled.reshape(batch, channels, -1)).view_as(images)


def _hole(masks: torch.Tensor, params: PlacementParams) -> torch.Tensor:
    """``(N, 1, H, W)``: the pixels the placed objects leave."""
    if not params.index.shape[1]:
        return masks.new_zeros((masks.shape[0], 1, *masks.shape[-2:]))
    moving = gather_masks(masks, params.index).view(torch.uint8)  # (N, J, H, W)
    hole = moving * params.placed[..., None, None]  # uint8 0/1: cheaper than bool ops
    return (hole if hole.shape[1] == 1 else hole.amax(1, keepdim=True)).view(torch.bool)


def _hole_boxes(boxes: torch.Tensor, params: PlacementParams, margin: int) -> torch.Tensor:
    """``(N, 4)`` int64 boxes of the holes: the placed objects' boxes, united, grown by the
    dilation ``margin`` (a square) and clipped to the frame; zeros where nothing moves."""
    height, width = params.image_size
    if not params.index.shape[1]:  # no rounds (e.g. no object slots): no hole
        return boxes.new_zeros(params.index.shape[0], 4).long()
    entry = boxes.reshape(-1, 4).index_select(
        0, params.index.flatten().clamp(0, max(boxes.shape[0] * boxes.shape[1] - 1, 0))
    )
    entry = entry.view(*params.index.shape, 4).long()
    placed = params.placed[..., None]
    low = torch.where(placed, entry[..., :2], max(height, width)).amin(1) - margin
    high = torch.where(placed, entry[..., 2:], 0).amax(1) + margin
    frame = torch.tensor([width, height], device=boxes.device)
    united = torch.cat([low.clamp(min=0), torch.minimum(high, frame)], -1)
    return united * params.placed.any(1, keepdim=True)


def _row_areas(masks: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """int64 pixel counts of the masks at flat ``(image, slot)`` rows of ``masks (N, K, H, W)``."""
    slots = max(masks.shape[1], 1)
    picked = masks[torch.div(rows, slots, rounding_mode="floor"), rows % slots]
    return mask_area(picked).long()


def _check_filled(filled: object, images: torch.Tensor) -> None:
    """The protocol: same shape, dtype and device as the images."""
    if not isinstance(filled, torch.Tensor):
        raise TypeError(f"The inpainter must return a torch.Tensor, but got {describe(filled)}.")
    if filled.shape != images.shape or filled.dtype != images.dtype:
        raise ValueError(
            f"The inpainter must return images of shape {tuple(images.shape)} and dtype "
            f"{images.dtype} (the protocol keeps both), but got {describe(filled)}."
        )
    if filled.device != images.device:
        raise ValueError(
            f"The inpainter must return images on the images' device {images.device}, but got "
            f"{filled.device}."
        )
