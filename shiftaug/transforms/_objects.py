"""What :class:`RandomRelocate` and :class:`CopyPaste` share: object inputs, rounds, outputs.

Objects are padded: ``masks (N, K, H, W)`` bool plus ``valid (N, K)`` (False for padding slots),
or an ``(N, H, W)`` label map of instance ids (0 = background) that is split into that form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import torch

from .._checks import check_choice, check_tensor, describe
from ..functional import IMAGE_DTYPES
from ..functional._blend import BLEND_MODES, blend_margin
from ..functional._boxes import masks_to_boxes
from ..functional._mask import translate_mask_
from ..functional._placement import label_map_to_masks, mask_any, masks_to_label_map
from ..params._placement import POLICIES, PlacementParams, draw_positions
from ..params._ranges import ShiftRange

__all__ = ["ON_NO_POSITION", "Objects", "PlacementOutput", "PlacementPolicy", "parse_objects"]

ON_NO_POSITION = ("skip", "raise")


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
        if (
            points.dtype == torch.bool
            or points.shape[-1] != 2
            or points.shape[:2] != instance.shape[:2]
        ):
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


@dataclass(frozen=True)
class PlacementPolicy:
    """Placement options shared by both transforms, checked once at construction."""

    policy: str
    shift_range: ShiftRange | None
    min_inside: float
    region: torch.Tensor | None
    density: torch.Tensor | None
    stride: int
    on_no_position: str

    @staticmethod
    def create(
        policy: str, shift_range: ShiftRange | None, min_inside: float, region: object,
        density: object, stride: int, on_no_position: str,
    ) -> PlacementPolicy:  # fmt: skip
        check_choice("policy", policy, POLICIES)
        check_choice("on_no_position", on_no_position, ON_NO_POSITION)
        if (
            isinstance(min_inside, bool)
            or not isinstance(min_inside, (int, float))
            or not 0 < min_inside <= 1
        ):
            raise ValueError(
                f"`min_inside` must be a number in (0, 1], but got {describe(min_inside)}."
            )
        if isinstance(stride, bool) or not isinstance(stride, int) or stride < 1:
            raise ValueError(f"`stride` must be an int >= 1, but got {describe(stride)}.")
        region_t = _policy_map("region", region, policy == "region", torch.bool)
        density_t = _policy_map("density", density, policy == "density", None)
        if density_t is not None and (
            not density_t.is_floating_point() or bool((density_t < 0).any())
        ):
            raise ValueError(
                f"`density` must hold non-negative floats, but got {describe(density)}."
            )
        return PlacementPolicy(
            policy, shift_range, float(min_inside), region_t, density_t, stride, on_no_position
        )

    def draw(
        self,
        masks: torch.Tensor,
        occupied: torch.Tensor | None,
        generator: torch.Generator | None,
        grid_index: torch.Tensor,
        boxes: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One move per row of ``masks`` ``(N, H, W)``; ``occupied`` is ``(N, H, W)``;
        ``boxes (N, 4)`` of the masks if known."""
        size = tuple(masks.shape)
        return draw_positions(
            masks, self.policy, self.shift_range, self.min_inside, occupied=occupied,
            region=_expand_map("region", self.region, size, masks.device),
            density=_expand_map("density", self.density, size, masks.device),
            stride=self.stride, grid_index=grid_index, generator=generator, boxes=boxes,
        )  # fmt: skip

    def check_found(self, requested: torch.Tensor, placed: torch.Tensor, what: str) -> None:
        """Raise for objects without a valid position if the user asked for it."""
        if self.on_no_position != "raise":
            return
        failed = requested & ~placed
        if bool(failed.any()):
            n, j = (int(v) for v in torch.nonzero(failed)[0])
            raise ValueError(
                f"No valid position for {what} {j} of image {n} under policy {self.policy!r} "
                f"(shift range {self.shift_range}, min_inside={self.min_inside}); relax the "
                "constraints or pass on_no_position='skip' to leave such objects in place."
            )


def _policy_map(
    name: str, value: object, required: bool, dtype: torch.dtype | None
) -> torch.Tensor | None:
    if value is None:
        if required:
            raise ValueError(f"`{name}` must be given for policy={name!r}, but got None.")
        return None
    tensor = check_tensor(name, value, min_ndim=2, layout="(H, W) or (N, H, W)")
    if tensor.ndim > 3:
        raise ValueError(
            f"`{name}` must have shape (H, W) or (N, H, W), but got {tuple(tensor.shape)}."
        )
    if dtype is not None and tensor.dtype != dtype:
        raise TypeError(f"`{name}` must have dtype {dtype}, but got {tensor.dtype}.")
    return tensor


def _expand_map(
    name: str, value: torch.Tensor | None, size: tuple[int, ...], device: torch.device
) -> torch.Tensor | None:
    if value is None:
        return None
    if tuple(value.shape[-2:]) != size[1:] or (value.ndim == 3 and value.shape[0] != size[0]):
        raise ValueError(
            f"`{name}` must have shape {size[1:]} or {size} for these images, but got "
            f"{tuple(value.shape)}."
        )
    return value.to(device).expand(size)


def check_blend(blend: str, sigma: float, levels: int, iterations: int) -> None:
    """Validate the blending options once (see :func:`shiftaug.functional.blend_images`)."""
    check_choice("blend", blend, BLEND_MODES)
    blend_margin(blend, sigma=sigma, levels=levels)
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"`iterations` must be an int >= 1, but got {describe(iterations)}.")


def parse_count(num_objects: object) -> tuple[int, int | None]:
    """``n``, ``(low, high)`` or ``"all"`` objects per image -> ``(low, high or None for all)``."""
    if num_objects == "all":
        return 1, None
    if isinstance(num_objects, int) and not isinstance(num_objects, bool) and num_objects >= 1:
        return num_objects, num_objects
    if (
        isinstance(num_objects, (tuple, list))
        and len(num_objects) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in num_objects)
        and 0 <= num_objects[0] <= num_objects[1]
        and num_objects[1] >= 1
    ):
        return int(num_objects[0]), int(num_objects[1])
    raise ValueError(
        "`num_objects` must be an int >= 1, a range (low, high) with 0 <= low <= high, high >= 1, "
        f"or 'all', but got {describe(num_objects)}."
    )


def choose_objects(
    valid: torch.Tensor,
    count: tuple[int, int | None],
    p: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick objects per row of ``valid (N, K)`` in random order.

    Returns ``(order, requested)``: ``(N, J)`` slot indices and ``(N, J)`` bool, with
    ``J = min(high, K)`` fixed by the options (no host synchronisation).
    """
    batch, slots = valid.shape
    low, high = count
    rounds = slots if high is None else min(high, slots)
    source = generator.device if generator is not None else valid.device
    scores = torch.rand(batch, slots, generator=generator, device=source).to(valid.device)
    order = torch.argsort(torch.where(valid, scores, 2.0), dim=1)[:, :rounds]
    available = valid.sum(-1)
    if high is None:
        wanted = available
    else:
        unit = torch.rand(batch, generator=generator, device=source).to(valid.device)
        wanted = (low + torch.floor(unit * (high - low + 1))).long().clamp(max=high)
    applied = torch.rand(batch, generator=generator, device=source).to(valid.device) < p
    wanted = torch.minimum(wanted, available) * applied
    requested = torch.arange(rounds, device=valid.device) < wanted[:, None]
    return order, requested


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


def check_params(params: object, objects: Objects) -> None:
    """Replayed parameters must come from a call with the same batch and slot count."""
    if not isinstance(params, PlacementParams):
        raise TypeError(f"`params` must be PlacementParams, but got {type(params).__name__}.")
    batch, slots = objects.valid.shape
    if len(params) != batch or params.slots != slots:
        raise ValueError(
            f"`params` were drawn for {len(params)} images with {params.slots} mask slots, but "
            f"got {batch} images with {slots}."
        )


def check_occlusion(min_visibility: object, min_area: object) -> tuple[float, float]:
    """Validate the thresholds below which occluded objects are dropped."""
    for name, value in (("min_visibility", min_visibility), ("min_area", min_area)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"`{name}` must be a number >= 0, but got {describe(value)}.")
    if min_visibility > 1:  # type: ignore[operator]
        raise ValueError(f"`min_visibility` must be in [0, 1], but got {min_visibility!r}.")
    return float(min_visibility), float(min_area)  # type: ignore[arg-type]


def draw_rounds(
    placement: PlacementPolicy,
    chosen: torch.Tensor,
    requested: torch.Tensor,
    occupied: torch.Tensor | None,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Moves for ``chosen (N, J, H, W)`` objects, round by round (batched over images).

    With ``"non_overlapping"``, each placed object joins ``occupied`` (needed only by that
    policy) before the next round. Returns ``(shift (N, J, 2), placed (N, J))`` and raises if
    asked to when nothing fits.
    """
    batch, rounds = requested.shape
    if placement.policy == "same":  # requested objects are valid, hence non-empty: all fit
        return torch.zeros(batch, rounds, 2, device=requested.device), requested.clone()
    cells = torch.arange(batch, device=chosen.device)
    # Policies that look only at the boxes get them for all rounds at once; an unrequested
    # entry gets an empty box, so it finds no position (as an empty mask would).
    boxes = None
    if placement.min_inside >= 1.0 and placement.policy not in ("non_overlapping", "region"):
        boxes = masks_to_boxes(chosen)[0] * requested[..., None]
    shifts, placed = [], []
    for j in range(rounds):
        if boxes is None:
            mask = chosen[:, j] & requested[:, j, None, None]
            shift, found = placement.draw(mask, occupied, generator, cells)
        else:
            shift, found = placement.draw(chosen[:, j], None, generator, cells, boxes[:, j])
        if placement.policy == "non_overlapping":
            occupied = occupied | moved_mask(mask, shift)  # type: ignore[operator]
        shifts.append(shift)
        placed.append(found & requested[:, j])
    if not rounds:
        return torch.zeros(batch, 0, 2, device=chosen.device), requested.clone()
    placed_t = torch.stack(placed, 1)
    placement.check_found(requested, placed_t, "object")
    return torch.stack(shifts, 1), placed_t


def run_placement(
    transform: Any,
    image: object,
    masks: object,
    valid: object,
    labels: object,
    keypoints: object,
    params: object,
) -> PlacementOutput:
    """The body of both transforms' ``forward``: check, draw or replay, place."""
    batch_image, objects = parse_objects(image, masks, valid, labels, keypoints)
    if params is None:
        params = transform.make_params(batch_image, objects.masks, objects.valid)
    else:
        check_params(params, objects)
    out = transform._place(batch_image, objects, params)
    transform.last_params = params  # only once the call succeeded
    return out
