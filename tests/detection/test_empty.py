"""``AddEmptyObjects``: annotation-less COCO samples pass stock torchvision transforms."""

from __future__ import annotations

import PIL.Image
import pytest
import torch

pytest.importorskip("torchvision")
from torchvision import tv_tensors
from torchvision.transforms import v2

from shiftaug.detection import AddEmptyObjects


def test_adds_typed_empty_entries_on_the_image_canvas() -> None:
    image = tv_tensors.Image(torch.zeros(3, 5, 7))
    out_image, target = AddEmptyObjects(("boxes", "labels", "masks", "area", "iscrowd"))(
        image, {"image_id": 4}
    )
    assert out_image is image and target["image_id"] == 4
    boxes, masks = target["boxes"], target["masks"]
    assert type(boxes) is tv_tensors.BoundingBoxes and boxes.shape == (0, 4)
    assert boxes.format.name == "XYXY" and tuple(boxes.canvas_size) == (5, 7)
    assert type(masks) is tv_tensors.Mask and masks.shape == (0, 5, 7)
    assert masks.dtype == torch.uint8
    assert target["labels"].dtype == target["iscrowd"].dtype == torch.int64
    assert target["area"].dtype == torch.float32 and target["area"].shape == (0,)


def test_targets_with_objects_and_present_keys_are_kept() -> None:
    image = torch.zeros(3, 4, 4)
    target = {"boxes": torch.ones(1, 4), "labels": torch.tensor([3])}
    assert AddEmptyObjects()(image, target)[1] is target
    partial = {"labels": torch.zeros(0, dtype=torch.int64), "image_id": 1}
    out = AddEmptyObjects()(PIL.Image.new("RGB", (6, 2)), partial)[1]
    assert out["labels"] is partial["labels"] and out["masks"].shape == (0, 2, 6)


def test_then_sanitize_bounding_boxes_keeps_the_negative_sample() -> None:
    pipeline = v2.Compose([v2.ToImage(), AddEmptyObjects(), v2.SanitizeBoundingBoxes()])
    image, target = pipeline(PIL.Image.new("RGB", (8, 6)), {"image_id": 2})
    assert image.shape == (3, 6, 8) and len(target["boxes"]) == len(target["labels"]) == 0
    with pytest.raises(ValueError, match="Could not infer where the labels are"):
        v2.SanitizeBoundingBoxes()(image, {"image_id": 2})  # why the transform exists


def test_errors() -> None:
    with pytest.raises(ValueError, match="`keys` must be a sequence drawn from"):
        AddEmptyObjects(("boxes", "scores"))
    with pytest.raises(ValueError, match="`keys` must be a sequence drawn from"):
        AddEmptyObjects("boxes")
    with pytest.raises(TypeError, match="`target` must be a dict"):
        AddEmptyObjects()(torch.zeros(3, 2, 2), [])  # type: ignore[arg-type]
