"""torchvision v2 and albumentations adapters of RandomRelocate and CopyPaste vs the core."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug import CopyPaste as CoreCopyPaste
from shiftaug import RandomRelocate as CoreRelocate

from .helpers import MeanFill, rect_scene

tv_tensors = pytest.importorskip("torchvision.tv_tensors")
v2 = pytest.importorskip("torchvision.transforms.v2")
A = pytest.importorskip("albumentations")

from shiftaug.adapters import placement_albumentations as pa  # noqa: E402
from shiftaug.adapters import placement_torchvision as pt  # noqa: E402


def _sample(n: int = 0):  # type: ignore[no-untyped-def]
    images, masks = rect_scene(batch=n + 1)
    return images[n], masks[n]


def test_torchvision_relocate_matches_the_core_and_sanitizes() -> None:
    image, masks = _sample()
    # The boxes given with the masks must be theirs (rects are (top, left, height, width)).
    xywh = torch.tensor([[3.0, 2.0, 5.0, 6.0], [12.0, 14.0, 7.0, 5.0], [18.0, 4.0, 4.0, 4.0]])
    boxes = tv_tensors.BoundingBoxes(xywh, format="XYWH", canvas_size=(24, 28))
    target = {
        "masks": tv_tensors.Mask(masks.to(torch.uint8)), "boxes": boxes,
        "labels": torch.tensor([4, 5, 6]), "keypoints": torch.tensor([[[4.5, 3.5]], [[13.0, 15.0]], [[19.5, 5.5]]]), "id": 7,
    }  # fmt: skip
    # Only object 0 can move 23 px right keeping 30% in the frame; it keeps 40% < 50%: dropped.
    options = {
        "num_objects": "all",
        "shift_px": ((23, 23), 0),
        "min_inside": 0.3,
        "min_visibility": 0.5,
    }
    t = pt.RandomRelocate(MeanFill(), **options)
    pipeline = v2.Compose([t, v2.SanitizeBoundingBoxes()])
    out_image, out = pipeline(tv_tensors.Image(image), target)
    core = CoreRelocate(MeanFill(), min_visibility=0.5)(
        image, masks, keypoints=target["keypoints"], labels=target["labels"], params=t.last_params
    )
    keep = core.valid
    assert keep.tolist() == [False, True, True] and t.last_params.placed.sum() == 1
    assert isinstance(out_image, tv_tensors.Image) and torch.equal(out_image, core.image)
    assert (
        torch.equal(out["masks"], core.masks[keep].to(torch.uint8))
        and out["masks"].dtype == torch.uint8
    )
    xywh = torch.cat([core.boxes[:, :2], core.boxes[:, 2:] - core.boxes[:, :2]], -1)
    assert torch.equal(out["boxes"], xywh[keep]) and out["boxes"].format.name == "XYWH"
    assert out["labels"].tolist() == core.labels[keep].tolist() and out["id"] == 7
    assert torch.equal(out["keypoints"], core.keypoints[keep])


def test_torchvision_copy_paste_matches_the_core_on_batches() -> None:
    images, masks = rect_scene(batch=4)
    t = pt.CopyPaste(num_objects=2, generator=torch.Generator().manual_seed(0))
    out_images, out = t(
        images, {"masks": tv_tensors.Mask(masks), "labels": torch.arange(12).view(4, 3)}
    )
    core = CoreCopyPaste()(images, masks, labels=torch.arange(12).view(4, 3), params=t.last_params)
    assert torch.equal(out_images, core.image) and torch.equal(out["masks"], core.masks)
    assert torch.equal(out["valid"], core.valid) and torch.equal(out["labels"], core.labels)
    with pytest.raises(ValueError, match="must be a batch"):
        t(images[0], {"masks": tv_tensors.Mask(masks[0])})
    with pytest.raises(TypeError, match=r"take \(image, target\)"):
        t(images)
    with pytest.raises(ValueError, match="must hold 'masks'"):
        t(images, {"labels": torch.zeros(4, 3)})


def test_torchvision_accepts_pil_images() -> None:
    image, masks = _sample()
    pil = v2.functional.to_pil_image((image * 255).round().to(torch.uint8))
    out_image, out = pt.RandomRelocate(MeanFill(), shift_px=4)(
        pil, {"masks": tv_tensors.Mask(masks)}
    )
    assert out_image.size == pil.size and out["masks"].shape == masks.shape


def test_albumentations_relocate_matches_the_core() -> None:
    image, masks = _sample()
    image_u8 = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    keypoints = [(3.5, 3.5), (15.5, 16.5), (1.0, 1.0)]  # on object 0, on object 1, background
    t = pa.RandomRelocate("mean", num_objects="all", shift_px=6, p=1.0)
    pipeline = A.Compose(
        [t], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]),
        keypoint_params=A.KeypointParams(format="xy", remove_invisible=False), seed=1,
    )  # fmt: skip
    bboxes = [[3, 2, 8, 8], [12, 14, 17, 21], [18, 4, 22, 8]]
    out = pipeline(
        image=image_u8,
        masks=masks.numpy().astype(np.uint8),
        bboxes=bboxes,
        labels=[1, 2, 3],
        keypoints=keypoints,
    )
    params = t.binding.core.last_params
    tensor = torch.from_numpy(image_u8).permute(2, 0, 1)
    core = CoreRelocate("mean")(tensor, masks, params=params)  # the adapter's defaults
    np.testing.assert_array_equal(out["image"], core.image.permute(1, 2, 0).numpy())
    np.testing.assert_array_equal(np.asarray(out["masks"]), core.masks.numpy().astype(np.uint8))
    np.testing.assert_allclose(np.asarray(out["bboxes"]), core.boxes.numpy(), atol=1e-4)
    shift = {
        int(k) % 3: params.shift[0, j] for j, k in enumerate(params.index[0]) if params.placed[0, j]
    }
    moved = np.asarray(out["keypoints"])
    for point, owner, expected in zip(keypoints, (0, 1, None), moved, strict=True):
        delta = np.zeros(2) if owner is None or owner not in shift else shift[owner].numpy()
        np.testing.assert_allclose(expected[:2], np.asarray(point) + delta, atol=1e-5)
    restored = A.from_dict(A.to_dict(pipeline))
    assert type(restored.transforms[0]).__name__ == "RandomRelocate"


def test_albumentations_copy_paste_with_donors() -> None:
    images, masks = rect_scene(batch=2)
    hwc = [(images[n].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8) for n in range(2)]
    donor_masks = masks[1].flip(-1).numpy().astype(np.uint8)
    t = pa.CopyPaste(num_objects=2, blend="hard", p=1.0)  # exact copies, nothing around
    out = A.Compose([t], seed=0)(
        image=hwc[0],
        masks=masks[0].numpy().astype(np.uint8),
        copypaste_metadata=[{"image": hwc[1], "masks": donor_masks}],
    )
    result = np.asarray(out["masks"])
    assert result.shape[0] == 3 + int(t.binding.core.last_params.placed[0].sum())
    pasted = result[3:].any(0)
    np.testing.assert_array_equal(out["image"][pasted], hwc[1][pasted])
    np.testing.assert_array_equal(out["image"][~pasted], hwc[0][~pasted])
    with pytest.raises(ValueError, match="non-empty list"):
        A.Compose([t], seed=0)(image=hwc[0], masks=masks[0].numpy(), copypaste_metadata=[])
    with pytest.raises(ValueError, match="instance masks"):  # boxes of objects without masks
        A.Compose(
            [pa.RandomRelocate("mean", p=1.0)],
            bbox_params=A.BboxParams(format="pascal_voc"),
            seed=0,
        )(image=hwc[0], bboxes=[[1, 1, 5, 5]])
