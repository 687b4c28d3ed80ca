"""Every placement-side function of the public API: a wrong type is a TypeError, a wrong value a
ValueError, each naming the argument the caller passed; the inputs are left untouched."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from shiftaug import CopyPaste, RandomRelocate, set_validate_args
from shiftaug.functional import (
    blend_images,
    blend_margin,
    dilate_mask,
    label_map_to_masks,
    masks_to_label_map,
    occlude_masks,
    paste_objects,
    scale_points,
    top_round,
)
from shiftaug.inpaint import harmonic_fill, pull_push_fill
from shiftaug.params import grid_shifts, sample_positions

from .helpers import MeanFill, rect_scene

IMAGES, MASKS = rect_scene(batch=2)
ONE = torch.ones(2, 1, dtype=torch.bool)
INDEX, SHIFT = torch.tensor([[0], [3]]), torch.tensor([[[2.0, 1.0]], [[-1.0, 0.0]]])


def _paste(**changes: object) -> Callable[[], object]:
    args: dict[str, object] = {
        "image": IMAGES, "source": IMAGES, "source_masks": MASKS, "index": INDEX,
        "shift": SHIFT, "placed": ONE,
    }  # fmt: skip
    args.update(changes)
    return lambda: paste_objects(**args)  # type: ignore[arg-type]


NAN = float("nan")
CASES: list[tuple[str, Callable[[], object], type, str]] = [
    ("paste: index too large", _paste(index=torch.tensor([[0], [6]])), ValueError,
     r"`index` must hold flat object indices in \[0, 6\)"),
    ("paste: index negative", _paste(index=torch.tensor([[-1], [0]])), ValueError,
     r"`index` must hold flat object indices"),
    ("paste: index float", _paste(index=INDEX.float()), TypeError, r"`index` must have dtype"),
    ("paste: NaN shift", _paste(shift=torch.full((2, 1, 2), NAN)), ValueError,
     r"`shift` must be finite"),
    ("paste: fractional shift", _paste(shift=SHIFT + 0.5), ValueError,
     r"`shift` must hold whole-pixel moves, but got \[2.5"),
    ("paste: huge shift", _paste(shift=SHIFT * 1e9), ValueError, r"at most 16777216 pixels"),
    ("paste: bool shift", _paste(shift=SHIFT > 0), TypeError, r"`shift` must be a real tensor"),
    ("paste: zero scale", _paste(scale=torch.zeros(2, 1)), ValueError,
     r"`scale` must hold finite factors > 0, but got \[0.0"),
    ("paste: inf scale", _paste(scale=torch.full((2, 1), float("inf"))), ValueError,
     r"`scale` must hold finite factors > 0"),
    ("paste: int scale", _paste(scale=torch.ones(2, 1, dtype=torch.long)), TypeError,
     r"`scale` must be a float tensor"),
    ("paste: placed shape", _paste(placed=ONE[:1]), ValueError, r"`placed` must have shape"),
    ("paste: masks dtype", _paste(source_masks=MASKS.int()), TypeError,
     r"`source_masks` must be a bool tensor"),
    ("paste: blend", _paste(blend="alpha"), ValueError, r"`blend` must be one of"),
    ("paste: iterations", _paste(iterations=0), ValueError, r"`iterations` must be an int >= 1"),
    ("blend: sigma type", lambda: blend_margin("feather", sigma="1"), TypeError,
     r"`sigma` must be a finite number in \(0, 64\)"),
    ("blend: sigma NaN", lambda: blend_margin("feather", sigma=NAN), ValueError, r"`sigma`"),
    ("blend: levels", lambda: blend_margin("laplacian", levels=9), ValueError,
     r"`levels` must be an int in \[1, 8\], but got 9"),
    ("blend: levels type", lambda: blend_margin("laplacian", levels=2.0), TypeError, r"`levels`"),
    ("blend: mode", lambda: blend_margin("soft"), ValueError, r"`mode` must be one of"),
    ("blend: decay", lambda: blend_images(IMAGES, IMAGES, MASKS[:, :1], decay=0.0), ValueError,
     r"`decay` must be a finite number > 0"),
    ("blend: mask shape", lambda: blend_images(IMAGES, IMAGES, MASKS), ValueError,
     r"`mask` must have shape \(2, 1, 24, 28\)"),
    ("blend: foreground dtype", lambda: blend_images(IMAGES, IMAGES.double(), MASKS[:, :1]),
     ValueError, r"`foreground` must match `background`"),
    ("dilate: radius", lambda: dilate_mask(MASKS, -1), ValueError,
     r"`radius` must be an int >= 0, but got -1"),
    ("dilate: radius type", lambda: dilate_mask(MASKS, 1.5), TypeError, r"`radius` must be an int"),
    ("dilate: mask dtype", lambda: dilate_mask(MASKS.float(), 1), TypeError, r"`mask` must have"),
    ("dilate: mask rank", lambda: dilate_mask(MASKS[0], 1), ValueError, r"`mask` must have shape"),
    ("label map: float", lambda: label_map_to_masks(torch.zeros(1, 2, 2)), TypeError,
     r"`label_map` must hold integer instance ids"),
    ("label map: bool", lambda: label_map_to_masks(torch.zeros(1, 2, 2, dtype=torch.bool)),
     TypeError, r"`label_map` must hold integer"),
    ("label map: negative", lambda: label_map_to_masks(-torch.ones(1, 2, 2, dtype=torch.long)),
     ValueError, r"`label_map` must hold ids >= 0"),
    ("label map: count", lambda: label_map_to_masks(torch.ones(1, 2, 2, dtype=torch.long), -1),
     ValueError, r"`num_instances` must be an int >= 0, but got -1"),
    ("label map: count type", lambda: label_map_to_masks(torch.ones(1, 1, 1).long(), 1.0),
     TypeError, r"`num_instances` must be an int"),
    ("label map: ids above count", lambda: label_map_to_masks(torch.full((1, 1, 1), 3), 2),
     ValueError, r"`label_map` must hold ids <= num_instances=2, but got 3"),
    ("to label map: dtype", lambda: masks_to_label_map(MASKS.long()), TypeError,
     r"`masks` must have dtype in \(bool\)"),
    ("to label map: valid", lambda: masks_to_label_map(MASKS, ONE), ValueError,
     r"`valid` must have shape \(2, 3\)"),
    ("occlude: depth dtype", lambda: occlude_masks(MASKS.clone(), ONE.expand(2, 3),
     torch.zeros(2, 3), torch.zeros(2, 24, 28, dtype=torch.int16)), TypeError,
     r"`depth` must have dtype"),
    ("occlude: top shape", lambda: occlude_masks(MASKS.clone(), ONE.expand(2, 3),
     torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 24, 27, dtype=torch.int16)),
     ValueError, r"`top` must have shape \(2, 24, 28\)"),
    ("occlude: visibility", lambda: occlude_masks(MASKS.clone(), ONE.expand(2, 3),
     torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 24, 28, dtype=torch.int16),
     min_visibility=1.5), ValueError, r"`min_visibility` must be a finite number in \[0, 1\]"),
    ("occlude: area", lambda: occlude_masks(MASKS.clone(), ONE.expand(2, 3),
     torch.zeros(2, 3, dtype=torch.long), torch.zeros(2, 24, 28, dtype=torch.int16),
     min_area=NAN), ValueError, r"`min_area` must be a finite number >= 0"),
    ("top round: dtype", lambda: top_round(MASKS.int()), TypeError, r"`pasted` must have dtype"),
    ("scale points: shape", lambda: scale_points(torch.zeros(3, 3), torch.zeros(2),
     torch.tensor(1.0), torch.zeros(2)), ValueError, r"`points` must be float \(\.\.\., P, 2\)"),
    ("grid: stride 0", lambda: grid_shifts((0, 0, 2, 2), (8, 8), 0), ValueError,
     r"`stride` must be an int >= 1, but got 0"),
    ("grid: stride type", lambda: grid_shifts((0, 0, 2, 2), (8, 8), 2.0), TypeError, r"`stride`"),
    ("grid: size", lambda: grid_shifts((0, 0, 2, 2), (8, 0), 2), ValueError,
     r"`image_size\[1\]` must be an int >= 1"),
    ("grid: size type", lambda: grid_shifts((0, 0, 2, 2), 8, 2), TypeError,
     r"`image_size` must be a pair"),
    ("grid: box", lambda: grid_shifts((3, 0, 2, 2), (8, 8), 2), ValueError,
     r"`box` must be a finite xyxy box with x0 <= x1"),
    ("grid: box NaN", lambda: grid_shifts((NAN, 0, 2, 2), (8, 8), 2), ValueError,
     r"`box\[0\]` must be a finite number"),
    ("grid: box type", lambda: grid_shifts("box", (8, 8), 2), TypeError, r"`box` must be an xyxy"),
    ("positions: min_inside", lambda: sample_positions(MASKS[0], min_inside=0), ValueError,
     r"`min_inside` must be a finite number in \(0, 1\]"),
    ("positions: min_inside type", lambda: sample_positions(MASKS[0], min_inside="1"),
     TypeError, r"`min_inside`"),
    ("positions: stride", lambda: sample_positions(MASKS[0], policy="grid", stride=0),
     ValueError, r"`stride` must be an int >= 1"),
    ("positions: density NaN", lambda: sample_positions(MASKS[0], policy="density",
     density=torch.full((3, 24, 28), NAN)), ValueError, r"`density` must hold finite values"),
    ("positions: density int", lambda: sample_positions(MASKS[0], policy="density",
     density=torch.ones(3, 24, 28, dtype=torch.long)), TypeError, r"`density` must be a float"),
    ("positions: grid_index", lambda: sample_positions(MASKS[0], policy="grid",
     grid_index=torch.zeros(3)), TypeError, r"`grid_index` must hold integers"),
    ("positions: context images", lambda: sample_positions(MASKS[0], policy="context"),
     ValueError, r"`images` must be given for policy='context'"),
    ("positions: context width", lambda: sample_positions(MASKS[0], policy="context",
     images=IMAGES[:1].expand(3, -1, -1, -1), context_width=0), ValueError,
     r"`context_width` must be an int >= 1"),
    ("positions: context sigma", lambda: sample_positions(MASKS[0], policy="context",
     images=IMAGES[:1].expand(3, -1, -1, -1), context_sigma=NAN), ValueError,
     r"`context_sigma` must be a finite number > 0"),
    ("positions: context shape", lambda: sample_positions(MASKS[0], policy="context",
     images=IMAGES), ValueError, r"`images` must have shape \(3, C, 24, 28\)"),
    ("pull push: int images", lambda: pull_push_fill(IMAGES.long(), MASKS[:, :1]), TypeError,
     r"`images` must be a float tensor"),
    ("harmonic: holes", lambda: harmonic_fill(IMAGES, MASKS[:, :1].float()), TypeError,
     r"`holes` must be a bool tensor"),
    ("harmonic: cycles", lambda: harmonic_fill(IMAGES, MASKS[:, :1], cycles=-1), ValueError,
     r"`cycles` must be an int >= 0"),
    ("relocate: options", lambda: RandomRelocate(MeanFill(), inpainter_options=[1]), TypeError,
     r"`inpainter_options` must be a dict or None"),
    ("relocate: name", lambda: RandomRelocate("nope"), ValueError,
     r"`inpainter` must be one of \("),
    ("relocate: hole margin", lambda: RandomRelocate(MeanFill(), hole_margin=1.5), TypeError,
     r"`hole_margin` must be an int >= 0"),
    ("relocate: fill context", lambda: RandomRelocate(MeanFill(), fill_context=0), ValueError,
     r"`fill_context` must be an int >= 1, but got 0"),
    ("relocate: keypoints", lambda: RandomRelocate(MeanFill())(IMAGES, MASKS,
     keypoints=torch.zeros(2, 3, 1, 2, dtype=torch.long)), TypeError,
     r"`keypoints` must be a float tensor"),
    ("copy-paste: scale range", lambda: CopyPaste(scale_range=(0.0, 1.0)), ValueError,
     r"`scale_range\[0\]` must be a finite number > 0"),
    ("copy-paste: scale order", lambda: CopyPaste(scale_range=(2.0, 1.0)), ValueError,
     r"`scale_range` must be \(low, high\) with 0 < low <= high"),
    ("copy-paste: scale type", lambda: CopyPaste(scale_range=1.5), TypeError,
     r"`scale_range` must be None or \(low, high\)"),
    ("copy-paste: count type", lambda: CopyPaste(num_objects=1.5), TypeError,
     r"`num_objects` must be an int >= 1"),
    ("copy-paste: visibility type", lambda: CopyPaste(min_visibility="0.5"), TypeError,
     r"`min_visibility` must be a finite number in \[0, 1\]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "error", "match"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_arguments_raise_and_leave_inputs_untouched(
    call: Callable[[], object], error: type, match: str
) -> None:
    before = IMAGES.clone(), MASKS.clone()
    with pytest.raises(error, match=match):
        call()
    assert torch.equal(IMAGES, before[0]) and torch.equal(MASKS, before[1])


def test_value_checks_can_be_turned_off_but_types_are_always_checked() -> None:
    set_validate_args(False)
    try:
        paste_objects(IMAGES, IMAGES, MASKS, INDEX, SHIFT + 0.5, ONE)  # rounded, not checked
        with pytest.raises(TypeError, match=r"`index` must have dtype"):
            _paste(index=INDEX.float())()
    finally:
        set_validate_args(True)


@pytest.mark.cuda
def test_device_mismatches_name_the_argument() -> None:
    cuda = IMAGES.cuda()
    with pytest.raises(ValueError, match=r"`source` must be on the same device as `image`"):
        paste_objects(
            cuda, IMAGES.cuda().cpu(), MASKS.cuda(), INDEX.cuda(), SHIFT.cuda(), ONE.cuda()
        )
    with pytest.raises(ValueError, match=r"`mask` must be on the same device as `background`"):
        blend_images(cuda, cuda, MASKS[:, :1])
    with pytest.raises(ValueError, match=r"`masks` must be on the same device as `image`"):
        RandomRelocate(MeanFill())(cuda, MASKS)
    with pytest.raises(ValueError, match=r"`valid` must be on the same device as `masks`"):
        masks_to_label_map(MASKS.cuda(), torch.ones(2, 3, dtype=torch.bool))
