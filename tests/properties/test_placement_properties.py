"""Hypothesis properties of relocation and copy-paste with hard blending."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from shiftaug import CopyPaste, PlacementParams, RandomRelocate
from shiftaug.functional import translate_boxes, translate_image, translate_mask
from tests.placement.helpers import MeanFill


@st.composite
def scenes(draw):  # type: ignore[no-untyped-def]
    """One image with one or two rectangular objects, and a move for the first one."""
    height, width = draw(st.integers(4, 14)), draw(st.integers(4, 14))
    masks = []
    for _ in range(draw(st.integers(1, 2))):
        top, left = draw(st.integers(0, height - 1)), draw(st.integers(0, width - 1))
        h, w = draw(st.integers(1, height - top)), draw(st.integers(1, width - left))
        mask = torch.zeros(height, width, dtype=torch.bool)
        mask[top : top + h, left : left + w] = True
        masks.append(mask)
    seed = draw(st.integers(0, 2**16))
    image = torch.rand(1, 2, height, width, generator=torch.Generator().manual_seed(seed))
    dx, dy = draw(st.integers(-width, width)), draw(st.integers(-height, height))
    return image, torch.stack(masks)[None], (dx, dy)


def _params(
    index: int, shift: tuple[int, int], slots: int, size: tuple[int, int]
) -> PlacementParams:
    one = torch.ones(1, 1, dtype=torch.bool)
    return PlacementParams(
        index=torch.tensor([[index]]), shift=torch.tensor([[shift]], dtype=torch.float32),
        scale=torch.ones(1, 1), requested=one, placed=one, image_size=size, slots=slots,
    )  # fmt: skip


@given(scenes())
def test_relocation_moves_exactly_and_touches_nothing_else(scene) -> None:  # type: ignore[no-untyped-def]
    image, masks, shift = scene
    size = tuple(image.shape[-2:])
    t = RandomRelocate(MeanFill(), blend="hard", hole_margin=0)
    out = t(image, masks, params=_params(0, shift, masks.shape[1], size))
    moved = translate_mask(masks[0, 0], shift)
    assert torch.equal(out.image[0][:, moved], translate_image(image[0], shift)[:, moved])
    untouched = ~(masks[0, 0] | moved)
    assert torch.equal(out.image[0][:, untouched], image[0][:, untouched])
    if bool(moved.any()):
        rows, cols = torch.nonzero(masks[0, 0], as_tuple=True)
        original = torch.tensor([[cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]]).float()
        box, _ = translate_boxes(original, shift, canvas_size=size)
        assert torch.equal(out.boxes[0, 0], box[0]) and bool(out.valid[0, 0])
    else:
        assert not bool(out.valid[0, 0])  # left the frame: reported, not silently kept


@given(scenes(), st.integers(0, 2**16))
def test_copy_paste_changes_only_pasted_pixels(scene, seed) -> None:  # type: ignore[no-untyped-def]
    image, masks, _shift = scene
    other = torch.rand(image.shape, generator=torch.Generator().manual_seed(seed))
    images, all_masks = torch.cat([image, other]), torch.cat([masks, masks.flip(-1)])
    generator = torch.Generator().manual_seed(seed)
    t = CopyPaste(
        num_objects="all", policy="uniform", min_inside=0.01, blend="hard", generator=generator
    )
    out = t(images, all_masks)
    for n in range(2):
        covered = torch.zeros_like(all_masks[0, 0])
        for j in range(out.params.index.shape[1]):
            if out.params.placed[n, j]:
                b, k = divmod(int(out.params.index[n, j]), masks.shape[1])
                covered |= translate_mask(all_masks[b, k], out.params.shift[n, j])
        assert torch.equal(out.image[n][:, ~covered], images[n][:, ~covered])
        # Objects fully covered by pastes are dropped (reported through `valid`), never kept empty.
        assert bool((out.masks[n].flatten(1).any(-1) == out.valid[n]).all())
