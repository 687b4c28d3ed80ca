"""Hypothesis properties of the translation kernels (STYLE.md's list)."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from shiftaug.functional import (
    masks_to_boxes,
    translate_boxes,
    translate_image,
    translate_keypoints,
    translate_mask,
)
from shiftaug.testing import images, integer_shifts, padding_modes, shifts
from tests.checkers import assert_same_bits
from tests.references import shift_reference, slice_shift


@st.composite
def image_and_shift(draw: st.DrawFn, max_shift: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    image = draw(images())
    return image, draw(integer_shifts(image.shape[0], max_shift))


@given(images(), padding_modes, st.sampled_from(["nearest", "bilinear"]))
def test_zero_shift_is_identity(image: torch.Tensor, mode: str, interpolation: str) -> None:
    zero = torch.zeros(image.shape[0], 2)
    fill = 1.0 if mode == "constant" else 0.0
    out = translate_image(image, zero, padding_mode=mode, fill=fill, interpolation=interpolation)
    assert_same_bits(out, image)


@given(image_and_shift(max_shift=40))
def test_circular_equals_roll_and_inverts(data: tuple[torch.Tensor, torch.Tensor]) -> None:
    image, shift = data
    out = translate_image(image, shift, padding_mode="circular")
    for n in range(image.shape[0]):
        dx, dy = shift[n].tolist()
        assert_same_bits(out[n], torch.roll(image[n], (dy, dx), dims=(-2, -1)))
    assert_same_bits(translate_image(out, -shift, padding_mode="circular"), image)


@given(image_and_shift(), integer_shifts(1))
def test_circular_shifts_compose_additively(
    data: tuple[torch.Tensor, torch.Tensor], other: torch.Tensor
) -> None:
    image, shift = data
    second = other.expand_as(shift)
    twice = translate_image(
        translate_image(image, shift, padding_mode="circular"), second, padding_mode="circular"
    )
    assert_same_bits(twice, translate_image(image, shift + second, padding_mode="circular"))


@given(image_and_shift())
def test_integer_shift_equals_slicing(data: tuple[torch.Tensor, torch.Tensor]) -> None:
    image, shift = data
    out = translate_image(image, shift)
    for n in range(image.shape[0]):
        dx, dy = shift[n].tolist()
        assert_same_bits(out[n], slice_shift(image[n], dx, dy))


@given(image_and_shift(), padding_modes)
def test_every_padding_mode_matches_numpy(
    data: tuple[torch.Tensor, torch.Tensor], mode: str
) -> None:
    image, shift = data
    fill = 1.0 if mode == "constant" else 0.0
    out = translate_image(image, shift, padding_mode=mode, fill=fill)
    for n in range(image.shape[0]):
        dx, dy = shift[n].tolist()
        assert_same_bits(out[n], shift_reference(image[n], dx, dy, mode, fill))


@given(images(dtypes=(torch.float32, torch.float64, torch.uint8)), padding_modes)
def test_bilinear_equals_nearest_on_whole_pixels(image: torch.Tensor, mode: str) -> None:
    shift = torch.arange(image.shape[0] * 2, dtype=torch.float32).view(-1, 2) - 2
    fill = 1.0 if mode == "constant" else 0.0
    nearest = translate_image(image, shift, padding_mode=mode, fill=fill)
    bilinear = translate_image(image, shift, padding_mode=mode, fill=fill, interpolation="bilinear")
    assert torch.equal(nearest, bilinear)


@given(st.data())
def test_bilinear_is_a_convex_combination(data: st.DataObject) -> None:
    image = data.draw(images(dtypes=(torch.float64,)))
    shift = data.draw(shifts(image.shape[0]))
    out = translate_image(image, shift, padding_mode="replicate", interpolation="bilinear")
    assert out.min() >= image.min() - 1e-9 and out.max() <= image.max() + 1e-9


@given(st.data())
def test_pixel_under_keypoint_follows_it(data: st.DataObject) -> None:
    image = data.draw(images(dtypes=(torch.float32,)))
    n, _, h, w = image.shape
    shift = data.draw(integer_shifts(n, 10))
    xs = data.draw(st.lists(st.floats(0, w, exclude_max=True), min_size=n, max_size=n))
    ys = data.draw(st.lists(st.floats(0, h, exclude_max=True), min_size=n, max_size=n))
    keypoints = torch.tensor([xs, ys], dtype=torch.float64).T.reshape(n, 1, 2)
    moved, visible = translate_keypoints(keypoints, shift, canvas_size=(h, w))
    out = translate_image(image, shift)
    for i in range(n):
        if visible[i, 0]:
            x, y = keypoints[i, 0].floor().long().tolist()
            nx, ny = moved[i, 0].floor().long().tolist()
            assert torch.equal(out[i, :, ny, nx], image[i, :, y, x])


@given(st.data())
def test_box_of_shifted_mask_is_shifted_clipped_box(data: st.DataObject) -> None:
    h, w = data.draw(st.integers(1, 12)), data.draw(st.integers(1, 12))
    r0, c0 = data.draw(st.integers(0, h - 1)), data.draw(st.integers(0, w - 1))
    r1, c1 = data.draw(st.integers(r0, h - 1)), data.draw(st.integers(c0, w - 1))
    mask = torch.zeros(1, h, w, dtype=torch.bool)
    mask[0, r0 : r1 + 1, c0 : c1 + 1] = True  # a mask that fills its box
    shift = data.draw(integer_shifts(1, 14))
    box, present = masks_to_boxes(translate_mask(mask, shift))
    moved, visible = translate_boxes(masks_to_boxes(mask)[0][:, None], shift, canvas_size=(h, w))
    assert bool(present[0]) == bool(visible[0, 0])
    if present[0]:
        assert torch.equal(box[0], moved[0, 0])
