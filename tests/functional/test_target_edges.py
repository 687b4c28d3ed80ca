"""Boxes, keypoints and masks at their edges (issue 10 §3): integer dtypes never wrap around,
conversions keep the dtype, empty inputs are empty."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug.functional import (
    clip_boxes,
    convert_boxes,
    masks_to_boxes,
    translate_boxes,
    translate_keypoints,
)


def test_integer_keypoints_never_wrap_around() -> None:
    # uint8 x = 1 moved by -2 used to come back as 255; int16 + 65536 was a no-op, "visible".
    with pytest.raises(
        ValueError,
        match=r"`keypoints` moved by the shift must fit their dtype torch.uint8 \(\[0, 255\]\), but got values such as \[-1.0\]",
    ):
        translate_keypoints(
            torch.tensor([[[1, 1]]], dtype=torch.uint8), [[-2, 0]], canvas_size=(4, 4)
        )
    with pytest.raises(ValueError, match="must fit their dtype torch.int16"):
        translate_keypoints(
            torch.tensor([[[1, 1]]], dtype=torch.int16), [[65536, 0]], canvas_size=(4, 4)
        )
    moved, visible = translate_keypoints(
        torch.tensor([[[1, 1]]], dtype=torch.int16), [[2.5, -0.5]], canvas_size=(4, 4)
    )  # half to even: (2, -0)
    assert (
        moved.tolist() == [[[3, 1]]] and moved.dtype == torch.int16 and visible.tolist() == [[True]]
    )


@pytest.mark.parametrize(
    ("dtype", "start", "advice"),
    [
        (torch.uint8, 250, r"pass them as int32 or float32"),
        (torch.int16, 32760, r"pass them as int32 or float32"),
        (torch.int32, 2**31 - 10, r"pass them as int64 or float64"),
        (torch.int64, 2**53 - 10, r"int64 coordinates are moved exactly within \+-2\*\*53"),
    ],
)
def test_the_overflow_error_names_a_dtype_that_would_hold_the_result(
    dtype: torch.dtype, start: int, advice: str
) -> None:
    # The advice used to be "int32 or float32" whatever the dtype, int32 keypoints included.
    keypoints = torch.tensor([[[start, 0]]], dtype=dtype)
    with pytest.raises(ValueError, match=rf"must fit their dtype {dtype}.*; {advice}"):
        translate_keypoints(keypoints, [[20, 0]], canvas_size=(4, 4))


def test_int64_coordinates_are_exact_within_2_to_the_53() -> None:
    big = torch.tensor([[[2**53 - 1, 0]]])
    moved, _ = translate_keypoints(big, [[1, 0]], canvas_size=(4, 4))
    assert moved[0, 0, 0].item() == 2**53
    with pytest.raises(ValueError, match=r"`keypoints` of dtype int64 must lie within \+-2\*\*53"):
        translate_keypoints(torch.tensor([[[2**60, 0]]]), [[1, 0]], canvas_size=(4, 4))
    with pytest.raises(ValueError, match=r"`shift` must lie within \+-2\*\*53 pixels"):
        translate_keypoints(torch.tensor([[[0, 0]]]), [[2.0**60, 0.0]], canvas_size=(4, 4))


def test_half_precision_coordinates_never_overflow_silently() -> None:
    with pytest.raises(
        ValueError, match="`keypoints` moved by the shift must stay finite in torch.float16"
    ):
        translate_keypoints(
            torch.tensor([[[60000.0, 0.0]]], dtype=torch.float16), [[7000, 0]], canvas_size=(4, 4)
        )
    with pytest.raises(
        ValueError, match="`boxes` moved by the shift must stay finite in torch.float32"
    ):
        translate_boxes(
            torch.tensor([[[0.0, 0.0, 1.0, 1.0]]]),
            torch.tensor([[1e300, 0.0]], dtype=torch.float64),
            canvas_size=(4, 4),
            clip=False,
        )
    boxes = torch.tensor([[[0.0, 0.0, 1.0, 1.0]]], dtype=torch.float16)
    moved, visible = translate_boxes(boxes, [[1e30, 0.0]], canvas_size=(4, 4))  # clipped: fits
    assert moved.tolist() == [[[4.0, 0.0, 4.0, 1.0]]] and visible.tolist() == [[False]]


def test_integer_boxes_wrap_neither_clipped_nor_unclipped() -> None:
    boxes = torch.tensor([[[1, 1, 3, 3]]], dtype=torch.uint8)
    moved, visible = translate_boxes(boxes, [[-2, 0]], canvas_size=(4, 4))
    assert moved.tolist() == [[[0, 1, 1, 3]]] and visible.tolist() == [[True]]
    with pytest.raises(
        ValueError, match="`boxes` moved by the shift must fit their dtype torch.uint8"
    ):
        translate_boxes(boxes, [[-2, 0]], canvas_size=(4, 4), clip=False)
    with pytest.raises(
        ValueError, match="`boxes` moved by the shift must fit their dtype torch.uint8"
    ):
        translate_boxes(
            torch.tensor([[[250, 0, 5, 5]]], dtype=torch.uint8), [[10, 0]],
            canvas_size=(300, 300), format="xywh", clip=False,
        )  # fmt: skip


@pytest.mark.parametrize(
    "dtype", [torch.uint8, torch.int32, torch.int64, torch.float16, torch.float32]
)
def test_convert_boxes_keeps_the_dtype_and_round_trips(dtype: torch.dtype) -> None:
    # Integer boxes used to come back as int from xywh but as float from cxcywh.
    xyxy = torch.tensor([[2, 4, 8, 10], [1, 1, 5, 7]], dtype=dtype)  # even sizes: exact centres
    for fmt in ("xywh", "cxcywh"):
        converted = convert_boxes(xyxy, "xyxy", fmt)
        assert converted.dtype == dtype
        assert torch.equal(convert_boxes(converted, fmt, "xyxy"), xyxy)
    cx = convert_boxes(torch.tensor([[0, 0, 3, 3]], dtype=dtype), "xyxy", "cxcywh")
    assert cx.double().tolist() == [[1.5, 1.5, 3, 3]] if dtype.is_floating_point else [[2, 2, 3, 3]]
    same = convert_boxes(xyxy, "xyxy", "xyxy")
    assert torch.equal(same, xyxy) and same.data_ptr() != xyxy.data_ptr()  # a new tensor


@pytest.mark.parametrize(
    ("boxes", "source", "target", "message"),
    [
        (
            torch.tensor([[60000.0, 0.0, 10000.0, 1.0]], dtype=torch.float16),
            "xywh",
            "xyxy",
            r"`boxes` converted to 'xyxy' must stay finite in torch.float16 \(largest value "
            r"65504\), but got values such as \[70000.0\]; pass them as float32",
        ),
        (
            torch.tensor([[-60000.0, 0.0, 60000.0, 1.0]], dtype=torch.float16),
            "xyxy",
            "cxcywh",
            r"`boxes` converted to 'cxcywh' .* such as \[120000.0\]; pass them as float32",
        ),
        (
            torch.tensor([[-3e38, 0.0, 3e38, 1.0]]),
            "xyxy",
            "xywh",
            r"`boxes` converted to 'xywh' must stay finite in torch.float32.*as float64",
        ),
        (
            torch.tensor([[1e308, 0.0, 1e308, 1.0]], dtype=torch.float64),
            "xywh",
            "xyxy",
            r"must stay finite in torch.float64.*; they exceed float64's range",
        ),
        (
            torch.tensor([[1, 1, 4, 4]], dtype=torch.uint8),
            "cxcywh",
            "xyxy",
            r"`boxes` converted to 'xyxy' must fit their dtype torch.uint8 \(\[0, 255\]\), but "
            r"got values such as \[-1.0, -1.0\]; pass them as int32 or float32",
        ),
    ],
)
def test_convert_boxes_never_overflows_silently(
    boxes: torch.Tensor, source: str, target: str, message: str
) -> None:
    # Float boxes used to be converted in their own dtype: float16 x + w beyond 65504 came back
    # as inf without a word.
    before = boxes.clone()
    with pytest.raises(ValueError, match=message):
        convert_boxes(boxes, source, target)
    assert torch.equal(boxes, before)


def test_convert_boxes_of_half_floats_equal_numpy_and_pass_non_finite_boxes_through() -> None:
    values = [[1000.5, -3.25, 60000.0, 5000.0], [7.0, 8.0, 2.5, 0.125]]
    boxes = torch.tensor(values, dtype=torch.float16)
    wide = np.array(values, dtype=np.float16).astype(np.float64)  # exact
    x, y, w, h = wide.T
    expected = np.stack([x, y, x + w, y + h], -1).astype(np.float16)  # one rounding
    assert np.array_equal(convert_boxes(boxes, "xywh", "xyxy").numpy(), expected)
    special = torch.tensor([[float("inf"), 0.0, 1.0, 1.0], [float("nan"), 0.0, 1.0, 1.0]])
    out = convert_boxes(special, "xywh", "xyxy")
    assert out[0].tolist() == [float("inf"), 0.0, float("inf"), 1.0]
    assert out[1, 0].isnan() and out[1, 2].isnan() and out[1, 1:4:2].tolist() == [0.0, 1.0]


def test_clip_boxes_with_canvases_beyond_the_dtype() -> None:
    boxes = torch.tensor([[0, 0, 255, 200]], dtype=torch.uint8)
    assert torch.equal(clip_boxes(boxes, (300, 300)), boxes)
    halves = torch.tensor([[-5.0, 0.0, 65504.0, 3.0]], dtype=torch.float16)
    assert clip_boxes(halves, (10, 70000)).tolist() == [[0.0, 0.0, 65504.0, 3.0]]


def test_masks_to_boxes_of_empty_and_float_masks() -> None:
    boxes, present = masks_to_boxes(torch.zeros(2, 3, 0, 5, dtype=torch.bool))
    assert boxes.shape == (2, 3, 4) and not present.any() and not boxes.any()
    soft = torch.zeros(1, 4, 4)
    soft[0, 1, 2] = 0.5
    assert masks_to_boxes(soft)[0].tolist() == [[2.0, 1.0, 3.0, 2.0]]


def test_internal_conversions_skip_only_the_float32_overflow_check() -> None:
    # The transforms and adapters convert their own float32 boxes without reading them back
    # (no host synchronisation); half floats and integers are checked all the same.
    from shiftaug.functional._boxes import convert_boxes_

    wide = torch.tensor([[-3e38, 0.0, 3e38, 1.0]])
    assert convert_boxes_(wide, "xyxy", "xywh", check_values=False)[0, 2].isinf()
    half = torch.tensor([[60000.0, 0.0, 10000.0, 1.0]], dtype=torch.float16)
    with pytest.raises(ValueError, match="`boxes` converted to 'xyxy' must stay finite"):
        convert_boxes_(half, "xywh", "xyxy", check_values=False)
    small = torch.tensor([[1, 1, 4, 4]], dtype=torch.uint8)
    with pytest.raises(ValueError, match="must fit their dtype torch.uint8"):
        convert_boxes_(small, "cxcywh", "xyxy", check_values=False)
