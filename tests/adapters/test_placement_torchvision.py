"""torchvision placement adapters: every per-object entry follows its object, boxes are checked."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torchvision import tv_tensors
from torchvision.transforms import v2

from shiftaug import CopyPaste as CoreCopyPaste
from shiftaug import RandomRelocate as CoreRelocate
from shiftaug.adapters.placement_torchvision import CopyPaste, RandomRelocate
from shiftaug.functional import masks_to_boxes
from tests.placement.helpers import rect_scene

SIZE = (24, 28)


def _target(masks: torch.Tensor) -> dict[str, Any]:
    """A COCO-like target: boxes of the masks (XYWH), labels, iscrowd, a polygon-ish area
    that differs from the pixel count (so a recomputed one shows), a custom list entry."""
    xyxy = masks_to_boxes(masks)[0]
    xywh = torch.cat([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], -1)
    count = len(masks)
    return {
        "masks": tv_tensors.Mask(masks.to(torch.uint8)),
        "boxes": tv_tensors.BoundingBoxes(xywh, format="XYWH", canvas_size=SIZE),
        "labels": torch.arange(count) + 1,
        "iscrowd": torch.arange(count) % 2,
        "area": masks.flatten(1).sum(1).float() + 0.5,
        "track": [f"t{k}" for k in range(count)],
        "image_id": 3,
    }


@pytest.mark.parametrize(
    "options",
    [
        # Every object moves 3 px right and stays: all areas are recomputed.
        {"num_objects": "all", "shift_px": ((3, 3), 0)},
        # Only object 0 can move 23 px right keeping 30% inside; it keeps 40% < 50%: dropped.
        {"num_objects": "all", "shift_px": ((23, 23), 0), "min_inside": 0.3, "min_visibility": 0.5},
    ],
)
def test_dropped_objects_leave_every_per_object_entry(options: dict[str, Any]) -> None:
    images, masks = rect_scene(batch=1)
    image, masks = images[0], masks[0]
    target = _target(masks)
    t = RandomRelocate("mean", object_keys=("area", "iscrowd", "track"), **options)
    out_image, out = t(tv_tensors.Image(image), target)
    core_options = {k: v for k, v in options.items() if k.startswith("min_vis")}
    core = CoreRelocate("mean", **core_options)(image, masks, params=t.last_params)
    keep = core.valid
    assert torch.equal(out_image, core.image) and out["image_id"] == 3
    assert torch.equal(out["masks"], core.masks[keep].to(torch.uint8))
    assert torch.equal(out["labels"], target["labels"][keep])
    assert torch.equal(out["iscrowd"], target["iscrowd"][keep])
    assert out["track"] == [name for name, k in zip(target["track"], keep, strict=True) if k]
    changed = (core.masks != masks).flatten(1).any(1)
    area = torch.where(changed, core.masks.flatten(1).sum(1).float(), target["area"])
    assert torch.equal(out["area"], area[keep]) and bool(changed.any())
    xyxy = masks_to_boxes(core.masks[keep])[0]
    assert torch.equal(out["boxes"], torch.cat([xyxy[:, :2], xyxy[:, 2:] - xyxy[:, :2]], -1))
    out = v2.SanitizeBoundingBoxes()(out_image, out)[1]  # nothing left to sanitize
    assert len(out["boxes"]) == int(keep.sum())


def test_one_images_area_may_be_a_list_as_cocos_wrapper_gives() -> None:
    images, masks = rect_scene(batch=1)
    target = _target(masks[0])
    listed = {**target, "area": target["area"].tolist(), "iscrowd": target["iscrowd"].tolist()}
    t = RandomRelocate("mean", num_objects="all", shift_px=((3, 3), 0))  # every area recomputed
    torch.manual_seed(0)
    _, expected = t(images[0], target)
    torch.manual_seed(0)
    _, out = t(images[0], listed)
    assert isinstance(out["area"], list) and isinstance(out["iscrowd"], list)
    assert out["area"] == expected["area"].tolist() != listed["area"]
    assert out["iscrowd"] == expected["iscrowd"].tolist()
    batch = {"masks": masks, "area": [1.0] * masks.shape[1]}
    with pytest.raises(TypeError, match=r"`target\['area'\]` must be a tensor \(or a list for one"):
        RandomRelocate("mean", shift_px=3)(images, batch)
    with pytest.raises(TypeError, match=r"`target\['area'\]` must be a tensor .* but got 'big'"):
        RandomRelocate("mean", shift_px=3)(images[0], {**target, "area": "big"})


def test_pasted_slots_copy_their_source_objects_entries() -> None:
    images, masks = rect_scene(batch=4)
    target = {
        "masks": tv_tensors.Mask(masks),
        "labels": torch.arange(12).view(4, 3),
        "iscrowd": torch.arange(12).view(4, 3) * 10,
        "area": torch.full((4, 3), 0.5),
        "boxes": masks_to_boxes(masks)[0],  # a batch's boxes: a plain (N, K, 4) XYXY tensor
    }
    t = CopyPaste(num_objects=2, generator=torch.Generator().manual_seed(0))
    _, out = t(images, target)
    params = t.last_params
    core = CoreCopyPaste()(images, masks, labels=target["labels"], params=params)
    assert torch.equal(out["valid"], core.valid) and torch.equal(out["labels"], core.labels)
    pasted = torch.where(params.placed, target["iscrowd"].flatten()[params.index], 0)
    assert torch.equal(out["iscrowd"], torch.cat([target["iscrowd"], pasted], 1))
    before = torch.cat([masks, torch.zeros_like(core.masks[:, 3:])], 1)
    changed = (core.masks != before).flatten(2).any(-1)
    changed[:, 3:] = True
    area = torch.cat([target["area"], torch.zeros(4, params.index.shape[1])], 1)
    area = torch.where(changed, core.masks.flatten(2).sum(-1).float(), area)
    assert torch.equal(out["area"], area)
    assert torch.equal(out["boxes"], core.boxes)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda b: b.flip(0), "must be the boxes of `target\\['masks'\\]`"),  # order swapped
        (lambda b: b + 3, "box 0 is"),
        (lambda b: b[:2], "one box per mask"),
    ],
)
def test_boxes_that_do_not_match_the_masks_are_rejected(change: Any, match: str) -> None:
    images, masks = rect_scene(batch=1)
    target = _target(masks[0])
    boxes = target["boxes"]
    target["boxes"] = tv_tensors.wrap(change(boxes.as_subclass(torch.Tensor)), like=boxes)
    with pytest.raises(ValueError, match=match):
        RandomRelocate("mean", shift_px=3)(images[0], target)


def test_objects_without_masks_and_bad_object_keys_are_errors() -> None:
    image = torch.rand(3, *SIZE)
    boxes = tv_tensors.BoundingBoxes([[1, 1, 5, 5]], format="XYXY", canvas_size=SIZE)
    with pytest.raises(ValueError, match="must hold 'masks'"):
        RandomRelocate("mean")(image, {"boxes": boxes, "labels": torch.tensor([1])})
    with pytest.raises(TypeError, match="`object_keys` must be a sequence"):
        RandomRelocate("mean", object_keys="area")
    with pytest.raises(ValueError, match="besides"):
        CopyPaste(object_keys=("labels",))
    with pytest.raises(ValueError, match="must have shape \\(K, H, W\\)"):
        RandomRelocate("mean")(image, {"masks": torch.zeros(SIZE, dtype=torch.bool)})


def test_integer_boxes_that_no_longer_fit_their_dtype_are_an_error_not_a_wrap() -> None:
    image = torch.rand(3, 20, 300)
    masks = torch.zeros(1, 20, 300, dtype=torch.uint8)
    masks[0, 5:10, 240:250] = 1
    t = RandomRelocate("mean", num_objects="all", shift_px=((20, 20), 0))
    wide = {"masks": masks, "boxes": torch.tensor([[240, 5, 250, 10]], dtype=torch.int16)}
    assert torch.equal(t(image, wide)[1]["boxes"], torch.tensor([[260, 5, 270, 10]]).short())
    narrow = {"masks": masks, "boxes": wide["boxes"].to(torch.uint8)}
    before = narrow["boxes"].clone()
    match = r"`target\['boxes'\]` moved by the placement must fit their dtype torch.uint8"
    with pytest.raises(ValueError, match=match):
        t(image, narrow)
    assert torch.equal(narrow["boxes"], before)
