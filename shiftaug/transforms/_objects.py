"""What :class:`RandomRelocate` and :class:`CopyPaste` share: object inputs, rounds, outputs.

Objects are padded: ``masks (N, K, H, W)`` bool plus ``valid (N, K)`` (False for padding slots),
or an ``(N, H, W)`` label map of instance ids (0 = background) that is split into that form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .._checks import check_choice, check_device, check_int, check_real, check_tensor, describe
from ..functional import IMAGE_DTYPES
from ..functional._blend import BLEND_MODES, blend_margin
from ..functional._boxes import masks_to_boxes
from ..functional._mask import translate_mask_
from ..functional._placement import label_map_to_masks, mask_any, masks_to_label_map
from ..params._placement import PlacementParams, check_placement_params

__all__ = ["Objects", "PlacementOutput", "parse_objects", "run_placement"]


class PlacementOutput(NamedTuple):
    """What :class:`~shiftaug.RandomRelocate` and :class:`~shiftaug.CopyPaste` return.

    Attributes:
        image: ``(N, C, H, W)`` (or ``(C, H, W)``) images, the input's dtype.
        masks: ``(N, K', H, W)`` bool instance masks after the transform (occlusion applied,
            dropped objects emptied), or an ``(N, H, W)`` id map if a label map was given.
        valid: ``(N, K')`` bool: which slots hold an object. An object that was dropped (it
            left the frame or became too occluded) has ``valid == False``: nothing vanishes
            silently.
        boxes: ``(N, K', 4)`` ``xyxy`` boxes recomputed from ``masks`` (zeros where invalid).
        labels: ``(N, K')`` class labels (``None`` if none were given; meaningless where invalid).
        keypoints: ``(N, K', P, 2)`` keypoints moved with their objects, or ``None``.
        keypoints_visible: ``(N, K', P)`` bool: inside the frame, object valid and not covered
            by an object pasted on top of it.
        params: the :class:`~shiftaug.params.PlacementParams` drawn or replayed.
    """

    image: torch.Tensor
    masks: torch.Tensor
    valid: torch.Tensor
    boxes: torch.Tensor
    labels: torch.Tensor | None
    keypoints: torch.Tensor | None
    keypoints_visible: torch.Tensor | None
    params: PlacementParams


@dataclass(frozen=True)
class Objects:
    """Validated, batched objects of one call."""

    masks: torch.Tensor  # (N, K, H, W) bool
    valid: torch.Tensor  # (N, K) bool
    boxes: torch.Tensor  # (N, K, 4) float32 xyxy boxes of the masks (zeros where invalid)
    labels: torch.Tensor | None  # (N, K)
    keypoints: torch.Tensor | None  # (N, K, P, 2)
    label_map: bool  # the caller gave an id map; return one
    single: bool  # the caller gave one (C, H, W) image; drop the batch dimension


def parse_objects(
    image: object,
    masks: object,
    valid: object = None,
    labels: object = None,
    keypoints: object = None,
) -> tuple[torch.Tensor, Objects]:
    """Check the inputs of a placement transform and bring them to the batched form."""
    img = check_tensor(
        "image", image, min_ndim=3, layout="(N, C, H, W) or (C, H, W)", dtypes=IMAGE_DTYPES
    )
    if img.ndim > 4:
        raise ValueError(
            f"`image` must have shape (N, C, H, W) or (C, H, W), but got {tuple(img.shape)}."
        )
    single = img.ndim == 3
    if single:
        img = img.unsqueeze(0)
        masks, valid, labels, keypoints = (_add_batch(v) for v in (masks, valid, labels, keypoints))
    batch, size = img.shape[0], tuple(img.shape[-2:])
    for name, value in (
        ("masks", masks),
        ("valid", valid),
        ("labels", labels),
        ("keypoints", keypoints),
    ):
        if isinstance(value, torch.Tensor):
            check_device(name, value, "image", img.device)
    split, label_map = _masks(masks, batch, size)
    instance, boxes, present = split
    if valid is None:
        valid_t = present
        if not label_map:
            _check_nonempty(present, torch.ones_like(present))
    else:
        valid_t = check_tensor("valid", valid, ndim=2, layout="(N, K)", dtypes=(torch.bool,))
        _check_shape("valid", valid_t, tuple(instance.shape[:2]))
        _check_nonempty(present, valid_t)
    label_t = None
    if labels is not None:
        label_t = check_tensor("labels", labels, ndim=2, layout="(N, K)")
        if label_t.dtype.is_floating_point or label_t.dtype == torch.bool:
            raise TypeError(f"`labels` must hold integer class ids, but got dtype {label_t.dtype}.")
        _check_shape("labels", label_t, tuple(instance.shape[:2]))
    points = None
    if keypoints is not None:
        points = check_tensor("keypoints", keypoints, ndim=4, layout="(N, K, P, 2)")
        if not points.is_floating_point():
            # Moved (and rescaled) keypoints are real numbers: integer ones would wrap or truncate.
            raise TypeError(
                f"`keypoints` must be a float tensor, but got dtype {points.dtype}; convert "
                "them with keypoints.float()."
            )
        if points.shape[-1] != 2 or points.shape[:2] != instance.shape[:2]:
            raise ValueError(
                f"`keypoints` must have shape ({batch}, {instance.shape[1]}, P, 2) (one set per "
                f"object), but got {describe(points)}."
            )
    valid_t = valid_t & present
    if bool((present & ~valid_t).any()):  # padding slots with pixels: clear them once, here
        instance = instance & valid_t[..., None, None]
        boxes = boxes * valid_t[..., None]
    return img, Objects(instance, valid_t, boxes, label_t, points, label_map, single)


def _add_batch(value: object) -> object:
    return value.unsqueeze(0) if isinstance(value, torch.Tensor) else value


def _masks(
    masks: object, batch: int, size: tuple[int, ...]
) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], bool]:
    """``((masks, boxes, present), label_map)``: the boxes are needed anyway for the output
    (objects nothing touches keep theirs), and give ``present`` in the same pass."""
    if not isinstance(masks, torch.Tensor):
        raise TypeError(f"`masks` must be a torch.Tensor, but got {type(masks).__name__}.")
    expectation = "(N, K, H, W) bool instance masks or an (N, H, W) integer label map"
    if masks.dtype == torch.bool:
        if masks.ndim != 4:
            raise ValueError(f"`masks` must be {expectation}, but got {describe(masks)}.")
        _check_shape("masks", masks, (batch, masks.shape[1], *size))
        return (masks, *masks_to_boxes(masks)), False
    if masks.dtype.is_floating_point or masks.is_complex():
        raise TypeError(
            f"`masks` must be {expectation}, but got dtype {masks.dtype}; threshold soft masks "
            "first (e.g. masks > 0.5)."
        )
    if masks.ndim != 3:
        raise ValueError(f"`masks` must be {expectation}, but got {describe(masks)}.")
    _check_shape("masks", masks, (batch, *size))
    instance = label_map_to_masks(masks)[0]
    return (instance, *masks_to_boxes(instance)), True


def _check_shape(name: str, value: torch.Tensor, expected: tuple[int, ...]) -> None:
    if tuple(value.shape) != expected:
        raise ValueError(
            f"`{name}` must have shape {expected} to match the image, but got {tuple(value.shape)}."
        )


def _check_nonempty(present: torch.Tensor, valid: torch.Tensor) -> None:
    empty = valid & ~present
    if bool(empty.any()):
        n, k = (int(v) for v in torch.nonzero(empty)[0])
        raise ValueError(
            f"`masks` must not be empty for valid objects, but masks[{n}, {k}] has no pixel; mark "
            "padding slots with `valid` (False) instead."
        )


def check_blend(blend: str, sigma: float, levels: int, iterations: int) -> None:
    """Validate the blending options once (see :func:`shiftaug.functional.blend_images`); an
    option the mode does not read must keep its default (it would be silently ignored)."""
    check_choice("blend", blend, BLEND_MODES)
    blend_margin(blend, sigma=sigma, levels=levels)
    check_int("iterations", iterations, low=1)
    for name, value, default, reader in (
        ("sigma", sigma, 1.0, "feather"),
        ("levels", levels, 3, "laplacian"),
        ("iterations", iterations, 300, "poisson"),
    ):
        if value != default and blend != reader:
            raise ValueError(
                f"`{name}` is only read with blend={reader!r} and would be silently ignored "
                f"with blend={blend!r}; drop it or choose blend={reader!r}."
            )


def finish(
    image: torch.Tensor,
    masks: torch.Tensor,
    valid: torch.Tensor,
    boxes: torch.Tensor,
    labels: torch.Tensor | None,
    keypoints: torch.Tensor | None,
    depth: torch.Tensor,
    top: torch.Tensor,
    params: PlacementParams,
    objects: Objects,
) -> PlacementOutput:
    """Keypoint visibility and the caller's layout (label map, single image).

    ``boxes (N, K', 4)`` are the masks' boxes (zeroed here where invalid); ``depth (N, K')`` is the paste round of each object (-1 for objects never pasted) and
    ``top (N, H, W)`` the round of the topmost paste at each pixel (-1 for none); a keypoint is
    hidden when something was pasted above its object at its pixel.
    """
    boxes = boxes * valid[..., None]
    visible = None
    if keypoints is not None:
        height, width = masks.shape[-2:]
        x, y = keypoints[..., 0], keypoints[..., 1]
        inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
        rows = torch.floor(y).long().clamp(0, height - 1)
        cols = torch.floor(x).long().clamp(0, width - 1)
        flat = top.flatten(1)
        above = flat.gather(1, (rows * width + cols).flatten(1)).view_as(rows)
        visible = inside & valid[..., None] & (above <= depth[..., None])
    out_masks = masks_to_label_map(masks, valid) if objects.label_map else masks
    if objects.single:
        return PlacementOutput(
            image[0], out_masks[0], valid[0], boxes[0], _first(labels), _first(keypoints),
            _first(visible), params,
        )  # fmt: skip
    return PlacementOutput(image, out_masks, valid, boxes, labels, keypoints, visible, params)


def _first(value: torch.Tensor | None) -> torch.Tensor | None:
    return None if value is None else value[0]


def moved_mask(mask: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    return translate_mask_(mask, shift, check_values=False)


def gather_masks(masks: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``(N, J, H, W)`` masks of the objects at flat indices ``index (N, J)`` of ``masks``."""
    flat = masks.flatten(0, 1).index_select(
        0, index.flatten().clamp(0, max(masks.shape[0] * masks.shape[1] - 1, 0))
    )
    return flat.view(*index.shape, *masks.shape[-2:])


def union_of(masks: torch.Tensor) -> torch.Tensor:
    """``(N, H, W)``: pixels of any object (invalid slots are empty after parse_objects)."""
    return mask_any(masks, 1)


def check_occlusion(min_visibility: object, min_area: object) -> tuple[float, float]:
    """Validate the thresholds below which occluded objects are dropped."""
    return (
        check_real("min_visibility", min_visibility, low=0, high=1),
        check_real("min_area", min_area, low=0),
    )


def run_placement(
    transform: Any,
    image: object,
    masks: object,
    valid: object,
    labels: object,
    keypoints: object,
    params: object,
) -> PlacementOutput:
    """The body of both transforms' ``forward``: check, draw or replay, place.

    Drawn and replayed parameters go through the same check (values only for replayed ones:
    drawn ones are valid by construction, and reading values synchronises with the device).
    """
    batch_image, objects = parse_objects(image, masks, valid, labels, keypoints)
    replayed = params is not None
    if params is None:
        params = transform.make_params(batch_image, objects.masks, objects.valid)
    check_placement_params(
        params, image_size=(batch_image.shape[-2], batch_image.shape[-1]), batch=batch_image.shape[0],
        valid=objects.valid, relocation=transform.relocation, values=replayed,
    )  # fmt: skip
    out = transform._place(batch_image, objects, params)
    transform.last_params = params  # only once the call succeeded
    return out
