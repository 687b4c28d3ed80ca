"""Bad input to the translate-side public API (issue 10 §4, §8): every argument of every
function, replaced by a wrong type or a wrong value, raises a TypeError (wrong type) or a
ValueError (wrong value) naming that argument, and leaves the other inputs untouched.

The table is enumerated exhaustively (one test per bad value) rather than sampled."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

from shiftaug import RandomTranslate, TranslateParams
from shiftaug.functional import (
    clip_boxes,
    convert_boxes,
    masks_to_boxes,
    source_index,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from shiftaug.params import (
    AxisRange,
    ShiftRange,
    parse_shift_range,
    resolve_shift_range,
    sample_translate,
)
from tests.checkers import assert_same_bits

NAN = float("nan")
T = TypeError
V = ValueError


def _image() -> torch.Tensor:
    return torch.rand(2, 3, 4, 5, generator=torch.Generator().manual_seed(0))


def _params() -> TranslateParams:
    shift = torch.tensor([[4.0, 0.0], [4.0, 0.0]])
    return TranslateParams(shift, torch.ones(2, dtype=torch.bool), (4, 5))


# function -> (valid keyword arguments, {argument: [(bad value, error), ...]})
CASES: dict[str, tuple[Callable[..., Any], Callable[[], dict[str, Any]], dict[str, list]]] = {
    "translate_image": (
        translate_image,
        lambda: {"image": _image(), "shift": torch.ones(2, 2), "padding_mode": "constant"},
        {
            "image": [
                (None, T),
                ([[1.0]], T),
                (torch.zeros(4, 5), V),
                (torch.zeros(2, 1, 4, 5, dtype=torch.int16), T),
                (torch.zeros(1, 1, 0, 4), V),
            ],
            "shift": [
                (None, T),
                ("ab", T),
                ({"dx": 1}, T),
                ([1, 2, 3], V),
                ([[1, 2], [3]], V),
                (torch.tensor([[NAN, 0.0]]), V),
                (torch.ones(2, 2, dtype=torch.complex64), T),
                (torch.ones(3, 2), V),
                ([2**70, 0], V),
            ],
            "padding_mode": [(3, T), ("wrap", V), (b"zeros", T)],
            "fill": [
                ("red", T),
                ([1, "a"], T),
                (NAN, V),
                (float("inf"), V),
                (1e39, V),
                ((1, 2), V),
                (torch.zeros(2, 2), V),
                (True, T),
            ],
            "interpolation": [("cubic", V), (1, T), (None, T)],
            "out": [
                ("x", T),
                (torch.zeros(2, 3, 4, 4), V),
                (torch.zeros(1, 3, 4, 5).expand(2, 3, 4, 5), V),
            ],
        },
    ),
    "translate_mask": (
        translate_mask,
        lambda: {
            "mask": torch.zeros(2, 4, 5, dtype=torch.uint8),
            "shift": [[1, 0], [0, 1]],
            "padding_mode": "constant",
        },
        {
            "mask": [
                (None, T),
                (torch.zeros(4, dtype=torch.uint8), V),
                (torch.zeros(4, 4, dtype=torch.complex64), T),
                (torch.zeros(2, 0, 3, dtype=torch.uint8), V),
            ],
            "shift": [("x", T), ([1.0], V), (torch.tensor([[0.0, float("inf")]]), V)],
            "padding_mode": [(0, T), ("mirror", V)],
            "fill": [(256, V), (0.5, V), ("x", T), ([1, 2], V)],
        },
    ),
    "translate_boxes": (
        translate_boxes,
        lambda: {"boxes": torch.zeros(2, 3, 4), "shift": [[1, 0], [0, 1]], "canvas_size": (4, 5)},
        {
            "boxes": [
                (None, T),
                (torch.zeros(2, 3, 5), V),
                (torch.zeros(4), V),
                (torch.zeros(1, 4, dtype=torch.bool), T),
            ],
            "shift": [("x", T), (torch.zeros(3, 2), V)],
            "canvas_size": [
                (None, T),
                ((0, 3), V),
                ((1.5, 2), T),
                ("ab", T),
                ((True, 3), T),
                ((1, 2, 3), T),
            ],
            "format": [("ltrb", V), (1, T)],
            "clip": [(None, T), ("yes", T), (1, T)],
            "min_visibility": [(-0.1, V), (2, V), ("a", T), (NAN, V)],
            "min_area": [(-1, V), ("a", T), (NAN, V), (float("inf"), V)],
        },
    ),
    "translate_keypoints": (
        translate_keypoints,
        lambda: {
            "keypoints": torch.zeros(2, 3, 2),
            "shift": [[1, 0], [0, 1]],
            "canvas_size": (4, 5),
        },
        {
            "keypoints": [(np.zeros((3, 2)), T), (torch.zeros(3, 3), V), (torch.zeros(2), V)],
            "shift": [(None, T), (torch.tensor([[NAN, 0.0], [0.0, 0.0]]), V)],
            "canvas_size": [(8, T), ((4, -5), V)],
        },
    ),
    "convert_boxes": (
        convert_boxes,
        lambda: {"boxes": torch.zeros(3, 4), "source": "xyxy", "target": "cxcywh"},
        {
            "boxes": [
                ([[0, 0, 1, 1]], T),
                (torch.zeros(3, 5), V),
                (torch.zeros(3, 4, dtype=torch.bool), T),
            ],
            "source": [("ltrb", V), (None, T)],
            "target": [("yxyx", V), (3, T)],
        },
    ),
    "clip_boxes": (
        clip_boxes,
        lambda: {"boxes": torch.zeros(3, 4), "canvas_size": (4, 5)},
        {
            "boxes": [("x", T), (torch.zeros(2, 3), V)],
            "canvas_size": [(None, T), ((0, 4), V), ([4.0, 5.0], T)],
        },
    ),
    "source_index": (
        source_index,
        lambda: {"pos": torch.arange(-3, 6), "size": 4, "padding_mode": "reflect"},
        {
            "pos": [([1, 2], T), (torch.tensor([0.5]), T), (torch.tensor([True]), T)],
            "size": [(0, V), (-2, V), (True, T), (2.0, T), (None, T)],
            "padding_mode": [(5, T), ("edge", V), ("wrap", V)],
        },
    ),
    "masks_to_boxes": (
        masks_to_boxes,
        lambda: {"masks": torch.zeros(2, 4, 5, dtype=torch.bool)},
        {
            "masks": [
                (None, T),
                ([[True]], T),
                (torch.zeros(4), V),
                (torch.zeros(2, 2, dtype=torch.complex64), T),
            ]
        },
    ),
    "sample_translate": (
        sample_translate,
        lambda: {"batch_size": 3, "image_size": (4, 5), "shift_px": 2},
        {
            "batch_size": [(-1, V), ("3", T), (2.0, T), (None, T)],
            "image_size": [(None, T), ((0, 4), V), (4, T)],
            "shift_px": [(-1, V), ("2", T), ((1, 2, 3), T), (1e30, V), (NAN, V)],
            "integer": [("no", T), (None, T)],
            "distribution": [("laplace", V), (0, T)],
            "normal_scale": [(0, V), (-1.0, V), ("a", T), (float("inf"), V)],
            "p": [(1.5, V), ("high", T), (NAN, V)],
            "same_on_batch": [("no", T), (1, T), (None, T)],
            "generator": [("g", T), (0, T)],
            "device": [("foo", V), (3.5, T)],
        },
    ),
    "parse_shift_range": (
        parse_shift_range,
        lambda: {"name": "shift_px", "value": ((0, 8), 2), "unit": "px"},
        {
            "value": [("a", T), (((3, 1), 0), V), ((1, (2, 3, 4)), T), (-3, V), (float("inf"), V)],
            "name": [(3, T), (None, T)],
            "unit": [("cm", V), (1, T)],
        },
    ),
    "resolve_shift_range": (
        resolve_shift_range,
        lambda: {"shift_px": 2, "shift_frac": None},
        {
            "shift_px": [("a", T), (-1, V), (2**25, V), ((2, (1, 0)), V)],
            "shift_frac": [(1.5, V), ("x", T), (((-2, 0), 0), V)],
            "allow_none": [("no", T), (None, T), (1, T)],
        },
    ),
    "AxisRange": (
        AxisRange,
        lambda: {"low": -1, "high": 2.5},
        {
            "low": [("a", T), (True, T), (NAN, V), (float("-inf"), V), (None, T)],
            "high": [(None, T), (float("inf"), V), (-3, V), ([2], T)],
        },
    ),
    "ShiftRange": (
        ShiftRange,
        lambda: {"x": AxisRange(0, 1), "y": AxisRange(-1, 1), "unit": "px"},
        {
            "x": [((0, 1), T), (None, T)],
            "y": [(2.0, T)],
            "unit": [("cm", V), (None, T), ("PX", V)],
        },
    ),
    "ShiftRange.in_pixels": (
        lambda **kw: ShiftRange(AxisRange(0, 1), AxisRange(0, 1), "frac").in_pixels(**kw),
        lambda: {"image_size": (4, 6)},
        {"image_size": [(None, T), ((0, 4), V), ((4.0, 6), T), (4, T)]},
    ),
    "RandomTranslate": (
        RandomTranslate,
        lambda: {"shift_px": 2},
        {
            "shift_px": [(-2, V), ((1, 2, 3), T), (1e30, V), (2**25, V), ((1, (0.2, 0.8)), V)],
            "shift_frac": [(1.5, V), ("x", T)],
            "padding_mode": [("wrap", V), (0, T)],
            "fill": [("x", T), (NAN, V)],
            "interpolation": [("cubic", V)],
            "distribution": [("beta", V)],
            "p": [(2, V), ("x", T)],
            "same_on_batch": [(1, T), ("no", T)],
            "generator": [(3, T)],
            "normal_scale": [(0.0, V), ("x", T)],
            "mask_fill": [("x", T), (NAN, V)],
            "mask_padding_mode": [("wrap", V), (1, T)],
            "box_format": [("ltrb", V)],
            "min_visibility": [(2.0, V), ("x", T)],
            "min_area": [(-1.0, V)],
        },
    ),
}
ARGUMENT_NAMES = {
    "parse_shift_range": {"value": "shift_px"},
    "RandomTranslate": {"box_format": "format"},
}


BAD_CALLS = [
    pytest.param(function, argument, value, error, id=f"{function}-{argument}-{index}")
    for function, (_, _, table) in CASES.items()
    for argument, bad in table.items()
    for index, (value, error) in enumerate(bad)
]


@pytest.mark.parametrize(("function", "argument", "value", "error"), BAD_CALLS)
def test_every_bad_argument_raises_a_named_error(
    function: str, argument: str, value: object, error: type[Exception]
) -> None:
    call, valid, _ = CASES[function]
    kwargs = valid()
    if argument == "shift_frac":
        kwargs["shift_px"] = None  # one unit at a time
    kwargs[argument] = value
    tensors = {k: v.clone() for k, v in kwargs.items() if isinstance(v, torch.Tensor)}
    name = ARGUMENT_NAMES.get(function, {}).get(argument, argument)
    with pytest.raises(error, match=re.escape(f"`{name}")):
        call(**kwargs)
    for key, before in tensors.items():
        assert_same_bits(kwargs[key], before)


def test_every_case_is_valid_without_the_bad_argument() -> None:
    for call, valid, _ in CASES.values():
        call(**valid())  # the baseline of each case must not raise


# RandomTranslate calls: (keyword arguments, error, text naming the caller's argument)
CALL_CASES = [
    ({"image": [[1.0]]}, T, "`image` must be a torch.Tensor"),
    ({"image": torch.zeros(4, 5)}, V, r"`image` must have shape \(C, H, W\)"),
    ({"mask": torch.zeros(2, 4, 6, dtype=torch.bool)}, V, "`mask` must have the image's size"),
    ({"mask": torch.zeros(3, 4, 5, dtype=torch.bool)}, V, "`mask` must have the batch's 2 samples"),
    (
        {"masks": torch.zeros(2, 4, 5, dtype=torch.bool)},
        V,
        r"`masks` must have shape \(N, K, H, W\)",
    ),
    ({"masks": torch.zeros(2, 1, 1, 4, 5, dtype=torch.bool)}, V, r"`masks` must have shape \(N, K"),
    ({"boxes": torch.zeros(5, 4)}, V, r"`boxes` must have shape \(N, \.\.\., M, 4\)"),
    ({"boxes": torch.zeros(3, 1, 4)}, V, "`boxes` must have the batch's 2 samples"),
    ({"boxes": torch.zeros(2, 1, 5)}, V, r"`boxes` must have shape \(\*batch, M, 4\)"),
    ({"keypoints": "x"}, T, "`keypoints` must be a torch.Tensor"),
    ({"keypoints": torch.zeros(3, 1, 2)}, V, "`keypoints` must have the batch's 2 samples"),
    (
        {"keypoints": torch.tensor([[[253, 0]], [[2, 0]]], dtype=torch.uint8)},
        V,
        "`keypoints` moved by the shift must fit",
    ),
    ({"params": {"shift": torch.zeros(2, 2)}}, T, "`params` must be TranslateParams"),
]


@pytest.mark.parametrize("method", ["forward", "inverse"])
@pytest.mark.parametrize(("kwargs", "error", "message"), CALL_CASES)
def test_transform_call_errors_name_the_callers_argument(
    kwargs: dict[str, Any], error: type[Exception], message: str, method: str
) -> None:
    t = RandomTranslate(shift_px=((4, 4), 0), fill=3)
    kwargs = dict(kwargs)
    image = kwargs.pop("image", _image())
    if method == "inverse":
        kwargs.setdefault("params", _params())
    with pytest.raises(error, match=message):
        getattr(t, method)(image, **kwargs)
    assert t.last_params is None  # a failed call records nothing
