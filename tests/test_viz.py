"""The gallery panels (``shiftaug._viz``): what is drawn must be what the kernels produce."""

from __future__ import annotations

import pytest
import torch

from shiftaug._viz import PADDING_ROW, batch_panels, load_scene, padding_panels, subpixel_panels
from shiftaug.functional import masks_to_boxes
from tests.references import shift_reference

pytest.importorskip("skimage")


@pytest.fixture(scope="module")
def scene():
    return load_scene(48)


def test_scene_box_is_the_tight_box_of_its_mask(scene) -> None:
    assert scene.image.shape == (3, 48, 48) and 0 <= scene.image.min() <= scene.image.max() <= 1
    rows, cols = scene.mask.nonzero().unbind(1)
    expected = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
    assert scene.box[0].tolist() == [float(v) for v in expected]


def test_padding_panels_match_the_numpy_reference_and_keep_box_on_mask(scene) -> None:
    panels = padding_panels(scene)
    assert [p.title.split()[0] for p in panels] == ["original"] + [m for m, _ in PADDING_ROW]
    dx, dy = round(0.3 * 48), round(0.15 * 48)
    for panel, (mode, options) in zip(panels[1:], PADDING_ROW, strict=True):
        fill = options.get("fill", (0.0,))
        expected = torch.stack(
            [shift_reference(c[None], dx, dy, mode, fill=f)[0]
             for c, f in zip(scene.image, fill * 3, strict=False)]
        )  # fmt: skip
        torch.testing.assert_close(panel.image, expected, rtol=0, atol=0)
        if mode in ("zeros", "constant", "replicate"):  # no mirrored copy of the object
            assert panel.box is not None and panel.mask is not None
            assert panel.box.tolist() == masks_to_boxes(panel.mask[None])[0][0].tolist()


def test_batch_panels_shift_each_sample_by_its_own_shift(scene) -> None:
    panels = batch_panels(scene, count=5, seed=3)
    shifts = set()
    for panel in panels:
        dx, dy = (int(v) for v in panel.title.split("=")[1].strip(" ()").split(","))
        shifts.add((dx, dy))
        torch.testing.assert_close(
            panel.image, shift_reference(scene.image, dx, dy, "zeros"), rtol=0, atol=0
        )
        tight, present = masks_to_boxes(panel.mask[None])
        assert panel.box_visible or not bool(present[0])  # a visible object has a visible box
        if int(panel.mask.sum()) == int(scene.mask.sum()):  # the whole object is still inside
            assert panel.box.tolist() == tight[0].tolist()
        elif panel.box_visible:  # cut off: the shifted, clipped box still contains the mask
            assert (tight[0, :2] >= panel.box[:2]).all() and (tight[0, 2:] <= panel.box[2:]).all()
    assert len(shifts) > 1
    assert [p.title for p in batch_panels(scene, count=5, seed=3)] == [p.title for p in panels]


def test_subpixel_panels_round_for_nearest_and_blend_for_bilinear(scene) -> None:
    original, near_low, near_high, *bilinear = subpixel_panels(scene)
    assert torch.equal(near_low.image, original.image)  # dx = 0.4 rounds to 0
    assert torch.equal(bilinear[-1].image, near_high.image)  # bilinear dx = 1 == nearest 1
    half = bilinear[1].image  # dx = 0.5: the mean of the two whole-pixel neighbours
    torch.testing.assert_close(half[:, :, 1:], (original.image + near_high.image)[:, :, 1:] / 2)
