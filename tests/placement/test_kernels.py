"""Blending and paste kernels against SciPy / NumPy references."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage
import scipy.sparse
import scipy.sparse.linalg
import torch

from shiftaug.functional import (
    blend_images,
    blend_margin,
    label_map_to_masks,
    masks_to_label_map,
    paste_objects,
    translate_image,
)

from .helpers import rect_scene


def _pair(seed: int = 0, size: int = 20) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    bg = torch.rand(2, 3, size, size, generator=g, dtype=torch.float64)
    fg = torch.rand(2, 3, size, size, generator=g, dtype=torch.float64)
    mask = torch.zeros(2, 1, size, size, dtype=torch.bool)
    mask[0, 0, 5:12, 4:15] = True
    mask[1, 0, 0:6, 10:20] = True  # touches the border
    mask[1, 0, 3, 3] = True
    return bg, fg, mask


def _poisson_reference(
    bg: np.ndarray, fg: np.ndarray, mask: np.ndarray, screen: float = 0.0
) -> np.ndarray:
    """Perez et al. with a sparse direct solve: 4-neighbour guidance from ``fg``, ``bg`` outside;
    ``screen`` adds ``screen * (f - fg)^2`` per pixel to the energy (screened Poisson)."""
    height, width = mask.shape
    ids = -np.ones(mask.shape, dtype=int)
    ids[mask] = np.arange(mask.sum())
    rows, cols, vals, rhs = [], [], [], np.zeros(int(mask.sum()))
    for (i, j), row in zip(np.argwhere(mask), range(int(mask.sum())), strict=True):
        rows.append(row), cols.append(row), vals.append(screen)
        rhs[row] += screen * fg[i, j]
        for di, dj in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            y, x = i + di, j + dj
            if not (0 <= y < height and 0 <= x < width):
                continue
            rows.append(row), cols.append(row), vals.append(1.0)
            rhs[row] += fg[i, j] - fg[y, x]
            if mask[y, x]:
                rows.append(row), cols.append(ids[y, x]), vals.append(-1.0)
            else:
                rhs[row] += bg[y, x]
    matrix = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(len(rhs), len(rhs)))
    out = bg.copy()
    out[mask] = scipy.sparse.linalg.spsolve(matrix, rhs)
    return out


@pytest.mark.parametrize("decay", [None, 3.0, 1.5])
def test_poisson_matches_a_sparse_direct_solve(decay: float | None) -> None:
    bg, fg, mask = _pair()
    out = blend_images(bg, fg, mask, mode="poisson", iterations=500, decay=decay)
    screen = 0.0 if decay is None else 1 / decay**2
    for n in range(2):
        for c in range(3):
            expected = _poisson_reference(
                bg[n, c].numpy(), fg[n, c].numpy(), mask[n, 0].numpy(), screen
            )
            np.testing.assert_allclose(out[n, c].numpy(), expected, atol=1e-6)


def test_poisson_of_a_shifted_background_gives_the_background() -> None:
    bg, _, mask = _pair()
    out = blend_images(bg, bg + 0.3, mask, mode="poisson", decay=None)
    torch.testing.assert_close(out, bg, atol=1e-6, rtol=0)


def test_feather_is_a_gaussian_alpha_blend() -> None:
    bg, fg, mask = _pair()
    out = blend_images(bg, fg, mask, mode="feather", sigma=1.0)
    alpha = scipy.ndimage.gaussian_filter(
        mask.double().numpy(), sigma=(0, 0, 1, 1), mode="constant", truncate=3.0
    )
    expected = bg.numpy() + alpha * (fg.numpy() - bg.numpy())
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)


def test_laplacian_limits_and_margin() -> None:
    bg, fg, mask = _pair(size=32)
    everywhere = torch.ones_like(mask)
    torch.testing.assert_close(blend_images(bg, fg, everywhere, mode="laplacian"), fg)
    nowhere = torch.zeros_like(mask)
    assert torch.equal(blend_images(bg, fg, nowhere, mode="laplacian"), bg)
    out = blend_images(bg, fg, mask, mode="laplacian", levels=2)
    assert bool(((out - bg).abs() > 1e-3).any())
    assert blend_margin("laplacian", levels=2) == 14


@pytest.mark.parametrize("mode", ["hard", "feather", "laplacian", "poisson"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32, torch.bfloat16])
def test_blends_keep_dtype_and_inputs(mode: str, dtype: torch.dtype) -> None:
    bg, fg, mask = _pair()
    bg, fg = (bg * 200).to(dtype), (fg * 200).to(dtype)
    before = bg.clone(), fg.clone(), mask.clone()
    out = blend_images(bg, fg, mask, mode=mode)
    assert out.dtype == dtype and out.shape == bg.shape
    assert (
        torch.equal(bg, before[0]) and torch.equal(fg, before[1]) and torch.equal(mask, before[2])
    )
    if mode == "hard":
        inside = mask.expand_as(out)
        assert torch.equal(out[inside], fg[inside]) and torch.equal(out[~inside], bg[~inside])


def test_blend_errors() -> None:
    bg, fg, mask = _pair()
    with pytest.raises(ValueError, match="`mode` must be one of"):
        blend_images(bg, fg, mask, mode="alpha")
    with pytest.raises(ValueError, match="`foreground` must match"):
        blend_images(bg, fg.float(), mask)
    with pytest.raises(TypeError, match="`mask` must have dtype"):
        blend_images(bg, fg, mask.float())
    with pytest.raises(ValueError, match="`mask` must have shape"):
        blend_images(bg, fg, mask[..., :-1])
    with pytest.raises(ValueError, match="`sigma`"):
        blend_images(bg, fg, mask, mode="feather", sigma=0)


def test_label_maps_round_trip() -> None:
    ids = torch.tensor([[[0, 1, 1], [3, 3, 0]], [[0, 0, 0], [1, 0, 0]]])
    masks, valid = label_map_to_masks(ids)
    assert valid.tolist() == [[True, False, True], [True, False, False]]
    for n in range(2):
        for k in range(3):
            assert torch.equal(masks[n, k], ids[n] == k + 1)
    assert torch.equal(masks_to_label_map(masks), ids)
    with pytest.raises(TypeError, match="integer instance ids"):
        label_map_to_masks(ids.float())
    with pytest.raises(ValueError, match="ids >= 0"):
        label_map_to_masks(-ids)


def test_paste_objects_batched_equals_per_sample_and_slicing() -> None:
    images, masks = rect_scene(batch=3)
    canvas = torch.zeros_like(images)
    index = torch.tensor([[4, 0], [2, 7], [8, 1]])
    shift = torch.tensor([[[3, -2], [0, 1]], [[-4, 5], [2, 2]], [[1, 1], [-1, 0]]])
    placed = torch.tensor([[True, True], [True, False], [False, True]])
    out, pasted = paste_objects(canvas, images, masks, index, shift, placed)
    for n in range(3):
        alone, alone_masks = paste_objects(
            canvas[n : n + 1], images, masks, index[n : n + 1], shift[n : n + 1], placed[n : n + 1]
        )
        assert torch.equal(alone[0], out[n]) and torch.equal(alone_masks[0], pasted[n])
        expected = canvas[n].clone()
        for j in range(2):
            if placed[n, j]:
                b, k = divmod(int(index[n, j]), 3)
                moved = translate_image(images[b], shift[n, j])
                region = translate_image(masks[b, k][None].float(), shift[n, j])[0] > 0
                expected[:, region] = moved[:, region]
        assert torch.equal(out[n], expected)


@pytest.mark.parametrize("blend", ["hard", "feather"])
def test_paste_objects_accepts_channels_last(blend: str) -> None:
    images, masks = rect_scene(batch=2)
    index, shift = torch.tensor([[3], [0]]), torch.tensor([[[2, 1]], [[-3, 4]]])
    placed = torch.ones(2, 1, dtype=torch.bool)
    expected = paste_objects(images, images, masks, index, shift, placed, blend=blend)
    strided = images.to(memory_format=torch.channels_last)
    actual = paste_objects(strided, strided, masks, index, shift, placed, blend=blend)
    assert torch.equal(actual[0], expected[0]) and torch.equal(actual[1], expected[1])


def test_paste_objects_errors() -> None:
    images, masks = rect_scene(batch=2)
    index, shift, placed = (
        torch.zeros(2, 1, dtype=torch.long),
        torch.zeros(2, 1, 2),
        torch.ones(2, 1, dtype=torch.bool),
    )
    with pytest.raises(ValueError, match="`source` must match"):
        paste_objects(images, images[..., :-1], masks, index, shift, placed)
    with pytest.raises(TypeError, match="`source_masks` must be a bool"):
        paste_objects(images, images, masks.long(), index, shift, placed)
    with pytest.raises(ValueError, match="`shift` must have shape"):
        paste_objects(images, images, masks, index, shift[:, :, :1], placed)
    with pytest.raises(TypeError, match="`index` must have dtype"):
        paste_objects(images, images, masks, index.int(), shift, placed)


def test_fast_mask_reductions_equal_the_core_ones() -> None:
    from shiftaug.functional import masks_to_boxes
    from shiftaug.functional._placement import mask_any, mask_area

    masks = torch.rand(3, 4, 9, 11, generator=torch.Generator().manual_seed(0)) > 0.93
    masks[0, 1] = False
    assert torch.equal(mask_any(masks, (-2, -1)), masks.flatten(2).any(-1))
    assert torch.equal(mask_area(masks), masks.flatten(2).sum(-1).int())
    strided = masks.transpose(-1, -2)  # the uint8 reductions must respect strides
    assert torch.equal(masks_to_boxes(strided)[0], masks_to_boxes(strided.contiguous())[0])
