"""kornia adapter inside AugmentationSequential: every data key vs the core kernels."""

from __future__ import annotations

import kornia.augmentation as K
import pytest
import torch
from kornia.geometry.boxes import Boxes

from shiftaug import RandomTranslate as CoreTranslate
from shiftaug import TranslateParams
from shiftaug.adapters.kornia import RandomTranslate
from shiftaug.functional import translate_boxes, translate_image, translate_keypoints

N, H, W = 6, 12, 16
KEYS = ["input", "mask", "bbox_xyxy", "keypoints"]


def _data(seed: int = 0) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(N, 3, H, W, generator=g)
    masks = torch.randint(0, 3, (N, 1, H, W), generator=g).float()
    # kornia's "bbox_xyxy" boxes are inclusive: (x1, y1, x2, y2) name the last pixel.
    boxes = torch.tensor([[1.0, 1.0, 5.0, 6.0], [10.0, 2.0, 15.0, 11.0]]).repeat(N, 1, 1)
    points = torch.rand(N, 3, 2, generator=g) * torch.tensor([W, H])
    return images, masks, boxes, points


def _expected_boxes(boxes: torch.Tensor, shift: torch.Tensor, **kwargs: float) -> torch.Tensor:
    """Reference through kornia's own conversions: inclusive -> pixel-edge boxes and back."""
    edges = Boxes.from_tensor(boxes, mode="xyxy_plus").to_tensor(mode="xyxy")
    moved, visible = translate_boxes(edges, shift, canvas_size=(H, W), **kwargs)
    inclusive = Boxes.from_tensor(moved, mode="xyxy", validate_boxes=False).to_tensor("xyxy_plus")
    return torch.where(visible[..., None], inclusive, 0.0)  # type: ignore[call-overload]


def test_every_data_key_in_a_stock_pipeline_matches_the_kernels() -> None:
    torch.manual_seed(0)
    ours = RandomTranslate(shift_px=5, p=1.0, min_visibility=0.4)
    flip = K.RandomHorizontalFlip(p=1.0)
    pipeline = K.AugmentationSequential(ours, flip, data_keys=KEYS)
    images, masks, boxes, points = _data()
    out_images, out_masks, out_boxes, out_points = pipeline(images, masks, boxes, points)
    shift = ours._params["shift"]
    reference = K.AugmentationSequential(K.RandomHorizontalFlip(p=1.0), data_keys=KEYS)
    expected = reference(
        translate_image(images, shift), translate_image(masks, shift),
        _expected_boxes(boxes, shift, min_visibility=0.4),
        translate_keypoints(points, shift, canvas_size=(H, W))[0],
    )  # fmt: skip
    assert torch.equal(out_images, expected[0]) and torch.equal(out_masks, expected[1])
    assert torch.equal(out_points, expected[3])
    kept = out_boxes.abs().sum(-1) > 0
    assert torch.equal(out_boxes[kept], expected[2][kept])
    assert torch.equal(kept, _expected_boxes(boxes, shift, min_visibility=0.4).abs().sum(-1) > 0)


def test_p_gates_per_sample_and_same_on_batch_shares_the_shift(device: str) -> None:
    torch.manual_seed(1)
    ours = RandomTranslate(shift_px=4, p=0.5)
    images = _data()[0].to(device)
    out = ours(images)
    applied = (ours._params["batch_prob"] > 0.5).to(device)
    assert applied.any() and not applied.all() and out.device == images.device
    assert torch.equal(out[~applied], images[~applied])
    shift = ours._params["shift"].to(device)[applied]
    assert torch.equal(out[applied], translate_image(images[applied], shift))
    same = RandomTranslate(shift_px=4, p=1.0, same_on_batch=True)
    same(images)
    assert (same._params["shift"] == same._params["shift"][0]).all()


def test_replay_keepdim_and_exact_integers() -> None:
    torch.manual_seed(2)
    ours = RandomTranslate(shift_px=3, p=1.0, keepdim=True, padding_mode="constant", fill=0.5)
    image = torch.rand(3, H, W)
    out = ours(image)
    assert out.shape == image.shape
    assert torch.equal(ours(image, params=ours._params), out)
    shift = ours._params["shift"][0]
    assert torch.equal(out, translate_image(image, shift, padding_mode="constant", fill=0.5))
    assert torch.equal(ours.transform_matrix[0, :2, 2], shift)


def test_sequential_inverse_undoes_a_circular_shift_exactly() -> None:
    torch.manual_seed(3)
    ours = RandomTranslate(shift_px=6, p=0.7, padding_mode="circular")
    pipeline = K.AugmentationSequential(ours, data_keys=["input", "mask", "keypoints"])
    images, masks, _, points = _data()
    moved = pipeline(images, masks, points)
    restored = pipeline.inverse(*moved)
    assert torch.equal(restored[0], images) and torch.equal(restored[1], masks)
    torch.testing.assert_close(restored[2], points)


def test_bilinear_interpolation_moves_by_the_sub_pixel_shift() -> None:
    torch.manual_seed(4)
    ours = RandomTranslate(shift_frac=0.2, interpolation="bilinear", p=1.0)
    images = _data()[0]
    out = ours(images)
    shift = ours._params["shift"]
    assert not torch.equal(shift, shift.round())
    assert torch.equal(out, translate_image(images, shift, interpolation="bilinear"))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({}, ValueError, "A shift range is required"),
        ({"shift_frac": 2.0}, ValueError, "must lie in"),
        ({"shift_px": 2, "p": 2}, ValueError, "`p` must be a float in"),
        ({"shift_px": 2, "p_batch": -1}, ValueError, "`p_batch` must be a float in"),
        ({"shift_px": 2, "keepdim": 1}, TypeError, "`keepdim` must be a bool"),
        ({"shift_px": 2, "same_on_batch": "yes"}, TypeError, "`same_on_batch` must be a bool"),
    ],
)
def test_bad_arguments_fail_at_construction(
    kwargs: dict[str, object], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        RandomTranslate(**kwargs)  # type: ignore[arg-type]


def test_integer_images_get_a_message_that_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"convert with x.float\(\) / 255"):
        RandomTranslate(shift_px=2)(torch.zeros(1, 3, H, W, dtype=torch.uint8))


@pytest.mark.parametrize(("p", "p_batch"), [(0.5, 1.0), (1.0, 0.0), (0.5, 0.5)])
def test_parameters_say_which_samples_kornia_moved(p: float, p_batch: float) -> None:
    """Skipped samples are recorded as not applied, with no shift: the core replays and
    inverts exactly the samples kornia moved."""
    torch.manual_seed(5)
    ours = RandomTranslate(shift_px=4, p=p, p_batch=p_batch)
    images = torch.rand(16, 3, H, W)
    out = ours(images)
    gate = (ours._params["batch_prob"] > 0.5).expand(16)
    assert torch.equal(ours._params["applied"], gate)
    assert not ours._params["shift"][~gate].any()
    moved = (out != images).flatten(1).any(1)
    assert not moved[~gate].any()
    params = TranslateParams(ours._params["shift"], ours._params["applied"], (H, W))
    assert torch.equal(CoreTranslate(shift_px=4)(images, params=params), out)


def _replayed(**changes: object) -> tuple[RandomTranslate, torch.Tensor, dict[str, object]]:
    torch.manual_seed(6)
    ours = RandomTranslate(shift_px=4, p=0.5)
    images = torch.rand(8, 3, H, W)
    ours(images)
    params = dict(ours._params)
    params.update(changes)
    return ours, images, params


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"shift": torch.zeros(8, 3)}, ValueError, r"params\['shift'\]` must have shape \(N, 2\)"),
        ({"shift": torch.zeros(5, 2)}, ValueError, "must hold 8 samples"),
        ({"shift": torch.full((8, 2), float("nan"))}, ValueError, "must be finite"),
        ({"shift": torch.zeros(8, 2, dtype=torch.int64)}, TypeError, "must have a float dtype"),
        ({"applied": torch.ones(8)}, TypeError, "must have a bool dtype"),
        ({"applied": torch.ones(8, dtype=torch.bool)}, ValueError, "batch_prob"),
        ({"shift": torch.ones(8, 2), "applied": torch.zeros(8, dtype=torch.bool)}, ValueError,
         "must be 0 for the samples"),
        ({"batch_prob": torch.ones(3)}, ValueError, "one entry or one per sample"),
    ],
)  # fmt: skip
def test_replayed_parameters_are_checked_like_drawn_ones(
    changes: dict[str, object], error: type[Exception], match: str
) -> None:
    ours, images, params = _replayed(**changes)
    with pytest.raises(error, match=match):
        ours(images, params=params)


def test_a_missing_entry_and_an_edited_draw_are_caught() -> None:
    ours, images, params = _replayed()
    del params["applied"]
    with pytest.raises(ValueError, match=r"\['applied'\] are missing"):
        ours(images, params=params)
    ours, images, params = _replayed()
    ours._params["shift"][0, 0] = float("inf")  # in place: no longer this module's own draw
    with pytest.raises(ValueError, match="must be finite"):
        ours(images, params=ours._params)


def test_compiled_pipeline_moves_by_the_recorded_shifts() -> None:
    torch.manual_seed(7)
    ours = RandomTranslate(shift_px=3, p=0.5, padding_mode="replicate")
    pipeline = K.AugmentationSequential(ours, data_keys=["input"])
    images = _data()[0]
    out = torch.compile(pipeline, fullgraph=True, backend="eager")(images)
    expected = translate_image(images, ours._params["shift"], padding_mode="replicate")
    assert torch.equal(out, expected)
