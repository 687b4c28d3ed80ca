"""translate_mask / translate_boxes / translate_keypoints / masks_to_boxes / convert_boxes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug.functional import (
    MASK_DTYPES,
    PADDING_MODES,
    convert_boxes,
    masks_to_boxes,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from tests.checkers import check_kernel
from tests.references import shift_reference, slice_shift

# --- masks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", MASK_DTYPES)
@pytest.mark.parametrize("mode", PADDING_MODES)
def test_mask_matches_reference(dtype: torch.dtype, mode: str) -> None:
    g = torch.Generator().manual_seed(0)
    labels = torch.randint(0, 2 if dtype == torch.bool else 100, (3, 5, 6), generator=g).to(dtype)
    shift = torch.tensor([[1, -2], [-7, 3], [4, 11]])
    fill = 1 if mode == "constant" else 0
    out = translate_mask(labels, shift, padding_mode=mode, fill=fill)
    assert out.dtype == dtype
    for n in range(3):
        expected = shift_reference(
            labels[n : n + 1].to(torch.int64), int(shift[n, 0]), int(shift[n, 1]), mode, fill
        )
        assert torch.equal(out[n], expected[0].to(dtype))


def test_instance_masks_share_their_sample_shift() -> None:
    masks = torch.rand(2, 4, 6, 6, generator=torch.Generator().manual_seed(1)) > 0.5  # (N, K, H, W)
    shift = torch.tensor([[2, 1], [-1, -3]])
    out = translate_mask(masks, shift)
    for n in range(2):
        for k in range(4):
            assert torch.equal(
                out[n, k], slice_shift(masks[n, k], int(shift[n, 0]), int(shift[n, 1]))
            )


def test_mask_follows_image_with_same_rounded_shift() -> None:
    labels = torch.arange(36, dtype=torch.int64).view(1, 6, 6)
    shift = torch.tensor([[1.4, -2.6]])
    image = translate_image(labels.view(1, 1, 6, 6).double(), shift)
    assert torch.equal(translate_mask(labels, shift).double(), image[:, 0])


def test_mask_shared_checks() -> None:
    labels = torch.randint(0, 5, (4, 7, 5), generator=torch.Generator().manual_seed(2)).to(
        torch.uint8
    )
    check_kernel(translate_mask, labels, torch.tensor([[1, 0], [0, -2], [3, 3], [-9, 0]]))


@pytest.mark.parametrize(
    ("mask", "kwargs", "error", "message"),
    [
        (
            torch.zeros(4, 4, dtype=torch.complex64),
            {},
            TypeError,
            r"`mask` must have dtype in \(bool, uint8, int8, int16, int32, int64, float16, "
            r"bfloat16, float32, float64\), but got torch.complex64",
        ),
        (
            torch.zeros(4, dtype=torch.uint8),
            {},
            ValueError,
            r"`mask` must have shape \(\.\.\., H, W\)",
        ),
        (
            torch.zeros(2, 4, 4, dtype=torch.bool),
            {"padding_mode": "constant", "fill": 2},
            ValueError,
            r"`fill` must hold integers in \[0, 1\]",
        ),
        (
            torch.zeros(2, 4, 4, dtype=torch.uint8),
            {"padding_mode": "constant", "fill": 256},
            ValueError,
            r"`fill` must hold integers in \[0, 255\]",
        ),
        (
            torch.zeros(2, 4, 4, dtype=torch.uint8),
            {"padding_mode": "mirror"},
            ValueError,
            "`padding_mode` must be one of",
        ),
    ],
)
def test_mask_rejects_bad_input(
    mask: torch.Tensor, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        translate_mask(mask, torch.zeros(2, 2), **kwargs)


def test_mask_rejects_shift_with_too_many_batch_dims() -> None:
    with pytest.raises(
        ValueError, match=r"`shift` of shape \(2, 3, 2\) has more batch dimensions than the mask"
    ):
        translate_mask(torch.zeros(2, 4, 4, dtype=torch.uint8), torch.zeros(2, 3, 2))
    with pytest.raises(ValueError, match="does not broadcast against the mask's batch shape"):
        translate_mask(torch.zeros(2, 4, 4, dtype=torch.uint8), torch.zeros(3, 2))


# --- boxes ---------------------------------------------------------------------------------


def test_boxes_move_and_clip() -> None:
    boxes = torch.tensor([[[1.0, 1.0, 4.0, 3.0], [6.0, 0.0, 8.0, 2.0], [0.0, 0.0, 8.0, 8.0]]])
    moved, visible = translate_boxes(boxes, [[3, 1]], canvas_size=(8, 8))
    assert moved.tolist() == [[[4.0, 2.0, 7.0, 4.0], [8.0, 1.0, 8.0, 3.0], [3.0, 1.0, 8.0, 8.0]]]
    assert visible.tolist() == [[True, False, True]]
    unclipped, _ = translate_boxes(boxes, [[3, 1]], canvas_size=(8, 8), clip=False)
    assert unclipped[0, 1].tolist() == [9.0, 1.0, 11.0, 3.0]


@pytest.mark.parametrize("box_format", ["xyxy", "xywh", "cxcywh"])
def test_box_formats_round_trip_and_agree(box_format: str) -> None:
    xyxy = torch.tensor([[[1.0, 2.0, 5.0, 7.0], [0.0, 0.0, 3.0, 3.0]]])
    boxes = convert_boxes(xyxy, "xyxy", box_format)
    assert torch.allclose(convert_boxes(boxes, box_format, "xyxy"), xyxy)
    moved, visible = translate_boxes(boxes, [[-2, 1]], canvas_size=(10, 10), format=box_format)
    expected, expected_visible = translate_boxes(xyxy, [[-2, 1]], canvas_size=(10, 10))
    assert torch.allclose(convert_boxes(moved, box_format, "xyxy"), expected)
    assert torch.equal(visible, expected_visible)


def test_min_visibility_and_min_area() -> None:
    boxes = torch.tensor([[[0.0, 0.0, 4.0, 4.0]]])  # area 16
    _, visible = translate_boxes(boxes, [[-3, 0]], canvas_size=(8, 8), min_visibility=0.3)
    assert not visible.item()  # 4 of 16 pixels left
    _, visible = translate_boxes(boxes, [[-3, 0]], canvas_size=(8, 8), min_visibility=0.25)
    assert visible.item()
    _, visible = translate_boxes(boxes, [[-2, 0]], canvas_size=(8, 8), min_area=9)
    assert not visible.item()  # 8 pixels left


def test_box_of_shifted_mask_equals_shifted_clipped_box() -> None:
    g = torch.Generator().manual_seed(3)
    for _ in range(50):
        h, w = torch.randint(3, 12, (2,), generator=g).tolist()
        r0, c0 = (
            torch.randint(0, h, (1,), generator=g).item(),
            torch.randint(0, w, (1,), generator=g).item(),
        )
        r1 = torch.randint(r0, h, (1,), generator=g).item()
        c1 = torch.randint(c0, w, (1,), generator=g).item()
        mask = torch.zeros(1, h, w, dtype=torch.bool)
        mask[0, r0 : r1 + 1, c0 : c1 + 1] = True
        shift = torch.randint(-12, 13, (1, 2), generator=g)
        box, present = masks_to_boxes(translate_mask(mask, shift))
        moved, visible = translate_boxes(masks_to_boxes(mask)[0][None], shift, canvas_size=(h, w))
        assert bool(present[0]) == bool(visible[0, 0])
        if present[0]:
            assert torch.equal(box[0], moved[0, 0])


def test_integer_boxes_move_by_rounded_shift() -> None:
    boxes = torch.tensor([[[1, 1, 3, 3]]], dtype=torch.int64)
    moved, _ = translate_boxes(boxes, [[1.6, -0.4]], canvas_size=(8, 8))
    assert moved.dtype == torch.int64 and moved.tolist() == [[[3, 1, 5, 3]]]


def test_zero_area_boxes_are_never_visible() -> None:
    _, visible = translate_boxes(torch.tensor([[2.0, 2.0, 2.0, 5.0]]), (0, 0), canvas_size=(8, 8))
    assert visible.tolist() == [False]


def test_boxes_shared_checks() -> None:
    boxes = torch.rand(3, 5, 4, generator=torch.Generator().manual_seed(4)) * 8
    boxes[..., 2:] += boxes[..., :2]

    def kernel(b: torch.Tensor, s: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return translate_boxes(b, s, canvas_size=(16, 16))

    check_kernel(kernel, boxes, torch.tensor([[1.0, 2.0], [-5.0, 0.5], [20.0, 0.0]]))


@pytest.mark.parametrize(
    ("boxes", "kwargs", "error", "message"),
    [
        (
            torch.zeros(3, 5),
            {},
            ValueError,
            r"`boxes` must have shape \(\*batch, M, 4\), but got a tensor of shape \(3, 5\)",
        ),
        (torch.zeros(4), {}, ValueError, r"`boxes` must have shape \(\*batch, M, 4\)"),
        ([[0, 0, 1, 1]], {}, TypeError, "`boxes` must be a torch.Tensor, but got list"),
        (
            torch.zeros(1, 4),
            {"format": "yxyx"},
            ValueError,
            r"`format` must be one of \('xyxy', 'xywh', 'cxcywh'\), but got 'yxyx'",
        ),
        (
            torch.zeros(1, 4),
            {"canvas_size": 8},
            TypeError,
            r"`canvas_size` must be a pair \(H, W\) of ints, but got 8",
        ),
        (torch.zeros(1, 4), {"canvas_size": (0, 8)}, ValueError, "`canvas_size` must be a pair"),
        (
            torch.zeros(1, 4),
            {"min_visibility": 1.5},
            ValueError,
            r"`min_visibility` must be a finite number in \[0, 1\], but got 1.5",
        ),
        (
            torch.zeros(1, 4),
            {"min_area": -1},
            ValueError,
            "`min_area` must be a finite number >= 0, but got -1",
        ),
    ],
)
def test_boxes_reject_bad_input(
    boxes: object, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    options: dict[str, object] = {"canvas_size": (8, 8), **kwargs}
    with pytest.raises(error, match=message):
        translate_boxes(boxes, (0, 0), **options)  # type: ignore[arg-type]


def test_torchvision_format_enum_is_accepted() -> None:
    tv = pytest.importorskip("torchvision.tv_tensors")
    moved, _ = translate_boxes(
        torch.tensor([[0.0, 0.0, 2.0, 2.0]]),
        (1, 1),
        canvas_size=(4, 4),
        format=tv.BoundingBoxFormat.XYWH,
    )
    assert moved.tolist() == [[1.0, 1.0, 2.0, 2.0]]


# --- keypoints -----------------------------------------------------------------------------


def test_pixel_under_keypoint_moves_with_it() -> None:
    g = torch.Generator().manual_seed(5)
    image = torch.rand(2, 1, 9, 7, generator=g)
    keypoints = torch.rand(2, 10, 2, generator=g) * torch.tensor([7.0, 9.0])
    shift = torch.tensor([[2, -3], [-1, 4]])
    moved_image = translate_image(image, shift)
    moved, visible = translate_keypoints(keypoints, shift, canvas_size=(9, 7))
    for n in range(2):
        for k in range(10):
            x, y = keypoints[n, k].floor().long().tolist()
            if visible[n, k]:
                nx, ny = moved[n, k].floor().long().tolist()
                assert moved_image[n, 0, ny, nx] == image[n, 0, y, x]


def test_keypoint_visibility_is_half_open() -> None:
    kp = torch.tensor([[0.0, 0.0], [7.99, 3.0], [8.0, 3.0], [-0.01, 1.0]])
    _, visible = translate_keypoints(kp, (0, 0), canvas_size=(4, 8))
    assert visible.tolist() == [True, True, False, False]


def test_keypoints_reject_bad_input() -> None:
    with pytest.raises(
        ValueError,
        match=r"`keypoints` must have shape \(\*batch, K, 2\), but got a tensor of shape \(3, 3\)",
    ):
        translate_keypoints(torch.zeros(3, 3), (0, 0), canvas_size=(4, 4))
    with pytest.raises(TypeError, match="`keypoints` must be a torch.Tensor"):
        translate_keypoints(np.zeros((3, 2)), (0, 0), canvas_size=(4, 4))


# --- masks_to_boxes / convert_boxes ----------------------------------------------------------


def test_masks_to_boxes_matches_numpy() -> None:
    masks = torch.rand(6, 7, 9, generator=torch.Generator().manual_seed(6)) > 0.8
    masks[0] = False
    boxes, present = masks_to_boxes(masks)
    for k in range(6):
        rows, cols = np.nonzero(masks[k].numpy())
        assert bool(present[k]) == (rows.size > 0)
        if rows.size:
            assert boxes[k].tolist() == [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
        else:
            assert boxes[k].tolist() == [0, 0, 0, 0]


def test_convert_boxes_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="`target` must be one of"):
        convert_boxes(torch.zeros(1, 4), "xyxy", "ltrb")
