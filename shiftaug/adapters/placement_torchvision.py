"""``RandomRelocate`` and ``CopyPaste`` as torchvision ``transforms.v2`` transforms.

They take torchvision's detection / instance-segmentation samples, ``(image, target)`` with
``target`` a dict::

    target = {
        "masks": tv_tensors.Mask,          # (K, H, W) instance masks (bool or 0/1)
        "boxes": tv_tensors.BoundingBoxes, # (K, 4), optional: checked against the masks,
                                           #   then recomputed from the moved masks
        "labels": torch.Tensor,            # (K,), optional: follows its object
        "keypoints": tv_tensors.KeyPoints, # (K, P, 2), optional: moves with its object
        "area": torch.Tensor,              # (K,), optional: recomputed where a mask changed
                                           #   (one image's may be a list, as COCO's wrapper gives)
        "iscrowd": torch.Tensor,           # (K,), optional: follows its object
    }

``object_keys`` names the per-object entries besides the four the core moves (default
``("area", "iscrowd")``); every other key passes through untouched. For one image
``(C, H, W)`` the objects a transform dropped (moved out of the frame, covered) are removed
from every per-object entry, as torchvision's detection references expect. A batch
``(N, C, H, W)`` with ``(N, K, H, W)`` masks (and ``(N, K, 4)`` XYXY boxes, ``(N, K, ...)``
per-object entries) keeps its padded layout and gains ``target["valid"]`` ``(N, K')``.
``CopyPaste`` needs a batch (objects come from the other images). A sample without objects (no
``masks``, as torchvision's COCO wrapper gives for an image without annotations, or ``K = 0``)
passes through unchanged. Both compose with stock v2 transforms in ``v2.Compose``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from .._checks import describe
from ..functional._boxes import convert_boxes_
from ..functional._wide import narrow
from ._common import missing_framework, single_thread_after_fork
from ._placement_binding import (
    BOX_TOLERANCE,
    CopyPasteBinding,
    PlacementRecord,
    RelocateBinding,
    check_boxes_match,
)

try:
    import PIL.Image
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional as F
except ModuleNotFoundError as error:  # name the extra that installs torchvision
    raise missing_framework(error, "torchvision", "torchvision") from error

from .torchvision import ShiftaugTransform

__all__ = ["BOX_TOLERANCE", "OBJECT_KEYS", "CopyPaste", "RandomRelocate"]

OBJECT_KEYS = ("area", "iscrowd")
_CORE_KEYS = ("masks", "boxes", "labels", "keypoints", "valid")


class _PlacementTransform(ShiftaugTransform):
    """Shared ``forward`` of the two v2 transforms (see the module docstring)."""

    needs_batch = False

    def __init__(self, binding: Any, object_keys: Sequence[str]) -> None:
        super().__init__(binding)
        if isinstance(object_keys, str) or not all(isinstance(k, str) for k in object_keys):
            raise TypeError(
                f"`object_keys` must be a sequence of target keys, but got {describe(object_keys)}."
            )
        clash = sorted(set(object_keys) & set(_CORE_KEYS))
        if clash:
            raise ValueError(
                f"`object_keys` must name entries besides {list(_CORE_KEYS)}, which the "
                f"transform handles itself, but got {clash}."
            )
        self.object_keys = tuple(object_keys)

    def forward(self, *inputs: Any) -> Any:
        single_thread_after_fork()
        sample = inputs if len(inputs) > 1 else inputs[0]
        if not (
            isinstance(sample, (tuple, list)) and len(sample) == 2 and isinstance(sample[1], dict)
        ):
            raise TypeError(
                "Placement transforms take (image, target) with target a dict holding 'masks', "
                f"but got {describe(sample)}."
            )
        image, target = sample
        pil = isinstance(image, PIL.Image.Image)
        if not (pil or isinstance(image, torch.Tensor)):
            raise TypeError(f"`image` must be a tensor or a PIL image, but got {describe(image)}.")
        pixels = F.pil_to_tensor(image) if pil else image.as_subclass(torch.Tensor)
        batched = pixels.ndim == 4
        if self.needs_batch and not batched:
            raise ValueError(
                f"`image` must be a batch (N, C, H, W): {type(self).__name__} takes objects from "
                f"the other images, but got {describe(pixels)}."
            )
        masks = _instance_masks(target, pixels, self.object_keys)
        if masks is None or masks.shape[-3] == 0:  # nothing to place: the sample is unchanged
            self.last_params = None
            if not batched or masks is None:
                return image, target
            return image, {**target, "valid": masks.new_zeros(masks.shape[:2], dtype=torch.bool)}
        if "boxes" in target:
            _check_boxes(target["boxes"], masks)
        targets = {"image": pixels, "masks": masks}
        for key in ("valid", "labels", "keypoints"):
            if target.get(key) is not None:
                targets[key] = target[key].as_subclass(torch.Tensor)
        record = self.binding.draw(
            len(pixels) if batched else 1, tuple(pixels.shape[-2:]), targets=targets
        )
        self.last_params = record.params
        return self._picture(image, pil, record), self._target(target, masks, record, batched)

    def _picture(self, image: Any, pil: bool, record: PlacementRecord) -> Any:
        picture = self.binding.image(image, record)
        if pil:
            return F.to_pil_image(picture, mode=image.mode)
        return tv_tensors.wrap(picture, like=image) if _is_tv(image) else picture

    def _target(
        self, target: dict[str, Any], masks: torch.Tensor, record: PlacementRecord, batched: bool
    ) -> dict[str, Any]:
        out = record.output
        keep = slice(None) if batched else out.valid
        new = dict(target)
        old_masks = target["masks"]
        moved_masks = out.masks.to(old_masks.dtype)[keep]
        new["masks"] = (
            tv_tensors.wrap(moved_masks, like=old_masks) if _is_tv(old_masks) else moved_masks
        )
        if "boxes" in target:
            boxes = target["boxes"]
            box_format = _box_format(boxes)
            moved = convert_boxes_(out.boxes, "xyxy", box_format, check_values=False)
            moved = narrow(
                moved[keep],
                boxes,
                "target['boxes']",
                check_values=False,
                action="moved by the placement",
            )
            new["boxes"] = tv_tensors.wrap(moved, like=boxes) if _is_tv(boxes) else moved
        if out.labels is not None:
            new["labels"] = out.labels[keep]
        if out.keypoints is not None:
            old = target["keypoints"]
            moved_points = out.keypoints[keep]
            new["keypoints"] = (
                tv_tensors.wrap(moved_points, like=old) if _is_tv(old) else moved_points
            )
        for key in self.object_keys:
            if key in target:
                value = _follow(target[key], record, batched)
                if key == "area":
                    value = _area(value, masks, out.masks, batched)
                new[key] = _select(value, keep)
        if batched:
            new["valid"] = out.valid
        return new


def _is_tv(value: Any) -> bool:
    return isinstance(value, tv_tensors.TVTensor)


def _box_format(boxes: Any) -> str:
    """A ``BoundingBoxes``' format; a plain ``(N, K, 4)`` tensor of a batch is XYXY."""
    return boxes.format.name.lower() if isinstance(boxes, tv_tensors.BoundingBoxes) else "xyxy"


def _instance_masks(
    target: dict[str, Any], pixels: torch.Tensor, object_keys: Sequence[str]
) -> torch.Tensor | None:
    """The bool instance masks of ``target``, or ``None`` for a sample without objects."""
    if target.get("masks") is None:
        counted = [key for key in ("boxes", "labels", *object_keys) if _length(target.get(key))]
        if counted:
            raise ValueError(
                f"`target` must hold 'masks' (instance masks) for its objects, but got keys "
                f"{sorted(target)} with objects in {counted}; with torchvision's COCO wrapper "
                "pass target_keys including 'masks'."
            )
        return None
    masks = target["masks"]
    if not isinstance(masks, torch.Tensor) or masks.ndim != pixels.ndim:
        layout = "(N, K, H, W) for a batch" if pixels.ndim == 4 else "(K, H, W) for one image"
        raise ValueError(f"`target['masks']` must have shape {layout}, but got {describe(masks)}.")
    masks = masks.as_subclass(torch.Tensor)
    return masks if masks.dtype == torch.bool else masks != 0


def _length(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return int(value.shape[0]) if value.ndim else 1
    return len(value) if isinstance(value, (list, tuple)) else 0


def _check_boxes(boxes: Any, masks: torch.Tensor) -> None:
    if not isinstance(boxes, torch.Tensor):
        raise TypeError(f"`target['boxes']` must be a tensor, but got {describe(boxes)}.")
    box_format = _box_format(boxes)
    if box_format not in ("xyxy", "xywh", "cxcywh"):
        raise ValueError(
            f"`target['boxes']` must be axis-aligned (XYXY, XYWH or CXCYWH), but got {box_format}."
        )
    xyxy = convert_boxes_(
        boxes.as_subclass(torch.Tensor).double(), box_format, "xyxy", check_values=False
    )  # float64: no overflow to check for (a host synchronisation saved)
    check_boxes_match(xyxy, masks, "target['boxes']", "target['masks']")


def _follow(value: Any, record: PlacementRecord, batched: bool) -> Any:
    """A per-object entry in the output's slot layout (pasted slots copy their source's)."""
    params = record.params
    rounds = record.output.valid.shape[-1] - params.slots
    if not batched or rounds == 0:
        return value
    if not isinstance(value, torch.Tensor) or tuple(value.shape[:2]) != (len(params), params.slots):
        raise ValueError(
            f"Per-object entries of a batch must have shape ({len(params)}, {params.slots}, ...), "
            f"but got {describe(value)}."
        )
    flat = value.flatten(0, 1)
    index = params.index.to(value.device).clamp(0, max(flat.shape[0] - 1, 0))
    placed = params.placed.to(value.device).view(*params.placed.shape, *[1] * (value.ndim - 2))
    taken = torch.where(
        placed, flat[index], torch.zeros((), dtype=value.dtype, device=value.device)
    )
    return torch.cat([value, taken], 1)


def _area(area: Any, before: torch.Tensor, after: torch.Tensor, batched: bool) -> Any:
    """``area`` with the pixel count of every object whose mask changed (pasted ones too).

    One image's ``area`` may be a list (torchvision's COCO wrapper gives one); it stays a list.
    """
    if not batched and isinstance(area, (list, tuple)):
        values = torch.tensor([float(value) for value in area], dtype=torch.float64)
        return type(area)(_area(values, before, after, batched).tolist())
    if not isinstance(area, torch.Tensor):
        raise TypeError(
            f"`target['area']` must be a tensor (or a list for one image), but got {describe(area)}."
        )
    if not batched:
        before, after = before[None], after[None]
        area = area[None]
    slots = before.shape[1]
    changed = torch.ones(after.shape[:2], dtype=torch.bool, device=after.device)
    changed[:, :slots] = (after[:, :slots] != before).flatten(2).any(-1)
    pixels = after.flatten(2).sum(-1).to(area.dtype)
    updated = torch.where(changed.to(area.device), pixels.to(area.device), area)
    return updated if batched else updated[0]


def _select(value: Any, keep: Any) -> Any:
    if isinstance(keep, slice) or isinstance(value, torch.Tensor):
        return value[keep]
    if isinstance(value, (list, tuple)):
        return type(value)(item for item, kept in zip(value, keep.tolist(), strict=True) if kept)
    raise TypeError(f"Per-object entries must be tensors or lists, but got {describe(value)}.")


class RandomRelocate(_PlacementTransform):
    """:class:`shiftaug.RandomRelocate` as a torchvision v2 transform.

    Takes ``(image, target)`` (see the module docstring); the arguments are the core
    transform's (``inpainter`` a backend name or callable, ``num_objects``, ``shift_px`` /
    ``shift_frac``, ``policy``, ``blend``, ...), plus ``object_keys``. Randomness comes from
    torch's global generator unless a ``generator`` is given, so ``torch.manual_seed``
    reproduces a pipeline (each ``DataLoader`` worker draws its own stream from a
    ``generator``); ``p`` defaults to 1.0, as in the core.

    Args:
        inpainter: the hole-filling backend, a name from
            :func:`shiftaug.inpaint.available_inpainters` or a callable, as in the core.
        object_keys: per-object target entries besides masks, boxes, labels and keypoints that
            follow their object (default ``("area", "iscrowd")``).
        **options: the other arguments of :class:`shiftaug.RandomRelocate`.

    Example:
        >>> import torch
        >>> from torchvision import tv_tensors
        >>> from shiftaug.adapters.placement_torchvision import RandomRelocate
        >>> image = tv_tensors.Image(torch.rand(3, 32, 32))
        >>> masks = torch.zeros(2, 32, 32, dtype=torch.bool)
        >>> masks[0, 2:8, 2:8] = True
        >>> masks[1, 20:30, 20:26] = True
        >>> boxes = tv_tensors.BoundingBoxes([[2, 2, 8, 8], [20, 20, 26, 30]], format="XYXY",
        ...                                  canvas_size=(32, 32))
        >>> target = {"masks": tv_tensors.Mask(masks), "labels": torch.tensor([3, 7]),
        ...           "boxes": boxes, "area": torch.tensor([36.0, 60.0])}
        >>> out_image, out_target = RandomRelocate("mean", shift_px=6)(image, target)
        >>> out_target["boxes"].shape, out_target["labels"].tolist(), out_target["area"].tolist()
        (torch.Size([2, 4]), [3, 7], [36.0, 60.0])
    """

    def __init__(
        self,
        inpainter: Any = "harmonic",
        *,
        object_keys: Sequence[str] = OBJECT_KEYS,
        **options: Any,
    ) -> None:
        super().__init__(RelocateBinding.build(inpainter=inpainter, **options), object_keys)


class CopyPaste(_PlacementTransform):
    """:class:`shiftaug.CopyPaste` as a torchvision v2 transform, for batches.

    Takes ``(images (N, C, H, W), target)`` with ``target["masks"]`` ``(N, K, H, W)`` and
    optional ``"labels"`` ``(N, K)``, ``"valid"`` ``(N, K)``, ``"keypoints"`` ``(N, K, P, 2)``,
    ``"boxes"`` ``(N, K, 4)`` XYXY and the ``object_keys`` entries ``(N, K, ...)``; returns the
    padded ``K + J`` layout with ``target["valid"]`` (pasted slots copy their source object's
    entries; ``area`` is recomputed). The arguments are the core transform's.

    Args:
        object_keys: per-object target entries besides masks, boxes, labels and keypoints that
            follow their object (default ``("area", "iscrowd")``).
        **options: the arguments of :class:`shiftaug.CopyPaste`.

    Example:
        >>> import torch
        >>> from torchvision import tv_tensors
        >>> from shiftaug.adapters.placement_torchvision import CopyPaste
        >>> images = torch.rand(4, 3, 32, 32)
        >>> masks = torch.zeros(4, 1, 32, 32, dtype=torch.bool)
        >>> masks[:, 0, 4:12, 4:12] = True
        >>> _, target = CopyPaste(num_objects=1)(images, {"masks": tv_tensors.Mask(masks)})
        >>> target["masks"].shape, target["valid"].shape
        (torch.Size([4, 2, 32, 32]), torch.Size([4, 2]))
    """

    needs_batch = True

    def __init__(self, *, object_keys: Sequence[str] = OBJECT_KEYS, **options: Any) -> None:
        super().__init__(CopyPasteBinding.build(**options), object_keys)
