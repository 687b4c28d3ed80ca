"""RandomRelocate: exact moves, untouched background, consistent targets, replay, errors."""

from __future__ import annotations

import pickle

import pytest
import torch

from shiftaug import PlacementParams, RandomRelocate
from shiftaug.functional import blend_margin, dilate_mask, translate_image, translate_mask

from .helpers import MeanFill, object_keypoints, rect_scene


def _relocate(**options: object) -> RandomRelocate:
    """The exact mode (hard pastes, the hole exactly the objects' masks) unless asked otherwise:
    these tests compare pixels with references; the defaults are tested in test_defaults.py."""
    options.setdefault("generator", torch.Generator().manual_seed(3))
    options.setdefault("blend", "hard")
    options.setdefault("hole_margin", 0)
    return RandomRelocate(MeanFill(), **options)  # type: ignore[arg-type]


def _params(index: list[list[int]], shift: list[list[list[int]]], slots: int, size=(24, 28)):
    index_t = torch.tensor(index)
    placed = torch.ones(index_t.shape, dtype=torch.bool)
    return PlacementParams(
        index=index_t, shift=torch.tensor(shift, dtype=torch.float32),
        scale=torch.ones(index_t.shape), requested=placed, placed=placed,
        image_size=size, slots=slots,
    )  # fmt: skip


def _box(mask: torch.Tensor) -> list[float]:
    rows, cols = torch.nonzero(mask, as_tuple=True)
    return [float(cols.min()), float(rows.min()), float(cols.max() + 1), float(rows.max() + 1)]


@pytest.mark.parametrize("dtype", [torch.float32, torch.uint8, torch.float64])
def test_hard_relocation_moves_pixels_exactly_and_keeps_the_rest(dtype: torch.dtype) -> None:
    images, masks = rect_scene(dtype=dtype)
    keypoints = object_keypoints(masks)
    t = _relocate(num_objects="all", policy="non_overlapping", shift_px=8)
    before = images.clone(), masks.clone()
    out = t(images, masks, keypoints=keypoints)
    assert torch.equal(images, before[0]) and torch.equal(masks, before[1])
    assert out.image.dtype == dtype
    params, slots = out.params, masks.shape[1]
    assert bool(out.params.placed.any())
    changed = torch.zeros(images.shape[0], *images.shape[-2:], dtype=torch.bool)
    filled = MeanFill()(images, torch.zeros_like(images[:, :1], dtype=torch.bool))
    for n in range(images.shape[0]):
        for j in range(params.index.shape[1]):
            if not params.placed[n, j]:
                continue
            k = int(params.index[n, j]) - n * slots
            shift = params.shift[n, j]
            moved_mask = translate_mask(masks[n, k], shift)
            moved_image = translate_image(images[n], shift)
            assert torch.equal(out.masks[n, k], moved_mask)
            assert torch.equal(out.image[n][:, moved_mask], moved_image[:, moved_mask])
            assert out.boxes[n, k].tolist() == _box(moved_mask)
            assert torch.equal(out.keypoints[n, k], keypoints[n, k] + shift)
            changed[n] |= masks[n, k] | moved_mask
    for n in range(images.shape[0]):
        assert torch.equal(out.image[n][:, ~changed[n]], images[n][:, ~changed[n]])
    assert filled.shape == images.shape
    # Every keypoint still sits on its object's pixel and shows the same colour.
    rows, cols = out.keypoints[..., 1].long(), out.keypoints[..., 0].long()
    assert bool(out.keypoints_visible.all())
    for n in range(images.shape[0]):
        for k in range(slots):
            for p in range(2):
                r, c = int(rows[n, k, p]), int(cols[n, k, p])
                r0, c0 = (int(v) for v in keypoints[n, k, p].flip(0).long())
                assert out.masks[n, k, r, c]
                assert torch.equal(out.image[n, :, r, c], images[n, :, r0, c0])


def test_vacated_pixels_come_from_the_inpainter() -> None:
    images, masks = rect_scene()
    # Image n moves its object n: flat index n * K + n.
    params = _params([[0], [4], [8]], [[[10, 10]], [[-9, -8]], [[6, -3]]], slots=3)
    out = _relocate()(images, masks, params=params)
    for n in range(3):
        k = n
        hole = masks[n, k] & ~out.masks[n, k]
        expected = MeanFill()(images[n : n + 1], masks[n : n + 1, k : k + 1])[0]
        assert torch.equal(out.image[n][:, hole], expected[:, hole])


def test_covered_objects_lose_pixels_and_are_dropped_with_a_report() -> None:
    images, masks = rect_scene(batch=1)
    keypoints = object_keypoints(masks)
    # Move object 2 (4x4 at (4, 18)) onto object 0 (6x5 at (2, 3)): it covers 16 of 30 pixels.
    params = _params([[2]], [[[-15, -2]]], slots=3)
    kept = _relocate(min_visibility=0.0)(images, masks, keypoints=keypoints, params=params)
    assert kept.valid.tolist() == [[True, True, True]]
    assert int(kept.masks[0, 0].sum()) == 30 - 16
    assert not bool((kept.masks[0, 0] & kept.masks[0, 2]).any())
    assert kept.boxes[0, 0].tolist() == _box(kept.masks[0, 0])
    dropped = _relocate(min_visibility=0.6)(images, masks, keypoints=keypoints, params=params)
    assert dropped.valid.tolist() == [[False, True, True]]
    assert not bool(dropped.masks[0, 0].any()) and dropped.boxes[0, 0].tolist() == [0, 0, 0, 0]
    assert not bool(dropped.keypoints_visible[0, 0].any())


def test_objects_may_leave_the_frame_partly_when_allowed() -> None:
    images, masks = rect_scene(batch=8)
    t = _relocate(num_objects=1, shift_px=20, min_inside=0.25, min_visibility=0.0)
    out = t(images, masks)
    for n in range(8):
        j_placed = torch.nonzero(out.params.placed[n]).flatten()
        for j in j_placed.tolist():
            k = int(out.params.index[n, j]) - n * 3
            area = int(masks[n, k].sum())
            assert int(out.masks[n, k].sum()) >= 0.25 * area - 1e-9
            assert out.valid[n, k]


def test_no_valid_position_is_reported_or_raised_and_nothing_changes() -> None:
    images, masks = rect_scene(batch=2)
    t = _relocate(shift_px=((25, 30), 0))  # no object fits 25+ pixels to the right
    out = t(images, masks)
    assert out.params.requested.any() and not out.params.placed.any()
    assert bool(out.params.failed.any())
    assert torch.equal(out.image, images) and torch.equal(out.masks, masks)
    before = images.clone()
    with pytest.raises(ValueError, match="No valid position"):
        _relocate(shift_px=((25, 30), 0), on_no_position="raise")(images, masks)
    assert torch.equal(images, before)


def test_replay_seeding_and_batched_equals_per_sample() -> None:
    images, masks = rect_scene(batch=4)
    t = _relocate(num_objects=(1, 3))
    out = t(images, masks)
    again = t(images, masks, params=t.last_params)
    assert torch.equal(out.image, again.image) and torch.equal(out.masks, again.masks)
    twin = _relocate(num_objects=(1, 3))(images, masks)
    assert torch.equal(out.image, twin.image)
    params, slots = out.params, masks.shape[1]
    for n in range(4):
        single = PlacementParams(
            index=params.index[n : n + 1] - n * slots, shift=params.shift[n : n + 1],
            scale=params.scale[n : n + 1], requested=params.requested[n : n + 1],
            placed=params.placed[n : n + 1], image_size=params.image_size, slots=slots,
        )  # fmt: skip
        alone = t(images[n : n + 1], masks[n : n + 1], params=single)
        assert torch.equal(alone.image[0], out.image[n])
        assert torch.equal(alone.masks[0], out.masks[n])


def test_label_maps_and_single_images() -> None:
    images, masks = rect_scene(batch=2)
    ids = (masks * torch.arange(1, 4).view(1, 3, 1, 1)).amax(1)
    out = _relocate(num_objects="all")(images, ids)
    assert out.masks.shape == ids.shape and out.masks.dtype == torch.int64
    assert set(out.masks.unique().tolist()) <= {0, 1, 2, 3}
    one = _relocate()(images[0], masks[0])
    assert one.image.shape == images[0].shape and one.masks.shape == masks[0].shape
    assert one.boxes.shape == (3, 4)


def test_padding_slots_are_never_moved() -> None:
    images, masks = rect_scene(batch=2)
    masks = masks.clone()
    masks[1, 2] = False
    valid = torch.tensor([[True, True, True], [True, True, False]])
    out = _relocate(num_objects="all")(images, masks, valid)
    slot = out.params.index - torch.arange(2).view(2, 1) * 3
    assert not bool((out.params.placed & (slot == 2))[1].any())
    assert out.valid[1].tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("blend", "options"),
    [("feather", {"sigma": 1.5}), ("laplacian", {"levels": 2}), ("poisson", {})],
)
def test_soft_blends_only_touch_the_margin(blend: str, options: dict[str, float]) -> None:
    images, masks = rect_scene(batch=2, size=(48, 48))
    t = _relocate(blend=blend, shift_px=6, **options)
    out = t(images, masks)
    margin = blend_margin(blend, **options)  # type: ignore[arg-type]
    params = out.params
    region = torch.zeros(2, 1, 48, 48, dtype=torch.bool)
    for n in range(2):
        for j in torch.nonzero(params.placed[n]).flatten().tolist():
            k = int(params.index[n, j]) - n * 3
            region[n, 0] |= masks[n, k] | translate_mask(masks[n, k], params.shift[n, j])
    outside = ~dilate_mask(region, margin).expand_as(images)
    assert torch.equal(out.image[outside], images[outside])
    assert out.image.dtype == images.dtype and bool(torch.isfinite(out.image).all())


def test_pickles_with_a_picklable_backend() -> None:
    images, masks = rect_scene()
    t = _relocate()
    clone = pickle.loads(pickle.dumps(t))
    assert torch.equal(t(images, masks).image, clone(images, masks).image)


@pytest.mark.parametrize(
    ("build", "error", "match"),
    [
        (lambda i, m: (i, m[..., :-1]), ValueError, "must have shape"),
        (lambda i, m: (i, m.float()), TypeError, "threshold soft masks"),
        (lambda i, m: (i, m[:, 0, 0]), ValueError, "instance masks or an"),
        (lambda i, m: (i[0, 0], m), ValueError, "must have shape"),
        (lambda i, m: (i[:, 0], m), ValueError, "instance masks or an"),
        (lambda i, m: (i, torch.zeros_like(m)), ValueError, "must not be empty"),
        (lambda i, m: (i.double().unsqueeze(0), m), ValueError, "must have shape"),
        (lambda i, m: (i.numpy(), m), TypeError, "torch.Tensor"),
    ],
)
def test_bad_inputs_raise_and_leave_inputs_untouched(build, error, match) -> None:  # type: ignore[no-untyped-def]
    images, masks = rect_scene()
    before = images.clone(), masks.clone()
    bad_image, bad_masks = build(images, masks)
    with pytest.raises(error, match=match):
        _relocate()(bad_image, bad_masks)
    assert torch.equal(images, before[0]) and torch.equal(masks, before[1])


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"num_objects": 0}, ValueError, "num_objects"),
        ({"policy": "random"}, ValueError, "policy"),
        ({"policy": "region"}, ValueError, "region"),
        ({"blend": "alpha"}, ValueError, "blend"),
        ({"min_inside": 0.0}, ValueError, "min_inside"),
        ({"hole_margin": -1}, ValueError, "hole_margin"),
        ({"on_no_position": "clip"}, ValueError, "on_no_position"),
        ({"shift_px": 2, "shift_frac": 0.1}, ValueError, "one unit"),
        ({"min_visibility": 2.0}, ValueError, "min_visibility"),
    ],
)
def test_bad_options_raise(options: dict[str, object], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        _relocate(**options)


def test_unknown_backend_names_raise() -> None:
    with pytest.raises(ValueError, match="must be one of"):
        RandomRelocate("no_such_backend")


def test_replay_params_must_match_the_batch() -> None:
    images, masks = rect_scene()
    t = _relocate()
    t(images, masks)
    with pytest.raises(ValueError, match="were drawn for 3 images"):
        t(images[:2], masks[:2], params=t.last_params)
    with pytest.raises(TypeError, match="PlacementParams"):
        t(images, masks, params=object())


class _RecordingFill(MeanFill):
    """MeanFill that remembers the (images, holes) it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __call__(self, images: torch.Tensor, holes: torch.Tensor) -> torch.Tensor:
        self.calls.append((images.clone(), holes.clone()))
        return super().__call__(images, holes)


def test_fill_context_fills_inside_windows_around_the_holes() -> None:
    images, masks = rect_scene(batch=3, size=(40, 44))
    whole = _relocate(num_objects=2)(images, masks)
    wide = _relocate(num_objects=2, fill_context=100)(images, masks, params=whole.params)
    assert torch.equal(wide.image, whole.image)  # a window as large as the frame
    fill = _RecordingFill()
    small = RandomRelocate(fill, num_objects=2, fill_context=2, blend="hard", hole_margin=0)(
        images, masks, params=whole.params
    )
    ((crops, holes),) = fill.calls
    assert crops.shape[-2] < 40 and crops.shape[-1] < 44
    assert int(holes.sum()) == int(mask_any_moved(masks, whole.params).sum())  # whole holes inside
    vacated = mask_any_moved(masks, whole.params) & ~small.masks.any(1)
    outside = ~mask_any_moved(masks, whole.params) & ~small.masks.any(1)
    assert torch.equal(
        small.image.permute(1, 0, 2, 3)[:, outside], images.permute(1, 0, 2, 3)[:, outside]
    )
    assert not torch.equal(
        small.image.permute(1, 0, 2, 3)[:, vacated], whole.image.permute(1, 0, 2, 3)[:, vacated]
    )
    with pytest.raises(ValueError, match="fill_context"):
        _relocate(fill_context=0)


def mask_any_moved(masks: torch.Tensor, params: PlacementParams) -> torch.Tensor:
    """``(N, H, W)`` union of the old places of the moved objects."""
    hole = torch.zeros(masks.shape[0], *masks.shape[-2:], dtype=torch.bool)
    for n in range(masks.shape[0]):
        for j in range(params.index.shape[1]):
            if params.placed[n, j]:
                hole[n] |= masks[n, int(params.index[n, j]) - n * masks.shape[1]]
    return hole


@pytest.mark.cuda
@pytest.mark.parametrize("blend", ["hard", "antialias", "poisson"])
def test_cuda_matches_cpu(blend: str) -> None:
    images, masks = rect_scene(batch=3)
    cpu = _relocate(num_objects="all", blend=blend, fill_context=4)(images, masks)
    gpu = RandomRelocate(MeanFill(), blend=blend, fill_context=4)(
        images.cuda(), masks.cuda(), params=cpu.params.to("cuda")
    )
    assert torch.equal(gpu.masks.cpu(), cpu.masks) and torch.equal(gpu.boxes.cpu(), cpu.boxes)
    torch.testing.assert_close(gpu.image.cpu(), cpu.image)


def _dense_relocation(images, masks, params, min_visibility):  # type: ignore[no-untyped-def]
    """Relocation written densely, one image and one object at a time: fill the union of the
    moved objects' old places, paste each moved object in round order, then subtract from every
    object what was pasted after it (and the vacated pixels from the objects that stayed)."""
    slots = masks.shape[1]
    out_images, out_masks, out_valid = [], [], []
    for n in range(images.shape[0]):
        entries = [
            (int(params.index[n, j]) - n * slots, params.shift[n, j])
            for j in range(params.index.shape[1])
            if params.placed[n, j]
        ]
        hole = torch.zeros_like(masks[n, 0])
        for k, _ in entries:
            hole |= masks[n, k]
        image = MeanFill()(images[n : n + 1], hole[None, None])[0]
        new = [m.clone() for m in masks[n]]
        pasted = []
        for k, shift in entries:
            moved = translate_mask(masks[n, k], shift)
            image[:, moved] = translate_image(images[n], shift)[:, moved]
            new[k] = moved
            pasted.append((k, moved))
        depth = {k: j for j, (k, _) in enumerate(pasted)}
        valid = []
        for k in range(slots):
            before = int(masks[n, k].sum())
            cover = torch.zeros_like(hole) if k in depth else hole.clone()
            for j, (_, moved) in enumerate(pasted):
                if j > depth.get(k, -1):
                    cover |= moved
            changed = k in depth or bool((new[k] & cover).any())
            new[k] = new[k] & ~cover
            left = int(new[k].sum())
            keep = not changed or (left > 0 and left >= min_visibility * before)
            valid.append(keep)
            if not keep:
                new[k] = torch.zeros_like(new[k])
        out_images.append(image)
        out_masks.append(torch.stack(new))
        out_valid.append(valid)
    return torch.stack(out_images), torch.stack(out_masks), torch.tensor(out_valid)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("visibility", [0.4, 0.95])
def test_overlapping_moves_match_a_dense_reference(seed: int, visibility: float) -> None:
    images, masks = rect_scene(batch=4, seed=seed)
    t = _relocate(
        num_objects="all",
        shift_px=9,
        min_visibility=visibility,
        generator=torch.Generator().manual_seed(seed),
    )
    out = t(images, masks)
    image, mask, valid = _dense_relocation(images, masks, out.params, visibility)
    assert torch.equal(out.image, image)
    assert torch.equal(out.masks, mask)
    assert torch.equal(out.valid, valid)


def test_probability_zero_changes_nothing_and_counts_are_capped() -> None:
    images, masks = rect_scene(batch=3)
    out = _relocate(p=0.0)(images, masks)
    assert not bool(out.params.requested.any()) and torch.equal(out.image, images)
    many = _relocate(num_objects=(2, 5))(images, masks)
    assert many.params.index.shape == (3, 3)  # at most K = 3 objects per image
    assert bool((many.params.requested.sum(1) >= 2).all())
