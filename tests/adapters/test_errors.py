"""Error paths of the adapters not covered beside their features: each names what to pass."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from shiftaug.adapters._common import TranslateBinding
from shiftaug.adapters.albumentations import RandomTranslate as AlbuTranslate
from shiftaug.adapters.placement_albumentations import CopyPaste as AlbuCopyPaste
from shiftaug.adapters.placement_albumentations import RandomRelocate as AlbuRelocate
from shiftaug.adapters.placement_torchvision import CopyPaste, RandomRelocate
from shiftaug.functional import masks_to_boxes

SIZE = (12, 14)


def _masks(batch: int | None = None) -> torch.Tensor:
    lead = () if batch is None else (batch,)
    masks = torch.zeros(*lead, 2, *SIZE, dtype=torch.bool)
    masks[..., 0, 1:4, 1:4] = True
    masks[..., 1, 6:10, 7:12] = True
    return masks


def test_params_dicts_must_be_dicts() -> None:
    with pytest.raises(TypeError, match="`params` must be a dict of tensors"):
        TranslateBinding.build(shift_px=2).from_tensors([1, 2], SIZE)  # type: ignore[arg-type]


def test_albumentations_strict_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="`strict` must be a bool, but got 'yes'"):
        AlbuTranslate(shift_px=2, strict="yes")  # type: ignore[arg-type]


def test_torchvision_placement_inputs() -> None:
    masks = _masks()
    with pytest.raises(TypeError, match="`image` must be a tensor or a PIL image"):
        RandomRelocate("mean")(np.zeros((3, *SIZE)), {"masks": masks})
    rotated = tv_tensors.BoundingBoxes(
        [[5.0, 5.0, 2.0, 2.0, 0.0]] * 2, format="XYWHR", canvas_size=SIZE
    )
    with pytest.raises(ValueError, match="must be axis-aligned"):
        RandomRelocate("mean")(torch.rand(3, *SIZE), {"masks": masks, "boxes": rotated})
    with pytest.raises(TypeError, match=r"`target\['boxes'\]` must be a tensor"):
        RandomRelocate("mean")(torch.rand(3, *SIZE), {"masks": masks, "boxes": [[1, 1, 4, 4]]})
    with pytest.raises(TypeError, match=r"`target\['area'\]` must be a tensor \(or a list"):
        RandomRelocate("mean", shift_px=1)(torch.rand(3, *SIZE), {"masks": masks, "area": "9 20"})
    with pytest.raises(TypeError, match="Per-object entries must be tensors or lists"):
        RandomRelocate("mean", shift_px=1, object_keys=("names",))(
            torch.rand(3, *SIZE), {"masks": masks, "names": "ab"}
        )
    batch = _masks(3)
    target = {"masks": batch, "iscrowd": torch.zeros(3, 5)}
    with pytest.raises(ValueError, match=r"Per-object entries of a batch must have shape \(3, 2"):
        CopyPaste(num_objects=1, p=1.0)(torch.rand(3, 3, *SIZE), target)


def _albu_data() -> dict[str, object]:
    image = np.zeros((*SIZE, 3), dtype=np.uint8)
    masks = _masks().numpy().astype(np.uint8)
    return {"image": image, "masks": masks}


def test_albumentations_placement_inputs() -> None:
    data = _albu_data()
    boxes = masks_to_boxes(_masks())[0].tolist()
    donor = {**data, "bboxes": boxes, "labels": [1, 2], "extra": ["a", "b"]}
    params = A.BboxParams(format="pascal_voc", label_fields=["labels"])
    pipeline = A.Compose([AlbuCopyPaste(p=1.0)], bbox_params=params)
    out = pipeline(**data, bboxes=boxes, labels=[1, 2], copypaste_metadata=[donor])
    assert len(out["bboxes"]) >= 2
    small = {**data, "image": np.zeros((4, 4, 3), np.uint8)}
    with pytest.raises(ValueError, match="Donor images must match the image's shape"):
        pipeline(**data, bboxes=boxes, labels=[1, 2], copypaste_metadata=[small])
    with pytest.raises(ValueError, match="`copypaste_metadata` must be a non-empty list"):
        pipeline(**data, bboxes=boxes, labels=[1, 2], copypaste_metadata=[])
    with pytest.raises(ValueError, match="must be a dict with 'image' and 'masks'"):
        pipeline(**data, bboxes=boxes, labels=[1, 2], copypaste_metadata=[3])
    relocate = A.Compose([AlbuRelocate("mean", p=1.0)], bbox_params=params)
    with pytest.raises(ValueError, match="`bboxes` must hold one box per mask"):
        relocate(**data, bboxes=[], labels=[])
    with pytest.raises(ValueError, match="semantic mask"):
        A.Compose([AlbuRelocate("mean", p=1.0)])(**data, mask=data["masks"][0])
