"""CopyPaste against a per-image NumPy version of Simple Copy-Paste, occlusion, scale, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shiftaug import CopyPaste, PlacementParams

from .helpers import object_keypoints, rect_scene


def _shift_plane(plane: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Zero-filled whole-pixel shift of ``(..., H, W)`` by slicing."""
    out = np.zeros_like(plane)
    height, width = plane.shape[-2:]
    out[..., max(dy, 0) : height + min(dy, 0), max(dx, 0) : width + min(dx, 0)] = plane[
        ..., max(-dy, 0) : height - max(dy, 0), max(-dx, 0) : width - max(dx, 0)
    ]
    return out


def numpy_copy_paste(images, masks, valid, params, min_visibility, min_area):  # type: ignore[no-untyped-def]
    """Ghiasi et al.'s algorithm, one image at a time: paste, then subtract the pasted masks."""
    images, masks, valid = images.numpy(), masks.numpy(), valid.numpy()
    slots = masks.shape[1]
    out_images, out_masks, out_valid = [], [], []
    for n in range(images.shape[0]):
        canvas = images[n].copy()
        objects = [masks[n, k].copy() for k in range(slots)]
        alive = [bool(valid[n, k]) for k in range(slots)]
        pasted_areas = []
        for j in range(params.index.shape[1]):
            b, k = divmod(int(params.index[n, j]), slots)
            dx, dy = (int(v) for v in params.shift[n, j])
            if not params.placed[n, j]:
                objects.append(np.zeros_like(masks[n, 0]))
                alive.append(False)
                pasted_areas.append(0)
                continue
            mask = _shift_plane(masks[b, k], dx, dy)
            pasted_areas.append(int(masks[b, k].sum()))  # its whole area: the frame may cut it
            canvas[:, mask] = _shift_plane(images[b], dx, dy)[:, mask]
            objects = [o & ~mask for o in objects]
            objects.append(mask)
            alive.append(True)
        # Areas before anything was pasted over them or the frame cut them.
        areas_before = [int(masks[n, k].sum()) for k in range(slots)] + pasted_areas
        for i, o in enumerate(objects):
            area = int(o.sum())
            occluded = area < areas_before[i]  # only objects that lost pixels are measured
            keep = alive[i] and (
                not occluded
                or (area > 0 and area >= min_area and area >= min_visibility * areas_before[i])
            )
            alive[i] = keep
            if not keep:
                objects[i] = np.zeros_like(o)
        out_images.append(canvas)
        out_masks.append(np.stack(objects))
        out_valid.append(alive)
    return np.stack(out_images), np.stack(out_masks), np.array(out_valid)


@pytest.mark.parametrize(
    ("policy", "dtype"),
    [
        ("same", torch.float32),
        ("same", torch.uint8),
        ("uniform", torch.float32),
        ("non_overlapping", torch.float64),
    ],
)
def test_matches_a_per_image_numpy_copy_paste(policy: str, dtype: torch.dtype) -> None:
    images, masks = rect_scene(batch=5, seed=2, dtype=dtype)
    t = CopyPaste(
        num_objects=(1, 3),
        policy=policy,
        blend="hard",
        min_visibility=0.3,
        min_area=2,
        generator=torch.Generator().manual_seed(0),
    )
    before = images.clone(), masks.clone()
    out = t(images, masks)
    assert torch.equal(images, before[0]) and torch.equal(masks, before[1])
    valid = torch.ones(5, 3, dtype=torch.bool)
    image, mask, keep = numpy_copy_paste(images, masks, valid, out.params, 0.3, 2)
    np.testing.assert_array_equal(out.image.numpy(), image)
    np.testing.assert_array_equal(out.masks.numpy(), mask)
    np.testing.assert_array_equal(out.valid.numpy(), keep)
    assert bool(out.params.placed.any())
    partner = out.params.index // 3
    assert not bool((partner == torch.arange(5).view(5, 1))[out.params.requested].any())


def test_labels_keypoints_and_boxes_follow_the_pasted_objects() -> None:
    images, masks = rect_scene(batch=4)
    labels = torch.tensor([[1, 2, 3]]).expand(4, 3) + 10 * torch.arange(4).view(4, 1)
    keypoints = object_keypoints(masks)
    t = CopyPaste(num_objects=2, policy="uniform", generator=torch.Generator().manual_seed(1))
    out = t(images, masks, labels=labels, keypoints=keypoints)
    assert out.labels.shape == (4, 5) and out.keypoints.shape == (4, 5, 2, 2)
    for n in range(4):
        for j in range(2):
            if not out.params.placed[n, j]:
                assert out.labels[n, 3 + j] == -1 and not out.valid[n, 3 + j]
                continue
            b, k = divmod(int(out.params.index[n, j]), 3)
            assert out.labels[n, 3 + j] == labels[b, k]
            shift = out.params.shift[n, j]
            assert torch.equal(out.keypoints[n, 3 + j], keypoints[b, k] + shift)
            if out.valid[n, 3 + j]:
                rows, cols = torch.nonzero(out.masks[n, 3 + j], as_tuple=True)
                box = [cols.min(), rows.min(), cols.max() + 1, rows.max() + 1]
                assert out.boxes[n, 3 + j].tolist() == [float(v) for v in box]


def test_fully_covered_objects_are_dropped_and_their_keypoints_hidden() -> None:
    images, masks = rect_scene(batch=2)
    keypoints = object_keypoints(masks)
    # Image 0 receives image 1's object 0 at the same place: it covers image 0's object 0.
    index = torch.tensor([[3], [0]])
    placed = torch.tensor([[True], [False]])
    params = PlacementParams(
        index=index, shift=torch.zeros(2, 1, 2), scale=torch.ones(2, 1), requested=placed,
        placed=placed, image_size=(24, 28), slots=3,
    )  # fmt: skip
    out = CopyPaste()(images, masks, keypoints=keypoints, params=params)
    assert out.valid.tolist() == [[False, True, True, True], [True, True, True, False]]
    assert not bool(out.keypoints_visible[0, 0].any()) and bool(out.keypoints_visible[0, 3].all())
    assert torch.equal(out.image[1], images[1])


def test_scale_jitter_keeps_masks_boxes_and_keypoints_consistent() -> None:
    images, masks = rect_scene(batch=4, size=(40, 40), rects=((4, 4, 8, 8), (20, 22, 10, 6)))
    keypoints = object_keypoints(masks)
    t = CopyPaste(num_objects=2, scale_range=(0.5, 2.0), generator=torch.Generator().manual_seed(2))
    out = t(images, masks, keypoints=keypoints)
    assert bool((out.params.scale != 1).any())
    for n in range(4):
        for j in range(2):
            if not out.valid[n, 2 + j]:
                continue
            b, k = divmod(int(out.params.index[n, j]), 2)
            scale = float(out.params.scale[n, j])
            rows, cols = torch.nonzero(out.masks[n, 2 + j], as_tuple=True)
            height = int(rows.max() - rows.min() + 1)
            source = int(torch.nonzero(masks[b, k].any(-1)).numel())
            assert abs(height - scale * source) <= 2  # nearest resampling: within a pixel each side
            assert out.boxes[n, 2 + j].tolist() == [
                float(cols.min()),
                float(rows.min()),
                float(cols.max() + 1),
                float(rows.max() + 1),
            ]
            visible = out.keypoints_visible[n, 2 + j]
            inside = out.keypoints[n, 2 + j][visible].long()
            assert bool(out.masks[n, 2 + j][inside[:, 1], inside[:, 0]].all())


def test_a_batch_of_one_pastes_nothing() -> None:
    images, masks = rect_scene(batch=1)
    out = CopyPaste(generator=torch.Generator().manual_seed(0))(images, masks)
    assert not bool(out.params.placed.any()) and torch.equal(out.image, images)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"scale_range": (0, 1)}, "scale_range"),
        ({"scale_range": (2, 1)}, "scale_range"),
        ({"num_objects": (3, 1)}, "num_objects"),
        ({"min_area": -1}, "min_area"),
        ({"policy": "density"}, "density"),
        ({"blend": "poisson", "iterations": 0}, "iterations"),
    ],
)
def test_bad_options_raise(options: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CopyPaste(**options)  # type: ignore[arg-type]


def test_bad_targets_raise() -> None:
    images, masks = rect_scene()
    with pytest.raises(ValueError, match="`labels` must have shape"):
        CopyPaste()(images, masks, labels=torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="integer class ids"):
        CopyPaste()(images, masks, labels=torch.zeros(3, 3))
    with pytest.raises(ValueError, match="one set per object"):
        CopyPaste()(images, masks, keypoints=torch.zeros(3, 2, 1, 2))
    with pytest.raises(ValueError, match="`valid` must have shape"):
        CopyPaste()(images, masks, valid=torch.ones(3, 2, dtype=torch.bool))


def test_seeded_runs_reproduce() -> None:
    images, masks = rect_scene(batch=4)
    runs = [
        CopyPaste(policy="uniform", generator=torch.Generator().manual_seed(7))(images, masks)
        for _ in range(2)
    ]
    assert torch.equal(runs[0].image, runs[1].image) and torch.equal(runs[0].masks, runs[1].masks)


@pytest.mark.cuda
def test_cuda_matches_cpu() -> None:
    images, masks = rect_scene(batch=4)
    cpu = CopyPaste(
        num_objects=2, scale_range=(0.5, 1.5), generator=torch.Generator().manual_seed(0)
    )(images, masks)
    gpu = CopyPaste(scale_range=(0.5, 1.5))(
        images.cuda(), masks.cuda(), params=cpu.params.to("cuda")
    )
    assert torch.equal(gpu.masks.cpu(), cpu.masks) and torch.equal(gpu.valid.cpu(), cpu.valid)
    torch.testing.assert_close(gpu.image.cpu(), cpu.image)
