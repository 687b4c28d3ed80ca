"""Object placement kernels: instance masks, cutting objects out and pasting them elsewhere.

Objects are stored padded: ``masks (N, K, H, W)`` bool with a validity mask ``valid (N, K)``
(False for padding slots), so images with different numbers of objects share one tensor and
everything stays batched. Pastes happen in *rounds*: round ``j`` pastes at most one object into
every image at once, so a Python loop runs over the (small) number of objects per image, never
over the images.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._checks import check_tensor
from ._blend import blend_images
from ._boxes import masks_to_boxes
from ._image import IMAGE_DTYPES, translate_image_
from ._mask import translate_mask_
from ._pixel_paste import paste_pixels

__all__ = [
    "label_map_to_masks",
    "mask_any",
    "mask_area",
    "masks_to_label_map",
    "occlude_masks",
    "paste_objects",
    "scale_points",
    "top_round",
]


def label_map_to_masks(
    label_map: torch.Tensor, num_instances: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split ``(N, H, W)`` instance-id maps (0 = background, ``k`` = instance ``k``) into masks.

    Args:
        label_map: ``(N, H, W)`` integer map of instance ids ``0..K``.
        num_instances: ``K``; defaults to the largest id in the batch.

    Returns:
        ``(masks, valid)``: ``(N, K, H, W)`` bool masks (slot ``k - 1`` holds id ``k``) and
        ``(N, K)`` bool, True where the id occurs in that image.

    Example:
        >>> import torch
        >>> from shiftaug.functional import label_map_to_masks
        >>> ids = torch.tensor([[[0, 1], [2, 2]]])
        >>> masks, valid = label_map_to_masks(ids)
        >>> masks.shape, valid.tolist()
        (torch.Size([1, 2, 2, 2]), [[True, True]])
    """
    check_tensor("label_map", label_map, ndim=3, layout="(N, H, W)")
    if label_map.dtype.is_floating_point or label_map.dtype == torch.bool:
        raise TypeError(
            f"`label_map` must hold integer instance ids, but got dtype {label_map.dtype}."
        )
    if label_map.numel() and int(label_map.min()) < 0:
        raise ValueError(
            f"`label_map` must hold ids >= 0 (0 = background), but got {int(label_map.min())}."
        )
    if num_instances is None:
        num_instances = int(label_map.max()) if label_map.numel() else 0
    ids = torch.arange(1, num_instances + 1, device=label_map.device).view(1, -1, 1, 1)
    masks = label_map.unsqueeze(1) == ids
    return masks, mask_any(masks, (-2, -1))


def masks_to_label_map(masks: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
    """Merge ``(N, K, H, W)`` instance masks into an ``(N, H, W)`` int64 id map.

    Slot ``k`` gets id ``k + 1``; where masks overlap the highest slot wins (it was pasted last).

    Example:
        >>> import torch
        >>> from shiftaug.functional import masks_to_label_map
        >>> m = torch.zeros(1, 2, 1, 3, dtype=torch.bool)
        >>> m[0, 0, 0, :2] = True
        >>> m[0, 1, 0, 1:] = True
        >>> masks_to_label_map(m)
        tensor([[[1, 2, 2]]])
    """
    if valid is not None:
        masks = masks & valid[..., None, None]
    ids = torch.arange(1, masks.shape[1] + 1, device=masks.device).view(1, -1, 1, 1)
    if masks.shape[1] == 0:
        return torch.zeros(masks.shape[0], *masks.shape[2:], dtype=torch.int64, device=masks.device)
    return (masks * ids).amax(1)


def mask_any(masks: torch.Tensor, dim: int | tuple[int, ...]) -> torch.Tensor:
    """``masks.any(dim)`` for bool masks, as a ``uint8`` max: the bool reduction of torch's CPU
    backend is an order of magnitude slower on the ``(N, K, H, W)`` shapes used here."""
    return masks.view(torch.uint8).amax(dim) > 0


def mask_area(masks: torch.Tensor) -> torch.Tensor:
    """Pixel count of ``(..., H, W)`` bool masks as int32 (bool sums default to a slow int64)."""
    return masks.flatten(-2).sum(-1, dtype=torch.int32)


def paste_objects(
    image: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    *,
    scale: torch.Tensor | None = None,
    blend: str = "hard",
    sigma: float = 1.0,
    levels: int = 3,
    iterations: int = 300,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut objects out of ``source`` and paste them, moved, into ``image``.

    Round ``j`` takes, for every image ``n``, the object ``index[n, j]`` (a flat index
    ``b * K + k`` into ``source_masks``), moves it by ``shift[n, j]`` whole pixels (scaled first by
    ``scale[n, j]`` about its box centre, if given), and blends it on top of everything pasted
    before. Entries with ``placed[n, j] == False`` paste nothing.

    With ``scale`` absent or 1 the object's pixels are copied exactly (``translate_image``
    with nearest interpolation); scaled objects are resampled bilinearly, their masks by nearest
    neighbour.

    Args:
        image: ``(N, C, H, W)`` canvases.
        source: ``(B, C, H, W)`` images the objects come from (same dtype, size and device).
        source_masks: ``(B, K, H, W)`` bool instance masks of ``source``.
        index: ``(N, J)`` int64 flat object indices into ``source_masks.flatten(0, 1)``.
        shift: ``(N, J, 2)`` ``(dx, dy)`` whole-pixel moves.
        placed: ``(N, J)`` bool, which entries paste anything.
        scale: optional ``(N, J)`` positive scale factors.
        blend: a mode of :func:`blend_images`; ``sigma``, ``levels``, ``iterations`` as there.

    Returns:
        ``(image, masks)``: the composited ``(N, C, H, W)`` images and the ``(N, J, H, W)`` bool
        masks of the pasted objects at their new places (before occlusion by later rounds).

    Example:
        >>> import torch
        >>> from shiftaug.functional import paste_objects
        >>> src = torch.zeros(1, 1, 4, 4)
        >>> src[0, 0, 0, 0] = 5.0
        >>> masks = src[:, :1] > 0
        >>> out, pasted = paste_objects(torch.zeros_like(src), src, masks,
        ...     torch.tensor([[0]]), torch.tensor([[[2, 1]]]), torch.tensor([[True]]))
        >>> out[0, 0, 1, 2].item(), pasted.nonzero().tolist()
        (5.0, [[0, 0, 1, 2]])
    """
    _check_paste_inputs(image, source, source_masks, index, shift, placed, scale)
    batch, rounds = index.shape
    objects = source_masks.shape[1]
    flat_masks = source_masks.flatten(0, 1)
    if blend == "hard" and scale is None:
        return _paste_pixels(image, source, source_masks, index, shift, placed, copy=True)
    out = image
    pasted = image.new_zeros((batch, rounds, *image.shape[-2:]), dtype=torch.bool)
    for j in range(rounds):
        which = index[:, j].clamp(0, max(flat_masks.shape[0] - 1, 0))
        picture = source.index_select(0, torch.div(which, objects, rounding_mode="floor"))
        mask = flat_masks.index_select(0, which).unsqueeze(1) & placed[:, j, None, None, None]
        if scale is None:
            moved_picture, moved_mask = _move(picture, mask, shift[:, j])
        else:
            moved_picture, moved_mask = _scale_and_move(picture, mask, shift[:, j], scale[:, j])
        out = blend_images(
            out, moved_picture, moved_mask, mode=blend, sigma=sigma, levels=levels,
            iterations=iterations,
        )  # fmt: skip
        pasted[:, j] = moved_mask[:, 0]
    return out, pasted


def paste_objects_into(
    image: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    **options: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`paste_objects` that may write into ``image`` (for callers that own it: hard,
    unscaled pastes then skip a copy of the whole batch)."""
    hard = options.get("blend", "hard") == "hard" and options.get("scale") is None
    if not hard:
        return paste_objects(image, source, source_masks, index, shift, placed, **options)
    _check_paste_inputs(image, source, source_masks, index, shift, placed, None)
    return _paste_pixels(image, source, source_masks, index, shift, placed, copy=False)


def _paste_pixels(
    image: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    *,
    copy: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hard, unscaled pastes that touch only the objects' pixels (into ``image`` itself when
    ``copy`` is False and it is contiguous), by :func:`paste_pixels`; the work follows the
    pasted objects' areas instead of ``N * C * H * W``."""
    batch, rounds = index.shape
    height, width = image.shape[-2:]
    out = image  # flat indices assume NCHW
    if copy or not image.is_contiguous():
        out = image.clone(memory_format=torch.contiguous_format)
    pasted = torch.zeros(batch, rounds, height, width, dtype=torch.bool, device=image.device)
    if batch * rounds == 0 or source_masks.shape[0] * source_masks.shape[1] == 0:
        return out, pasted
    boxes = torch.zeros(*source_masks.shape[:2], 4, device=image.device)
    rows = index.flatten().clamp(0, source_masks.shape[0] * source_masks.shape[1] - 1)
    flat_masks = source_masks.flatten(0, 1)
    boxes.view(-1, 4)[rows] = masks_to_boxes(flat_masks.index_select(0, rows))[0]
    got = paste_pixels(out, source, source_masks, boxes, index, shift, placed)
    plane = height * width
    for pixel, entry in ((got.pixel, got.entry), (got.covered_pixel, got.covered_entry)):
        image_of = torch.div(entry, rounds, rounding_mode="floor")
        pasted.view(-1).index_fill_(0, pixel + (entry - image_of) * plane, True)
    return out, pasted


def top_round(pasted: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)`` int16: the last round that pasted each pixel, -1 where none did.

    Example:
        >>> import torch
        >>> from shiftaug.functional import top_round
        >>> pasted = torch.tensor([[[[1, 1, 0]], [[0, 1, 0]]]], dtype=torch.bool)
        >>> top_round(pasted)
        tensor([[[ 0,  1, -1]]], dtype=torch.int16)
    """
    shape = (pasted.shape[0], *pasted.shape[-2:])
    top = torch.full(shape, -1, dtype=torch.int16, device=pasted.device)
    for j in range(pasted.shape[1]):
        top.masked_fill_(pasted[:, j], j)
    return top


def occlude_masks(
    masks: torch.Tensor,
    valid: torch.Tensor,
    depth: torch.Tensor,
    top: torch.Tensor,
    *,
    reference: torch.Tensor | None = None,
    min_visibility: float = 0.0,
    min_area: float = 0.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Hide what was pasted above each object; drop the objects that became too small.

    An object pasted in round ``depth[n, k]`` (-1: never pasted) loses every pixel whose
    ``top`` round is later. Only the pixels with ``top >= 0`` are visited, and only the objects
    that lost pixels (or have a ``reference``) are measured, so the cost follows the pasted
    area, not ``N * K * H * W``. Objects that lost nothing are kept as they are.

    Args:
        masks: ``(N, K, H, W)`` bool instance masks; updated **in place** (if contiguous)
            and returned.
        valid: ``(N, K)`` bool validity.
        depth: ``(N, K)`` integer paste round of each object, -1 for objects never pasted.
        top: ``(N, H, W)`` integer round of the topmost paste per pixel (see :func:`top_round`).
        reference: optional ``(N, K)`` areas to measure the visible fraction against where
            ``>= 0`` (e.g. an object's area before it was moved partly out of the frame; such
            objects are always measured); elsewhere the area before this occlusion.
        min_visibility: measured objects keeping less than this fraction are dropped.
        min_area: measured objects with fewer visible pixels than this are dropped.

    Returns:
        ``(masks, valid)``: the updated masks (dropped objects emptied) and validity.

    Example:
        >>> import torch
        >>> from shiftaug.functional import occlude_masks
        >>> masks = torch.ones(1, 2, 1, 4, dtype=torch.bool)
        >>> top = torch.tensor([[[0, 0, 0, -1]]], dtype=torch.int16)  # round 0 covered 3 pixels
        >>> masks, valid = occlude_masks(masks, torch.ones(1, 2, dtype=torch.bool),
        ...     torch.tensor([[-1, 0]]), top, min_visibility=0.5)
        >>> valid.tolist(), masks[0, 1].tolist()
        ([[False, True]], [[True, True, True, True]])
    """
    batch, slots = masks.shape[:2]
    plane = masks.shape[-2] * masks.shape[-1]
    n, pixel = torch.nonzero((top >= 0).view(batch, -1), as_tuple=True)
    # Flat positions of each covered pixel in every object's mask: (P, K).
    where = (n[:, None] * slots + torch.arange(slots, device=masks.device)) * plane + pixel[:, None]
    masks = masks.contiguous()  # no copy for our own outputs; flat positions assume it
    flat = masks.view(-1)
    hit = flat.take(where)
    covered = hit & (depth[n] < top.view(batch, -1)[n, pixel, None])
    flat.put_(where, hit & ~covered)
    lost = torch.zeros(batch * slots, dtype=torch.int64, device=masks.device)
    lost.index_add_(
        0, torch.div(where, plane, rounding_mode="floor").flatten(), covered.flatten().long()
    )
    lost = lost.view(batch, slots)
    given = reference >= 0 if reference is not None else torch.zeros_like(valid)
    measured = valid & ((lost > 0) | given)
    rows = torch.nonzero(measured.flatten()).flatten()
    left = torch.zeros(batch * slots, dtype=torch.int64, device=masks.device)
    left[rows] = mask_area(masks.view(batch * slots, *masks.shape[-2:])[rows]).long()
    left = left.view(batch, slots)
    base = torch.where(given, reference, left + lost) if reference is not None else left + lost
    fits = (left > 0) & (left >= min_area) & (left >= min_visibility * base)
    keep = valid & (fits | ~measured)
    dropped = valid & ~keep
    if bool(dropped.any()):
        masks.masked_fill_(dropped[..., None, None], False)
    return masks, keep


def scale_points(
    points: torch.Tensor, centre: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """Map ``(..., P, 2)`` points as :func:`paste_objects` maps pixels: scale about ``centre``
    (``(..., 2)``) by ``scale`` (``(...)``), then move by ``shift`` (``(..., 2)``)."""
    centre = centre[..., None, :]
    return (points - centre) * scale[..., None, None] + centre + shift[..., None, :]


def _move(
    picture: torch.Tensor, mask: torch.Tensor, shift: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    moved = translate_image_(picture, shift, "zeros", 0.0, "nearest", check_values=False)
    return moved, translate_mask_(mask, shift, check_values=False)


def _scale_and_move(
    picture: torch.Tensor, mask: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each object about its box centre, then move it; one ``grid_sample`` per round."""
    height, width = picture.shape[-2:]
    boxes = masks_to_boxes(mask[:, 0])[0]
    centre = (boxes[:, :2] + boxes[:, 2:]) / 2  # (N, 2) box centres (x, y); 0 when empty
    compute = torch.float64 if picture.dtype == torch.float64 else torch.float32
    # Output pixel centre p reads source position (p - centre - shift) / scale + centre.
    cols = torch.arange(width, device=picture.device, dtype=compute) + 0.5
    rows = torch.arange(height, device=picture.device, dtype=compute) + 0.5
    s = scale.to(compute).view(-1, 1)
    src_x = (cols.view(1, -1) - centre[:, :1] - shift[:, :1].to(compute)) / s + centre[:, :1]
    src_y = (rows.view(1, -1) - centre[:, 1:] - shift[:, 1:].to(compute)) / s + centre[:, 1:]
    grid = torch.stack(
        torch.broadcast_tensors(
            (2 * src_x / width - 1)[:, None, :], (2 * src_y / height - 1)[:, :, None]
        ),
        -1,
    )
    moved = F.grid_sample(
        picture.to(compute), grid, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    if not picture.dtype.is_floating_point:
        moved = moved.round_().clamp_(0, 255)
    moved_mask = F.grid_sample(
        mask.to(compute), grid, mode="nearest", padding_mode="zeros", align_corners=False
    )
    return moved.to(picture.dtype), moved_mask > 0.5


def _check_paste_inputs(
    image: object,
    source: object,
    source_masks: object,
    index: object,
    shift: object,
    placed: object,
    scale: object,
) -> None:
    img = check_tensor("image", image, ndim=4, layout="(N, C, H, W)", dtypes=IMAGE_DTYPES)
    src = check_tensor("source", source, ndim=4, layout="(B, C, H, W)", dtypes=IMAGE_DTYPES)
    if src.shape[1:] != img.shape[1:] or src.dtype != img.dtype:
        raise ValueError(
            f"`source` must match `image` in (C, H, W) and dtype {tuple(img.shape[1:])}, "
            f"{img.dtype}, but got {tuple(src.shape[1:])}, {src.dtype}."
        )
    masks = check_tensor("source_masks", source_masks, ndim=4, layout="(B, K, H, W)")
    if masks.dtype != torch.bool:
        raise TypeError(f"`source_masks` must be a bool tensor, but got dtype {masks.dtype}.")
    if masks.shape[0] != src.shape[0] or masks.shape[-2:] != src.shape[-2:]:
        raise ValueError(
            f"`source_masks` must have shape ({src.shape[0]}, K, {src.shape[-2]}, "
            f"{src.shape[-1]}), but got {tuple(masks.shape)}."
        )
    idx = check_tensor("index", index, ndim=2, layout="(N, J)", dtypes=(torch.int64,))
    expected = (img.shape[0], idx.shape[1])
    if idx.shape[0] != img.shape[0]:
        raise ValueError(f"`index` must have shape {expected}, but got {tuple(idx.shape)}.")
    moves = check_tensor("shift", shift, ndim=3, layout="(N, J, 2)")
    if tuple(moves.shape) != (*expected, 2):
        raise ValueError(f"`shift` must have shape {(*expected, 2)}, but got {tuple(moves.shape)}.")
    done = check_tensor("placed", placed, ndim=2, layout="(N, J)", dtypes=(torch.bool,))
    if tuple(done.shape) != expected:
        raise ValueError(f"`placed` must have shape {expected}, but got {tuple(done.shape)}.")
    if scale is not None:
        factor = check_tensor("scale", scale, ndim=2, layout="(N, J)")
        if tuple(factor.shape) != expected:
            raise ValueError(f"`scale` must have shape {expected}, but got {tuple(factor.shape)}.")
