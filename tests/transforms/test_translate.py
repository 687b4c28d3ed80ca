"""RandomTranslate: consistency of targets, replay, inversion, pickling, errors."""

from __future__ import annotations

import copy
import pickle

import pytest
import torch

from shiftaug import RandomTranslate, TranslateOutput, TranslateParams
from shiftaug.functional import (
    masks_to_boxes,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)


def _batch(n: int = 6, size: int = 12, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    image = torch.rand(n, 3, size, size, generator=g)
    masks = torch.zeros(n, 2, size, size, dtype=torch.bool)
    masks[:, 0, 2:6, 3:8] = True
    masks[:, 1, 7:11, 1:4] = True
    boxes = masks_to_boxes(masks)[0]
    keypoints = torch.rand(n, 4, 2, generator=g) * size
    return {"image": image, "mask": masks, "boxes": boxes, "keypoints": keypoints}


def test_every_target_moves_with_its_own_sample_shift() -> None:
    data = _batch()
    t = RandomTranslate(shift_px=5, generator=torch.Generator().manual_seed(1))
    out = t(data["image"], data["mask"], data["boxes"], data["keypoints"])
    assert isinstance(out, TranslateOutput)
    shift = out.params.shift
    assert torch.equal(out.image, translate_image(data["image"], shift))
    assert torch.equal(out.mask, translate_mask(data["mask"], shift))
    boxes, visible = translate_boxes(data["boxes"], shift, canvas_size=(12, 12))
    assert torch.equal(out.boxes, boxes) and torch.equal(out.boxes_visible, visible)
    keypoints, kp_visible = translate_keypoints(data["keypoints"], shift, canvas_size=(12, 12))
    assert torch.equal(out.keypoints, keypoints) and torch.equal(out.keypoints_visible, kp_visible)
    # The boxes recomputed from the moved masks agree with the moved boxes.
    recomputed, present = masks_to_boxes(out.mask)
    assert torch.equal(present, out.boxes_visible)
    assert torch.equal(recomputed[present], out.boxes[present])


def test_image_only_call_returns_a_tensor_and_stores_params() -> None:
    data = _batch()
    t = RandomTranslate(shift_frac=0.25)
    out = t(data["image"])
    assert isinstance(out, torch.Tensor)
    assert isinstance(t.last_params, TranslateParams) and len(t.last_params) == 6
    assert t.last_params.shift.abs().max() <= 3


def test_replay_and_inverse() -> None:
    data = _batch()
    t = RandomTranslate(shift_px=4, padding_mode="circular")
    first = t(data["image"])
    params = t.last_params
    assert torch.equal(t(data["image"], params=params), first)
    assert torch.equal(t.inverse(first), data["image"])
    out = t(data["image"], data["mask"], params=params)
    back = t.inverse(out.image, out.mask, params=params)
    assert torch.equal(back.image, data["image"]) and torch.equal(back.mask, data["mask"])


def test_bilinear_draws_continuous_shifts_and_masks_follow_rounded() -> None:
    data = _batch()
    t = RandomTranslate(
        shift_px=3, interpolation="bilinear", generator=torch.Generator().manual_seed(2)
    )
    out = t(data["image"], data["mask"])
    shift = out.params.shift
    assert shift.frac().abs().sum() > 0
    assert torch.allclose(
        out.image, translate_image(data["image"], shift, interpolation="bilinear")
    )
    assert torch.equal(out.mask, translate_mask(data["mask"], shift))


def test_single_image_and_video_layouts() -> None:
    data = _batch()
    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(3))
    single = t(data["image"][0], data["mask"][0], data["boxes"][0], data["keypoints"][0])
    assert single.image.shape == (3, 12, 12) and single.params.shift.shape == (1, 2)
    assert torch.equal(single.image, translate_image(data["image"][0], single.params.shift[0]))
    video = torch.rand(2, 5, 3, 8, 8)
    out = t(video)
    for b in range(2):
        assert torch.equal(out[b], translate_image(video[b], t.last_params.shift[b]))


def test_p_zero_is_identity_and_same_on_batch() -> None:
    data = _batch()
    assert torch.equal(RandomTranslate(shift_px=4, p=0.0)(data["image"]), data["image"])
    t = RandomTranslate(shift_px=4, same_on_batch=True)
    t(data["image"])
    assert torch.equal(t.last_params.shift, t.last_params.shift[:1].expand(6, 2))


def test_seeded_module_reproduces_and_pickles() -> None:
    data = _batch()
    a = RandomTranslate(shift_px=4, generator=torch.Generator().manual_seed(9))
    b = pickle.loads(pickle.dumps(a))
    c = copy.deepcopy(a)
    out_a, out_b, out_c = a(data["image"]), b(data["image"]), c(data["image"])
    assert torch.equal(out_a, out_b) and torch.equal(out_a, out_c)
    assert torch.equal(a.last_params.shift, b.last_params.shift)
    assert a.last_params.shift.abs().sum() > 0  # a real draw, not a no-op


def test_module_moves_with_to_and_sequential() -> None:
    t = RandomTranslate(shift_px=2).to(torch.float64)
    seq = torch.nn.Sequential(t, torch.nn.Identity())
    assert seq(torch.zeros(2, 1, 4, 4, dtype=torch.float64)).dtype == torch.float64
    assert "shift_px=2" in repr(t)


def test_uint8_and_constant_fill() -> None:
    image = torch.full((4, 3, 6, 6), 7, dtype=torch.uint8)
    t = RandomTranslate(shift_px=((3, 3), 0), padding_mode="constant", fill=(1, 2, 3))
    out = t(image)
    assert out.dtype == torch.uint8
    assert out[:, :, :, :3].flatten(2).unique(dim=2).tolist() == [[[1], [2], [3]]] * 4


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, "A shift range is required"),
        ({"shift_px": -2}, ValueError, "`shift_px` must be a finite number >= 0"),
        (
            {"shift_px": ((3, 1), 0)},
            ValueError,
            r"`shift_px\[0\]` must be an interval \(low, high\) with low <= high",
        ),
        ({"shift_px": 2, "shift_frac": 0.1}, ValueError, "Give the shift range in one unit"),
        ({"shift_px": 2, "padding_mode": "wrap"}, ValueError, "`padding_mode` must be one of"),
        ({"shift_px": 2, "interpolation": "cubic"}, ValueError, "`interpolation` must be one of"),
        ({"shift_px": 2, "distribution": "beta"}, ValueError, "`distribution` must be one of"),
        ({"shift_px": 2, "p": 2}, ValueError, r"`p` must be a float in \[0, 1\]"),
        ({"shift_px": 2, "same_on_batch": 1}, TypeError, "`same_on_batch` must be a bool"),
        (
            {"shift_px": 2, "generator": 3},
            TypeError,
            "`generator` must be a torch.Generator or None",
        ),
        (
            {"shift_px": 2, "padding_mode": "reflect", "fill": 1.0},
            ValueError,
            "`fill` is only used with padding_mode='constant', but got fill=1.0 with "
            "padding_mode='reflect'",
        ),
        (
            {"shift_px": 2, "padding_mode": "constant", "fill": "x"},
            TypeError,
            "`fill` must be a number",
        ),
        (
            {"shift_px": 2, "mask_fill": 7, "mask_padding_mode": "reflect"},
            ValueError,
            "`mask_fill` is only used with mask_padding_mode='constant', but got mask_fill=7 "
            "with mask_padding_mode='reflect'",
        ),
        (
            {"shift_px": 2, "padding_mode": "circular", "mask_fill": 7},
            ValueError,
            "`mask_fill` is not used with padding_mode='circular'",
        ),
        ({"shift_px": 2, "box_format": "ltrb"}, ValueError, "`format` must be one of"),
        (
            {"shift_px": 2, "min_visibility": 2.0},
            ValueError,
            r"`min_visibility` must be a finite number in \[0, 1\]",
        ),
        (
            {"shift_px": 2, "normal_scale": -1.0},
            ValueError,
            "`normal_scale` must be a finite number > 0",
        ),
    ],
)
def test_construction_errors(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        RandomTranslate(**kwargs)  # type: ignore[arg-type]


def test_call_errors_leave_inputs_untouched() -> None:
    data = _batch()
    before = {k: v.clone() for k, v in data.items()}
    t = RandomTranslate(shift_px=2)
    with pytest.raises(
        ValueError,
        match=r"`mask` must have the image's size \(\.\.\., 12, 12\), but got a tensor of shape \(6, 2, 10, 12\)",
    ):
        t(data["image"], data["mask"][..., :10, :])
    with pytest.raises(TypeError, match="`image` must be a torch.Tensor, but got list"):
        t([data["image"]])
    with pytest.raises(ValueError, match=r"`image` must have shape \(C, H, W\), \(N, C, H, W\)"):
        t(data["image"][0, 0])
    with pytest.raises(ValueError, match="`params` were drawn for 3 samples"):
        t(data["image"], params=t.make_params(data["image"][:3]))
    with pytest.raises(TypeError, match="`params` must be TranslateParams"):
        t(data["image"], params={"shift": torch.zeros(6, 2)})
    with pytest.raises(
        ValueError, match="`params` must be given: this transform has not been called yet"
    ):
        t.inverse(data["image"])
    for key, value in data.items():
        assert torch.equal(value, before[key])


@pytest.mark.cuda
def test_runs_on_cuda() -> None:
    data = _batch()
    t = RandomTranslate(shift_px=3).cuda()
    out = t(
        data["image"].cuda(), data["mask"].cuda(), data["boxes"].cuda(), data["keypoints"].cuda()
    )
    assert out.image.is_cuda and out.params.shift.is_cuda
    assert torch.equal(out.image.cpu(), translate_image(data["image"], out.params.shift.cpu()))


def test_targets_with_extra_dims_follow_their_sample() -> None:
    # (N, M, P, 2) keypoints with M == N: the shift must line up with N, not with M.
    image = torch.rand(3, 1, 10, 10)
    keypoints = torch.rand(3, 3, 4, 2) * 10
    boxes = torch.tensor([[0.0, 0.0, 4.0, 4.0]]).expand(3, 2, 3, 4)
    t = RandomTranslate(shift_px=3, generator=torch.Generator().manual_seed(4))
    out = t(image, boxes=boxes, keypoints=keypoints)
    shift = out.params.shift
    for n in range(3):
        assert torch.equal(out.keypoints[n], keypoints[n] + shift[n])
        expected, _ = translate_boxes(boxes[n], shift[n], canvas_size=(10, 10))
        assert torch.equal(out.boxes[n], expected)


def test_batched_call_rejects_unbatched_boxes() -> None:
    t = RandomTranslate(shift_px=3)
    with pytest.raises(
        ValueError, match=r"`boxes` must have shape \(N, \.\.\., M, 4\) for a batch"
    ):
        t(torch.rand(2, 1, 8, 8), boxes=torch.zeros(5, 4))
    with pytest.raises(TypeError, match="`keypoints` must be a torch.Tensor"):
        t(torch.rand(2, 1, 8, 8), keypoints=[[1.0, 2.0]])


def test_make_params_generator_override_leaves_module_state_alone() -> None:
    t = RandomTranslate(shift_px=5, generator=torch.Generator().manual_seed(0))
    state = t.generator.get_state()
    images = torch.rand(16, 1, 8, 8)
    a = t.make_params(images, generator=torch.Generator().manual_seed(11))
    b = t.make_params(images, generator=torch.Generator().manual_seed(11))
    assert torch.equal(a.shift, b.shift)
    assert torch.equal(t.generator.get_state(), state)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_replayed_shifts_beyond_int64_move_every_target_exactly(dtype: torch.dtype) -> None:
    # The transform used to round replayed shifts to int64, which saturates beyond 2**63:
    # 2**70 became -2**63, rolling a circular image by the wrong amount and moving boxes and
    # keypoints the wrong way.
    dx, dy = 2.0**70, -(2.0**66) - 2.0**14
    image = torch.arange(2 * 7 * 5, dtype=torch.float32).view(1, 2, 7, 5)
    boxes = torch.tensor([[[1.0, 1.0, 3.0, 2.0]]])
    keypoints = torch.tensor([[[1.0, 2.0]]])
    params = TranslateParams(
        torch.tensor([[dx, dy]], dtype=dtype), torch.ones(1, dtype=torch.bool), (7, 5)
    )
    t = RandomTranslate(shift_px=1, padding_mode="circular")
    out = t(image, boxes=boxes, keypoints=keypoints, params=params)
    whole_x, whole_y = int(torch.tensor(dx, dtype=dtype)), int(torch.tensor(dy, dtype=dtype))
    rolled = torch.roll(image, (whole_y % 7, whole_x % 5), (-2, -1))  # Python integer arithmetic
    assert torch.equal(out.image, rolled)
    assert torch.equal(t.inverse(out.image, params=params), image)
    # Boxes leave to the right (clipped to the edge), keypoints move by the exact shift.
    assert out.boxes.tolist() == [[[5.0, 0.0, 5.0, 0.0]]]
    assert out.boxes_visible.tolist() == [[False]]
    expected = torch.tensor([[[1.0 + whole_x, 2.0 + whole_y]]], dtype=torch.float64).float()
    assert torch.equal(out.keypoints, expected) and out.keypoints_visible.tolist() == [[False]]


def test_a_pixel_range_without_a_whole_pixel_fails_at_construction() -> None:
    # It used to construct and fail at the first call; bilinear draws need no whole pixel.
    with pytest.raises(
        ValueError,
        match=r"`shift_px` must hold a whole pixel on each axis .* its x range is \[0.2, 0.8\] px;",
    ):
        RandomTranslate(shift_px=((0.2, 0.8), 0))
    bilinear = RandomTranslate(shift_px=((0.2, 0.8), 0), interpolation="bilinear")
    bilinear(torch.rand(3, 1, 4, 4))
    drawn = bilinear.last_params.shift
    assert bool(((drawn[:, 0] >= 0.2) & (drawn[:, 0] <= 0.8) & (drawn[:, 1] == 0)).all())
    fraction = RandomTranslate(shift_frac=((0.1, 0.2), 0))  # depends on the image: at the call
    with pytest.raises(ValueError, match=r"`shift_frac` must hold a whole pixel .* \(4, 4\)"):
        fraction(torch.rand(1, 1, 4, 4))
    assert fraction(torch.rand(1, 1, 10, 10)).shape == (1, 1, 10, 10)


def test_fill_may_be_a_numpy_array_or_scalar_like_a_list() -> None:
    # A per-channel NumPy fill used to fail at construction ("1 or C=1 values").
    import numpy as np

    images = torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(1))
    params = TranslateParams(
        torch.tensor([[2.0, 0.0], [0.0, -1.0]]), torch.ones(2, dtype=torch.bool), (4, 5)
    )
    expected = RandomTranslate(shift_px=1, fill=[1.0, 2.0, 3.0])(images, params=params)
    for fill in (np.array([1.0, 2.0, 3.0]), np.array([1, 2, 3], dtype=np.int16)):
        t = RandomTranslate(shift_px=1, fill=fill)
        assert t.fill == [1, 2, 3] and torch.equal(t(images, params=params), expected)
    scalar = RandomTranslate(shift_px=1, fill=np.float32(2.5))(images, params=params)
    assert torch.equal(scalar, translate_image(images, params.shift, fill=2.5))
    with pytest.raises(ValueError, match=r"`fill` must have 1 or C=3 values, but got 2"):
        RandomTranslate(shift_px=1, fill=np.array([1.0, 2.0]))(images)
