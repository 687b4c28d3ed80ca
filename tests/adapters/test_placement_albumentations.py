"""albumentations placement adapters: boxes, keypoints and image stacks against references."""

from __future__ import annotations

import inspect
from typing import Any

import albumentations as A
import numpy as np
import pytest
import torch

from shiftaug import CopyPaste as CoreCopyPaste
from shiftaug import RandomRelocate as CoreRelocate
from shiftaug.adapters.placement_albumentations import CopyPaste, RandomRelocate
from shiftaug.functional import masks_to_boxes

H, W = 24, 28


def _scene(rects: list[tuple[int, int, int, int]], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """An image and one mask per ``(top, left, height, width)`` rectangle."""
    image = np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)
    masks = np.zeros((len(rects), H, W), dtype=np.uint8)
    for k, (top, left, height, width) in enumerate(rects):
        masks[k, top : top + height, left : left + width] = 1
    return image, masks


def _boxes(masks: np.ndarray) -> list[list[float]]:
    return masks_to_boxes(torch.from_numpy(masks != 0))[0].tolist()


def _copy_paste(min_visibility: float, min_area: float) -> tuple[dict[str, Any], Any, CopyPaste]:
    image, masks = _scene([(2, 2, 10, 10), (14, 16, 8, 10), (3, 20, 2, 3)], 0)
    # Donor objects, pasted where they are: x leaves 19 of object 0's 100 pixels, y is small
    # (a 9-pixel box), z covers the tiny object 2 completely.
    donor, donor_masks = _scene([(0, 0, 11, 11), (16, 2, 3, 3), (2, 19, 4, 5)], 1)
    transform = CopyPaste(num_objects="all", p=1.0)
    pipeline = A.Compose(
        [transform],
        bbox_params=A.BboxParams(
            format="pascal_voc", label_fields=["labels"], min_visibility=min_visibility,
            min_area=min_area,
        ),
        seed=0,
    )  # fmt: skip
    data = {
        "image": image, "masks": masks, "bboxes": _boxes(masks), "labels": ["a", "b", "c"],
        "copypaste_metadata": [
            {"image": donor, "masks": donor_masks, "bboxes": _boxes(donor_masks),
             "labels": ["x", "y", "z"]}
        ],
    }  # fmt: skip
    return data, pipeline(**data), transform


@pytest.mark.parametrize(
    ("min_visibility", "min_area", "kept"),
    [(0.0, 0.0, ["a", "b", "x", "y", "z"]), (0.5, 0.0, ["b", "x", "y", "z"]),
     (0.0, 10.0, ["a", "b", "x", "z"])],
)  # fmt: skip
def test_copy_paste_boxes_follow_the_pasted_masks(
    min_visibility: float, min_area: float, kept: list[str]
) -> None:
    data, out, transform = _copy_paste(min_visibility, min_area)
    masks = np.asarray(out["masks"]).astype(bool)
    originals, pasted = masks[:3], masks[3:]
    assert len(pasted) == int(transform.binding.core.last_params.placed[0].sum()) == 3
    # Reference from the masks alone: each object's box, kept while it keeps min_visibility of
    # its pixels (before the paste; a pasted object: its donor mask) and its box min_area.
    params = transform.binding.core.last_params
    source = (params.index[0][params.placed[0]] - params.slots).tolist()  # donor slot per paste
    donor = data["copypaste_metadata"][0]
    before = np.concatenate([data["masks"], donor["masks"][source]]) != 0
    names = data["labels"] + [donor["labels"][k] for k in source]
    expected_boxes, expected_labels = [], []
    for mask, full, name in zip(np.concatenate([originals, pasted]), before, names, strict=True):
        box = _boxes(mask[None])[0]
        area = (box[2] - box[0]) * (box[3] - box[1])
        if mask.any() and mask.sum() / full.sum() >= min_visibility and area >= max(min_area, 1):
            expected_boxes.append(box)
            expected_labels.append(name)
    assert sorted(expected_labels) == kept  # the thresholds drop what they should
    np.testing.assert_allclose(np.asarray(out["bboxes"]).reshape(-1, 4), expected_boxes, atol=1e-4)
    assert out["labels"] == expected_labels


def test_copy_paste_keypoints_under_a_paste_are_invisible() -> None:
    image, masks = _scene([(2, 2, 6, 6)], 0)
    donor, donor_masks = _scene([(10, 10, 6, 6)], 1)
    points = [[3.5, 3.5], [12.5, 12.5], [20.0, 1.0]]  # on our object, under the paste, nowhere
    data = {"image": image, "masks": masks, "keypoints": points,
            "copypaste_metadata": [{"image": donor, "masks": donor_masks}]}  # fmt: skip
    for remove, expected in [(True, [points[0], points[2]]), (False, points)]:
        pipeline = A.Compose(
            [CopyPaste(num_objects=1, p=1.0)],
            keypoint_params=A.KeypointParams(format="xy", remove_invisible=remove), seed=0,
        )  # fmt: skip
        np.testing.assert_allclose(np.asarray(pipeline(**data)["keypoints"]), expected)


def test_every_image_of_a_stack_gets_the_same_placement() -> None:
    image, masks = _scene([(2, 2, 6, 6), (12, 14, 8, 8)], 0)
    other = np.ascontiguousarray(image[::-1, ::-1])
    transform = RandomRelocate("mean", num_objects="all", shift_px=4, p=1.0)
    out = A.Compose([transform], seed=0)(image=image, images=np.stack([image, other]), masks=masks)
    params = transform.binding.core.last_params
    core = CoreRelocate("mean")(  # the core's defaults are the adapter's
        torch.from_numpy(other).permute(2, 0, 1), torch.from_numpy(masks != 0), params=params
    )
    assert np.array_equal(out["images"][0], out["image"])
    assert np.array_equal(out["images"][1], core.image.permute(1, 2, 0).numpy())


def test_boxes_must_belong_to_the_masks() -> None:
    image, masks = _scene([(2, 2, 6, 6), (12, 14, 8, 8)], 0)
    params = A.BboxParams(format="pascal_voc", label_fields=["labels"])
    relocate = A.Compose([RandomRelocate("mean", shift_px=3, p=1.0)], bbox_params=params)
    with pytest.raises(ValueError, match="`bboxes` must be the boxes of `masks`"):
        relocate(image=image, masks=masks, bboxes=_boxes(masks)[::-1], labels=[1, 2])
    paste = A.Compose([CopyPaste(p=1.0)], bbox_params=params)
    donor = {"image": image, "masks": masks}
    with pytest.raises(ValueError, match="must hold 'bboxes'"):
        paste(image=image, masks=masks, bboxes=_boxes(masks), labels=[1, 2],
              copypaste_metadata=[donor])  # fmt: skip
    donor.update(bboxes=_boxes(masks)[:1], labels=[3])
    with pytest.raises(ValueError, match="donor bboxes"):
        paste(image=image, masks=masks, bboxes=_boxes(masks), labels=[1, 2],
              copypaste_metadata=[donor])  # fmt: skip


def test_copy_paste_with_more_donor_objects_than_own() -> None:
    image, masks = _scene([(2, 2, 6, 6)], 0)
    donor, donor_masks = _scene([(12, 2, 5, 5), (14, 14, 6, 8), (2, 18, 4, 4)], 1)
    transform = CopyPaste(num_objects="all", p=1.0)
    pipeline = A.Compose(
        [transform], bbox_params=A.BboxParams(format="pascal_voc", label_fields=["labels"]), seed=0
    )
    out = pipeline(
        image=image, masks=masks, bboxes=_boxes(masks), labels=["own"],
        copypaste_metadata=[{"image": donor, "masks": donor_masks,
                             "bboxes": _boxes(donor_masks), "labels": ["p", "q", "r"]}],
    )  # fmt: skip
    params = transform.binding.core.last_params
    source = (params.index[0][params.placed[0]] - params.slots).tolist()
    assert out["labels"] == ["own"] + [["p", "q", "r"][k] for k in source]
    assert np.asarray(out["masks"]).shape == (4, H, W)
    np.testing.assert_allclose(np.asarray(out["bboxes"]), _boxes(np.asarray(out["masks"])))


@pytest.mark.parametrize(
    ("adapter", "core"), [(RandomRelocate, CoreRelocate), (CopyPaste, CoreCopyPaste)]
)
def test_defaults_and_options_are_the_core_ones(adapter: Any, core: Any) -> None:
    ours = inspect.signature(adapter).parameters
    theirs = inspect.signature(core).parameters
    shared = (set(ours) & set(theirs)) - {"p"}  # p follows albumentations (0.5)
    assert {"blend", "context_width", "context_sigma", "min_area"} <= shared
    assert {name: ours[name].default for name in shared} == {
        name: theirs[name].default for name in shared
    }
    assert set(theirs) - set(ours) == {"region", "density", "generator"}  # not serializable
    assert ours["p"].default == 0.5


def test_context_policy_and_windowed_fill_reach_the_core() -> None:
    image, masks = _scene([(2, 2, 6, 6), (12, 14, 8, 8)], 3)
    options = {"policy": "context", "fill_context": 3, "context_width": 2, "hole_margin": 2}
    transform = RandomRelocate("harmonic", num_objects="all", shift_px=5, p=1.0, **options)
    out = A.Compose([transform], seed=1)(image=image, masks=masks)
    settings = transform.binding.core
    assert (settings.placement.policy, settings.placement.context_width) == ("context", 2)
    assert settings.fill_context == 3
    params = settings.last_params
    assert bool(params.placed.any())
    tensor_image = torch.from_numpy(image).permute(2, 0, 1)
    core = CoreRelocate("harmonic", fill_context=3, hole_margin=2)
    expected = core(tensor_image, torch.from_numpy(masks != 0), params=params)
    assert np.array_equal(out["image"], expected.image.permute(1, 2, 0).numpy())
    whole = CoreRelocate("harmonic", hole_margin=2)(  # the window changes the fill
        tensor_image, torch.from_numpy(masks != 0), params=params
    )
    assert not torch.equal(whole.image, expected.image)
