"""Fuzzing the placement side of the public API: random shapes (zero objects included), every
dtype, memory layouts, NaN/inf and out-of-range values, wrong types. Each case either raises a
TypeError/ValueError naming the argument, or equals an independent reference (a dense loop over
images and rounds, SciPy, brute-force enumeration); no input is ever modified."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from shiftaug import CopyPaste, RandomRelocate
from shiftaug.functional import (
    blend_images,
    blend_margin,
    dilate_mask,
    label_map_to_masks,
    masks_to_label_map,
    paste_objects,
    translate_image,
    translate_mask,
)
from shiftaug.inpaint import get_inpainter
from shiftaug.params import grid_shifts, sample_positions
from shiftaug.testing import LAYOUTS, images, instance_scenes, with_layout
from tests.placement.dense import (
    Scene,
    antialias,
    composite,
    copy_paste_reference,
    relocation_reference,
)
from tests.placement.helpers import MeanFill


def _layout(scene: Scene, layout: str) -> tuple[Scene, Scene]:
    """The scene in ``layout`` and its contiguous copy (the reference's input)."""
    pictures, masks, valid = scene
    shaped = (with_layout(pictures, layout), with_layout(masks, layout), valid)
    if layout == "expanded":
        shaped = (shaped[0], shaped[1], valid[:1].expand_as(valid))
    plain = (shaped[0].contiguous(), shaped[1].contiguous(), shaped[2].contiguous())
    return shaped, plain


@settings(max_examples=40)
@given(
    instance_scenes(),
    st.sampled_from(LAYOUTS),
    st.sampled_from(["uniform", "non_overlapping", "same", "context", "grid"]),
    st.sampled_from(["hard", "antialias"]),
    st.integers(0, 2),
    st.integers(0, 2**16),
)
def test_relocation_equals_a_dense_reference(scene, layout, policy, blend, margin, seed) -> None:  # type: ignore[no-untyped-def]
    shaped, plain = _layout(scene, layout)
    before = [t.clone() for t in shaped]
    t = RandomRelocate(
        MeanFill(), num_objects="all", policy=policy, blend=blend, hole_margin=margin,
        generator=torch.Generator().manual_seed(seed),
    )  # fmt: skip
    out = t(*shaped)
    assert all(torch.equal(a, b) for a, b in zip(shaped, before, strict=True))
    image, masks, valid = relocation_reference(plain, out.params, blend, margin)
    assert out.image.dtype == image.dtype and torch.equal(out.image, image)
    assert torch.equal(out.masks, masks) and torch.equal(out.valid, valid)


@settings(max_examples=40)
@given(
    instance_scenes(),
    st.sampled_from(LAYOUTS),
    st.sampled_from(["uniform", "non_overlapping", "same", "context"]),
    st.sampled_from(["hard", "antialias"]),
    st.integers(0, 2**16),
)
def test_copy_paste_equals_a_dense_reference(scene, layout, policy, blend, seed) -> None:  # type: ignore[no-untyped-def]
    shaped, plain = _layout(scene, layout)
    before = [t.clone() for t in shaped]
    t = CopyPaste(
        num_objects="all", policy=policy, blend=blend, generator=torch.Generator().manual_seed(seed)
    )
    out = t(*shaped)
    assert all(torch.equal(a, b) for a, b in zip(shaped, before, strict=True))
    image, masks, valid = copy_paste_reference(plain, out.params, blend)
    assert torch.equal(out.image, image)
    assert torch.equal(out.masks, masks) and torch.equal(out.valid, valid)


@settings(max_examples=60)
@given(
    instance_scenes(max_objects=2),
    st.data(),
    st.sampled_from(["hard", "antialias"]),
)
def test_paste_objects_raises_or_equals_a_reference(scene, data, blend) -> None:  # type: ignore[no-untyped-def]
    pictures, masks, _ = scene
    batch, slots = masks.shape[:2]
    rounds = data.draw(st.integers(0, 2))
    index = torch.tensor(
        data.draw(st.lists(st.integers(-1, max(batch * slots, 1)), min_size=batch * rounds,
                           max_size=batch * rounds)), dtype=torch.int64,
    ).view(batch, rounds)  # fmt: skip
    moves = st.one_of(st.integers(-20, 20).map(float), st.floats(allow_nan=True, width=32))
    shift = torch.tensor(
        data.draw(st.lists(moves, min_size=2 * batch * rounds, max_size=2 * batch * rounds)),
        dtype=torch.float32,
    ).view(batch, rounds, 2)
    placed = torch.tensor(
        data.draw(st.lists(st.booleans(), min_size=batch * rounds, max_size=batch * rounds)),
        dtype=torch.bool,
    ).view(batch, rounds)
    before = pictures.clone(), masks.clone()
    try:
        out, pasted = paste_objects(pictures, pictures, masks, index, shift, placed, blend=blend)
    except ValueError as error:
        assert str(error).startswith(("`index` must", "`shift` must"))
        return
    finally:
        assert torch.equal(pictures, before[0]) and torch.equal(masks, before[1])
    for n in range(batch):
        canvas = pictures[n]
        for j in range(rounds):
            b, k = divmod(int(index[n, j]), slots)
            moved = translate_mask(masks[b, k], shift[n, j]) & placed[n, j]
            canvas = composite(canvas, translate_image(pictures[b], shift[n, j]), moved, blend)
            assert torch.equal(pasted[n, j], moved)
        assert torch.equal(out[n], canvas)


@given(st.data(), st.sampled_from([torch.uint8, torch.int16, torch.int32, torch.int64]))
def test_label_maps_round_trip(data, dtype) -> None:  # type: ignore[no-untyped-def]
    n, h, w = (
        data.draw(st.integers(0, 3)),
        data.draw(st.integers(0, 6)),
        data.draw(st.integers(0, 6)),
    )
    ids = data.draw(st.lists(st.integers(0, 5), min_size=n * h * w, max_size=n * h * w))
    label_map = torch.tensor(ids, dtype=dtype).view(n, h, w)
    masks, valid = label_map_to_masks(label_map)
    assert masks.shape[1] == (int(label_map.max()) if label_map.numel() else 0)
    assert torch.equal(masks_to_label_map(masks, valid), label_map.long())
    for k in range(masks.shape[1]):
        assert torch.equal(masks[:, k], label_map == k + 1)
    with pytest.raises(TypeError, match="`label_map` must hold integer instance ids"):
        label_map_to_masks(label_map.float())


@given(
    instance_scenes(max_objects=2, dtypes=(torch.float32,)),
    st.one_of(st.integers(-2, 12), st.floats(0.5, 2), st.none()),
    st.sampled_from(LAYOUTS),
)
def test_dilate_mask_equals_scipy(scene, radius, layout) -> None:  # type: ignore[no-untyped-def]
    masks = with_layout(scene[1], layout)
    if not isinstance(radius, int):
        with pytest.raises(TypeError, match="`radius` must be an int >= 0"):
            dilate_mask(masks, radius)
        return
    if radius < 0:
        with pytest.raises(ValueError, match="`radius` must be an int >= 0"):
            dilate_mask(masks, radius)
        return
    out = dilate_mask(masks, radius)
    structure = np.ones((1, 1, 2 * radius + 1, 2 * radius + 1), dtype=bool)
    expected = scipy.ndimage.binary_dilation(masks.numpy(), structure) if masks.numel() else masks
    assert np.array_equal(out.numpy(), np.asarray(expected))


@given(
    images(max_side=10),
    st.sampled_from(["hard", "antialias", "feather", "laplacian", "poisson"]),
    st.integers(0, 2**16),
    st.sampled_from(LAYOUTS),
)
def test_blending_changes_nothing_beyond_its_margin(image, mode, seed, layout) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(image.shape[0], 1, *image.shape[-2:], generator=g) < 0.3
    front = with_layout(image.flip(0), layout)
    out = blend_images(image, front, mask, mode=mode)
    outside = ~dilate_mask(mask, blend_margin(mode)).expand_as(image)
    assert out.dtype == image.dtype and torch.equal(out[outside], image[outside])
    if mode == "antialias":
        for n in range(image.shape[0]):
            expected = antialias(image[n], front[n].contiguous(), mask[n, 0])
            assert torch.equal(out[n], expected)


@settings(max_examples=50)
@given(
    instance_scenes(max_objects=1, dtypes=(torch.float32,)),
    st.sampled_from(["uniform", "non_overlapping", "region"]),
    st.sampled_from([1.0, 0.5, 0.2]),
    st.integers(0, 3),
    st.integers(0, 2**16),
)
def test_positions_are_valid_and_found_whenever_one_exists(
    scene, policy, min_inside, reach, seed
) -> None:  # type: ignore[no-untyped-def]
    _, masks, _ = scene
    if masks.shape[1] == 0:
        return
    objects = masks[:, 0]
    g = torch.Generator().manual_seed(seed)
    other = torch.rand(objects.shape, generator=g) < 0.3
    options = {"occupied": other} if policy == "non_overlapping" else {}
    if policy == "region":
        options = {"region": ~other}
    shift, found = sample_positions(
        objects, policy=policy, shift_px=reach, min_inside=min_inside, generator=g, **options
    )
    height, width = objects.shape[-2:]
    for m in range(objects.shape[0]):
        area = int(objects[m].sum())
        valid_moves = []
        for dy in range(-reach, reach + 1):
            for dx in range(-reach, reach + 1):
                moved = translate_mask(objects[m], (dx, dy))
                ok = area > 0 and int(moved.sum()) >= min_inside * area - 1e-4
                if policy != "uniform":
                    ok = ok and not bool((moved & other[m]).any())
                valid_moves.append((dx, dy)) if ok else None
        assert bool(found[m]) == bool(valid_moves), (m, valid_moves)
        if found[m]:
            assert tuple(int(v) for v in shift[m]) in valid_moves
        assert height * width > 0


@given(
    st.tuples(st.floats(0, 10), st.floats(0, 10), st.floats(0, 10), st.floats(0, 10)),
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(1, 4),
)
def test_grid_shifts_enumerate_the_lattice(box, height, width, stride) -> None:  # type: ignore[no-untyped-def]
    x0, y0 = min(box[0], box[2]), min(box[1], box[3])
    x1, y1 = max(box[0], box[2]), max(box[1], box[3])
    got = grid_shifts((x0, y0, x1, y1), (height, width), stride)
    expected = [
        (x - x0, y - y0)
        for y in range(0, height + 1, stride)
        for x in range(0, width + 1, stride)
        if y + (y1 - y0) <= height and x + (x1 - x0) <= width
    ]
    assert got.shape == (len(expected), 2)
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float32).view(-1, 2))


@settings(max_examples=40)
@given(
    images(max_side=10),
    st.sampled_from(["harmonic", "pull_push", "mean", "blur", "constant"]),
    st.sampled_from(LAYOUTS),
    st.integers(0, 2**16),
)
def test_torch_fills_keep_everything_outside_the_holes(image, name, layout, seed) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(seed)
    holes = with_layout(torch.rand(image.shape[0], 1, *image.shape[-2:], generator=g) < 0.4, layout)
    shaped = with_layout(image, layout)
    before = shaped.clone(), holes.clone()
    out = get_inpainter(name)(shaped, holes)
    assert torch.equal(shaped, before[0]) and torch.equal(holes, before[1])
    outside = ~holes.expand_as(shaped)
    assert out.dtype == image.dtype and torch.equal(out[outside], shaped[outside])
    assert torch.equal(out, get_inpainter(name)(shaped.contiguous(), holes.contiguous()))


WRONG = [None, "x", 3, [[1, 2]], np.zeros((2, 2))]


@given(st.sampled_from(WRONG))
def test_wrong_types_are_type_errors_naming_the_argument(value) -> None:  # type: ignore[no-untyped-def]
    image = torch.rand(1, 1, 4, 4)
    mask = torch.zeros(1, 1, 4, 4, dtype=torch.bool)
    calls = [
        ("background", lambda: blend_images(value, image, mask)),
        ("mask", lambda: blend_images(image, image, value)),
        ("mask", lambda: dilate_mask(value, 1)),
        ("label_map", lambda: label_map_to_masks(value)),
        ("masks", lambda: masks_to_label_map(value)),
        ("image", lambda: paste_objects(value, image, mask, mask, mask, mask)),
        ("masks", lambda: sample_positions(value)),
        ("images", lambda: get_inpainter("harmonic")(value, mask)),
        ("image", lambda: RandomRelocate(MeanFill())(value, mask)),
        ("masks", lambda: CopyPaste()(image, value)),
    ]
    for name, call in calls:
        with pytest.raises(TypeError, match=f"`{name}` must be"):
            call()
