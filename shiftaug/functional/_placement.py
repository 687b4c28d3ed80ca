"""Object placement kernels: cutting objects out and pasting them elsewhere.

Objects are stored padded (see :mod:`shiftaug.functional._instances`), so images with
different numbers of objects share one tensor and everything stays batched. Pastes happen in
*rounds*: round ``j`` pastes at most one object into
every image at once, so a Python loop runs over the (small) number of objects per image, never
over the images.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .._checks import (
    check_choice,
    check_device,
    check_int,
    check_tensor,
    describe,
    get_validate_args,
)
from ._blend import BLEND_MODES, blend_images, blend_margin
from ._boxes import masks_to_boxes
from ._image import IMAGE_DTYPES, translate_image_
from ._instances import (
    label_map_to_masks,
    mask_any,
    mask_area,
    masks_to_label_map,
    occlude_masks,
    top_round,
)
from ._mask import translate_mask_
from ._pixel_paste import paste_pixels

__all__ = [
    "label_map_to_masks",
    "mask_any",
    "mask_area",
    "masks_to_label_map",
    "occlude_masks",
    "paste_objects",
    "scale_masks",
    "scale_pictures",
    "scale_points",
    "top_round",
]

MAX_SHIFT = 2**24  # largest move (pixels) a float32 shift holds exactly


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
    neighbour (see :func:`scale_masks`).

    Args:
        image: ``(N, C, H, W)`` canvases.
        source: ``(B, C, H, W)`` images the objects come from (same dtype, size and device).
        source_masks: ``(B, K, H, W)`` bool instance masks of ``source``.
        index: ``(N, J)`` int64 flat object indices into ``source_masks.flatten(0, 1)``, in
            ``[0, B * K)``.
        shift: ``(N, J, 2)`` ``(dx, dy)`` whole-pixel moves (finite whole numbers, at most
            ``2**24``).
        placed: ``(N, J)`` bool, which entries paste anything.
        scale: optional ``(N, J)`` finite positive scale factors.
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
    check_choice("blend", blend, BLEND_MODES)
    blend_margin(blend, sigma=sigma, levels=levels)
    check_int("iterations", iterations, low=1)
    return paste_objects_(
        image, source, source_masks, index, shift, placed, scale, blend=blend, sigma=sigma,
        levels=levels, iterations=iterations,
    )  # fmt: skip


def paste_objects_(
    image: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    scale: torch.Tensor | None = None,
    *,
    blend: str = "hard",
    into: bool = False,
    **options: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`paste_objects` without argument checks; with ``into`` it may write into ``image``
    (for callers that own it: exact, unscaled pastes then skip a copy of the whole batch)."""
    if blend in ("hard", "antialias") and scale is None:
        return _paste_pixels(
            image, source, source_masks, index, shift, placed, copy=not into,
            antialias=blend == "antialias",
        )  # fmt: skip
    batch, rounds = index.shape
    objects = source_masks.shape[1]
    flat_masks = source_masks.flatten(0, 1)
    out = image
    pasted = image.new_zeros((batch, rounds, *image.shape[-2:]), dtype=torch.bool)
    for j in range(rounds):
        which = index[:, j].clamp(0, max(flat_masks.shape[0] - 1, 0))
        picture = source.index_select(0, torch.div(which, max(objects, 1), rounding_mode="floor"))
        if objects:
            mask = flat_masks.index_select(0, which) & placed[:, j, None, None]
        else:
            mask = torch.zeros_like(picture[:, 0], dtype=torch.bool)
        if scale is None:
            moved_picture = translate_image_(
                picture, shift[:, j], "zeros", 0.0, "nearest", check_values=False
            )
            moved_mask = translate_mask_(mask, shift[:, j], check_values=False)
        else:
            moved_picture, moved_mask = _scale_and_move(picture, mask, shift[:, j], scale[:, j])
        out = blend_images(out, moved_picture, moved_mask[:, None], mode=blend, **options)
        pasted[:, j] = moved_mask
    return out, pasted


def _paste_pixels(
    image: torch.Tensor,
    source: torch.Tensor,
    source_masks: torch.Tensor,
    index: torch.Tensor,
    shift: torch.Tensor,
    placed: torch.Tensor,
    *,
    copy: bool,
    antialias: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Unscaled pastes that touch only the objects' pixels (into ``image`` itself when
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
    got = paste_pixels(out, source, source_masks, boxes, index, shift, placed, antialias=antialias)
    plane = height * width
    for pixel, entry in ((got.pixel, got.entry), (got.covered_pixel, got.covered_entry)):
        image_of = torch.div(entry, rounds, rounding_mode="floor")
        pasted.view(-1).index_fill_(0, pixel + (entry - image_of) * plane, True)
    return out, pasted


def scale_points(
    points: torch.Tensor, centre: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor
) -> torch.Tensor:
    """Map ``(..., P, 2)`` points as :func:`paste_objects` maps pixels: scale about ``centre``
    (``(..., 2)``) by ``scale`` (``(...)``), then move by ``shift`` (``(..., 2)``).

    Example:
        >>> import torch
        >>> from shiftaug.functional import scale_points
        >>> scale_points(torch.tensor([[4.0, 2.0]]), torch.tensor([2.0, 2.0]),
        ...     torch.tensor(2.0), torch.tensor([1.0, 0.0]))
        tensor([[7., 2.]])
    """
    check_tensor("points", points, min_ndim=2, layout="(..., P, 2)")
    if points.shape[-1] != 2 or not points.is_floating_point():
        raise ValueError(f"`points` must be float (..., P, 2) points, but got {describe(points)}.")
    centre = centre[..., None, :]
    return (points - centre) * scale[..., None, None] + centre + shift[..., None, :]


def scale_masks(
    masks: torch.Tensor,
    scale: torch.Tensor,
    pad: int = 0,
    shift: torch.Tensor | None = None,
    *,
    centre_of: torch.Tensor | None = None,
) -> torch.Tensor:
    """``(M, H, W)`` bool masks scaled about their box centres by ``scale (M,)``, then moved by
    ``shift (M, 2)`` (default none), on a canvas ``pad`` pixels larger on every side.

    Output pixel ``p`` (frame coordinates, the canvas' pixel ``p + pad``) shows the source
    pixel containing ``(p + 0.5 - centre - shift) / scale + centre``: nearest neighbour, the
    same rule :func:`paste_objects` pastes scaled masks with, so with ``pad`` large enough the
    canvas holds the whole scaled object that the frame cuts. ``centre_of`` (``(M, H, W)``
    bool) scales about the box centres of other masks (e.g. a map that moves with an object).

    Example:
        >>> import torch
        >>> from shiftaug.functional._placement import scale_masks
        >>> m = torch.zeros(1, 4, 4, dtype=torch.bool)
        >>> m[0, 1:3, 1:3] = True
        >>> scale_masks(m, torch.tensor([2.0]), pad=1).sum().item()
        16
    """
    count, height, width = masks.shape
    centre = _centres(masks if centre_of is None else centre_of)
    if shift is None:
        shift = torch.zeros(count, 2, device=masks.device)
    src_x, src_y = _source_coords(centre, shift, scale, (height, width), pad, torch.float32)
    return _nearest(masks, src_x, src_y)


def scale_pictures(
    pictures: torch.Tensor, masks: torch.Tensor, scale: torch.Tensor, pad: int = 0
) -> torch.Tensor:
    """``(M, C, H, W)`` float pictures scaled (bilinearly, zeros outside) about the box centres
    of ``masks (M, H, W)`` by ``scale (M,)`` onto a canvas ``pad`` pixels larger on every side:
    the pixels :func:`paste_objects` pastes with the objects of ``masks``, and their
    surroundings."""
    height, width = pictures.shape[-2:]
    compute = torch.float64 if pictures.dtype == torch.float64 else torch.float32
    shift = torch.zeros(masks.shape[0], 2, device=masks.device)
    src_x, src_y = _source_coords(_centres(masks), shift, scale, (height, width), pad, compute)
    return _bilinear(pictures.to(compute), src_x, src_y)


def _centres(masks: torch.Tensor) -> torch.Tensor:
    boxes = masks_to_boxes(masks)[0]
    return (boxes[:, :2] + boxes[:, 2:]) / 2  # (M, 2) box centres (x, y); 0 when empty


def _source_coords(
    centre: torch.Tensor,
    shift: torch.Tensor,
    scale: torch.Tensor,
    size: tuple[int, int],
    pad: int,
    compute: torch.dtype,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(M, W + 2 pad)``, ``(M, H + 2 pad)``: the source x / y each output column / row reads."""
    height, width = size
    device = centre.device
    cols = torch.arange(-pad, width + pad, device=device, dtype=compute) + 0.5
    rows = torch.arange(-pad, height + pad, device=device, dtype=compute) + 0.5
    s = scale.to(compute).view(-1, 1)
    centre, shift = centre.to(compute), shift.to(compute)
    src_x = (cols.view(1, -1) - centre[:, :1] - shift[:, :1]) / s + centre[:, :1]
    src_y = (rows.view(1, -1) - centre[:, 1:] - shift[:, 1:]) / s + centre[:, 1:]
    return src_x, src_y


def _nearest(masks: torch.Tensor, src_x: torch.Tensor, src_y: torch.Tensor) -> torch.Tensor:
    """``masks (M, H, W)`` read at the pixels containing ``src_x (M, X)`` / ``src_y (M, Y)``
    (False outside the frame): ``(M, Y, X)``."""
    height, width = masks.shape[-2:]
    x, y = torch.floor(src_x).long(), torch.floor(src_y).long()
    ok_x, ok_y = (x >= 0) & (x < width), (y >= 0) & (y < height)
    rows = masks.gather(1, y.clamp(0, height - 1)[:, :, None].expand(-1, -1, width))
    picked = rows.gather(2, x.clamp(0, width - 1)[:, None, :].expand(-1, rows.shape[1], -1))
    return picked & ok_y[:, :, None] & ok_x[:, None, :]


def _scale_and_move(
    picture: torch.Tensor, mask: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale each object about its box centre, then move it: the picture bilinearly (one
    ``grid_sample`` per round), the ``(N, H, W)`` mask by :func:`scale_masks`' rule."""
    height, width = picture.shape[-2:]
    compute = torch.float64 if picture.dtype == torch.float64 else torch.float32
    centre = _centres(mask)
    src_x, src_y = _source_coords(centre, shift, scale, (height, width), 0, compute)
    moved = _bilinear(picture.to(compute), src_x, src_y)
    if not picture.dtype.is_floating_point:
        moved = moved.round_().clamp_(0, 255)
    src_x, src_y = _source_coords(centre, shift, scale, (height, width), 0, torch.float32)
    return moved.to(picture.dtype), _nearest(mask, src_x, src_y)


def _bilinear(pictures: torch.Tensor, src_x: torch.Tensor, src_y: torch.Tensor) -> torch.Tensor:
    """Float ``pictures (M, C, H, W)`` sampled bilinearly (zeros outside) at the source
    coordinates ``src_x (M, X)`` / ``src_y (M, Y)``: ``(M, C, Y, X)``."""
    height, width = pictures.shape[-2:]
    grid = torch.stack(
        torch.broadcast_tensors(
            (2 * src_x / width - 1)[:, None, :], (2 * src_y / height - 1)[:, :, None]
        ),
        -1,
    )
    return F.grid_sample(pictures, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


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
    if moves.dtype == torch.bool or moves.is_complex():
        raise TypeError(f"`shift` must be a real tensor, but got dtype {moves.dtype}.")
    if tuple(moves.shape) != (*expected, 2):
        raise ValueError(f"`shift` must have shape {(*expected, 2)}, but got {tuple(moves.shape)}.")
    done = check_tensor("placed", placed, ndim=2, layout="(N, J)", dtypes=(torch.bool,))
    if tuple(done.shape) != expected:
        raise ValueError(f"`placed` must have shape {expected}, but got {tuple(done.shape)}.")
    named = [("source", src), ("source_masks", masks), ("index", idx), ("shift", moves)]
    named.append(("placed", done))
    if scale is not None:
        factor = check_tensor("scale", scale, ndim=2, layout="(N, J)")
        if not factor.is_floating_point():
            raise TypeError(f"`scale` must be a float tensor, but got dtype {factor.dtype}.")
        if tuple(factor.shape) != expected:
            raise ValueError(f"`scale` must have shape {expected}, but got {tuple(factor.shape)}.")
        named.append(("scale", factor))
    for name, value in named:
        check_device(name, value, "image", img.device)
    if get_validate_args():
        _check_paste_values(masks, idx, moves, factor if scale is not None else None)


def _check_paste_values(
    masks: torch.Tensor, index: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor | None
) -> None:
    count = masks.shape[0] * masks.shape[1]
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= count):
        raise ValueError(
            f"`index` must hold flat object indices in [0, {count}) (B * K of `source_masks`), "
            f"but got values in [{int(index.min())}, {int(index.max())}]."
        )
    if shift.is_floating_point():
        if not bool(torch.isfinite(shift).all()):
            raise ValueError("`shift` must be finite, but got NaN or inf.")
        if not bool((shift == shift.round()).all()):
            bad = shift[shift != shift.round()][:3].tolist()
            raise ValueError(f"`shift` must hold whole-pixel moves, but got {bad}.")
    if shift.numel() and float(shift.abs().max()) > MAX_SHIFT:
        raise ValueError(
            f"`shift` must hold moves of at most {MAX_SHIFT} pixels, but got "
            f"{float(shift.abs().max())}."
        )
    good = None if scale is None else torch.isfinite(scale) & (scale > 0)
    if good is not None and not bool(good.all()):
        bad = scale[~good][:3].tolist()  # type: ignore[index]
        raise ValueError(f"`scale` must hold finite factors > 0, but got {bad}.")
