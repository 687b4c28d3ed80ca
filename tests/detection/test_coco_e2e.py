"""COCO end to end: CocoDetection -> v2 wrapper -> v2.Compose with shiftaug's RandomRelocate ->
DataLoader (2 workers) with CopyPasteCollate -> one Mask R-CNN training step."""

from __future__ import annotations

import math

import pytest
import torch

pytest.importorskip("pycocotools")
pytest.importorskip("torchvision")

from torch.utils.data import DataLoader
from torchvision.datasets import CocoDetection, wrap_dataset_for_transforms_v2
from torchvision.models.detection import maskrcnn_resnet50_fpn
from torchvision.transforms import v2

from shiftaug.adapters.placement_torchvision import RandomRelocate
from shiftaug.detection import AddEmptyObjects, CopyPasteCollate, LargeScaleJitter
from shiftaug.functional import masks_to_boxes
from tests.detection.coco import write_coco

# pycocotools 2.0 with NumPy 2 warns on every decode (np.array(copy=False)); not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")
KEYS = ("image_id", "boxes", "labels", "masks")
COUNTS = (3, 0, 2, 4, 0, 1, 3, 0)  # three images without annotations (wrapper: {"image_id"})


def coco_loader(root, jitter, keys=KEYS):
    images, annotations = write_coco(root, COUNTS)
    transforms = v2.Compose([
        v2.ToImage(),
        AddEmptyObjects(),
        RandomRelocate("mean", num_objects=1, shift_px=6, min_inside=0.5),
        v2.ToDtype(torch.float32, scale=True),
        v2.SanitizeBoundingBoxes(),
        v2.ToPureTensor(),
    ])  # fmt: skip
    dataset = CocoDetection(str(images), str(annotations), transforms=transforms)
    dataset = wrap_dataset_for_transforms_v2(dataset, target_keys=keys)
    collate = CopyPasteCollate(jitter=LargeScaleJitter(96) if jitter else None)
    return DataLoader(dataset, batch_size=4, num_workers=2, collate_fn=collate), dataset


def check_batch(images, targets, sizes) -> None:
    assert [tuple(image.shape[-2:]) for image in images] == sizes
    for image, target in zip(images, targets, strict=True):
        masks, boxes = target["masks"], target["boxes"]
        assert image.dtype == torch.float32 and masks.dtype == torch.uint8
        assert len(masks) == len(boxes) == len(target["labels"])
        counts = masks.flatten(1).sum(1)
        assert bool((counts > 0).all()), "every object keeps a pixel"
        mask_boxes = masks_to_boxes(masks.bool())[0]
        # A box either is its mask's box or (object untouched) the annotation's box around it.
        assert bool((boxes[:, :2] <= mask_boxes[:, :2] + 1.5).all())
        assert bool((boxes[:, 2:] >= mask_boxes[:, 2:] - 1.5).all())


@pytest.mark.slow
@pytest.mark.parametrize("jitter", [False, True])
def test_coco_to_mask_rcnn_step(tmp_path, jitter) -> None:
    counts = COUNTS
    loader, dataset = coco_loader(tmp_path, jitter)
    torch.manual_seed(0)
    batches = list(loader)
    assert len(batches) == 2
    for index, (images, targets) in enumerate(batches):
        raw = [dataset[4 * index + i][0] for i in range(4)]
        sizes = [(96, 96)] * 4 if jitter else [tuple(image.shape[-2:]) for image in raw]
        check_batch(images, targets, sizes)
    targets = [t for _, batch in batches for t in batch]
    empty_ids = {i + 1 for i, count in enumerate(counts) if count == 0}
    assert {t["image_id"] for t in targets} >= empty_ids  # kept, as negatives or receivers
    assert sum(len(t["labels"]) for t in targets if t["image_id"] in empty_ids) > 0
    received = sum(len(t["labels"]) for t in targets)
    if not jitter:  # (jitter crops objects away too)
        assert received > sum(counts)  # objects were pasted, more than covered ones dropped
    model = maskrcnn_resnet50_fpn(
        weights=None, weights_backbone=None, num_classes=4, min_size=96, max_size=96
    )
    model.train()
    images, targets = batches[0]
    losses = model(images, targets)
    total = sum(losses.values())
    assert {"loss_classifier", "loss_box_reg", "loss_mask"} <= set(losses)
    assert math.isfinite(float(total.detach()))
    total.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert any(g is not None and bool(g.abs().sum() > 0) for g in grads)


def test_the_wrappers_area_and_iscrowd_lists(tmp_path) -> None:
    """The wrapper gives ``area`` and ``iscrowd`` as lists: they stay lists, ``area`` becomes
    every mask's pixel count and ``iscrowd`` follows its objects, through RandomRelocate too."""
    loader, _ = coco_loader(tmp_path, False, keys=(*KEYS, "area", "iscrowd"))
    torch.manual_seed(0)
    for _, targets in loader:
        for target in targets:
            counts = target["masks"].flatten(1).sum(1)
            assert isinstance(target["area"], list) and isinstance(target["iscrowd"], list)
            assert target["area"] == counts.float().tolist()
            assert target["iscrowd"] == [0] * len(counts)  # every annotation here has 0
