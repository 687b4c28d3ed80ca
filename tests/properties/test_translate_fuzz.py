"""Fuzzing the translate-side public API (issue 10 §8).

Every case draws inputs of any dtype, shape (zero-size included), memory layout (contiguous,
channels-last, strided, expanded) and value (NaN payloads, infinities, -0.0, shifts far beyond
the image and up to the int64 limits), and either equals an independent reference (NumPy
padding on the bit patterns, Python integer arithmetic, SciPy) or raises a TypeError/ValueError
naming an argument. No call may modify its inputs.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import given
from hypothesis import strategies as st

from shiftaug import RandomTranslate, TranslateParams
from shiftaug.functional import (
    PADDING_MODES,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from shiftaug.testing import TARGET_DTYPES, any_images, any_shifts, tensor_values, with_layout
from tests.checkers import assert_same_bits
from tests.references import bits_reference, python_shift

MODES = (*PADDING_MODES, "edge", None)


def _snapshot(*tensors: torch.Tensor) -> list[torch.Tensor]:
    return [t.clone() for t in tensors]


def _unchanged(before: list[torch.Tensor], *tensors: torch.Tensor) -> None:
    for old, new in zip(before, tensors, strict=True):
        assert_same_bits(new, old)


@st.composite
def padding(draw: st.DrawFn, dtype: torch.dtype, channels: int) -> tuple[object, object]:
    """A valid ``(padding_mode, fill)`` pair, ``None`` defaults and aliases included."""
    mode = draw(st.sampled_from(MODES))
    if mode not in (None, "constant") and draw(st.booleans()):
        return mode, None
    if mode not in (None, "constant"):
        return mode, 0
    if dtype.is_floating_point:
        value = st.floats(-2, 2, allow_nan=False, width=16)
    elif dtype == torch.bool:
        value = st.integers(0, 1)
    else:
        info = torch.iinfo(dtype)
        value = st.integers(max(info.min, -300), min(info.max, 300))
    if channels > 1 and draw(st.booleans()):
        return mode, tuple(draw(st.lists(value, min_size=channels, max_size=channels)))
    return mode, draw(value) if mode == "constant" or draw(st.booleans()) else None


def _resolved(mode: object, fill: object) -> tuple[str, object]:
    if mode is None:
        return ("zeros", 0) if fill is None else ("constant", fill)
    return ("replicate" if mode == "edge" else str(mode)), 0 if fill is None else fill


def _each(shape: tuple[int, ...]) -> itertools.product:
    return itertools.product(*(range(n) for n in shape))


@given(st.data())
def test_nearest_equals_numpy_on_bit_patterns(data: st.DataObject) -> None:
    image = data.draw(any_images())
    batch = image.shape[:-3]
    shift_batch = data.draw(st.sampled_from([tuple(batch), (), (1,) * len(batch)]))
    shift = data.draw(any_shifts(shift_batch))
    mode, fill = data.draw(padding(image.dtype, image.shape[-3]))
    before = _snapshot(image, shift)
    out = translate_image(image, shift, padding_mode=mode, fill=fill)  # type: ignore[arg-type]
    _unchanged(before, image, shift)
    full = torch.broadcast_shapes(tuple(batch), shift_batch)
    assert out.shape == (*full, *image.shape[-3:]) and out.dtype == image.dtype
    if image.ndim == 4 and image.is_contiguous(memory_format=torch.channels_last):
        assert out.is_contiguous(memory_format=torch.channels_last)  # layout kept
    resolved, value = _resolved(mode, fill)
    images, shifts = image.expand(*full, *image.shape[-3:]), shift.expand(*full, 2)
    for index in _each(tuple(full)):
        dx, dy = (python_shift(v) for v in shifts[index].tolist())
        values = tuple(value) if isinstance(value, tuple) else float(value)  # type: ignore[arg-type]
        assert_same_bits(out[index], bits_reference(images[index], dx, dy, resolved, values))


@given(st.data())
def test_out_buffer_of_any_layout_equals_the_plain_call(data: st.DataObject) -> None:
    image = data.draw(any_images(layouts=("contiguous", "channels_last", "strided")))
    shift = data.draw(any_shifts(tuple(image.shape[:-3])))
    interpolation = data.draw(st.sampled_from(["nearest", "bilinear"]))
    expected = translate_image(image, shift, interpolation=interpolation)
    layout = data.draw(st.sampled_from(["contiguous", "channels_last", "strided"]))
    out = with_layout(torch.full_like(image, 7), layout)
    result = translate_image(image, shift, interpolation=interpolation, out=out)
    assert result is out
    if interpolation == "nearest":
        assert_same_bits(out, expected)
    else:  # bilinear computes: equal values, but NaN payloads are not promised
        torch.testing.assert_close(out, expected, rtol=0, atol=0, equal_nan=True)


@given(st.data())
def test_bilinear_matches_scipy_and_equals_nearest_on_whole_pixels(data: st.DataObject) -> None:
    image = data.draw(any_images(dtypes=(torch.float64,), specials=False, zero_size=False))
    batch = tuple(image.shape[:-3])
    mode = data.draw(st.sampled_from(PADDING_MODES))
    fill = 0.5 if mode == "constant" else 0.0
    whole = data.draw(any_shifts(batch)).round()
    nearest = translate_image(image, whole, padding_mode=mode, fill=fill)
    bilinear = translate_image(image, whole, padding_mode=mode, fill=fill, interpolation="bilinear")
    assert_same_bits(bilinear, nearest)
    fraction = data.draw(any_shifts(batch, huge=False)).double()
    out = translate_image(image, fraction, padding_mode=mode, fill=fill, interpolation="bilinear")
    scipy_mode = {
        "zeros": "grid-constant", "constant": "grid-constant", "reflect": "mirror",
        "symmetric": "reflect", "replicate": "nearest", "circular": "grid-wrap",
    }[mode]  # fmt: skip
    for index in _each(batch):
        dx, dy = fraction[index].tolist()
        expected = ndi.shift(
            image[index].numpy(), (0, dy, dx), order=1, mode=scipy_mode, cval=fill,
            prefilter=False,
        )  # fmt: skip
        np.testing.assert_allclose(out[index].numpy(), expected, atol=1e-9)


@given(st.data())
def test_mask_equals_numpy_on_bit_patterns(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from((*TARGET_DTYPES, torch.bool, torch.int8)))
    n, k = data.draw(st.integers(0, 3)), data.draw(st.integers(1, 3))
    h, w = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    mask = with_layout(
        data.draw(tensor_values((n, k, h, w), dtype)),
        data.draw(st.sampled_from(["contiguous", "channels_last", "strided", "expanded"])),
    )
    shift = data.draw(any_shifts((n,)))
    mode, fill = data.draw(padding(dtype, 1))
    before = _snapshot(mask, shift)
    out = translate_mask(mask, shift, padding_mode=mode, fill=fill)  # type: ignore[arg-type]
    _unchanged(before, mask, shift)
    resolved, value = _resolved(mode, fill)
    for i in range(n):
        dx, dy = (python_shift(v) for v in shift[i].tolist())
        assert_same_bits(out[i], bits_reference(mask[i], dx, dy, resolved, float(value)))  # type: ignore[arg-type]


def _python_move(values: list[float], step: float, dtype: torch.dtype) -> list[float] | None:
    """Coordinates moved by ``step`` as Python numbers, ``None`` if they leave ``dtype``."""
    if dtype.is_floating_point:
        compute = torch.float64 if dtype == torch.float64 else torch.float32
        step_in_compute = torch.tensor(step, dtype=torch.float64).to(compute).double()
        moved = (torch.tensor(values, dtype=torch.float64) + step_in_compute).to(compute).to(dtype)
        finite = torch.isfinite(torch.tensor(values, dtype=torch.float64))
        if bool((~torch.isfinite(moved.double()) & finite).any()):
            return None
        return moved.double().tolist()
    whole = python_shift(step)
    info = torch.iinfo(dtype)
    low, high = (-(2**53), 2**53) if dtype == torch.int64 else (info.min, info.max)
    moved_ints = [int(v) + whole for v in values]
    if abs(whole) > 2**53 or any(not low <= v <= high for v in moved_ints):
        return None
    return [float(v) for v in moved_ints]


@given(st.data())
def test_keypoints_equal_python_arithmetic_or_raise(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(TARGET_DTYPES))
    n, k = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    keypoints = data.draw(tensor_values((n, k, 2), dtype, specials=False))
    shift = data.draw(any_shifts((n,)))
    before = _snapshot(keypoints, shift)
    expected = [
        [
            _python_move(keypoints[i, :, axis].tolist(), shift[i, axis].item(), dtype)
            for axis in (0, 1)
        ]
        for i in range(n)
    ]
    if any(axis is None for row in expected for axis in row):
        with pytest.raises(ValueError, match="`(keypoints|shift)` "):
            translate_keypoints(keypoints, shift, canvas_size=(5, 7))
        _unchanged(before, keypoints, shift)
        return
    moved, visible = translate_keypoints(keypoints, shift, canvas_size=(5, 7))
    _unchanged(before, keypoints, shift)
    assert moved.dtype == dtype and visible.shape == (n, k)
    for i in range(n):
        for axis in (0, 1):
            assert moved[i, :, axis].double().tolist() == expected[i][axis]
        x, y = moved[i].double().unbind(-1)
        assert visible[i].tolist() == ((x >= 0) & (x < 7) & (y >= 0) & (y < 5)).tolist()


@given(st.data())
def test_boxes_equal_python_arithmetic_or_raise(data: st.DataObject) -> None:
    dtype = data.draw(st.sampled_from(TARGET_DTYPES))
    n, m = data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))
    corner = data.draw(tensor_values((n, m, 2), dtype, specials=False))
    size = data.draw(tensor_values((n, m, 2), dtype, specials=False)).abs()
    boxes = (
        torch.cat([corner, corner + size], -1)
        if dtype.is_floating_point
        else (
            torch.cat([corner, corner], -1)  # integer corners: any box of zero size is legal
        )
    )
    shift = data.draw(any_shifts((n,), huge=data.draw(st.booleans())))
    before = _snapshot(boxes, shift)
    expected = [
        [_python_move(boxes[i, :, j].tolist(), shift[i, j % 2].item(), dtype) for j in range(4)]
        for i in range(n)
    ]
    if any(column is None for row in expected for column in row):
        with pytest.raises(ValueError, match="`(boxes|shift)` "):
            translate_boxes(boxes, shift, canvas_size=(6, 8), clip=False)
        _unchanged(before, boxes, shift)
        return
    moved, _ = translate_boxes(boxes, shift, canvas_size=(6, 8), clip=False)
    _unchanged(before, boxes, shift)
    assert moved.dtype == dtype
    for i in range(n):
        for j in range(4):
            assert moved[i, :, j].double().tolist() == expected[i][j]


@given(st.data())
def test_random_translate_equals_the_reference_and_replays(data: st.DataObject) -> None:
    image = data.draw(any_images(max_batch=3))
    mode = data.draw(st.sampled_from(MODES))
    interpolation = data.draw(st.sampled_from(["nearest", "bilinear"]))
    if interpolation == "bilinear" and image.dtype == torch.uint8:
        interpolation = "nearest"  # uint8 bilinear rounds: covered by the kernel tests
    t = RandomTranslate(
        shift_px=data.draw(st.integers(0, 20)), padding_mode=mode, interpolation=interpolation,
        p=data.draw(st.sampled_from([0.0, 0.5, 1.0])), same_on_batch=data.draw(st.booleans()),
        generator=torch.Generator().manual_seed(data.draw(st.integers(0, 99))),
    )  # fmt: skip
    before = _snapshot(image)
    out = t(image)
    _unchanged(before, image)
    params = t.last_params
    count = 1 if image.ndim == 3 else image.shape[0]
    assert params.shift.shape == (count, 2) and out.shape == image.shape
    shift = params.shift.reshape(
        *((count,) if image.ndim > 3 else ()), *([1] * (image.ndim - 4)), 2
    )
    expected = translate_image(
        image, shift, padding_mode=t.padding_mode, interpolation=interpolation
    )
    assert_same_bits(out, expected)
    assert_same_bits(t(image, params=params), out)  # replay
    if t.padding_mode == "circular" and interpolation == "nearest":
        assert_same_bits(t.inverse(out), image.contiguous())


@given(st.data())
def test_replayed_records_of_any_shift_move_everything_like_the_kernels(
    data: st.DataObject,
) -> None:
    """A replayed record may hold any finite shift of any real dtype (up to 1e30 and the int64
    limits): image, boxes and keypoints move exactly as the kernels move them by the rounded
    shift (the kernels are checked against Python integer arithmetic above)."""
    image = data.draw(any_images(zero_size=False, max_batch=3, layouts=("contiguous",)))
    image = image if image.ndim == 4 else image.reshape(-1, *image.shape[-3:])
    n, (h, w) = image.shape[0], image.shape[-2:]
    shift = data.draw(any_shifts((n,)))
    params = TranslateParams(shift, torch.ones(n, dtype=torch.bool), (h, w))
    mode = data.draw(st.sampled_from(PADDING_MODES))
    boxes = torch.tensor([[[0.0, 0.0, w / 2, h / 2]]]).expand(n, 1, 4)
    keypoints = torch.tensor([[[w / 2, h / 2]]]).expand(n, 1, 2)
    out = RandomTranslate(shift_px=1, padding_mode=mode)(
        image, boxes=boxes, keypoints=keypoints, params=params
    )
    whole = torch.round(shift)
    assert_same_bits(out.image, translate_image(image, whole, padding_mode=mode))
    moved_boxes, boxes_visible = translate_boxes(boxes, whole, canvas_size=(h, w))
    moved_keypoints, keypoints_visible = translate_keypoints(keypoints, whole, canvas_size=(h, w))
    assert_same_bits(out.boxes, moved_boxes)
    assert_same_bits(out.keypoints, moved_keypoints)
    assert torch.equal(out.boxes_visible, boxes_visible)
    assert torch.equal(out.keypoints_visible, keypoints_visible)


EXTREMES = [2**63 - 1, -(2**63), -(2**63) + 1, 2**62 + 3, -(2**53) - 1, 2.0**63, -(2.0**64), 1e30]


@given(st.data())
def test_extreme_shifts_in_every_mode_equal_python_integer_arithmetic(data: st.DataObject) -> None:
    image = data.draw(any_images(zero_size=False, max_batch=2))
    batch = tuple(image.shape[:-3])
    values = data.draw(st.lists(st.sampled_from(EXTREMES), min_size=2, max_size=2))
    dtype = torch.float64 if any(isinstance(v, float) for v in values) else torch.int64
    shift = torch.tensor(values, dtype=dtype).expand(*batch, 2)
    mode = data.draw(st.sampled_from(PADDING_MODES))
    out = translate_image(image, shift, padding_mode=mode)
    for index in _each(batch):
        dx, dy = (python_shift(v) for v in shift[index].tolist())
        assert_same_bits(out[index], bits_reference(image[index], dx, dy, mode))


def _fits(fill: float | int, dtype: torch.dtype) -> bool:
    """Whether ``dtype`` holds ``fill`` (compared as exact Python numbers)."""
    if isinstance(fill, float) and not math.isfinite(fill):
        return False
    if dtype.is_floating_point:
        return -torch.finfo(dtype).max <= fill <= torch.finfo(dtype).max
    if isinstance(fill, float) and not fill.is_integer():
        return False
    low, high = (0, 1) if dtype == torch.bool else (torch.iinfo(dtype).min, torch.iinfo(dtype).max)
    return low <= fill <= high


def _torch_full(shape: tuple[int, ...], fill: float | int, dtype: torch.dtype) -> torch.Tensor:
    """What torch stores for ``fill`` in ``dtype`` (the reference for every path)."""
    return torch.full(shape, float(fill) if dtype.is_floating_point else int(fill), dtype=dtype)


def _same_bits(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    try:
        assert_same_bits(actual, expected)
    except AssertionError:
        return False
    return True


FILL_EDGES = [
    65504.0, 65519.0, 65520.0, 3.3895313892515355e38, 3.4028234663852886e38, 3.402823466385289e38,
    1.7976931348623157e308, 1 + 2**-11 + 2**-40, 1 + 2**-8 + 2**-30, 2**24 + 1, 2**53 + 1,
    2**63 - 1, 2**63, 2**1100, -0.0, 255, 256, 2.5,
]  # fmt: skip
any_fill = st.one_of(
    st.floats(),
    st.integers(-300, 300),
    st.integers(-(2**1100), 2**1100),
    st.sampled_from([v for edge in FILL_EDGES for v in (edge, -edge)]),
)


@given(st.data())
def test_any_fill_is_written_as_torch_stores_it_or_one_named_error_on_every_path(
    data: st.DataObject,
) -> None:
    """``fill`` of any size or value (NaN, inf, beyond the dtype, ints beyond float, values
    that round differently double -> half than double -> float -> half): every path (batched,
    one image, channels-last, bilinear, autograd, the transform) writes ``torch.full``'s value
    bit for bit, or every path raises a ValueError naming ``fill``."""
    dtype = data.draw(st.sampled_from((torch.uint8, *TARGET_DTYPES[4:])))
    fill = data.draw(any_fill)
    image = data.draw(tensor_values((3, 2, 3, 4), dtype))
    calls = {
        "batch": lambda: translate_image(image, [2, 0], fill=fill),
        "one image": lambda: torch.stack(
            [translate_image(one, [2, 0], fill=fill) for one in image]
        ),
        "channels_last": lambda: translate_image(
            with_layout(image, "channels_last"), [2, 0], fill=fill
        ),
        "bilinear": lambda: translate_image(image, [2.0, 0.0], fill=fill, interpolation="bilinear"),
        "transform": lambda: RandomTranslate(shift_px=((2, 2), 0), fill=fill)(image),
    }
    if dtype.is_floating_point:
        grad = image.clone().requires_grad_()
        calls["autograd"] = lambda: translate_image(grad, [2, 0], fill=fill).detach()
    if not _fits(fill, dtype):
        for call in calls.values():
            with pytest.raises(ValueError, match="`fill` must"):
                call()
        return
    expected = _torch_full((*image.shape[:-1], 2), fill, dtype)
    for name, call in calls.items():
        out = call()
        if name == "bilinear":  # computes: equal values, the sign of a zero not promised
            torch.testing.assert_close(out[..., :2], expected, rtol=0, atol=0)
        else:
            assert _same_bits(out[..., :2], expected), (name, out[..., :2], expected)
        moved = out[..., 2:]
        if name == "autograd":  # NaN payloads not promised (conventions page)
            torch.testing.assert_close(moved, image[..., :2], rtol=0, atol=0, equal_nan=True)
        elif name != "bilinear":  # bilinear of inf pixels is covered by the kernel tests
            assert _same_bits(moved, image[..., :2]), name


@given(st.data())
def test_any_mask_fill_is_exact_or_one_named_error(data: st.DataObject) -> None:
    """Mask fills of any size on every mask dtype: int64 labels beyond 2**53 exact, the
    transform's ``mask_fill`` identical to the kernel's ``fill`` or the same error under its
    own name."""
    dtype = data.draw(st.sampled_from((torch.bool, torch.int8, *TARGET_DTYPES)))
    fill = data.draw(any_fill)
    mask = data.draw(tensor_values((2, 3, 4), dtype))
    image = torch.zeros(2, 1, 3, 4)
    if not _fits(fill, dtype):
        with pytest.raises(ValueError, match="`fill` must"):
            translate_mask(mask, [0, 1], fill=fill)
        with pytest.raises(ValueError, match="`mask_fill` must"):
            RandomTranslate(shift_px=((0, 0), (1, 1)), mask_fill=fill)(image, mask=mask)
        return
    expected = _torch_full((2, 1, 4), fill, dtype)
    kernel = translate_mask(mask, [0, 1], fill=fill)
    transform = RandomTranslate(shift_px=((0, 0), (1, 1)), mask_fill=fill)(image, mask=mask)
    for name, out in (("kernel", kernel), ("transform", transform.mask)):
        assert _same_bits(out[:, :1], expected), (name, out[:, :1], expected)
        assert _same_bits(out[:, 1:], mask[:, :2]), name
