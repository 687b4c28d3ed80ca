"""Pixel-list pastes and occlusion bookkeeping against dense, one-image-at-a-time references."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug import CopyPaste, RandomRelocate
from shiftaug.functional import dilate_mask, masks_to_boxes, top_round, translate_image
from shiftaug.functional import translate_mask as move_mask
from shiftaug.functional._pixel_paste import (
    boxes_meet,
    clear_pixels,
    drop_objects,
    paste_pixels,
    refresh_boxes,
)
from shiftaug.params._placement import draw_positions
from shiftaug.transforms._objects import parse_objects
from shiftaug.transforms._relocate import _hole, _hole_boxes

from .helpers import MeanFill, rect_scene
from .test_copy_paste import numpy_copy_paste
from .test_relocate import _dense_relocation


def _random_objects(seed: int, batch: int = 4, slots: int = 3, size: int = 12):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(batch, 2, size, size, generator=g)
    masks = torch.rand(batch, slots, size, size, generator=g) > 0.3  # ragged, overlapping
    corner = torch.randint(0, size - 2, (batch, slots, 2), generator=g)
    extent = torch.randint(2, 2 * size // 3, (batch, slots, 2), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    low, high = corner[..., None, None, :], (corner + extent)[..., None, None, :]
    masks &= (yy >= low[..., 0]) & (yy < high[..., 0]) & (xx >= low[..., 1]) & (xx < high[..., 1])
    masks[0, 1] = False  # an empty object
    index = torch.randint(0, batch * slots, (batch, 3), generator=g)
    shift = torch.randint(-size // 3, size // 3 + 1, (batch, 3, 2), generator=g)
    placed = torch.rand(batch, 3, generator=g) > 0.2
    return images, masks, index, shift, placed


@pytest.mark.parametrize("seed", range(6))
def test_paste_pixels_matches_dense_rounds(seed: int) -> None:
    images, masks, index, shift, placed = _random_objects(seed)
    batch, rounds = index.shape
    canvas = torch.rand_like(images)
    out = canvas.clone()
    got = paste_pixels(out, images, masks, masks_to_boxes(masks)[0], index, shift, placed)
    expected = canvas.clone()
    moved = torch.zeros(batch, rounds, *masks.shape[-2:], dtype=torch.bool)
    for n in range(batch):
        for j in range(rounds):
            if placed[n, j]:
                b, k = divmod(int(index[n, j]), masks.shape[1])
                moved[n, j] = move_mask(masks[b, k], shift[n, j])
                picture = translate_image(images[b], shift[n, j])
                expected[n][:, moved[n, j]] = picture[:, moved[n, j]]
    assert torch.equal(out, expected)
    later = torch.zeros_like(moved)  # covered by a later round of the same image
    for j in range(rounds - 1):
        later[:, j] = moved[:, j + 1 :].any(1)
    plane = masks.shape[-2] * masks.shape[-1]
    for pixel, entry, want in (
        (got.pixel, got.entry, moved & ~later),
        (got.covered_pixel, got.covered_entry, moved & later),
    ):
        dense = torch.zeros_like(moved)
        image_of = entry // rounds
        dense.view(-1)[entry * plane + pixel - image_of * plane] = True
        assert torch.equal(dense, want)
        assert torch.equal(image_of, entry // rounds)
    assert torch.equal(got.image, got.entry // rounds)
    assert torch.equal(got.top, top_round(moved))
    assert torch.equal(got.area, moved.flatten(2).sum(-1))
    assert torch.equal(got.visible, (moved & ~later).flatten(2).sum(-1))
    boxes, present = masks_to_boxes(moved)
    source = masks_to_boxes(masks)[0].view(-1, 4)[index]
    inside = (source[..., :2] + shift >= 0).all(-1) & (source[..., 2:] + shift <= 12).all(-1)
    assert torch.equal(got.clipped, ~inside)
    exact = present & ~got.clipped
    assert torch.equal(got.boxes[exact], boxes[exact])


def test_paste_pixels_with_nothing_to_paste() -> None:
    images, masks, index, shift, _ = _random_objects(0)
    out = images.clone()
    got = paste_pixels(out, images, masks, masks_to_boxes(masks)[0], index, shift, index < -1)
    assert torch.equal(out, images) and got.pixel.numel() == 0
    assert bool((got.top == -1).all()) and not bool(got.area.any())


@pytest.mark.parametrize("use_filters", [False, True])
def test_clear_pixels_against_numpy(use_filters: bool) -> None:
    g = torch.Generator().manual_seed(1)
    masks = torch.rand(3, 4, 5, 6, generator=g) > 0.4
    pixel = torch.randperm(3 * 30, generator=g)[:40].sort().values
    image = pixel // 30
    eligible = torch.rand(3, 3, generator=g) > 0.3 if use_filters else None
    images = torch.tensor([True, False, True]) if use_filters else None
    expected = masks.numpy().copy()
    lost = np.zeros((3, 3), dtype=np.int64)
    for p, n in zip(pixel.tolist(), image.tolist(), strict=True):
        for k in range(3):
            if (eligible is None or eligible[n, k]) and (images is None or images[n]):
                row, col = divmod(p - n * 30, 6)
                lost[n, k] += expected[n, k, row, col]
                expected[n, k, row, col] = False
    out = masks.clone()
    got = clear_pixels(out, pixel, image, 3, eligible, images)
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(got.numpy(), lost)


def test_boxes_meet_drop_objects_and_refresh_boxes() -> None:
    boxes = torch.tensor([[[0, 0, 4, 4], [0, 0, 0, 0]], [[5, 5, 6, 6], [1, 1, 3, 3]]]).float()
    others = torch.tensor([[[3, 3, 8, 8]], [[3, 3, 5, 5]]]).float()
    assert boxes_meet(boxes, others).tolist() == [True, False]  # touching edges do not meet
    masks = torch.zeros(2, 2, 4, 4, dtype=torch.bool)
    masks[0, 0, 1, 1:3] = True
    masks[1, 1, 0, 0] = True
    valid = torch.tensor([[True, False], [True, True]])
    measured = torch.tensor([[True, False], [False, True]])
    left, before = torch.tensor([[2, 0], [0, 1]]), torch.tensor([[2, 0], [5, 4]])
    keep = drop_objects(masks, valid, measured, left, before, min_visibility=0.5, min_area=0)
    assert keep.tolist() == [[True, False], [True, False]]
    assert not bool(masks[1, 1].any()) and bool(masks[0, 0].any())
    stale = torch.tensor([[True, False], [False, False]])
    fresh = refresh_boxes(torch.full((2, 2, 4), 7.0), masks, stale)
    assert fresh[0, 0].tolist() == [1.0, 1.0, 3.0, 2.0] and bool((fresh.view(-1, 4)[1:] == 7).all())


def _mask_box(mask: torch.Tensor) -> list[float]:
    rows, cols = torch.nonzero(mask, as_tuple=True)
    if not len(rows):
        return [0.0] * 4
    return [float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)]


@pytest.mark.parametrize(
    "transform",
    [
        CopyPaste(num_objects=(1, 3), policy="uniform", min_inside=0.3, min_visibility=0.5),
        CopyPaste(num_objects="all", policy="non_overlapping", min_area=3),
        CopyPaste(num_objects=(1, 3), min_visibility=0.9),
        RandomRelocate(MeanFill(), num_objects="all", shift_px=14, min_inside=0.3),
        RandomRelocate(MeanFill(), num_objects=(1, 3), hole_margin=2, min_visibility=0.6),
    ],
    ids=[
        "cp-leave-frame",
        "cp-non-overlapping",
        "cp-same",
        "relocate-leave-frame",
        "relocate-margin",
    ],
)
@pytest.mark.parametrize("seed", range(3))
def test_boxes_are_the_boxes_of_the_output_masks(transform, seed: int) -> None:  # type: ignore[no-untyped-def]
    images, masks = rect_scene(batch=6, seed=seed)
    transform.generator = torch.Generator().manual_seed(seed)
    out = transform(images, masks)
    for n in range(6):
        for k in range(out.masks.shape[1]):
            expected = _mask_box(out.masks[n, k]) if out.valid[n, k] else [0.0] * 4
            assert out.boxes[n, k].tolist() == expected
            assert not out.valid[n, k] or bool(out.masks[n, k].any())


@pytest.mark.parametrize("seed", range(4))
def test_copy_paste_leaving_the_frame_matches_numpy(seed: int) -> None:
    images, masks = rect_scene(batch=5, seed=seed)
    t = CopyPaste(
        num_objects=(1, 3), policy="uniform", shift_px=12, min_inside=0.3, min_visibility=0.4,
        blend="hard", generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    out = t(images, masks)
    image, mask, keep = numpy_copy_paste(
        images, masks, torch.ones(5, 3, dtype=torch.bool), out.params, 0.4, 1
    )
    np.testing.assert_array_equal(out.image.numpy(), image)
    np.testing.assert_array_equal(out.masks.numpy(), mask)
    np.testing.assert_array_equal(out.valid.numpy(), keep)


@pytest.mark.parametrize("seed", range(4))
def test_relocation_leaving_the_frame_matches_a_dense_reference(seed: int) -> None:
    images, masks = rect_scene(batch=4, seed=seed)
    t = RandomRelocate(
        MeanFill(), num_objects="all", shift_px=16, min_inside=0.3, min_visibility=0.5,
        fill_context=None, blend="hard", hole_margin=0, generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    out = t(images, masks)
    assert bool(out.params.placed.any())
    image, mask, valid = _dense_relocation(images, masks, out.params, 0.5)
    assert torch.equal(out.image, image)
    assert torch.equal(out.masks, mask)
    assert torch.equal(out.valid, valid)


@pytest.mark.parametrize("margin", [0, 1, 3])
def test_hole_boxes_are_the_boxes_of_the_dilated_holes(margin: int) -> None:
    images, masks = rect_scene(batch=5, seed=4)
    t = RandomRelocate(MeanFill(), num_objects=(0, 3), generator=torch.Generator().manual_seed(4))
    _, objects = parse_objects(images, masks)
    params = t.make_params(images, objects.masks, objects.valid)
    hole = dilate_mask(_hole(objects.masks, params), margin)
    expected = masks_to_boxes(hole[:, 0])[0].long()
    assert torch.equal(_hole_boxes(objects.boxes, params, margin), expected)


@pytest.mark.parametrize("policy", ["uniform", "grid", "same"])
def test_drawing_from_known_boxes_equals_drawing_from_masks(policy: str) -> None:
    _, masks = rect_scene(batch=4, seed=5)
    rows = masks[:, 1].clone()
    rows[2] = False  # an empty mask finds no position either way
    draws = [
        draw_positions(
            rows,
            policy,
            None,
            1.0,
            stride=4,
            boxes=boxes,
            generator=torch.Generator().manual_seed(0),
        )
        for boxes in (None, masks_to_boxes(rows)[0])
    ]
    assert torch.equal(draws[0][0], draws[1][0]) and torch.equal(draws[0][1], draws[1][1])
    assert not bool(draws[0][1][2])
